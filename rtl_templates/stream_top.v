{{HEADER}}
{{PORT_LAYOUT}}
module {{NAME}} (
  input  wire clk,
  input  wire rst,
  input  wire in_valid,
  output wire in_ready,
  input  wire [{{IN_WIDTH}}-1:0] {{IN_PORT}},
  output wire out_valid,
  input  wire out_ready,
  output wire [{{CLASS_WIDTH}}-1:0] out_class,
  output wire [{{SCORES_WIDTH}}-1:0] out_scores
);
  localparam DEPTH_BITS = {{DEPTH_BITS}};  // the FIFO holds 2**DEPTH_BITS results: {{DEPTH_REASON}}
  localparam WIDTH = {{CLASS_WIDTH}} + {{SCORES_WIDTH}};

  wire take = in_valid & in_ready;
  wire give = out_valid & out_ready;
  // Credits: results owed, for {{ADMITTED}} taken and not yet given back (in the core or in the FIFO).
  // A given slot is returned a clock later (gave), so that out_ready and the FIFO's pointers are not
  // timed into the credit counter. The FIFO is full exactly at 2**DEPTH_BITS credits.
  reg [DEPTH_BITS:0] credits;
  reg gave;
{{ADMISSION}}
  wire core_valid;
  wire [{{CLASS_WIDTH}}-1:0] core_class;
  wire [{{SCORES_WIDTH}}-1:0] core_scores;
  {{NAME}}_core core (
    .clk(clk), .rst(rst), .in_valid(take), .{{IN_PORT}}({{IN_PORT}}),
    .out_valid(core_valid), .out_class(core_class), .out_scores(core_scores)
  );

  reg [WIDTH-1:0] fifo [0:(1 << DEPTH_BITS) - 1];
  reg [DEPTH_BITS:0] write_at, read_at;  // one extra bit tells full from empty
  always @(posedge clk) begin
    if (core_valid) fifo[write_at[DEPTH_BITS-1:0]] <= {core_scores, core_class};
    if (rst) begin{{ADMISSION_RESET}}
      credits <= 0;
      gave <= 0;
      write_at <= 0;
      read_at <= 0;
    end else begin
      gave <= give;{{ADMISSION_UPDATE}}
      credits <= credits + {{{DEPTH_BITS}}'d0, admit} - {{{DEPTH_BITS}}'d0, gave};
      if (core_valid) write_at <= write_at + 1'b1;
      if (give) read_at <= read_at + 1'b1;
    end
  end
  assign out_valid = write_at != read_at;
  assign {out_scores, out_class} = fifo[read_at[DEPTH_BITS-1:0]];
endmodule
