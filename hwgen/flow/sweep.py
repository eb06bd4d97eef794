"""`hwgen sweep`: a multi-objective search over config keys, hardened accuracy up and LUTs down.

Optuna proposes each trial's settings and keeps the study in a journal file in the output folder (a
stopped sweep goes on where it stopped); Ray runs the trials as tasks, on this machine or on a cluster.
A trial is cheap (`build.measure`: short training, yosys's mapping, no routing) and is scored on a share
of the training set, so that the test set stays unseen; the front's points are then built in full
(`hwgen build`, routed) and only they report test accuracy.
"""

import copy
import csv
import io
import itertools
import json
import math
import tempfile
import time
from pathlib import Path

import yaml

from ..errors import HwgenError
from ..files import ensure_dir, read_text, write_json, write_text
from . import config

# Every key a sweep file may hold, with its default.
SWEEP_DEFAULTS = {
    "base": "mnist-small",  # the config each trial starts from: a file (beside the sweep file) or a shipped name
    "trials": 30,           # trials to finish (failed ones count; those a stop cut short are run again)
    "sampler": "tpe",       # tpe (multi-objective TPE), nsga2 (NSGA-II), grid (every combination of the choices,
                            # in order, up to `trials`)
    "population": 10,       # nsga2: trials per generation
    "seed": 0,              # the sampler's
    "validation": 0.1,      # the share of the training set each trial is scored on (data.validation)
    "trial": {},            # "section.key": value that every trial gets (a short training, ...)
    "space": {},            # "section.key": [choices], or {low, high} (with log: true, step: n)
    "start": [],            # points to try first, each {"section.key": value} over the space's keys
    "front": {},            # "section.key": value for the front's full builds (the full training, ...)
    "front_builds": 0,      # front points built in full: 0 all, else this many spread over the front's LUTs
    "published": [],        # designs to plot beside the front: {name, accuracy (%), luts, kind: LUT6 or LUT4}
}
SAMPLERS = ("tpe", "nsga2", "grid")
# What a trial is scored by (build.measure's result), and in which direction.
OBJECTIVES = {"accuracy": "maximize", "xilinx_luts": "minimize", "lut_positions": "minimize"}
JOURNAL = "study.journal"
# What a sweep's folder holds it to (with its base config): a sweep goes on only with the same ones.
RECORDED = ("space", "trial", "validation", "sampler", "seed")


def load(path) -> dict:
    """A sweep file, checked: its keys, its base config and every choice of its space."""
    path = Path(path)
    try:
        given = yaml.safe_load(read_text(path, "sweep"))
    except yaml.YAMLError:
        raise HwgenError(f"{path}: not valid YAML") from None
    if not isinstance(given, dict):
        raise HwgenError(f"{path}: a sweep file is a mapping (keys: {', '.join(SWEEP_DEFAULTS)})")
    unknown = sorted(set(given) - set(SWEEP_DEFAULTS))
    if unknown:
        raise HwgenError(f"{path}: unknown key \"{unknown[0]}\" (known: {', '.join(SWEEP_DEFAULTS)})")
    sweep = {**copy.deepcopy(SWEEP_DEFAULTS), **given}
    for key, least in (("trials", 1), ("population", 1), ("seed", 0), ("front_builds", 0)):
        if not isinstance(sweep[key], int) or isinstance(sweep[key], bool) or sweep[key] < least:
            raise HwgenError(f"{path}: \"{key}\" must be a whole number, {least} or more")
    if not isinstance(sweep["base"], str):
        raise HwgenError(f"{path}: \"base\" must name a config file or a shipped example")
    base = path.parent / sweep["base"]
    sweep["base_config"] = config.load(base if base.exists() else sweep["base"])
    if sweep["sampler"] not in SAMPLERS:
        raise HwgenError(f"{path}: \"sampler\" must be one of {', '.join(SAMPLERS)}, got {sweep['sampler']!r}")
    if not isinstance(sweep["validation"], float) or not 0 < sweep["validation"] < 1:
        raise HwgenError(f"{path}: \"validation\" must be a share of the training set, between 0 and 1")
    for key in ("trial", "space", "front"):
        if not isinstance(sweep[key], dict):
            raise HwgenError(f"{path}: \"{key}\" must be a mapping of \"section.key\" to values")
    for key in ("start", "published"):
        if not isinstance(sweep[key], list):
            raise HwgenError(f"{path}: \"{key}\" must be a list")
    if not sweep["space"]:
        raise HwgenError(f"{path}: \"space\" names no keys to search")
    for key, spec in sweep["space"].items():
        _distribution(key, spec, path)
        for value in _corners(spec):  # each choice must make a valid config
            changed(sweep["base_config"], {**sweep["trial"], key: value}, f"{path}: space \"{key}\" = {value!r}")
    if sweep["sampler"] == "grid" and any(not isinstance(spec, list) for spec in sweep["space"].values()):
        raise HwgenError(f"{path}: the grid sampler needs every key of the space as a list of choices")
    for point in sweep["start"]:
        if not isinstance(point, dict) or set(point) - set(sweep["space"]):
            raise HwgenError(f"{path}: each \"start\" point gives values of the space's keys")
    changed(sweep["base_config"], sweep["front"], f"{path}: front")
    for design in sweep["published"]:
        if not (isinstance(design, dict) and isinstance(design.get("name"), str) and
                all(isinstance(design.get(k), (int, float)) for k in ("accuracy", "luts")) and
                design.get("kind", "LUT6") in ("LUT6", "LUT4")):
            raise HwgenError(f"{path}: each \"published\" design is {{name, accuracy (%), luts, kind: LUT6 or LUT4}}")
    return sweep


def changed(cfg: dict, changes: dict, source: str) -> dict:
    """cfg with dotted keys ("train.steps": 500) set, checked as a config file is."""
    given = copy.deepcopy(cfg)
    for dotted, value in changes.items():
        node, *path = given, *dotted.split(".")
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                raise HwgenError(f"{source}: \"{dotted}\" is not a config key")
            node = node[part]
        node[path[-1]] = copy.deepcopy(value)
    return config.from_dict(given, source)


def _distribution(key: str, spec, source="sweep"):
    """The Optuna distribution of a space entry: choices (as JSON text: Optuna's categorical values are
    scalars, and a choice may be a list, such as model.layers), or integers or numbers from low to high."""
    import optuna.distributions as d

    if isinstance(spec, list) and spec:
        return d.CategoricalDistribution([json.dumps(c) for c in spec])
    if isinstance(spec, dict) and {"low", "high"} <= set(spec) <= {"low", "high", "log", "step"}:
        low, high, log, step = spec["low"], spec["high"], spec.get("log", False), spec.get("step")
        try:
            if isinstance(low, int) and isinstance(high, int) and not isinstance(step, float):
                return d.IntDistribution(low, high, log=log, step=step or 1)
            return d.FloatDistribution(float(low), float(high), log=log, step=step)
        except (TypeError, ValueError) as e:
            raise HwgenError(f"{source}: space \"{key}\": {e}") from None
    raise HwgenError(f"{source}: space \"{key}\" must be a list of choices or {{low, high}} (log, step optional)")


def _suggest(trial, key: str, spec):
    """The trial's value of a space entry, as Optuna stores it."""
    import optuna.distributions as d

    dist = _distribution(key, spec)
    if isinstance(dist, d.CategoricalDistribution):
        return trial.suggest_categorical(key, dist.choices)
    suggest = trial.suggest_int if isinstance(dist, d.IntDistribution) else trial.suggest_float
    return suggest(key, dist.low, dist.high, step=dist.step, log=dist.log)


def _corners(spec) -> list:
    return spec if isinstance(spec, list) else [spec["low"], spec["high"]]


def _values(sweep: dict, params: dict) -> dict:
    """A trial's parameters as the config's values (a choice comes back from its JSON text)."""
    return {k: json.loads(v) if isinstance(sweep["space"][k], list) else v for k, v in params.items()}


def _sampler(sweep: dict, resumed_at: int):
    """The sampler, seeded by the sweep's seed and the trials the study holds: a resumed sweep draws new
    points rather than those its first start drew, and the same journal always resumes the same way."""
    import optuna

    seed = sweep["seed"] + resumed_at

    if sweep["sampler"] == "grid":  # every combination is enqueued (Sweep._enqueue_start); a draw is never needed
        return optuna.samplers.RandomSampler(seed=seed)
    if sweep["sampler"] == "nsga2":
        return optuna.samplers.NSGAIISampler(population_size=sweep["population"], seed=seed)
    # constant liar: trials still running count as poor, so that parallel trials spread out
    return optuna.samplers.TPESampler(seed=seed, constant_liar=True, n_startup_trials=min(10, sweep["trials"]))


def trial_threads(sweep: dict) -> int:
    """The cores a trial asks of Ray: its training's threads (0, torch's default, counts as one)."""
    return changed(sweep["base_config"], sweep["trial"], "trial")["train"]["threads"] or 1


def trial_config(sweep: dict, params: dict) -> dict:
    """The config a trial trains: the base, the settings every trial gets, its point of the space, and the
    validation share it is scored on."""
    point = _values(sweep, params)
    return changed(sweep["base_config"], {**sweep["trial"], **point, "data.validation": sweep["validation"]},
                   f"trial {point}")


def front_config(sweep: dict, params: dict) -> dict:
    """The config a front point is built from in full: as the trial's, with the front's settings, scored on
    the test set."""
    point = _values(sweep, params)
    return changed(sweep["base_config"], {**sweep["trial"], **point, **sweep["front"], "data.validation": 0.0},
                   f"front point {point}")


def _error_line(e: Exception) -> str:
    return f"{type(e).__name__}: {e}".splitlines()[0] if str(e) else type(e).__name__


def _measure_trial(cfg: dict) -> dict:
    """A Ray task: one trial measured in a folder of its own machine; its result, or the error it met."""
    from .build import measure

    try:
        with tempfile.TemporaryDirectory(prefix="hwgen-trial-") as folder:
            return measure(cfg, folder, log=lambda *_: None)
    except Exception as e:  # any failure is the trial's result, never the sweep's end
        return {"error": _error_line(e)}


# The files of a front point's build that come back from its worker: the report, the netlists and the RTL.
KEPT = ("report.json", "report.html", "hardened.netlist.json", "simplified.netlist.json", "rtl/*.v", "rtl/*.json",
        "rtl/*.bit", "rtl/*.config")


def _build_point(cfg: dict) -> dict:
    """A Ray task: a front point built in full (routed) on its worker; its report and files, or its error."""
    from .build import build

    try:
        with tempfile.TemporaryDirectory(prefix="hwgen-front-") as folder:
            error = None
            try:
                build(cfg, folder, progress=False, log=lambda *_: None)
            except HwgenError as e:  # a missed clock still leaves its report
                error = str(e)
            files = {str(p.relative_to(folder)): p.read_bytes() for pattern in KEPT for p in Path(folder).glob(pattern)}
            if "report.json" not in files:
                return {"error": error or "no report"}
            return {"report": json.loads(files["report.json"]), "files": files, "error": error}
    except Exception as e:
        return {"error": _error_line(e)}


def _next_result(ray, running: dict) -> tuple:
    """The first task of `running` (ref -> what it is) to finish: what it is, then its result or the error
    its worker died of (memory, a lost node). Waits a second at a time, so that Ctrl-C stops the sweep."""
    ready = []
    while not ready:
        ready, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
    what = running.pop(ready[0])
    try:
        result = ray.get(ready[0])
    except Exception as e:
        result = {"error": _error_line(e)}
    return (*what, result)


def _start_ray(address: str | None):
    import ray

    try:
        # a local Ray of this machine's cores, or the cluster at `address`; its own logs stay in its folder
        ray.init(address=address or "local", include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                 configure_logging=False)
    except Exception as e:  # ConnectionError, or Ray's own for an address that is not a cluster
        raise HwgenError(f"cannot start or join Ray{' at ' + address if address else ''}: {_error_line(e)}") from None
    return ray


class Sweep:
    """One sweep's folder: the Optuna study (its journal), the trials' configs and results, the table, the
    front's configs, builds and plot."""

    def __init__(self, sweep: dict, out, log=print):
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        self.sweep, self.out, self.log = sweep, ensure_dir(out), log
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        recorded = self.out / "sweep.json"
        mine = {"base": sweep["base_config"], **{k: sweep[k] for k in RECORDED}}
        if recorded.exists() and json.loads(recorded.read_text()) != json.loads(json.dumps(mine)):
            raise HwgenError(f"{self.out} holds a sweep of other settings (base, space, trial, validation or sampler): "
                             "go on with the same sweep file, or give another --out")
        write_json(recorded, mine)
        storage = JournalStorage(JournalFileBackend(str(self.out / JOURNAL)))
        self.study = optuna.create_study(study_name="hwgen-sweep", storage=storage, sampler=_sampler(sweep, 0),
                                         directions=list(OBJECTIVES.values()), load_if_exists=True)
        self.study.sampler = _sampler(sweep, len(self.study.trials))
        self.log_file = self.out / "sweep.log"

    def note(self, line: str, show: bool = True):
        """A line in OUT/sweep.log, and on the terminal when `show`."""
        with open(self.log_file, "a") as f:
            f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")
        if show:
            self.log(line)

    def _counted(self) -> int:
        """Trials that count towards the budget: finished, or failed with an error of their own."""
        from optuna.trial import TrialState

        return sum(1 for t in self.study.get_trials(deepcopy=False)
                   if t.state == TrialState.COMPLETE or (t.state == TrialState.FAIL and "error" in t.user_attrs))

    def _requeue_stopped(self):
        """Trials a stop cut short (still RUNNING in the journal): closed as failed, their points run again."""
        from optuna.trial import TrialState

        for t in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            self.study.tell(t.number, state=TrialState.FAIL)
            self.study.enqueue_trial(t.params, user_attrs={"retry_of": t.number})
            self.note(f"trial {t.number} was cut short by a stop: its point is tried again")

    def _enqueue_start(self):
        """The start points, then for the grid sampler every combination of the choices, as the first trials."""
        if self.study.trials:
            return  # a resumed sweep has them already
        space = self.sweep["space"]
        points = [{k: json.dumps(v) if isinstance(space[k], list) else v for k, v in point.items()}
                  for point in self.sweep["start"]]
        if self.sweep["sampler"] == "grid":
            points += [dict(zip(space, combination))
                       for combination in itertools.product(*([json.dumps(c) for c in space[k]] for k in space))]
        for point in points:
            self.study.enqueue_trial(point)

    def run_trials(self, ray, workers: int):
        """Trials, `workers` at a time, until `trials` have finished (a resumed sweep counts those it has)."""
        self._requeue_stopped()
        self._enqueue_start()
        threads = trial_threads(self.sweep)
        task = ray.remote(_measure_trial).options(num_cpus=threads, max_retries=0)
        total, running = self.sweep["trials"], {}
        done = self._counted()
        if done:
            self.note(f"going on: {done} of {total} trials finished before")
        while done + len(running) < total or running:
            while done + len(running) < total and len(running) < workers:
                trial = self.study.ask()
                params = {k: _suggest(trial, k, spec) for k, spec in self.sweep["space"].items()}
                try:
                    cfg = trial_config(self.sweep, params)
                except HwgenError as e:  # a combination the config refuses (k larger than allowed, ...)
                    self._fail(trial, str(e), time.perf_counter())
                    done += 1
                    continue
                (self.out / "trials").mkdir(exist_ok=True)
                write_text(self.out / "trials" / f"{trial.number:04d}.yaml", yaml.safe_dump(cfg, sort_keys=False))
                running[task.remote(cfg)] = (trial, time.perf_counter())
                self.note(f"trial {trial.number} started: {self._point(params)}", show=False)
            if not running:  # the last trials were refused by the config check
                continue
            trial, started, result = _next_result(ray, running)
            done += 1
            if "error" in result:
                self._fail(trial, result["error"], started)
                continue
            trial.set_user_attr("result", result)
            self.study.tell(trial, [result["accuracy"]["hardened"], result["luts"]["xilinx"],
                                    result["luts"]["lut_positions"]])
            self.note(f"trial {trial.number} ({done}/{total}): {100 * result['accuracy']['hardened']:.2f}% "
                      f"({result['scored_on']}), {result['luts']['xilinx']:,} Xilinx LUTs, "
                      f"{result['luts']['lut_positions']:,} {result['luts']['target']} LUT positions, "
                      f"{time.perf_counter() - started:.0f} s; {self._point(trial.params)}")

    def _fail(self, trial, error: str, started: float):
        from optuna.trial import TrialState

        trial.set_user_attr("error", error)
        self.study.tell(trial, state=TrialState.FAIL)
        self.note(f"trial {trial.number} failed after {time.perf_counter() - started:.0f} s: {error}")

    def _point(self, params: dict) -> str:
        values = _values(self.sweep, params)
        return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())

    def front(self) -> list:
        """The finished trials no other beats in every objective, fewest LUTs first."""
        return sorted(self.study.best_trials, key=lambda t: (t.values[1], -t.values[0]))

    def write_front_configs(self, front: list) -> dict:
        """OUT/front/trial-N.yaml for each front point: a config `hwgen build` takes as it is."""
        folder, configs = ensure_dir(self.out / "front"), {}
        for t in front:
            configs[f"trial-{t.number:04d}"] = cfg = front_config(self.sweep, t.params)
            write_text(folder / f"trial-{t.number:04d}.yaml", yaml.safe_dump(cfg, sort_keys=False))
        return configs

    def build_front(self, ray, configs: dict, workers: int) -> dict:
        """Each front point built in full and routed (a finished build of the same config is kept)."""
        threads = trial_threads(self.sweep)
        task = ray.remote(_build_point).options(num_cpus=threads, max_retries=0)
        reports, waiting, running = {}, [], {}
        for name, cfg in configs.items():
            folder = self.out / "front" / name
            built = folder / "report.json"
            if built.exists() and (folder / "config.json").exists() and \
                    json.loads((folder / "config.json").read_text()) == json.loads(json.dumps(cfg)):
                reports[name] = json.loads(built.read_text())
            else:
                waiting.append(name)
        while waiting or running:
            while waiting and len(running) < workers:
                name = waiting.pop(0)
                running[task.remote(configs[name])] = (name, time.perf_counter())
                self.note(f"front point {name}: building in full")
            name, started, result = _next_result(ray, running)
            if "report" not in result:
                self.note(f"front point {name} failed: {result['error']}")
                continue
            folder = ensure_dir(self.out / "front" / name)
            for rel, data in result["files"].items():
                ensure_dir((folder / rel).parent)
                (folder / rel).write_bytes(data)
            write_json(folder / "config.json", configs[name])
            r = reports[name] = result["report"]
            s = r["synth"]
            xilinx = s.get("xilinx", {}).get("luts")
            self.note(f"front point {name}: test {100 * r['accuracy']['hardened']:.2f}% (RTL "
                      f"{100 * r['accuracy']['rtl']:.2f}%), {f'{xilinx:,}' if xilinx else '-'} Xilinx LUTs, "
                      f"{s['logic_cells']:,} {s['target']} logic cells, {s['fmax_mhz']} MHz"
                      f"{'' if s['met'] else ' (misses the asked clock)'}; {time.perf_counter() - started:.0f} s")
        return reports

    def rows(self, reports: dict) -> list:
        """One row per trial: its point, its scores, its seconds, its error, and its full build's figures."""
        from optuna.trial import TrialState

        front = {t.number for t in self.study.best_trials}
        retried = {t.user_attrs["retry_of"]: t.number for t in self.study.trials if "retry_of" in t.user_attrs}
        rows = []
        for t in self.study.trials:
            if t.state not in (TrialState.COMPLETE, TrialState.FAIL):
                continue
            r = t.user_attrs.get("result", {})
            state = "complete" if t.state == TrialState.COMPLETE else "stopped" if t.number in retried else "failed"
            row = {"trial": t.number, "state": state,
                   "front": t.number in front,
                   **_values(self.sweep, t.params),
                   "accuracy": _rounded(r.get("accuracy", {}).get("hardened")), "scored_on": r.get("scored_on"),
                   "xilinx_luts": r.get("luts", {}).get("xilinx"),
                   "lut_positions": r.get("luts", {}).get("lut_positions"),
                   "nodes": r.get("gates", {}).get("simplified"), "ffs": r.get("ffs"),
                   "train_s": r.get("seconds", {}).get("train"), "synth_s": r.get("seconds", {}).get("synth"),
                   "seconds": round(t.duration.total_seconds(), 1) if t.duration else None,
                   "error": t.user_attrs.get("error") or (
                       f"cut short by a stop; tried again as trial {retried.get(t.number)}" if state == "stopped"
                       else None)}
            built = reports.get(f"trial-{t.number:04d}")
            if built:
                s = built["synth"]
                row.update({"test_accuracy": _rounded(built["accuracy"]["hardened"]),
                            "rtl_accuracy": _rounded(built["accuracy"]["rtl"]),
                            "built_xilinx_luts": s.get("xilinx", {}).get("luts"), "logic_cells": s["logic_cells"],
                            "fmax_mhz": s["fmax_mhz"], "met": s["met"]})
            rows.append(row)
        return rows

    def write_table(self, rows: list):
        write_json(self.out / "trials.json", rows)
        text = io.StringIO()
        writer = csv.DictWriter(text, list(dict.fromkeys(k for row in rows for k in row)))
        writer.writeheader()
        writer.writerows(rows)
        write_text(self.out / "trials.csv", text.getvalue())


def spread(names: list, count: int) -> list:
    """`count` of the names (all for 0), evenly spread from the first to the last."""
    if not count or count >= len(names):
        return names
    if count == 1:
        return names[-1:]
    return [names[round(k * (len(names) - 1) / (count - 1))] for k in range(count)]


def _rounded(accuracy):
    return None if accuracy is None else round(accuracy, 4)


def power_law(x: list, accuracy: list) -> dict | None:
    """The least-squares fit error = a * x^-b (a straight line in log-log), over the points' range of x."""
    import numpy as np

    pairs = [(float(u), 1.0 - float(a)) for u, a in zip(x, accuracy) if u and a is not None and a < 1]
    if len({u for u, _ in pairs}) < 3:  # two points fit any line
        return None
    lx, ly = np.log([u for u, _ in pairs]), np.log([e for _, e in pairs])
    slope, intercept = np.polyfit(lx, ly, 1)
    residual = ly - (slope * lx + intercept)
    r2 = 1 - float(np.sum(residual ** 2)) / max(float(np.sum((ly - ly.mean()) ** 2)), 1e-12)
    return {"a": round(math.exp(intercept), 4), "b": round(-float(slope), 4), "r2": round(r2, 3),
            "points": len(pairs), "from": min(u for u, _ in pairs), "to": max(u for u, _ in pairs)}


def scaling(rows: list) -> dict:
    """The fitted laws: error against Xilinx LUTs and against nodes, over every finished trial (the sizes a
    sweep of fixed recipe spans) and over the front."""
    done = [r for r in rows if r["state"] == "complete"]
    front = [r for r in done if r["front"]]
    return {f"{over}_{against}": power_law([r[against] for r in group], [r["accuracy"] for r in group])
            for over, group in (("trials", done), ("front", front)) for against in ("xilinx_luts", "nodes")}


def _front_2d(rows: list, key: str) -> list:
    """The rows that no other row beats in both accuracy and `key` (fewer is better), fewest first."""
    line, best = [], -1.0
    for r in sorted(rows, key=lambda r: (r[key], -r["accuracy"])):
        if r["accuracy"] > best:
            line.append(r)
            best = r["accuracy"]
    return line


def plot(rows: list, laws: dict, published: list, path: Path, dataset: str):
    """Accuracy against Xilinx LUT6 and against target LUT positions: every trial, the front, the front's full
    builds (test accuracy), the published designs and the fitted law."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    done = [r for r in rows if r["state"] == "complete"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    panels = ((axes[0], "xilinx_luts", "built_xilinx_luts", "Xilinx LUT6 (yosys synth_xilinx)"),
              (axes[1], "lut_positions", "logic_cells", "ECP5 LUT positions (logic cells when built)"))
    for ax, key, built_key, label in panels:
        ax.plot([r[key] for r in done], [100 * r["accuracy"] for r in done], ".", color="0.6",
                label="trials (validation)")
        front = [r for r in done if r["front"]]
        ax.plot([r[key] for r in front], [100 * r["accuracy"] for r in front], "o", color="tab:blue",
                label="front (validation)")
        line = _front_2d(done, key)  # the points no other beats on these two axes
        ax.plot([r[key] for r in line], [100 * r["accuracy"] for r in line], "-", color="tab:blue", lw=1)
        built = [r for r in rows if r.get("test_accuracy") is not None and r.get(built_key)]
        ax.plot([r[built_key] for r in built], [100 * r["test_accuracy"] for r in built], "s", color="tab:green",
                label="front built in full (test, routed)")
        over = "front" if laws.get("front_xilinx_luts") else "trials"
        law = laws.get(f"{over}_xilinx_luts") if key == "xilinx_luts" else None
        if law:
            xs = np.geomspace(law["from"], law["to"], 50)
            ax.plot(xs, 100 * (1 - law["a"] * xs ** -law["b"]), "--", color="tab:orange",
                    label=f"error = {law['a']:g} LUTs^-{law['b']:g}, R² {law['r2']} ({over})")
        for p in published:
            if (p.get("kind", "LUT6") == "LUT6") == (key == "xilinx_luts"):
                ax.plot([p["luts"]], [p["accuracy"]], "^", color="tab:red")
                ax.annotate(p["name"], (p["luts"], p["accuracy"]), fontsize=7, xytext=(4, -3),
                            textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel(f"{label}, log scale")
        ax.set_ylabel(f"{dataset} accuracy, hardened (%)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(sweep_file, out, address: str | None = None, workers: int | None = None, build_front: bool = True,
        log=print) -> dict:
    """The whole sweep: trials until the budget is spent, then the front written out, built and plotted.
    Returns OUT/summary.json's contents."""
    sweep = load(sweep_file)
    if workers is not None and workers < 1:
        raise HwgenError(f"--workers must be 1 or more, got {workers}")
    ray = _start_ray(address)  # before DIR is written: a cluster that cannot be joined leaves nothing behind
    try:
        s = Sweep(sweep, out, log)
        threads = trial_threads(sweep)
        workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1) // threads))
        s.note(f"sweep {sweep_file}: {sweep['trials']} trials, {workers} at a time ({threads} thread"
               f"{'s' if threads > 1 else ''} each), {sweep['sampler']} sampler; log in {s.log_file}")
        s.run_trials(ray, workers)
        front = s.front()
        configs = s.write_front_configs(front)
        s.note(f"front: {len(front)} points ({', '.join(configs)}); configs in {s.out / 'front'}")
        chosen = spread(list(configs), sweep["front_builds"])
        reports = s.build_front(ray, {name: configs[name] for name in chosen}, workers) if build_front else {}
    finally:
        ray.shutdown()
    rows = s.rows(reports)
    s.write_table(rows)
    laws = scaling(rows)
    plot(rows, laws, sweep["published"], s.out / "pareto.png", sweep["base_config"]["dataset"])
    done = [r for r in rows if r["state"] == "complete"]
    summary = {"trials": len(rows), "complete": len(done), "failed": sum(r["state"] == "failed" for r in rows),
               "stopped": sum(r["state"] == "stopped" for r in rows),
               "front": [r["trial"] for r in rows if r["front"]], "laws": laws,
               # worker-seconds over every run of the sweep: the trials' (their training and their synthesis), and
               # the full builds' (each stage of each build)
               "seconds": {"trials": round(sum(r["seconds"] or 0 for r in rows)),
                           "train": round(sum(r["train_s"] or 0 for r in done)),
                           "synth": round(sum(r["synth_s"] or 0 for r in done)),
                           "front_builds": round(sum(sum(r["seconds"].values()) for r in reports.values()))}}
    write_json(s.out / "summary.json", summary)
    s.note(f"{summary['complete']} trials finished, {summary['failed']} failed, {summary['stopped']} cut short by a "
           "stop and run again; front: trials "
           f"{', '.join(map(str, summary['front']))}; table {s.out / 'trials.csv'}, plot {s.out / 'pareto.png'}")
    return summary

