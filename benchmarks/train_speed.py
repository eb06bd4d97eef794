"""Training step speed and peak memory: hwgen's LogicLayer against the reference formulation.

The reference is a plain re-implementation of difflogic's pure-PyTorch path: every relaxed gate mixes
all 16 real-valued ops (16 elementwise expressions and 16 intermediates per layer). Both models are
400 -> 6 x 8,000 -> GroupSum(10); a step is forward, backward and Adam, with 2 threads. Time is measured
alternating in one process; peak memory (max RSS above the resident size before the first step) in a fresh
process per model and batch size.

    .venv/bin/python benchmarks/train_speed.py [--batches 100,1000] [--rounds 5]
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwgen.learn.nn import GroupSum, LogicLayer  # noqa: E402

IN_DIM, WIDTH, LAYERS, CLASSES = 400, 8000, 6, 10


def reference_ops(a, b):
    return [torch.zeros_like(a), a * b, a - a * b, a, b - a * b, b, a + b - 2 * a * b, a + b - a * b,
            1 - (a + b - a * b), 1 - (a + b - 2 * a * b), 1 - b, 1 - b + a * b, 1 - a, 1 - a + a * b,
            1 - a * b, torch.ones_like(a)]


class ReferenceLayer(torch.nn.Module):
    def __init__(self, in_dim, out_dim, seed):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.weights = torch.nn.Parameter(torch.randn(out_dim, 16, generator=g))
        self.register_buffer("indices", torch.randint(0, in_dim, (2, out_dim), generator=g))

    def forward(self, x):
        a, b = x[..., self.indices[0]], x[..., self.indices[1]]
        probs = torch.softmax(self.weights, -1)
        out = torch.zeros_like(a)
        for i, u in enumerate(reference_ops(a, b)):
            out = out + probs[..., i] * u
        return out


def model(kind: str):
    widths = [IN_DIM] + [WIDTH] * LAYERS
    if kind == "hwgen":
        layers = [LogicLayer(i, o, generator=torch.Generator().manual_seed(k)) for k, (i, o) in
                  enumerate(zip(widths, widths[1:]))]
    else:
        layers = [ReferenceLayer(i, o, k) for k, (i, o) in enumerate(zip(widths, widths[1:]))]
    return torch.nn.Sequential(*layers, GroupSum(CLASSES, tau=10.0))


def stepper(kind: str, batch: int):
    m = model(kind)
    opt = torch.optim.Adam(m.parameters(), lr=0.01)
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(batch, IN_DIM, generator=g) > 0.5).float()
    y = torch.randint(0, CLASSES, (batch,), generator=g)

    def step():
        loss = torch.nn.functional.cross_entropy(m(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def memory_worker(kind: str, batch: int):
    torch.set_num_threads(2)
    step = stepper(kind, batch)
    with open("/proc/self/statm") as f:  # resident pages now: the model and data, before any step
        before_kb = int(f.read().split()[1]) * resource.getpagesize() / 1024
    for _ in range(2):
        step()
    print(json.dumps({"peak_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_kb) / 1024}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batches", default="100,1000")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--memory-worker", nargs=2)
    args = p.parse_args()
    if args.memory_worker:
        return memory_worker(args.memory_worker[0], int(args.memory_worker[1]))
    batches = [int(b) for b in args.batches.split(",")]
    # Memory first, while this process is small: a child inherits its parent's RSS high-water mark.
    peaks = {}
    for batch in batches:
        for kind in ("reference", "hwgen"):
            out = subprocess.run([sys.executable, __file__, "--memory-worker", kind, str(batch)], capture_output=True,
                                 text=True, check=True)
            peaks[kind, batch] = json.loads(out.stdout.strip().splitlines()[-1])["peak_mb"]
    torch.set_num_threads(2)
    print(f"{IN_DIM} -> {LAYERS} x {WIDTH:,}, 2 threads; step = forward + backward + Adam")
    print("batch   reference s/step   hwgen s/step   speed-up   reference peak MB   hwgen peak MB   memory ratio")
    for batch in batches:
        steps = {kind: stepper(kind, batch) for kind in ("reference", "hwgen")}
        times = {kind: [] for kind in steps}
        for kind in steps:  # warm-up
            steps[kind]()
        for _ in range(args.rounds):  # alternate, so both see the same machine state
            for kind, step in steps.items():
                start = time.perf_counter()
                step()
                times[kind].append(time.perf_counter() - start)
        del steps
        peak = {kind: peaks[kind, batch] for kind in ("reference", "hwgen")}
        ref, ours = sorted(times["reference"])[len(times["reference"]) // 2], sorted(times["hwgen"])[len(times["hwgen"]) // 2]
        print(f"{batch:5d} {ref:18.3f} {ours:14.3f} {ref / ours:9.1f}x {peak['reference']:19.0f} "
              f"{peak['hwgen']:15.0f} {peak['hwgen'] / peak['reference']:13.2f}")


if __name__ == "__main__":
    main()
