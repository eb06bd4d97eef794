"""Building and caching the package's C code (golden/eval_kernel.c, rewrite/cut_kernel.c,
learn/nn/gates_kernel.c, learn/nn/lut_kernel.c): each built once per machine with the system C compiler,
cached by the hash of its source and flags under cache_dir(), and loaded with ctypes once per process."""

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
from pathlib import Path

from .errors import HwgenError
from .files import atomic_path, cache_dir, ensure_dir

# Integer code is bit-exact whatever instructions the compiler picks, so it may use all of this processor's.
INTEGER_FLAGS = ("-O3", "-march=native", "-fopenmp")
# Float code (training) must give the same numbers on any processor that runs the same vector code: no
# fused multiply-adds, no processor-specific builds (the sources pick their vector code at run time and
# sum in a fixed order).
FLOAT_FLAGS = ("-O3", "-ffp-contract=off", "-fopenmp")
_libraries = {}  # source -> the loaded library, or the HwgenError that building it gave


def _cpu_features() -> bytes:
    try:
        with open("/proc/cpuinfo", "rb") as f:
            return next((line for line in f if line.startswith((b"flags", b"Features"))), b"")
    except OSError:
        return platform.machine().encode()


def _build(source: Path, flags: tuple, fills: dict) -> Path:
    compiler = shutil.which(os.environ.get("CC") or "cc") or shutil.which("gcc")
    if compiler is None:
        raise HwgenError(f"{source.name} needs a C compiler ($CC, cc or gcc) on PATH")
    flags = [*flags, "-shared", "-fPIC"]
    text = source.read_text()
    for placeholder, fill in fills.items():
        text = text.replace(placeholder, fill)
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


def load_library(source: Path, signatures: dict, flags: tuple = INTEGER_FLAGS,
                 fills: dict | None = None) -> ctypes.CDLL:
    """The library of a C source of this package, with `signatures` ({function: (argtypes, restype)}) set;
    built on first use, after replacing each placeholder of `fills` in the source by its text. Raises
    HwgenError saying why it cannot be built (once built or failed, the same answer for the rest of the
    process)."""
    if source not in _libraries:
        try:
            lib = ctypes.CDLL(str(_build(source, flags, fills or {})))
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
