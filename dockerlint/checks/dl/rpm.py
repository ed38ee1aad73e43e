"""RPM package managers: yum (DL3030 -y, DL3032 cache, DL3033 pins), zypper (DL3034
non-interactive, DL3035 dist-upgrade, DL3036 cache, DL3037 pins) and dnf/microdnf
(DL3038 -y, DL3040 cache, DL3041 pins)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dockerlint.checks import check, fixing
from dockerlint.checks.common import finding
from dockerlint.checks.dl.common import (
    cache_mounted,
    commands,
    has_arg,
    has_flag,
    index_of,
    positional,
    removes,
    uses,
    variables,
    word_list,
)
from dockerlint.findings import Finding
from dockerlint.knowledge import load
from dockerlint.model import Image, ShellCommand, Step

_DNF = ("dnf", "microdnf")
_VERSION_PART = re.compile(r"[0-9A-Za-z.~^_:+]*")


def _yes_missing(image: Image, code: str, names: tuple[str, ...], subcommands: tuple[str, ...], fix: str):
    for _stage, _step, command in commands(image, *names):
        if has_arg(command, *subcommands) and not has_flag(command, "y", "assumeyes"):
            yield finding(
                image,
                code,
                command.span,
                f"`{command.name} install` without `-y` waits for an answer that never comes in a build",
                fix,
                autofix=_yes_fix(image, command, subcommands),
            )


def _yes_fix(image: Image, command: ShellCommand, subcommands: tuple[str, ...]):
    index = fixing.subcommand_index(command, *subcommands)
    if index is None:
        return None
    return fixing.safe("Add `-y`", fixing.insert_after_word(image, command, index, " -y"))


@check("DL3030")
def yum_yes(image: Image) -> Iterator[Finding]:
    yield from _yes_missing(
        image, "DL3030", ("yum",), ("install", "groupinstall", "localinstall"), "Add `-y` (`yum install -y ...`)."
    )


@check("DL3038")
def dnf_yes(image: Image) -> Iterator[Finding]:
    yield from _yes_missing(
        image, "DL3038", _DNF, ("install", "groupinstall", "localinstall"), "Add `-y` (`dnf install -y ...`)."
    )


@check("DL3034")
def zypper_non_interactive(image: Image) -> Iterator[Finding]:
    subcommands = ("install", "in", "remove", "rm", "source-install", "si", "patch")
    for _stage, _step, command in commands(image, "zypper"):
        if has_arg(command, *subcommands) and not has_flag(command, "non-interactive", "n", "no-confirm", "y"):
            yield finding(
                image,
                "DL3034",
                command.span,
                "`zypper` without `-n` or `-y` waits for an answer that never comes in a build",
                "Add `--non-interactive` (`zypper -n install ...`) or `-y` after the subcommand.",
                autofix=fixing.safe(
                    "Add `-n`", fixing.insert_after_word(image, command, fixing.program_index(command), " -n")
                ),
            )


@check("DL3035")
def zypper_dist_upgrade(image: Image) -> Iterator[Finding]:
    for _stage, _step, command in commands(image, "zypper"):
        if has_arg(command, "dist-upgrade", "dup"):
            yield finding(
                image,
                "DL3035",
                command.span,
                "`zypper dist-upgrade` upgrades the whole distribution inside the build: the image no "
                "longer matches its base, and each build may get a different system",
                "Use a newer base image instead, or `zypper patch`/`zypper update` for fixes only.",
            )


# -- caches ----------------------------------------------------------------------------------


def _cache_kept(step: Step, installs, cleans, directories: list[str]) -> ShellCommand | None:
    """The install command whose cache stays in the layer: no clean after the first
    install, no cache mount on the cache, no ``rm`` of it after the install."""
    first = index_of(step, installs)
    if first is None:
        return None
    clean = index_of(step, cleans)
    if clean is not None and clean > first:
        return None
    command = step.written_commands[first]
    if cache_mounted(step, directories, step.home):
        return None
    if any(removes(step, directory, command, step.home) for directory in directories):
        return None
    return command


def _cache_rule(image: Image, code: str, tool: str, names: tuple[str, ...], subcommands: tuple[str, ...]):
    known = load("caches")[tool]
    found = {id(step): step for _, step, _ in commands(image, *names, shipped=True)}
    for step in found.values():
        for name in names:
            command = _cache_kept(
                step,
                lambda command, name=name: uses(command, (name,), subcommands),
                lambda command, name=name: uses(command, (name,), ("clean", "cc") if name == "zypper" else ("clean",)),
                known["cache_dirs"],
            )
            if command is None:
                continue
            clean = known["clean"].replace(tool, name, 1)
            yield finding(
                image,
                code,
                command.span,
                f"`{name}` keeps downloaded packages and repository metadata in this layer ({known['cache_dirs'][0]})",
                f"End the same RUN with `{clean}`, or use `--mount=type=cache,target={known['cache_dirs'][0]}`.",
                autofix=fixing.safe(
                    f"End the RUN with `{clean}`", fixing.append_to_run(image, step, clean, tuple(clean.split()))
                ),
            )


@check("DL3032")
def yum_cache(image: Image) -> Iterator[Finding]:
    yield from _cache_rule(image, "DL3032", "yum", ("yum",), ("install",))


@check("DL3036")
def zypper_cache(image: Image) -> Iterator[Finding]:
    yield from _cache_rule(image, "DL3036", "zypper", ("zypper",), ("install", "in"))


@check("DL3040")
def dnf_cache(image: Image) -> Iterator[Finding]:
    subcommands = ("install", "in", "upgrade", "up", "upgrade-minimal", "up-min", "reinstall", "rei")
    yield from _cache_rule(image, "DL3040", "dnf", _DNF, subcommands)


# -- pins ------------------------------------------------------------------------------------


def _declared(image: Image, step: Step) -> set[str]:
    """Variables a package word may use: ENV and ARG values of the stage, and every ARG
    declared earlier in the file."""
    names = set(step.env)
    for instruction in image.dockerfile.instructions[: step.instruction.index]:
        if instruction.keyword == "ARG":
            names.update(word.split("=", 1)[0] for word in instruction.args.split())
    return names


def _rpm_pinned(package: str, declared: set[str]) -> bool:
    """``name-version`` (``-release`` ...): a dash, then parts made of version characters
    of which one starts with a digit; an ``.rpm`` file; or a variable that is declared."""
    if package.endswith(".rpm"):
        return True
    parts = package.split("-")
    if len(parts) <= 1:
        return False
    if "$" in package:
        return any(name in declared for name in variables(package))
    rest = parts[1:]
    return all(_VERSION_PART.fullmatch(part) for part in rest) and any(part[:1].isdigit() for part in rest)


def _rpm_pins(image: Image, code: str, names: tuple[str, ...], skip: tuple[str, ...], example: str):
    for _stage, step, command in commands(image, *names):
        if not has_arg(command, "install"):
            continue
        words = [word for _, word in positional(command) if word not in ("install", "module")]
        if has_arg(command, "module"):
            loose = [word for word in words if ":" not in word]
        elif has_arg(command, *skip):
            continue
        else:
            declared = _declared(image, step)
            loose = [word for word in words if not _rpm_pinned(word, declared)]
        if loose:
            yield finding(
                image,
                code,
                command.span,
                f"`{command.name} install` of {word_list(loose)} without a version: each build may get other packages",
                f"Pin each package with its version (`{example}`; modules as `name:stream`).",
            )


@check("DL3033")
def yum_pin(image: Image) -> Iterator[Finding]:
    yield from _rpm_pins(image, "DL3033", ("yum",), ("module",), "yum install -y httpd-2.4.57")


@check("DL3041")
def dnf_pin(image: Image) -> Iterator[Finding]:
    yield from _rpm_pins(image, "DL3041", _DNF, ("module", "group"), "dnf install -y httpd-2.4.57")


@check("DL3037")
def zypper_pin(image: Image) -> Iterator[Finding]:
    for _stage, _step, command in commands(image, "zypper"):
        if not has_arg(command, "install", "in"):
            continue
        words = [word for _, word in positional(command) if word not in ("install", "in")]
        loose = [word for word in words if not any(c in word for c in "=<>") and not word.endswith(".rpm")]
        if loose:
            yield finding(
                image,
                "DL3037",
                command.span,
                f"`zypper install` of {word_list(loose)} without a version: each build may get other packages",
                "Pin each package (`zypper install -y httpd=2.4.51`, or `'httpd>=2.4'`).",
            )
