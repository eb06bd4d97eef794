"""report.html's pieces: tables escape what they show, charts are embedded pictures, the page is one
self-contained file written atomically."""

from hwgen.flow import report_html


def test_table_escapes_text_and_formats_numbers():
    text = report_html.table(["<name>", "value"], [["a & b", 12345], ["<script>", 0.123456], ["ok", True]])
    assert "&lt;name&gt;" in text and "a &amp; b" in text and "&lt;script&gt;" in text and "<script>" not in text
    assert '<td class="num">12,345</td>' in text and '<td class="num">0.1235</td>' in text
    assert '<td class="good">True</td>' in text


def test_charts_are_embedded_pngs_and_the_page_stands_alone(tmp_path):
    history = [{"step": s, "test_float": 0.5 + s / 1000, "test_hardened": 0.4 + s / 1000, "loss": 1.0 / (s + 1)}
               for s in (0, 100, 200)]
    curves = report_html.training_curves(history)
    assert curves.startswith('<img alt="figure" src="data:image/png;base64,')
    assert report_html.training_curves([]) == "<p>no training history recorded</p>"
    levels = report_html.levels_chart({"hardened": [5, 3, 1], "after cut": [4, 2]})
    assert "data:image/png;base64," in levels
    page = tmp_path / "report.html"
    report_html.write_report_html(page, "a <title>", [("Training", curves), ("Rewriting", levels)])
    html = page.read_text()
    assert html.count("data:image/png;base64,") == 2 and "a &lt;title&gt;" in html
    assert "http://" not in html and "https://" not in html  # nothing loaded from elsewhere
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
