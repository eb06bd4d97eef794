"""hwgen: differentiable logic gate networks from training to FPGA."""

__version__ = "0.1.0"
