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


class PackageIndex:
    """The package index (``knowledge/packages.index``, built by
    scripts/build_package_index.py from PyPI's metadata; docs/package-index.md): a JSON
    header line (where each record sits, and whatever else the build put there), then the
    records, each a zlib-compressed JSON object. Opening it reads the header only; a
    distribution's record is decompressed and decoded when it is first asked for."""

    def __init__(self, data: bytes) -> None:
        import json

        end = data.index(b"\n")
        self.header = json.loads(data[:end])
        self._at: dict[str, list[int]] = self.header.pop("at")
        self._data = memoryview(data)[end + 1 :]
        self._records: dict[str, dict | None] = {}

    def __contains__(self, name: str) -> bool:
        return name in self._at

    def __iter__(self):
        return iter(self._at)

    def record(self, name: str) -> dict | None:
        """The record of a canonical name, or None."""
        found = self._records.get(name, False)
        if found is False:
            found = self._records[name] = self.decode(name)
        return found

    def decode(self, name: str) -> dict | None:
        """The record of a canonical name, decoded anew and not kept: for a pass over every
        record, which would otherwise hold the whole index decoded (~17 MB)."""
        import json
        import zlib

        where = self._at.get(name)
        if where is None:
            return None
        start, length = where
        return json.loads(zlib.decompress(self._data[start : start + length]))

    def listed(self, key: str) -> list:
        """A list the build stored after the records (``required``), decoded anew."""
        import json
        import zlib

        start, length = self.header[key]
        return json.loads(zlib.decompress(self._data[start : start + length]))

    @property
    def owners(self) -> dict[str, dict[str, list[str]]]:
        """``modules``: import name -> distributions; ``commands``: command -> distributions."""
        return self.header["owners"]


@cache
def load_packages() -> PackageIndex:
    return PackageIndex((Path(__file__).parent / "packages.index").read_bytes())


@cache
def load_package_calls() -> PackageIndex:
    """Distribution -> its call edges (``{other: [names]}``): the names of its functions and
    classes whose call reaches an import of another distribution (``packages.calls``)."""
    return PackageIndex((Path(__file__).parent / "packages.calls").read_bytes())
