"""Where the bill of bytes gets each figure, and how sure it is.

Every figure is a ``Figure``: bytes, a low-high range and its source. The tables are data
(knowledge/*.toml); this module only looks them up. A thing no table sizes gets no figure
(None): the bill shows it as unknown, never as zero.

Python packages are sized behind one function, ``python_package_bytes`` (and the closure
helper ``python_requires`` beside it): they read the package index built from PyPI's
metadata and wheels (docs/package-index.md) and the measured torch builds of
knowledge/ml.toml.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from msgspec import Struct

from dockerlint.knowledge import load


class Figure(Struct, frozen=True):
    bytes: int
    low: int
    high: int
    source: str

    @classmethod
    def of(cls, size: int, kind: str, source: str) -> Figure:
        """A figure with the range that figures of ``kind`` have (knowledge/sizes.toml)."""
        spread = uncertainty(kind)
        return cls(int(size), int(size * (1 - spread)), int(size * (1 + spread)), source)

    def scaled(self, factor: float, source: str | None = None) -> Figure:
        return Figure(int(self.bytes * factor), int(self.low * factor), int(self.high * factor), source or self.source)


def uncertainty(kind: str) -> float:
    return float(_sizes()["uncertainty"].get(kind, _sizes()["uncertainty"]["other"]))


@cache
def _sizes() -> dict:
    return load("sizes")


def cache_settings() -> dict:
    return _sizes()["caches"]


def unknown_outputs() -> dict:
    return _sizes()["unknown_outputs"]


# -- base images ------------------------------------------------------------------------------


def base_figure(facts) -> Figure | None:
    """The size of a base image from its row in base_images.toml; nvidia/cuda tags by the
    flavour their tag names (base, runtime, devel, with cuDNN or not)."""
    if facts is None:
        return None
    if facts.size:
        return Figure.of(facts.size, "base", f"base_images.toml: {facts.source}")
    if facts.cuda_libraries in ("base", "runtime", "devel") and facts.ref.repository.endswith("nvidia/cuda"):
        return cuda_flavour_figure(facts.cuda_libraries, "cudnn" in (facts.ref.tag or "").lower())
    return None


def cuda_flavour_figure(flavour: str, cudnn: bool) -> Figure:
    images = _sizes()["cuda_images"]
    flavours = load("ml")["cuda_flavours"]
    size = images["base_size"]
    if flavour in ("runtime", "devel"):
        size = flavours["runtime_size"] + (images["cudnn_runtime_extra"] if cudnn else 0)
    if flavour == "devel":
        size += flavours["devel_extra_size"] + (
            images["cudnn_devel_extra"] - images["cudnn_runtime_extra"] if cudnn else 0
        )
    name = f"nvidia/cuda {'cudnn-' if cudnn else ''}{flavour}"
    return Figure.of(size, "base", f"{name}: {images['source']}")


# -- Debian packages ----------------------------------------------------------------------------


@cache
def _debian() -> dict:
    return load("debian_packages")["debian"]


def debian_known(name: str) -> bool:
    return name in _debian()["packages"]


def debian_members(name: str, recommends: bool) -> tuple[str, ...]:
    """The packages ``apt-get install name`` adds to a slim Debian image."""
    entry = _debian()["packages"][name]
    return tuple(entry["closure"]) + (tuple(entry["recommends"]) if recommends else ())


def debian_present(full: bool) -> frozenset[str]:
    present = _debian()["present"]
    return frozenset(present["slim"]) | (frozenset(present["full"]) if full else frozenset())


def debian_bytes(members) -> int:
    installed = _debian()["installed"]
    return sum(installed.get(member, 0) for member in members)


def debian_sizes(members) -> dict[str, int]:
    """Installed bytes of each of ``members`` the table knows."""
    installed = _debian()["installed"]
    return {member: installed[member] for member in members if member in installed}


DEBIAN_SOURCE = "debian_packages.toml: Installed-Size over the apt closure, Debian 12"


# -- Python packages (the one place to swap for the package index) --------------------------------


@lru_cache(maxsize=8192)
def python_package_bytes(
    name: str, version: str | None = None, compiled: bool = True
) -> tuple[int, int, int, str] | None:
    """Installed bytes of one distribution (without its dependencies): (bytes, low, high,
    source), or None when nothing sizes it. ``version`` is the pinned release when known;
    ``compiled``: the installer writes .pyc files (pip does).

    The package index's size of the newest wheel (torch's CUDA build is sized by
    ``torch_figures`` from the measured builds in ml.toml)."""
    from dockerlint.model.distributions import canonical, lookup

    distribution = lookup(canonical(name), version)
    if not distribution.known or not distribution.size:
        return None
    pyc = " with the .pyc pip writes" if compiled and distribution.py_bytes else ""
    figure = Figure.of(
        distribution.installed_bytes(compiled), "python", f"package index: installed size of the newest wheel{pyc}"
    )
    return figure.bytes, figure.low, figure.high, figure.source


@lru_cache(maxsize=8192)
def python_requires(name: str, extras: tuple[str, ...] = (), version: str | None = None) -> tuple[str, ...]:
    """The distributions ``name`` (with ``extras``) requires, canonical names: the closure
    edges, from the package index's Requires-Dist of the release (the newest when no
    version is given). What it loads by a string when installed is not installed by it.
    torch's CUDA libraries (nvidia-*, cuda-*, triton) are not among them: the bill sizes
    them with torch's build (``torch_figures``), and a CPU build has none."""
    from dockerlint.model.distributions import lookup

    needed = lookup(name, version).needs(extras, loads=False)
    if name == "torch":
        needed = {other for other in needed if not other.startswith(("nvidia-", "cuda-")) and other != "triton"}
    return tuple(sorted(needed))


def python_closure(roots: list[tuple]) -> dict[str, str]:
    """Every distribution the roots (name, extras[, pinned version]) install, each mapped to
    the first root (in order) that brings it. A root's requirements are those of its pinned
    release; what they bring, those of the newest releases."""
    return dict(_closure(tuple(roots)))


@lru_cache(maxsize=1024)
def _closure(roots: tuple[tuple, ...]) -> tuple[tuple[str, str], ...]:
    owner: dict[str, str] = {}
    for root, extras, *pinned in roots:
        if root in owner:
            continue
        owner[root] = root
        pending = [(needed, ()) for needed in python_requires(root, tuple(extras), pinned[0] if pinned else None)]
        while pending:
            name, wanted = pending.pop()
            if name in owner:
                continue
            owner[name] = root
            pending.extend((needed, ()) for needed in python_requires(name, tuple(wanted)))
    return tuple(owner.items())


_TORCH_SOURCE = "ml.toml [torch.builds]: measured with pip install --target"


def torch_build(version: tuple[int, ...] | None) -> dict:
    """The measured sizes of the CUDA torch build for ``version`` (the nearest listed
    release at or below it; the newest for an unknown version)."""
    builds = load("ml")["torch"]["builds"]
    ordered = sorted(builds, key=lambda key: tuple(int(part) for part in key.split(".")))
    chosen = ordered[-1]
    if version is not None:
        below = [key for key in ordered if tuple(int(part) for part in key.split(".")) <= tuple(version[:2])]
        chosen = below[-1] if below else ordered[0]
    return {**builds[chosen], "release": chosen}


def torch_figures(version: tuple[int, ...] | None, cuda: bool) -> dict[str, Figure]:
    """torch's own files, and for a CUDA build the nvidia-* libraries and triton (none
    before 1.13, whose wheel carries its CUDA libraries inside; no triton before 2.0)."""
    settings = load("ml")["torch"]
    if not cuda:
        return {"torch": Figure.of(settings["cpu_installed_size"], "python", "ml.toml [torch] cpu_installed_size")}
    bundled = tuple(int(part) for part in settings["bundled_before"].split("."))
    if version is not None and tuple(version[:2]) < bundled:
        return {
            "torch": Figure.of(settings["bundled_installed_size"], "torch", "ml.toml [torch] bundled_installed_size")
        }
    build = torch_build(version)
    source = f"{_TORCH_SOURCE} (torch {build['release']})"
    figures = {"torch": Figure.of(build["torch"], "torch", source)}
    figures["nvidia"] = Figure.of(build["nvidia"], "torch", source)
    if version is None or tuple(version[:2]) >= (2, 0):  # torch 2.0 was the first to require triton
        figures["triton"] = Figure.of(build["triton"], "torch", source)
    return figures


def pinned_version(specifier: str) -> str | None:
    match = re.match(r"^===?\s*([0-9][^,;\s]*)$", specifier.strip())
    return match.group(1).split("+")[0] if match else None


# -- models -------------------------------------------------------------------------------------


def model_figure(size: int | None, what: str = "ml.toml [model_sizes]") -> Figure | None:
    return Figure.of(size, "model", what) if size else None
