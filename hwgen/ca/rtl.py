"""RTL of a cellular automaton: the rule as a combinational core (the direct writer) and a grid of cells
sharing it (rtl_templates/ca_grid.v), one step per clock."""

from pathlib import Path

from ..emit import RTL_FORMAT, fill_template
from ..emit.direct import core_verilog
from ..files import ensure_dir, write_json, write_text
from ..netlist import Netlist
from . import OFFSETS


def ca_verilog(rule: Netlist, name: str, grid: int) -> str:
    hood = "\n".join(f"        assign hood[{k}*S +: S] = cells[((((y + ({dy}) + H) % H) * W) + "
                     f"((x + ({dx}) + W) % W))*S +: S];" for k, (dy, dx) in enumerate(OFFSETS))
    grid_v = fill_template("ca_grid.v", {"HOOD": hood, "NAME": name, "S": rule.num_classes, "H": grid, "W": grid})
    return core_verilog(rule, f"{name}_rule") + "\n" + grid_v


def emit_ca(rule: Netlist, out_dir, name: str, grid: int) -> dict:
    out = ensure_dir(out_dir)
    write_text(out / f"{name}.v", ca_verilog(rule, name, grid))
    info = {"format": RTL_FORMAT, "name": name, "rule": f"{name}_rule", "state_bits": rule.num_classes, "grid": grid,
            "rule_gates": rule.num_gates, "kind": "cellular-automaton"}
    write_json(out / f"{name}.json", info)
    return info


def simulate_ca(rtl_dir, rule: Netlist, initial, steps: int, simulator: str = "icarus") -> dict:
    """Run the emitted grid (sized like `initial`, (H, W, S) bools; None: the seed on the emitted grid)
    for `steps` steps, comparing every step with the golden model. Returns the RTL's final state and
    the steps that differed."""
    import numpy as np

    from ..emit import find_rtl
    from ..simulation import run_cocotb
    from . import grid

    rtl_dir = Path(rtl_dir).resolve()
    info = find_rtl(rtl_dir)
    start = initial if initial is not None else grid.seed(info["grid"], info["grid"], info["state_bits"])
    h, w, s = start.shape
    expected = np.array([st.reshape(-1) for st in grid.run(rule, start, steps)])
    vectors = {"states": expected, "initial": start.reshape(-1), "use_initial": initial is not None}
    out = run_cocotb([rtl_dir / f"{info['name']}.v"], info["name"], "ca_tb", simulator, vectors,
                     parameters={"H": h, "W": w})
    out["final_state"] = np.array(out["final_state"], dtype=bool).reshape(h, w, s)
    return out
