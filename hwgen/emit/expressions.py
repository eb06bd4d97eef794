"""The RTL plan's expressions: small typed values. The scheduler reads their operands and kind (the key of
targets.DELAYS); each backend (direct.py, amaranth_rtl.py) matches every kind once. Operands are signal
names: every str field, and every str in a tuple field (an int field is a constant: an op, a threshold, a
bit position, a table); a value is 1 bit wide unless its destination says otherwise."""

import dataclasses
from typing import Callable, ClassVar


class Expr:
    kind: ClassVar[str]

    def operands(self) -> list:
        """The signal names it reads, in field order."""
        names = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            names += [x for x in value if isinstance(x, str)] if isinstance(value, tuple) else \
                [value] if isinstance(value, str) else []
        return names

    def renamed(self, rename: Callable[[str], str]) -> "Expr":
        """The same expression reading rename(x) for every operand x."""
        def mapped(value):
            if isinstance(value, tuple):
                return tuple(rename(x) if isinstance(x, str) else x for x in value)
            return rename(value) if isinstance(value, str) else value
        return dataclasses.replace(self, **{f.name: mapped(getattr(self, f.name)) for f in dataclasses.fields(self)})


@dataclasses.dataclass(frozen=True)
class Gate(Expr):
    """A two-input gate, op as in the netlist contract; None for an operand the op ignores."""
    op: int
    a: str | None
    b: str | None
    kind = "gate"


@dataclasses.dataclass(frozen=True)
class Ge(Expr):
    """src >= threshold (an unsigned constant): an encoder's comparator."""
    src: str
    threshold: int
    kind = "ge"


@dataclasses.dataclass(frozen=True)
class Add(Expr):
    """The zero-extended sum of the terms, truncated to the destination's width."""
    terms: tuple
    kind = "add"


@dataclasses.dataclass(frozen=True)
class Gt(Expr):
    """a > b."""
    a: str
    b: str
    kind = "gt"


@dataclasses.dataclass(frozen=True)
class Mux(Expr):
    """sel ? a : b."""
    sel: str
    a: str
    b: str
    kind = "mux"


@dataclasses.dataclass(frozen=True)
class Slice(Expr):
    """src[lo +: width of the destination]."""
    src: str
    lo: int
    kind = "slice"


@dataclasses.dataclass(frozen=True)
class Cat(Expr):
    """The concatenation of the parts, the first in the lowest bits."""
    parts: tuple
    kind = "cat"


@dataclasses.dataclass(frozen=True)
class Const(Expr):
    value: int
    kind = "const"


@dataclasses.dataclass(frozen=True)
class Lut(Expr):
    """A k-input lookup table: bit sum_j inputs[j] * 2**j of table (a full adder's sum is Lut(0x96, (a, b,
    c)), its carry Lut(0xE8, (a, b, c)))."""
    table: int
    inputs: tuple
    kind = "lut"
