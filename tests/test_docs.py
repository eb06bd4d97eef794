"""What the README states as fact about the code."""

import re
from pathlib import Path

import yaml

from hwgen.flow.config import DEFAULTS

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_defaults_block_is_the_defaults():
    """The yaml block under "## Configs" shows the defaults of hwgen/config.py, key for key."""
    text = README.read_text()
    block = re.search(r"## Configs\n.*?```yaml\n(.*?)```", text, re.S).group(1)
    shown = yaml.safe_load(block)
    assert shown, "the README's defaults block is empty"

    def walk(given, default, where):
        for key, value in given.items():
            assert key in default, f"README shows {where}{key}, which is not a config key"
            if isinstance(value, dict):
                walk(value, default[key], f"{where}{key}.")
            else:
                assert value == default[key], f"README: {where}{key} = {value!r}, the default is {default[key]!r}"

    walk(shown, DEFAULTS, "")
    assert set(shown) == set(DEFAULTS) - {"ca"}, "the block leaves out a section (ca is described below it)"


def test_pareto_points_named_after_configs_are_those_configs():
    """A sweep point whose comment names a config (`# configs/X.yaml`) builds exactly that config, so the
    README's Pareto rows and its Configs figures are of one model."""
    import sys
    root = README.parent
    sys.path.insert(0, str(root / "benchmarks"))
    from pareto import merged
    sweep_path = root / "benchmarks" / "pareto-mnist.yaml"
    sweep = yaml.safe_load(sweep_path.read_text())
    base = yaml.safe_load((sweep_path.parent / sweep["base"]).read_text())
    named = re.findall(r"^  ([\w-]+):.*# (configs/[\w-]+\.yaml)", sweep_path.read_text(), re.M)
    assert len(named) >= 3, named
    for point, config in named:
        assert merged(base, sweep["points"][point] or {}) == yaml.safe_load((root / config).read_text()), \
            f"sweep point {point} is not {config}"
