"""Code an image holds that this checkout does not show: git submodules it has not fetched
(folders the repository's ``.gitmodules`` declares that hold no file here: a clone without
``--recursive``, a CI checkout without ``submodules: true``), and repositories the build
itself `git clone`s. What an image copies from a submodule is unknown, not missing or
empty: the build works once ``git submodule update --init`` has run; and the code either
brings may import anything.
"""

from __future__ import annotations

import posixpath
import re

from dockerlint.model.image import Image
from dockerlint.regex import lazy_compile

_PATH = lazy_compile(r"^\s*path\s*=\s*(.+?)\s*$", re.MULTILINE)


def unfetched_submodules(image: Image) -> tuple[str, ...]:
    """Context-relative paths of the submodules inside the image's build context that hold
    no file here."""
    return image.memoized(("unfetched_submodules",), lambda: tuple(_unfetched(image)))


def _unfetched(image: Image) -> list[str]:
    root = image.workspace.root or image.context_root
    loaded = image.workspace.text(root / ".gitmodules", quiet=True)
    if loaded is None:
        return []
    try:
        prefix = image.context_root.relative_to(root).as_posix()
    except ValueError:
        return []
    prefix = "" if prefix == "." else prefix + "/"
    held = {
        posixpath.normpath(entry.path.removeprefix("./"))
        for entry in (*image.context.files, *image.context.excluded_files)
    }
    folders = {posixpath.dirname(path) for path in held}
    found = []
    for declared in _PATH.findall(loaded[0].text):
        path = posixpath.normpath(declared.strip().strip("\"'"))
        if prefix and not path.startswith(prefix):
            continue
        relative = path.removeprefix(prefix)
        if relative.startswith("..") or any(
            folder == relative or folder.startswith(relative + "/") for folder in folders
        ):
            continue
        found.append(relative)
    return found


def submodule_of(image: Image, path: str) -> str | None:
    """The unfetched submodule a context-relative ``path`` lies in (or is), or None."""
    path = posixpath.normpath(path)
    for submodule in unfetched_submodules(image):
        if path == submodule or path.startswith(submodule + "/"):
            return submodule
    return None


def copied_submodule(image: Image) -> str | None:
    """An unfetched submodule that a COPY or ADD of the image's build takes (the source is
    the submodule, a folder above it, or the whole context), or None."""
    from dockerlint.model.buildcontext import context_copies, context_path

    submodules = unfetched_submodules(image)
    if not submodules:
        return None
    for _stage, copy in context_copies(image):
        for source in copy.sources:
            path = posixpath.normpath(context_path(source.value))
            for submodule in submodules:
                if (
                    path == "."
                    or submodule == path
                    or submodule.startswith(path + "/")
                    or path.startswith(submodule + "/")
                ):
                    return submodule
    return None


# `git clone` options that take a value as the next word (git-clone(1)).
_CLONE_VALUE_OPTIONS = frozenset({
    "--depth", "-b", "--branch", "-o", "--origin", "-u", "--upload-pack", "--reference", "--reference-if-able",
    "--separate-git-dir", "--template", "-c", "--config", "--shallow-since", "--shallow-exclude", "-j", "--jobs",
    "--filter", "--server-option", "--bundle-uri",
})  # fmt: skip


def git_clones(step) -> list[tuple[str, str]]:
    """(repository, folder in the image) of each `git clone` of a RUN: the folder is the
    word after the repository, else the repository's name, beside the working folder."""
    found = []
    for command in step.commands:
        if command.name != "git":
            continue
        argv = list(command.argv[1:])
        while argv and argv[0].startswith("-"):  # git's own options (`git -c x=y clone`)
            argv = argv[2:] if argv[0] in ("-c", "-C") else argv[1:]
        if argv[:1] != ["clone"]:
            continue
        words, rest = [], iter(argv[1:])
        for word in rest:
            if word in _CLONE_VALUE_OPTIONS:
                next(rest, None)
            elif not word.startswith("-"):
                words.append(word)
        if words:
            target = words[1] if len(words) > 1 else words[0].rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
            found.append((words[0], posixpath.normpath(posixpath.join(step.workdir or "/", target))))
    return found


def cloned_repository(image: Image) -> str | None:
    """A code repository a RUN of the final image's stages clones (not a model repository
    of the Hugging Face Hub, which is weights: MDL001's), as written, or None."""
    from dockerlint.model.queries import final_chain

    for stage in final_chain(image):
        for step in stage.runs():
            for repository, _ in git_clones(step):
                if "huggingface.co" not in repository and "hf.co/" not in repository:
                    return repository
    return None


def unread_code(image: Image) -> str | None:
    """Why some of the image's code cannot be read here, for a message, or None."""
    submodule = copied_submodule(image)
    if submodule is not None:
        return f"it copies the git submodule `{submodule}`, which this checkout has not fetched"
    cloned = cloned_repository(image)
    if cloned is not None:
        return f"it clones `{cloned}` at build time, whose code this checkout does not hold"
    return None
