"""Which torch releases a torchvision, torchaudio or xformers requirement allows.

Each release of these is built against one torch release and its wheel requires it
(``torchvision 0.17.0`` needs ``torch==2.2.0``), so ``torch==2.0.1`` with
``torchvision>=0.18`` cannot be installed together, and ``torchvision==0.17.0`` installed
after a newer torch replaces that torch. The facts are PyPI wheel metadata kept in
``knowledge/torch_coupling.toml``; this module is the only reader, so a general package
index can take its place.

Versions are compared without local labels (``2.3.0+cpu`` is torch 2.3.0): the
pytorch.org builds carry the same requirement as the PyPI wheels. Releases newer than
the table are taken to need at least the torch its newest row needs. ``FUTURE`` stands
for every torch release newer than the table knows.
"""

from __future__ import annotations

import re
from functools import lru_cache

from dockerlint.knowledge import load

TORCH = "torch"
FUTURE = "9999"  # a torch release newer than any the table lists
_LOCAL = re.compile(r"\+[A-Za-z0-9.]*")


def _table() -> dict:
    return load("torch_coupling")


_PREFIXES = ("torch", "xformers")  # every name the table holds starts so: other names skip loading it


def coupled(name: str) -> bool:
    """Whether each release of ``name`` (canonical) requires one torch release."""
    return name.startswith(_PREFIXES) and name in _table()["requires_torch"]


# PyTorch's wheel indexes (download.pytorch.org/whl/cpu, /whl/cu121, /whl/rocm6.1) hold
# torch, torchvision and torchaudio as local builds only: `torch==2.4.1` from /whl/cpu installs
# 2.4.1+cpu on Linux. Other packages mirrored there (numpy, pillow) keep their PyPI versions.
_PYTORCH_INDEX = re.compile(r"download\.pytorch\.org/whl/(?:nightly/|test/)?(cpu|cu\d+|rocm[\d.]+)/?(?:,|$)")
_LOCAL_BUILDS = ("torch", "torchvision", "torchaudio")


def installed_release(name: str, pinned: str, index: str) -> str:
    """The release an exact pin ``==pinned`` of ``name`` installs from ``index``."""
    found = _PYTORCH_INDEX.search(index) if name in _LOCAL_BUILDS and "+" not in pinned else None
    return f"{pinned}+{found.group(1)}" if found else pinned


def release_for_torch(name: str, torch: str) -> str | None:
    """The release of ``name`` built for exactly this torch release (torchvision 0.20.1 for
    torch 2.5.1), or None when the table has none."""
    rows = _table()["requires_torch"].get(name) or {}
    found = [release for release, requirement in rows.items() if public(requirement) == f"=={torch}"]
    if not found:
        return None
    from packaging.version import Version

    return max(found, key=Version)


def concerns_torch(name: str) -> bool:
    """torch itself or a distribution coupled to it."""
    return name == TORCH or coupled(name)


def public(specifier: str) -> str:
    """A specifier without local version labels: ``==2.3.0+cpu`` -> ``==2.3.0``."""
    return _LOCAL.sub("", specifier)


@lru_cache(maxsize=256)
def _specifier(text: str):
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(text)


def _allows(specifier: str, version: str) -> bool:
    return _specifier(specifier).contains(version, prereleases=True)


@lru_cache(maxsize=1)
def torch_releases() -> tuple[str, ...]:
    """Every torch release the table knows, oldest first, then ``FUTURE``."""
    return (*_table()["torch_releases"]["versions"], FUTURE)


def torch_matching(specifier: str) -> frozenset[str]:
    """The torch releases (and ``FUTURE``) a requirement on torch itself allows."""
    try:
        wanted = public(specifier)
        return frozenset(version for version in torch_releases() if _allows(wanted, version))
    except ValueError:  # packaging's InvalidSpecifier
        return frozenset(torch_releases())


@lru_cache(maxsize=1024)
def torch_allowed(name: str, specifier: str) -> tuple[frozenset[str], tuple[tuple[str, str], ...]] | None:
    """The torch releases some release of ``name`` within ``specifier`` accepts, with the
    (release, torch requirement) rows that decided it; None when ``name`` is not coupled
    or the table knows no release the specifier allows."""
    rows = _table()["requires_torch"].get(name)
    if rows is None:
        return None
    from packaging.version import InvalidVersion, Version

    try:
        wanted = public(specifier)
        releases = sorted(rows, key=Version)
        chosen = [(release, rows[release]) for release in releases if _allows(wanted, release)]
        newest = releases[-1]
        if _allows(wanted, str(Version(newest)) + ".post9999") or _allows(wanted, "9999"):
            chosen.append((f"newer than {newest}", _at_least(rows[newest])))
    except (InvalidVersion, ValueError):
        return None
    if not chosen:
        return None
    accepted: set[str] = set()
    for _, requirement in chosen:
        accepted |= torch_matching(requirement)
    return frozenset(accepted), tuple(chosen)


def _at_least(requirement: str) -> str:
    """What a newer release needs: at least the lowest torch ``requirement`` allows."""
    found = re.search(r"(?:==|>=|~=)\s*([0-9][0-9.]*)", requirement)
    return f">={found.group(1)}" if found else ""


def newest_torch(python: str) -> tuple[str, bool] | None:
    """The torch an unpinned install gets on this Python minor (``"3.11"``): the newest
    release the table knows, and whether it is final (no newer torch supports that
    Python); None for a Python the table does not cover."""
    newest = _table()["torch_newest"].get(python)
    if newest is None:
        return None
    return newest, python in _table()["torch_final"]["pythons"]
