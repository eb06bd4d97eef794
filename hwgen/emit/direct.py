"""The direct Verilog writer for `NAME_core`: one `wire` per gate, written straight from the netlist.

It does in one pass what Amaranth elaboration does for the core, so it scales to millions of gates; the
two backends produce the same function (a test simulates both).
"""

from ..netlist import Netlist

_EXPR = ["1'b0", "{a} & {b}", "{a} & ~{b}", "{a}", "~{a} & {b}", "{b}", "{a} ^ {b}", "{a} | {b}",
         "~({a} | {b})", "~({a} ^ {b})", "~{b}", "{a} | ~{b}", "~{a}", "~{a} | {b}", "~({a} & {b})", "1'b1"]


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
        lines.append(f"  wire n{n + g} = " + _EXPR[op].format(a=ref(a), b=ref(b)) + ";")
    for j, node in enumerate(net.outputs.tolist()):
        lines.append(f"  assign out_bits[{j}] = {ref(node)};")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def _expression(expr, width: int, widths: dict) -> str:
    kind = expr[0]
    if kind == "gate":
        return _EXPR[expr[1]].format(a=expr[2], b=expr[3])
    if kind == "const":
        return f"{width}'d{expr[1]}"
    if kind == "ge":
        return f"{expr[1]} >= {widths[expr[1]]}'d{expr[2]}"
    if kind == "add":
        return " + ".join(_widen(x, widths[x], width) for x in expr[1:])
    if kind == "gt":
        return f"{expr[1]} > {expr[2]}"
    if kind == "mux":
        return f"{expr[1]} ? {expr[2]} : {expr[3]}"
    if kind == "slice":
        return f"{expr[1]}[{expr[2]}]" if width == 1 else f"{expr[1]}[{expr[2]} +: {width}]"
    if kind == "cat":
        return "{" + ", ".join(reversed(expr[1])) + "}"
    raise ValueError(f"unknown expression {kind}")


def _widen(name: str, width: int, to: int) -> str:
    return name if width == to else f"{{{to - width}'d0, {name}}}"


def _range(width: int) -> str:
    return f"[{width - 1}:0]"


def pipelined_core_verilog(plan, name: str) -> str:
    """NAME_core: the plan of `pipeline.plan_core` as Verilog, one section per pipeline stage."""
    widths = plan.widths
    lines = [f"// {name}: pipelined classifier core, latency {plan.latency} clocks, a new sample every clock",
             "/* verilator lint_off DECLFILENAME */  // NAME.v holds NAME and NAME_core, as the RTL contract says",
             f"module {name} (",
             "  input  wire clk,",
             "  input  wire rst,",
             "  input  wire in_valid,"]
    if plan.unused_input_bits:
        lines.append(f"  /* verilator lint_off UNUSEDSIGNAL */  // {plan.unused_input_bits} input bits "
                     "are read by no gate")
    lines.append(f"  input  wire {_range(plan.input_width)} {plan.input_port},")
    if plan.unused_input_bits:
        lines.append("  /* verilator lint_on UNUSEDSIGNAL */")
    lines += ["  output wire out_valid,",
              f"  output wire {_range(plan.class_width)} out_class,",
              f"  output wire {_range(plan.scores_width)} out_scores",
              ");",
              f"  reg {_range(plan.latency)} valid;  // valid[k]: the sample that entered k + 1 clocks ago is real",
              "  always @(posedge clk) begin",
              "    if (rst) valid <= 0;",
              "    else valid <= " + (f"{{valid[{plan.latency - 2}:0], in_valid}};" if plan.latency > 1 else "in_valid;"),
              "  end"]
    sections = plan.sections + [(len(plan.comb), len(plan.sync), None)]
    for (c0, s0, comment), (c1, s1, _) in zip(sections, sections[1:]):
        lines.append(f"  // {comment}")
        for target, expr in plan.comb[c0:c1]:
            width = widths[target]
            lines.append(f"  wire {_range(width)} {target} = {_expression(expr, width, widths)};")
        if s1 > s0:
            for target, _ in plan.sync[s0:s1]:
                lines.append(f"  reg {_range(widths[target])} {target};")
            lines.append("  always @(posedge clk) begin")
            lines += [f"    {target} <= {source};" for target, source in plan.sync[s0:s1]]
            lines.append("  end")
    lines += [f"  assign out_valid = valid[{plan.latency - 1}];",
              f"  assign out_class = {plan.out_class};",
              f"  assign out_scores = {plan.out_scores};",
              "endmodule"]
    return "\n".join(lines) + "\n"
