"""Formal equivalence of two netlists with ABC's combinational equivalence checker (`cec`)."""

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import HwgenError
from ..netlist import Netlist
from .blif import to_blif

ABC_NAMES = ("berkeley-abc", "yosys-abc", "abc")


def find_abc() -> str | None:
    for name in ABC_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def prove_equivalent(golden: Netlist, revised: Netlist, timeout: float = 600) -> bool:
    """True when ABC proves every output equal, False when it finds a difference."""
    if (golden.num_inputs, len(golden.outputs)) != (revised.num_inputs, len(revised.outputs)):
        return False
    abc = find_abc()
    if abc is None:
        raise HwgenError("ABC is not installed: equivalence needs berkeley-abc (apt install berkeley-abc)")
    with tempfile.TemporaryDirectory(prefix="hwgen-cec-") as tmp:
        a, b = Path(tmp, "golden.blif"), Path(tmp, "revised.blif")
        a.write_text(to_blif(golden))
        b.write_text(to_blif(revised))
        try:
            # ABC splits its command on spaces: quoted, a temporary folder like "/tmp/my files" works
            result = subprocess.run([abc, "-c", f'cec "{a}" "{b}"'], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise HwgenError(f"ABC cec did not answer within {timeout:.0f} s") from None
    text = result.stdout + result.stderr
    if "Networks are equivalent" in text:
        return True
    if "NOT EQUIVALENT" in text.upper():
        return False
    raise HwgenError(f"ABC cec gave no verdict: {text.strip().splitlines()[-1] if text.strip() else 'no output'}")
