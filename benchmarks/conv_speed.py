"""Training step speed of a logic-tree convolution: hwgen's LogicTreeConv against a plain formulation.

The plain one is what a first implementation would write: unfold the image, gather each channel's taps,
and run every tree level as difflogic's reference gates (all 16 real-valued ops mixed by the softmax),
position by position through the same tensors. Both run an MNIST-sized layer (28 x 28 x 1 input bits, 32
channels, depth-3 trees over 3 x 3 windows, padding 1, OR pooling 2), then a GroupSum over the pooled map;
a step is forward, backward and Adam, on 2 threads, the models alternating in one process. Prints
seconds per step and the ratio, measured in the same run; and, beside them, the same layer with LUT4-tree
kernels (LUTTreeConv: 4 + 1 LUT4 nodes over 16 taps per channel), fixed taps and taps learned among 9.
With --config, also the whole model of a config (conv layers, head, GroupSum) at its batch size, and what
its train.steps take at that speed.

    .venv/bin/python benchmarks/conv_speed.py [--batch 128] [--rounds 5] [--config configs/mnist-conv.yaml]
"""

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from train_speed import reference_ops  # noqa: E402

from hwgen import data as datasets  # noqa: E402
from hwgen.flow import config  # noqa: E402
from hwgen.learn.nn import GroupSum  # noqa: E402
from hwgen.learn.nn.conv import LogicTreeConv, LUTTreeConv  # noqa: E402
from hwgen.learn.nn.logic import build_model  # noqa: E402

SHAPE, CHANNELS, DEPTH = (28, 28, 1), 32, 3
GROUPS = 16  # a GroupSum that divides the 14 x 14 x 32 pooled map


class PlainConv(torch.nn.Module):
    """The same layer with difflogic's 16-op relaxation at every gate."""

    def __init__(self, like: LogicTreeConv):
        super().__init__()
        self.like = like
        self.weights = torch.nn.ParameterList(torch.nn.Parameter(w.detach().clone()) for w in like.weights)

    def forward(self, x):
        like, (h, w, c) = self.like, self.like.in_shape
        images = x.reshape(-1, h, w, c).permute(0, 3, 1, 2)
        patches = torch.nn.functional.unfold(images, like.window, padding=like.padding, stride=like.stride)
        rows = (like.taps % c) * (like.window ** 2) + like.taps // c
        values = patches[:, rows.reshape(-1)].reshape(len(patches), like.channels, -1, patches.shape[-1])
        for weights in self.weights:
            probs = torch.softmax(weights, -1)[None, :, :, None, :]  # (1, C, n, 1, 16)
            a, b = values[:, :, 0::2], values[:, :, 1::2]
            values = sum(probs[..., i] * u for i, u in enumerate(reference_ops(a, b)))
        maps = values.reshape(len(patches), like.channels, *like.conv_shape)
        return torch.nn.functional.max_pool2d(maps, like.pool).permute(0, 2, 3, 1).reshape(len(patches), -1)


def step_seconds(model, x, y, optimizer) -> float:
    start = time.perf_counter()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return time.perf_counter() - start


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--config", help="also time the whole model of this config")
    args = p.parse_args()
    torch.set_num_threads(2)
    conv = LogicTreeConv(SHAPE, CHANNELS, depth=DEPTH, generator=torch.Generator().manual_seed(0))
    luts = {f"lut{c}": LUTTreeConv(SHAPE, CHANNELS, depth=2, candidates=c, generator=torch.Generator().manual_seed(0))
            for c in (1, 9)}
    models = {name: torch.nn.Sequential(layer, GroupSum(GROUPS, 3.0))
              for name, layer in {"hwgen": conv, "plain": PlainConv(conv), **luts}.items()}
    optimizers = {k: torch.optim.Adam(m.parameters(), lr=0.01) for k, m in models.items()}
    x = torch.randint(0, 2, (args.batch, SHAPE[0] * SHAPE[1] * SHAPE[2])).float()
    y = torch.randint(0, 10, (args.batch,))
    inputs = {k: (x, y) for k in models}
    if args.config:
        cfg = config.load(args.config)
        data = datasets.from_config(cfg)
        in_dim, batch = data.image_shape[0] * data.image_shape[1] * cfg["encoding"]["bits"], cfg["train"]["batch_size"]
        models["config"] = build_model(in_dim, data.num_classes, cfg["model"], cfg["seed"], data.image_shape)
        optimizers["config"] = torch.optim.Adam(models["config"].parameters(), lr=0.01)
        inputs["config"] = (torch.randint(0, 2, (batch, in_dim)).float(), torch.randint(0, data.num_classes, (batch,)))
    times = {k: [] for k in models}
    for _ in range(args.rounds + 1):  # the first round warms up
        for k, m in models.items():
            times[k].append(step_seconds(m, *inputs[k], optimizers[k]))
    best = {k: min(v[1:]) for k, v in times.items()}
    for k, s in best.items():
        print(f"{k:6s} {s * 1000:8.1f} ms/step (best of {args.rounds}, batch {args.batch})")
    print(f"speed-up: {best['plain'] / best['hwgen']:.2f}x (lut1: LUT4 trees, fixed taps; lut9: taps learned among 9)")
    if args.config:
        steps = cfg["train"]["steps"] + cfg["train"]["hard_steps"]
        print(f"config: {args.config}, batch {batch}: {steps:,} steps at this speed take "
              f"{steps * best['config'] / 60:.0f} min (evaluations not counted)")


if __name__ == "__main__":
    main()
