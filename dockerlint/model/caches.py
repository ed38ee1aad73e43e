"""Which package-manager caches a RUN leaves in its layer: the pip/uv download cache, apt's
package lists, apk's index. DL3042, DL3009 and DL3019 report them; the bill of bytes
counts them. A cache stays unless a flag or variable turns it off, a cache mount holds
it, or the same RUN deletes it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from dockerlint.knowledge import load
from dockerlint.model.image import ShellCommand, Step, env_enabled
from dockerlint.model.installs import Install, package_manager, wrapper_words


def cache_mounted(step: Step, directories: Iterable[str], home: str = "/root") -> bool:
    """A ``--mount=type=cache`` (or tmpfs) at one of ``directories`` or above it;
    a relative directory (``.cache/pip``) matches a target that ends with it."""
    for target in step.cache_mount_targets():
        target = posixpath.normpath(target.replace("~", home)) if target else ""
        for directory in directories:
            directory = directory.replace("~", home)
            if not directory.startswith("/"):
                if target.endswith("/" + directory) or target == directory:
                    return True
            elif directory == target or directory.startswith(target.rstrip("/") + "/"):
                return True
    return False


def removes(step: Step, path: str, after: ShellCommand | None = None, home: str = "/root") -> bool:
    """Whether an ``rm`` in the same RUN (after ``after``) deletes ``path`` or a parent;
    ``/var/cache/dnf*`` removes ``/var/cache/dnf``."""
    path = path.replace("~", home)
    started = after is None
    for command in step.commands:
        if command is after:
            started = True
            continue
        if not started or command.name != "rm":
            continue
        for word in command.argv[1:]:
            if word.startswith("-"):
                continue
            target = word.replace("~", home).replace("$HOME", home).replace("${HOME}", home)
            target = target.removesuffix("/*").rstrip("/") or "/"
            if target.endswith("*") and path.startswith(target[:-1]) and "/" not in path[len(target) - 1 :]:
                return True
            if path == target or path.startswith(target + "/"):
                return True
    return False


def runs_after(step: Step, command: ShellCommand, text: str) -> bool:
    """Whether a command line starting with ``text`` ("pip cache purge") follows ``command``."""
    words = text.split()
    started = False
    for other in step.commands:
        if other is command:
            started = True
            continue
        if started and other.name == words[0] and list(other.argv[1 : len(words)]) == words[1:]:
            return True
    return False


def keeps_cache(step: Step, command: ShellCommand, tool: str) -> bool:
    """Whether ``command`` (pip or uv, without its no-cache flag) writes its download
    cache into this RUN's layer: no environment variable turns the cache off, no cache
    mount holds it, no cleanup in the same RUN removes it."""
    known = load("caches")[tool]
    env = dict(step.env)
    env.update(command.command.assignments)
    if any(env_enabled(env.get(name)) for name in known["env"]):
        return False
    home = step.home
    directories = [env[known["dir_env"]]] if env.get(known["dir_env"]) else known["cache_dirs"]
    if cache_mounted(step, directories, home):
        return False
    if any(runs_after(step, command, line) for line in known["cleanup"] if not line.startswith("rm ")):
        return False
    return not any(removes(step, directory, command, home) for directory in directories)


def uv_command(command: ShellCommand) -> bool:
    """Whether the program run, after any wrapper (``env``, ``sudo``), is uv."""
    argv = command.argv[wrapper_words(command.argv) :]
    return bool(argv) and argv[0].rsplit("/", 1)[-1] == "uv"


def uv_sync(command: ShellCommand) -> bool:
    """``uv sync``, after any wrapper (``env``, ``sudo``) and uv's global options."""
    if not uv_command(command):
        return False
    argv = command.argv[wrapper_words(command.argv) :]
    value_options = set(package_manager("uv-project")["value_options"])
    index = 1
    while index < len(argv) and argv[index].startswith("-"):
        index += 2 if argv[index] in value_options else 1
    return argv[index : index + 1] == ("sync",)


def poetry_install(command: ShellCommand) -> bool:
    """``poetry install`` or ``poetry sync``, after any wrapper (``env``, ``sudo``)."""
    argv = command.argv[wrapper_words(command.argv) :]
    if not argv or argv[0].rsplit("/", 1)[-1] != "poetry":
        return False
    words = [word for word in argv[1:] if not word.startswith("-")]
    return words[:1] in (["install"], ["sync"])


def poetry_cache_kept(step: Step, command: ShellCommand) -> bool:
    """A ``poetry install`` without ``--no-cache`` that leaves Poetry's cache in the layer."""
    return poetry_install(command) and "--no-cache" not in command.argv and keeps_cache(step, command, "poetry")


def conda_install(command: ShellCommand) -> str | None:
    """``conda install``, ``conda create``, ``conda env create``/``update``, ``conda
    update`` (or mamba's, micromamba's), after any wrapper: the command as written in
    short (``conda install``), else None."""
    argv = command.argv[wrapper_words(command.argv) :]
    program = argv[0].rsplit("/", 1)[-1] if argv else ""
    if program not in load("caches")["conda"]["programs"]:
        return None
    words = [word for word in argv[1:] if not word.startswith("-")]
    if words[:1] in (["install"], ["create"], ["update"]):
        return f"{program} {words[0]}"
    if words[:1] == ["env"] and words[1:2] in (["create"], ["update"]):
        return f"{program} env {words[1]}"
    return None


def conda_cache_kept(step: Step, command: ShellCommand) -> bool:
    """A conda install that leaves its package cache in the layer: no cache mount holds
    the pkgs folder, and neither a `conda clean` nor an `rm` of a pkgs folder (the root
    prefix may be a variable: `rm -rf $CONDA_DIR/pkgs`) follows in the same RUN."""
    if conda_install(command) is None or not keeps_cache(step, command, "conda"):
        return False
    started = False
    for other in step.commands:
        if other is command:
            started = True
        elif started and other.name == "rm":
            if any(word.removesuffix("/*").rstrip("/").endswith("/pkgs") for word in other.argv[1:]):
                return False
    return True


def uv_sync_cache_kept(step: Step, command: ShellCommand) -> bool:
    """A ``uv sync`` without ``--no-cache`` that leaves uv's cache in the layer."""
    return uv_sync(command) and not ({"--no-cache", "-n"} & set(command.argv)) and keeps_cache(step, command, "uv")


def uv_links_cache(step: Step, command: ShellCommand) -> bool:
    """Whether uv hard-links what it installs from its cache (its default on Linux), so the
    cache left in the layer shares their bytes; ``UV_LINK_MODE=copy`` or ``--link-mode
    copy`` (or ``clone``, a copy on the overlay file systems of a build) duplicates them."""
    env = {**dict(step.env), **dict(command.command.assignments)}
    mode = env.get("UV_LINK_MODE", "hardlink")
    argv = list(command.argv)
    for index, word in enumerate(argv):
        if word == "--link-mode" and index + 1 < len(argv):
            mode = argv[index + 1]
        elif word.startswith("--link-mode="):
            mode = word.partition("=")[2]
    return mode.strip("'\"") == "hardlink"


def pip_cache_kept(step: Step, install: Install) -> bool:
    """A ``pip install`` / ``uv pip install`` / ``uv pip sync`` that leaves its download
    cache in the layer (no ``--no-cache-dir``/``--no-cache``, and ``keeps_cache``)."""
    if install.family != "pip" or install.action not in ("install", "sync"):
        return False
    if install.action == "sync" and install.tool != "uv":
        return False
    tool = "uv" if install.tool == "uv" else "pip"
    if install.has("--no-cache-dir", "--no-cache") or (tool == "uv" and "-n" in install.flags):
        return False
    return keeps_cache(step, install.command, tool)


def apt_lists_kept(step: Step, command: ShellCommand) -> bool:
    """An ``apt-get update`` whose package lists stay in the layer."""
    lists = load("caches")["apt"]["lists"]
    return not (removes(step, lists, command) or cache_mounted(step, [lists]))


def apk_index_kept(step: Step, install: Install) -> bool:
    """An ``apk add`` without ``--no-cache`` whose index stays in the layer."""
    if install.family != "apk" or install.action != "add" or install.has("--no-cache"):
        return False
    directories = load("caches")["apk"]["cache_dirs"]
    return not (cache_mounted(step, directories) or any(removes(step, d, install.command) for d in directories))
