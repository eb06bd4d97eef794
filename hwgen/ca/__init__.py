"""Cellular automata whose update rule is a logic gate network (as in "Differentiable Logic Cellular
Automata"): train the rule, harden it into a netlist, run it on grids, and emit it as RTL."""
