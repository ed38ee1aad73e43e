"""What the repository's own documentation says about running and building its images:
the container paths that the `docker run` commands of its READMEs, Makefiles and scripts
mount volumes at (`docker run -v hf-cache:/root/.cache/huggingface ...`: a model cache there
outlives the container, as a compose volume's does), and the folders its model downloads
fill before a build (`hf download BAAI/bge-reranker-large --local-dir ./bge-reranker-large`).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from pathlib import Path

from dockerlint.model.gpu_signals import command_words, logical_lines
from dockerlint.model.image import Image

# Where such commands are written: beside the Dockerfile and at the repository root.
_DOC_SUFFIXES = (".md", ".rst", ".txt", ".sh")
_DOC_NAMES = ("Makefile", "makefile", "GNUmakefile", "justfile", "Justfile")
MAX_DOC_BYTES = 1_000_000


def documented_downloads(image: Image) -> dict[str, tuple[str, int]]:
    """Folders (relative to the document's folder, normalised) that the repository's
    documented model downloads write, with where each is written (document, line)."""
    return image.memoized(("documented_downloads",), lambda: _documented_downloads(image))


# A documented download into a folder of the checkout: the Hugging Face and ModelScope
# command lines (`hf download`, `huggingface-cli download`, `modelscope download`).
_DOWNLOADERS = ("hf", "huggingface-cli", "modelscope")
_LOCAL_DIR = ("--local-dir", "--local_dir")


def _documented_downloads(image: Image) -> dict[str, tuple[str, int]]:
    found: dict[str, tuple[str, int]] = {}
    for path, text in _documents(image, "download"):
        shown = _shown(image, path)
        for number, line in logical_lines(text):
            words = command_words(line)
            if len(words) < 2 or posixpath.basename(words[0]) not in _DOWNLOADERS or words[1] != "download":
                continue
            for index, word in enumerate(words):
                name, has_value, value = word.partition("=")
                if name in _LOCAL_DIR:
                    target = value if has_value else (words[index + 1] if index + 1 < len(words) else "")
                    relative = posixpath.normpath(posixpath.join(_folder_of(image, path), target))
                    if target and not relative.startswith(("..", "/")):
                        found.setdefault(relative, (shown, number))
    return found


def documented_volumes(image: Image) -> tuple[str, ...]:
    """Container paths the repository's documented `docker run` commands mount volumes at."""
    return image.memoized(("documented_volumes",), lambda: tuple(sorted(_documented_volumes(image))))


def _documented_volumes(image: Image) -> set[str]:
    found: set[str] = set()
    for _, text in _documents(image, "docker run"):
        for _, line in logical_lines(text):
            if "docker run" in line and ("-v" in line or "--volume" in line or "--mount" in line):
                found.update(_mount_targets(line))
    return found


def _documents(image: Image, needle: str) -> Iterator[tuple[Path, str]]:
    """The documents beside the Dockerfile and at the repository root that mention ``needle``."""
    folders = {image.dockerfile_path.parent}
    if image.workspace.root is not None:
        folders.add(image.workspace.root)
    for folder in sorted(folders):
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            if not (name.endswith(_DOC_SUFFIXES) or name in _DOC_NAMES):
                continue
            path = folder / name
            try:
                if not os.path.isfile(path) or os.path.getsize(path) > MAX_DOC_BYTES:
                    continue
            except OSError:
                continue
            loaded = image.workspace.text(path, quiet=True)
            if loaded is not None and needle in loaded[0].text:
                yield path, loaded[0].text


def _folder_of(image: Image, path: Path) -> str:
    """The document's folder relative to the build context ("." when it is the context)."""
    try:
        return path.parent.relative_to(image.context_root).as_posix() or "."
    except ValueError:
        return ".."


def _shown(image: Image, path: Path) -> str:
    root = image.workspace.root
    try:
        return path.relative_to(root).as_posix() if root is not None else path.name
    except ValueError:
        return path.name


def _mount_targets(line: str) -> set[str]:
    """The container paths of `-v SRC:DST[:OPTS]`, `--volume`, and `--mount ...,target=DST`
    on one `docker run` command line."""
    words = command_words(line)
    targets = set()
    for index, word in enumerate(words):
        name, has_value, value = word.partition("=")
        if name in ("-v", "--volume", "--mount") and not has_value:
            value = words[index + 1] if index + 1 < len(words) else ""
        elif name not in ("-v", "--volume", "--mount"):
            if not (word.startswith("-v") and len(word) > 2 and not word.startswith("--")):
                continue
            name, value = "-v", word[2:]  # `-vcache:/root/.cache`
        if name == "--mount":
            for part in value.split(","):
                key, _, target = part.partition("=")
                if key in ("target", "dst", "destination") and target.startswith("/"):
                    targets.add(target.rstrip("/") or "/")
        else:
            parts = value.split(":")
            if len(parts) >= 2 and parts[1].startswith("/"):
                targets.add(parts[1].rstrip("/") or "/")
    return targets


def documented_container_commands(image: Image) -> tuple[tuple[str, ...], ...]:
    """The commands the repository's documents (READMEs) run inside a container of this
    image: `docker exec -it library_api pytest` when a compose service that builds the
    image has that `container_name` (or name), `docker compose exec web pytest` for its
    service. Makefiles, scripts and CI workflows are read as build files (invocations.py)."""
    return image.memoized(("documented_container_commands",), lambda: tuple(_container_commands(image)))


def _container_commands(image: Image) -> Iterator[tuple[str, ...]]:
    from dockerlint.model.queries import compose_services
    from dockerlint.parse.buildcmd import run_command

    services = compose_services(image)
    containers = {service.name for service in services} | {s.container_name for s in services if s.container_name}
    if not containers:
        return
    for path, text in _documents(image, "docker"):
        if not path.name.endswith((".md", ".rst", ".txt")):
            continue
        for _, line in logical_lines(text):
            if "exec" not in line and "run" not in line:
                continue
            ran = run_command(tuple(command_words(line)))
            if ran is not None and ran.kind != "image" and ran.name in containers and ran.command:
                yield tuple(piece for word in ran.command for piece in word.split())  # `sh -c "pytest -x"`
