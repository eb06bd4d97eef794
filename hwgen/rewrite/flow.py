"""The one simplify flow, for `hwgen simplify`, `hwgen build` and the cellular-automaton build: the exact
passes; the proof (ABC cec) that their result is equivalent, when asked for; then, given data, data-aware
folding (lossy, guarded by test accuracy)."""

import time
from dataclasses import dataclass, field

from ..errors import HwgenError
from ..flow.config import DEFAULTS
from ..netlist import Netlist


@dataclass
class Simplified:
    exact: Netlist                  # the result of the exact passes, equivalent to the input
    final: Netlist                  # the same, or after data-aware folding
    passes: list                    # each pass's statistics
    equivalence: str                # "proven", or "not checked"
    data_aware: dict | None = None  # data-aware folding's figures
    seconds: dict = field(default_factory=dict)


def simplify(net: Netlist, passes=DEFAULTS["simplify"]["passes"], verify: bool = DEFAULTS["simplify"]["verify"],
             data=None, rare_fraction: float = DEFAULTS["simplify"]["rare_fraction"],
             max_accuracy_drop: float = DEFAULTS["simplify"]["max_accuracy_drop"]) -> Simplified:
    """data: an object with train_x, test_x and test_y (raw features, or input bits without an encoder)."""
    from . import run

    start = time.perf_counter()
    exact, stats = run(net, passes)
    seconds = {"simplify": round(time.perf_counter() - start, 2)}
    equivalence = "not checked"
    if verify:
        from ..interop.abc import prove_equivalent

        start = time.perf_counter()
        if not prove_equivalent(net, exact):
            raise HwgenError("the simplified netlist is NOT equivalent to its input (ABC cec); nothing written")
        equivalence, seconds["verify"] = "proven", round(time.perf_counter() - start, 2)
    result = Simplified(exact, exact, stats, equivalence, seconds=seconds)
    if data is not None:
        from .data_aware import simplify_with_data

        start = time.perf_counter()
        result.final, result.data_aware = simplify_with_data(exact, passes, data, rare_fraction, max_accuracy_drop)
        seconds["data_aware"] = round(time.perf_counter() - start, 2)
    return result
