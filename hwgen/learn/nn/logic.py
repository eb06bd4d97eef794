"""LogicLayer and GroupSum.

Every relaxed 2-input gate is c0 + c1*a + c2*b + c3*a*b with (c0..c3) linear in the softmax over the 16
ops, so a layer costs a few elementwise ops per gate instead of difflogic's 16, in one autograd function
over feature-major tensors. In eval mode the softmax becomes a one-hot argmax, which computes the hardened
gates exactly on 0/1 inputs.
"""

import contextlib
import ctypes
from pathlib import Path

import torch
from torch import nn

from ... import ops
from ...errors import HwgenError, warn_once

# (16, 4): row op holds (c0, c1, c2, c3) of that op's multilinear form.
OP_BASIS = torch.tensor([ops.multilinear(op) for op in range(16)], dtype=torch.float32)


def random_wiring(in_dim: int, out_dim: int, generator: torch.Generator) -> torch.Tensor:
    """difflogic's 'random' connections: every input is read when 2*out_dim >= in_dim. Shape (2, out_dim)."""
    c = torch.randperm(2 * out_dim, generator=generator) % in_dim
    c = torch.randperm(in_dim, generator=generator)[c]
    return c.reshape(2, out_dim)


def pixel_positions(in_dim: int, image_shape) -> torch.Tensor:
    """(row, column) of every input bit, laid out pixel-major (bits_per_pixel bits per pixel, row-major)."""
    h, w = image_shape
    pixel = torch.arange(in_dim) // (in_dim // (h * w))
    return torch.stack([pixel // w, pixel % w], dim=1)


def local_wiring(positions: torch.Tensor, image_shape, out_dim: int, window: int, generator: torch.Generator,
                 reads: int = 2):
    """Locally connected wiring on the image grid. Every node of the layer before has a position
    (`positions`, (in_dim, 2)); each new gate gets a random centre and reads `reads` nodes placed in the
    window x window patch around it (a random node where a pixel holds none). Returns the wiring
    (reads, out_dim) and the new gates' positions (out_dim, 2)."""
    h, w = image_shape
    r = window // 2
    cell = positions[:, 0] * w + positions[:, 1]
    order = torch.argsort(cell, stable=True)
    counts = torch.bincount(cell, minlength=h * w)
    starts = torch.cumsum(counts, 0) - counts
    centre = torch.stack([torch.randint(0, h, (out_dim,), generator=generator),
                          torch.randint(0, w, (out_dim,), generator=generator)], dim=1)
    pairs = []
    for _ in range(reads):
        y = (centre[:, 0] + torch.randint(-r, r + 1, (out_dim,), generator=generator)).clamp(0, h - 1)
        x = (centre[:, 1] + torch.randint(-r, r + 1, (out_dim,), generator=generator)).clamp(0, w - 1)
        c = y * w + x
        pick = (torch.rand(out_dim, generator=generator) * counts[c].clamp(min=1)).long()
        anywhere = torch.randint(0, len(cell), (out_dim,), generator=generator)
        # an empty cell's start can lie past the end (cells after the last node): clamped, then not taken
        held = order[(starts[c] + pick).clamp(max=len(cell) - 1)]
        pairs.append(torch.where(counts[c] > 0, held, anywhere))
    return torch.stack(pairs), centre


def initial_gate_weights(out_dim: int, init: str, residual_bias: float, generator: torch.Generator) -> torch.Tensor:
    """(out_dim, 16) gate weights: difflogic's N(0, 1), or with `residual` biased towards the pass-through
    gate A, so deep stacks start as wires and train from the first step."""
    weights = torch.randn(out_dim, 16, generator=generator)
    if init == "residual":
        weights[:, ops.A] = residual_bias
    return weights


def _require_reads_inside(indices: torch.Tensor, rows: int, what: str):
    """The C kernels read raw memory: every index they are given must name one of the `rows` inputs."""
    if indices.numel() and (indices.min() < 0 or indices.max() >= rows):
        raise IndexError(f"{what} reads outside its {rows} inputs")


class LogicLayer(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, device=None, grad_factor: float = 1.0, implementation=None,
                 connections: str = "random", init: str = "random", residual_bias: float = 5.0,
                 generator: torch.Generator | None = None, wiring: torch.Tensor | None = None):
        super().__init__()
        if connections != "random":
            raise ValueError(f"connections must be 'random', got {connections!r}")
        self.in_dim, self.out_dim, self.grad_factor = in_dim, out_dim, grad_factor
        self.straight_through = False
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
        self.weights = nn.Parameter(initial_gate_weights(out_dim, init, residual_bias, generator).to(device))
        # The wiring is state, not a seed: saved in state_dict and moved by .to().
        if wiring is None:
            wiring = random_wiring(in_dim, out_dim, generator)
        self.register_buffer("indices", wiring.to(device))

    def coefficients(self) -> torch.Tensor:
        return _coefficients(self.weights, self.training, self.straight_through)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, in_dim) -> (batch, out_dim). The result is stored feature-major (its transpose is
        contiguous), which the next LogicLayer and GroupSum read without a copy."""
        leading = x.shape[:-1]
        x = x.reshape(-1, x.shape[-1])
        factor = self.grad_factor if self.training else 1.0
        y = _RelaxedGates.apply(x.t().contiguous(), self.coefficients(), self.indices, factor).t()
        return y.reshape(*leading, self.out_dim) if len(leading) != 1 else y

    def extra_repr(self):
        return f"{self.in_dim}, {self.out_dim}"


def _choice(logits: torch.Tensor, training: bool, straight_through: bool = False) -> torch.Tensor:
    """Softmax over the last dimension while training; the one-hot argmax (the hardened choice) in eval.
    Straight-through: the one-hot argmax forward, with the softmax's gradient backward."""
    if training and not straight_through:
        return torch.softmax(logits, dim=-1)
    hard = nn.functional.one_hot(logits.argmax(-1), logits.shape[-1]).to(logits.dtype)
    if not training:
        return hard
    soft = torch.softmax(logits, dim=-1)
    return hard - soft.detach() + soft


def _coefficients(weights: torch.Tensor, training: bool, straight_through: bool = False) -> torch.Tensor:
    """(out, 16) gate weights -> (out, 4): c0..c3 of each gate's relaxed (or, in eval, hardened) op."""
    return _choice(weights, training, straight_through) @ OP_BASIS.to(weights.device, weights.dtype)


@contextlib.contextmanager
def straight_through(model: nn.Module, enabled: bool = True):
    """Within this block, training-mode forward passes compute the hardened network (every gate and wire
    its argmax choice) while gradients flow through the softmax: training on the circuit that will be
    built, which closes the gap between the relaxed and the hardened accuracy."""
    layers = [m for m in model.modules() if hasattr(m, "straight_through")]
    before = [m.straight_through for m in layers]
    for m in layers:
        m.straight_through = enabled
    try:
        yield model
    finally:
        for m, b in zip(layers, before):
            m.straight_through = b


class LearnedWiringLayer(nn.Module):
    """A logic layer whose gates also learn what they read: each of a gate's two inputs chooses among
    `candidates` nodes of the layer before (Mommen et al. 2025, "A Method for Optimizing Connections in
    Differentiable Logic Gate Networks"). While training an input is the softmax-weighted mix of its
    candidates; in eval mode, and once hardened, it is the candidate of the largest weight. `indices`
    gives that hardened wiring, so the layer hardens like a LogicLayer."""

    def __init__(self, in_dim: int, out_dim: int, candidates: torch.Tensor, init: str = "random",
                 residual_bias: float = 5.0, generator: torch.Generator | None = None):
        super().__init__()
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
        if candidates.shape[:2] != (2, out_dim):
            raise ValueError(f"candidates must have shape (2, {out_dim}, C), got {tuple(candidates.shape)}")
        self.in_dim, self.out_dim = in_dim, out_dim
        self.straight_through = False
        self.weights = nn.Parameter(initial_gate_weights(out_dim, init, residual_bias, generator))
        self.connection_weights = nn.Parameter(torch.randn(candidates.shape, generator=generator))
        self.register_buffer("candidates", candidates.to(torch.int64))
        # The relaxed gates read the mixed inputs stacked as [a; b]: gate g reads rows g and out_dim + g.
        self.register_buffer("_stacked", torch.arange(2 * out_dim).reshape(2, out_dim), persistent=False)

    @property
    def indices(self) -> torch.Tensor:
        """The hardened wiring (2, out_dim): each input's candidate of the largest weight."""
        return self.candidates.gather(-1, self.connection_weights.argmax(-1, keepdim=True)).squeeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(-1, self.in_dim)
        coefficients = _coefficients(self.weights, self.training, self.straight_through)
        if self.training:
            choices = self.candidates.shape[-1]
            weights = _choice(self.connection_weights, True, self.straight_through)
            mixed = _MixedInputs.apply(x.t().contiguous(), self.candidates.reshape(-1, choices),
                                       weights.reshape(-1, choices))
            return _RelaxedGates.apply(mixed, coefficients, self._stacked, 1.0).t()
        return _RelaxedGates.apply(x.t().contiguous(), coefficients, self.indices, 1.0).t()

    def extra_repr(self):
        return f"{self.in_dim}, {self.out_dim}, candidates={self.candidates.shape[-1]}"


class _RelaxedGates(torch.autograd.Function):
    """y = c0 + c1*a + c2*b + c3*a*b on feature-major tensors (a, b: rows of x gathered by the wiring).

    Feature-major, a gather or a scatter moves whole rows of `batch` contiguous numbers. Only x (the
    layer before's output, kept anyway) is saved; a and b are read again in backward instead of being
    kept, so no per-gate intermediate outlives the forward pass. On the CPU the C kernel does each
    direction in one pass over the data (gates_kernel.c); elsewhere (CUDA) torch's ops do the same."""

    @staticmethod
    def forward(ctx, x, coefficients, indices, grad_factor):
        ia, ib = indices[0].to(torch.int64).contiguous(), indices[1].to(torch.int64).contiguous()
        coefficients = coefficients.contiguous()
        ctx.save_for_backward(x, coefficients, ia, ib)
        ctx.grad_factor = grad_factor
        kernel = _cpu_kernel(x, coefficients)
        if kernel:
            _require_reads_inside(ia, x.shape[0], "LogicLayer wiring")
            _require_reads_inside(ib, x.shape[0], "LogicLayer wiring")
            y = x.new_empty(len(ia), x.shape[1])
            kernel.hwgen_gates_forward(x.data_ptr(), x.shape[1], ia.data_ptr(), ib.data_ptr(),
                                       coefficients.data_ptr(), len(ia), y.data_ptr(), torch.get_num_threads())
            return y
        a, b = x.index_select(0, ia), x.index_select(0, ib)
        c0, c1, c2, c3 = coefficients.unsqueeze(-1).unbind(-2)
        return torch.addcmul(torch.addcmul(c0, c2, b), a, torch.addcmul(c1, c3, b))

    @staticmethod
    def backward(ctx, grad):
        x, coefficients, ia, ib = ctx.saved_tensors
        kernel = _cpu_kernel(x, coefficients, grad)
        if kernel:
            grad = grad.contiguous()
            grad_coefficients = grad.new_empty(len(ia), 4)
            grad_a, grad_b = torch.empty_like(grad), torch.empty_like(grad)
            kernel.hwgen_gates_backward(x.data_ptr(), x.shape[1], ia.data_ptr(), ib.data_ptr(),
                                        coefficients.data_ptr(), len(ia), grad.data_ptr(),
                                        grad_coefficients.data_ptr(), grad_a.data_ptr(), grad_b.data_ptr(),
                                        torch.get_num_threads())
        else:
            a, b = x.index_select(0, ia), x.index_select(0, ib)
            c0, c1, c2, c3 = coefficients.unsqueeze(-1).unbind(-2)
            ga = grad * a
            grad_coefficients = torch.stack([grad.sum(1), ga.sum(1), (grad * b).sum(1), (ga * b).sum(1)], -1)
            grad_a = torch.addcmul(c1, c3, b).mul_(grad)  # dy/da = c1 + c3*b
            grad_b = torch.addcmul(c2, c3, a).mul_(grad)  # dy/db = c2 + c3*a
        grad_x = None
        if ctx.needs_input_grad[0]:
            if ctx.grad_factor != 1.0:
                grad_a, grad_b = grad_a * ctx.grad_factor, grad_b * ctx.grad_factor
            grad_x = torch.zeros_like(x)
            grad_x.index_add_(0, ia, grad_a)
            grad_x.index_add_(0, ib, grad_b)
        return grad_x, grad_coefficients, None, None


class _MixedInputs(torch.autograd.Function):
    """m[r] = sum_j p[r, j] * x[candidates[r, j]] on feature-major tensors: each gate input's softmax mix of
    its candidates. Only x and p are kept for backward; the C kernel reads the candidate rows again."""

    @staticmethod
    def forward(ctx, x, candidates, p):
        candidates, p = candidates.contiguous(), p.contiguous()
        ctx.save_for_backward(x, candidates, p)
        kernel = _cpu_kernel(x, p)
        if kernel:
            _require_reads_inside(candidates, x.shape[0], "learned wiring")
            m = x.new_empty(candidates.shape[0], x.shape[1])
            kernel.hwgen_mix_forward(x.data_ptr(), x.shape[1], candidates.data_ptr(), p.data_ptr(),
                                     candidates.shape[0], candidates.shape[1], m.data_ptr(), torch.get_num_threads())
            return m
        picks = x.index_select(0, candidates.reshape(-1)).view(*candidates.shape, -1)
        return (picks * p.unsqueeze(-1)).sum(1)

    @staticmethod
    def backward(ctx, grad):
        x, candidates, p = ctx.saved_tensors
        grad = grad.contiguous()
        kernel = _cpu_kernel(x, p, grad)
        if kernel:
            grad_p, grad_x = torch.empty_like(p), torch.zeros_like(x)
            kernel.hwgen_mix_backward(x.data_ptr(), x.shape[1], candidates.data_ptr(), p.data_ptr(),
                                      candidates.shape[0], candidates.shape[1], grad.data_ptr(), grad_p.data_ptr(),
                                      grad_x.data_ptr(), torch.get_num_threads())
            return grad_x, None, grad_p
        picks = x.index_select(0, candidates.reshape(-1)).view(*candidates.shape, -1)
        grad_p = (picks * grad.unsqueeze(1)).sum(-1)
        grad_x = torch.zeros_like(x).index_add_(0, candidates.reshape(-1),
                                                (p.unsqueeze(-1) * grad.unsqueeze(1)).reshape(-1, x.shape[1]))
        return grad_x, None, grad_p


def _gates_library():
    """gates_kernel.c, or None where it cannot be built (training then runs on torch's ops, and says so)."""
    from ...native import FLOAT_FLAGS, load_library

    p, i64, i32 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int
    try:
        return load_library(Path(__file__).with_name("gates_kernel.c"), {
            "hwgen_gates_forward": ([p, i64, p, p, p, i64, p, i32], None),
            "hwgen_gates_backward": ([p, i64, p, p, p, i64, p, p, p, p, i32], None),
            "hwgen_mix_forward": ([p, i64, p, p, i64, i64, p, i32], None),
            "hwgen_mix_backward": ([p, i64, p, p, i64, i64, p, p, p, i32], None)}, FLOAT_FLAGS)
    except HwgenError as e:
        warn_once(f"{e}; training runs on torch's ops instead, 10 to 30 times slower")
        return None


def _cpu_kernel(*tensors: torch.Tensor):
    """The C kernel when the tensors are on the CPU, else None (torch's ops). It computes in float32 only."""
    if tensors[0].device.type != "cpu":
        return None
    for t in tensors:
        if t.dtype != torch.float32:
            raise TypeError(f"hwgen's logic layers compute in float32, got {t.dtype} (do not call .double() or "
                            ".half() on the model)")
    return _gates_library()


class GroupSum(nn.Module):
    """Splits the last dimension into k contiguous groups and sums each, divided by tau."""

    def __init__(self, k: int, tau: float = 1.0, device=None):
        super().__init__()
        self.k, self.tau = k, tau

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % self.k:
            raise ValueError(f"GroupSum: {x.shape[-1]} inputs do not split into {self.k} groups")
        if x.dim() == 2 and x.t().is_contiguous():  # a LogicLayer's feature-major output: sum without a copy
            return x.t().reshape(self.k, -1, x.shape[0]).sum(1).t() / self.tau
        return x.reshape(*x.shape[:-1], self.k, x.shape[-1] // self.k).sum(-1) / self.tau


def layer_windows(model_cfg: dict) -> list:
    """The local window of each layer (0: wired at random): `local_window` as a list of one per layer, or
    one window for the first layer (`local_layers: first`) or for all of them (`all`)."""
    window, count = model_cfg.get("local_window", 0), len(model_cfg["layers"])
    if isinstance(window, list):
        return list(window)
    rest = window if model_cfg.get("local_layers") == "all" else 0
    return [window] + [rest] * (count - 1)


def build_model(in_dim: int, num_classes: int, model_cfg: dict, seed: int, image_shape=None) -> nn.Sequential:
    """The model of a config. With `local_window` on an image data set, the first layer (`local_layers:
    first`) or every layer (`all`) is locally connected, or with a list, layer i in a patch of window[i]
    (0: at random); the rest is wired at random. Local wiring in every
    layer costs some accuracy but keeps the circuit's wires short, which is what lets big ones route on an
    FPGA. With `candidates` > 1 every gate input learns which of that many nodes to read. With `conv`, a
    stack of tree conv layers (conv.py) reads the image first and the dense layers read its last feature map.
    The wiring is state: a checkpoint restores it, whatever the seed."""
    generator = torch.Generator().manual_seed(seed)
    convs = conv_layers(in_dim, model_cfg, image_shape, generator)
    if convs:  # the dense layers read the last feature map, position-major
        in_dim, image_shape = convs[-1].out_dim, convs[-1].out_shape[:2]
    dense = _dense_layers(in_dim, num_classes, model_cfg, generator, image_shape)
    return nn.Sequential(*convs, *dense)


def conv_layers(in_dim: int, model_cfg: dict, image_shape, generator: torch.Generator) -> list:
    """The tree conv stack of `model.conv` over the input image (in_dim bits, image_shape pixels)."""
    from .conv import LogicTreeConv, LUTTreeConv

    if not model_cfg.get("conv"):
        return []
    h, w = image_shape
    shape, layers = (h, w, in_dim // (h * w)), []
    for spec in model_cfg["conv"]:
        spec = dict(spec)
        if spec.pop("node", "gate") == "lut":
            layers.append(LUTTreeConv(shape, **spec, generator=generator))
        else:  # two-input gates over fixed taps: no k, no candidates
            spec = {key: value for key, value in spec.items() if key not in ("k", "candidates")}
            layers.append(LogicTreeConv(shape, **spec, residual_bias=model_cfg["residual_bias"], generator=generator))
        shape = layers[-1].out_shape
    return layers


def _dense_layers(in_dim: int, num_classes: int, model_cfg: dict, generator: torch.Generator, image_shape) -> list:
    layers, width = [], in_dim
    windows = layer_windows(model_cfg)
    local = any(windows) and image_shape is not None
    positions = pixel_positions(in_dim, image_shape) if local else None
    candidates = model_cfg.get("candidates", 1)
    if model_cfg.get("node", "gate") == "lut":
        from .lut import LUTLayer

        k, learned_layers = model_cfg["k"], model_cfg.get("learned_mapping", "first")
        for i, out_dim in enumerate(model_cfg["layers"]):
            learned = learned_layers == "all" or (learned_layers == "first" and i == 0)
            choices = candidates if learned and candidates > 1 else 1
            wiring = None
            if local and windows[i]:
                wiring, positions = local_wiring(positions, image_shape, out_dim, windows[i], generator,
                                                 reads=k * choices)
            elif choices > 1:
                wiring = torch.randint(0, width, (k * choices, out_dim), generator=generator)
            if wiring is not None and learned:
                wiring = wiring.reshape(choices, k, out_dim).permute(1, 2, 0)
            layers.append(LUTLayer(width, out_dim, k, wiring=wiring, learned=learned, generator=generator))
            width = out_dim
        return [*layers, GroupSum(num_classes, model_cfg["tau"])]
    for i, out_dim in enumerate(model_cfg["layers"]):
        init = {"init": model_cfg["init"], "residual_bias": model_cfg["residual_bias"], "generator": generator}
        wiring = None
        if local and windows[i]:
            wiring, positions = local_wiring(positions, image_shape, out_dim, windows[i], generator,
                                             reads=2 * candidates)
        if candidates > 1:
            if wiring is None:
                wiring = torch.cat([random_wiring(width, out_dim, generator) for _ in range(candidates)])
            layers.append(LearnedWiringLayer(width, out_dim, wiring.reshape(candidates, 2, out_dim).permute(1, 2, 0),
                                             **init))
        else:
            layers.append(LogicLayer(width, out_dim, wiring=wiring, **init))
        width = out_dim
    layers.append(GroupSum(num_classes, model_cfg["tau"]))
    return layers
