"""LUT nodes (netlist v2) from training to netlist: the layer's kernel against torch's ops, hardening that
loses nothing, the file format and its bad inputs, BLIF with k-input covers."""

import json

import numpy as np
import pytest
import torch
from helpers import random_bits, random_lut_netlist, reference_scores

from hwgen import netlist, rewrite
from hwgen.errors import HwgenError
from hwgen.flow import config
from hwgen.golden import evaluate
from hwgen.interop.abc import prove_equivalent
from hwgen.interop.blif import read_blif, to_blif
from hwgen.learn.harden import harden_checkpoint
from hwgen.learn.nn import LUTLayer
from hwgen.learn.nn import lut as lut_module
from hwgen.learn.train import encoded_dataset, load_checkpoint, model_from_checkpoint, train


@pytest.mark.parametrize("k, learned", [(2, False), (4, True), (6, False), (6, True)])
def test_kernel_and_torch_ops_agree_forward_and_backward(k, learned, monkeypatch):
    torch.manual_seed(k)
    g = torch.Generator().manual_seed(k)
    wiring = torch.randint(0, 20, (k, 9, 5), generator=g) if learned else None
    layer = LUTLayer(20, 9, k=k, wiring=wiring, learned=learned, generator=g)
    x = (torch.rand(37, 20) > 0.5).float().requires_grad_(True)
    upstream = torch.randn(37, 9)
    results = []
    for use_kernel in (True, False):
        if not use_kernel:
            monkeypatch.setattr(lut_module, "_lut_library", lambda: None)
        layer.zero_grad()
        x.grad = None
        y = layer(x)
        (y * upstream).sum().backward()
        grads = [x.grad.clone(), layer.tables.grad.clone()] + ([layer.mapping.grad.clone()] if learned else [])
        results.append((y.detach().clone(), grads))
    (y_c, grads_c), (y_t, grads_t) = results
    assert torch.equal(y_c, y_t) and set(y_c.unique().tolist()) <= {0.0, 1.0}
    for a, b in zip(grads_c, grads_t):
        assert torch.allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("batch", [37, 2 * 1024 + 131])
def test_kernel_input_gradients_sum_in_index_add_order_on_any_thread_count(batch):
    """Each input's gradient is the sum of its readers' slot gradients in the order index_add_ takes them,
    whether the batch is one block or several, on one thread or two."""
    lib = lut_module._lut_library()
    g = torch.Generator().manual_seed(batch)
    rows, out, k = 23, 40, 4
    idx = torch.randint(0, rows, (k, out), generator=g)
    tables = torch.rand(out, 1 << k, generator=g) * 2 - 1
    x = (torch.rand(rows, batch, generator=g) > 0.5).float()
    grad = torch.randn(out, batch, generator=g)
    y, addr = torch.empty(out, batch), torch.empty(out, batch, dtype=torch.uint8)
    lib.hwgen_lut_forward(x.data_ptr(), batch, idx.data_ptr(), k, tables.data_ptr(), out, y.data_ptr(),
                          addr.data_ptr(), 2)
    grad_tables, diff = torch.empty_like(tables), torch.empty(out, k, 1 << k)
    alpha, beta = lut_module.efd_weights(k)
    lib.hwgen_lut_table_grad(grad.data_ptr(), addr.data_ptr(), batch, k, tables.data_ptr(), out, alpha, beta,
                             grad_tables.data_ptr(), diff.data_ptr(), 2)
    slot = torch.empty(k * out, batch)
    lib.hwgen_lut_slot_grad(grad.data_ptr(), addr.data_ptr(), batch, k, diff.data_ptr(), out, slot.data_ptr(), 2)
    want = torch.zeros(rows, batch).index_add_(0, idx.reshape(-1), slot)
    for threads in (1, 2):
        got = torch.full((rows, batch), float("nan"))
        lib.hwgen_lut_input_grad(grad.data_ptr(), addr.data_ptr(), batch, idx.data_ptr(), k, diff.data_ptr(), out,
                                 rows, got.data_ptr(), threads)
        assert torch.equal(got, want), threads


def test_finite_differences_follow_dwn():
    """D[j, o, a] = sum over a2 of (+1 if bit j of a2 else -1) * T[a2] * alpha * beta**d, d counting the other
    bits in which a and a2 differ: checked against a direct sum."""
    tables = torch.randn(3, 8)
    alpha, beta = lut_module.efd_weights(3)
    d = lut_module._finite_differences(tables, alpha, beta)
    for j in range(3):
        for o in range(3):
            for a in range(8):
                want = sum((1 if (a2 >> j) & 1 else -1) * float(tables[o, a2]) * alpha
                           * beta ** bin((a ^ a2) & ~(1 << j)).count("1") for a2 in range(8))
                assert abs(float(d[j, o, a]) - want) < 1e-5


def test_a_trained_lut_model_hardens_to_exactly_its_function(tmp_path):
    cfg = config.from_dict({"dataset": "digits", "encoding": {"bits": 2},
                            "model": {"layers": [120, 60], "node": "lut", "k": 4, "candidates": 6},
                            "train": {"steps": 60, "batch_size": 64, "threads": 1, "eval_every": 30,
                                      "checkpoint_every": 30}})
    metrics = train(cfg, tmp_path, progress=False)
    assert metrics["test_float"] == metrics["test_hardened"] > 0.3  # training and eval compute the same
    net = harden_checkpoint(tmp_path / "checkpoint.pt")
    assert net.has_luts and net.num_gates == 180
    data, _ = encoded_dataset(cfg)
    bits = evaluate.encode_features(net, data.test_x)
    model = model_from_checkpoint(load_checkpoint(tmp_path / "checkpoint.pt")).eval()
    with torch.no_grad():
        scores = model(torch.from_numpy(bits).float()) * cfg["model"]["tau"]
    assert np.array_equal(scores.round().long().numpy(), evaluate.scores(net, bits))
    simplified, _ = rewrite.run(net, rewrite.DEFAULT_PASSES)
    assert simplified.num_gates <= net.num_gates and prove_equivalent(net, simplified)


def test_version_2_round_trip_and_version_1_when_no_lut_is_left(tmp_path):
    net = random_lut_netlist(3, num_inputs=10, num_gates=120)
    net.save(tmp_path / "v2.json")
    assert json.loads((tmp_path / "v2.json").read_text())["version"] == 2
    back = netlist.load(tmp_path / "v2.json")
    bits = random_bits(10, 200, 1)
    assert np.array_equal(evaluate.scores(back, bits), reference_scores(net, bits))
    gates, _ = rewrite.run(net, ["decompose"])
    gates.save(tmp_path / "v1.json")
    assert json.loads((tmp_path / "v1.json").read_text())["version"] == 1 and not gates.has_luts


GOOD = {"format": "hwgen-netlist", "version": 2, "num_inputs": 3, "gates": [{"lut": [0, 1, 2], "table": "e8"}],
        "outputs": [3], "num_classes": 1, "encoder": None}


@pytest.mark.parametrize("gate, version, message", [
    ({"lut": [0, 1, 2], "table": "e8"}, 1, "triples"),
    ({"lut": [0, 1, 2], "table": "0e8"}, 2, "must be 2 lowercase hex digit"),
    ({"lut": [0, 1, 2], "table": "E8"}, 2, "lowercase hex"),
    ({"lut": [0, 1, 2, 0, 1, 2, 0], "table": "0" * 32}, 2, "1 to 6 input node ids"),
    ({"lut": [], "table": "0"}, 2, "1 to 6 input node ids"),
    ({"lut": [0, 1, 3], "table": "e8"}, 2, "not an earlier node"),
    ({"lut": [0, 1, -1], "table": "e8"}, 2, "not an earlier node"),
    ({"lut": [0, 1.0, 2], "table": "e8"}, 2, "input node ids"),
    ({"lut": [0], "table": "7"}, 2, "more than 2\\*\\*1 bits"),
    ({"lut": [0, 1], "table": "6", "name": "x"}, 2, "keys"),
])
def test_bad_lut_nodes_name_the_problem(tmp_path, gate, version, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**GOOD, "version": version, "gates": [gate]}))
    with pytest.raises(HwgenError, match=message):
        netlist.load(path)


def test_blif_keeps_k_input_nodes_and_abc_proves_the_round_trip():
    net = random_lut_netlist(8, num_inputs=12, num_gates=150)
    text = to_blif(net)
    assert any(len(line.split()) > 4 for line in text.splitlines() if line.startswith(".names"))
    kept, as_gates = read_blif(text, net.num_classes, luts=True), read_blif(text, net.num_classes)
    assert kept.has_luts and not as_gates.has_luts
    assert prove_equivalent(net, kept) and prove_equivalent(net, as_gates)


def test_a_torch_dwn_state_dict_hardens_to_its_function(tmp_path):
    """torch-dwn's parameter names (learnable and fixed mappings, LUT6 and LUT4 layers) through
    `hwgen harden --from-dwn`: the netlist's class scores are the model's group sums."""
    import subprocess
    import sys

    import dwn_standin

    model = dwn_standin.model()
    torch.save(model.state_dict(), tmp_path / "dwn.pt")
    result = subprocess.run([sys.executable, "-m", "hwgen.cli", "harden", str(tmp_path / "dwn.pt"), "--from-dwn",
                             "--classes", "3", "--out", str(tmp_path / "n.json")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    net = netlist.load(tmp_path / "n.json")
    assert net.has_luts and net.num_inputs == 30 and net.num_gates == 36
    bits = random_bits(30, 300, 2)
    with torch.no_grad():
        sums = model(torch.from_numpy(bits).float()).view(300, 3, 4).sum(-1)
    assert np.array_equal(evaluate.scores(net, bits), sums.long().numpy())
    torch.save(model, tmp_path / "whole.pt")  # pickled whole: needs torch_dwn's classes, so refused with why
    result = subprocess.run([sys.executable, "-m", "hwgen.cli", "harden", str(tmp_path / "whole.pt"), "--from-dwn",
                             "--classes", "3", "--out", str(tmp_path / "w.json")], capture_output=True, text=True,
                            cwd=tmp_path)
    assert result.returncode == 2 and "model.state_dict()" in result.stderr and "Traceback" not in result.stderr


def test_torch_dwn_models_as_they_are_saved_import_as_they_compute(tmp_path):
    """A state_dict from a wrapper (net.0.luts) or from DataParallel (module.0.luts) imports; a last
    layer that does not divide into the classes is padded with zeros as torch-dwn's GroupSum pads it;
    a GroupSum's random permutation, given as a file, groups the outputs as the model did."""
    import dwn_standin

    from hwgen.learn.harden import harden_dwn_file

    model = dwn_standin.model()  # 12 outputs
    bits = random_bits(30, 200, 3)
    with torch.no_grad():
        out = model(torch.from_numpy(bits).float())
    perm = np.random.default_rng(0).permutation(12)
    for prefix, classes, permutation in (("net.", 3, None), ("module.", 5, None), ("", 4, perm)):
        torch.save({prefix + k: v for k, v in model.state_dict().items()}, tmp_path / "m.pt")
        net = harden_dwn_file(tmp_path / "m.pt", classes, randperm=permutation)
        grouped = out if permutation is None else out[:, permutation]
        padded = torch.nn.functional.pad(grouped, (0, -12 % classes))  # torch-dwn's pad_if_needed
        want = padded.view(200, classes, -1).sum(-1).long().numpy()
        assert np.array_equal(evaluate.scores(net, bits), want), (prefix, classes)
    with pytest.raises(HwgenError, match="must hold each of 0..11 once"):
        harden_dwn_file(tmp_path / "m.pt", 4, randperm=np.arange(11))


def test_local_window_per_layer():
    """A list gives each layer its own patch: the int form's wiring is the list's with that window repeated,
    a window of 1 makes a first-layer node read only its own pixel, and a bad list is a config error."""
    from hwgen.learn.nn.logic import build_model

    def wirings(**model):
        cfg = config.from_dict({"dataset": "digits", "model": {"node": "lut", "k": 4, "layers": [60, 40, 20],
                                                               "candidates": 3, "learned_mapping": "all", **model}})
        return [layer.wiring for layer in build_model(64, 10, cfg["model"], 0, (8, 8))[:-1]]

    same = [torch.equal(a, b) for a, b in zip(wirings(local_window=5, local_layers="all"),
                                              wirings(local_window=[5, 5, 5]))]
    assert same == [True, True, True]
    assert all(torch.equal(a, b) for a, b in zip(wirings(local_window=5), wirings(local_window=[5, 0, 0])))
    first, second, _ = wirings(local_window=[1, 3, 3])
    assert (first == first[:1, :, :1]).all()  # every input and candidate of a node: the same pixel
    assert not torch.equal(second, wirings(local_window=[1, 5, 5])[1])
    for bad in ([5, 5], [5, 0, 5], [5, -1, 0], [5, True, 0]):
        with pytest.raises(HwgenError, match="local_window"):
            wirings(local_window=bad)
