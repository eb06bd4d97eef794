"""A conv netlist's kernels read one at a time: a kernel is the natural unit to read, small (a window of
at most window * window * channels bits) and shared by every position.

For every output channel of a stage: the window places it depends on (tap dy,dx and input channel), the
symmetry and counting record of explain's outputs over them (docs/explain-format.md), and how many of the
patterns over those places turn it on; for the first stage, which reads the image, a picture of the
window: each place marked by how it pushes the channel (+: setting that bit turns the channel on in more
of the patterns, -: in fewer)."""

import numpy as np

from ..convnet import ConvNetlist
from . import symmetry

MAX_EXACT = 16  # places over which every pattern is enumerated


def _support(kernel, channel: int) -> list:
    reached = kernel.reached(kernel.outputs[[channel]], functional=True)
    return [i for i in range(kernel.num_inputs) if reached[i]]


def explain_kernels(net: ConvNetlist) -> list:
    """Per stage, per output channel, a record (see the module docstring)."""
    stages = []
    for k, stage in enumerate(net.stages):
        channels_in = stage.in_channels
        names = [f"({i // channels_in // stage.window},{i // channels_in % stage.window})c{i % channels_in}"
                 for i in range(stage.kernel.num_inputs)]
        records = []
        for channel in range(stage.channels):
            support = _support(stage.kernel, channel)
            record = {"channel": channel, **symmetry.analyse(stage.kernel, channel, support, names)}
            if support and len(support) <= MAX_EXACT:
                table = symmetry.truth_table(stage.kernel, channel, support)
                record["on_patterns"] = int(table.sum())
                record["patterns"] = int(table.size)
                if k == 0:
                    record["window"] = _window_picture(table, support, stage.window, channels_in)
            records.append(record)
        stages.append({"stage": k, "window": stage.window, "in_channels": channels_in, "channels": records})
    return stages


def channel_evidence(net: ConvNetlist, bits: np.ndarray) -> np.ndarray:
    """(classes, H, W, C) float64: per class, where in the last feature map (before the head) each channel's
    evidence lies: the exact evidence (evidence.py) of the head's inputs over the samples' feature maps, the
    map's position (row, column) and channel laid out as the head reads them."""
    from ..golden.conv import conv_features
    from .evidence import evidence

    h, w, c = net.shapes()[-1]
    return evidence(net.head, conv_features(net, bits)).reshape(net.num_classes, h, w, c)


def channel_panels_png(maps: np.ndarray, path, class_names=None):
    """One row per class, one panel per channel: blue where the channel's bit being on adds to the class's
    score, red where it takes away, on one scale."""
    from ..flow.report_html import pyplot

    plt = pyplot()
    classes, _, _, channels = maps.shape
    fig, axes = plt.subplots(classes, channels, figsize=(1.1 * channels + 0.8, 1.1 * classes), squeeze=False)
    scale = float(np.abs(maps).max()) or 1.0
    for k in range(classes):
        for ch in range(channels):
            ax = axes[k, ch]
            ax.imshow(maps[k, :, :, ch], cmap="RdBu", vmin=-scale, vmax=scale)
            ax.set_xticks([])
            ax.set_yticks([])
            if k == 0:
                ax.set_title(f"ch {ch}", fontsize=7)
        axes[k, 0].set_ylabel(class_names[k] if class_names else f"class {k}", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _window_picture(table: np.ndarray, support: list, window: int, channels: int) -> list:
    """Rows of the window, a character per place and input channel: '+' where setting that bit turns the
    channel on in more of the patterns than clearing it does, '-' where fewer, '=' where as many, '.'
    where the kernel does not read it."""
    marks = {}
    for j, place in enumerate(support):
        on, off = np.take(table, 1, axis=j).sum(), np.take(table, 0, axis=j).sum()
        marks[place] = "+" if on > off else "-" if on < off else "="
    return ["".join("".join(marks.get((dy * window + dx) * channels + c, ".") for c in range(channels))
                    + " " for dx in range(window)).rstrip() for dy in range(window)]


def kernel_lines(stages: list) -> list:
    """A line per first-stage channel, for the command line."""
    lines = []
    for record in stages[0]["channels"] if stages else []:
        name = "constant" if "constant" in record else (
            f"symmetric in {len(record['symmetric_in'])}" if len(record.get("symmetric_in", [])) > 1 else "")
        on = f"on for {record['on_patterns']} of {record['patterns']} patterns" if "patterns" in record else ""
        window = " | ".join(record.get("window", []))
        lines.append(f"kernel 0 channel {record['channel']}: reads {len(record['inputs'])} places [{window}]"
                     + (f", {name}" if name else "") + (f", {on}" if on else ""))
    return lines

