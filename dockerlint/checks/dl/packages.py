"""Other package managers: apk (DL3018 pins, DL3019 cache), npm (DL3016), yarn (DL3060),
gem (DL3028) and go (DL3062)."""

from __future__ import annotations

from collections.abc import Iterator

from dockerlint.checks import check, fixing
from dockerlint.checks.common import finding
from dockerlint.checks.dl.common import (
    after_subcommand,
    cache_mounted,
    commands,
    has_arg,
    index_of,
    positional,
    removes,
    runs,
    uses,
    word_list,
)
from dockerlint.findings import Finding
from dockerlint.knowledge import load
from dockerlint.model import Image, ShellCommand
from dockerlint.model.caches import apk_index_kept

# -- apk ---------------------------------------------------------------------------------------


@check("DL3018")
def apk_pin(image: Image) -> Iterator[Finding]:
    for _stage, _step, command in commands(image, "apk"):
        if not has_arg(command, "add"):
            continue
        packages = [word for _, word in positional(command, ("t", "virtual", "repository", "X")) if word != "add"]
        loose = [p for p in packages if not any(c in p for c in "=~<>") and not p.endswith(".apk")]
        if loose:
            yield finding(
                image,
                "DL3018",
                command.span,
                f"`apk add` of {word_list(loose)} without a version: each build may get other packages",
                "Pin each package (`apk add curl=8.9.1-r0`, or `curl~8.9` for any 8.9 release).",
            )


@check("DL3019")
def apk_cache(image: Image) -> Iterator[Finding]:
    for _stage, step in runs(image, shipped=True):
        for install in step.written_installs:
            if not apk_index_kept(step, install):
                continue
            yield finding(
                image,
                "DL3019",
                install.span,
                "`apk add` without `--no-cache` keeps the package index in this layer",
                "Use `apk add --no-cache ...`.",
                autofix=fixing.flag_after(image, install.command, "add", "--no-cache"),
            )


# -- npm and yarn ------------------------------------------------------------------------------


def _npm_pinned(package: str) -> bool:
    if package.startswith(("git://", "git+ssh://", "git+http://", "git+https://")):
        return "#" in package
    if package.endswith((".tar", ".tar.gz", ".tgz")) or package.startswith(("/", "./", "../", "~/")):
        return True
    name = package
    if name.startswith("@"):  # a scope: the version follows the name after the "/"
        name = name.lstrip("@").partition("/")[2] if "/" in name else name.lstrip("@")
    return "@" in name


@check("DL3016")
def npm_pin(image: Image) -> Iterator[Finding]:
    for _stage, _step, command in commands(image, "npm"):
        words = positional(command, ("loglevel", "registry"))
        if not words or words[0][1] != "install":
            continue
        loose = [word for _, word in after_subcommand(words, "install") if not _npm_pinned(word)]
        if loose:
            yield finding(
                image,
                "DL3016",
                command.span,
                f"`npm install` of {word_list(loose)} without a version: each build may get another release",
                "Pin a version (`npm install express@4.19.2`), or list the packages in package.json "
                "with a lock file and run `npm ci`.",
            )


def _yarn(command: ShellCommand, *subcommands: str) -> bool:
    return uses(command, ("yarn",), subcommands)


@check("DL3060")
def yarn_cache(image: Image) -> Iterator[Finding]:
    directories = load("caches")["yarn"]["cache_dirs"]
    yarn_steps = {id(step): step for _, step, _ in commands(image, "yarn", shipped=True)}
    for step in yarn_steps.values():
        install = index_of(step, lambda command: _yarn(command, "install"))
        if install is None:
            continue
        clean = index_of(step, lambda command: _yarn(command, "cache", "clean"))
        if clean is not None and clean > install:
            continue
        if any(".cache/yarn" in target for target in step.cache_mount_targets()) or cache_mounted(step, directories):
            continue
        command = step.written_commands[install]
        if any(removes(step, directory, command, step.home) for directory in directories):
            continue
        yield finding(
            image,
            "DL3060",
            command.span,
            "`yarn install` keeps every downloaded package in yarn's cache in this layer",
            "End the same RUN with `yarn cache clean`, or use "
            "`RUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn install ...`.",
        )


# -- gem and go --------------------------------------------------------------------------------


def _gems(command: ShellCommand) -> list[str]:
    """The gems of ``gem install``: as hadolint reads them, an option word and the word
    after it are skipped, and ``-v``/``--version`` pins everything."""
    args = command.argv[1:]
    if "-v" in args or "--version" in args or any(word.startswith("--version=") for word in args):
        return []
    if "--" in args:
        args = args[: args.index("--")]
    gems, skip = [], False
    for word in args:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = True
        elif word not in ("install", "i"):
            gems.append(word)
    return gems


@check("DL3028")
def gem_pin(image: Image) -> Iterator[Finding]:
    for _stage, _step, command in commands(image, "gem"):
        if not has_arg(command, "install", "i"):
            continue
        loose = [gem for gem in _gems(command) if ":" not in gem]
        if loose:
            yield finding(
                image,
                "DL3028",
                command.span,
                f"`gem install` of {word_list(loose)} without a version: each build may get another release",
                "Pin a version (`gem install rake:13.2.1` or `gem install rake -v 13.2.1`).",
            )


def _go_pinned(package: str) -> bool:
    if package == "." or package.startswith(("/", ".")):
        return True
    return "@" in package and not package.endswith(("@latest", "@none"))


@check("DL3062")
def go_pin(image: Image) -> Iterator[Finding]:
    go_steps = {id(step): step for _, step, _ in commands(image, "go")}
    for step in go_steps.values():
        go_run = [command for command in step.written_commands if uses(command, ("go",), ("run",))]
        checked = go_run or [command for command in step.written_commands if uses(command, ("go",), ("install", "get"))]
        for command in checked:
            words = [word for _, word in positional(command)]
            if command in go_run:
                packages = [word for index, word in enumerate(words) if index <= 1 and word != "run"]
            else:
                packages = [word for word in words if word not in ("install", "get", "tool")]
            loose = [package for package in packages if not _go_pinned(package)]
            if loose:
                verb = "run" if command in go_run else next(w for w in words if w in ("install", "get"))
                yield finding(
                    image,
                    "DL3062",
                    command.span,
                    f"`go {verb}` of {word_list(loose)} without a version: each build may get another release",
                    "Name a version (`go install golang.org/x/tools/gopls@v0.16.2`); `@latest` moves too.",
                )
