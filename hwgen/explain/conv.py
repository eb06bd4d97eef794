"""A conv netlist (v3) explained: each kernel read once over its window (kernels.py), then the circuit
behind the kernels. A small circuit is explained whole, flattened, over the image's pixels; a large one
(LUT-tree kernels unroll to hundreds of thousands of nodes, where cut enumeration and pixel-by-pixel
evidence take the better part of an hour) is explained by its head, over the last feature map, whose
evidence is then exactly the per-class channel evidence."""

from ..convnet import ConvNetlist, flatten
from ..files import ensure_dir, write_json, write_npy
from . import explain
from .kernels import channel_evidence, channel_panels_png, explain_kernels

MAX_FLAT_NODES = 50_000  # the unrolled circuit is explained whole up to this many nodes


def feature_map_names(net: ConvNetlist) -> list:
    """m[row,col]cC per bit of the last feature map, in the order the head reads it."""
    h, w, c = net.shapes()[-1]
    return [f"m[{i // c // w},{i // c % w}]c{i % c}" for i in range(h * w * c)]


def explain_conv(net: ConvNetlist, out_dir=None, outputs=None, image_shape=None, data_bits=None,
                 class_names=None, log=print) -> tuple:
    """(kernel records per stage, explain's info) for a conv netlist; data_bits are the samples' input
    bits. Writes kernels.json, explain's files and, with data, channel-evidence.npy/.png into out_dir."""
    kernels = explain_kernels(net)
    flat = flatten(net)
    out = ensure_dir(out_dir) if out_dir else None
    if flat.num_gates <= MAX_FLAT_NODES:
        info = explain(flat, out, outputs=outputs, image_shape=image_shape, guess_image=image_shape is None,
                       class_names=class_names, log=log, data_bits=data_bits)
    else:
        info = explain(net.head, out, outputs=outputs, input_names=feature_map_names(net), guess_image=False,
                       class_names=class_names, log=log)
        info["explained"] = "head"
        info["note_flat"] = (f"the unrolled circuit has {flat.num_gates:,} nodes (more than {MAX_FLAT_NODES:,}): "
                             "its head is explained, over the last feature map")
        if data_bits is not None:  # the head's evidence is the channel evidence below
            info["evidence"] = {"samples": len(data_bits), "over": "the last feature map"}
    maps = channel_evidence(net, data_bits) if data_bits is not None else None
    if out:
        info.setdefault("files", []).append("kernels.json")
        write_json(out / "kernels.json", {"format": "hwgen-kernels", "version": 1, "stages": kernels})
        if maps is not None:  # per class, where in the last feature map each channel's evidence lies
            write_npy(out / "channel-evidence.npy", maps)
            channel_panels_png(maps, out / "channel-evidence.png", class_names)
            info["files"] += ["channel-evidence.npy", "channel-evidence.png"]
        write_json(out / "explain.json", info)
    return kernels, info
