"""Backends: Netlist -> RTL. This module stays light (no Amaranth): simulation and synthesis only need to
find what `hwgen emit` wrote."""

import json
from pathlib import Path

from ..errors import HwgenError
from ..files import package_folder

RTL_FORMAT = "hwgen-rtl"  # marks NAME.json, the description of emitted RTL


def fill_template(file_name: str, values: dict) -> str:
    """rtl_templates/FILE with every {{KEY}} replaced by its value."""
    text = (package_folder("rtl_templates") / file_name).read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", str(value))
    return text


def find_rtl(rtl_dir, name: str | None = None) -> dict:
    """The description `hwgen emit` wrote into rtl_dir (NAME.json): the one design there, or `name`."""
    rtl_dir = Path(rtl_dir)
    found = {}
    for path in sorted(rtl_dir.glob("*.json")) if rtl_dir.is_dir() else []:
        try:
            info = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(info, dict) and info.get("format") == RTL_FORMAT and (rtl_dir / f"{info['name']}.v").exists():
            found[info["name"]] = info
    if name is not None:
        if name not in found:
            raise HwgenError(f"{rtl_dir}: no emitted design named {name}"
                             + (f" (there: {', '.join(found)})" if found else " (run hwgen emit first)"))
        return found[name]
    if len(found) > 1:
        raise HwgenError(f"{rtl_dir} holds several designs ({', '.join(found)}): say which with --name")
    if not found:
        raise HwgenError(f"{rtl_dir}: no emitted RTL here (run hwgen emit first)")
    return next(iter(found.values()))
