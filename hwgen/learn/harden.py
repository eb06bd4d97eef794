"""Trained torch model -> Netlist: each neuron becomes the gate of its largest weight."""

import re

import numpy as np
import torch

from ..convnet import ConvNetlist
from ..errors import HwgenError
from ..netlist import MAX_LUT_INPUTS, Netlist
from .nn.conv import TreeConv


def harden_model(model: torch.nn.Sequential, num_inputs: int, encoder=None):
    """Works on any Sequential of layers ending in a group sum with `k` classes. A gate layer has `weights`
    (out, 16) and `indices` (a pair of index tensors): hwgen's and difflogic's alike; each neuron becomes
    the gate of its largest weight. A LUTLayer's nodes become LUT nodes with their hardened tables. A model
    that starts with tree conv layers becomes a ConvNetlist (netlist v3): their kernels, then the dense
    layers as its head."""
    # Shape-only layers (a Flatten in front, Identity anywhere) pass the bits on as they are.
    layers = [m for m in model if not isinstance(m, (torch.nn.Flatten, torch.nn.Identity))]
    convs = [m for m in layers if isinstance(m, TreeConv)]
    if convs:
        if layers[:len(convs)] != convs:
            raise HwgenError("the conv layers must come first")
        head = harden_model(torch.nn.Sequential(*layers[len(convs):]), convs[-1].out_dim)
        net = ConvNetlist(convs[0].in_shape, [conv.to_stage() for conv in convs], head, encoder)
        net.validate("hardened model")
        return net
    *layers, group_sum = layers
    if not hasattr(group_sum, "k"):
        raise HwgenError("the model must end in a GroupSum (an object with k classes)")
    if not layers:
        raise HwgenError("the model has no logic layers")
    nodes = []
    base, width = 0, num_inputs  # node ids of the previous layer's outputs: base .. base+width-1
    for i, layer in enumerate(layers):
        indices = torch.stack(list(layer.indices)).detach().cpu().long().numpy()  # difflogic's is a pair
        if indices.ndim != 2 or indices.min(initial=0) < 0 or indices.max(initial=0) >= width:
            raise HwgenError(f"layer {i}: indices read outside the {width} outputs of the layer before")
        if hasattr(layer, "tables"):
            tables = layer.tables.detach().float()
            if not torch.isfinite(tables).all():
                raise HwgenError(f"layer {i}: tables are not finite (NaN or inf)")
            hard = layer.hard_tables()
            nodes += [("lut", hard[o], (indices[:, o] + base).tolist()) for o in range(indices.shape[1])]
        else:
            weights = layer.weights.detach().float().cpu()
            if not torch.isfinite(weights).all():
                raise HwgenError(f"layer {i}: weights are not finite (NaN or inf)")
            ia, ib = indices
            if weights.shape != (len(ia), 16) or len(ib) != len(ia):
                raise HwgenError(f"layer {i}: weights {tuple(weights.shape)} and indices ({len(ia)}, {len(ib)}) "
                                 f"do not describe {len(ia)} gates")
            nodes += zip(weights.argmax(-1).tolist(), (ia + base).tolist(), (ib + base).tolist())
        base, width = num_inputs + len(nodes) - indices.shape[1], indices.shape[1]
    net = Netlist.from_nodes(num_inputs, nodes, np.arange(base, base + width), int(group_sum.k), encoder)
    net.validate("hardened model")
    return net


def harden_checkpoint(path) -> Netlist:
    from .train import load_checkpoint, model_from_checkpoint

    ckpt = load_checkpoint(path, expected_formats=("hwgen-checkpoint", "hwgen-ca-checkpoint"))
    if ckpt["format"] == "hwgen-ca-checkpoint":  # a cellular automaton's rule
        from .ca.harden import harden_rule
        from .ca.train import rule_from_checkpoint

        return harden_rule(rule_from_checkpoint(ckpt))
    model = model_from_checkpoint(ckpt)
    encoder = None if ckpt["encoder"] is None else np.asarray(ckpt["encoder"], dtype=np.int64)
    net = harden_model(model, ckpt["arch"]["in_dim"], encoder)
    if ckpt.get("input_names") and not isinstance(net, ConvNetlist):
        net.input_names = list(ckpt["input_names"])  # a user's features by name: what explain shows
    return net


def harden_difflogic_file(path, num_inputs: int | None = None, binarize: list | None = None) -> Netlist:
    """A whole model saved by difflogic users with torch.save(model): a Sequential of difflogic LogicLayers
    and a GroupSum (a Flatten in front is fine). difflogic keeps the wiring as plain attributes, outside
    state_dict, so only the pickled model holds it: unpickling it needs difflogic's classes importable here,
    and runs whatever code the file holds, so this is for files the user trusts.

    binarize: the thresholds t1, t2, ... with which the user's inputs were binarised threshold-major, as
    difflogic's examples do: bits [x > t1 for every feature, then x > t2, ...]. The netlist then takes the
    raw integer features through an encoder (its inputs reordered feature-major)."""
    from pathlib import Path

    path = Path(path)
    if not path.exists():
        raise HwgenError(f"{path}: no such model file")
    try:
        model = torch.load(path, map_location="cpu", weights_only=False)
    except (ModuleNotFoundError, AttributeError) as e:
        raise HwgenError(f"{path}: cannot unpickle the model: its classes must be importable here ({e})") from None
    except Exception as e:  # torch raises many types for a corrupt file
        raise HwgenError(f"{path}: not a readable torch model ({type(e).__name__})") from None
    if isinstance(model, dict):
        raise HwgenError(f"{path} holds a state_dict: difflogic keeps its wiring outside state_dict, so the wiring is "
                         "not in the file; save the whole model with torch.save(model)")
    if not isinstance(model, torch.nn.Sequential) or len(model) < 2:
        raise HwgenError(f"{path}: expected a torch.nn.Sequential of LogicLayers ending in a GroupSum")
    first = next((m for m in model if hasattr(m, "indices")), None)
    if first is None:
        raise HwgenError(f"{path}: the model has no logic layers")
    reads = 1 + max(int(torch.as_tensor(i).max()) for i in first.indices)
    in_dim = getattr(first, "in_dim", None)
    if num_inputs is None:
        if in_dim is None:
            raise HwgenError(f"{path}: the first logic layer has no in_dim; give the input count with --inputs")
        num_inputs = int(in_dim)
    elif in_dim is not None and num_inputs != in_dim:
        raise HwgenError(f"--inputs {num_inputs}, but the model's first logic layer takes {in_dim} inputs")
    elif num_inputs < reads:
        raise HwgenError(f"--inputs {num_inputs}, but the model's first logic layer reads input {reads - 1}")
    net = harden_model(model, int(num_inputs))
    return net if binarize is None else with_threshold_major_encoder(net, binarize)


def with_threshold_major_encoder(net: Netlist, thresholds: list) -> Netlist:
    """The netlist of a model trained on bits [x > t for every feature] for each t in turn, taking raw
    integer features instead: input bit t*F + f becomes feature f's bit x >= t + 1 (hwgen's encoder is
    feature-major, bit f*T + k)."""
    count = len(thresholds)
    if count == 0 or net.num_inputs % count:
        raise HwgenError(f"{net.num_inputs} inputs do not split into {count} thresholds per feature")
    features = net.num_inputs // count
    # new id of old input bit k*F + f is f*T + k
    old = np.arange(net.num_inputs)
    new_id = np.concatenate([(old % features) * count + old // features,
                             np.arange(net.num_inputs, net.num_nodes)])
    encoder = np.tile(np.array(thresholds, dtype=np.int64) + 1, (features, 1))
    lut_inputs = np.where(net.lut_inputs >= 0, new_id[np.maximum(net.lut_inputs, 0)], -1) if net.has_luts else None
    result = Netlist(net.num_inputs, net.ops, new_id[net.a], new_id[net.b], new_id[net.outputs], net.num_classes,
                     encoder, lut_inputs, net.lut_tables)
    result.validate("netlist with its encoder")
    return result


def harden_dwn_file(path, num_classes: int, num_inputs: int | None = None, randperm=None) -> Netlist:
    """A model trained with torch-dwn (Bacellar et al.'s DWN), from its state_dict: per LUTLayer `luts` (out,
    2**n), and `mapping` (out, n) or, learned, `mapping.weights` (inputs, out * n) whose argmax over the
    inputs picks each node input. Node input l is address bit l, and a node outputs 1 where its entry is
    positive (DWN's forward pass), so the netlist computes the model exactly. The state_dict is loaded
    with weights_only: nothing in it runs. A whole pickled model would need torch_dwn importable, and
    torch-dwn builds a CUDA extension when installed, so it does not install on a CPU machine.

    The layers may sit under a prefix (`net.0.luts` of a wrapper, `module.0.luts` of DataParallel). As
    torch-dwn's GroupSum, the last layer's outputs are padded with zeros to a multiple of the classes and
    grouped in order, or first permuted by `randperm` (GroupSum(randperm=...) keeps its permutation
    outside the state_dict: give it as an array)."""
    from .train import load_state

    state = load_state(path, what="torch-dwn state_dict",
                       hint="save it with torch.save(model.state_dict(), path): a whole pickled torch-dwn model needs "
                            "torch_dwn importable, which installs only where CUDA builds")
    layers, prefixes = {}, set()
    for key, value in state.items():
        found = re.fullmatch(r"(.*?)(\d+)\.(luts|mapping|mapping\.weights)", key)
        if found:
            prefixes.add(found[1])
            layers.setdefault(int(found[2]), {})[found[3]] = value
    if not layers or any("luts" not in layer for layer in layers.values()):
        raise HwgenError(f"{path}: not a torch-dwn state_dict (expected <layer>.luts and <layer>.mapping entries)")
    if len(prefixes) > 1:
        raise HwgenError(f"{path}: LUT layers under several prefixes ({', '.join(sorted(prefixes))}): save one model's "
                         "state_dict")
    nodes, base, width = [], 0, None
    for i in sorted(layers):
        layer = layers[i]
        luts = layer["luts"].detach().float()
        out, size = luts.shape
        n = size.bit_length() - 1
        if size != 1 << n or not 1 <= n <= MAX_LUT_INPUTS:
            raise HwgenError(f"{path}: layer {i}'s luts have {size} entries: not 2**n for n in 1..{MAX_LUT_INPUTS}")
        if not torch.isfinite(luts).all():
            raise HwgenError(f"{path}: layer {i}'s luts are not finite (NaN or inf)")
        if "mapping.weights" in layer:
            weights = layer["mapping.weights"]
            if weights.shape[1] != out * n:
                raise HwgenError(f"{path}: layer {i}'s learned mapping scores {weights.shape[1]} inputs, not {out * n}")
            mapping, reads = weights.argmax(0).reshape(out, n), weights.shape[0]
        elif "mapping" in layer:
            mapping = layer["mapping"].long()
            reads = None
            if mapping.shape != (out, n):
                raise HwgenError(f"{path}: layer {i}'s mapping has shape {tuple(mapping.shape)}, not ({out}, {n})")
        else:
            raise HwgenError(f"{path}: layer {i} has luts but no mapping")
        if width is None:  # the first layer: the model's inputs
            width = reads or num_inputs or int(mapping.max()) + 1
            if num_inputs is not None and num_inputs != width:
                raise HwgenError(f"--inputs {num_inputs}, but the model's first layer takes {width} inputs")
            num_inputs = width
        if mapping.min() < 0 or mapping.max() >= width:
            raise HwgenError(f"{path}: layer {i} reads outside the {width} outputs of the layer before")
        bits = (luts > 0).numpy()
        tables = [int.from_bytes(np.packbits(row, bitorder="little").tobytes(), "little") for row in bits]
        nodes += [("lut", tables[o], (mapping[o] + base).tolist()) for o in range(out)]
        base, width = num_inputs + len(nodes) - out, out
    outputs = np.arange(base, base + width)
    if randperm is not None:
        perm = np.asarray(randperm)
        if perm.ndim != 1 or not np.issubdtype(perm.dtype, np.integer) or sorted(perm.tolist()) != list(range(width)):
            raise HwgenError(f"the GroupSum permutation must hold each of 0..{width - 1} once (the last layer's "
                             f"{width} outputs), got {perm.shape} {perm.dtype}")
        outputs = outputs[perm]
    pad = -width % num_classes  # GroupSum pads with zeros to a multiple of the classes
    if pad:
        nodes.append(("lut", 0, [0]))  # a constant 0
        outputs = np.concatenate([outputs, np.full(pad, num_inputs + len(nodes) - 1)])
    net = Netlist.from_nodes(num_inputs, nodes, outputs, num_classes)
    net.validate("hardened torch-dwn model")
    return net
