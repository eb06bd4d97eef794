"""Data-parallel training through torchrun: 2 processes on the CPU (gloo) take the same steps as one."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from hwgen.learn.train import load_checkpoint

CONFIG = {"dataset": "digits", "seed": 1, "encoding": {"bits": 2}, "model": {"layers": [300, 300, 100]},
          "train": {"steps": 150, "batch_size": 64, "eval_every": 150, "checkpoint_every": 50, "threads": 2}}
# image shifts draw from the sampler, and learned wiring and LUT nodes train other weights
VARIANTS = {"gates": {}, "shift and learned wiring": {"model": {"layers": [300, 300, 100], "candidates": 4},
                                                      "train": {**CONFIG["train"], "shift": 1}},
            "LUT nodes": {"model": {"layers": [300, 100], "node": "lut", "k": 4, "candidates": 8}}}


@pytest.mark.parametrize("variant", VARIANTS)
def test_two_processes_under_torchrun_match_one(tmp_path, variant):
    cfg_path = tmp_path / "c.yaml"
    cfg_path.write_text(yaml.safe_dump({**CONFIG, **VARIANTS[variant]}))
    args = ["train", str(cfg_path), "--quiet", "--out"]
    subprocess.run([sys.executable, "-m", "hwgen", *args, str(tmp_path / "one")], check=True, capture_output=True)
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    result = subprocess.run([torchrun, "--standalone", "--nproc-per-node", "2", "-m", "hwgen", *args,
                             str(tmp_path / "two")], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]

    one, two = load_checkpoint(tmp_path / "one" / "checkpoint.pt"), load_checkpoint(tmp_path / "two" / "checkpoint.pt")
    assert one["step"] == two["step"] == CONFIG["train"]["steps"]
    for key, value in one["model"].items():
        # the same global batches and averaged gradients; only the order of float sums differs
        assert torch.allclose(value, two["model"][key], atol=1e-4), key
    for key in (k for k in one["model"] if k.endswith("weights") or k.endswith("mapping")):  # the same circuit
        assert torch.equal(one["model"][key].argmax(-1), two["model"][key].argmax(-1)), key
