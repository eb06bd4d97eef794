import numpy as np
import pytest
import torch

from hwgen import config, evaluate, rewrite
from hwgen.emit.verilog import emit
from hwgen.harden import harden_checkpoint, harden_model
from hwgen.nn import GroupSum, LogicLayer
from hwgen.train import encoded_dataset, load_checkpoint, model_from_checkpoint, train

import difflogic_standin
from helpers import random_bits


def small_config(**train):
    return config.from_dict({"dataset": "digits", "encoding": {"bits": 2}, "model": {"layers": [300, 300, 200]},
                             "train": {"steps": 150, "batch_size": 64, "eval_every": 30, "checkpoint_every": 30,
                                       "threads": 1, **train}})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("train")
    cfg = small_config()
    metrics = train(cfg, out, progress=False)
    return cfg, out, metrics


def test_torch_eval_mode_equals_the_evaluator_on_the_whole_test_set(trained):
    cfg, out, _ = trained
    net = harden_checkpoint(out / "checkpoint.pt")
    data, thresholds = encoded_dataset(cfg)
    assert np.array_equal(net.encoder, thresholds)
    bits = evaluate.encode_features(net, data.test_x)
    model = model_from_checkpoint(load_checkpoint(out / "checkpoint.pt")).eval()
    with torch.no_grad():
        torch_scores = model(torch.from_numpy(bits).float()) * cfg["model"]["tau"]
    assert torch.equal(torch_scores, torch_scores.round())  # hardened gates give whole counts
    assert np.array_equal(torch_scores.round().long().numpy(), evaluate.scores(net, bits))


def test_checkpoint_holds_the_wiring(trained):
    _, out, _ = trained
    state = load_checkpoint(out / "checkpoint.pt")["model"]
    assert state["0.indices"].shape == (2, 300) and state["0.indices"].dtype == torch.int64


def test_training_learns(trained):
    _, _, metrics = trained
    assert metrics["test_float"] > 0.5  # ten classes: chance is 0.1


def test_same_config_and_seed_give_identical_files(tmp_path):
    """Two runs of train -> harden -> simplify -> emit write byte-identical netlists and Verilog."""
    cfg = small_config(steps=20)
    files = []
    for run in ("a", "b"):
        out = tmp_path / run
        train(cfg, out, progress=False)
        hardened = harden_checkpoint(out / "checkpoint.pt")
        hardened.save(out / "hardened.netlist.json")
        simplified, _ = rewrite.run(hardened, rewrite.DEFAULT_PIPELINE)
        simplified.save(out / "simplified.netlist.json")
        emit(simplified, out / "rtl", "dlgn", backend="amaranth")
        emit(simplified, out / "rtl_direct", "dlgn", backend="direct")
        files.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*")
                      if p.suffix in (".json", ".v")})
    assert len(files[0]) == 6
    assert files[0] == files[1]


def difflogic_forms(x, layer):
    """The 16 ops' real-valued forms on the layer's inputs, as difflogic writes them."""
    a, b = x[:, layer.indices[0]], x[:, layer.indices[1]]
    return [torch.zeros_like(a), a * b, a - a * b, a, b - a * b, b, a + b - 2 * a * b, a + b - a * b,
            1 - (a + b - a * b), 1 - (a + b - 2 * a * b), 1 - b, 1 - b + a * b, 1 - a, 1 - a + a * b, 1 - a * b,
            torch.ones_like(a)]


def test_relaxed_layer_mixes_ops_like_difflogic():
    """Each relaxed gate is the softmax-weighted sum of the 16 ops' real-valued forms (difflogic's formula),
    forward and backward."""
    torch.manual_seed(0)
    layer = LogicLayer(5, 7, generator=torch.Generator().manual_seed(1))
    x = torch.rand(3, 5)
    real = difflogic_forms(x, layer)
    probs = torch.softmax(layer.weights, -1)
    expected = sum(probs[:, i] * real[i] for i in range(16))
    assert torch.allclose(layer(x), expected, atol=1e-6)

    # and the gradients: autograd through that formula against the layer's own backward
    x.requires_grad_(True)
    upstream = torch.rand(3, 7)
    grads = []
    for compute in (lambda: layer(x), lambda: sum(torch.softmax(layer.weights, -1)[:, i] * form
                                                  for i, form in enumerate(difflogic_forms(x, layer)))):
        layer.zero_grad()
        x.grad = None
        (compute() * upstream).sum().backward()
        grads.append((x.grad.clone(), layer.weights.grad.clone()))
    for ours, reference in zip(*grads):
        assert torch.allclose(ours, reference, atol=1e-6)


@pytest.mark.parametrize("grad_factor", [1.0, 2.0])
def test_cpu_kernel_and_torch_ops_give_the_same_gradients(monkeypatch, grad_factor):
    """The C kernel (CPU) and the torch ops (what CUDA runs) compute the same outputs and gradients."""
    from hwgen.nn import logic

    layers = [LogicLayer(6, 40, generator=torch.Generator().manual_seed(2), grad_factor=grad_factor),
              LogicLayer(40, 30, generator=torch.Generator().manual_seed(3), grad_factor=grad_factor)]
    model = torch.nn.Sequential(*layers, GroupSum(3, tau=2.0))
    x, y = torch.rand(17, 6), torch.randint(0, 3, (17,))
    results = []
    for kernel in ("c", "torch"):
        if kernel == "torch":
            monkeypatch.setattr(logic, "_gates_library", lambda: None)
        assert (logic._cpu_kernel(torch.zeros(2, 2)) is None) == (kernel == "torch")
        model.zero_grad()
        out = model(x)
        torch.nn.functional.cross_entropy(out, y).backward()
        results.append([out.detach()] + [p.grad.clone() for p in model.parameters()])
    for c_value, torch_value in zip(*results):
        assert torch.allclose(c_value, torch_value, atol=1e-6)
    assert results[0][1].abs().sum() > 0


def test_harden_model_reads_difflogic_models():
    """A difflogic Sequential hardens to the netlist that computes its eval-mode function."""
    layers = [difflogic_standin.LogicLayer(6, 8, 2), difflogic_standin.LogicLayer(8, 4, 3)]
    net = harden_model(torch.nn.Sequential(*layers, difflogic_standin.GroupSum(2, tau=1.0)), 6)
    # The same weights and wiring in hwgen's modules, whose eval mode is difflogic's (argmax gate).
    ours = [LogicLayer(6, 8), LogicLayer(8, 4)]
    for mine, theirs in zip(ours, layers):
        with torch.no_grad():
            mine.weights.copy_(theirs.weights)
            mine.indices.copy_(torch.stack(theirs.indices))
    model = torch.nn.Sequential(*ours, GroupSum(2, tau=1.0)).eval()
    bits = random_bits(6, 64)
    with torch.no_grad():
        scores = model(torch.from_numpy(bits).float()).round().long().numpy()
    assert np.array_equal(scores, evaluate.scores(net, bits))


def test_harden_from_difflogic_on_the_command_line(tmp_path):
    """A difflogic model saved whole becomes the same netlist through `hwgen harden --from-difflogic`; without
    difflogic's classes importable, a one-line error."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from hwgen.netlist import load

    layers = [difflogic_standin.LogicLayer(10, 12, 4), difflogic_standin.LogicLayer(12, 6, 5)]
    model = torch.nn.Sequential(*layers, difflogic_standin.GroupSum(3, tau=1.0))
    torch.save(model, tmp_path / "model.pt")
    tests_dir = str(Path(__file__).parent)
    run = lambda env: subprocess.run([sys.executable, "-m", "hwgen.cli", "harden", str(tmp_path / "model.pt"),
                                      "--from-difflogic", "--out", str(tmp_path / "n.json")],
                                     capture_output=True, text=True, env={**os.environ, **env},
                                     cwd=Path(__file__).parents[1])
    result = run({"PYTHONPATH": tests_dir})
    assert result.returncode == 0, result.stderr
    net, expected = load(tmp_path / "n.json"), harden_model(model, 10)
    assert net.num_inputs == 10 and net.num_classes == 3
    assert all(np.array_equal(getattr(net, k), getattr(expected, k)) for k in ("ops", "a", "b", "outputs"))
    missing = run({"PYTHONPATH": ""})
    assert missing.returncode == 2 and "classes must be importable" in missing.stderr
    assert "Traceback" not in missing.stderr
