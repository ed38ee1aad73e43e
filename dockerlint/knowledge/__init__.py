"""Knowledge as data: each table is a TOML file beside this module, every figure with a
note on where it comes from. Loaded once, on first use."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@cache
def load(name: str) -> dict:
    """The table ``knowledge/<name>.toml``."""
    return tomllib.loads((Path(__file__).parent / f"{name}.toml").read_text(encoding="utf-8"))


@cache
def load_packages() -> dict:
    """The package index ``knowledge/packages.json.gz`` (built by
    scripts/build_package_index.py from PyPI's metadata; docs/package-index.md)."""
    import gzip
    import json

    return json.loads(gzip.decompress((Path(__file__).parent / "packages.json.gz").read_bytes()))
