"""What the README and docs/ state as fact about the code and the measurements."""

import re
import sys
from pathlib import Path

import yaml

from hwgen.flow.config import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CONFIGS_PAGE = ROOT / "docs" / "configs.md"


def test_configs_page_defaults_block_is_the_defaults():
    """The first yaml block of docs/configs.md shows the defaults of hwgen/flow/config.py, key for key."""
    text = CONFIGS_PAGE.read_text()
    block = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    shown = yaml.safe_load(block)
    assert shown, "the defaults block is empty"

    def walk(given, default, where):
        for key, value in given.items():
            assert key in default, f"docs/configs.md shows {where}{key}, which is not a config key"
            if isinstance(value, dict):
                walk(value, default[key], f"{where}{key}.")
            else:
                assert value == default[key], f"docs/configs.md: {where}{key} = {value!r}, the default is {default[key]!r}"

    walk(shown, DEFAULTS, "")
    assert set(shown) == set(DEFAULTS) - {"ca"}, "the block leaves out a section (ca is described below it)"


def test_pareto_rows_named_after_configs_are_those_configs():
    """A hand-picked Pareto row whose note names a config (configs/X.yaml) is that config's model (its
    changes over configs/mnist-small.yaml give it), so the README's Pareto rows and its Configs figures are of
    one model."""
    import json

    from hwgen.flow import config
    from hwgen.flow.sweep import changed

    base = config.load(ROOT / "configs" / "mnist-small.yaml")
    rows = json.loads((ROOT / "docs" / "results" / "pareto-mnist.json").read_text())["rows"]
    named = [(row, row["about"]) for row in rows if re.fullmatch(r"configs/[\w-]+\.yaml", row["about"])]
    assert len(named) >= 3, named
    for row, path in named:
        assert changed(base, row["changes"], row["name"]) == config.load(ROOT / path), f"{row['name']} is not {path}"


def test_results_tables_are_their_reports():
    """Every results table in README.md and docs/results.md is what benchmarks/tables.py writes from the
    reports in docs/results/: a figure changed by hand, or a report changed without its table, fails."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import tables

    assert not tables.stale_files(), "run python benchmarks/tables.py"
    for path in tables.FILES:
        marked = re.findall(r"<!-- results:([\w-]+) -->", path.read_text())
        assert marked and all(name in tables.TABLES for name in marked), path
    # and the check can fail: a figure edited by hand is seen
    text = (ROOT / "docs" / "results.md").read_text()
    edited = text.replace("| **98.00%** |", "| **98.10%** |", 1)
    assert edited != text and tables.render(edited) != edited


def test_docs_links_name_files_that_exist():
    for page in [README, *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"
