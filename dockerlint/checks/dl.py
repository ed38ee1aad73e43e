"""hadolint-compatible rules: the same codes and meanings, so suppressions carry over,
but decided on the model: ARG defaults are resolved, BuildKit cache mounts and cleanup
in the same RUN are understood, and bloat rules look only at stages that end up in the
final image (a builder stage may keep its caches)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from dockerlint.checks import check
from dockerlint.checks.common import args_words, final_chain, finding, from_image_span, join_spans
from dockerlint.findings import Finding, Related
from dockerlint.knowledge import load
from dockerlint.model import Image, Install, ShellCommand, StageModel, Step
from dockerlint.model.image import env_enabled

# -- helpers -----------------------------------------------------------------------------


def _removes(step: Step, path: str, after: ShellCommand | None = None, home: str = "/root") -> bool:
    """Whether an ``rm`` in the same RUN (after ``after``) deletes ``path`` or a parent."""
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
            if path == target or path.startswith(target + "/"):
                return True
    return False


def _runs_after(step: Step, command: ShellCommand, text: str) -> bool:
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


def _cache_mounted(step: Step, directories: list[str], home: str = "/root") -> bool:
    """A ``--mount=type=cache`` (or tmpfs) at one of ``directories`` or above it."""
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


def _reachable_steps(image: Image) -> Iterator[tuple[StageModel, Step]]:
    for stage in image.stages:
        if stage.reachable:
            for step in stage.steps:
                yield stage, step


def _global_arg(image: Image, name: str):
    for instruction in image.dockerfile.instructions:
        if instruction.keyword == "FROM":
            return None
        if instruction.keyword == "ARG" and instruction.args.strip().split("=", 1)[0] == name:
            return instruction
    return None


def _arg_names(text: str) -> list[str]:
    import re

    return re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text)


# -- base images ---------------------------------------------------------------------------


@check("DL3006", "DL3007")
def base_image_tags(image: Image) -> Iterator[Finding]:
    for stage in image.stages:
        if stage.parent is not None:
            continue
        ref = stage.base
        if ref.repository == "scratch" or ref.unresolved or ref.digest:
            continue
        span = from_image_span(stage)
        via = _arg_names(stage.stage.base)
        related = [
            Related(image.dockerfile_path, arg.span, f"`{arg.args.strip()}` sets the image reference")
            for arg in (_global_arg(image, name) for name in via)
            if arg is not None
        ]
        written = f"`{stage.stage.base}` resolves to `{ref.raw}`" if via else f"`{ref.raw}`"
        if ref.tag is None:
            yield finding(
                image,
                "DL3006",
                span,
                f"{written} has no tag, so each build may get a different base image",
                f"Pin a tag, for example `{ref.name}:<version>`, or a digest.",
                related=related,
            )
        elif ref.tag == "latest":
            yield finding(
                image,
                "DL3007",
                span,
                f"{written} uses the moving `latest` tag, so each build may get a different base image",
                f"Pin a version tag instead of `latest` (for example `{ref.name}:<version>`).",
                related=related,
            )


# -- package managers ----------------------------------------------------------------------


def _apt_recommends_off(stage_steps: list[Step], upto: int) -> bool:
    """An earlier RUN wrote ``APT::Install-Recommends "0"`` into apt's configuration."""
    for step in stage_steps[: upto + 1]:
        for command in step.commands:
            if any("Install-Recommends" in word for word in command.argv) and command.name in ("echo", "printf", "tee"):
                return True
    return False


@check("DL3009", "DL3015")
def apt_hygiene(image: Image) -> Iterator[Finding]:
    caches = load("caches")["apt"]
    for stage in final_chain(image):
        for step in stage.runs():
            for install in step.installs:
                if install.family != "apt":
                    continue
                if install.action == "update" and not (
                    _removes(step, caches["lists"], install.command) or _cache_mounted(step, caches["cache_dirs"])
                ):
                    yield finding(
                        image,
                        "DL3009",
                        install.span,
                        f"`{install.tool} update` leaves the package lists (~45 MB) in this layer",
                        f"End the same RUN with `rm -rf {caches['lists']}/*`, or use "
                        f"`--mount=type=cache,target={caches['lists']}`.",
                        caches["lists_size"],
                    )
                if (
                    install.action == "install"
                    and not _recommends_off(install)
                    and not _apt_recommends_off(stage.steps, step.index)
                ):
                    yield finding(
                        image,
                        "DL3015",
                        install.span,
                        f"`{install.tool} install` without `--no-install-recommends` also installs recommended packages",
                        "Add `--no-install-recommends` and name what you need explicitly.",
                    )


def _recommends_off(install: Install) -> bool:
    if install.has("--no-install-recommends"):
        return True
    option = install.option("--option")
    return isinstance(option, str) and "Install-Recommends" in option and option.rstrip("\"'").endswith(("false", "0"))


@check("DL3019")
def apk_cache(image: Image) -> Iterator[Finding]:
    caches = load("caches")["apk"]
    for stage in final_chain(image):
        for step in stage.runs():
            for install in step.installs:
                if install.family != "apk" or install.action != "add" or install.has("--no-cache"):
                    continue
                if _cache_mounted(step, caches["cache_dirs"]) or any(
                    _removes(step, directory, install.command) for directory in caches["cache_dirs"]
                ):
                    continue
                yield finding(
                    image,
                    "DL3019",
                    install.span,
                    "`apk add` without `--no-cache` keeps the package index in this layer",
                    "Use `apk add --no-cache ...`.",
                )


@check("DL3042")
def pip_cache(image: Image) -> Iterator[Finding]:
    caches = load("caches")
    for stage in final_chain(image):
        for step in stage.runs():
            for install in step.installs:
                if install.family != "pip" or install.action != "install":
                    continue
                tool = "uv" if install.tool == "uv" else "pip"
                known = caches[tool]
                flag = "--no-cache" if tool == "uv" else "--no-cache-dir"
                if install.has(flag, "--no-cache-dir", "--no-cache"):
                    continue
                env = dict(step.env)
                env.update(install.command.command.assignments)
                if any(env_enabled(env.get(name)) for name in known["env"]):
                    continue
                home = step.home
                if _cache_mounted(step, known["cache_dirs"], home):
                    continue
                if any(
                    _runs_after(step, install.command, line) for line in known["cleanup"] if not line.startswith("rm ")
                ):
                    continue
                if any(
                    _removes(step, line.split()[-1], install.command, home)
                    for line in known["cleanup"]
                    if line.startswith("rm ")
                ):
                    continue
                command = (
                    "uv pip install"
                    if tool == "uv"
                    else ("python -m pip install" if install.module_form else "pip install")
                )
                yield finding(
                    image,
                    "DL3042",
                    install.span,
                    f"`{command}` without `{flag}` keeps downloaded packages in this layer's cache",
                    f"Add `{flag}`, set `ENV {known['env'][0]}=1`, or use "
                    f"`RUN --mount=type=cache,target={known['cache_dirs'][0].replace('~', home)}`.",
                )


# -- layers and instructions ------------------------------------------------------------------


@check("DL3059")
def consecutive_runs(image: Image) -> Iterator[Finding]:
    text = image.dockerfile.text
    for stage in final_chain(image):
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
    top_level = lambda step: [c for c in step.commands if not c.command.nested]
    return len(top_level(first)) <= 2 and len(top_level(second)) <= 2


_ARCHIVES = (
    ".tar",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tar.zst",
    ".tzst",
    ".tar.lz",
    ".tar.lzma",
)


@check("DL3020")
def add_local_file(image: Image) -> Iterator[Finding]:
    for stage in image.stages:
        for copy in stage.copies:
            if not copy.is_add or copy.heredoc or copy.from_stage is not None or copy.mount_only:
                continue
            for source in copy.sources:
                value = source.value
                if "://" in value or value.startswith("git@") or value.lower().endswith(_ARCHIVES):
                    continue
                yield finding(
                    image,
                    "DL3020",
                    source.span,
                    f"ADD of the local path `{value}`: use COPY, which only copies",
                    "Replace `ADD` with `COPY` (ADD is for URLs and archives to extract).",
                )


@check("DL3025")
def shell_form_cmd(image: Image) -> Iterator[Finding]:
    for stage in final_chain(image):
        for step in stage.steps:
            instruction = step.instruction
            if instruction.keyword == "HEALTHCHECK":
                command = instruction.args.strip()
                if command[:4].upper() == "CMD " and not command[4:].lstrip().startswith("["):
                    yield finding(
                        image,
                        "DL3025",
                        instruction.span,
                        "HEALTHCHECK CMD in shell form runs under `/bin/sh -c`: the check depends on a "
                        "shell being in the image and on its quoting",
                        'Use the JSON form: HEALTHCHECK CMD ["curl", "-f", "http://localhost:8000/health"].',
                    )
            elif (
                instruction.keyword in ("CMD", "ENTRYPOINT")
                and instruction.json_args is None
                and instruction.args.strip()
            ):
                words = args_words(instruction)
                suggestion = ", ".join(f'"{word}"' for word, _ in words[:4]) + (", ..." if len(words) > 4 else "")
                yield finding(
                    image,
                    "DL3025",
                    instruction.span,
                    f"{instruction.keyword} in shell form runs under `/bin/sh -c`, which does not pass on "
                    "signals such as SIGTERM: the container cannot stop cleanly",
                    f"Use the JSON form: {instruction.keyword} [{suggestion}].",
                )


# -- users ------------------------------------------------------------------------------------


def _last_user(image: Image) -> Step | None:
    for stage in final_chain(image):
        for step in reversed(stage.steps):
            if step.keyword == "USER":
                return step
    return None


@check("DL3002")
def last_user_root(image: Image) -> Iterator[Finding]:
    step = _last_user(image)
    if step is None:
        return
    user = (step.user or "").split(":")[0]
    if user in ("root", "0"):
        yield finding(
            image,
            "DL3002",
            step.instruction.span,
            "the final stage switches back to root with its last USER, so the container runs as root",
            "End the final stage with `USER <non-root user>` (create one with `useradd --create-home app`).",
        )


# -- shell ------------------------------------------------------------------------------------


def _shell_has_pipefail(shell: tuple[str, ...]) -> bool:
    return any("pipefail" in word for word in shell)


def _shell_is_posix(shell: tuple[str, ...]) -> bool:
    program = posixpath.basename(shell[0]).lower() if shell else "sh"
    return not any(name in program for name in ("pwsh", "powershell", "cmd"))


@check("DL4006")
def pipe_without_pipefail(image: Image) -> Iterator[Finding]:
    for _stage, step in _reachable_steps(image):
        if step.keyword != "RUN" or step.pipefail or _shell_has_pipefail(step.shell) or not _shell_is_posix(step.shell):
            continue
        if step.instruction.json_args is not None and not step.commands:
            continue
        for command in step.commands:
            if command.command.pipe_length > 1 and command.command.pipe_position == 1:
                first = next(c for c in step.commands if c.command.pipeline == command.command.pipeline)
                yield finding(
                    image,
                    "DL4006",
                    join_spans(first.span, command.span),
                    f"a pipe into `{command.name}` without `pipefail`: the RUN succeeds even when the "
                    "command before the `|` fails",
                    'Add `SHELL ["/bin/bash", "-o", "pipefail", "-c"]` before this RUN, or start the '
                    "script with `set -o pipefail &&`.",
                )
                break
