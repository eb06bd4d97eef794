// {{NAME}}: valid/ready stream around the streaming conv engine {{NAME}}_core. In: one pixel per transfer,
// {{PIXELS}} per image in raster order (row 0 first, each row from x = 0). Out: per image its class and
// scores, {{LATENCY}} clocks after its last pixel. The engine never stalls. An image is admitted (its first
// pixel taken) only while the output FIFO is sure to have room for its result (a credit per image); after
// that every pixel of it is taken as it comes, so backpressure on out_ready holds images back whole and
// never drops or reorders a pixel. in_ready is a function of registers only. With out_ready high, one
// pixel per clock flows, image after image. hwgen/emit/stream.py fills this template.
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
  localparam DEPTH_BITS = {{DEPTH_BITS}};  // the FIFO holds 2**DEPTH_BITS results: every image in flight
  localparam WIDTH = {{CLASS_WIDTH}} + {{SCORES_WIDTH}};

  reg [{{PIXEL_BITS}}-1:0] taken;  // pixels of the current image taken so far
  reg [DEPTH_BITS:0] credits;      // images admitted and not yet given back
  reg gave;
  assign in_ready = (taken != 0) | ~credits[DEPTH_BITS];
  wire take = in_valid & in_ready;
  wire admit = take & (taken == 0);
  wire give = out_valid & out_ready;

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
    if (rst) begin
      taken <= 0;
      credits <= 0;
      gave <= 0;
      write_at <= 0;
      read_at <= 0;
    end else begin
      if (take) taken <= taken == {{PIXEL_BITS}}'d{{LAST_PIXEL}} ? 0 : taken + 1'b1;
      gave <= give;
      credits <= credits + {{{DEPTH_BITS}}'d0, admit} - {{{DEPTH_BITS}}'d0, gave};
      if (core_valid) write_at <= write_at + 1'b1;
      if (give) read_at <= read_at + 1'b1;
    end
  end
  assign out_valid = write_at != read_at;
  assign {out_scores, out_class} = fifo[read_at[DEPTH_BITS-1:0]];
endmodule
