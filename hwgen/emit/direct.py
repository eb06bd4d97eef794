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
