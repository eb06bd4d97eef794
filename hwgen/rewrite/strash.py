"""Structural hashing: canonical input order, polarity-normalised gates, identical (or inverted) twins merged.

Folding comes with it: x op x, x op NOT x and constants reduce before a gate is hashed.
"""

from ..builder import rebuild
from ..netlist import Netlist


def strash(net: Netlist) -> Netlist:
    return rebuild(net, hashing=True)
