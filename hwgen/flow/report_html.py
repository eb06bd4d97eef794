"""`DIR/report.html`: one self-contained page for a build (pictures inlined as data URIs, SVG inline),
readable offline: accuracy at each stage, training curves, gates per logic level after each rewriting
pass, simulation and synthesis figures, and the explain output."""

import base64
import html
import io
import json
from pathlib import Path

from ..files import write_text

STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; } td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f2f2f2; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; } img, svg { max-width: 100%; height: auto; }
.bad { color: #b00; font-weight: bold; } .good { color: #070; font-weight: bold; }
"""


def _figure_png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return '<img alt="figure" src="data:image/png;base64,' + base64.b64encode(buf.getvalue()).decode() + '">'


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend (no display here)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def table(header, rows) -> str:
    def cell(v):
        if isinstance(v, bool):
            return f'<td class="{"good" if v else "bad"}">{v}</td>'
        if isinstance(v, (int, float)):
            return f'<td class="num">{v:,}</td>' if isinstance(v, int) else f'<td class="num">{v:.4g}</td>'
        return f"<td>{html.escape(str(v))}</td>"
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def training_curves(history: list) -> str:
    if not history:
        return "<p>no training history recorded</p>"
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    steps = [h["step"] for h in history]
    for key, label in (("test_float", "test, relaxed"), ("test_hardened", "test, hardened"),
                       ("train_acc", "train (running)"), ("hard_score", "hardened score")):
        values = [h.get(key) for h in history]
        if any(v is not None for v in values):
            ax.plot(steps, values, marker=".", label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _figure_png(fig)


def levels_chart(levels: dict) -> str:
    """levels: stage name -> gates per logic level."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    depth = max(len(v) for v in levels.values())
    width = 0.8 / len(levels)
    for k, (name, counts) in enumerate(levels.items()):
        ax.bar([i + 1 + k * width - 0.4 + width / 2 for i in range(len(counts))], counts, width, label=name)
    ax.set_xticks(range(1, depth + 1))
    ax.set_xlabel("logic level")
    ax.set_ylabel("gates")
    ax.legend(fontsize=8)
    return _figure_png(fig)


def grid_pictures(states: dict) -> str:
    """states: caption -> 2-D bool array (cell bit 0)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(states), figsize=(3 * len(states), 3.2), squeeze=False)
    for ax, (caption, state) in zip(axes[0], states.items()):
        ax.imshow(state, cmap="gray_r", interpolation="nearest")
        ax.set_title(caption, fontsize=9)
        ax.axis("off")
    return _figure_png(fig)


def _inline_svg(path: Path) -> str:
    text = path.read_text()
    start = text.find("<svg")
    return text[start:] if start >= 0 else ""


def explain_section(explain_dir: Path) -> str:
    info_path = explain_dir / "explain.json"
    if not info_path.exists():
        return ""
    info = json.loads(info_path.read_text())
    s = info["summary"]
    parts = ["<h2>What the circuit computes</h2>",
             f"<p>{s['gates']:,} gates, depth {s['depth']}, {s['inputs_used']:,} of {s['inputs']:,} inputs used.</p>",
             table(["op", "gates"], list(s["gates_by_op"].items())),
             table(["class", "gates in its cone", "inputs it reads"],
                    [[c, g, i] for c, (g, i) in enumerate(zip(s["gates_per_class"], s["inputs_used_per_class"]))])]
    if info.get("note_flat"):  # a large conv circuit: the figures are its head's
        parts.insert(1, f"<p>{html.escape(info['note_flat'])}; the figures that follow are the head's.</p>")
    evidence = explain_dir / "evidence.png"
    heatmap = explain_dir / "heatmap.png"
    if evidence.exists():  # exact evidence replaces the map of direct reads
        parts.append(f"<p>Evidence per class over {info['evidence']['samples']:,} samples: the mean change of the "
                     "class score when a pixel turns on, computed exactly with the evaluator (blue for the class, "
                     "red against).</p>")
        parts.append('<img alt="evidence maps per class" src="data:image/png;base64,'
                     + base64.b64encode(evidence.read_bytes()).decode() + '">')
    elif heatmap.exists():
        parts.append('<img alt="pixel reads per class" src="data:image/png;base64,'
                     + base64.b64encode(heatmap.read_bytes()).decode() + '">')
    kernels = explain_dir / "kernels.json"
    if kernels.exists():
        from ..explain.kernels import kernel_lines

        parts.append("<p>The first conv layer's kernels, each read once over its window (+: that bit turns the "
                     "channel on in more of the patterns, -: in fewer, .: not read):</p>")
        parts.append("<pre>" + html.escape("\n".join(kernel_lines(json.loads(kernels.read_text())["stages"])))
                     + "</pre>")
    channels = explain_dir / "channel-evidence.png"
    if channels.exists():
        parts.append("<p>Per class (rows), where in the last feature map each channel's evidence lies (blue for "
                     "the class, red against).</p>")
        parts.append('<img alt="channel evidence per class" src="data:image/png;base64,'
                     + base64.b64encode(channels.read_bytes()).decode() + '">')
    records = info.get("outputs", [])
    symmetric = [r for r in records if r.get("symmetric_in")]
    if records:
        parts.append(f"<p>{len(symmetric)} of {len(records)} outputs are symmetric in 2 or more of their inputs "
                     "(exact, from truth tables):</p>")
        rows = [[r["output"], r["gates"], len(r["inputs"]), ", ".join(r["symmetric_in"]), ", ".join(r["others"]),
                 "; ".join(f"{k or 'always'}: {v}" for k, v in r.get("ones_when", {}).items()) or r.get("note", "")]
                for r in symmetric[:20]]
        parts.append(table(["output", "gates", "inputs", "symmetric in", "others", "1 for counts"], rows))
    if info.get("functions"):
        f = info["functions"]
        parts.append(f"<p>Named functions (each gate's largest named cut): {len(f['full_adders'])} full adders, "
                     f"{len(f['half_adders'])} half adders.</p>")
        parts.append(table(["function", "meaning", "gates"],
                           [[k, v["meaning"], v["count"]] for k, v in f["by_name"].items()]))
    if info.get("blocks"):
        parts.append("<p>Reused blocks (the same function up to a renaming of its inputs):</p>")
        parts.append(table(["function", "name", "leaves", "gates", "instances"],
                           [[b["function"], b["name"] or "", b["leaves"], b["gates"], b["instances"]]
                            for b in info["blocks"][:12]]))
    if info.get("expressions"):
        parts.append(f"<p>Simplified cone ({info['cone_gates']} gates):</p><pre>"
                     + html.escape("\n".join(info["expressions"])) + "</pre>")
        if info.get("named_expressions") != info["expressions"]:
            parts.append("<p>With named functions:</p><pre>" + html.escape("\n".join(info["named_expressions"]))
                         + "</pre>")
    if info.get("truth_table"):
        parts.append("<pre>" + html.escape(info["truth_table"]) + "</pre>")
    svg = explain_dir / "circuit.svg"
    if svg.exists():
        parts.append(_inline_svg(svg))
    return "\n".join(parts)


def write_report_html(path, title: str, sections: list):
    """sections: (heading, html) pairs, written in order."""
    body = "\n".join(f"<h2>{html.escape(h)}</h2>\n{content}" if h else content for h, content in sections)
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n")
    write_text(path, page)
