// The bench of a long stream (sim/stream_tb.py starts it): it drives {{NAME}} itself, a transfer per clock
// at most, so that an image of H x W pixels costs the simulator's clocks, not H x W trips through Python.
// As sim/dlgn_tb.py's loop, clock by clock: at the falling edge it offers the next transfer (unless a
// random gap) and sets out_ready (unless a random stall); at the rising edge it counts what was taken and
// writes each result given: "class scores" in hex, a line each, then "cycles N latency L" (L: the fewest
// clocks from a vector's last transfer to its result, -1 when none). The transfers come from a file of
// hex lines. Plusargs: transfers, results (files), count (transfers), per_vector, vectors, gap and stall
// (chances per clock as 32-bit thresholds), seed, limit (clocks).
module {{NAME}}_bench (
  input  wire clk,
  input  wire rst,
  output reg  done
);
  reg in_valid, out_ready;
  reg [{{IN_WIDTH}}-1:0] in_port, next;
  wire in_ready, out_valid;
  wire [{{CLASS_WIDTH}}-1:0] out_class;
  wire [{{SCORES_WIDTH}}-1:0] out_scores;
  {{NAME}} dut (.clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .{{IN_PORT}}(in_port),
                .out_valid(out_valid), .out_ready(out_ready), .out_class(out_class), .out_scores(out_scores));

  reg [8*1024-1:0] transfers_file, results_file;
  reg [31:0] count, per_vector, vectors, gap, stall, rng, limit, sent, got, cycles, in_vector;
  reg [31:0] last_taken [0:63];  // the clock each vector's last transfer went in (fewer are ever in flight)
  reg [31:0] latency;
  reg have_latency;
  integer fin, fout, code;

  function [31:0] xorshift(input [31:0] x);
    reg [31:0] y;
    begin
      y = x ^ (x << 13);
      y = y ^ (y >> 17);
      xorshift = y ^ (y << 5);
    end
  endfunction

  initial begin
    code = $value$plusargs("transfers=%s", transfers_file);
    code = $value$plusargs("results=%s", results_file);
    code = $value$plusargs("count=%d", count);
    code = $value$plusargs("per_vector=%d", per_vector);
    code = $value$plusargs("vectors=%d", vectors);
    code = $value$plusargs("gap=%d", gap);
    code = $value$plusargs("stall=%d", stall);
    code = $value$plusargs("seed=%d", rng);
    code = $value$plusargs("limit=%d", limit);
    fin = $fopen(transfers_file, "r");
    fout = $fopen(results_file, "w");
    code = $fscanf(fin, "%h\n", next);
    sent = 0; got = 0; cycles = 0; in_vector = 0; latency = 0; have_latency = 1'b0;
    in_valid = 1'b0; out_ready = 1'b0; in_port = 0; done = 1'b0;
  end

  always @(negedge clk) begin
    if (!rst && !done) begin
      cycles = cycles + 1;
      rng = xorshift(rng);
      in_valid = sent < count && rng >= gap;
      if (in_valid) in_port = next;
      rng = xorshift(rng);
      out_ready = rng >= stall;
    end
  end

  always @(posedge clk) begin
    if (!rst && !done) begin
      if (in_valid && in_ready) begin
        sent = sent + 1;
        in_vector = in_vector + 1;
        if (in_vector == per_vector) begin
          last_taken[(sent / per_vector - 1) % 64] = cycles;
          in_vector = 0;
        end
        if (sent < count) code = $fscanf(fin, "%h\n", next);
      end
      if (out_valid && out_ready) begin
        if (got < sent / per_vector && (!have_latency || cycles - last_taken[got % 64] < latency)) begin
          latency = cycles - last_taken[got % 64];
          have_latency = 1'b1;
        end
        $fwrite(fout, "%h %h\n", out_class, out_scores);
        got = got + 1;
      end
      if (got == vectors || cycles >= limit) begin
        if (have_latency) $fwrite(fout, "cycles %0d latency %0d\n", cycles, latency);
        else $fwrite(fout, "cycles %0d latency -1\n", cycles);
        $fclose(fout);
        $fclose(fin);
        done = 1'b1;
      end
    end
  end
endmodule
