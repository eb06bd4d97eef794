"""The direct Verilog writer for `NAME_core`: one `wire` per gate, written straight from the netlist.

It does in one pass what Amaranth elaboration does for the core, so it scales to millions of gates; the
two backends produce the same function (a test simulates both).
"""

from .. import ops
from ..netlist import Netlist
from .expressions import Add, Cat, Const, Gate, Ge, Gt, Lut, Mux, Slice
from .pipeline import AND2, MAJ3, PARTS, XOR2, XOR3, compare_chain

_EXPR = [ops.spell(op, "{a}", "{b}", "1'b0", "1'b1") for op in range(16)]


def core_verilog(net: Netlist, name: str) -> str:
    n = net.num_inputs

    def ref(node):
        return f"in_bits[{node}]" if node < n else f"n{node}"

    lines = [f"// {name}: {net.num_gates} gates, combinational; out_bits[j] is node outputs[j]",
             f"module {name} (",
             f"  input  wire [{n - 1}:0] in_bits,",
             f"  output wire [{len(net.outputs) - 1}:0] out_bits",
             ");"]
    for g, (op, a, b) in enumerate(zip(net.ops.tolist(), net.a.tolist(), net.b.tolist())):
        node = net.node(g)
        value = _lut_expression(node[1], [ref(x) for x in node[2]]) if node[0] == "lut" else \
            _EXPR[op].format(a=ref(a), b=ref(b))
        lines.append(f"  wire n{n + g} = {value};")
    for j, node in enumerate(net.outputs.tolist()):
        lines.append(f"  assign out_bits[{j}] = {ref(node)};")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def _expression(expr, width: int, widths: dict) -> str:
    match expr:
        case Gate(op, a, b):
            return _EXPR[op].format(a=a, b=b)
        case Const(value):
            return f"{width}'d{value}"
        case Ge(src, threshold):
            chain = compare_chain(threshold, widths[src])
            text = f"{src}[{chain[0][0]}]"
            for bit, op in chain[1:]:
                text = f"{src}[{bit}] {op} ({text})"
            return text
        case Add(terms):
            return " + ".join(_widen(x, widths[x], width) for x in terms)
        case Gt(a, b):
            return f"{a} > {b}"
        case Mux(sel, a, b):
            return f"{sel} ? {a} : {b}"
        case Slice(src, lo):
            return f"{src}[{lo}]" if width == 1 else f"{src}[{lo} +: {width}]"
        case Cat(parts):
            return "{" + ", ".join(reversed(parts)) + "}"
        case Lut(table, inputs):
            return _lut_expression(table, inputs)
    raise ValueError(f"unknown expression {expr!r}")


_NAMED_TABLES = {(XOR3, 3): "{0} ^ {1} ^ {2}", (MAJ3, 3): "({0} & {1}) | ({0} & {2}) | ({1} & {2})",
                 (XOR2, 2): "{0} ^ {1}", (AND2, 2): "{0} & {1}"}


def _lut_expression(table: int, inputs: list) -> str:
    """A lookup table over `inputs` (input j is address bit j): a known table as its expression, else
    the sum of the minterms where it is 1."""
    named = _NAMED_TABLES.get((table, len(inputs)))
    if named:
        return named.format(*inputs)
    terms = [" & ".join(x if (address >> j) & 1 else f"~{x}" for j, x in enumerate(inputs))
             for address in range(1 << len(inputs)) if (table >> address) & 1]
    return " | ".join(f"({t})" for t in terms) if terms else "1'b0"


def _widen(name: str, width: int, to: int) -> str:
    return name if width == to else f"{{{to - width}'d0, {name}}}"


def _range(width: int) -> str:
    return f"[{width - 1}:0]"


def _parts(plan) -> list:
    """Per part of the core, in order: (part, [(section comment, comb, sync)], inputs, outputs). A part
    reads what other parts (or the input port) drive, and drives what other parts or the outputs read."""
    parts = {}
    sections = plan.sections + [(len(plan.comb), len(plan.sync), None)]
    for (c0, s0, comment), (c1, s1, _) in zip(sections, sections[1:]):
        for part in dict.fromkeys(plan.part_of[t] for t, _ in plan.comb[c0:c1] + plan.sync[s0:s1]):
            comb = [(t, e) for t, e in plan.comb[c0:c1] if plan.part_of[t] == part]
            sync = [(t, src) for t, src in plan.sync[s0:s1] if plan.part_of[t] == part]
            parts.setdefault(part, []).append((comment, comb, sync))
    reads, defines = {}, {}
    for part, blocks in parts.items():
        defines[part] = {t for _, comb, sync in blocks for t, _ in comb + sync}
        read = [x for _, comb, sync in blocks
                for x in [r for _, e in comb for r in e.operands()] + [s for _, s in sync]]
        reads[part] = list(dict.fromkeys(x for x in read if x not in defines[part]))
    wanted = {x for part in parts for x in reads[part]} | set(plan.outputs.values())
    return [(part, parts[part], reads[part], sorted(x for x in defines[part] if x in wanted))
            for part in ("input",) + PARTS if part in parts]


def pipelined_core_verilog(plan, name: str) -> str:
    """NAME_core: the plan of `pipeline.plan_core` as Verilog. The core instantiates one module per part
    (NAME_core_input, _encoder, _gates, _popcount, _argmax, each printed stage by stage), so that synthesis
    can count each apart."""
    widths = {**plan.widths, plan.input_port: plan.input_width}
    parts = _parts(plan)
    lines = [f"// {name}: pipelined classifier core, latency {plan.latency} clocks, a new sample every clock",
             "/* verilator lint_off DECLFILENAME */  // NAME.v holds NAME, NAME_core and the core's parts"]
    for part, blocks, inputs, outputs in parts:
        registers = {t for _, _, sync in blocks for t, _ in sync}
        ports = ["  input  wire clk"] if registers else []
        for x in inputs:
            port = f"  input  wire {_range(widths[x])} {x}"
            if x == plan.input_port and plan.unused_input_bits:
                port = (f"  /* verilator lint_off UNUSEDSIGNAL */  // {plan.unused_input_bits} input bits are read by "
                        f"no gate\n{port}")
            ports.append(port)
        ports += [f"  output {'reg ' if x in registers else 'wire'} {_range(widths[x])} {x}" for x in outputs]
        lines += [f"module {name}_{part} (", ",\n".join(ports), ");"]
        if plan.input_port in inputs and plan.unused_input_bits:
            lines.append("  /* verilator lint_on UNUSEDSIGNAL */")
        for comment, comb, sync in blocks:
            lines.append(f"  // {comment}")
            for target, expr in comb:
                value = _expression(expr, widths[target], widths)
                lines.append(f"  assign {target} = {value};" if target in outputs else
                             f"  wire {_range(widths[target])} {target} = {value};")
            if sync:
                lines += [f"  reg {_range(widths[target])} {target};" for target, _ in sync if target not in outputs]
                lines.append("  always @(posedge clk) begin")
                lines += [f"    {target} <= {source};" for target, source in sync]
                lines.append("  end")
        lines += ["endmodule", ""]
    lines += [f"module {name} (",
              "  input  wire clk,",
              "  input  wire rst,",
              "  input  wire in_valid,",
              f"  input  wire {_range(plan.input_width)} {plan.input_port},",
              "  output wire out_valid,",
              ",\n".join(f"  output wire {_range(widths[x])} {port}" for port, x in plan.outputs.items()),
              ");",
              f"  reg {_range(plan.latency)} valid;  // valid[k]: the sample that entered k + 1 clocks ago is real",
              "  always @(posedge clk) begin",
              "    if (rst) valid <= 0;",
              "    else valid <= " + (f"{{valid[{plan.latency - 2}:0], in_valid}};" if plan.latency > 1 else "in_valid;"),
              "  end"]
    lines += [f"  wire {_range(widths[x])} {x};" for _, _, _, outputs in parts for x in outputs]
    for part, blocks, inputs, outputs in parts:
        clock = ["clk"] if any(sync for _, _, sync in blocks) else []
        lines.append(f"  {name}_{part} {part}_part (" + ", ".join(f".{x}({x})" for x in clock + inputs + outputs) + ");")
    lines += [f"  assign out_valid = valid[{plan.latency - 1}];"]
    lines += [f"  assign {port} = {x};" for port, x in plan.outputs.items()]
    lines.append("endmodule")
    return "\n".join(lines) + "\n"
