from pathlib import Path

import difflogic_standin
import numpy as np
import pytest
import torch
from helpers import random_bits

from hwgen import rewrite
from hwgen.emit.verilog import emit
from hwgen.flow import config
from hwgen.golden import evaluate
from hwgen.learn.harden import harden_checkpoint, harden_model
from hwgen.learn.nn import GroupSum, LearnedWiringLayer, LogicLayer, straight_through
from hwgen.learn.train import encoded_dataset, load_checkpoint, model_from_checkpoint, random_shift, train


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


def test_build_goes_on_from_a_checkpoint_of_the_same_training_only(trained):
    from hwgen.errors import HwgenError
    from hwgen.flow.build import goes_on_from

    cfg, out, _ = trained
    checkpoint = out / "checkpoint.pt"
    assert goes_on_from(cfg, checkpoint, retrain=False)
    assert goes_on_from({**cfg, "emit": {**cfg["emit"], "pipeline": 3}}, checkpoint, False)  # not training
    assert goes_on_from(small_config(threads=2, eval_every=10), checkpoint, False)  # the same weights
    assert goes_on_from(small_config(steps=300), checkpoint, False)  # a longer run goes on
    with pytest.raises(HwgenError, match=r"other settings \(train.lr\); to train again and replace it give --retrain"):
        goes_on_from(small_config(lr=0.02), checkpoint, False)
    assert not goes_on_from(small_config(lr=0.02), checkpoint, retrain=True)
    assert not goes_on_from(cfg, out / "missing.pt", False)
    # a user's data split otherwise trains otherwise; a checkpoint from before the data section is its defaults
    with pytest.raises(HwgenError, match=r"other settings \(data.test_fraction\)"):
        goes_on_from({**cfg, "data": {**cfg["data"], "test_fraction": 0.3}}, checkpoint, False)
    import torch

    from hwgen.learn.train import load_checkpoint
    state = load_checkpoint(checkpoint)
    del state["config"]["data"]
    torch.save(state, out / "older.pt")
    assert goes_on_from(cfg, out / "older.pt", False)


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
        simplified, _ = rewrite.run(hardened, rewrite.DEFAULT_PASSES)
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


def learned_wiring_layer(in_dim, out_dim, candidates, seed):
    generator = torch.Generator().manual_seed(seed)
    return LearnedWiringLayer(in_dim, out_dim, torch.randint(0, in_dim, (2, out_dim, candidates), generator=generator),
                              generator=generator)


@pytest.mark.parametrize("grad_factor, candidates", [(1.0, 1), (2.0, 1), (1.0, 4)])
def test_cpu_kernel_and_torch_ops_give_the_same_gradients(monkeypatch, grad_factor, candidates):
    """The C kernel (CPU) and the torch ops (what CUDA runs) compute the same outputs and gradients, with
    fixed and with learned wiring."""
    from hwgen.learn.nn import logic

    if candidates == 1:
        layers = [LogicLayer(6, 40, generator=torch.Generator().manual_seed(2), grad_factor=grad_factor),
                  LogicLayer(40, 30, generator=torch.Generator().manual_seed(3), grad_factor=grad_factor)]
    else:
        layers = [learned_wiring_layer(6, 40, candidates, 2), learned_wiring_layer(40, 30, candidates, 3)]
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


def test_learned_wiring_hardens_to_its_eval_mode_function():
    """Eval mode reads each input's strongest candidate only, and the hardened netlist computes exactly that."""
    layers = [learned_wiring_layer(9, 24, 5, 4), learned_wiring_layer(24, 12, 3, 5)]
    model = torch.nn.Sequential(*layers, GroupSum(2, tau=1.0)).eval()
    net = harden_model(model, 9)
    bits = random_bits(9, 500, seed=6)
    with torch.no_grad():
        assert np.array_equal(model(torch.from_numpy(bits).float()).long().numpy(), evaluate.scores(net, bits))
    chosen = layers[0].indices
    assert chosen.shape == (2, 24)
    assert all(c in row for c, row in zip(chosen.flatten().tolist(), layers[0].candidates.reshape(48, 5).tolist()))


def test_straight_through_trains_the_hardened_network():
    """Inside the block a training-mode forward pass is the hardened network, and the gradient still
    reaches every gate's and every wire's weights; outside it the model is relaxed again."""
    model = torch.nn.Sequential(LogicLayer(9, 30, generator=torch.Generator().manual_seed(9)),
                                learned_wiring_layer(30, 12, 3, 10), GroupSum(2, tau=1.0))
    x = torch.from_numpy(random_bits(9, 200, seed=11)).float()
    with torch.no_grad():
        hardened = model.eval()(x)
    model.train()
    with straight_through(model):
        out = model(x)
    assert torch.equal(out, hardened)
    out.square().sum().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad.abs().sum() > 0, name
    assert not torch.equal(model(x), hardened)


def test_a_finished_run_goes_on_into_its_straight_through_phase(tmp_path):
    """Adding hard_steps to a finished run and resuming gives the weights of training it all at once."""
    whole = small_config(steps=60, lr_schedule="cosine", hard_steps=30, hard_lr=0.01)
    train(whole, tmp_path / "whole", progress=False)
    train(small_config(steps=60, lr_schedule="cosine"), tmp_path / "parts", progress=False)
    metrics = train(whole, tmp_path / "parts", resume=True, progress=False)
    at_once, in_parts = (load_checkpoint(tmp_path / run / "checkpoint.pt") for run in ("whole", "parts"))
    assert [h["step"] for h in in_parts["history"]] == [30, 60, 90] == [h["step"] for h in at_once["history"]]
    for key, value in at_once["model"].items():
        assert torch.equal(value, in_parts["model"][key]), key
    assert metrics["steps"] == 90


def test_training_with_learned_wiring_and_shifts_hardens_exactly(tmp_path):
    cfg = config.from_dict({"dataset": "digits", "model": {"layers": [200, 100], "candidates": 3, "local_window": 3},
                            "train": {"steps": 300, "batch_size": 64, "lr": 0.05, "eval_every": 300, "threads": 1,
                                      "shift": 1}})
    metrics = train(cfg, tmp_path, progress=False)
    net = harden_checkpoint(tmp_path / "checkpoint.pt")
    data, _ = encoded_dataset(cfg)
    predictions = evaluate.scores(net, evaluate.encode_features(net, data.test_x)).argmax(1)
    assert (predictions == data.test_y).mean() == pytest.approx(metrics["test_hardened"])
    assert metrics["test_hardened"] > 0.3  # ten classes: chance is 0.1


def test_shipped_configs_load_and_mnist_keeps_its_gate_budget():
    configs = sorted((Path(__file__).parents[1] / "configs").glob("*.yaml"))
    loaded = {path.stem: config.load(path) for path in configs}
    assert "mnist" in loaded and len(loaded) >= 10
    assert sum(loaded["mnist"]["model"]["layers"]) <= 64_000  # no larger than the 64,000-gate recipe before it


def test_random_shift_moves_whole_images():
    """Every sample moves by one offset, all its bits together, with zeros coming in at the border."""
    images = torch.from_numpy(random_bits(6 * 7 * 2, 40, seed=7)).float()
    shifted = random_shift(images, (6, 7), 2, torch.Generator().manual_seed(8)).reshape(40, 6, 7, 2)
    padded = torch.nn.functional.pad(images.reshape(40, 6, 7, 2), (0, 0, 2, 2, 2, 2))
    moves = set()
    for sample, out in zip(padded, shifted):
        found = [(dy, dx) for dy in range(5) for dx in range(5) if torch.equal(sample[dy:dy + 6, dx:dx + 7], out)]
        assert found
        moves.update(found)
    assert len(moves) > 5


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


def _difflogic_file(tmp_path, *front, in_dim=12, save=torch.save):
    layers = [difflogic_standin.LogicLayer(in_dim, 10, 7), difflogic_standin.LogicLayer(10, 6, 8)]
    model = torch.nn.Sequential(*front, *layers, difflogic_standin.GroupSum(2, tau=1.0))
    save(model, tmp_path / "model.pt")
    return model


def _harden_cli(tmp_path, *extra):
    import os
    import subprocess
    import sys
    from pathlib import Path

    return subprocess.run([sys.executable, "-m", "hwgen.cli", "harden", str(tmp_path / "model.pt"), "--from-difflogic",
                           "--out", str(tmp_path / "n.json"), *extra], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)})


def test_difflogic_models_with_flatten_in_front_harden(tmp_path):
    """difflogic's README puts a Flatten first; shape-only layers pass the bits on."""
    from hwgen.netlist import load

    model = _difflogic_file(tmp_path, torch.nn.Flatten(), torch.nn.Identity())
    result = _harden_cli(tmp_path)
    assert result.returncode == 0, result.stderr
    bits = random_bits(12, 100, 3)
    plain = torch.nn.Sequential(*[m for m in model if not isinstance(m, (torch.nn.Flatten, torch.nn.Identity))])
    assert np.array_equal(evaluate.scores(load(tmp_path / "n.json"), bits), evaluate.scores(harden_model(plain, 12), bits))


@pytest.mark.parametrize("case, says", [
    ("state_dict", "holds a state_dict: difflogic keeps its wiring outside state_dict"),
    ("too many inputs", "--inputs 20, but the model's first logic layer takes 12 inputs"),
    ("hwgen's harden", "hwgen harden --from-difflogic"),
])
def test_difflogic_mistakes_are_named(tmp_path, case, says):
    import subprocess
    import sys

    if case == "state_dict":
        _difflogic_file(tmp_path, save=lambda model, path: torch.save(model.state_dict(), path))
        result = _harden_cli(tmp_path)
    elif case == "too many inputs":
        _difflogic_file(tmp_path)
        result = _harden_cli(tmp_path, "--inputs", "20")
    else:  # a difflogic file given to hwgen's own loader
        _difflogic_file(tmp_path)
        result = subprocess.run([sys.executable, "-m", "hwgen.cli", "harden", str(tmp_path / "model.pt"), "--out",
                                 str(tmp_path / "n.json")], capture_output=True, text=True)
    assert result.returncode == 2 and says in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_a_threshold_major_binarisation_becomes_the_encoder(tmp_path):
    """Trained on [x > 3 for every feature, x > 8 for every feature]: the netlist takes the raw features and
    computes what the model computed on those bits."""
    from hwgen.netlist import load

    model = _difflogic_file(tmp_path, in_dim=12)  # 6 features, 2 thresholds
    result = _harden_cli(tmp_path, "--binarize", "3,8")
    assert result.returncode == 0, result.stderr
    net = load(tmp_path / "n.json")
    features = np.random.default_rng(5).integers(0, 12, size=(200, 6))
    bits = np.concatenate([features > 3, features > 8], axis=1)
    assert np.array_equal(evaluate.scores(net, evaluate.encode_features(net, features)),
                          evaluate.scores(harden_model(model, 12), bits))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
@pytest.mark.parametrize("make", ["gates", "learned wiring", "lut"])
def test_layers_refuse_other_float_types_instead_of_misreading_them(make, dtype):
    """The CPU kernels read float32: a .double() or .half() model gets a clear error, not wrong numbers
    (1.875 where a gate gives 0 or 1) or reads past a buffer."""
    from hwgen.learn.nn import LUTLayer

    layer = {"gates": lambda: LogicLayer(8, 6), "learned wiring": lambda: learned_wiring_layer(8, 6, 3, 0),
             "lut": lambda: LUTLayer(8, 6, k=3)}[make]().to(dtype)
    x = (torch.rand(5, 8) > 0.5).to(dtype)
    with pytest.raises(TypeError, match="float32"):
        layer(x)


def test_the_distillation_loss_is_the_kl_at_a_temperature_mixed_with_the_labels():
    from hwgen.learn import distill

    gen = torch.Generator().manual_seed(0)
    student, teacher = torch.randn(8, 5, generator=gen), torch.randn(8, 5, generator=gen)
    labels = torch.randint(5, (8,), generator=gen)
    ce = torch.nn.functional.cross_entropy(student, labels)
    assert torch.allclose(distill.loss(student, labels, teacher, 4.0, 0.0), ce)
    p_t, log_p_s = torch.softmax(teacher / 4, -1), torch.log_softmax(student / 4, -1)
    kl = (p_t * (torch.log(p_t) - log_p_s)).sum(-1).mean()
    assert torch.allclose(distill.loss(student, labels, teacher, 4.0, 0.3), 0.3 * 16 * kl + 0.7 * ce, atol=1e-6)
    assert distill.loss(teacher, labels, teacher, 2.0, 1.0).abs() < 1e-6  # a student equal to its teacher


def test_a_distilled_run_learns_from_its_teacher(tmp_path):
    """A teacher that learned the digits, and a network trained from it alone (alpha 1: no labels at all)
    that learns the digits too."""
    cfg = small_config(steps=150, teacher={"hidden": 64, "steps": 300, "alpha": 1.0, "temperature": 1.0})
    metrics = train(cfg, tmp_path, progress=False)
    assert metrics["teacher_test"] > 0.85
    assert metrics["test_float"] > 0.5  # as labels-only training of this config (chance is 0.1)
