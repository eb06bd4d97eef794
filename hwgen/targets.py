"""The FPGAs hwgen builds for, and the delay model that sizes pipeline stages for them: one place for the
facts that emit (stage depth), synthesis (devices, cells, routers) and the config (the choices) read."""

import math

from .errors import HwgenError

# nextpnr's arguments and the device each target names. The clock goes on a pin with a dedicated path to
# the global clock network (the board's oscillator pin on iCEBreaker, the HX8K breakout, icesugar-pro and
# ULX3S); left to nextpnr, it can land on a pin with none. harness_pins: the input pins the synthesis
# harness's shift registers may take, within the package's I/O.
TARGETS = {
    "ice40-up5k": {"family": "ice40", "args": ["--up5k", "--package", "sg48"], "device": "iCE40UP5K-SG48",
                   "part": "iCE40UP5K",                   "clock_pin": "35", "harness_pins": 16},
    "ice40-hx8k": {"family": "ice40", "args": ["--hx8k", "--package", "ct256"], "device": "iCE40HX8K-CT256",
                   "part": "iCE40HX8K",                   "clock_pin": "J3", "harness_pins": 128},
    "ecp5-25k": {"family": "ecp5", "args": ["--25k", "--package", "CABGA256", "--speed", "6"],
                 "device": "LFE5U-25F-6BG256C (speed grade 6)", "part": "LFE5U-25F", "clock_pin": "P6", "harness_pins": 128},
    "ecp5-85k": {"family": "ecp5", "args": ["--85k", "--package", "CABGA381", "--speed", "6"],
                 "device": "LFE5U-85F-6BG381C (speed grade 6)", "part": "LFE5U-85F", "clock_pin": "G2", "harness_pins": 128},
}
FAMILIES = ("ecp5", "ice40")


def family_of(target: str) -> str:
    if target not in TARGETS:
        raise HwgenError(f"unknown synthesis target \"{target}\" (known: {', '.join(TARGETS)})")
    return TARGETS[target]["family"]


CELLS = {  # cell types counted as LUTs, flip-flops, carry cells and block RAM, per family
    "ice40": {"luts": ("SB_LUT4",), "ffs": ("SB_DFF", "SB_DFFE", "SB_DFFSR", "SB_DFFR", "SB_DFFS", "SB_DFFESR",
                                           "SB_DFFER", "SB_DFFES", "SB_DFFSS", "SB_DFFESS"),
              "carry": ("SB_CARRY",), "bram": ("SB_RAM40_4K",)},
    "ecp5": {"luts": ("LUT4",), "ffs": ("TRELLIS_FF",), "carry": ("CCU2C",), "bram": ("DP16KD",)},
}
RAM_CELLS = {"ice40": (), "ecp5": ("TRELLIS_DPR16X4",)}  # LUTs used as RAM (the output FIFO)
# nextpnr's count of the LUT positions a design takes: LUTs, the two of each carry cell, and LUT RAM.
LOGIC_CELLS = {"ice40": "ICESTORM_LC", "ecp5": "TRELLIS_COMB"}
# The LUT positions that mapped cells take, counted before placement (hwgen's search scores trials so): an
# ECP5 carry cell takes two, an iCE40 carry sits beside its LUT. nextpnr's LOGIC_CELLS count adds LUT RAM
# and the feed-through LUTs that packing inserts, so it is a little higher.
LUT_POSITIONS = {"ice40": {"luts": 1}, "ecp5": {"luts": 1, "carry": 2}}
# Cell types of yosys synth_xilinx (7 series), mapping only: the LUT6-based count that published Xilinx
# designs give.
XILINX_CELLS = {"luts": ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6"), "carry": ("CARRY4",),
                "ffs": ("FDRE", "FDSE", "FDCE", "FDPE"), "lutram": ("RAM32M", "RAM64M", "RAM32X1D", "RAM64X1D"),
                "muxes": ("MUXF7", "MUXF8")}

# nextpnr's routers. `auto` runs AUTO_ROUTERS[family] at once: on ECP5 neither router wins on every
# design (router2 routes randomly wired gate models that router1 does not, router1 routes models with
# learned wiring where router2's overuse grows), so when one has routed the other gets as long again and
# the faster result wins; on iCE40 router1 alone (the better Fmax on the designs tried).
ROUTERS = ("auto", "router1", "router2")
AUTO_ROUTERS = {"ecp5": ("router1", "router2"), "ice40": ("router1",)}
# nextpnr's placed-and-routed configuration, the packer that turns it into a bitstream, the file suffix.
BITSTREAM = {"ice40": (("--asc", "design.asc"), "icepack", "bin"),
             "ecp5": (("--textcfg", "design.config"), "ecppack", "bit")}

# The delay model: the delay of each kind of logic in LUT4 levels. A LUT4 holds a tree of three two-input
# gates (four leaves), but where gates share inputs synthesis maps about four gate levels into three LUT
# levels; a carry chain (add, gt) is one LUT and a fast chain. emit's scheduler, `hwgen emit --help` and
# the stage-depth test all read these.
DELAYS = {"gate": 0.75, "lut": 1.0, "add": 1.0, "gt": 1.0, "mux": 1.0, "slice": 0.0, "cat": 0.0, "const": 0.0}
# A LUT node of k inputs: one LUT4 up to 4; a LUT5 is two and a multiplexer, a LUT6 four and two more.
LUT_DELAY = {1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0, 5: 2.0, 6: 3.0}
# Nanoseconds a LUT level and its routing take (most of it routing), and the clock's fixed share
# (clock-to-out, setup, skew): fitted to routed designs (docs/rtl.md gives the measurements).
NS_PER_LEVEL = {"ecp5": 2.2, "ice40": 3.0}
NS_FIXED = {"ecp5": 1.0, "ice40": 2.0}


def levels_for(freq_mhz: float, family: str = "ecp5") -> int:
    """LUT levels per pipeline stage that meet a clock of freq_mhz (at least one)."""
    if freq_mhz <= 0:
        raise HwgenError(f"the clock must be positive, got {freq_mhz} MHz")
    return max(1, math.floor((1000.0 / freq_mhz - NS_FIXED[family]) / NS_PER_LEVEL[family]))


def gates_per_level() -> str:
    """The delay model in words, for help texts."""
    return f"a LUT level holds about {1 / DELAYS['gate']:.3g} levels of two-input gates"
