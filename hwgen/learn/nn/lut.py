"""LUTLayer: nodes that are learned k-input lookup tables (1 <= k <= MAX_LUT_INPUTS), trained as in DWN (Bacellar et
al., "Differentiable Weightless Neural Networks", ICML 2024).

The forward pass is the hardened network itself: a node reads its k input bits as an address and outputs
1 where its table entry (a real number in [-1, 1]) is positive, so training and eval mode compute the
same thing and hardening loses nothing. The backward pass gives the table entry at the address the
output gradient (straight through the step), and each input its extended finite difference: how the
entries differ across that input's bit, weighted down by how far the other address bits are. A node's
inputs are a fixed wiring (random, or local on the image), or learned (DWN's learnable mapping): every
input of every node scores all nodes of the layer before, reads the best-scoring one, and the scores
learn from the correlation of each candidate (as +-1) with that input's gradient.

On the CPU a C kernel (lut_kernel.c) does the forward pass in one pass and sums each input's gradient
straight from the nodes' (never holding the k x out x batch gradients of the node inputs, unless the mapping
is learned); elsewhere (CUDA) torch's ops do the same, and a test checks the two against each other.
"""

import ctypes
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ...errors import HwgenError, warn_once
from ...netlist import MAX_LUT_INPUTS

MAX_K = MAX_LUT_INPUTS  # lut_kernel.c's MAX_K is the same


def efd_weights(k: int) -> tuple[float, float]:
    """DWN's alpha and beta for k inputs."""
    return 0.5 * 0.75 ** (k - 1), 0.25 / 0.75


class LUTLayer(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, k: int = 6, wiring: torch.Tensor | None = None,
                 learned: bool = False, generator: torch.Generator | None = None):
        """wiring: (k, out_dim) fixed inputs, or with `learned` (k, out_dim, C) candidates that each input
        chooses from; learned without wiring: every node of the layer before is a candidate."""
        super().__init__()
        if not 1 <= k <= MAX_K:
            raise ValueError(f"k must be in 1..{MAX_K}, got {k}")
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
        self.in_dim, self.out_dim, self.k = in_dim, out_dim, k
        self.straight_through = False  # the forward pass is always the hardened one
        self.tables = nn.Parameter(torch.rand(out_dim, 1 << k, generator=generator) * 2 - 1)
        if wiring is None:
            wiring = torch.arange(in_dim).expand(k, out_dim, in_dim) if learned else \
                torch.randint(0, in_dim, (k, out_dim), generator=generator)
        want = (k, out_dim, wiring.shape[-1]) if learned else (k, out_dim)
        if wiring.shape != want:
            raise ValueError(f"wiring must have shape {want}, got {tuple(wiring.shape)}")
        self.register_buffer("wiring", wiring.to(torch.int64).contiguous())
        # each learned input's score for each of its candidates
        self.mapping = nn.Parameter(torch.rand(wiring.shape, generator=generator)) if learned else None

    @property
    def indices(self) -> torch.Tensor:
        """(k, out_dim): input j of node o reads node indices[j, o] of the layer before."""
        if self.mapping is None:
            return self.wiring
        return self.wiring.gather(-1, self.mapping.argmax(-1, keepdim=True)).squeeze(-1)

    def hard_tables(self) -> list:
        """The nodes' truth tables as integers: bit a is the node's output at address a."""
        bits = (self.tables.detach() > 0).cpu().numpy()
        packed = np.packbits(bits, axis=1, bitorder="little")
        return [int.from_bytes(row.tobytes(), "little") for row in packed]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, in_dim) bits -> (batch, out_dim) bits, stored feature-major like LogicLayer's output."""
        return self.features(x.reshape(-1, self.in_dim).t().contiguous()).t()

    def features(self, x: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """Feature-major (in_dim, batch) bits -> (out_dim, batch) bits. With `rows`, the layer's input i is row
        rows[i] of x: a caller whose inputs lie in another order passes them so, without copying them."""
        if self.training:
            with torch.no_grad():
                self.tables.clamp_(-1, 1)
        indices = self.indices if rows is None else rows[self.indices]
        if self.mapping is None:
            mapping, candidates = self.tables.new_zeros(0), self.wiring.new_zeros(0)
        else:
            mapping, candidates = self.mapping, self.wiring if rows is None else rows[self.wiring]
        return _LookUp.apply(x, self.tables, indices.contiguous(), mapping, candidates.contiguous())

    def extra_repr(self):
        return f"{self.in_dim}, {self.out_dim}, k={self.k}" + (", learned mapping" if self.mapping is not None else "")


class _LookUp(torch.autograd.Function):
    """y = step(T[address]) on feature-major tensors, with DWN's gradients (see the module docstring)."""

    @staticmethod
    def forward(ctx, x, tables, idx, mapping, candidates):
        k, out = idx.shape
        if idx.numel() and (idx.min() < 0 or idx.max() >= x.shape[0]):
            raise IndexError(f"LUTLayer wiring reads outside its {x.shape[0]} inputs")
        kernel = _cpu_kernel(x, tables)
        tables = tables.contiguous()
        if kernel:
            y = x.new_empty(out, x.shape[1])
            addr = torch.empty(out, x.shape[1], dtype=torch.uint8)
            kernel.hwgen_lut_forward(x.data_ptr(), x.shape[1], idx.data_ptr(), k, tables.data_ptr(), out,
                                     y.data_ptr(), addr.data_ptr(), torch.get_num_threads())
        else:
            bits = (x.index_select(0, idx.reshape(-1)).view(k, out, -1) > 0.5).to(torch.int64)
            addr = (bits << torch.arange(k, device=x.device).view(k, 1, 1)).sum(0)
            y = (tables.gather(1, addr) > 0).to(x.dtype)
        ctx.save_for_backward(x, tables, idx, addr, candidates)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, tables, idx, addr, candidates = ctx.saved_tensors
        k, out = idx.shape
        alpha, beta = efd_weights(k)
        grad = grad.contiguous()
        kernel = _cpu_kernel(x, tables)
        learned = ctx.needs_input_grad[3]
        grad_x = slot = grad_mapping = None
        if kernel:
            grad_tables, diff = torch.empty_like(tables), tables.new_empty(out, k, tables.shape[1])
            threads, batch = torch.get_num_threads(), grad.shape[1]
            kernel.hwgen_lut_table_grad(grad.data_ptr(), addr.data_ptr(), batch, k, tables.data_ptr(), out, alpha, beta,
                                        grad_tables.data_ptr(), diff.data_ptr(), threads)
            if ctx.needs_input_grad[0]:
                grad_x = torch.empty_like(x)
                kernel.hwgen_lut_input_grad(grad.data_ptr(), addr.data_ptr(), batch, idx.data_ptr(), k, diff.data_ptr(),
                                            out, x.shape[0], grad_x.data_ptr(), threads)
            if learned:
                slot = grad.new_empty(k * out, batch)
                kernel.hwgen_lut_slot_grad(grad.data_ptr(), addr.data_ptr(), batch, k, diff.data_ptr(), out,
                                           slot.data_ptr(), threads)
        else:
            grad_tables = torch.zeros_like(tables).scatter_add_(1, addr.to(torch.int64), grad)
            slot = _finite_differences(tables, alpha, beta).gather(2, addr.to(torch.int64).unsqueeze(0)
                                                                    .expand(k, -1, -1)) * grad
            slot = slot.reshape(k * out, -1)
            if ctx.needs_input_grad[0]:
                grad_x = torch.zeros_like(x).index_add_(0, idx.reshape(-1), slot)
        if learned:  # learnable mapping: each candidate (as +-1) against the input's gradient
            choices = candidates.shape[-1]
            if kernel:
                grad_mapping = slot.new_empty(k * out, choices)
                kernel.hwgen_lut_mapping_grad(x.data_ptr(), x.shape[1], candidates.data_ptr(), choices,
                                              slot.data_ptr(), k * out, grad_mapping.data_ptr(), torch.get_num_threads())
            else:
                grad_mapping = torch.stack([(2 * x[row] - 1) @ g for row, g in zip(candidates.reshape(k * out, -1), slot)])
            grad_mapping = grad_mapping.view(candidates.shape)
        return grad_x, grad_tables, None, grad_mapping, None


def _finite_differences(tables: torch.Tensor, alpha: float, beta: float) -> torch.Tensor:
    """(k, out, 2^k): D[j, o, a], the extended finite difference of node o's input j at address a."""
    size = tables.shape[1]
    k = size.bit_length() - 1
    a = torch.arange(size, device=tables.device)
    diffs = []
    for j in range(k):
        other = (a.view(-1, 1) ^ a.view(1, -1)) & ~(1 << j)
        distance = torch.zeros_like(other)
        for bit in range(k):
            distance += (other >> bit) & 1
        sign = torch.where((a >> j) & 1 == 1, 1.0, -1.0).to(tables.dtype)  # over a2
        weight = sign.view(1, -1) * alpha * beta ** distance.to(tables.dtype)  # (a, a2)
        diffs.append(tables @ weight.t())
    return torch.stack(diffs)


def _lut_library():
    """lut_kernel.c, or None where it cannot be built (training then runs on torch's ops, and says so)."""
    from ...native import FLOAT_FLAGS, load_library

    p, i64, i32, f32 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int, ctypes.c_float
    try:
        return load_library(Path(__file__).with_name("lut_kernel.c"), {
            "hwgen_lut_forward": ([p, i64, p, i64, p, i64, p, p, i32], None),
            "hwgen_lut_table_grad": ([p, p, i64, i64, p, i64, f32, f32, p, p, i32], None),
            "hwgen_lut_slot_grad": ([p, p, i64, i64, p, i64, p, i32], None),
            "hwgen_lut_input_grad": ([p, p, i64, p, i64, p, i64, i64, p, i32], None),
            "hwgen_lut_mapping_grad": ([p, i64, p, i64, p, i64, p, i32], None)}, FLOAT_FLAGS)
    except HwgenError as e:
        warn_once(f"{e}; training runs on torch's ops instead, 10 to 30 times slower")
        return None


def _cpu_kernel(x: torch.Tensor, tables: torch.Tensor):
    """The C kernel for CPU tensors, else None (torch's ops). It computes in float32 only."""
    if x.device.type != "cpu":
        return None
    if x.dtype != torch.float32 or tables.dtype != torch.float32:
        raise TypeError(f"LUTLayer computes in float32, got {x.dtype} inputs and {tables.dtype} tables")
    return _lut_library()
