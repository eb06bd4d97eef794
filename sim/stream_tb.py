"""cocotb test bench for the streaming conv engine: the HDL bench NAME_bench (rtl_templates/stream_bench.v)
streams every image pixel by pixel, back to back, with random input gaps and output backpressure, and
writes each result; this test resets it, waits for it to finish and compares every class and score with
the golden model (results.py). Driving the stream in HDL keeps Python out of the per-clock loop: an MNIST
image is 784 clocks.

HWGEN_SIM_VECTORS: expected classes and scores, score_width, limit (clocks); HWGEN_SIM_BENCH_RESULTS: the
file the HDL bench writes. Results go to HWGEN_SIM_RESULTS as JSON.
"""

import os
import time

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge
from results import class_scores, report


@cocotb.test()
async def stream_matches_golden_model(dut):
    data = np.load(os.environ["HWGEN_SIM_VECTORS"])
    want_class, want_scores, width = data["classes"], data["scores"], int(data["score_width"])
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    start = time.perf_counter()
    await RisingEdge(dut.done)
    seconds = time.perf_counter() - start

    *lines, summary = open(os.environ["HWGEN_SIM_BENCH_RESULTS"]).read().split("\n")[:-1]
    _, cycles, _, latency = summary.split()
    num_classes = want_scores.shape[1]
    got_class, got_scores = [], []
    for line in lines:
        label, scores = (int(x, 16) for x in line.split())
        got_class.append(label)
        got_scores.append(class_scores(scores, width, num_classes))
    report(want_class, want_scores, got_class, got_scores, int(cycles), seconds,
           None if int(latency) < 0 else int(latency), int(data["limit"]))
