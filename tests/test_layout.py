"""The rules of the package's layout that nothing else would check: the torch boundary, and the limits a
C source and its Python side must agree on."""

import ast
import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import hwgen
from hwgen.netlist import MAX_LUT_INPUTS

PACKAGE = Path(hwgen.__file__).parent


def _imported_modules(path: Path) -> set:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_learn_imports_torch():
    """torch is imported in hwgen/learn/ only (at the top of a module or inside a function alike)."""
    outside = [path.relative_to(PACKAGE) for path in PACKAGE.rglob("*.py")
               if "learn" not in path.relative_to(PACKAGE).parts and "torch" in _imported_modules(path)]
    assert not outside, f"these modules import torch outside hwgen/learn: {outside}"
    inside = [path for path in (PACKAGE / "learn").rglob("*.py") if "torch" in _imported_modules(path)]
    assert inside, "the learn package imports torch: this test must be able to see it"


def test_every_module_outside_learn_imports_without_torch():
    """Importing any module outside hwgen.learn does not load torch, directly or through another module."""
    modules = [m.name for m in pkgutil.walk_packages(hwgen.__path__, "hwgen.")
               if not m.name.startswith("hwgen.learn") and not m.name.endswith("__main__")]
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n"
            "    importlib.import_module(name)\n"
            "print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
    assert len(modules) > 20


def test_the_lut_kernel_limit_is_the_netlist_limit():
    source = (PACKAGE / "learn" / "nn" / "lut_kernel.c").read_text()
    assert int(re.search(r"#define MAX_K (\d+)", source).group(1)) == MAX_LUT_INPUTS
    from hwgen.learn.nn import lut
    assert lut.MAX_K == MAX_LUT_INPUTS


def test_the_harness_template_names_the_registers_synthesis_counts_apart():
    """synthesis.HARNESS_REGISTERS and synthesis.TOP are names in rtl_templates/synth_top.v."""
    from hwgen import synthesis
    template = (Path(importlib.import_module("hwgen.rtl_templates").__file__).parent / "synth_top.v").read_text()
    assert f"module {synthesis.TOP}" in template
    for register in synthesis.HARNESS_REGISTERS:
        assert re.search(rf"\breg\b[^;]*\b{register}\b", template), register
