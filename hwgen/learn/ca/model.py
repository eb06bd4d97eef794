"""The rule of a logic-gate cellular automaton, as torch modules.

Every cell holds `state_bits` bits. A step reads each cell's 3x3 neighbourhood on a torus, in the order
of OFFSETS (row by row; index 4 is the cell itself), so the rule's input is 9 * state_bits bits, bit
k * state_bits + s being bit s of neighbour k. Perception kernels are small gate trees: a first layer of
8 gates, gate i reading (cell, neighbour i) of one state bit, reduced 8 -> 4 -> 2 -> 1. The update network
reads the cell's own state and every kernel's output and gives the new state; a deep one (the Game of
Life's) trains from a residual initialisation.
"""

import torch
from torch import nn

from ...ca import CENTRE, OFFSETS
from ..nn import LogicLayer
from ..nn.logic import initial_gate_weights


def neighbourhoods(state: torch.Tensor) -> torch.Tensor:
    """(B, H, W, S) states -> (B, H, W, 9 S) rule inputs, wrapping around the edges."""
    return torch.cat([torch.roll(state, (-dy, -dx), (1, 2)) for dy, dx in OFFSETS], dim=-1)


def _pairs(n: int) -> torch.Tensor:
    """Wiring that halves a layer: gate i reads nodes 2i and 2i+1."""
    return torch.arange(n).reshape(-1, 2).T.contiguous()


class Rule(nn.Module):
    def __init__(self, state_bits: int, kernels: int, update_layers: list, seed: int, update_init: str = "random",
                 residual_bias: float = 5.0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.state_bits, self.kernels = state_bits, kernels
        in_dim = 9 * state_bits
        # kernel k looks at state bit k % state_bits: 8 (cell, neighbour) gates, then a binary tree
        bits = torch.arange(kernels) % state_bits
        centre = (CENTRE * state_bits + bits).repeat_interleave(8)
        around = torch.tensor([k for k in range(9) if k != CENTRE]).repeat(kernels) * state_bits + \
            bits.repeat_interleave(8)
        widths = [8 * kernels, 4 * kernels, 2 * kernels, kernels]
        layers = [LogicLayer(in_dim, widths[0], init="random", generator=generator,
                             wiring=torch.stack([centre, around]))]
        for before, after in zip(widths, widths[1:]):
            layers.append(LogicLayer(before, after, init="random", generator=generator, wiring=_pairs(before)))
        self.perception = nn.Sequential(*layers)
        layers, width = [], state_bits + kernels
        for out in list(update_layers) + [state_bits]:
            layers.append(LogicLayer(width, out, init="random", generator=generator))
            width = out
        self.update = nn.Sequential(*layers)
        if update_init == "residual":
            # Gates start close to pass-through wires, which lets a deep update network train. The weights
            # come from a generator of their own, so they do not depend on the perception's draws.
            draws = torch.Generator().manual_seed(seed)
            with torch.no_grad():
                for layer in self.update:
                    layer.weights.copy_(initial_gate_weights(layer.out_dim, "residual", residual_bias, draws))
        own = CENTRE * state_bits + torch.arange(state_bits)
        self.register_buffer("own_state", own)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., 9 S) neighbourhood bits -> (..., S) new state."""
        return self.update(torch.cat([x[..., self.own_state], self.perception(x)], dim=-1))


def step(rule: Rule, state: torch.Tensor) -> torch.Tensor:
    b, h, w, s = state.shape
    return rule(neighbourhoods(state).reshape(-1, 9 * s)).reshape(b, h, w, s)


def seed_state(h: int, w: int, state_bits: int) -> torch.Tensor:
    """All zeros but bit 0 of the centre cell: the seed a pattern grows from."""
    state = torch.zeros(1, h, w, state_bits)
    state[0, h // 2, w // 2, 0] = 1
    return state


def checkerboard(h: int, w: int) -> torch.Tensor:
    """(h, w): 1 where (row + column) has the parity of the centre cell's."""
    rows, cols = torch.arange(h)[:, None], torch.arange(w)[None, :]
    return ((rows + cols - h // 2 - w // 2) % 2 == 0).float()
