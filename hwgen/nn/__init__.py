"""Torch modules for logic gate networks, with difflogic's signatures and op order."""

from .logic import LogicLayer, GroupSum, build_model

__all__ = ["LogicLayer", "GroupSum", "build_model"]
