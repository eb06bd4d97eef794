"""LogicLayer and GroupSum.

Every relaxed 2-input gate is c0 + c1*a + c2*b + c3*a*b with (c0..c3) linear in the softmax over the 16
ops, so a layer costs a few elementwise ops per gate instead of difflogic's 16, in one autograd function
over feature-major tensors. In eval mode the softmax becomes a one-hot argmax, which computes the hardened
gates exactly on 0/1 inputs.
"""

import ctypes
import functools
from pathlib import Path

import torch
from torch import nn

from .. import ops

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


def local_wiring(positions: torch.Tensor, image_shape, out_dim: int, window: int, generator: torch.Generator):
    """Locally connected wiring on the image grid. Every node of the layer before has a position
    (`positions`, (in_dim, 2)); each new gate gets a random centre and reads two nodes placed in the
    window x window patch around it (a random node where a pixel holds none). Returns the wiring
    (2, out_dim) and the new gates' positions (out_dim, 2)."""
    h, w = image_shape
    r = window // 2
    cell = positions[:, 0] * w + positions[:, 1]
    order = torch.argsort(cell, stable=True)
    counts = torch.bincount(cell, minlength=h * w)
    starts = torch.cumsum(counts, 0) - counts
    centre = torch.stack([torch.randint(0, h, (out_dim,), generator=generator),
                          torch.randint(0, w, (out_dim,), generator=generator)], dim=1)
    pairs = []
    for _ in range(2):
        y = (centre[:, 0] + torch.randint(-r, r + 1, (out_dim,), generator=generator)).clamp(0, h - 1)
        x = (centre[:, 1] + torch.randint(-r, r + 1, (out_dim,), generator=generator)).clamp(0, w - 1)
        c = y * w + x
        pick = (torch.rand(out_dim, generator=generator) * counts[c].clamp(min=1)).long()
        anywhere = torch.randint(0, len(cell), (out_dim,), generator=generator)
        pairs.append(torch.where(counts[c] > 0, order[starts[c] + pick], anywhere))
    return torch.stack(pairs), centre


class LogicLayer(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, device=None, grad_factor: float = 1.0, implementation=None,
                 connections: str = "random", init: str = "random", residual_bias: float = 5.0,
                 generator: torch.Generator | None = None, wiring: torch.Tensor | None = None):
        super().__init__()
        if connections != "random":
            raise ValueError(f"connections must be 'random', got {connections!r}")
        self.in_dim, self.out_dim, self.grad_factor = in_dim, out_dim, grad_factor
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
        weights = torch.randn(out_dim, 16, generator=generator)
        if init == "residual":
            weights[:, ops.A] = residual_bias  # start as pass-through wires: deep stacks train from the first step
        self.weights = nn.Parameter(weights.to(device))
        # The wiring is state, not a seed: saved in state_dict and moved by .to().
        if wiring is None:
            wiring = random_wiring(in_dim, out_dim, generator)
        self.register_buffer("indices", wiring.to(device))

    def coefficients(self) -> torch.Tensor:
        if self.training:
            probs = torch.softmax(self.weights, dim=-1)
        else:
            probs = nn.functional.one_hot(self.weights.argmax(-1), 16).to(self.weights.dtype)
        return probs @ OP_BASIS.to(self.weights.device, self.weights.dtype)

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
        kernel = _cpu_kernel(x)
        if kernel:
            if len(ia) and (min(ia.min(), ib.min()) < 0 or max(ia.max(), ib.max()) >= x.shape[0]):
                raise IndexError(f"LogicLayer wiring reads outside its {x.shape[0]} inputs")  # the C code reads raw memory
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
        kernel = _cpu_kernel(x)
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


@functools.cache
def _gates_library():
    """gates_kernel.c, built and loaded once per process; None where it cannot be built."""
    from ..kernel import compile_library

    lib = compile_library(Path(__file__).with_name("gates_kernel.c"), ("-fopenmp",))
    if lib is not None:
        pointer = ctypes.c_void_p
        lib.hwgen_gates_forward.argtypes = [pointer, ctypes.c_int64, pointer, pointer, pointer, ctypes.c_int64,
                                            pointer, ctypes.c_int]
        lib.hwgen_gates_backward.argtypes = [pointer, ctypes.c_int64, pointer, pointer, pointer, ctypes.c_int64,
                                             pointer, pointer, pointer, pointer, ctypes.c_int]
    return lib


def _cpu_kernel(x: torch.Tensor):
    """The C kernel for a contiguous float32 CPU tensor, else None."""
    if x.device.type != "cpu" or x.dtype != torch.float32 or not x.is_contiguous():
        return None
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


def build_model(in_dim: int, num_classes: int, model_cfg: dict, seed: int, image_shape=None) -> nn.Sequential:
    """The model of a config. With `local_window` on an image data set, the first layer (`local_layers:
    first`) or every layer (`all`) is locally connected; the rest is wired at random. Local wiring in every
    layer costs some accuracy but keeps the circuit's wires short, which is what lets big ones route on an
    FPGA. The wiring is state: a checkpoint restores it, whatever the seed."""
    generator = torch.Generator().manual_seed(seed)
    layers, width = [], in_dim
    local = bool(model_cfg.get("local_window")) and image_shape is not None
    positions = pixel_positions(in_dim, image_shape) if local else None
    for i, out_dim in enumerate(model_cfg["layers"]):
        wiring = None
        if local and (i == 0 or model_cfg.get("local_layers") == "all"):
            wiring, positions = local_wiring(positions, image_shape, out_dim, model_cfg["local_window"], generator)
        layers.append(LogicLayer(width, out_dim, init=model_cfg["init"], residual_bias=model_cfg["residual_bias"],
                                 generator=generator, wiring=wiring))
        width = out_dim
    layers.append(GroupSum(num_classes, model_cfg["tau"]))
    return nn.Sequential(*layers)
