"""Training survives kill -9: --resume continues from the last checkpoint to the same final weights."""

import signal
import subprocess
import sys
import time

import torch
import yaml

from hwgen.learn.train import load_checkpoint

CONFIG = {"dataset": "digits", "seed": 3, "encoding": {"bits": 2}, "model": {"layers": [400, 400, 200]},
          "train": {"steps": 800, "batch_size": 64, "eval_every": 400, "checkpoint_every": 50, "threads": 1,
                    "lr_schedule": "cosine"}}


def train_cmd(cfg_path, out, *extra):
    return [sys.executable, "-m", "hwgen.cli", "train", str(cfg_path), "--out", str(out), "--quiet", *extra]


def test_kill_and_resume_gives_the_uninterrupted_weights(tmp_path):
    cfg_path = tmp_path / "c.yaml"
    cfg_path.write_text(yaml.safe_dump(CONFIG))
    subprocess.run(train_cmd(cfg_path, tmp_path / "full"), check=True, capture_output=True)

    proc = subprocess.Popen(train_cmd(cfg_path, tmp_path / "crash"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    ckpt = tmp_path / "crash" / "checkpoint.pt"
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    interrupted_at = load_checkpoint(ckpt)["step"]
    assert 0 < interrupted_at < CONFIG["train"]["steps"], "the run was not interrupted mid-way"

    subprocess.run(train_cmd(cfg_path, tmp_path / "crash", "--resume"), check=True, capture_output=True)
    full, resumed = load_checkpoint(tmp_path / "full" / "checkpoint.pt"), load_checkpoint(ckpt)
    assert resumed["step"] == full["step"] == CONFIG["train"]["steps"]
    for key, value in full["model"].items():
        assert torch.equal(value, resumed["model"][key]), key
    assert [h["step"] for h in resumed["history"]] == [h["step"] for h in full["history"]]


def test_resume_refuses_another_architecture(tmp_path):
    cfg_path = tmp_path / "c.yaml"
    cfg_path.write_text(yaml.safe_dump({**CONFIG, "train": {**CONFIG["train"], "steps": 50}}))
    subprocess.run(train_cmd(cfg_path, tmp_path / "run"), check=True, capture_output=True)
    other = {**CONFIG, "model": {"layers": [400, 300]}}
    cfg_path.write_text(yaml.safe_dump(other))
    result = subprocess.run(train_cmd(cfg_path, tmp_path / "run", "--resume"), capture_output=True, text=True)
    assert result.returncode == 2 and "another architecture" in result.stderr


def test_resume_with_another_learning_rate_keeps_it(tmp_path):
    """A run resumed with another train.lr trains at that rate to its end, not only for its first step."""
    short = {**CONFIG, "model": {"layers": [100, 100]},
             "train": {**CONFIG["train"], "steps": 20, "lr_schedule": "constant", "checkpoint_every": 10}}
    cfg_path = tmp_path / "c.yaml"
    cfg_path.write_text(yaml.safe_dump(short))
    subprocess.run(train_cmd(cfg_path, tmp_path / "run"), check=True, capture_output=True)
    cfg_path.write_text(yaml.safe_dump({**short, "train": {**short["train"], "steps": 40, "lr": 0.05}}))
    subprocess.run(train_cmd(cfg_path, tmp_path / "run", "--resume"), check=True, capture_output=True)
    state = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert state["step"] == 40
    assert [group["lr"] for group in state["optimizer"]["param_groups"]] == [0.05]
    assert state["scheduler"]["base_lrs"] == [0.05]


def test_ctrl_c_saves_the_step_reached_and_train_never_overwrites(tmp_path):
    """Ctrl-C stops between steps, writes the checkpoint at the step reached and says how to go on; the
    same command again is refused rather than training over it; --resume ends at the uninterrupted
    weights."""
    cfg_path = tmp_path / "c.yaml"
    cfg_path.write_text(yaml.safe_dump({**CONFIG, "train": {**CONFIG["train"], "steps": 3000}}))
    subprocess.run(train_cmd(cfg_path, tmp_path / "full"), check=True, capture_output=True)
    proc = subprocess.Popen(train_cmd(cfg_path, tmp_path / "run"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    ckpt = tmp_path / "run" / "checkpoint.pt"
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)  # the first checkpoint: the loop is running
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    step = load_checkpoint(ckpt)["step"]
    assert proc.returncode == 2 and f"interrupted at step {step} of 3000" in err and "--resume" in err, err
    assert 0 < step < 3000

    again = subprocess.run(train_cmd(cfg_path, tmp_path / "run"), capture_output=True, text=True)
    assert again.returncode == 2 and "--resume" in again.stderr and "--retrain" in again.stderr
    assert load_checkpoint(ckpt)["step"] == step
    subprocess.run(train_cmd(cfg_path, tmp_path / "run", "--resume"), check=True, capture_output=True)
    full, resumed = load_checkpoint(tmp_path / "full" / "checkpoint.pt"), load_checkpoint(ckpt)
    for key, value in full["model"].items():
        assert torch.equal(value, resumed["model"][key]), key
