"""Cellular automata whose update rule is a logic gate network (as in "Differentiable Logic Cellular
Automata"): train the rule, harden it into a netlist, run it on grids, and emit it as RTL."""

# A rule reads a cell's 3x3 neighbourhood in this order (row by row; index CENTRE is the cell itself):
# its input bit k * state_bits + s is bit s of neighbour k. Training, the golden grid and the RTL all use it.
OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
CENTRE = 4
