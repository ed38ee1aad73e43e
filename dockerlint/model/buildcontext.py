"""Questions about the build context that the CTX and SEC rules share: which COPY/ADD
read it, which sent files they bring into the image, and what is sent that no build
wants. Everything comes from the one walk in ``image.context``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from dockerlint.knowledge import load
from dockerlint.model.image import Copy, Image, StageModel
from dockerlint.parse.dockerignore import go_clean


def context_path(source: str) -> str:
    """A COPY source as BuildKit resolves it: cleaned, never above the context root."""
    return go_clean("/" + source).lstrip("/") or "."


def is_remote(source: str) -> bool:
    """ADD also takes URLs and git repositories, which are not in the context."""
    return "://" in source or source.startswith("git@")


def has_glob(source: str) -> bool:
    return any(char in source for char in "*?[")


def context_copies(image: Image, stages: list[StageModel] | None = None) -> Iterator[tuple[StageModel, Copy]]:
    """COPY/ADD (and RUN bind mounts) that read the build context, in stages that are built."""
    for stage in stages if stages is not None else image.stages:
        if not stage.reachable:
            continue
        for copy in stage.copies:
            if copy.from_stage is None and copy.from_image is None and not copy.heredoc:
                yield stage, copy


def exists_in_context_dir(image: Image, path: str) -> bool:
    """Whether ``path`` exists under the context root at all (sent or not). The walk
    records files only; an empty directory or a file below a pruned folder needs this
    one lstat, taken only for a source the walk did not find."""
    return os.path.lexists(image.context.root / path)


@dataclass(frozen=True)
class Unwanted:
    path: str  # the folder (or file) as a context-relative path
    size: int  # bytes of every sent file below it
    files: int


def unwanted(image: Image) -> list[Unwanted]:
    """Sent paths no image build wants (``.git``, venvs, caches, ``.env``), largest first.
    ``.git`` is wanted when a local project takes its version from git."""
    table = load("context")["unwanted"]
    directories = set(table["directories"])
    if _versions_from_git(image):
        directories.discard(".git")
    names = set(table["files"])
    files = image.context.files
    venvs = tuple(file.path[: -len("pyvenv.cfg")] for file in files if file.path.endswith("/pyvenv.cfg"))
    groups: dict[str, list[int]] = {}
    for file in files:
        path = file.path
        hit = None
        parts = path.split("/")
        for index in range(len(parts) - 1):
            if parts[index] in directories:
                hit = "/".join(parts[: index + 1]) + "/"
                break
        if hit is None and venvs:
            hit = next((venv for venv in venvs if path.startswith(venv)), None)
        if hit is None and parts[-1] in names:
            hit = path
        if hit is not None:
            group = groups.setdefault(hit, [0, 0])
            group[0] += file.size
            group[1] += 1
    found = [Unwanted(path, size, count) for path, (size, count) in groups.items()]
    found.sort(key=lambda item: (-item.size, item.path))
    return found


def _versions_from_git(image: Image) -> bool:
    backends = tuple(name.replace("_", "-") for name in load("context")["unwanted"]["vcs_versioning"])
    for folder in image.local_projects():
        pyproject = image.workspace.pyproject(folder / "pyproject.toml")
        if pyproject is None:
            continue
        for requirement in pyproject.build_requires:
            if requirement.strip().lower().replace("_", "-").startswith(backends):
                return True
    return False
