"""Knowledge as data: each table is a TOML file beside this module, every figure with a
note on where it comes from. Loaded once, on first use."""

from __future__ import annotations

from functools import cache, cached_property
from pathlib import Path


@cache
def load(name: str) -> dict:
    """The table ``knowledge/<name>.toml``."""
    from dockerlint.datafiles import read_toml

    return read_toml(Path(__file__).parent / f"{name}.toml")


class PackageIndex:
    """The package index (``knowledge/packages.index.gz``, built by
    scripts/build_package_index.py from PyPI's metadata; docs/package-index.md). Its lines
    are split once; a distribution's record is decoded when it is first asked for."""

    def __init__(self, text: str) -> None:
        import json

        header, owners, *lines = text.split("\n")
        self.header = json.loads(header)
        self._owners = owners
        self._lines = dict(line.split("\t", 1) for line in lines if line)
        self._records: dict[str, dict | None] = {}

    def __contains__(self, name: str) -> bool:
        return name in self._lines

    def __iter__(self):
        return iter(self._lines)

    def record(self, name: str) -> dict | None:
        """The record of a canonical name, or None."""
        found = self._records.get(name, False)
        if found is False:
            import json

            line = self._lines.get(name)
            found = self._records[name] = None if line is None else json.loads(line)
        return found

    @cached_property
    def owners(self) -> dict[str, dict[str, list[str]]]:
        """``modules``: import name -> distributions; ``commands``: command -> distributions."""
        import json

        return json.loads(self._owners)


@cache
def load_packages() -> PackageIndex:
    return PackageIndex(_gunzip("packages.index.gz"))


@cache
def load_package_calls() -> dict[str, str]:
    """Distribution -> its call edges as JSON text (``{other: [names]}``): the names of its
    functions and classes whose call reaches an import of another distribution."""
    return dict(line.split("\t", 1) for line in _gunzip("packages.calls.gz").split("\n") if line)


def _gunzip(name: str) -> str:
    import gzip

    return gzip.decompress((Path(__file__).parent / name).read_bytes()).decode("utf-8")
