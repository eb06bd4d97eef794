"""Torch modules for logic gate networks, with difflogic's signatures and op order."""

from .logic import GroupSum, LearnedWiringLayer, LogicLayer, build_model, straight_through
from .lut import LUTLayer

__all__ = ["LogicLayer", "LearnedWiringLayer", "LUTLayer", "GroupSum", "build_model", "straight_through"]
