"""Trained torch model -> Netlist: each neuron becomes the gate of its largest weight."""

import numpy as np
import torch

from .errors import HwgenError
from .netlist import Netlist


def harden_model(model: torch.nn.Sequential, num_inputs: int, encoder=None) -> Netlist:
    """Works on any Sequential of layers ending in a group sum with `k` classes. A gate layer has `weights`
    (out, 16) and `indices` (a pair of index tensors): hwgen's and difflogic's alike; each neuron becomes
    the gate of its largest weight. A LUTLayer's nodes become LUT nodes with their hardened tables."""
    *layers, group_sum = list(model)
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
    return harden_model(model, ckpt["arch"]["in_dim"], encoder)


def harden_difflogic_file(path, num_inputs: int | None = None) -> Netlist:
    """A whole model saved by difflogic users with torch.save(model): a Sequential of difflogic LogicLayers
    and a GroupSum. difflogic keeps the wiring as plain attributes, outside state_dict, so only the pickled
    model holds it; unpickling needs difflogic's classes importable here."""
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
    if not isinstance(model, torch.nn.Sequential) or len(model) < 2:
        raise HwgenError(f"{path}: expected a torch.nn.Sequential of LogicLayers ending in a GroupSum")
    if num_inputs is None:
        num_inputs = getattr(model[0], "in_dim", None)
        if num_inputs is None:
            raise HwgenError(f"{path}: the first layer has no in_dim; give the input count with --inputs")
    return harden_model(model, int(num_inputs))
