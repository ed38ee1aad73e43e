"""What the repository's own documentation says about running its images: the container
paths that the `docker run` commands of its READMEs, Makefiles and scripts mount volumes
at (`docker run -v hf-cache:/root/.cache/huggingface ...`). A model cache there outlives
the container, as a compose volume's does.
"""

from __future__ import annotations

import os
import shlex

from dockerlint.model.image import Image

# Where such commands are written: beside the Dockerfile and at the repository root.
_DOC_SUFFIXES = (".md", ".rst", ".txt", ".sh")
_DOC_NAMES = ("Makefile", "makefile", "GNUmakefile", "justfile", "Justfile")
MAX_DOC_BYTES = 1_000_000


def documented_volumes(image: Image) -> tuple[str, ...]:
    """Container paths the repository's documented `docker run` commands mount volumes at."""
    return image.memoized(("documented_volumes",), lambda: tuple(sorted(_documented_volumes(image))))


def _documented_volumes(image: Image) -> set[str]:
    from dockerlint.model.gpu_signals import logical_lines

    folders = {image.dockerfile_path.parent}
    if image.workspace.root is not None:
        folders.add(image.workspace.root)
    found: set[str] = set()
    for folder in folders:
        try:
            names = os.listdir(folder)
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
            if loaded is None or "docker run" not in loaded[0].text:
                continue
            for _, line in logical_lines(loaded[0].text):
                if "docker run" in line and ("-v" in line or "--volume" in line or "--mount" in line):
                    found.update(_mount_targets(line))
    return found


def _mount_targets(line: str) -> set[str]:
    """The container paths of `-v SRC:DST[:OPTS]`, `--volume`, and `--mount ...,target=DST`
    on one `docker run` command line."""
    try:
        words = shlex.split(line.strip().strip("`$ "), comments=True)
    except ValueError:
        return set()
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
