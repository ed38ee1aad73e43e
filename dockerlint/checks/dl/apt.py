"""apt on Debian and Ubuntu: DL3008 pins, DL3009 lists, DL3014 -y, DL3015 recommends,
DL3027 apt instead of apt-get."""

from __future__ import annotations

from collections.abc import Iterator

from dockerlint.checks import check
from dockerlint.checks.common import finding
from dockerlint.checks.dl.common import (
    commands,
    count_flag,
    has_arg,
    has_flag,
    positional,
    runs,
    word_list,
)
from dockerlint.findings import Finding
from dockerlint.knowledge import load
from dockerlint.model import Image, Install, Step
from dockerlint.model.caches import apt_lists_kept


@check("DL3008")
def apt_pin(image: Image) -> Iterator[Finding]:
    for _stage, _step, command in commands(image, "apt-get"):
        if not has_arg(command, "install"):
            continue
        packages = [word for _, word in positional(command, ("t", "target-release")) if word != "install"]
        loose = [p for p in packages if "=" not in p and "/" not in p and not p.endswith(".deb")]
        if loose:
            yield finding(
                image,
                "DL3008",
                command.span,
                f"`apt-get install` of {word_list(loose)} without a version: each build may get other packages",
                "Pin each package (`apt-get install curl=7.88.1-10+deb12u8`), or accept the drift and ignore DL3008.",
            )


@check("DL3009")
def apt_lists(image: Image) -> Iterator[Finding]:
    caches = load("caches")["apt"]
    aptitude = [command for _, _, command in commands(image, "aptitude", shipped=True) if has_arg(command, "update")]
    for _stage, step in runs(image, shipped=True):
        updates = [(i.command, i.tool) for i in step.installs if i.family == "apt" and i.action == "update"]
        updates += [(command, "aptitude") for command in aptitude if command in step.commands]
        for command, tool in updates:
            if not apt_lists_kept(step, command):
                continue
            yield finding(
                image,
                "DL3009",
                command.span,
                f"`{tool} update` leaves the package lists (~45 MB) in this layer",
                f"End the same RUN with `rm -rf {caches['lists']}/*`, or use "
                f"`--mount=type=cache,target={caches['lists']}`.",
                caches["lists_size"],
            )


@check("DL3014")
def apt_yes(image: Image) -> Iterator[Finding]:
    for _stage, _step, command in commands(image, "apt-get"):
        if not has_arg(command, "install"):
            continue
        if (
            has_flag(command, "y", "yes", "qq", "assume-yes")
            or count_flag(command, "q") + count_flag(command, "quiet") >= 2
            or any(word.startswith(("-q=", "--quiet=")) and word[-1:] not in "01" for word in command.argv)
        ):
            continue  # apt-get(8): quiet level 2 and above implies -y
        yield finding(
            image,
            "DL3014",
            command.span,
            "`apt-get install` without `-y` waits for an answer that never comes in a build",
            "Add `-y` (`apt-get install -y ...`).",
        )


def _apt_recommends_off(stage_steps: list[Step], upto: int) -> bool:
    """An earlier RUN wrote ``APT::Install-Recommends "0"`` into apt's configuration."""
    for step in stage_steps[: upto + 1]:
        for command in step.commands:
            if any("Install-Recommends" in word for word in command.argv) and command.name in ("echo", "printf", "tee"):
                return True
    return False


def _recommends_off(install: Install) -> bool:
    if install.has("--no-install-recommends"):
        return True
    option = install.option("--option")
    return isinstance(option, str) and "Install-Recommends" in option and option.rstrip("\"'").endswith(("false", "0"))


@check("DL3015")
def apt_recommends(image: Image) -> Iterator[Finding]:
    for stage, step in runs(image, shipped=True):
        for install in step.installs:
            if install.family != "apt" or install.action != "install" or _recommends_off(install):
                continue
            if _apt_recommends_off(stage.steps, step.index):
                continue
            yield finding(
                image,
                "DL3015",
                install.span,
                f"`{install.tool} install` without `--no-install-recommends` also installs recommended packages",
                "Add `--no-install-recommends` and name what you need explicitly.",
            )


@check("DL3027")
def apt_not_apt_get(image: Image) -> Iterator[Finding]:
    reported: set[int] = set()
    for _stage, step, command in commands(image, "apt"):
        if id(step) in reported:
            continue  # once per RUN
        reported.add(id(step))
        yield finding(
            image,
            "DL3027",
            command.span,
            "`apt` is meant for people at a terminal: its output and behaviour may change between releases "
            "and it warns that it has no stable command-line interface",
            "Use `apt-get` (or `apt-cache` for queries) in scripts and Dockerfiles.",
        )
