"""What a base image already holds: CUDA, Python, libc, compilers, preinstalled frameworks,
its default user and the variables it sets.

The facts are data (``knowledge/base_images.toml``, one row per image family and tag
variant, each with its source); this module finds the row for an image reference and reads
the tag-dependent facts (CUDA and torch versions) out of the tag.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from msgspec import Struct, field

from dockerlint.knowledge import load
from dockerlint.regex import glob_match

if TYPE_CHECKING:
    from dockerlint.model.image import ImageRef

ROOT_USERS = ("root", "0")


class BaseImage(Struct, frozen=True):
    """The known facts of one base image reference; None fields are unknown."""

    ref: ImageRef
    source: str
    python: str | None = None  # "3.11"
    libc: str | None = None  # "glibc", "musl"
    compilers: bool | None = None  # the full tool chain (gcc, make, headers)
    cuda: tuple[int, int] | None = None  # CUDA major.minor, when the tag says
    cuda_libraries: str | None = None  # "base", "runtime", "devel", "wheels"; None: no CUDA
    torch: str | None = None  # "cuda" or "cpu" when torch is preinstalled
    torch_version: tuple[int, ...] | None = None
    carries: tuple[str, ...] = ()  # import names of the frameworks it ships
    # Distributions it installs with what they require, as requirements at the tag's
    # version (apache/airflow:2.9.3 ships `apache-airflow[amazon,...]==2.9.3`)
    ships: tuple[str, ...] = ()
    what: str | None = None  # how a message names what it carries
    size: int | None = None  # ~bytes on disk
    user: str | None = None  # default user: "root", a name or uid, "non-root"
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"  # the working directory its last WORKDIR leaves (relative paths start there)
    companions: tuple[str, ...] = ()  # torch's companions it installs with torch, built for that torch
    slim: str | None = None  # the lean image to use instead (IMG001)
    built_on: str | None = None  # the full image it is built on, when not python:X.Y (IMG001)
    runtime_twin: bool = False  # each -devel tag has a -runtime tag (GPU003)
    serverless: bool = False  # a function runtime: CMD names the handler, no volumes (MDL001)
    version_tag: str | None = None  # regex a pinned tag matches
    floating_tags: tuple[str, ...] = ()

    @property
    def is_cuda(self) -> bool:
        return self.cuda_libraries is not None

    @property
    def devel(self) -> bool:
        """The tag names a CUDA development flavour (which has a runtime twin)."""
        return self.is_cuda and "devel" in (self.ref.tag or "").lower()

    @property
    def full_cuda(self) -> bool:
        """It carries the CUDA libraries themselves (runtime, cuDNN, devel), not just cudart."""
        return self.cuda_libraries in ("runtime", "devel", "wheels")

    @property
    def runs_as_root(self) -> bool | None:
        return None if self.user is None else self.user in ROOT_USERS


@lru_cache(maxsize=4096)
def base_image(ref: ImageRef) -> BaseImage | None:
    """The facts of ``ref``, or None when no row describes it (or the reference is not
    resolved). Asked for every stage by many rules: cached (the table is shipped data)."""
    if ref.unresolved:
        return None
    tag = ref.tag or "latest"
    for row in _rows():
        if _matches(ref, row["match"]) and (not row.get("tags") or any(glob_match(tag, t) for t in row["tags"])):
            return _facts(ref, tag, row)
    return None


@cache
def _rows() -> tuple[dict, ...]:
    return tuple(load("base_images")["images"])


def _matches(ref: ImageRef, patterns) -> bool:
    from dockerlint.model.queries import image_matches

    return image_matches(ref, patterns)


def _facts(ref: ImageRef, tag: str, row: dict) -> BaseImage:
    python = row.get("python") or _tag_version(row.get("python_tag"), tag)
    cuda_text = row.get("cuda") or _tag_version(row.get("cuda_tag"), tag)
    libraries = row.get("cuda_libraries")
    if libraries == "tag":
        libraries = _cuda_flavour(tag)
    torch_text = _tag_version(row.get("torch_tag"), tag)
    return BaseImage(
        ref=ref,
        source=row["source"],
        python=python,
        libc=row.get("libc"),
        compilers=row.get("compilers"),
        cuda=_major_minor(cuda_text),
        cuda_libraries=libraries,
        torch=row.get("torch"),
        torch_version=tuple(int(part) for part in torch_text.split(".")) if torch_text else None,
        carries=tuple(row.get("carries", ())),
        ships=_ships(row, tag),
        what=row.get("what"),
        size=row.get("size"),
        user=row.get("user"),
        env=dict(row.get("env", {})),
        workdir=row.get("workdir", "/"),
        companions=tuple(row.get("companions", ())),
        slim=_slim(ref, tag, row, python),
        built_on=row.get("built_on"),
        runtime_twin=row.get("runtime_twin", False),
        serverless=row.get("serverless", False),
        version_tag=row.get("version_tag"),
        floating_tags=tuple(row.get("floating_tags", ())),
    )


def _ships(row: dict, tag: str) -> tuple[str, ...]:
    """The ``ships`` requirements of a row, pinned to the version the tag names when it
    names one (`2.9.3-python3.11`)."""
    version = re.match(r"(\d+\.\d+(?:\.\d+)?)(?![\d.])", tag or "")
    return tuple(f"{item}=={version.group(1)}" if version else item for item in row.get("ships", ()))


def _tag_version(patterns, tag: str) -> str | None:
    """The version a tag regex finds: one group ("12.1") or several ("12", "1") joined."""
    if not patterns:
        return None
    for pattern in [patterns] if isinstance(patterns, str) else patterns:
        match = re.search(pattern, tag)
        if match:
            return ".".join(group for group in match.groups() if group)
    return None


def _major_minor(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    parts = text.split(".")
    if len(parts) < 2 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return int(parts[0]), int(parts[1])


def _cuda_flavour(tag: str) -> str:
    """nvidia/cuda tags name their flavour: VERSION-{base,runtime,devel}[-cudnnN]-OS."""
    lowered = tag.lower()
    if "devel" in lowered:
        return "devel"
    if "runtime" in lowered or "cudnn" in lowered:
        return "runtime"
    return "base"


def _slim(ref: ImageRef, tag: str, row: dict, python: str | None) -> str | None:
    for pattern, replacement in row.get("slim", ()):
        slimmed, count = re.subn(pattern, replacement, tag)
        if count:
            return f"{ref.name}:{slimmed}"
    if row.get("slim_image") and python:
        return row["slim_image"].replace("{python}", python)
    return None


@lru_cache(maxsize=16)
def shipped_distributions(ships: tuple[str, ...]) -> frozenset[str]:
    """Every distribution a base image's ``ships`` requirements install, by the package
    index (at the pinned versions, with the extras asked)."""
    from packaging.requirements import Requirement

    from dockerlint.model.distributions import closure
    from dockerlint.parse.requirements import requirement_problem

    found: set[str] = set()
    for text in ships:
        if requirement_problem(text) is not None:
            continue
        requirement = Requirement(text)
        name = requirement.name.lower().replace("_", "-")
        version = str(requirement.specifier).removeprefix("==") or None
        extras = tuple(sorted(requirement.extras))
        pinned = {name: version}
        found |= closure({name}, {name: extras}, pinned.get, loads=False)
    return frozenset(found)
