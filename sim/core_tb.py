"""cocotb test bench for combinational cores: apply each vector to `in_bits` and compare `out_bits`.

HWGEN_SIM_VECTORS names an npz with packed inputs and the expected packed outputs (from the evaluator).
Used to check many netlists in one simulator build: a wrapper instantiates their cores side by side.
"""

import json
import os

import cocotb
import numpy as np
from cocotb.triggers import Timer


@cocotb.test()
async def cores_match_golden_model(dut):
    data = np.load(os.environ["HWGEN_SIM_VECTORS"])
    inputs = [int.from_bytes(row.tobytes(), "little") for row in data["packed_inputs"]]
    expected = [int.from_bytes(row.tobytes(), "little") for row in data["packed_outputs"]]
    width = int(data["output_width"])
    mismatching_bits, first = 0, []
    for k, (x, want) in enumerate(zip(inputs, expected)):
        dut.in_bits.value = x
        await Timer(1, unit="ns")
        got = int(dut.out_bits.value)
        if got != want:
            mismatching_bits += bin((got ^ want) & ((1 << width) - 1)).count("1")
            first.append(k)
    with open(os.environ["HWGEN_SIM_RESULTS"], "w") as f:
        json.dump({"vectors": len(inputs), "mismatches": len(first), "mismatching_bits": mismatching_bits,
                   "first_mismatches": first[:10]}, f)
    assert not first, f"{len(first)} vectors differ, first at {first[:10]}"
