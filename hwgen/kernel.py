"""The package's C code (eval_kernel.c, rewrite/cut_kernel.c): built once per machine with the system C
compiler, cached by the hash of its source, loaded with ctypes. Nothing is generated per netlist, so a
netlist of any size is ready to run at once."""

import ctypes
import hashlib
import platform
import shutil
import subprocess
from pathlib import Path

import numpy as np

from .errors import HwgenError
from .files import atomic_path, cache_dir
from .netlist import Netlist

SOURCE = Path(__file__).with_name("eval_kernel.c")
FLAGS = ["-O3", "-march=native", "-shared", "-fPIC"]
BLOCK_BYTES = 4 << 20  # node values per block of samples: about an L2/L3 cache's worth


def _cpu_features() -> bytes:
    try:
        with open("/proc/cpuinfo", "rb") as f:
            return next((line for line in f if line.startswith((b"flags", b"Features"))), b"")
    except OSError:
        return platform.machine().encode()


def compile_library(source: Path, extra_flags: tuple = ()):
    """Build a C source of this package into a shared library once per machine; None without a compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    flags = [*FLAGS, *extra_flags]
    # -march=native: the build is only valid on this kind of processor, so its features are in the key.
    key = hashlib.sha256(source.read_bytes() + " ".join(flags).encode() + _cpu_features()).hexdigest()[:16]
    lib_path = cache_dir() / "kernels" / f"{source.stem}-{key}.so"
    if not lib_path.exists():
        try:
            with atomic_path(lib_path) as tmp:
                result = subprocess.run([compiler, *flags, "-o", str(tmp), str(source)], capture_output=True)
                if result.returncode != 0:
                    raise OSError(result.stderr.decode(errors="replace"))
        except (OSError, HwgenError):
            return None
    return ctypes.CDLL(str(lib_path))


class Kernel:
    _loaded = None  # one per process; False once a build has failed

    def __init__(self, lib):
        u8, i32, i64, u64 = (np.ctypeslib.ndpointer(t, flags="C_CONTIGUOUS") for t in
                             (np.uint8, np.int32, np.int64, np.uint64))
        self.eval = lib.hwgen_eval
        self.eval.argtypes = [u8, i32, i32, ctypes.c_int64, ctypes.c_int64, u64, ctypes.c_int64, i32, u64, u64]
        self.eval.restype = None
        self.score = lib.hwgen_scores
        self.score.argtypes = [u64, ctypes.c_int64, i64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                               np.ctypeslib.ndpointer(np.int32, flags="C_CONTIGUOUS")]
        self.score.restype = None

    @classmethod
    def load(cls):
        if cls._loaded is None:
            lib = compile_library(SOURCE)
            cls._loaded = cls(lib) if lib else False
        return cls._loaded or None

    def scores(self, net: Netlist, bits: np.ndarray) -> np.ndarray:
        from .evaluate import pack

        n = bits.shape[0]
        result = np.zeros((n, net.num_classes), dtype=np.int32)
        if n == 0:
            return result.astype(np.int64)
        ops = np.ascontiguousarray(net.ops, dtype=np.uint8)
        a = np.ascontiguousarray(net.a, dtype=np.int32)
        b = np.ascontiguousarray(net.b, dtype=np.int32)
        if net.has_luts:
            lut_inputs = np.ascontiguousarray(net.lut_inputs, dtype=np.int32)
            lut_tables = np.ascontiguousarray(net.lut_tables, dtype=np.uint64)
        else:
            lut_inputs, lut_tables = np.zeros(6, np.int32), np.zeros(1, np.uint64)
        outputs = np.ascontiguousarray(net.outputs, dtype=np.int64)
        packed = pack(bits)  # (num_inputs, words)
        words = packed.shape[1]
        block = int(max(1, min(words, BLOCK_BYTES // (8 * net.num_nodes))))
        values = np.empty(net.num_nodes * block, dtype=np.uint64)
        scratch = np.empty(64 * block if net.has_luts else 1, dtype=np.uint64)  # a LUT node's table entries
        for w0 in range(0, words, block):
            w = min(block, words - w0)
            view = values[: net.num_nodes * w].reshape(net.num_nodes, w)
            view[: net.num_inputs] = packed[:, w0:w0 + w]
            flat = values[: net.num_nodes * w]
            self.eval(ops, a, b, net.num_inputs, net.num_gates, flat, w, lut_inputs, lut_tables, scratch)
            samples = min(64 * w, n - 64 * w0)
            out = np.empty((samples, net.num_classes), dtype=np.int32)
            self.score(flat, w, outputs, net.outputs_per_class, net.num_classes, samples, out)
            result[64 * w0: 64 * w0 + samples] = out
        return result.astype(np.int64)
