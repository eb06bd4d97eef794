"""hwgen sweep: a search on a local Ray, stopped and resumed, its failures recorded, its front built."""

import csv
import json
import re
import signal
import subprocess
import sys
import time

import pytest
import yaml

from hwgen.errors import HwgenError
from hwgen.flow import config
from hwgen.flow.sweep import load, power_law

pytest.importorskip("ray")
pytest.importorskip("optuna")

TINY = {
    "base": "digits-lut",
    "trials": 3,
    "trial": {"train.steps": 40, "train.threads": 1, "train.eval_every": 40, "train.checkpoint_every": 40,
              "simplify.verify": False, "emit.pipeline": 0},
    "space": {"model.layers": [[100, 50], [200, 50]], "model.tau": {"low": 2.0, "high": 4.0},
              "train.device": ["cpu", "cuda"]},
    # the first trial asks for a GPU: on a machine without one it fails, and the sweep goes on
    "start": [{"model.layers": [100, 50], "model.tau": 3.0, "train.device": "cuda"}],
    "front": {"synth.freq_mhz": 12.0, "synth.router": "router1", "sim.random_vectors": 50},
    "published": [{"name": "a design", "accuracy": 90.0, "luts": 300, "kind": "LUT6"}],
}


def sweep_cmd(sweep, out):
    return [sys.executable, "-m", "hwgen.cli", "sweep", str(sweep), "--out", str(out), "--workers", "2"]


def write(path, sweep):
    path.write_text(yaml.safe_dump(sweep, sort_keys=False))
    return path


@pytest.mark.slow
def test_a_sweep_stopped_and_resumed_finishes_its_trials_and_builds_its_front(tmp_path):
    import torch

    sweep, out = write(tmp_path / "tiny.yaml", TINY), tmp_path / "out"
    # Ctrl-C's signal as a terminal delivers it: a suite started in the background inherits SIGINT ignored
    proc = subprocess.Popen(sweep_cmd(sweep, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    log, deadline = out / "sweep.log", time.time() + 600
    # stopped (as by Ctrl-C) once two trials have ended (the one on a GPU fails at once), while the third runs
    while time.time() < deadline and proc.poll() is None and \
            not (log.exists() and len(re.findall(r"trial \d+ (\(\d/3\)|failed)", log.read_text())) >= 2):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert not (out / "trials.csv").exists(), "the stopped sweep must not have finished"

    # resumed with a larger budget: the cut-short trial runs again, the finished one is kept
    done = subprocess.run(sweep_cmd(write(sweep, {**TINY, "trials": 4}), out), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(open(out / "trials.csv")))
    complete = [r for r in rows if r["state"] == "complete"]
    failed = {r["trial"]: r["error"] for r in rows if r["state"] == "failed"}
    stopped = [r for r in rows if r["state"] == "stopped"]
    assert stopped and all(r["error"].startswith("cut short by a stop") for r in stopped), rows
    assert "going on: 2 of 4 trials finished before" in (out / "sweep.log").read_text()
    gpu_failures = [e for e in failed.values() if "cuda" in e.lower()]
    assert len(complete) + len(gpu_failures) == 4, rows
    if not torch.cuda.is_available():
        assert failed["0"] and "cuda" in failed["0"].lower(), failed
    for r in complete:
        assert r["scored_on"] == "validation" and 0 < float(r["accuracy"]) <= 1 and int(r["xilinx_luts"]) > 0

    # the front: its configs as hwgen build takes them, each built in full, bit-exact in simulation
    front = [r for r in complete if r["front"] == "True"]
    assert front
    for r in front:
        name = f"trial-{int(r['trial']):04d}"
        cfg = config.load(out / "front" / f"{name}.yaml")
        assert cfg["data"]["validation"] == 0 and cfg["model"]["layers"] == json.loads(r["model.layers"])
        report = json.loads((out / "front" / name / "report.json").read_text())
        assert report["sim"]["mismatches"] == 0
        assert report["accuracy"]["rtl"] == report["accuracy"]["hardened"] == pytest.approx(float(r["test_accuracy"]), abs=5e-5)
        assert (out / "front" / name / "rtl" / "dlgn.v").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] == len(complete) and (out / "pareto.png").stat().st_size > 10_000


def test_a_sweep_file_is_checked_before_anything_runs(tmp_path):
    bad = {
        "unknown key": {**TINY, "trails": 3},
        "names no keys": {**TINY, "space": {}},
        "unknown key \"model.width\"": {**TINY, "space": {"model.width": [1, 2]}},
        "model.k": {**TINY, "space": {"model.k": [4, 9]}},
        "list of choices or": {**TINY, "space": {"model.tau": "high"}},
        "\"sampler\" must be one of": {**TINY, "sampler": "random"},
    }
    for words, sweep in bad.items():
        with pytest.raises(HwgenError, match=words):
            load(write(tmp_path / "s.yaml", sweep))
    result = subprocess.run(sweep_cmd(write(tmp_path / "s.yaml", bad["unknown key"]), tmp_path / "out"),
                            capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "trails" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_power_law_is_fitted_where_three_sizes_give_one():
    luts = [100, 400, 1600, 6400]
    law = power_law(luts, [1 - 0.5 * x ** -0.5 for x in luts])
    assert law["a"] == pytest.approx(0.5) and law["b"] == pytest.approx(0.5) and law["r2"] == pytest.approx(1.0)
    assert (law["from"], law["to"]) == (100, 6400)
    assert power_law(luts[:2], [0.9, 0.95]) is None


def test_a_sweep_folder_of_other_settings_is_refused(tmp_path):
    from hwgen.flow.sweep import Sweep

    Sweep(load(write(tmp_path / "s.yaml", TINY)), tmp_path / "out", log=lambda *_: None)
    again = Sweep(load(write(tmp_path / "s.yaml", {**TINY, "trials": 9, "front": {}})), tmp_path / "out")
    assert again.study.directions  # a longer budget and other front settings go on with the same study
    other = {**TINY, "space": {**TINY["space"], "model.tau": {"low": 1.0, "high": 4.0}}}
    with pytest.raises(HwgenError, match="holds a sweep of other settings"):
        Sweep(load(write(tmp_path / "s.yaml", other)), tmp_path / "out")


def test_trials_are_scored_on_a_share_of_the_training_set_never_the_test_set(tmp_path):
    import numpy as np

    from hwgen.data import from_config
    from hwgen.data import load as load_data
    from hwgen.flow.sweep import front_config, trial_config

    sweep = load(write(tmp_path / "s.yaml", TINY))
    params = {"model.layers": "[100, 50]", "model.tau": 3.0, "train.device": '"cpu"'}
    full, trial = load_data("digits"), from_config(trial_config(sweep, params))
    assert len(trial.test_y) == round(0.1 * len(full.train_y)) and len(trial.train_y) + len(trial.test_y) == len(full.train_y)
    rows = {r.tobytes() for r in full.train_x}
    assert all(r.tobytes() in rows for r in trial.test_x)  # held out of the training set ...
    held, kept = {r.tobytes() for r in trial.test_x}, {r.tobytes() for r in trial.train_x}
    assert len(held & kept) < 5  # ... and not trained on (digits repeats a few images)
    front = from_config(front_config(sweep, params))
    assert np.array_equal(front.test_x, full.test_x) and np.array_equal(front.train_x, full.train_x)


def test_the_grid_sampler_enqueues_every_combination_once(tmp_path):
    from optuna.trial import TrialState

    from hwgen.flow.sweep import Sweep, _suggest

    grid = {**TINY, "sampler": "grid", "start": [], "space": {"model.layers": [[100, 50], [200, 50]],
                                                             "model.tau": [2.0, 3.0, 4.0]}}
    s = Sweep(load(write(tmp_path / "s.yaml", grid)), tmp_path / "out", log=lambda *_: None)
    s._enqueue_start()
    assert len(s.study.get_trials(states=(TrialState.WAITING,))) == 6
    asked = [s.study.ask() for _ in range(6)]
    points = {tuple(_suggest(t, k, spec) for k, spec in grid["space"].items()) for t in asked}
    assert len(points) == 6  # each combination once
