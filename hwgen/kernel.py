"""The package's C code (eval_kernel.c, rewrite/cut_kernel.c, nn/gates_kernel.c, nn/lut_kernel.c): each
built once per machine with the system C compiler, cached by the hash of its source and flags, and loaded
with ctypes once per process. Nothing is generated per netlist, so a netlist of any size is ready to run at
once."""

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
from pathlib import Path

import numpy as np

from . import ops
from .errors import HwgenError
from .files import atomic_path, cache_dir, ensure_dir
from .netlist import Netlist

SOURCE = Path(__file__).with_name("eval_kernel.c")
# Integer code is bit-exact whatever instructions the compiler picks, so it may use all of this processor's.
INTEGER_FLAGS = ("-O3", "-march=native")
# Float code (training) must give the same numbers on any x86-64: no fused multiply-adds, no processor-
# specific builds (the sources pick their vector code at run time and sum in a fixed order).
FLOAT_FLAGS = ("-O3", "-ffp-contract=off", "-fopenmp")
BLOCK_BYTES = 4 << 20  # node values per block of samples: about an L2/L3 cache's worth
_libraries = {}  # source -> the loaded library, or the HwgenError that building it gave


def _cpu_features() -> bytes:
    try:
        with open("/proc/cpuinfo", "rb") as f:
            return next((line for line in f if line.startswith((b"flags", b"Features"))), b"")
    except OSError:
        return platform.machine().encode()


def _gate_cases() -> str:
    """The C evaluation kernel's switch over the 16 ops, spelled from ops.FORMS."""
    return "\n            ".join(
        f"case {op}: GATE({ops.spell(op, 'a', 'b', '0', '~(uint64_t)0')});" for op in range(16))


GENERATED = {"GATE_CASES": _gate_cases}  # placeholders in the C sources, and what fills them


def _build(source: Path, flags: tuple) -> Path:
    compiler = shutil.which(os.environ.get("CC") or "cc") or shutil.which("gcc")
    if compiler is None:
        raise HwgenError(f"{source.name} needs a C compiler ($CC, cc or gcc) on PATH")
    flags = [*flags, "-shared", "-fPIC"]
    text = source.read_text()
    for placeholder, fill in GENERATED.items():
        if placeholder in text:
            text = text.replace(placeholder, fill())
    # -march=native: the build is only valid on this kind of processor, so its features are in the key.
    cpu = _cpu_features() if "-march=native" in flags else b""
    key = hashlib.sha256(text.encode() + " ".join(flags).encode() + cpu).hexdigest()[:16]
    lib_path = cache_dir() / "kernels" / f"{source.stem}-{key}.so"
    if not lib_path.exists():
        generated = ensure_dir(lib_path.parent) / f"{source.stem}-{key}.c"
        generated.write_text(text)
        with atomic_path(lib_path) as tmp:
            result = subprocess.run([compiler, *flags, "-o", str(tmp), str(generated)], capture_output=True, text=True)
            if result.returncode != 0:
                errors = [line for line in result.stderr.splitlines() if "error" in line] or result.stderr.splitlines()
                raise HwgenError(f"{Path(compiler).name} could not build {source.name}: "
                                 f"{errors[0].strip() if errors else 'exit code ' + str(result.returncode)}")
    return lib_path


def load_library(source: Path, signatures: dict, flags: tuple = INTEGER_FLAGS) -> ctypes.CDLL:
    """The library of a C source of this package, with `signatures` ({function: (argtypes, restype)}) set;
    built on first use. Raises HwgenError saying why it cannot be built (once built or failed, the same
    answer for the rest of the process)."""
    if source not in _libraries:
        try:
            lib = ctypes.CDLL(str(_build(source, flags)))
            for name, (argtypes, restype) in signatures.items():
                function = getattr(lib, name)
                function.argtypes, function.restype = argtypes, restype
            _libraries[source] = lib
        except (HwgenError, OSError) as e:
            _libraries[source] = e if isinstance(e, HwgenError) else HwgenError(f"cannot load {source.name}: {e}")
    found = _libraries[source]
    if isinstance(found, HwgenError):
        raise found
    return found


class Kernel:
    """The evaluation kernel (eval_kernel.c)."""

    def __init__(self):
        u8, i32, i64, u64 = (np.ctypeslib.ndpointer(t, flags="C_CONTIGUOUS") for t in
                             (np.uint8, np.int32, np.int64, np.uint64))
        lib = load_library(SOURCE, {
            "hwgen_eval": ([u8, i32, i32, ctypes.c_int64, ctypes.c_int64, u64, ctypes.c_int64, i32, u64, u64], None),
            "hwgen_scores": ([u64, ctypes.c_int64, i64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                              np.ctypeslib.ndpointer(np.int32, flags="C_CONTIGUOUS")], None)})
        self.eval, self.score = lib.hwgen_eval, lib.hwgen_scores

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
