"""What RUN scripts do: DL3001 pointless commands, DL3003 cd, DL3004 sudo, DL3046
useradd, DL3047 wget, DL3059 mergeable RUNs, DL4001 curl and wget, DL4005 ln of
/bin/sh, DL4006 pipes without pipefail."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from dockerlint.checks import check, fixing
from dockerlint.checks.common import finding, join_spans
from dockerlint.checks.dl.common import (
    all_stages,
    commands,
    has_arg,
    has_flag,
    runs,
    shipped_stages,
    steps,
    triggers,
)
from dockerlint.findings import Edit, Finding
from dockerlint.model import Image, ShellCommand, Step

_POINTLESS = {
    "free": "shows the memory of the build container",
    "kill": "has no process of the image to stop",
    "mount": "cannot mount file systems in a build",
    "ps": "shows the processes of the build container",
    "service": "starts a service that stops when the RUN ends",
    "shutdown": "cannot shut down a build container",
    "ssh": "connects out of the build and needs credentials in the image",
    "top": "shows the processes of the build container",
    "vim": "opens an editor nobody can type into",
}


@check("DL3001")
def pointless_command(image: Image) -> Iterator[Finding]:
    for _stage, _step, command in commands(image, *_POINTLESS):
        yield finding(
            image,
            "DL3001",
            command.span,
            f"`{command.name}` in a RUN {_POINTLESS[command.name]}: it does nothing for the image",
            f"Remove `{command.name}`, or run it in the container at run time if it is needed there.",
        )


@check("DL3003")
def cd_in_run(image: Image) -> Iterator[Finding]:
    reported: set[int] = set()
    for _stage, step, command in commands(image, "cd", onbuild=False):
        if id(step) in reported:
            continue  # once per RUN
        reported.add(id(step))
        yield finding(
            image,
            "DL3003",
            command.span,
            "`cd` in a RUN changes the folder for this RUN only, which is easy to misread",
            "Set the folder with `WORKDIR` (it also creates it), or use the command's own "
            "directory option (`make -C dir`, `git -C dir`).",
        )


@check("DL3004")
def sudo_in_run(image: Image) -> Iterator[Finding]:
    reported: set[int] = set()
    for _stage, step, command in commands(image, "sudo"):
        if id(step) in reported:
            continue  # once per RUN
        reported.add(id(step))
        yield finding(
            image,
            "DL3004",
            command.span,
            "`sudo` in a RUN: a build step that needs root should run as root, and sudo in the image "
            "lets any process become root",
            "Switch with `USER root` before the step and back to the service user after it; use "
            "`gosu` or `su-exec` to drop privileges at run time.",
        )


def _flag_values(command: ShellCommand, name: str) -> list[str]:
    """The words after each flag cluster that holds ``name`` (``-u 10001`` -> 10001)."""
    argv = command.argv
    return [
        argv[index + 1]
        for index, word in enumerate(argv[1:-1], 1)
        if word.startswith("-") and not word.startswith("--") and name in word[1:]
    ]


@check("DL3046")
def useradd_high_uid(image: Image) -> Iterator[Finding]:
    for _stage, _step, command in commands(image, "useradd"):
        if has_flag(command, "l", "no-log-init") or not has_flag(command, "u", "uid"):
            continue
        uid = next((value for value in _flag_values(command, "u") if len(value) > 5), None)
        if uid is not None:
            yield finding(
                image,
                "DL3046",
                command.span,
                f"`useradd -u {uid}` without `-l`: the lastlog and faillog files are sized for the "
                "highest UID and can fill the layer with gigabytes of zeros",
                "Add `--no-log-init` (`-l`) to `useradd`.",
            )


@check("DL3047")
def wget_progress(image: Image) -> Iterator[Finding]:
    for stage, _step, command in commands(image, "wget"):
        if has_flag(command, "progress", "q", "quiet", "o", "output-file", "a", "append-output", "no-verbose"):
            continue
        if has_arg(command, "-nv"):
            continue
        yield finding(
            image,
            "DL3047",
            command.span,
            "`wget` without `--progress` prints a progress line for every few kB: the build log fills "
            "with thousands of lines",
            "Add `--progress=dot:giga`, or `-q`/`-nv` for no progress output.",
            autofix=_progress_fix(image, stage, command),
        )


def _progress_fix(image: Image, stage, command: ShellCommand):
    """``--progress=dot:giga`` is GNU wget's: offered only on a base image known to be a
    glibc distribution (busybox wget, on Alpine, refuses the option)."""
    from dockerlint.model.baseimage import base_image
    from dockerlint.model.queries import external_base

    facts = base_image(external_base(image, stage)[0]) if stage is not image.fragment else None
    if facts is None or facts.libc != "glibc" or "apk" in image.commands_by_name:
        return None
    return fixing.safe(
        "Add `--progress=dot:giga`",
        fixing.insert_after_word(image, command, fixing.program_index(command), " --progress=dot:giga"),
    )


# -- layers ------------------------------------------------------------------------------------


@check("DL3059")
def consecutive_runs(image: Image) -> Iterator[Finding]:
    text = image.dockerfile.text
    for stage in shipped_stages(image):
        previous: Step | None = None
        for step in stage.steps:
            if step.keyword != "RUN":
                previous = None
                continue
            if previous is not None and _mergeable(previous, step, text):
                yield finding(
                    image,
                    "DL3059",
                    step.instruction.span,
                    f"this RUN and the one on line {previous.instruction.span.line} could be one layer",
                    "Join consecutive RUN instructions with `&&` (cleanup only saves space in the same RUN).",
                )
            previous = step


def _mergeable(first: Step, second: Step, text) -> bool:
    if {(f.name, f.value) for f in first.instruction.flags} != {(f.name, f.value) for f in second.instruction.flags}:
        return False
    between = range(first.instruction.span.end_line + 1, second.instruction.span.line)
    if any(text.line(number).lstrip().startswith("#") for number in between):
        return False  # a comment between them documents a deliberate split
    return _command_count(first) <= 1 and _command_count(second) <= 1


_SHELLS = ("sh", "bash", "ash", "dash", "zsh")


def _command_count(step: Step) -> int:
    """The commands a RUN executes, those in ``$(...)`` included; a ``sh -c`` string is
    one command, as hadolint counts it (a chain of commands was split on purpose)."""
    scripts = []
    for command in step.written_commands:
        argv = command.argv
        if command.name in _SHELLS and any(w.startswith("-") and "c" in w for w in argv[1:-1]):
            word = command.command.words[-1]
            scripts.append((command.locate, word.start, word.end))
    return sum(
        1
        for command in step.written_commands
        if not any(locate is command.locate and start <= command.command.start < end for locate, start, end in scripts)
    )


@check("DL4001")
def curl_and_wget(image: Image) -> Iterator[Finding]:
    """Both in one stage; ONBUILD RUNs are counted together, apart from the stages
    (they run in another build)."""
    used = commands(image, "curl", "wget")
    if not used:
        return
    for stage in all_stages(image):
        yield from _both_tools(image, [step for _, step in steps([stage]) if step.keyword == "RUN"])
    yield from _both_tools(image, [step for _, step in triggers(all_stages(image)) if step.keyword == "RUN"])


def _both_tools(image: Image, run_steps: list[Step]) -> Iterator[Finding]:
    seen: dict[str, ShellCommand] = {}
    for step in run_steps:
        used = [command for command in step.written_commands if command.name in ("curl", "wget")]
        for command in used:
            seen.setdefault(command.name, command)
        if used and len(seen) == 2:
            other = seen["wget" if used[0].name == "curl" else "curl"]
            yield finding(
                image,
                "DL4001",
                used[0].span,
                f"both `curl` and `wget` are used in this stage (`{other.name}` on line {other.span.line}): "
                "two download tools where one does",
                "Use one of them throughout (curl is in more base images), and install only that one.",
            )


@check("DL4005")
def ln_bin_sh(image: Image) -> Iterator[Finding]:
    for _stage, _step, command in commands(image, "ln"):
        if has_arg(command, "/bin/sh"):
            yield finding(
                image,
                "DL4005",
                command.span,
                "replacing `/bin/sh` with `ln` changes the shell of every later RUN, and of every script "
                "in the image, without saying so",
                'Use the SHELL instruction (`SHELL ["/bin/bash", "-c"]`) to change the shell of RUN.',
            )


# -- pipes -------------------------------------------------------------------------------------


def _shell_has_pipefail(shell: tuple[str, ...]) -> bool:
    return any("pipefail" in word for word in shell)


def _shell_is_posix(shell: tuple[str, ...]) -> bool:
    program = posixpath.basename(shell[0]).lower() if shell else "sh"
    return not any(name in program for name in ("pwsh", "powershell", "cmd"))


_PIPEFAIL_SHELL = '["/bin/bash", "-o", "pipefail", "-c"]'
# Pipes that end early on purpose: with pipefail the writer's SIGPIPE fails the RUN.
_EARLY_EXIT = ("yes", "head")


def _pipefail_shell_fix(image: Image, stage):
    """``SHELL [bash -o pipefail -c]`` before the first RUN of the stage whose pipe lacks
    pipefail: on a base image known to be a glibc distribution (bash is part of
    Debian's and Ubuntu's essential set) and when no RUN from there on would change
    meaning under bash with pipefail (``yes |``, ``| head``, ``echo`` of a backslash)."""
    from dockerlint.model.baseimage import base_image
    from dockerlint.model.image import DEFAULT_SHELL
    from dockerlint.model.queries import external_base
    from dockerlint.source import Span

    if stage is image.fragment:
        return None
    facts = base_image(external_base(image, stage)[0])
    if facts is None or facts.libc != "glibc":
        return None
    first = next(
        (
            step
            for step in stage.runs()
            if step.trigger is None and any(command.command.pipe_length > 1 for command in step.written_commands)
        ),
        None,
    )
    if first is None or first.shell != DEFAULT_SHELL or first.instruction.json_args is not None:
        return None
    for step in stage.steps[first.index :]:
        if step.keyword == "SHELL":
            return None
        for command in step.written_commands:
            if command.command.pipe_length > 1 and command.name in _EARLY_EXIT:
                return None
            if command.name == "echo" and any("\\" in word for word in command.argv[1:]):
                return None
    line = first.instruction.span.line
    text = image.dockerfile.text.line(line)
    indent = text[: len(text) - len(text.lstrip())]
    edit = Edit(image.dockerfile_path, Span(line, 1, line, 1), f"{indent}SHELL {_PIPEFAIL_SHELL}\n")
    return fixing.unsafe("Run the stage's RUNs with bash and pipefail", edit)


@check("DL4006")
def pipe_without_pipefail(image: Image) -> Iterator[Finding]:
    for stage, step in runs(image, onbuild=False):
        if not (stage.reachable or stage is image.fragment):
            continue
        if step.pipefail or _shell_has_pipefail(step.shell) or not _shell_is_posix(step.shell):
            continue
        if step.instruction.json_args is not None and not step.written_commands:
            continue
        for command in step.written_commands:
            if command.command.pipe_length > 1 and command.command.pipe_position == 1:
                first = next(c for c in step.written_commands if c.command.pipeline == command.command.pipeline)
                yield finding(
                    image,
                    "DL4006",
                    join_spans(first.span, command.span),
                    f"a pipe into `{command.name}` without `pipefail`: the RUN succeeds even when the "
                    "command before the `|` fails",
                    'Add `SHELL ["/bin/bash", "-o", "pipefail", "-c"]` before this RUN, or start the '
                    "script with `set -o pipefail &&`.",
                    autofix=_pipefail_shell_fix(image, stage),
                )
                break
