"""cocotb test bench: stream vectors through the classifier and compare every output with the golden model.

Inputs come from the npz file named by HWGEN_SIM_VECTORS (the input port's name and its packed bits, a
row per vector, expected classes and scores, from the evaluator). Inputs arrive with random gaps and the
output sees random backpressure (HWGEN_SIM_GAP, HWGEN_SIM_STALL: probabilities per cycle). Results go to
HWGEN_SIM_RESULTS as JSON (results.py). The streaming conv engine, a vector per H x W transfers, has a
bench of its own (stream_tb.py) that drives the stream in HDL.
"""

import os
import random
import time

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge
from results import class_scores, report


@cocotb.test()
async def stream_matches_golden_model(dut):
    data = np.load(os.environ["HWGEN_SIM_VECTORS"])
    packed, want_class, want_scores = data["packed_inputs"], data["classes"], data["scores"]
    width = int(data["score_width"])
    gap, stall = float(os.environ.get("HWGEN_SIM_GAP", "0")), float(os.environ.get("HWGEN_SIM_STALL", "0"))
    rng = random.Random(int(os.environ.get("HWGEN_SIM_SEED", "1")))
    transfers = [int.from_bytes(row.tobytes(), "little") for row in packed]
    n, num_classes = len(want_class), want_scores.shape[1]

    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    port = getattr(dut, str(data["port"]))  # in_data (raw features) or in_bits
    dut.rst.value, dut.in_valid.value, dut.out_ready.value, port.value = 1, 0, 0, 0
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0

    sent, got_class, got_scores, cycles = 0, [], [], 0
    last_taken, latencies = [], []  # the cycle each vector went in; each result's wait
    limit = 20 * len(transfers) + 100
    start = time.perf_counter()
    while len(got_class) < n and cycles < limit:
        await FallingEdge(dut.clk)
        cycles += 1
        offer = sent < len(transfers) and rng.random() >= gap
        dut.in_valid.value = int(offer)
        if offer:
            port.value = transfers[sent]
        ready = rng.random() >= stall
        dut.out_ready.value = int(ready)
        await ReadOnly()  # everything combinational has settled: these transfers happen at the next edge
        if offer and int(dut.in_ready.value):
            sent += 1
            last_taken.append(cycles)
        if ready and int(dut.out_valid.value):
            if len(got_class) < len(last_taken):
                latencies.append(cycles - last_taken[len(got_class)])
            got_class.append(int(dut.out_class.value))
            scores = int(dut.out_scores.value)
            got_scores.append(class_scores(scores, width, num_classes))
    seconds = time.perf_counter() - start

    report(want_class, want_scores, got_class, got_scores, cycles, seconds, min(latencies, default=None), limit)
