"""The streaming engine for a conv netlist (v3): raw pixels in raster order on a valid/ready stream, one per
clock, and per image its class and scores out.

Per conv stage the engine holds line buffers and a window register, the kernel logic once (a pipelined
core of `pipeline.plan_core`, printed by `direct.py`), and OR pooling with a row buffer; then the last
feature map is collected and the dense head (the classifier core of the dense flow) runs once per image.

How a stage sees its input: as one stream of slots, a slot per pixel, image after image in raster order
(no padding slots). The window holds the slots (k-1-dy)*W + (k-1-dx) behind the newest at tap (dy, dx),
so when the newest slot is pixel (y + k-1-p, x + k-1-p), tap (dy, dx) holds pixel (y - p + dy, x - p + dx)
of the output position whose anchor tap (p, p) is pixel (y, x); a tap that falls outside the image
(the zero padding, or a neighbouring row or image wrapped in) is masked to 0 by the anchor's position.
An image's last outputs need slots after its last pixel: the next image's first pixels, or, while the
input is idle between images, empty slots the stage makes itself (`owed`). So back-to-back images flow
at one pixel per clock, and a lone image still comes out.

With P pixels a clock (`pixels_per_clock`), a slot is P neighbouring pixels of a row: the line buffers and
the window hold slots, each lane's taps are pixels within them, the kernel is built once per lane, and a
q x q pooling leaves slots of P / q pixels for the next stage (`_Stage`, `_check_lanes`).

Flow control: the stages never stall. The top level admits an image (its first pixel) only while the
output FIFO is sure to have room for its result (credits, as in stream_top.v); within an image every
pixel is taken as it comes, so backpressure never drops or reorders a pixel.
"""

import math
from dataclasses import dataclass

from ..convnet import ConvNetlist, ConvStage
from ..errors import HwgenError
from . import RTL_FORMAT
from .direct import _range, pipelined_core_verilog
from .pipeline import CorePlan, feature_bits, plan_core
from .verilog import port_layout, top_verilog


def _bits(n: int) -> int:
    """Bits of a counter that holds 0 .. n - 1."""
    return max(1, (n - 1).bit_length())


def _less(counter: str, limit: int, width: int) -> str:
    """counter < limit, for a counter of `width` bits (always true where limit does not fit in them)."""
    return "1'b1" if limit >= 1 << width else f"{counter} < {width}'d{limit}"


def _count_up(counter: str, limit: int, width: int) -> str:
    return f"{counter} == {width}'d{limit - 1} ? {width}'d0 : {counter} + {width}'d1"


class _Stage:
    """One conv stage's geometry on its input (H, W, C), taken `lanes` pixels of a row at a time: a slot
    is a group of that many neighbouring pixels (lane l: the group's l-th pixel), W / lanes groups a row."""

    def __init__(self, stage: ConvStage, shape: tuple, lanes: int = 1):
        self.h, self.w, self.c = shape
        k, s, p, q = stage.window, stage.stride, stage.padding, stage.pool
        self.k, self.s, self.p, self.q, self.lanes = k, s, p, q, lanes
        self.oh, self.ow = ((n + 2 * p - k) // s + 1 for n in (self.h, self.w))  # conv output positions
        self.ph, self.pw = self.oh // q, self.ow // q
        self.groups = self.w // lanes  # slots a row
        # The window holds, per row, the anchor's group, `right` groups after it and `left` before it.
        self.right, self.left = -(-(k - 1 - p) // lanes), -(-p // lanes)
        self.anchor_delay = (k - 1 - p) * self.groups + self.right  # slots between the newest and the anchor's
        # the slot that anchors the last output
        last = ((self.ph * q - 1) * s) * self.groups + ((self.pw * q - 1) * s) // lanes
        self.flush = max(0, last + self.anchor_delay - (self.h * self.groups - 1))  # slots after the last pixel

    @property
    def out_lanes(self) -> int:
        """Pixels a slot of the stage's output (after pooling) carries."""
        return max(1, self.lanes // self.q)

    def inside(self, axis: str, d: int, lane: int = 0) -> tuple[int, int]:
        """The anchor positions (rows; along x, slots) at which tap d along `axis` (of lane `lane`) is inside
        the image, 0 <= anchor - p + d < size: low <= position <= high."""
        if axis == "y":
            return self.p - d, self.h - 1 + self.p - d
        n = self.lanes
        return -((d + lane - self.p) // n), (self.w - 1 + self.p - d - lane) // n

    def masked(self, dy: int, dx: int, lane: int = 0) -> tuple[bool, bool]:
        """Whether tap (dy, dx) of lane `lane` can fall outside the image along y, along x."""
        low, high = self.inside("x", dx, lane)
        last = (self.ow // self.lanes - 1) * self.s  # the last output's anchor slot
        return dy - self.p < 0 or (self.oh - 1) * self.s - self.p + dy > self.h - 1, low > 0 or high < last

    def tap_at(self, dx: int, lane: int) -> tuple[int, int]:
        """Where lane `lane`'s tap at column dx is in a row of the window: (the slot, the pixel in it)."""
        return divmod(self.left * self.lanes + lane - self.p + dx, self.lanes)


def _check_lanes(g: _Stage, at: str):
    """The geometry a stage needs to take `lanes` > 1 pixels a slot."""
    if g.lanes == 1:
        return
    if g.s != 1 or g.w % g.lanes or g.ow % g.lanes:
        raise HwgenError(f"{at}: {g.lanes} pixels a clock need stride 1 and a width ({g.w} in, {g.ow} out) that "
                         f"{g.lanes} divides")
    if g.q > 1 and g.lanes % g.q:
        raise HwgenError(f"{at}: {g.lanes} pixels a clock cannot be pooled {g.q} x {g.q} ({g.q} must divide {g.lanes})")
    if g.k > 2 and g.groups < 2:
        raise HwgenError(f"{at}: a row of {g.w} pixels is a single slot of {g.lanes}: use fewer pixels a clock")


def _window_module(name: str, g: _Stage) -> str:
    """Line buffers, window, anchor position and masks of one stage: its output is, lane after lane, each
    output position's masked window (the kernel's input order) with a valid strobe."""
    k, c, h, s, p, n = g.k, g.c, g.h, g.s, g.p, g.lanes
    w, cols, slots, owed_max = g.groups, g.left + 1 + g.right, h * g.groups, g.anchor_delay
    ib, ob, yb, xb = _bits(slots), _bits(owed_max + 1), _bits(h), _bits(w)
    lines = [f"// stage window: {h}x{g.w}x{c} in" + (f", {n} pixels a slot" if n > 1 else "")
             + f", {k}x{k} window, stride {s}, padding {p}",
             f"module {name} (",
             "  input  wire clk,", "  input  wire rst,", "  input  wire in_valid,",
             f"  input  wire {_range(n * c)} in_pixel,",
             "  output wire out_valid,",
             f"  output wire {_range(n * k * k * c)} out_window",
             ");",
             f"  reg {_range(ib)} taken;  // " + ("pixels" if n == 1 else "slots") + " of the current image in so far",
             f"  reg {_range(ob)} owed;   // slots the last image still needs after its last pixel",
             "  reg at_start, owing;      // taken == 0, owed != 0: kept as flags, so no path runs through a count",
             "  wire empty = owing & at_start & ~in_valid;  // a slot made here while the input is idle between images",
             "  wire advance = in_valid | empty;",
             f"  wire last = taken == {ib}'d{slots - 1};",
             "  always @(posedge clk) begin",
             "    if (rst) begin",
             "      taken <= 0; owed <= 0; at_start <= 1; owing <= 0;",
             "    end else begin",
             f"      if (in_valid) begin taken <= last ? {ib}'d0 : taken + {ib}'d1; at_start <= last; end",
             f"      if (in_valid && last) begin owed <= {ob}'d{owed_max}; owing <= 1'b{int(owed_max != 0)}; end",
             f"      else if (advance && owing) begin owed <= owed - {ob}'d1; owing <= owed != {ob}'d1; end",
             "    end",
             "  end"]
    # pixel[j]: the slot j behind the newest holds pixels (not an empty slot); pixel[anchor]: the anchor's
    depth = g.anchor_delay + 1
    lines += [f"  reg {_range(depth)} pixel;",
              "  always @(posedge clk) begin",
              "    if (rst) pixel <= 0;",
              "    else if (advance) pixel <= " + (f"{{pixel[{depth - 2}:0], in_valid}};" if depth > 1 else "in_valid;"),
              "  end",
              f"  wire anchor_real = pixel[{depth - 1}];"]
    # tap_dy_j: row dy's slot j of the window (j = cols - 1 the newest). Row dy's newest slot comes from
    # line k - 1 - dy (line 0: the input), each line a delay of a row's slots; the rest of the row shifts.
    last_col, slot = cols - 1, _range(n * c)
    lines.append("  // line j holds the slot j * W behind the newest: a memory of W (line 1) or W - 1 slots")
    for j in range(1, k):
        length = w if j == 1 else w - 1
        source = "in_pixel" if j == 1 else f"tap_{k - j}_{last_col}"
        target, ab = f"tap_{k - 1 - j}_{last_col}", _bits(length)
        lines += [f"  reg {slot} {target};",
                  f"  reg {slot} line{j} [0:{length - 1}];",
                  f"  reg {_range(ab)} line{j}_at;",
                  "  always @(posedge clk) begin",
                  f"    if (rst) line{j}_at <= 0;",
                  f"    else if (advance) line{j}_at <= {_count_up(f'line{j}_at', length, ab)};",
                  "    if (advance) begin",
                  f"      {target} <= line{j}[line{j}_at];",
                  f"      line{j}[line{j}_at] <= {source};",
                  "    end",
                  "  end"]
    lines.append("  // the rest of each row of the window shifts on every slot")
    for dy in range(k):
        newest = "in_pixel" if dy == k - 1 else None
        for dx in range(last_col if newest is None else cols):
            lines.append(f"  reg {slot} tap_{dy}_{dx};")
        assigns = [f"tap_{dy}_{dx} <= tap_{dy}_{dx + 1};" for dx in range(last_col)]
        if newest:
            assigns.append(f"tap_{dy}_{last_col} <= in_pixel;")
        if assigns:
            lines.append("  always @(posedge clk) if (advance) begin " + " ".join(assigns) + " end")
    # The anchor's position (y, x) in its image (x counts groups), counted over the real anchors, and from it
    # the masks and whether this position is an output (stride, and the last rows and columns a window cannot
    # fill): compares of registers with constants, a LUT or two before the kernel's entry register.
    lines += [f"  reg {_range(yb)} y;", f"  reg {_range(xb)} x;",
              "  reg x_last;  // " + ("x == W - 1, kept as a flag" if n == 1 else "x at the row's last slot"),
              "  wire step = advance & anchor_real;"]
    flags = {}
    for axis, out, size, bits in (("y", g.oh, h, yb), ("x", g.ow // n, w, xb)):
        last = (out - 1) * s
        conds = [f"{axis} <= {bits}'d{last}"] if last < size - 1 else []
        if s > 1:
            lines.append(f"  reg {_range(_bits(s))} {axis}_phase;")
            conds.append(f"{axis}_phase == 0")
        flags[f"{axis}_out"] = " && ".join(conds) or "1'b1"
        for lane in range(n if axis == "x" else 1):
            for d in range(k):
                low, high = g.inside(axis, d, lane)
                cond = ([f"{axis} >= {bits}'d{low}"] if low > 0 else []) + \
                    ([f"{axis} <= {bits}'d{high}"] if high < size - 1 else [])
                if cond:
                    flags[_ok(axis, lane, d, n)] = " && ".join(cond)
    lines += [f"  wire {flag} = {cond};" for flag, cond in flags.items()]
    sb = _bits(s)
    lines += ["  reg fresh;  // a slot came in at the last clock: the window holds a new position",
              "  always @(posedge clk) begin",
              "    fresh <= rst ? 1'b0 : advance;",
              "    if (rst) begin",
              f"      y <= 0; x <= 0; x_last <= 1'b{int(w == 1)};" + (" y_phase <= 0; x_phase <= 0;" if s > 1 else ""),
              "    end else if (step) begin",
              f"      x <= x_last ? {xb}'d0 : x + {xb}'d1;",
              "      x_last <= " + ("1'b1;" if w == 1 else f"x == {xb}'d{w - 2};"),
              f"      if (x_last) y <= y == {yb}'d{h - 1} ? {yb}'d0 : y + {yb}'d1;"]
    if s > 1:
        lines += [f"      x_phase <= x_last || x_phase == {sb}'d{s - 1} ? {sb}'d0 : x_phase + {sb}'d1;",
                  f"      if (x_last) y_phase <= y == {yb}'d{h - 1} || y_phase == {sb}'d{s - 1} ? {sb}'d0 : "
                  f"y_phase + {sb}'d1;"]
    lines += ["    end",
              "  end",
              "  assign out_valid = fresh & anchor_real & y_out & x_out;"]
    taps = []
    for lane in range(n):
        for dy in range(k):
            for dx in range(k):
                my, mx = g.masked(dy, dx, lane)
                mask = " & ".join([f"y_ok{dy}"] * my + [_ok("x", lane, dx, n)] * mx)
                tap = _tap(g, dy, dx, lane)
                taps.append(tap if not mask else f"({tap} & {{{c}{{{mask}}}}})")
    lines += [f"  assign out_window = {{{', '.join(reversed(taps))}}};", "endmodule", ""]
    return "\n".join(lines)


def _ok(axis: str, lane: int, d: int, lanes: int) -> str:
    """The flag: tap d along `axis` is inside the image (per lane along x when a slot holds several)."""
    return f"{axis}_ok{d}" if axis == "y" or lanes == 1 else f"x_ok{lane}_{d}"


def _tap(g: _Stage, dy: int, dx: int, lane: int) -> str:
    """Lane `lane`'s tap (dy, dx): the window's slot and, with several lanes, the pixel within it."""
    at, pixel = g.tap_at(dx, lane)
    slot = f"tap_{dy}_{at}"
    return slot if g.lanes == 1 else f"{slot}[{(pixel + 1) * g.c - 1}:{pixel * g.c}]"


def _row_buffer(row_slots: int, ab: int) -> list:
    """A pooling's row buffer, on each block's end: `above` takes what slot j + 1 of the row above left
    (a memory of row_slots - 1 and `above`), and the block takes its place."""
    if row_slots == 1:
        return ["    if (block_end) above <= block;"]
    return ["    if (rst) row_at <= 0;",
            f"    else if (block_end) row_at <= {_count_up('row_at', row_slots - 1, ab)};",
            "    if (block_end) begin above <= row[row_at]; row[row_at] <= block; end"]


def _pool_module(name: str, g: _Stage, channels: int) -> str:
    """OR pooling over q x q blocks of the kernel's outputs (raster order): the OR of a block's row
    segment in a register, the rows' ORs so far in a row buffer of PW - 1 slots and its output register
    (`above`: after block j of a row, it holds block j + 1 of the row above); the remainder rows and
    columns are dropped."""
    q, oh, ow, pw = g.q, g.oh, g.ow, g.pw
    yb, xb, qb, ab = _bits(oh), _bits(ow), _bits(q), _bits(max(1, pw - 1))
    cr = _range(channels)
    return "\n".join([
        f"// stage pooling: {oh}x{ow}x{channels} in, OR over {q}x{q} blocks",
        f"module {name} (",
        "  input  wire clk,", "  input  wire rst,", "  input  wire in_valid,",
        f"  input  wire {cr} in_pixel,",
        "  output reg  out_valid,",
        f"  output reg  {cr} out_pixel",
        ");",
        f"  reg {_range(yb)} y;", f"  reg {_range(xb)} x;",
        f"  reg {_range(qb)} y_phase, x_phase;  // y mod {q}, x mod {q}",
        f"  reg {cr} segment;  // the OR of this block's row so far",
        f"  reg {cr} above;    // the OR of this block's rows above",
        *([f"  reg {cr} row [0:{pw - 2}];", f"  reg {_range(ab)} row_at;"] if pw > 1 else []),
        f"  wire {cr} joined = x_phase == {qb}'d0 ? in_pixel : segment | in_pixel;",
        f"  wire in_blocks = {_less('y', g.ph * q, yb)} && {_less('x', pw * q, xb)};",
        f"  wire block_end = in_valid && in_blocks && x_phase == {qb}'d{q - 1};",
        f"  wire {cr} block = y_phase == {qb}'d0 ? joined : above | joined;",
        "  always @(posedge clk) begin",
        "    if (rst) begin",
        "      y <= 0; x <= 0; y_phase <= 0; x_phase <= 0; out_valid <= 0;",
        "    end else begin",
        f"      out_valid <= block_end && y_phase == {qb}'d{q - 1};",
        "      if (in_valid) begin",
        f"        x <= {_count_up('x', ow, xb)};",
        f"        x_phase <= x == {xb}'d{ow - 1} || x_phase == {qb}'d{q - 1} ? {qb}'d0 : x_phase + {qb}'d1;",
        f"        if (x == {xb}'d{ow - 1}) begin",
        f"          y <= {_count_up('y', oh, yb)};",
        f"          y_phase <= y == {yb}'d{oh - 1} || y_phase == {qb}'d{q - 1} ? {qb}'d0 : y_phase + {qb}'d1;",
        "        end",
        "      end",
        "    end",
        "    if (in_valid) segment <= joined;",
        "    if (block_end) out_pixel <= block;",
        *_row_buffer(pw, ab),
        "  end",
        "endmodule", ""])


def _pool_lanes_module(name: str, g: _Stage, channels: int) -> str:
    """OR pooling of a stage whose slots hold several pixels (q divides them): a slot's lanes OR'd q at a
    time are whole row segments of blocks, so only the rows' ORs so far wait, in a row buffer of a row's
    slots less one and its output register (`above`, as in _pool_module); the remainder rows are dropped."""
    q, oh, n, row_slots = g.q, g.oh, g.lanes, g.ow // g.lanes
    out = n // q
    yb, xb, qb, ab = _bits(oh), _bits(row_slots), _bits(q), _bits(max(1, row_slots - 1))
    cr, orr = _range(n * channels), _range(out * channels)
    segments = ["(" + " | ".join(f"in_pixel[{(b * q + j + 1) * channels - 1}:{(b * q + j) * channels}]"
                                 for j in range(q)) + ")" for b in range(out)]
    return "\n".join([
        f"// stage pooling: {oh}x{g.ow}x{channels} in, {n} pixels a slot, OR over {q}x{q} blocks",
        f"module {name} (",
        "  input  wire clk,", "  input  wire rst,", "  input  wire in_valid,",
        f"  input  wire {cr} in_pixel,",
        "  output reg  out_valid,",
        f"  output reg  {orr} out_pixel",
        ");",
        f"  reg {_range(yb)} y;", f"  reg {_range(xb)} x;  // the slot in its row",
        f"  reg {_range(qb)} y_phase;  // y mod {q}",
        f"  reg {orr} above;  // the OR of these blocks' rows above",
        *([f"  reg {orr} row [0:{row_slots - 2}];", f"  reg {_range(ab)} row_at;"] if row_slots > 1 else []),
        f"  wire {orr} joined = {{{', '.join(reversed(segments))}}};  // each block's row segment",
        f"  wire block_end = in_valid && {_less('y', g.ph * q, yb)};",
        f"  wire {orr} block = y_phase == {qb}'d0 ? joined : above | joined;",
        "  always @(posedge clk) begin",
        "    if (rst) begin",
        "      y <= 0; x <= 0; y_phase <= 0; out_valid <= 0;",
        "    end else begin",
        f"      out_valid <= block_end && y_phase == {qb}'d{q - 1};",
        "      if (in_valid) begin",
        f"        x <= {_count_up('x', row_slots, xb)};",
        f"        if (x == {xb}'d{row_slots - 1}) begin",
        f"          y <= {_count_up('y', oh, yb)};",
        f"          y_phase <= y == {yb}'d{oh - 1} || y_phase == {qb}'d{q - 1} ? {qb}'d0 : y_phase + {qb}'d1;",
        "        end",
        "      end",
        "    end",
        "    if (block_end) out_pixel <= block;",
        *_row_buffer(row_slots, ab),
        "  end",
        "endmodule", ""])


def _collect_module(name: str, shape: tuple, lanes: int) -> str:
    """The last feature map of an image, each pixel written into its place (pixel i at [i*C +: C]:
    position-major, the head's input order; `lanes` pixels a slot), and a strobe when the map is whole.
    The head reads the map in the clock after the strobe, before any pixel of the next image can be written."""
    h, w, c = shape
    n = h * w // lanes
    nb, width = _bits(n), lanes * c
    writes = [f"      if (count == {nb}'d{i}) map[{i * width + width - 1}:{i * width}] <= in_pixel;" for i in range(n)]
    return "\n".join([
        f"// the {h}x{w}x{c} feature map of an image, collected for the head",
        f"module {name} (",
        "  input  wire clk,", "  input  wire rst,", "  input  wire in_valid,",
        f"  input  wire {_range(width)} in_pixel,",
        "  output reg  out_valid,",
        f"  output reg  {_range(h * w * c)} map",
        ");",
        f"  reg {_range(nb)} count;",
        "  always @(posedge clk) begin",
        "    if (rst) begin",
        "      count <= 0; out_valid <= 0;",
        "    end else begin",
        f"      out_valid <= in_valid && count == {nb}'d{n - 1};",
        f"      if (in_valid) count <= {_count_up('count', n, nb)};",
        "    end",
        "    if (in_valid) begin",
        *writes,
        "    end",
        "  end",
        "endmodule", ""])


def _encoder_module(name: str, net: ConvNetlist, fb: int | None, lanes: int) -> str:
    """A slot's input bits (`lanes` pixels, lane l's channels at [l*C +: C]), registered: the encoder's
    comparators on each raw pixel (the same thresholds at every pixel), or the bits as they come."""
    c = net.input_shape[2]
    if fb is None:
        port, width, bits = "in_bits", lanes * c, "in_bits"
    else:
        port, width = "in_data", lanes * fb
        thresholds = [int(t) for t in net.encoder[0]]
        pixel = [f"in_data[{(lane + 1) * fb - 1}:{lane * fb}]" if lanes > 1 else "in_data" for lane in range(lanes)]
        bits = "{" + ", ".join("1'b1" if t <= 0 else "1'b0" if t >= 1 << fb else f"{pixel[lane]} >= {fb}'d{t}"
                               for lane in reversed(range(lanes)) for t in reversed(thresholds)) + "}"
    return "\n".join([
        f"// a pixel's {c} input bits" + ("" if fb is None else f": thresholds {', '.join(map(str, net.encoder[0]))}")
        + (f"; {lanes} pixels a slot" if lanes > 1 else ""),
        f"module {name} (",
        "  input  wire clk,", "  input  wire rst,", "  input  wire in_valid,",
        f"  input  wire {_range(width)} {port},",
        "  output reg  out_valid,",
        f"  output reg  {_range(lanes * c)} out_pixel",
        ");",
        "  always @(posedge clk) begin",
        "    out_valid <= rst ? 1'b0 : in_valid;",
        f"    out_pixel <= {bits};",
        "  end",
        "endmodule", ""])


def _pixel_bits(net: ConvNetlist) -> int | None:
    """Bits of a raw pixel on in_data (None: the input bits come as they are)."""
    if net.encoder is None:
        return None
    if not (net.encoder == net.encoder[0]).all():
        raise HwgenError("the streaming engine compares every pixel with the same thresholds, and this netlist's "
                         "encoder has thresholds that differ from pixel to pixel (emit its flattened netlist)")
    return feature_bits(net.encoder)


@dataclass
class StreamPlan:
    """The streaming engine of a conv netlist, as both backends build it: per conv stage its geometry and
    its kernel's pipelined core, the head's core, the latency and the output FIFO's size."""
    net: ConvNetlist
    feature_bits: int | None     # bits of a raw pixel on in_data (None: the input bits come on in_bits)
    port: str                    # in_data or in_bits
    width: int
    stages: list                 # (_Stage, the kernel's CorePlan), a conv stage each
    head: CorePlan
    latency: int                 # clocks from the edge that takes an image's last pixel to its result out
    depth_bits: int              # the output FIFO holds 2**depth_bits results
    lanes: int                   # pixels a transfer (and a clock)

    @property
    def pixels(self) -> int:
        return self.net.input_shape[0] * self.net.input_shape[1]

    @property
    def transfers(self) -> int:
        """Transfers (clocks, back to back) an image takes."""
        return self.pixels // self.lanes


def plan_stream(net: ConvNetlist, levels: int, family: str, pixels_per_clock: int = 1) -> StreamPlan:
    """The engine taking `pixels_per_clock` neighbouring pixels of a row a clock: each stage's kernel
    once per pixel of its slots (after a pooling of q x q, a slot carries q times fewer)."""
    net.validate("netlist to emit")
    fb = _pixel_bits(net)
    shapes = net.shapes()
    if pixels_per_clock < 1:
        raise HwgenError(f"pixels a clock must be at least 1, got {pixels_per_clock}")
    stages, latency, lanes = [], 1, pixels_per_clock  # latency: the edge that takes an image's last pixel
    for j, stage in enumerate(net.stages):
        g = _Stage(stage, shapes[j], lanes)
        _check_lanes(g, f"conv stage {j} ({shapes[j][0]}x{shapes[j][1]})")
        lanes = g.out_lanes
        plan = plan_core(stage.kernel, levels, family=family, classify=False)
        stages.append((g, plan))
        # the last pixel in -> the last output out: its slot, the flush, the kernel's entry register and
        # latency, the pooling register
        latency += 1 + g.flush + plan.latency + (1 if g.q > 1 else 0)
    head = plan_core(net.head, levels, family=family, register_input=False)
    latency += 1 + head.latency + 1  # the collect register, the head, the output FIFO
    transfers = net.input_shape[0] * net.input_shape[1] // pixels_per_clock
    in_flight = math.ceil((transfers + latency + 3) / transfers) + 1  # images holding a credit at once
    port, width = ("in_bits", net.input_shape[2]) if fb is None else ("in_data", fb)
    return StreamPlan(net, fb, port, pixels_per_clock * width, stages, head, latency,
                      max(1, (in_flight - 1).bit_length()), pixels_per_clock)


def describe_stream(plan: StreamPlan, name: str) -> dict:
    """What NAME.json says of the engine: ports, clocks per image, latency, each stage's geometry."""
    net, head = plan.net, plan.head
    conv_stages = [{"window": g.k, "stride": g.s, "padding": g.p, "pool": g.q, "input": [g.h, g.w, g.c],
                    "channels": stage.channels, "kernel_gates": stage.kernel.num_gates,
                    "kernel_latency_cycles": kernel.latency, "flush_slots": g.flush, "pixels_per_slot": g.lanes}
                   for (g, kernel), stage in zip(plan.stages, net.stages)]
    return {
        "format": RTL_FORMAT, "name": name, "core": f"{name}_core", "kind": "conv-stream",
        "input_shape": list(net.input_shape), "clocks_per_image": plan.transfers, "latency_cycles": plan.latency,
        "pixels_per_clock": plan.lanes,
        "fifo_depth": 1 << plan.depth_bits,
        "input_port": plan.port, "input_width": plan.width, "feature_bits": plan.feature_bits or 0,
        "num_inputs": net.num_inputs, "num_outputs": len(net.head.outputs), "num_classes": net.num_classes,
        "outputs_per_class": net.head.outputs_per_class, "score_width": net.head.score_width,
        "class_width": net.head.class_width,
        "gates": sum(s.kernel.num_gates for s in net.stages) + net.head.num_gates,
        "pipeline_levels": head.stats["pipeline_levels"],
        "stages": max(p.stats["stages"] for p in [*(kernel for _, kernel in plan.stages), head]),
        "conv_stages": conv_stages,
        "head_latency_cycles": head.latency,
        "ports": {"clk": 1, "rst": 1, "in_valid": 1, "in_ready": 1, plan.port: plan.width, "out_valid": 1,
                  "out_ready": 1, "out_class": net.head.class_width,
                  "out_scores": net.num_classes * net.head.score_width},
    }


def stream_verilog(plan: StreamPlan, name: str) -> str:
    """NAME.v's text: NAME (the flow control), NAME_core (the engine) and the engine's parts."""
    net, fb, port, width, head, n = plan.net, plan.feature_bits, plan.port, plan.width, plan.head, plan.lanes
    core = f"{name}_core"
    shapes = net.shapes()
    modules = [_encoder_module(f"{core}_encoder", net, fb, n)]
    for j, (g, kernel) in enumerate(plan.stages):
        modules.append(_window_module(f"{core}_window{j}", g))
        modules.append(pipelined_core_verilog(kernel, f"{core}_kernel{j}"))
        if g.q > 1:
            pool = _pool_module if g.lanes == 1 else _pool_lanes_module
            modules.append(pool(f"{core}_pool{j}", g, net.stages[j].channels))
    out_lanes = plan.stages[-1][0].out_lanes
    modules.append(_collect_module(f"{core}_collect", shapes[-1], out_lanes))
    modules.append(pipelined_core_verilog(head, f"{core}_head"))

    wires = ["  wire v0;", f"  wire {_range(n * net.input_shape[2])} p0;",
             f"  {core}_encoder encoder (.clk(clk), .rst(rst), .in_valid(in_valid), .{port}({port}), "
             ".out_valid(v0), .out_pixel(p0));"]
    at = "0"
    for j, (g, _) in enumerate(plan.stages):
        c_in, c_out, lanes, window = g.c, net.stages[j].channels, g.lanes, g.k * g.k * g.c
        wires += [f"  wire w{j}_valid, k{j}_valid;",
                  f"  wire {_range(lanes * window)} w{j}_window;",
                  f"  wire {_range(lanes * c_out)} k{j}_bits;",
                  f"  {core}_window{j} window{j} (.clk(clk), .rst(rst), .in_valid(v{at}), .in_pixel(p{at}), "
                  f".out_valid(w{j}_valid), .out_window(w{j}_window));"]
        if lanes == 1:
            wires.append(f"  {core}_kernel{j} kernel{j} (.clk(clk), .rst(rst), .in_valid(w{j}_valid), "
                         f".in_bits(w{j}_window), .out_valid(k{j}_valid), .out_bits(k{j}_bits));")
        for lane in range(lanes if lanes > 1 else 0):  # the kernel once per lane; lane 0's valid stands for all
            wires.append(f"  {core}_kernel{j} kernel{j}_{lane} (.clk(clk), .rst(rst), .in_valid(w{j}_valid), "
                         f".in_bits(w{j}_window[{(lane + 1) * window - 1}:{lane * window}]), "
                         f".out_valid({f'k{j}_valid' if lane == 0 else ''}), "
                         f".out_bits(k{j}_bits[{(lane + 1) * c_out - 1}:{lane * c_out}]));")
        bits = _range(g.out_lanes * c_out)
        if g.q > 1:
            wires += [f"  wire v{j + 1};", f"  wire {bits} p{j + 1};",
                      f"  {core}_pool{j} pool{j} (.clk(clk), .rst(rst), .in_valid(k{j}_valid), .in_pixel(k{j}_bits), "
                      f".out_valid(v{j + 1}), .out_pixel(p{j + 1}));"]
        else:
            wires += [f"  wire v{j + 1} = k{j}_valid;", f"  wire {bits} p{j + 1} = k{j}_bits;"]
        at = str(j + 1)
    h, w, c = shapes[-1]
    wires += ["  wire map_valid;", f"  wire {_range(h * w * c)} map;",
              f"  {core}_collect collect (.clk(clk), .rst(rst), .in_valid(v{at}), .in_pixel(p{at}), "
              ".out_valid(map_valid), .map(map));",
              f"  {core}_head head (.clk(clk), .rst(rst), .in_valid(map_valid), .in_bits(map), "
              ".out_valid(out_valid), .out_class(out_class), .out_scores(out_scores));"]
    ih, iw, _ = net.input_shape
    core_latency = plan.latency - 1  # the output FIFO's clock is the top level's
    per_clock = "a pixel per clock" if n == 1 else f"{n} pixels a clock"
    top_core = "\n".join([
        f"// {core}: a {ih}x{iw} image in raster order, {per_clock}; its class {core_latency} clocks after "
        "its last pixel",
        f"module {core} (",
        "  input  wire clk,", "  input  wire rst,", "  input  wire in_valid,",
        f"  input  wire {_range(width)} {port},",
        "  output wire out_valid,",
        f"  output wire {_range(head.class_width)} out_class,",
        f"  output wire {_range(head.scores_width)} out_scores",
        ");", *wires, "endmodule", ""])
    transfers, c_in = plan.transfers, net.input_shape[2]
    if n == 1:
        inputs = (f"in_bits: the pixel's {c_in} input channels, channel c at [c]" if fb is None
                  else "in_data: the pixel")
        what = f"one pixel per transfer,\n// {transfers} per image"
    else:
        inputs = (f"in_bits: pixel l's {c_in} input channels at [l*{c_in} +: {c_in}], channel c at [l*{c_in} + c]"
                  if fb is None else f"in_data: pixel l at [l*{fb} +: {fb}]")
        what = f"{n} pixels of a row per transfer (the\n// leftmost first), {transfers} per image"
    layout = port_layout(inputs, fb or 0, net.score_width)
    unit = "pixel" if n == 1 else "transfer"
    header = (f"// {name}: valid/ready stream around the streaming conv engine {core}. In: {what} in raster "
              f"order (row 0 first, each row from x = 0). Out: per image its class and\n// scores, {plan.latency} "
              f"clocks after its last {unit}. The engine never stalls. An image is admitted (its first\n// {unit} "
              "taken) only while the output FIFO is sure to have room for its result (a credit per image); after\n"
              f"// that every {unit} of it is taken as it comes, so backpressure on out_ready holds images back whole "
              f"and\n// never drops or reorders a pixel. in_ready is a function of registers only. With out_ready "
              f"high, one\n// {unit} per clock flows, image after image.")
    pb = _bits(transfers)
    admission = {  # per image: a counter of the current image's transfers; an image is admitted at its first
        "ADMITTED": "images",
        "ADMISSION": f"  reg [{pb - 1}:0] taken;  // {unit}s of the current image taken so far\n"
                     "  reg busy;  // taken != 0, kept as a flag: in_ready is a LUT of registers\n"
                     f"  wire last_pixel = taken == {pb}'d{transfers - 1};\n"
                     "  assign in_ready = busy | ~credits[DEPTH_BITS];\n"
                     "  wire admit = take & ~busy;",
        "ADMISSION_RESET": "\n      taken <= 0;\n      busy <= 0;",
        "ADMISSION_UPDATE": "\n      if (take) begin taken <= last_pixel ? 0 : taken + 1'b1; busy <= ~last_pixel; end"}
    top = top_verilog(name, header, layout, width, port, head.class_width, head.scores_width, plan.depth_bits,
                      "every image in flight", admission)
    return top + "\n/* verilator lint_off DECLFILENAME */\n" + "\n".join(modules) + top_core
