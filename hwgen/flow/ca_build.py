"""`hwgen build` for a cellular automaton (task: ca): train the rule, harden, simplify (and prune),
explain it, emit the grid as RTL, and check the RTL's grid step by step against the golden model and
against the task (the checkerboard, or Conway's rules)."""

import numpy as np

from ..ca import OFFSETS, grid
from ..ca.prune import prune
from ..ca.rtl import emit_ca, simulate_ca
from ..explain import explain, output_line
from ..files import ensure_dir, write_json
from ..golden import evaluate
from .build import pass_params, timed

NEIGHBOURS = ["nw", "n", "ne", "w", "c", "e", "sw", "s", "se"]
assert len(NEIGHBOURS) == len(OFFSETS)


def neighbour_names(state_bits: int) -> list:
    if state_bits == 1:
        return list(NEIGHBOURS)
    return [f"{n}.{s}" for n in NEIGHBOURS for s in range(state_bits)]


def glider(size: int) -> np.ndarray:
    state = np.zeros((size, size, 1), dtype=bool)
    for y, x in [(0, 1), (1, 2), (2, 0), (2, 1), (2, 2)]:
        state[y + 1, x + 1, 0] = True
    return state


def _life_reference(start: np.ndarray, steps: int) -> list:
    states, alive = [], start[:, :, 0]
    for _ in range(steps):
        alive = grid.life_step(alive)
        states.append(alive)
    return states


def _check_rtl(rtl, rule, start, steps, simulator, want_final, pictures):
    """Run the RTL; True when every step equals the golden model's and the final state is `want_final`.
    The RTL's final grid goes into `pictures`."""
    sim = simulate_ca(rtl, rule, start, steps, simulator)
    final = sim["final_state"][:, :, 0]
    pictures[f"RTL, {final.shape[0]}x{final.shape[1]} after {steps} steps"] = final
    return not sim["mismatched_steps"] and sim["initial_ok"] and bool(np.array_equal(final, want_final))


def build_ca(cfg: dict, out_dir, progress: bool = True, log=print) -> dict:
    from ..learn.ca.harden import harden_rule
    from ..learn.ca.train import CHECKPOINT, life_table, load_ca_checkpoint, rule_from_checkpoint, train_ca
    from ..rewrite.flow import simplify

    out = ensure_dir(out_dir)
    ca, simulator, seconds = cfg["ca"], cfg["sim"]["simulator"], {}
    with timed(seconds, "train"):
        metrics = train_ca(cfg, out / "train", progress)
    log(f"train: {'solved' if metrics['solved'] else 'NOT solved'} (try {metrics['try']}, hard score "
        f"{metrics['hard_score']:.4f})")
    with timed(seconds, "harden"):
        hardened = harden_rule(rule_from_checkpoint(load_ca_checkpoint(out / "train" / CHECKPOINT)))
        hardened.save(out / "hardened.netlist.json")
    passes = cfg["simplify"]["passes"]
    result = simplify(hardened, passes, cfg["simplify"]["verify"], params=pass_params(cfg["simplify"]))
    seconds.update(result.seconds)
    exact, equivalence = result.exact, result.equivalence
    rule, checkerboard = exact, ca["pattern"] == "checkerboard"
    if checkerboard and ca["prune"]:
        with timed(seconds, "prune"):
            rule = prune(exact, lambda n: grid.grows_checkerboard(n, ca["grid"], ca["steps"]), passes)
    rule.save(out / "rule.netlist.json")
    log(f"rule: {hardened.num_gates} gates hardened, {exact.num_gates} after exact rewriting, "
        f"{rule.num_gates} emitted")

    names = neighbour_names(ca["state_bits"])
    outputs = ["next"] if ca["state_bits"] == 1 else [f"next.{s}" for s in range(ca["state_bits"])]
    info = explain(rule, out / "explain", input_names=names, output_names=outputs, image_shape=(3, 3), log=log)
    for record, output in zip(info["outputs"], outputs):
        log(f"  {output_line(record, output)}")
    for line in info.get("expressions", []):
        log(f"  {line}")

    name = cfg["emit"]["name"]
    with timed(seconds, "emit"):
        emit_ca(rule, out / "rtl", name, ca["grid"])
    pictures = {}
    with timed(seconds, "sim"):
        if checkerboard:
            pattern_ok = _check_rtl(out / "rtl", rule, None, ca["steps"], simulator,
                                    grid.checkerboard(ca["grid"], ca["grid"]), pictures)
            big = ca["check_grid"]
            generalizes_ok = _check_rtl(out / "rtl", rule, grid.seed(big, big, ca["state_bits"]), ca["check_steps"],
                                        simulator, grid.checkerboard(big, big), pictures)
        else:
            start = np.random.default_rng(cfg["seed"]).random((ca["grid"], ca["grid"], 1)) < 0.35
            pattern_ok = _check_rtl(out / "rtl", rule, start, ca["steps"], simulator,
                                    _life_reference(start, ca["steps"])[-1], pictures)
            start = glider(ca["check_grid"])
            generalizes_ok = _check_rtl(out / "rtl", rule, start, ca["check_steps"], simulator,
                                        _life_reference(start, ca["check_steps"])[-1], pictures)
    log(f"RTL ({simulator}): pattern {'ok' if pattern_ok else 'WRONG'} on {ca['grid']}x{ca['grid']} after "
        f"{ca['steps']} steps; {ca['check_grid']}x{ca['check_grid']} after {ca['check_steps']} steps: "
        f"{'ok' if generalizes_ok else 'WRONG'}")

    report = {
        "task": "ca", "pattern": ca["pattern"], "train": metrics,
        "gates": {"hardened": hardened.num_gates, "exact": exact.num_gates, "simplified": rule.num_gates},
        "pruned": checkerboard and ca["prune"], "equivalence": equivalence,
        "rule": info.get("expressions", []),
        "ca": {"pattern_ok": pattern_ok, "generalizes_ok": generalizes_ok, "grid": ca["grid"], "steps": ca["steps"],
               "check_grid": ca["check_grid"], "check_steps": ca["check_steps"], "simulator": simulator},
        "seconds": seconds,
    }
    if not checkerboard:
        inputs, target = life_table()
        bits = inputs.numpy().astype(bool)
        right = evaluate.output_bits(rule, bits)[:, 0] == target.numpy()[:, 0].astype(bool)
        report["ca"]["neighbourhoods_right"] = int(right.sum())
    write_json(out / "report.json", report)
    history = load_ca_checkpoint(out / "train" / CHECKPOINT)["history"]
    write_ca_html(out, report, history, pictures)
    return report


def write_ca_html(out, report: dict, history: list, pictures: dict):
    from .report_html import explain_section, grid_pictures, table, training_curves, write_report_html

    ca, g = report["ca"], report["gates"]
    checks = [[f"{ca['grid']}x{ca['grid']}, {ca['steps']} steps (pattern_ok)", ca["pattern_ok"]],
              [f"{ca['check_grid']}x{ca['check_grid']}, {ca['check_steps']} steps (generalizes_ok)",
               ca["generalizes_ok"]]]
    sections = [
        ("The learned rule", "<pre>" + "\n".join(report["rule"]) + "</pre>"
         + table(["stage", "gates"], [["hardened", g["hardened"]], ["exact rewriting", g["exact"]],
                                       ["emitted" + (" (pruned)" if report["pruned"] else ""), g["simplified"]]])),
        ("RTL checks (" + ca["simulator"] + ", every step compared with the golden model)",
         table(["check", "passed"], checks) + grid_pictures(pictures)),
        ("Training", training_curves(history)),
        ("", explain_section(out / "explain")),
        ("Stage seconds", table(["stage", "seconds"], list(report["seconds"].items()))),
    ]
    write_report_html(out / "report.html", f"hwgen build: cellular automaton ({report['pattern']})", sections)


def summary_ca(report: dict) -> str:
    ca, g = report["ca"], report["gates"]
    lines = [f"{report['pattern']}: rule of {g['simplified']} gates ({g['hardened']} hardened, {g['exact']} after "
             f"exact rewriting)"]
    lines += [f"  {line}" for line in report["rule"]]
    lines.append(f"pattern_ok {ca['pattern_ok']} ({ca['grid']}x{ca['grid']}, {ca['steps']} steps), generalizes_ok "
                 f"{ca['generalizes_ok']} ({ca['check_grid']}x{ca['check_grid']}, {ca['check_steps']} steps)")
    lines.append("seconds: " + ", ".join(f"{k} {v}" for k, v in report["seconds"].items()))
    return "\n".join(lines)
