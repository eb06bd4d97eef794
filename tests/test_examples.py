"""The examples in examples/ run and check themselves."""

import subprocess
import sys
from pathlib import Path

from helpers import random_netlist, with_encoder

ROOT = Path(__file__).resolve().parents[1]


def test_amaranth_component_example_simulates_correctly(tmp_path):
    net = with_encoder(random_netlist(5, num_inputs=24, num_gates=300, num_classes=4, per_class=3, window=50), 2, 5)
    net.save(tmp_path / "net.netlist.json")
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "amaranth_component.py"),
                             str(tmp_path / "net.netlist.json"), "--vectors", "150"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "150 vectors" in result.stdout and "0 mismatches" in result.stdout


def test_the_wine_example_writes_a_csv_that_hwgen_reads(tmp_path):
    from hwgen.data.files import load_file

    result = subprocess.run([sys.executable, str(ROOT / "examples" / "wine.py"), "--csv", str(tmp_path / "wine.csv")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    data = load_file(tmp_path / "wine.csv")
    assert data.class_names == ["class_0", "class_1", "class_2"] and len(data.train_y) + len(data.test_y) == 178
    assert data.train_x.shape[1] == 13
