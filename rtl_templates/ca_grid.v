// {{NAME}}: a torus of H x W cells, {{S}} state bit(s) each, every cell running the rule {{NAME}}_rule.
// Cell (y, x) holds state[(y*W + x)*{{S}} +: {{S}}]. rst loads the seed (bit 0 of the centre cell set),
// load loads load_state, and each clock with step high moves every cell one step at once.
module {{NAME}} #(
  parameter H = {{H}},
  parameter W = {{W}}
) (
  input  wire                   clk,
  input  wire                   rst,
  input  wire                   load,
  input  wire [H*W*{{S}}-1:0]   load_state,
  input  wire                   step,
  output wire [H*W*{{S}}-1:0]   state
);
  localparam S = {{S}};
  reg  [H*W*S-1:0] cells;
  wire [H*W*S-1:0] next;
  assign state = cells;

  genvar y, x;
  generate
    for (y = 0; y < H; y = y + 1) begin : row
      for (x = 0; x < W; x = x + 1) begin : col
        // the rule's input: neighbour k (row by row from north-west, k = 4 the cell) at bits k*S +: S
        wire [9*S-1:0] hood;
{{HOOD}}
        {{NAME}}_rule rule (.in_bits(hood), .out_bits(next[(y*W + x)*S +: S]));
      end
    end
  endgenerate

  always @(posedge clk) begin
    if (rst) begin
      cells <= {H*W*S{1'b0}};
      cells[((H/2)*W + W/2)*S] <= 1'b1;
    end else if (load) begin
      cells <= load_state;
    end else if (step) begin
      cells <= next;
    end
  end
endmodule
