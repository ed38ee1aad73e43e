"""Knowledge as data: each table is a TOML file beside this module, every figure with a
note on where it comes from. Loaded once, on first use."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def load(name: str) -> dict:
    """The table ``knowledge/<name>.toml``."""
    from dockerlint.datafiles import read_toml

    return read_toml(Path(__file__).parent / f"{name}.toml")


@cache
def load_packages() -> dict:
    """The package index ``knowledge/packages.json.gz`` (built by
    scripts/build_package_index.py from PyPI's metadata; docs/package-index.md)."""
    import gzip
    import json

    return json.loads(gzip.decompress((Path(__file__).parent / "packages.json.gz").read_bytes()))
