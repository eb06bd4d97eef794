"""Backends: Netlist -> RTL."""
