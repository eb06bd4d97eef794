"""The training kernels compute the same floats on any x86-64 processor: built as hwgen builds them, and
built for the plainest x86-64 or with AVX2 and FMA, they give bit-identical results."""

import ctypes
import platform
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hwgen import native
from hwgen.learn.nn import logic

SOURCE = Path(logic.__file__).with_name("gates_kernel.c")
VARIANTS = {"baseline x86-64": ["-DVECTOR=", "-march=x86-64"], "AVX2 and FMA": ["-DVECTOR=", "-mavx2", "-mfma"],
            "this processor": ["-march=native"]}


def _build(tmp_path, name, extra, source=SOURCE):
    lib = tmp_path / f"{source.stem}-{name.replace(' ', '_')}.so"
    subprocess.run([shutil.which("cc") or "gcc", *native.FLOAT_FLAGS, *extra, "-shared", "-fPIC", "-o", str(lib),
                    str(source)], check=True, capture_output=True)
    return ctypes.CDLL(str(lib))


def _backward(lib, seed):
    rng = np.random.default_rng(seed)
    rows, batch, out = 50, 131, 70  # a batch that is not a multiple of any vector width
    x = rng.random((rows, batch), dtype=np.float32)
    ia, ib = rng.integers(0, rows, out), rng.integers(0, rows, out)
    c = rng.standard_normal((out, 4)).astype(np.float32)
    g = rng.standard_normal((out, batch)).astype(np.float32)
    dc, da, db = np.empty((out, 4), np.float32), np.empty((out, batch), np.float32), np.empty((out, batch), np.float32)
    p = ctypes.c_void_p
    lib.hwgen_gates_backward.argtypes = [p, ctypes.c_int64, p, p, p, ctypes.c_int64, p, p, p, p, ctypes.c_int]
    lib.hwgen_gates_backward(x.ctypes.data, batch, ia.ctypes.data, ib.ctypes.data, c.ctypes.data, out,
                             g.ctypes.data, dc.ctypes.data, da.ctypes.data, db.ctypes.data, 2)
    return dc, da, db


@pytest.mark.skipif(not platform.machine() in ("x86_64", "AMD64"), reason="x86-64 builds")
def test_gate_gradients_are_the_same_on_every_x86_64(tmp_path):
    results = {name: _backward(_build(tmp_path, name, extra), 3) for name, extra in VARIANTS.items()}
    reference = results.pop("baseline x86-64")
    for name, arrays in results.items():
        for got, want in zip(arrays, reference):
            assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), name


def _lut_gradients(lib, seed):
    rng = np.random.default_rng(seed)
    rows, batch, out, k, choices = 40, 2 * 1024 + 131, 30, 4, 9  # blocks of 1,024 and a tail
    x = (rng.random((rows, batch)) > 0.5).astype(np.float32)
    idx = rng.integers(0, rows, (k, out))
    tables = rng.uniform(-1, 1, (out, 1 << k)).astype(np.float32)
    g = rng.standard_normal((out, batch)).astype(np.float32)
    y, addr = np.empty((out, batch), np.float32), np.empty((out, batch), np.uint8)
    gt, diff = np.empty_like(tables), np.empty((out, k, 1 << k), np.float32)
    slot, gx = np.empty((k, out, batch), np.float32), np.empty((rows, batch), np.float32)
    cand, gw = rng.integers(0, rows, (k * out, choices)), np.empty((k * out, choices), np.float32)
    p, i64, i32, f32 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int, ctypes.c_float
    lib.hwgen_lut_forward.argtypes = [p, i64, p, i64, p, i64, p, p, i32]
    lib.hwgen_lut_table_grad.argtypes = [p, p, i64, i64, p, i64, f32, f32, p, p, i32]
    lib.hwgen_lut_slot_grad.argtypes = [p, p, i64, i64, p, i64, p, i32]
    lib.hwgen_lut_input_grad.argtypes = [p, p, i64, p, i64, p, i64, i64, p, i32]
    lib.hwgen_lut_mapping_grad.argtypes = [p, i64, p, i64, p, i64, p, i32]
    lib.hwgen_lut_forward(x.ctypes.data, batch, idx.ctypes.data, k, tables.ctypes.data, out, y.ctypes.data,
                          addr.ctypes.data, 2)
    lib.hwgen_lut_table_grad(g.ctypes.data, addr.ctypes.data, batch, k, tables.ctypes.data, out, 0.2, 0.3,
                             gt.ctypes.data, diff.ctypes.data, 2)
    lib.hwgen_lut_slot_grad(g.ctypes.data, addr.ctypes.data, batch, k, diff.ctypes.data, out, slot.ctypes.data, 2)
    lib.hwgen_lut_input_grad(g.ctypes.data, addr.ctypes.data, batch, idx.ctypes.data, k, diff.ctypes.data, out, rows,
                             gx.ctypes.data, 2)
    lib.hwgen_lut_mapping_grad(x.ctypes.data, batch, cand.ctypes.data, choices, slot.ctypes.data, k * out,
                               gw.ctypes.data, 2)
    return y, gt, slot, gx, gw


@pytest.mark.skipif(not platform.machine() in ("x86_64", "AMD64"), reason="x86-64 builds")
def test_lut_gradients_are_the_same_on_every_x86_64(tmp_path):
    source = Path(logic.__file__).with_name("lut_kernel.c")
    results = {name: _lut_gradients(_build(tmp_path, name, extra, source), 4) for name, extra in VARIANTS.items()}
    reference = results.pop("baseline x86-64")
    for name, arrays in results.items():
        for got, want in zip(arrays, reference):
            assert np.array_equal(got.view(np.uint32) if got.dtype == np.float32 else got,
                                  want.view(np.uint32) if want.dtype == np.float32 else want), name
