"""Running a rule netlist on a grid with the golden model (numpy): the reference for the RTL."""

import numpy as np

from ..golden import evaluate
from ..netlist import Netlist
from . import OFFSETS


def neighbourhood_bits(state: np.ndarray) -> np.ndarray:
    """(H, W, S) bools -> (H * W, 9 S) rule inputs on a torus (the order of OFFSETS)."""
    h, w, s = state.shape
    parts = [np.roll(state, (-dy, -dx), (0, 1)) for dy, dx in OFFSETS]
    return np.concatenate(parts, axis=-1).reshape(h * w, 9 * s)


def run(rule: Netlist, state: np.ndarray, steps: int) -> list:
    """The states after 1..steps synchronous steps."""
    h, w, s = state.shape
    states = []
    for _ in range(steps):
        state = evaluate.output_bits(rule, neighbourhood_bits(state)).reshape(h, w, s)
        states.append(state)
    return states


def seed(h: int, w: int, state_bits: int) -> np.ndarray:
    state = np.zeros((h, w, state_bits), dtype=bool)
    state[h // 2, w // 2, 0] = True
    return state


def checkerboard(h: int, w: int) -> np.ndarray:
    rows, cols = np.arange(h)[:, None], np.arange(w)[None, :]
    return (rows + cols - h // 2 - w // 2) % 2 == 0


def grows_checkerboard(rule: Netlist, size: int, steps: int) -> bool:
    """Bit 0 of every cell shows the checkerboard after `steps` steps from the seed."""
    final = run(rule, seed(size, size, rule.num_classes), steps)[-1]
    return bool(np.array_equal(final[:, :, 0], checkerboard(size, size)))


def life_step(alive: np.ndarray) -> np.ndarray:
    """Conway's Game of Life on a torus, the reference for a learned rule."""
    n = sum(np.roll(alive, (dy, dx), (0, 1)) for dy, dx in OFFSETS if (dy, dx) != (0, 0))
    return (n == 3) | (alive & (n == 2))
