"""What each layer adds and removes: system packages and files, per instruction.

A RUN that removes what an earlier layer added saves nothing (the bytes stay in that
layer); only a removal in the same RUN keeps them out. The layer rules and the build
tool rules ask these questions.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from msgspec import Struct

from dockerlint.model.image import Image, ShellCommand, Step
from dockerlint.model.installs import Install
from dockerlint.parse.dockerfile import expand
from dockerlint.source import Span

ADD_ACTIONS = {"apt": "install", "apk": "add", "rpm": "install"}
REMOVE_ACTIONS = {"apt": ("purge", "remove"), "apk": ("del",), "rpm": ("remove",)}


class Package(Struct, frozen=True):
    """A system package named by an install command."""

    family: str  # "apt", "apk", "rpm"
    name: str  # without a version pin
    span: Span
    install: Install
    virtual: str | None  # apk --virtual NAME the package belongs to


def package_name(family: str, word: str) -> str:
    """``gcc=4:12.2.0-3`` -> ``gcc``; ``musl-dev~=1.2`` -> ``musl-dev``."""
    if family == "apt":
        return word.split("=", 1)[0]
    if family == "apk":
        return re.split(r"[=~<>]", word, maxsplit=1)[0]
    return word


def installed_packages(step: Step) -> Iterator[Package]:
    for install in step.installs:
        if install.family in ADD_ACTIONS and install.action == ADD_ACTIONS[install.family]:
            virtual = install.option("--virtual") if install.family == "apk" else None
            for argument in install.packages:
                if argument.value.startswith("$"):
                    continue
                yield Package(
                    install.family,
                    package_name(install.family, argument.value),
                    argument.span,
                    install,
                    virtual if isinstance(virtual, str) else None,
                )


def removal(step: Step, package: Package, after: ShellCommand | None = None) -> Install | None:
    """The command of ``step`` (after ``after``) that removes ``package``, if any."""
    started = after is None
    for install in step.installs:
        if install.command is after:
            started = True
            continue
        if not started or install.family != package.family:
            continue
        if install.action not in REMOVE_ACTIONS[package.family]:
            continue
        names = {package_name(install.family, argument.value) for argument in install.packages}
        if package.name in names or (package.virtual is not None and package.virtual in names):
            return install
    return None


class Removal(Struct, frozen=True):
    """An ``rm`` of a path, or a package purge, in a RUN."""

    target: str
    span: Span


def removed_paths(image: Image, step: Step) -> Iterator[Removal]:
    """Paths an ``rm`` in this RUN deletes (absolute, variables expanded)."""
    for command in step.commands:
        if command.name != "rm":
            continue
        for index, word in enumerate(command.argv[1:], 1):
            value = expand(word, step.env, image.dockerfile.escape)
            if word.startswith("-") or "$" in value:  # an option, or a variable the model cannot resolve
                continue
            target = posixpath.normpath(posixpath.join(step.workdir or "/", value.removesuffix("/*")))
            yield Removal(target, command.word_span(index))


# Commands that rewrite the metadata of every file under a folder; on an overlay file system
# each file is copied up into the new layer, so its bytes are stored a second time.
_RECURSIVE_METADATA = {"chmod": 1, "chown": 1, "chgrp": 1}  # words before the paths: mode/owner/group
_RECURSIVE_FLAGS = ("-R", "--recursive")


class Rewrite(Struct, frozen=True):
    """``chmod -R``/``chown -R``/``chgrp -R`` of a path in a RUN."""

    command: str  # "chown -R"
    target: str  # absolute path in the image
    span: Span
    written: str  # as the RUN names it, variables expanded


def recursive_rewrites(image: Image, step: Step) -> Iterator[Rewrite]:
    for command in step.commands:
        if command.name not in _RECURSIVE_METADATA or command.command.nested:
            continue
        options = [word for word in command.argv[1:] if word.startswith("-")]
        recursive = any(word in _RECURSIVE_FLAGS or (not word.startswith("--") and "R" in word[1:]) for word in options)
        if not recursive:
            continue
        operands = [(index, word) for index, word in enumerate(command.argv[1:], 1) if not word.startswith("-")]
        for index, word in operands[_RECURSIVE_METADATA[command.name] :]:
            value = expand(word, step.env, image.dockerfile.escape)
            if "$" in value or not value:
                continue
            target = posixpath.normpath(posixpath.join(step.workdir or "/", value.removesuffix("/*")))
            yield Rewrite(f"{command.name} -R", target, command.word_span(index), value)


def dvc_outputs(image: Image, stage, step: Step, command: ShellCommand) -> list[tuple[str, int | None]]:
    """Files ``dvc pull X.dvc`` writes, from the ``.dvc`` files in the build context: (path in
    the image, size). Only targets named as ``.dvc`` files are read."""
    from dockerlint.model.image import context_source

    argv = command.argv
    if command.name != "dvc" or len(argv) < 3 or argv[1] not in ("pull", "checkout", "fetch"):
        return []
    if argv[1] == "fetch":
        return []  # fetch fills the cache only
    found: list[tuple[str, int | None]] = []
    for word in argv[2:]:
        if word.startswith("-") or not word.endswith(".dvc"):
            continue
        image_path = posixpath.normpath(posixpath.join(step.workdir or "/", word))
        source = context_source(image, stage, image_path, step.index)
        data = image.workspace.read_bytes(source, quiet=True) if source is not None else None
        if not data:
            continue
        try:
            import yaml

            loaded = yaml.safe_load(data)
        except Exception:  # a malformed file is the user's to fix; dvc would stop too
            continue
        if not isinstance(loaded, dict) or not isinstance(loaded.get("outs"), list):
            continue
        folder = posixpath.join(posixpath.dirname(image_path), str(loaded.get("wdir") or "."))
        for out in loaded["outs"]:
            if isinstance(out, dict) and isinstance(out.get("path"), str):
                size = out.get("size")
                path = posixpath.normpath(posixpath.join(folder, out["path"]))
                found.append((path, size if isinstance(size, int) else None))
    return found
