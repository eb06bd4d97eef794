"""cocotb test benches, run by hwgen.sim (shipped as hwgen.testbenches)."""
