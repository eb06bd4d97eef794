"""cocotb test bench for pipelined cores side by side: one input vector per clock (with random gaps in
in_valid), every core's results collected by its own out_valid bit and compared with the golden model.

HWGEN_SIM_VECTORS names an npz: packed_inputs (the shared input port's bits, one row per vector),
expected (per core k: expected_class_k, expected_scores_k), cores, class_width_k, scores_width_k, gap, drain (the
longest latency).
Used to check many generated netlists in one simulator build; each core reads the low bits of the port.
"""

import json
import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge


@cocotb.test()
async def cores_match_golden_model(dut):
    data = np.load(os.environ["HWGEN_SIM_VECTORS"])
    inputs = [int.from_bytes(row.tobytes(), "little") for row in data["packed_inputs"]]
    cores = int(data["cores"])
    class_widths = [int(data[f"class_width_{k}"]) for k in range(cores)]
    scores_widths = [int(data[f"scores_width_{k}"]) for k in range(cores)]
    rng = random.Random(1)
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value, dut.in_valid.value, dut.in_bits.value = 1, 0, 0
    for _ in range(3):
        await FallingEdge(dut.clk)
    dut.rst.value = 0

    got = [[] for _ in range(cores)]
    sent, idle = 0, 0
    while idle <= int(data["drain"]):  # the deepest pipeline has drained
        offer = sent < len(inputs) and rng.random() >= float(data["gap"])
        dut.in_valid.value = int(offer)
        if offer:
            dut.in_bits.value = inputs[sent]
            sent += 1
        await FallingEdge(dut.clk)
        valid = int(dut.out_valid.value)
        classes, scores = int(dut.out_class.value), int(dut.out_scores.value)
        for k in range(cores):
            if valid >> k & 1:
                cls = classes >> sum(class_widths[:k]) & ((1 << class_widths[k]) - 1)
                sc = scores >> sum(scores_widths[:k]) & ((1 << scores_widths[k]) - 1)
                got[k].append((cls, sc))
        idle = idle + 1 if sent == len(inputs) else 0

    mismatches = []
    for k in range(cores):
        want = list(zip(data[f"expected_class_{k}"].tolist(), data[f"expected_scores_{k}"].tolist()))
        if got[k] != [(int(c), int(s)) for c, s in want]:
            mismatches.append(k)
    with open(os.environ["HWGEN_SIM_RESULTS"], "w") as f:
        json.dump({"vectors": len(inputs), "cores": cores, "mismatching_cores": mismatches,
                   "received": [len(g) for g in got]}, f)
    assert not mismatches, f"cores {mismatches} differ from the golden model"
