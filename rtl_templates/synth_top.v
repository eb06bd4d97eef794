// Synthesis harness for {{NAME}}: shift registers feed its {{N}}-bit input port from {{PINS}} pins, so the
// design fits a package's I/O count. Each pin drives a chain of one bit of consecutive features, so a bit
// the design never reads leaves a chain that synthesis removes, and no chain runs across the whole input.
// Only the class leaves the chip; the scores are used by the argmax, so all of their logic stays. The
// flip-flops of the harness are counted apart (harness_ffs). hwgen/synthesis.py fills this template and
// names its registers (HARNESS_REGISTERS) and its module (TOP): the two must agree (tests/test_layout.py).
module hwgen_synth_top (
  input clk,
  input rst,
  input sen,
  input [{{PINS}}-1:0] sin,
  input in_valid,
  output in_ready,
  output out_valid,
  input out_ready,
  output [{{CW}}-1:0] out_class
);
  // The chain shifts under an enable: were its flip-flops plain, synthesis would merge the core's input
  // register with them (both take the same bit a clock later) and place the core along the chain.
  reg [{{N}}-1:0] shift;
  always @(posedge clk) if (sen) begin
{{SHIFT}}
  end
  // Two registers on each handshake input, as a design inside a chip would have: nextpnr places the pins
  // anywhere, often on opposite sides, and the flow control should not be timed across the die.
  reg [1:0] in_valid_r, out_ready_r;
  always @(posedge clk) begin
    in_valid_r <= {in_valid_r[0], in_valid};
    out_ready_r <= {out_ready_r[0], out_ready};
  end

  {{NAME}} dut (
    .clk(clk), .rst(rst),
    .in_valid(in_valid_r[1]), .in_ready(in_ready), .{{IN_PORT}}(shift),
    .out_valid(out_valid), .out_ready(out_ready_r[1]), .out_class(out_class), .out_scores()
  );
endmodule
