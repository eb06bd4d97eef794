"""cocotb bench for a cellular automaton grid: start from the seed (rst) or a loaded state, step it,
and compare the whole grid after every step with the golden model's states."""

import json
import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge


def _bits_to_int(bits) -> int:
    return int.from_bytes(np.packbits(np.asarray(bits, dtype=np.uint8), bitorder="little").tobytes(), "little")


def _int_to_bits(value: int, n: int) -> np.ndarray:
    raw = np.frombuffer(value.to_bytes((n + 7) // 8, "little"), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[:n].astype(bool)


@cocotb.test()
async def grid_follows_golden_model(dut):
    data = np.load(os.environ["HWGEN_SIM_VECTORS"])
    expected, initial = data["states"], data["initial"]  # (steps, n) and (n,)
    n = expected.shape[1]
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value, dut.load.value, dut.step.value = 1, 0, 0
    dut.load_state.value = 0
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    if bool(data["use_initial"]):
        dut.load.value, dut.load_state.value = 1, _bits_to_int(initial)
        await RisingEdge(dut.clk)
        dut.load.value = 0
    await ReadOnly()
    start = _int_to_bits(int(dut.state.value), n)
    mismatched, final = [], None
    await RisingEdge(dut.clk)  # leaves the read-only phase; step is still low on this edge
    dut.step.value = 1
    for t in range(len(expected)):
        await RisingEdge(dut.clk)
        await ReadOnly()
        final = _int_to_bits(int(dut.state.value), n)
        if not np.array_equal(final, expected[t]):
            mismatched.append(t + 1)
    with open(os.environ["HWGEN_SIM_RESULTS"], "w") as f:
        json.dump({"steps": len(expected), "mismatched_steps": mismatched,
                   "initial_ok": bool(np.array_equal(start, initial)),
                   "final_state": final.astype(int).tolist()}, f)
