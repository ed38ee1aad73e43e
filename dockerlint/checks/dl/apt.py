"""apt on Debian and Ubuntu: DL3008 pins, DL3009 lists, DL3014 -y, DL3015 recommends,
DL3027 apt instead of apt-get."""

from __future__ import annotations

from collections.abc import Iterator

from dockerlint.checks import check, fixing
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
from dockerlint.findings import Finding, human_size
from dockerlint.knowledge import load
from dockerlint.model import Image, Install, Step
from dockerlint.model.caches import apt_lists_kept


@check("DL3008")
def apt_pin(image: Image) -> Iterator[Finding]:
    for _stage, _step, command in commands(image, "apt-get"):
        if not has_arg(command, "install"):
            continue
        loose = _loose(command)
        if loose:
            yield finding(
                image,
                "DL3008",
                command.span,
                f"`apt-get install` of {word_list(loose)} without a version: each build may get other packages",
                "Pin each package (`apt-get install curl=7.88.1-10+deb12u8`), or accept the drift and ignore DL3008.",
            )


def _loose(command) -> list[str]:
    """The packages an install names without a version."""
    packages = [word for _, word in positional(command, ("t", "target-release")) if word != "install"]
    return [p for p in packages if "=" not in p and "/" not in p and not p.endswith(".deb")]


@check("DL3009")
def apt_lists(image: Image) -> Iterator[Finding]:
    caches = load("caches")["apt"]
    aptitude = [command for _, _, command in commands(image, "aptitude", shipped=True) if has_arg(command, "update")]
    for _stage, step in runs(image, shipped=True):
        updates = [(i.command, i.tool) for i in step.written_installs if i.family == "apt" and i.action == "update"]
        updates += [(command, "aptitude") for command in aptitude if command in step.written_commands]
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
                autofix=None
                if _lists_used_later(image, _stage, step)
                else fixing.safe(
                    f"End the RUN with `rm -rf {caches['lists']}/*`",
                    fixing.append_to_run(
                        image, step, f"rm -rf {caches['lists']}/*", ("rm", "-rf", f"{caches['lists']}/*")
                    ),
                ),
            )


# apt-get subcommands that read the package lists an earlier `update` fetched.
_READS_LISTS = ("install", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "source", "download")


def _lists_used_later(image: Image, stage, step: Step) -> bool:
    """A later RUN of this stage, or of a stage built on it, installs without its own
    ``update`` first: deleting the lists here would break it."""
    later = [s for s in stage.steps if s.index > step.index and s.keyword == "RUN"]
    later += [s for other in image.stages if _built_on(image, other, stage) for s in other.runs()]
    for other in later:
        updated = False
        for command in other.written_commands:
            if command.name not in ("apt-get", "apt", "aptitude"):
                continue
            if "update" in command.argv[1:]:
                updated = True
            elif not updated and any(word in _READS_LISTS for word in command.argv[1:]):
                return True
    return False


def _built_on(image: Image, other, stage) -> bool:
    seen = set()
    while other.parent is not None and other.index not in seen:
        seen.add(other.index)
        if other.parent == stage.index:
            return True
        other = image.stages[other.parent]
    return False


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
            autofix=fixing.flag_after(image, command, "install", "-y"),
        )


def _apt_recommends_off(stage_steps: list[Step], upto: int) -> bool:
    """An earlier RUN wrote ``APT::Install-Recommends "0"`` into apt's configuration."""
    for step in stage_steps[: upto + 1]:
        for command in step.written_commands:
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
        for install in step.written_installs:
            if install.family != "apt" or install.action != "install" or _recommends_off(install):
                continue
            if _apt_recommends_off(stage.steps, step.index):
                continue
            size, largest = _recommended_bytes(image, stage, install)
            cost = ""
            if size:
                shown = ", ".join(f"`{name}`" for name in largest)
                cost = f" (~{human_size(size)} more here, {shown} the largest)"
            yield finding(
                image,
                "DL3015",
                install.span,
                f"`{install.tool} install` without `--no-install-recommends` also installs recommended packages{cost}",
                "Add `--no-install-recommends` and name what you need explicitly.",
                size,
                autofix=fixing.flag_after(image, install.command, "install", "--no-install-recommends"),
            )


MIN_RECOMMENDED_BYTES = 10_000_000  # below this the recommends are not worth a figure


def _recommended_bytes(image: Image, stage, install: Install) -> tuple[int | None, list[str]]:
    """What the recommended packages of this install add to a Debian image (Debian 12's
    table, as the bill of bytes counts it), with the three largest; (None, []) when a
    package is not in the table, the image is not Debian's, or it adds little."""
    from dockerlint.model.pyenv import libc
    from dockerlint.model.size.figures import debian_known, debian_members, debian_present, debian_sizes

    names = [argument.value.split("=", 1)[0] for argument in install.packages]
    if not names or libc(image, stage) != "glibc" or not all(debian_known(name) for name in names):
        return None, []
    plain = {member for name in names for member in debian_members(name, recommends=False)}
    extra = {member for name in names for member in debian_members(name, recommends=True)} - plain
    extra -= debian_present(full=False)
    sizes = debian_sizes(extra)
    total = sum(sizes.values())
    if total < MIN_RECOMMENDED_BYTES:
        return None, []
    return total, [name for name, _ in sorted(sizes.items(), key=lambda item: (-item[1], item[0]))[:3]]


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
            autofix=_apt_get_fix(image, step),
        )


# What `apt SUBCOMMAND` does that `apt-get SUBCOMMAND` does the same way (apt(8): the
# others differ, such as `upgrade`, which may install new packages, or `list`).
_APT_GET_SAME = ("install", "update", "remove", "purge", "autoremove", "clean", "autoclean")


def _apt_get_fix(image: Image, step: Step):
    """Every `apt` of the RUN becomes `apt-get`, when each one's subcommand works the same."""
    edits = []
    for command in step.written_commands:
        if command.name != "apt":
            continue
        action = next((word for word in command.argv[1:] if not word.startswith("-")), None)
        if action not in _APT_GET_SAME or command.argv[0] != "apt":
            return None
        if action == "install" and _loose(command):
            return None  # as apt-get, its unpinned packages are DL3008's
        edits.append(fixing.replace_word(image, command, 0, "apt-get"))
    return fixing.safe("Use `apt-get`", *edits)
