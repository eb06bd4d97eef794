"""The RTL plan's expressions: small typed values. The scheduler reads their operands and kind (the key of
targets.DELAYS); each backend (direct.py, amaranth_rtl.py) matches every kind once. Operands are signal
names; a value is 1 bit wide unless its destination says otherwise."""

from dataclasses import dataclass
from typing import Callable, ClassVar


class Expr:
    kind: ClassVar[str]

    def operands(self) -> list:
        """The signal names it reads."""
        return []

    def renamed(self, rename: Callable[[str], str]) -> "Expr":
        """The same expression reading rename(x) for every operand x."""
        return self


@dataclass(frozen=True)
class Gate(Expr):
    """A two-input gate, op as in the netlist contract; None for an operand the op ignores."""
    op: int
    a: str | None
    b: str | None
    kind = "gate"

    def operands(self):
        return [x for x in (self.a, self.b) if x is not None]

    def renamed(self, rename):
        return Gate(self.op, *(None if x is None else rename(x) for x in (self.a, self.b)))


@dataclass(frozen=True)
class Ge(Expr):
    """src >= threshold (an unsigned constant): an encoder's comparator."""
    src: str
    threshold: int
    kind = "ge"

    def operands(self):
        return [self.src]

    def renamed(self, rename):
        return Ge(rename(self.src), self.threshold)


@dataclass(frozen=True)
class Add(Expr):
    """The zero-extended sum of the terms, truncated to the destination's width."""
    terms: tuple
    kind = "add"

    def operands(self):
        return list(self.terms)

    def renamed(self, rename):
        return Add(tuple(map(rename, self.terms)))


@dataclass(frozen=True)
class Gt(Expr):
    """a > b."""
    a: str
    b: str
    kind = "gt"

    def operands(self):
        return [self.a, self.b]

    def renamed(self, rename):
        return Gt(rename(self.a), rename(self.b))


@dataclass(frozen=True)
class Mux(Expr):
    """sel ? a : b."""
    sel: str
    a: str
    b: str
    kind = "mux"

    def operands(self):
        return [self.sel, self.a, self.b]

    def renamed(self, rename):
        return Mux(rename(self.sel), rename(self.a), rename(self.b))


@dataclass(frozen=True)
class Slice(Expr):
    """src[lo +: width of the destination]."""
    src: str
    lo: int
    kind = "slice"

    def operands(self):
        return [self.src]

    def renamed(self, rename):
        return Slice(rename(self.src), self.lo)


@dataclass(frozen=True)
class Cat(Expr):
    """The concatenation of the parts, the first in the lowest bits."""
    parts: tuple
    kind = "cat"

    def operands(self):
        return list(self.parts)

    def renamed(self, rename):
        return Cat(tuple(map(rename, self.parts)))


@dataclass(frozen=True)
class Const(Expr):
    value: int
    kind = "const"


@dataclass(frozen=True)
class Lut(Expr):
    """A k-input lookup table: bit sum_j inputs[j] * 2**j of table (a full adder's sum is Lut(0x96, (a, b,
    c)), its carry Lut(0xE8, (a, b, c)))."""
    table: int
    inputs: tuple
    kind = "lut"

    def operands(self):
        return list(self.inputs)

    def renamed(self, rename):
        return Lut(self.table, tuple(map(rename, self.inputs)))
