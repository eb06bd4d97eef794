"""hwgen as a user installs it: a wheel, installed outside the checkout, runs emit -> sim -> simplify --verify."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import random_netlist, with_encoder

import hwgen as hwgen_package

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_installed_elsewhere_emits_simulates_and_proves(tmp_path):
    wheels, target, work, source = tmp_path / "wheels", tmp_path / "site", tmp_path / "work", tmp_path / "source"
    work.mkdir()
    # Built from a copy of the sources, so that the build leaves nothing in the checkout.
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__",
                                                                 ".pytest_cache", ".hypothesis", "sim_build"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(source), "-w", str(wheels)],
                   check=True, capture_output=True)
    wheel, = wheels.glob("hwgen-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target)}

    def hwgen(*args):
        return subprocess.run([sys.executable, "-m", "hwgen.cli", *map(str, args)], cwd=work, env=env,
                              capture_output=True, text=True)

    where = subprocess.run([sys.executable, "-c", "import hwgen; print(hwgen.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert Path(where.strip()).is_relative_to(target)  # the wheel's copy, not the checkout's
    with_encoder(random_netlist(3, num_inputs=16, num_gates=120), 2, 3).save(work / "net.json")
    for args in (["emit", "net.json", "--out", "rtl"],
                 ["sim", "rtl", "--netlist", "net.json", "--simulator", "icarus", "--vectors", "200"],
                 ["simplify", "net.json", "--out", "small.json", "--verify"]):
        result = hwgen(*args)
        assert result.returncode == 0, result.stderr
    assert "0 mismatches" in hwgen("sim", "rtl", "--netlist", "net.json", "--simulator", "icarus",
                                   "--vectors", "50").stdout
    assert (work / "small.json").exists()
    # The examples ship with it: listed, written out, and built by name; the version and the metadata.
    assert hwgen("--version").stdout.strip() == f"hwgen {hwgen_package.__version__}"
    listed = hwgen("configs").stdout
    assert all(p.stem in listed for p in (ROOT / "configs").glob("*.yaml"))
    assert hwgen("configs", "digits-conv", "--out", "mine.yaml").returncode == 0
    assert (work / "mine.yaml").read_text() == (ROOT / "configs" / "digits-conv.yaml").read_text()
    assert hwgen("init", "smoke").returncode == 0
    assert (work / "smoke.yaml").read_text() == (ROOT / "configs" / "smoke.yaml").read_text()
    assert hwgen("init", "smoke").returncode == 2  # never over a file
    metadata = next(target.glob("hwgen-*.dist-info")) / "METADATA"
    text = metadata.read_text()
    assert f"Version: {hwgen_package.__version__}" in text and "# hwgen" in text  # the README as its description
