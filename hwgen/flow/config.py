"""YAML configs: one file drives every stage. Unknown or mistyped keys are errors, not silently ignored."""

import copy
import difflib
from pathlib import Path

import yaml

from ..data.files import SUFFIXES, is_file
from ..errors import HwgenError
from ..files import read_text
from ..netlist import MAX_LUT_INPUTS
from ..targets import ROUTERS, TARGETS

# Every key a config may hold, with its default. A config only states what differs.
DEFAULTS = {
    "task": "classify",          # classify: a data set's classes; ca: a cellular automaton's rule (see "ca")
    "dataset": "digits",         # a built-in data set, or a file of your own (.npz, .csv: docs/configs.md)
    "seed": 0,
    # a file's options: its label column (CSV), the share of rows kept for testing where the file gives no
    # test set, and the image shape (height, width) where its features are pixels. validation (any data
    # set): >0 scores on this share of the training set instead of the test set (a search's trials do)
    "data": {"label": "label", "test_fraction": 0.2, "image_shape": [], "validation": 0.0},
    # thermometer thresholds per feature (1 = binarise); thresholds: uniform (equal bands over the range),
    # quantile (at the training data's quantiles: DWN's distributive thermometer), auto (quantile for a
    # data file, else uniform)
    "encoding": {"bits": 1, "thresholds": "auto"},
    "model": {
        "layers": [2000, 2000],  # logic layer widths; the last must split evenly into the classes
        "tau": 10.0,             # group-sum temperature (training only)
        "init": "residual",      # residual: biased towards the pass-through gate A; random: difflogic's
        "residual_bias": 5.0,
        "local_window": 0,       # >0 (images only): gates read pairs from window x window image patches;
                                 # or a list, one window per layer (0: that layer wired at random)
        "local_layers": "first",  # first: only the first layer is local; all: every layer (short wires)
        "candidates": 1,         # >1: each gate input learns which of this many nodes it reads
        "node": "gate",          # gate: two-input gates; lut: k-input lookup tables (DWN's training)
        "k": MAX_LUT_INPUTS,     # node: lut: inputs per node (1..MAX_LUT_INPUTS)
        "learned_mapping": "first",  # node: lut: layers whose inputs are learned (first, all, none)
        "conv": [],              # images: logic-tree conv layers before the dense ones, each a mapping of
                                 # CONV_DEFAULTS' keys (docs/configs.md)
    },
    "train": {
        "steps": 2000,
        "batch_size": 128,
        "lr": 0.01,
        "lr_schedule": "constant",  # constant or cosine (to 0 at the last step)
        "threads": 0,            # 0: torch's default
        "shift": 0,              # images: move each training sample by up to this many pixels (augmentation)
        "hard_steps": 0,         # then this many straight-through steps on the hardened network ...
        "hard_lr": 0.003,        # ... from this learning rate, falling to 0 by cosine
        "device": "cpu",         # cpu or cuda
        "eval_every": 500,
        "checkpoint_every": 1000,
        "teacher": {             # distillation: an MLP trained first on the same input bits ...
            "hidden": 0,         # ... with two hidden layers of this many units (0: no teacher, labels only)
            "steps": 3000,       # its training steps (Adam, batch 256)
            "temperature": 4.0,  # the network learns the teacher's outputs softened at this temperature ...
            "alpha": 0.5,        # ... with this weight, and the labels with 1 - alpha
        },
    },
    "simplify": {
        "passes": ["fold", "strash", "dce", "cut"],
        "verify": True,             # prove the exact result equivalent (ABC cec)
        "data_aware": False,        # then fold don't-cares from the training inputs (lossy)
        "rare_fraction": 0.01,      # a gate whose rarer value is this rare on the training set is constant
        "max_accuracy_drop": 0.2,   # points of test accuracy the data-aware result may lose, else an error
        "cut": {"cut_size": 4, "cuts_per_node": 8},  # the cut pass: leaves per cut (2..4: the exact table's
                                                      # limit, cut_rewrite.MAX_CUT_SIZE), cuts kept per gate
    },
    # pipeline: LUT levels per stage (0: none between the input and output registers), or auto: as many
    # as meet synth.freq_mhz. backend: auto (the direct writer), amaranth, direct. conv (a model with conv
    # layers): stream (line buffers, each kernel once, a pixel per clock) or unrolled (the flattened
    # netlist as one dense circuit, a whole image per clock). pixels_per_clock: the streaming engine takes
    # that many neighbouring pixels of a row a clock, each kernel built once per pixel of a clock
    "emit": {"name": "dlgn", "backend": "auto", "pipeline": "auto", "conv": "stream", "pixels_per_clock": 1},
    "sim": {"simulator": "verilator", "random_vectors": 1000, "test_vectors": 0},  # 0 test vectors: all
    # route false: place only. router: nextpnr's, or auto (ECP5: router1 and router2 at once; when one has
    # routed the other gets as long again, and the faster result wins). parts: LUTs per part (synthesized apart); xilinx: the LUT6 count of synth_xilinx
    # must_meet: a routed clock below freq_mhz fails the build (after the auto pipeline's retries)
    "synth": {"target": "ecp5-25k", "freq_mhz": 150.0, "route": True, "router": "auto", "seed": 1, "parts": True,
              "xilinx": True, "must_meet": True},
    "ca": {                          # task: ca
        "pattern": "checkerboard",   # checkerboard: grow it from one seed cell; game-of-life: learn Conway's rule
        "grid": 16,                  # training grid (a torus), and the RTL's default size
        "steps": 20,                 # steps the pattern must appear in
        "check_grid": 32,            # generalisation check: a bigger grid ...
        "check_steps": 80,           # ... for more steps
        "state_bits": 1,
        "kernels": 2,                # perception kernels (8 -> 4 -> 2 -> 1 gate trees)
        "update_layers": [8, 4, 2],  # update network widths, then state_bits outputs
        "update_init": "random",     # random, or residual (pass-through gates: for deep update networks)
        "residual_bias": 5.0,
        "restarts": 4,               # fresh initialisations tried until the hardened rule succeeds
        "prune": True,               # checkerboard: remove gates the pattern does not need
    },
}

# One conv layer of `model.conv`: output channels, each a tree of `depth` levels of nodes (node: gate, two
# inputs each, over 2**depth taps; lut: k-input LUTs over k**depth taps) of its window x window window;
# stride and zero padding of the window; OR pooling over pool x pool blocks; init: its nodes'
# initialisation, as model.init's (residual: a tree that starts as one of its taps); candidates > 1
# (node: lut): each first-level input learns which of that many places of the window it reads.
CONV_DEFAULTS = {"channels": 16, "window": 3, "depth": 3, "stride": 1, "padding": 1, "pool": 2, "init": "residual",
                 "node": "gate", "k": 4, "candidates": 1}

CHOICES = {
    ("task",): ("classify", "ca"),
    ("encoding", "thresholds"): ("auto", "uniform", "quantile"),
    ("ca", "pattern"): ("checkerboard", "game-of-life"),
    ("ca", "update_init"): ("random", "residual"),
    ("model", "init"): ("residual", "random"),
    ("model", "local_layers"): ("first", "all"),
    ("model", "node"): ("gate", "lut"),
    ("model", "learned_mapping"): ("first", "all", "none"),
    ("train", "device"): ("cpu", "cuda"),
    ("train", "lr_schedule"): ("constant", "cosine"),
    ("sim", "simulator"): ("icarus", "verilator"),
    ("emit", "backend"): ("auto", "amaranth", "direct"),
    ("emit", "conv"): ("stream", "unrolled"),
    ("synth", "target"): tuple(TARGETS),
    ("synth", "router"): ROUTERS,
}


AUTO_OR_COUNT = {"emit.pipeline"}  # "auto", or a whole number
COUNT_OR_LIST = {"model.local_window"}  # a whole number, or a list of them (checked in _check)
LIST_OF_MAPPINGS = {"model.conv": CONV_DEFAULTS}  # a list of mappings, each over these defaults


def _type_name(v):
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a mapping"}[type(v)]


def _merge(default, given, where, source):
    if not isinstance(given, dict):
        raise HwgenError(f"{source}: {where or 'top level'} must be a mapping")
    merged = copy.deepcopy(default)
    for key, value in given.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in default:
            close = difflib.get_close_matches(str(key), [str(k) for k in default], n=1)
            hint = f" (did you mean \"{close[0]}\"?)" if close else ""
            raise HwgenError(f"{source}: unknown key \"{path}\"{hint}")
        want = default[key]
        if isinstance(want, dict):
            merged[key] = _merge(want, value, path, source)
            continue
        if path in AUTO_OR_COUNT:
            if value != "auto" and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise HwgenError(f"{source}: \"{path}\" must be auto or a count (0 or more), got {value!r}")
            merged[key] = value
            continue
        if path in COUNT_OR_LIST and isinstance(value, list):
            merged[key] = value
            continue
        if path in LIST_OF_MAPPINGS:
            if not isinstance(value, list):
                raise HwgenError(f"{source}: \"{path}\" must be a list of mappings")
            merged[key] = [_merge(LIST_OF_MAPPINGS[path], item, f"{path}[{k}]", source) for k, item in enumerate(value)]
            continue
        ok = (isinstance(value, type(want)) and not (isinstance(value, bool) and not isinstance(want, bool))) or \
             (isinstance(want, float) and isinstance(value, int) and not isinstance(value, bool))
        if not ok:
            raise HwgenError(f"{source}: \"{path}\" must be {_type_name(want)}, got {value!r}")
        choices = CHOICES.get(tuple(path.split(".")))
        if choices and value not in choices:
            raise HwgenError(f"{source}: \"{path}\" must be one of {', '.join(choices)}, got {value!r}")
        merged[key] = float(value) if isinstance(want, float) else value
    return merged


def _check_ca(cfg, source):
    ca = cfg["ca"]
    for key in ("grid", "steps", "check_grid", "check_steps", "state_bits", "kernels", "restarts"):
        if ca[key] < 1:
            raise HwgenError(f"{source}: \"ca.{key}\" must be at least 1")
    if ca["grid"] < 3 or ca["check_grid"] < 3:
        raise HwgenError(f"{source}: \"ca.grid\" and \"ca.check_grid\" must be at least 3")
    if not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in ca["update_layers"]):
        raise HwgenError(f"{source}: \"ca.update_layers\" must be a list of positive integers")
    if ca["pattern"] == "game-of-life" and ca["state_bits"] != 1:
        raise HwgenError(f"{source}: the game of life has one state bit (\"ca.state_bits\": 1)")


def _check(cfg, source):
    if not cfg["emit"]["name"].isidentifier():
        raise HwgenError(f"{source}: \"emit.name\" must be a Verilog identifier, got {cfg['emit']['name']!r}")
    for key in ("steps", "batch_size", "eval_every", "checkpoint_every"):
        if cfg["train"][key] < 1:
            raise HwgenError(f"{source}: \"train.{key}\" must be at least 1")
    if cfg["model"]["candidates"] < 1:
        raise HwgenError(f"{source}: \"model.candidates\" must be at least 1")
    if cfg["emit"]["pixels_per_clock"] < 1:
        raise HwgenError(f"{source}: \"emit.pixels_per_clock\" must be at least 1")
    if cfg["emit"]["pixels_per_clock"] > 1 and not (cfg["model"]["conv"] and cfg["emit"]["conv"] == "stream"):
        raise HwgenError(f"{source}: \"emit.pixels_per_clock\" above 1 is for the streaming engine of a model with "
                         "conv layers (\"emit.conv\": stream)")
    if not 1 <= cfg["model"]["k"] <= MAX_LUT_INPUTS:
        raise HwgenError(f"{source}: \"model.k\" must be in 1..{MAX_LUT_INPUTS} (inputs of a LUT node)")
    if cfg["train"]["shift"] < 0:
        raise HwgenError(f"{source}: \"train.shift\" must be 0 (no augmentation) or more pixels")
    if cfg["train"]["hard_steps"] < 0:
        raise HwgenError(f"{source}: \"train.hard_steps\" must be 0 (no straight-through phase) or more steps")
    teacher = cfg["train"]["teacher"]
    if teacher["hidden"] < 0 or teacher["steps"] < 1 or teacher["temperature"] <= 0 or not 0 <= teacher["alpha"] <= 1:
        raise HwgenError(f"{source}: \"train.teacher\" needs hidden >= 0, steps >= 1, temperature > 0 and "
                         "alpha in 0..1")
    if cfg["model"]["tau"] <= 0 or cfg["train"]["lr"] <= 0 or cfg["train"]["hard_lr"] <= 0:
        raise HwgenError(f"{source}: \"model.tau\", \"train.lr\" and \"train.hard_lr\" must be positive")
    from ..rewrite import check_names
    from ..rewrite.cut_rewrite import MAX_CUT_SIZE

    cut = cfg["simplify"]["cut"]
    if not 2 <= cut["cut_size"] <= MAX_CUT_SIZE or cut["cuts_per_node"] < 1:
        raise HwgenError(f"{source}: \"simplify.cut\" needs cut_size in 2..{MAX_CUT_SIZE} and cuts_per_node at "
                         "least 1")

    check_names(cfg["simplify"]["passes"], exact_only=True)
    if cfg["task"] == "ca":
        _check_ca(cfg, source)
        return
    layers = cfg["model"]["layers"]
    if not layers or not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in layers):
        raise HwgenError(f"{source}: \"model.layers\" must be a non-empty list of positive integers")
    window = cfg["model"]["local_window"]
    windows = window if isinstance(window, list) else [window]
    if not all(isinstance(w, int) and not isinstance(w, bool) and w >= 0 for w in windows):
        raise HwgenError(f"{source}: \"model.local_window\" must be a window size (0 or more) or a list of them")
    if isinstance(window, list):
        local = [w > 0 for w in windows]
        if len(window) != len(layers) or local != sorted(local, reverse=True):
            raise HwgenError(f"{source}: \"model.local_window\" as a list needs one window per layer "
                             f"({len(layers)}), the layers wired at random (0) last")
    if not 0 <= cfg["data"]["validation"] < 1:
        raise HwgenError(f"{source}: \"data.validation\" must be a share of the training set in 0..1 (0: none)")
    if not 1 <= cfg["encoding"]["bits"] <= 255:
        raise HwgenError(f"{source}: \"encoding.bits\" must be in 1..255")
    from ..data import NAMES, NUM_CLASSES

    if cfg["dataset"] not in NAMES and not is_file(cfg["dataset"]):
        raise HwgenError(f"{source}: \"dataset\" must be one of {', '.join(NAMES)} or a file ({', '.join(SUFFIXES)}), "
                         f"got {cfg['dataset']!r}")
    shape = cfg["data"]["image_shape"]
    if shape and (len(shape) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)):
        raise HwgenError(f"{source}: \"data.image_shape\" must be [height, width], got {shape!r}")
    _check_conv(cfg, source)
    classes = NUM_CLASSES.get(cfg["dataset"], 1)  # a file's classes are known when it is read
    if layers[-1] % classes:
        raise HwgenError(f"{source}: \"model.layers\": the last layer ({layers[-1]}) must be a multiple of the "
                         f"{classes} classes")


def _check_conv(cfg, source):
    for k, conv in enumerate(cfg["model"]["conv"]):
        at = f"{source}: \"model.conv[{k}]\""
        if min(conv["channels"], conv["window"], conv["depth"], conv["stride"], conv["pool"]) < 1 or conv["padding"] < 0:
            raise HwgenError(f"{at}: channels, window, depth, stride and pool must be at least 1, padding at least 0")
        if conv["padding"] >= conv["window"] or conv["depth"] > 6:
            raise HwgenError(f"{at}: padding must be smaller than the window, and depth at most 6")
        for key in ("init", "node"):
            if conv[key] not in CHOICES[("model", key)]:
                raise HwgenError(f"{at}: {key} must be {' or '.join(CHOICES[('model', key)])}, got {conv[key]!r}")
        if conv["node"] == "lut" and not (1 <= conv["k"] <= MAX_LUT_INPUTS and conv["k"] ** conv["depth"] <= 4096):
            raise HwgenError(f"{at}: k must be in 1..{MAX_LUT_INPUTS}, and k ** depth taps at most 4096")
        if conv["candidates"] < 1 or (conv["candidates"] > 1 and conv["node"] != "lut"):
            raise HwgenError(f"{at}: candidates must be at least 1, and above 1 only with node: lut (a gate "
                             "tree's taps are fixed)")
    if cfg["model"]["conv"]:
        from ..data import IMAGE_SHAPES

        if cfg["dataset"] not in IMAGE_SHAPES and not is_file(cfg["dataset"]):
            raise HwgenError(f"{source}: \"model.conv\" needs an image data set ({', '.join(IMAGE_SHAPES)})")
        if cfg["emit"]["conv"] == "stream" and cfg["simplify"]["data_aware"]:
            raise HwgenError(f"{source}: the streaming engine (\"emit.conv\": stream) runs the exact kernels at every "
                             "position: data-aware folding needs \"emit.conv\": unrolled")


def from_dict(given, source="config") -> dict:
    cfg = _merge(DEFAULTS, given if given is not None else {}, "", source)
    _check(cfg, source)
    return cfg


def shipped() -> dict:
    """The example configs that ship with hwgen: name -> path."""
    from ..files import package_folder

    return {p.stem: p for p in sorted(package_folder("configs").glob("*.yaml"))}


def load(path) -> dict:
    """A config file; or, where no such file exists, the shipped example of that name (`mnist-small`)."""
    path = Path(path)
    examples = shipped()
    if not path.exists() and path.parent == Path(".") and path.stem in examples:
        path = examples[path.stem]
    text = read_text(path, "config")
    try:
        given = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise HwgenError(f"{path}: not valid YAML{at}") from None
    cfg = from_dict(given, str(path))
    data = path.parent / cfg["dataset"]
    if is_file(cfg["dataset"]) and not Path(cfg["dataset"]).is_absolute() and data.exists():
        cfg["dataset"] = str(data.resolve())  # a data file beside the config, wherever hwgen runs from
    return cfg

