"""The `hwgen` command as users run it: real subprocesses, exit codes, messages, files."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import check_report_page, random_lut_netlist, random_netlist, with_encoder

from hwgen.errors import HwgenError

ROOT = Path(__file__).resolve().parents[1]


def hwgen(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "hwgen.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True)


def assert_clean_error(result, *words):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hwgen: error:"), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


def test_simplify_list_shows_passes():
    result = hwgen("simplify", "--list")
    assert result.returncode == 0
    rows = [line.split()[:2] for line in result.stdout.splitlines()]
    assert rows == [["fold", "exact"], ["strash", "exact"], ["dce", "exact"], ["cut", "exact"],
                    ["decompose", "exact"], ["data_aware", "lossy"]]
    assert "[cut_size=4, cuts_per_node=8]" in result.stdout


def test_simplify_verify_on_the_command_line(tmp_path):
    net = random_netlist(5, num_inputs=16, num_gates=500)
    net.save(tmp_path / "in.json")
    result = hwgen("simplify", tmp_path / "in.json", "--out", tmp_path / "out.json", "--verify")
    assert result.returncode == 0, result.stderr
    assert "equivalence: proven" in result.stdout and (tmp_path / "out.json").exists()


def test_export_blif_reads_back_in_abc(tmp_path):
    """The exported BLIF is what ABC reads: cec of the export against the simplified netlist's proves equal."""
    from hwgen import rewrite
    from hwgen.interop.abc import find_abc
    from hwgen.interop.blif import to_blif

    net = random_netlist(8, num_inputs=12, num_gates=300)
    net.save(tmp_path / "n.json")
    result = hwgen("export", tmp_path / "n.json", "--format", "blif", "--out", tmp_path / "n.blif")
    assert result.returncode == 0, result.stderr
    simplified, _ = rewrite.run(net, rewrite.DEFAULT_PASSES)
    (tmp_path / "s.blif").write_text(to_blif(simplified))
    cec = subprocess.run([find_abc(), "-c", f"cec {tmp_path / 'n.blif'} {tmp_path / 's.blif'}"],
                         capture_output=True, text=True)
    assert "Networks are equivalent" in cec.stdout


def test_simplify_does_not_import_torch(tmp_path):
    random_netlist(6).save(tmp_path / "in.json")
    code = ("import sys; from hwgen.cli import main; main(['simplify', sys.argv[1], '--out', sys.argv[2]]); "
            "assert 'torch' not in sys.modules and 'amaranth' not in sys.modules")
    result = subprocess.run([sys.executable, "-c", code, tmp_path / "in.json", tmp_path / "out.json"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("setup, args, words", [
    (None, ["simplify", "missing.json", "--out", "x.json"], ["no such netlist"]),
    ("netlist: {", ["simplify", "{f}", "--out", "x.json"], ["not valid JSON"]),
    ("config: model: {layres: [10]}", ["train", "{f}", "--out", "out"], ["model.layres", "layers"]),
    ("config: dataset: cifar", ["train", "{f}", "--out", "out"], ["dataset"]),
    ("config: [1, 2", ["train", "{f}", "--out", "out"], ["not valid YAML"]),
    (None, ["harden", "missing.pt", "--out", "x.json"], ["no such checkpoint"]),
    ("checkpoint: not a checkpoint", ["harden", "{f}", "--out", "x.json"], ["not a readable hwgen checkpoint"]),
    (None, ["emit", "missing.json", "--out", "rtl"], ["no such netlist"]),
    (None, ["sim", "nowhere", "--netlist", "missing.json"], ["no such netlist"]),
    (None, ["synth", "nowhere"], ["no emitted RTL"]),
])
def test_bad_input_gives_one_line_and_exit_2(tmp_path, setup, args, words):
    f = tmp_path / "input"
    if setup:
        f.write_text(setup.split(": ", 1)[1])
    result = hwgen(*[a.replace("{f}", str(f)) for a in args], cwd=tmp_path)
    assert_clean_error(result, *words)
    assert not (tmp_path / "x.json").exists() and not (tmp_path / "out").exists()


def test_unwritable_output_leaves_nothing(tmp_path):
    random_netlist(1).save(tmp_path / "in.json")
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = hwgen("simplify", tmp_path / "in.json", "--out", blocker / "sub" / "out.json")
    assert_clean_error(result, "cannot create output folder")
    # A folder where the file would go: the write is refused at its last step, and its temporary file goes.
    (tmp_path / "taken.json").mkdir()
    result = hwgen("simplify", tmp_path / "in.json", "--out", tmp_path / "taken.json")
    assert_clean_error(result, "cannot write", "taken.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "in.json", "taken.json"]
    assert not any((tmp_path / "taken.json").iterdir())


@pytest.mark.slow
def test_build_smoke_end_to_end(tmp_path):
    """configs/smoke.yaml through every stage: real training, ABC, Verilator and yosys + nextpnr."""
    out = tmp_path / "smoke"
    result = hwgen("build", ROOT / "configs" / "smoke.yaml", "--out", out, "--quiet")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    acc, lossy = report["accuracy"], report["data_aware"]
    assert acc["hardened"] >= 0.85
    assert report["equivalence"] == "proven"
    # The config opts into data-aware folding: the RTL is the folded netlist, within the allowed loss.
    assert report["gates"]["emitted"] == lossy["gates"] <= lossy["gates_exact"] == report["gates"]["simplified"]
    assert acc["rtl"] == lossy["test_accuracy"] and lossy["drop_points"] <= 0.2
    assert report["sim"]["mismatches"] == 0 and report["sim"]["vectors"] >= 1000
    assert report["gates"]["simplified"] < report["gates"]["hardened"]
    syn = report["synth"]
    assert syn["luts"] > 0 and syn["ffs"] > syn["harness_ffs"] and syn["fmax_mhz"] > 0 and syn["routed"]
    assert set(report["seconds"]) >= {"train", "harden", "simplify", "data_aware", "emit", "sim", "synth"}
    assert "accuracy float" in result.stdout
    bitstream = out / "rtl" / syn["bitstream"]
    assert syn["bitstream"] == f"dlgn-{syn['target']}.bin" and bitstream.stat().st_size > 100_000  # iCE40: 104-135 kB
    check_report_page(out / "report.html", tmp_path)
    assert (out / "explain" / "heatmap.png").exists() and (out / "explain" / "circuit.svg").exists()

    # Place only: the post-placement estimate is close to the routed Fmax, and says it is an estimate.
    placed = hwgen("synth", out / "rtl", "--target", syn["target"], "--freq", "24", "--no-route")
    assert placed.returncode == 0, placed.stderr[-2000:]
    assert "(placed, not routed)" in placed.stdout
    estimate = json.loads((out / "rtl" / f"synth-{syn['target']}.json").read_text())
    assert not estimate["routed"] and estimate["luts"] == syn["luts"]
    assert abs(estimate["fmax_mhz"] - syn["fmax_mhz"]) <= 0.25 * syn["fmax_mhz"]


@pytest.mark.slow
def test_a_design_too_big_for_the_device_names_what_runs_out(tmp_path):
    net = random_netlist(2, num_inputs=64, num_gates=9000, num_classes=2, per_class=2400, window=3000)
    work = tmp_path
    net.save(work / "net.json")
    assert hwgen("emit", work / "net.json", "--out", work / "rtl").returncode == 0
    result = hwgen("synth", work / "rtl", "--target", "ice40-up5k")
    assert_clean_error(result, "does not fit ice40-up5k")
    assert "ICESTORM_LC" in result.stderr and "/5280" in result.stderr


@pytest.mark.slow
def test_ecp5_synthesis_races_the_routers(tmp_path):
    """On ECP5 router1 and router2 run at once; the report says which one's result it took, and their folders go."""
    net = random_lut_netlist(3, num_inputs=40, num_gates=300, num_classes=3, per_class=4, window=30)
    net.save(tmp_path / "net.json")
    assert hwgen("emit", tmp_path / "net.json", "--out", tmp_path / "rtl").returncode == 0
    result = hwgen("synth", tmp_path / "rtl", "--target", "ecp5-25k", "--freq", "100", "--no-xilinx")
    assert result.returncode == 0, result.stderr[-2000:]
    syn = json.loads((tmp_path / "rtl" / "synth-ecp5-25k.json").read_text())
    assert syn["routed"] and syn["router"] in ("router1", "router2") and syn["router"] in result.stdout
    assert syn["fmax_mhz"] > 0 and syn["logic_cells"] >= syn["luts"] > 0 and set(syn["parts"]) >= {"gates", "popcount"}
    assert (tmp_path / "rtl" / syn["bitstream"]).stat().st_size > 100_000
    assert not any((tmp_path / "rtl" / "synth_ecp5-25k" / r).exists() for r in ("router1", "router2"))
    assert syn["met"] and "warning" not in result.stderr

    # A clock no ECP5 reaches: the result says so, and a warning line names the shortfall.
    result = hwgen("synth", tmp_path / "rtl", "--target", "ecp5-25k", "--freq", "1000", "--no-xilinx", "--no-parts")
    assert result.returncode == 0, result.stderr[-2000:]
    syn = json.loads((tmp_path / "rtl" / "synth-ecp5-25k.json").read_text())
    assert not syn["met"] and syn["freq_mhz"] == 1000
    assert result.stderr.count("\n") == 1 and "misses the asked 1000" in result.stderr


@pytest.mark.parametrize("routed, met, must_meet, fails", [(True, False, True, True), (True, False, False, False),
                                                           (True, True, True, False), (False, False, True, False)])
def test_a_build_fails_when_the_routed_clock_misses(tmp_path, routed, met, must_meet, fails):
    from hwgen.flow.build import check_clock

    report = {"synth": {"routed": routed, "met": met, "fmax_mhz": 140.2, "freq_mhz": 150.0},
              "pipeline": {"attempts": [{}, {}, {}]}}
    if fails:
        with pytest.raises(HwgenError, match="140.2 MHz, misses synth.freq_mhz 150.0 MHz .after 3 attempts"):
            check_clock(report, must_meet, tmp_path / "report.json")
    else:
        check_clock(report, must_meet, tmp_path / "report.json")


@pytest.mark.slow
def test_both_backends_count_the_core_by_part(tmp_path):
    """The part breakdown counts the encoder, gates, popcount and argmax as parts, not as flow control,
    whichever backend wrote the core (Amaranth as submodules NAME_core.PART, the direct writer as
    NAME_core_PART); the parts both backends build alike come out the same size."""
    net = with_encoder(random_netlist(5, num_inputs=48, num_gates=600, num_classes=3, per_class=8, window=60), 2, 5)
    net.save(tmp_path / "net.json")
    parts = {}
    for backend in ("amaranth", "direct"):
        rtl = tmp_path / backend
        assert hwgen("emit", tmp_path / "net.json", "--out", rtl, "--backend", backend).returncode == 0
        result = hwgen("synth", rtl, "--target", "ecp5-25k", "--no-route", "--no-xilinx")
        assert result.returncode == 0, result.stderr[-2000:]
        syn = json.loads((rtl / "synth-ecp5-25k.json").read_text())
        found = parts[backend] = syn["parts"]
        core = sum(found[part]["luts"] for part in ("encoder", "gates", "popcount", "argmax"))
        assert found["gates"]["luts"] > 0 and found["popcount"]["luts"] > 0, backend
        assert found["flow control"]["luts"] < core, backend
        assert sum(p["luts"] for p in found.values()) >= syn["luts"], backend  # every LUT is in some part
    for part in ("encoder", "popcount", "argmax"):
        amaranth, direct = parts["amaranth"][part]["luts"], parts["direct"][part]["luts"]
        assert abs(amaranth - direct) <= 0.2 * direct + 4, (part, amaranth, direct)


@pytest.mark.slow
def test_auto_pipeline_emits_again_while_the_routed_clock_falls_short(tmp_path, monkeypatch):
    """With a delay model far too hopeful for iCE40 (0.05 ns a LUT level), `emit.pipeline: auto` first puts
    the whole design in one stage for 150 MHz, which an iCE40 UP5K really routes far below; the build emits
    again with a level less per stage each time, three times in all, and leaves the last attempt's RTL."""
    from hwgen import targets
    from hwgen.flow import build
    from hwgen.flow.config import DEFAULTS

    monkeypatch.setitem(targets.NS_PER_LEVEL, "ice40", 0.05)
    net = random_netlist(4, num_inputs=16, num_gates=300, num_classes=3, per_class=6, window=20)
    cfg = {**DEFAULTS, "emit": {**DEFAULTS["emit"], "pipeline": "auto"},
           "synth": {**DEFAULTS["synth"], "target": "ice40-up5k", "freq_mhz": 150.0}}
    seconds, said = {}, []
    info, syn, attempts = build._emit_and_synthesize(net, tmp_path / "rtl", cfg, seconds, log=said.append)
    first = targets.levels_for(150.0, "ice40")
    assert first > net.depth()
    assert [a["levels"] for a in attempts] == [first, first - 1, first - 2]
    assert all(0 < a["fmax_mhz"] < 150.0 for a in attempts)
    assert len(said) == 2 and all("emitting again" in line for line in said)
    assert info["pipeline_levels"] == attempts[-1]["levels"] and syn["fmax_mhz"] == attempts[-1]["fmax_mhz"]
    assert json.loads((tmp_path / "rtl" / "dlgn.json").read_text())["pipeline_levels"] == attempts[-1]["levels"]


def test_the_race_keeps_what_succeeds_within_twice_the_first(tmp_path):
    from hwgen.synthesis import _race

    def runs(*timings):
        return [(["sh", "-c", f"sleep {delay}; exit {code}"], tmp_path, tmp_path / f"{k}.log")
                for k, (delay, code) in enumerate(timings)]

    # a failure does not end the race; a run that would take more than twice the first success is stopped.
    # The margins are whole seconds, so that a loaded machine's scheduling cannot change the outcome.
    assert _race(runs((60, 0), (0.2, 1), (1, 0)), timeout=120) == [2]
    assert _race(runs((3, 0), (2, 0)), timeout=120) == [1, 0]  # within as long again (4 s): both count
    assert _race(runs((0.2, 1)), timeout=120) == [0]  # none succeeds: the last to fail (its log says why)


@pytest.mark.slow
def test_build_monk1(tmp_path):
    """A tabular data set end to end (MONK-1 from the pinned orange3 wheel): no heat map for its inputs."""
    out = tmp_path / "monk1"
    result = hwgen("build", ROOT / "configs" / "monk1.yaml", "--out", out, "--quiet")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert report["accuracy"]["hardened"] >= 0.95 and report["accuracy"]["rtl"] == report["accuracy"]["hardened"]
    assert report["sim"]["mismatches"] == 0 and report["synth"]["routed"]
    assert not (out / "explain" / "heatmap.png").exists() and (out / "report.html").exists()


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_artifacts_get_the_mode_the_umask_gives(tmp_path, umask, mode):
    import os

    random_netlist(4).save(tmp_path / "in.json")
    for args in (["simplify", tmp_path / "in.json", "--out", tmp_path / "out.json"],
                 ["emit", tmp_path / "in.json", "--out", tmp_path / "rtl"]):
        result = subprocess.run([sys.executable, "-m", "hwgen.cli", *map(str, args)], capture_output=True, text=True,
                                preexec_fn=lambda: os.umask(umask))
        assert result.returncode == 0, result.stderr
    for path in (tmp_path / "out.json", tmp_path / "rtl" / "dlgn.v", tmp_path / "rtl" / "dlgn.json"):
        assert path.stat().st_mode & 0o777 == mode, path


def test_verify_works_in_a_temporary_folder_with_a_space(tmp_path):
    import os

    spaced = tmp_path / "my temp"
    spaced.mkdir()
    random_netlist(5, num_inputs=16, num_gates=300).save(tmp_path / "in.json")
    result = subprocess.run([sys.executable, "-m", "hwgen.cli", "simplify", str(tmp_path / "in.json"), "--out",
                             str(tmp_path / "out.json"), "--verify"], capture_output=True, text=True,
                            env={**os.environ, "TMPDIR": str(spaced)})
    assert result.returncode == 0, result.stderr
    assert "equivalence: proven" in result.stdout


def test_a_failing_c_compiler_is_named_with_its_message(tmp_path):
    """Where the kernels do not build, training says so once and goes on (slower); the cut pass, which has
    no other way, stops with the compiler's first error line."""
    import os

    compiler = tmp_path / "broken-cc"
    compiler.write_text("#!/bin/sh\necho 'kernel.c:1:1: error: this compiler is broken' >&2\nexit 1\n")
    compiler.chmod(0o755)
    env = {**os.environ, "CC": str(compiler), "HWGEN_CACHE_DIR": str(tmp_path / "cache")}
    (tmp_path / "c.yaml").write_text("dataset: digits\nmodel: {layers: [40, 20]}\ntrain: {steps: 3}\n")
    result = subprocess.run([sys.executable, "-m", "hwgen.cli", "train", str(tmp_path / "c.yaml"), "--out",
                             str(tmp_path / "train"), "--quiet"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("hwgen: warning:")]
    assert warnings == ["hwgen: warning: broken-cc could not build gates_kernel.c: kernel.c:1:1: error: this compiler "
                        "is broken; training runs on torch's ops instead, 10 to 30 times slower"]
    random_netlist(4).save(tmp_path / "in.json")
    result = subprocess.run([sys.executable, "-m", "hwgen.cli", "simplify", str(tmp_path / "in.json"), "--out",
                             str(tmp_path / "out.json")], capture_output=True, text=True, env=env)
    assert_clean_error(result, "broken-cc could not build cut_kernel.c", "this compiler is broken")


def test_sim_and_simplify_take_the_users_own_data(tmp_path):
    """`hwgen sim --vectors FILE.npy` streams the user's inputs; `simplify --data FILE.npz` folds with them."""
    import numpy as np
    from helpers import with_encoder

    net = with_encoder(random_netlist(12, num_inputs=16, num_gates=300, num_classes=2, per_class=4), 2, 12)
    net.save(tmp_path / "net.json")
    rng = np.random.default_rng(0)
    features = rng.integers(0, 300, size=(150, 8))
    np.save(tmp_path / "mine.npy", features)
    assert hwgen("emit", tmp_path / "net.json", "--out", tmp_path / "rtl").returncode == 0
    result = hwgen("sim", tmp_path / "rtl", "--netlist", tmp_path / "net.json", "--vectors", tmp_path / "mine.npy",
                   "--simulator", "icarus", "--waves", tmp_path / "run.fst")
    assert result.returncode == 0 and "150 vectors, 0 mismatches" in result.stdout, result.stderr
    assert (tmp_path / "run.fst").read_bytes()[:1] == b"\x00" and (tmp_path / "run.fst").stat().st_size > 1000  # FST
    assert sorted(p.name for p in (tmp_path / "rtl").iterdir()) == ["dlgn.json", "dlgn.v"]  # no simulator build
    np.savez(tmp_path / "data.npz", train_x=features, test_x=features[:50], test_y=rng.integers(0, 2, 50))
    result = hwgen("simplify", tmp_path / "net.json", "--out", tmp_path / "folded.json", "--data", tmp_path / "data.npz",
                   "--max-drop", "100")
    assert result.returncode == 0 and "data-aware:" in result.stdout, result.stderr
    np.save(tmp_path / "bad.npy", -features)
    assert_clean_error(hwgen("sim", tmp_path / "rtl", "--netlist", tmp_path / "net.json", "--vectors",
                             tmp_path / "bad.npy"), "must be 0 or more")
    np.savez(tmp_path / "partial.npz", train_x=features)
    assert_clean_error(hwgen("simplify", tmp_path / "net.json", "--out", tmp_path / "x.json", "--data",
                             tmp_path / "partial.npz"), "lacks test_x, test_y")
    # The RTL was emitted from net.json, not from the folded netlist: sim says so and names the file.
    assert_clean_error(hwgen("sim", tmp_path / "rtl", "--netlist", tmp_path / "folded.json", "--simulator", "icarus"),
                       "emitted from another netlist", "net.json")


def test_a_shipped_example_loads_by_name(tmp_path, monkeypatch):
    """`hwgen build mnist-small` (no such file here) takes the example that ships with hwgen; a file of that
    name, where there is one, comes first."""
    from hwgen.flow.config import load

    monkeypatch.chdir(tmp_path)
    assert load("smoke") == load(ROOT / "configs" / "smoke.yaml")
    (tmp_path / "smoke").write_text("dataset: digits\nseed: 5\n")
    assert load("smoke")["seed"] == 5
    assert_clean_error(hwgen("configs", "nope"), "no example config named nope", "mnist-small")


def test_a_log_gets_a_line_per_evaluation_and_no_progress_bar(tmp_path):
    """Written to a file (not a terminal), training prints each evaluation on a line of its own and no
    carriage-return progress updates."""
    import yaml

    cfg = {"dataset": "digits", "model": {"layers": [100, 100]}, "train": {"steps": 60, "eval_every": 20, "threads": 1}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    result = hwgen("train", tmp_path / "c.yaml", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    log = result.stdout + result.stderr
    assert "\r" not in log
    assert [line.split(":")[0] for line in log.splitlines() if line.startswith("step ")] == ["step 20", "step 40",
                                                                                            "step 60"]


def test_the_verilog_header_says_how_the_ports_are_laid_out(tmp_path):
    net = with_encoder(random_netlist(3, num_inputs=16, num_gates=60, num_classes=2, per_class=3), 2, 3)
    net.save(tmp_path / "net.json")
    assert hwgen("emit", tmp_path / "net.json", "--out", tmp_path / "rtl").returncode == 0
    header = (tmp_path / "rtl" / "dlgn.v").read_text().split("module ")[0]
    info = json.loads((tmp_path / "rtl" / "dlgn.json").read_text())
    b, w = info["feature_bits"], info["score_width"]
    assert f"in_data: feature f at [f*{b} +: {b}]" in header and f"saturate a wider value at {(1 << b) - 1}" in header
    assert f"out_scores: class c's score (how many of its outputs are 1) at [c*{w} +: {w}]" in header


def test_counts_read_as_words():
    from hwgen.cli import counted, nodes

    assert (counted(1, "gate"), counted(2, "gate"), counted(1, "class", "classes"), counted(3, "class", "classes")) == \
        ("1 gate", "2 gates", "1 class", "3 classes")
    assert nodes(random_netlist(1, num_inputs=8, num_gates=1)) == "1 gate"
    from hwgen.netlist import Netlist
    luts = Netlist.from_nodes(4, [("lut", 0x8, [0, 1]), ("lut", 0x6, [2, 3])], [4, 5], 2)
    assert nodes(luts) == "2 LUT nodes"
    assert nodes(random_lut_netlist(1, num_inputs=8, num_gates=50)).endswith(" nodes")
