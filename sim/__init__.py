"""cocotb test benches, run by hwgen.simulation; shipped in the wheel as hwgen.sim."""
