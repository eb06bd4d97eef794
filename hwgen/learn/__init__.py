"""Learning: training, distillation, hardening, the torch layers. The torch boundary: no module outside
this package imports torch (tests/test_layout.py checks), so simplify, emit, simulation, synthesis and
explain run without it."""
