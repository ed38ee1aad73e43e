"""What a distribution provides, from ``knowledge/distributions.toml``, never from the
environment dockerlint happens to run in.

A name in the table is *known*: its modules, commands and requirement edges come from
there. A name matching a namespace or tool pattern (``google-cloud-*``, ``types-*``) is
known through the pattern. Any other name is *guessed*: its module is taken to be the
name with ``-`` replaced by ``_``, and the DEP rules stay quiet where that guess decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from functools import cache

from dockerlint.knowledge import load

_CANONICAL = re.compile(r"[-_.]+")


def canonical(name: str) -> str:
    """PEP 503 normalisation: ``Scikit_Learn`` -> ``scikit-learn``."""
    return _CANONICAL.sub("-", name).lower()


@dataclass(frozen=True)
class Distribution:
    name: str
    modules: tuple[str, ...]  # import names, dotted for namespace packages
    commands: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    loads: tuple[str, ...] = ()
    extras: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dev: str | None = None
    size_mb: int | None = None
    known: bool = True  # False: modules are the guess from the name

    def needs(self, extras: tuple[str, ...] = ()) -> set[str]:
        """Distributions it brings in or picks up, with the given extras."""
        names = set(self.requires) | set(self.loads)
        for extra in extras:
            names.update(self.extras.get(canonical(extra), ()))
        names.discard(self.name)
        return names


@cache
def _table() -> dict:
    return load("distributions")


# The project's own additions (`known-modules` in the configuration): distribution ->
# import names. Set once per run by the engine, before any check asks.
_project_modules: dict[str, tuple[str, ...]] = {}
_generation = 0  # changes with them, so that caches built on lookups can key on it


def use_project_modules(mapping: dict[str, list[str]]) -> None:
    """Make the configured distribution -> import names mapping take part in lookups."""
    global _project_modules, _generation
    wanted = {canonical(name): tuple(modules) for name, modules in mapping.items()}
    if wanted != _project_modules:
        _project_modules = wanted
        _generation += 1
        lookup.cache_clear()
        module_owners.cache_clear()


def generation() -> int:
    return _generation


@cache
def lookup(name: str) -> Distribution:
    name = canonical(name)
    entry = _table()["distributions"].get(name)
    if name in _project_modules:
        return replace(_from_entry(name, entry or {}, known=True), modules=_project_modules[name])
    if entry is not None:
        return _from_entry(name, entry, known=True)
    for pattern in _table()["patterns"]:
        found = _from_pattern(name, pattern)
        if found is not None:
            return found
    return Distribution(name, (name.replace("-", "_"),), known=False)


def _from_entry(name: str, entry: dict, known: bool) -> Distribution:
    return Distribution(
        name=name,
        modules=tuple(entry.get("modules", [name.replace("-", "_")])),
        commands=tuple(entry.get("commands", ())),
        requires=tuple(entry.get("requires", ())),
        loads=tuple(entry.get("loads", ())),
        extras={canonical(extra): tuple(names) for extra, names in entry.get("extras", {}).items()},
        dev=entry.get("dev"),
        size_mb=entry.get("size_mb"),
        known=known,
    )


def _from_pattern(name: str, pattern: dict) -> Distribution | None:
    match = pattern["match"]
    if not fnmatchcase(name, match):
        return None
    prefix, _, suffix = match.partition("*")
    rest = name[len(prefix) : len(name) - len(suffix)]
    if not rest:
        return None
    if pattern.get("same_as") == "strip":
        return replace(lookup(rest), name=name)
    modules = tuple(
        template.format(rest=rest.replace("-", "_"), dotted=rest.replace("-", ".")) for template in pattern["modules"]
    )
    return Distribution(name, modules, dev=pattern.get("dev"), known=not pattern.get("guess", False))


def plugin_hosts(name: str) -> tuple[str, ...]:
    """Distributions that load ``name`` by itself as a plugin (pattern ``loaded_by``)."""
    for pattern in _table()["patterns"]:
        if fnmatchcase(canonical(name), pattern["match"]) and "loaded_by" in pattern:
            return tuple(pattern["loaded_by"])
    return ()


@cache
def required_somewhere() -> frozenset[str]:
    """Every distribution some listed distribution requires or loads: the libraries an
    unknown package could require too."""
    names: set[str] = set()
    for entry in _table()["distributions"].values():
        names.update(entry.get("requires", ()))
        names.update(entry.get("loads", ()))
        for extra in entry.get("extras", {}).values():
            names.update(extra)
    return frozenset(names)


def url_drivers() -> dict[str, list[str]]:
    return _table()["url_drivers"]


def url_schemes() -> dict[str, list[str]]:
    return _table()["url_schemes"]


def setting_strings() -> dict[str, list[str]]:
    return _table()["setting_strings"]


def heavy_variants() -> list[dict]:
    return _table()["heavy_variants"]


def module_matches(module: str, provided: str) -> bool:
    """Whether an import of ``module`` may be served by a distribution providing
    ``provided``: equal, inside it, or a namespace parent of it (``google.cloud``)."""
    return module == provided or module.startswith(provided + ".") or provided.startswith(module + ".")


@cache
def module_owners() -> dict[str, tuple[str, ...]]:
    """Import name -> the listed distributions that provide it (dotted names kept whole)."""
    owners: dict[str, list[str]] = {}
    for name in (*_table()["distributions"], *_project_modules):
        for module in lookup(name).modules:
            if name not in owners.setdefault(module, []):
                owners[module].append(name)
    return {module: tuple(names) for module, names in owners.items()}


@cache
def command_owners() -> dict[str, tuple[str, ...]]:
    """Console command -> the listed distributions that install it."""
    owners: dict[str, list[str]] = {}
    for name in _table()["distributions"]:
        for command in lookup(name).commands:
            owners.setdefault(command, []).append(name)
    return {command: tuple(names) for command, names in owners.items()}


@cache
def stdlib() -> frozenset[str]:
    import sys

    table = _table()["stdlib"]
    return frozenset(sys.stdlib_module_names) | frozenset(table["removed"]) | frozenset(table["bundled"])


@cache
def tooling() -> frozenset[str]:
    return frozenset(_table()["tooling"]["names"])
