"""Image, stages and steps: one Dockerfile built with one build context.

Built once per image from the parsed Dockerfile; rules read it and never parse text.
Each step records the state BuildKit would have at that instruction (WORKDIR, USER, ENV
and ARG values, SHELL), the shell commands a RUN executes with their exact positions,
and the package installs among them.
"""

from __future__ import annotations

import os
import posixpath
import re
import shlex
from bisect import bisect_right
from collections.abc import Callable, Iterator
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from dockerlint.model.installs import Argument, Install, recognise
from dockerlint.parse.dockerfile import Dockerfile, Heredoc, Instruction, Stage, expand
from dockerlint.regex import glob_match
from dockerlint.source import Span

if TYPE_CHECKING:
    from dockerlint.context import Context
    from dockerlint.model.origin import BuildOrigin
    from dockerlint.parse.dockerignore import IgnoreFile
    from dockerlint.parse.shell import Command
    from dockerlint.workspace import Workspace

DEFAULT_SHELL = ("/bin/sh", "-c")


class ImageRef(Struct, frozen=True):
    """A resolved image reference: ``registry/namespace/name:tag@digest``."""

    raw: str
    name: str  # everything before the tag: "python", "nvcr.io/nvidia/pytorch"
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        reference, _, digest = text.partition("@")
        slash = reference.rfind("/")
        colon = reference.rfind(":")
        if colon > slash:
            name, tag = reference[:colon], reference[colon + 1 :]
        else:
            name, tag = reference, None
        return cls(text, name, tag or None, digest or None)

    @property
    def repository(self) -> str:
        """The name without a Docker Hub prefix: "docker.io/library/python" -> "python"."""
        name = self.name
        for prefix in ("docker.io/library/", "index.docker.io/library/", "library/", "docker.io/"):
            if name.startswith(prefix):
                return name[len(prefix) :]
        return name

    @property
    def unresolved(self) -> bool:
        """A variable with no default left the reference empty or partial."""
        return not self.name or "$" in self.raw or self.name.endswith(("/", "-", ":"))


class ShellCommand(Struct, frozen=True):
    """A simple command of a RUN, with its place in the Dockerfile."""

    command: Command
    step_index: int
    locate: ScriptLocator
    in_heredoc: bool = False

    @property
    def argv(self) -> tuple[str, ...]:
        return self.command.argv

    @property
    def name(self) -> str:
        return self.command.name

    @property
    def span(self) -> Span:
        return self.locate.span(self.command.start, self.command.end)

    def word_span(self, index: int) -> Span:
        word = self.command.words[index]
        return self.locate.span(word.start, word.end)


class ScriptLocator(Struct, frozen=True):
    """Maps offsets in a RUN script back to the Dockerfile."""

    instruction: Instruction
    heredoc: Heredoc | None = None

    def span(self, start: int, end: int) -> Span:
        if self.heredoc is None:
            return self.instruction.span_of(start, end)
        body = self.heredoc.body
        line_start, column_start = _offset_position(body, start)
        line_end, column_end = _offset_position(body, end)
        first = self.heredoc.body_line
        return Span(first + line_start, column_start, first + line_end, column_end)


def _offset_position(text: str, offset: int) -> tuple[int, int]:
    """(line from 0, column from 1) of ``offset`` in a heredoc body. The line starts are
    found once per body: counting newlines per word made a long heredoc quadratic."""
    offset = max(0, min(offset, len(text)))
    starts = _line_starts(text)
    line = bisect_right(starts, offset) - 1
    return line, offset - starts[line] + 1


@lru_cache(maxsize=16)
def _line_starts(text: str) -> tuple[int, ...]:
    return (0, *(match.end() for match in re.finditer("\n", text)))


class Copy(Struct, frozen=True):
    """A COPY or ADD (or a RUN bind mount): what lands where in the image."""

    step_index: int
    instruction: Instruction
    sources: tuple[Argument, ...]  # expanded, as written otherwise
    dest: str  # absolute path in the image
    dest_is_dir: bool
    from_stage: int | None  # index of the stage copied from
    from_image: str | None  # an image reference in --from
    is_add: bool
    heredoc: bool  # COPY <<EOF /path: content comes from the Dockerfile
    mount_only: bool = False  # a RUN --mount=type=bind: visible during that RUN only


class Step(Struct):
    """One instruction of a stage and the build state when it runs."""

    index: int  # position within the stage (0 is FROM)
    instruction: Instruction
    workdir: str
    user: str | None  # None: inherited from the base image (root for most)
    env: dict[str, str]  # ENV and ARG values visible here
    shell: tuple[str, ...]
    commands: tuple[ShellCommand, ...] = ()  # the commands that run in this build
    installs: tuple[Install, ...] = ()
    pipefail: bool = False  # the RUN script sets -o pipefail itself
    # Every command as written, those of `if` branches this build's ARG and ENV values rule
    # out too (model/conditions.py): the hadolint-compatible rules read the text as written.
    written_commands: tuple[ShellCommand, ...] = ()
    written_installs: tuple[Install, ...] = ()
    # ONBUILD: the instruction it wraps, with the state it is declared in (a RUN's
    # commands parsed). It runs in images built FROM this one, not here, so it is kept
    # out of ``StageModel.steps`` and its installs out of this stage's.
    trigger: Step | None = None

    @property
    def keyword(self) -> str:
        return self.instruction.keyword

    @property
    def home(self) -> str:
        """The home folder of the USER this step runs as (``HOME`` when ENV sets it)."""
        user = (self.user or "root").split(":")[0]
        return self.env.get("HOME") or ("/root" if user in ("root", "0") else f"/home/{user}")

    @property
    def mounts(self) -> tuple[dict[str, str], ...]:
        """``--mount`` flags as key/value maps (``type=cache,target=/root/.cache/pip``)."""
        return tuple(_mount_fields(flag.value or "") for flag in self.instruction.flags_named("mount"))

    def cache_mount_targets(self) -> tuple[str, ...]:
        return tuple(
            mount.get("target", mount.get("dst", mount.get("destination", "")))
            for mount in self.mounts
            if mount.get("type") in ("cache", "tmpfs")
        )


def env_enabled(value: str | None) -> bool:
    """Whether a tool reads an environment variable as switched on (pip and uv treat any
    value but an explicit "off" as on)."""
    return value is not None and value.strip().lower() not in ("", "0", "false", "no", "off")


def _mount_fields(value: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in value.split(","):
        key, _, item = part.partition("=")
        fields[key.strip().lower()] = item.strip()
    return fields


class StageModel(Struct):
    index: int
    name: str | None
    stage: Stage
    base: ImageRef
    parent: int | None  # index of the stage it is FROM, when it is built on another stage
    steps: list[Step] = field(default_factory=list)
    copies: list[Copy] = field(default_factory=list)
    is_final: bool = False
    reachable: bool = False  # the final stage needs it (FROM, COPY --from, --mount from=)

    @property
    def label(self) -> str:
        return f"stage `{self.name}`" if self.name else f"stage {self.index}"

    @property
    def from_instruction(self) -> Instruction:
        return self.stage.from_instruction

    def runs(self) -> Iterator[Step]:
        return (step for step in self.steps if step.keyword == "RUN")

    def installs(self) -> Iterator[Install]:
        for step in self.steps:
            yield from step.installs


class Image(Struct, dict=True, eq=False):
    """One Dockerfile built with one build context (and one target stage)."""

    dockerfile_path: Path
    dockerfile: Dockerfile
    context_root: Path
    ignore_path: Path | None  # the ignore file that applies, when one exists
    stages: list[StageModel]
    workspace: Workspace
    target: str | None = None  # --target from compose or config
    gpu: bool | None = None  # a GPU is reserved at run time (compose or config); None: unknown
    build_args: dict[str, str] = field(default_factory=dict)
    services: tuple[str, ...] = ()  # compose services building it
    compose_file: Path | None = None
    compose_files: tuple[Path, ...] = ()  # every compose file with a service built from it (the first is compose_file)
    volumes: tuple[str, ...] = ()  # container paths where compose mounts volumes at run time
    # Of those, the repository folders compose binds there: (container path, folder). The
    # container runs the folder's files at that path, not what the image put there.
    mounts: tuple[tuple[str, Path], ...] = ()
    settings: dict = field(default_factory=dict)  # configured thresholds checks read ("large-file-size")
    platforms: tuple[str, ...] = ()  # --platform of the build, when known
    named_contexts: tuple[str, ...] = ()  # build contexts a COPY --from may name (bake, compose, --build-context)
    origin: BuildOrigin | None = None  # where the build context comes from (a guess, a build command, ...)
    # Commands the repository's CI and scripts run in the image (`docker run app pytest`,
    # `docker compose run web python manage.py test`), as argv.
    run_by_repository: tuple[tuple[str, ...], ...] = ()
    # Other Dockerfiles of the repository start only builder stages FROM this image (its
    # compose `image:` or `-t` tag): a tool-chain image, whose compilers are what it is for.
    base_for_builders: bool = False
    base_for_others: bool = False  # other Dockerfiles of the repository start a stage FROM it
    # Files the repository's scripts write before (or around) their builds: `deploy.sh`'s
    # `cat <<EOF > aws.env` (absolute paths). Missing from a checkout, they are made, not lost.
    script_outputs: tuple[Path, ...] = ()
    # Instructions before the first FROM other than ARGs (a Dockerfile fragment, such as
    # a file meant to be included in another): no image is built from them, so they are
    # kept out of ``stages``; hadolint-compatible rules still read them.
    fragment: StageModel | None = None
    # Facts the model works out once per image and several rules ask for (the pip
    # commands of a stage, the model downloads), by the asking function's key.
    memo: dict = field(default_factory=dict)

    def memoized(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()`` the first time ``key`` is asked for, the same value after."""
        try:
            return self.memo[key]
        except KeyError:
            value = self.memo[key] = compute()
            return value

    @property
    def final(self) -> StageModel | None:
        for stage in self.stages:
            if stage.is_final:
                return stage
        return None

    @cached_property
    def steps_by_keyword(self) -> dict[str, list[tuple[StageModel, Step, bool]]]:
        """Every instruction of the fragment and the stages, in file order, by keyword, as
        (stage, step, is an ONBUILD trigger): an ONBUILD is listed under ONBUILD and the
        instruction it wraps under its own keyword. Built once; rules that look for one
        kind of instruction read only those."""
        index: dict[str, list[tuple[StageModel, Step, bool]]] = {}
        for stage in [self.fragment, *self.stages] if self.fragment is not None else self.stages:
            for step in stage.steps:
                index.setdefault(step.keyword, []).append((stage, step, False))
                if step.trigger is not None:
                    index.setdefault(step.trigger.keyword, []).append((stage, step.trigger, True))
        return index

    @cached_property
    def commands_by_name(self) -> dict[str, list[tuple[StageModel, Step, ShellCommand, bool]]]:
        """The commands of every RUN (and ONBUILD RUN) by program name, as (stage, step,
        command, is an ONBUILD trigger), in file order."""
        index: dict[str, list[tuple[StageModel, Step, ShellCommand, bool]]] = {}
        for stage, step, trigger in self.steps_by_keyword.get("RUN", ()):
            for command in step.written_commands:
                index.setdefault(command.name, []).append((stage, step, command, trigger))
        return index

    @cached_property
    def ignore(self) -> IgnoreFile | None:
        return self.workspace.ignore_file(self.ignore_path) if self.ignore_path else None

    @cached_property
    def context(self) -> Context:
        """The files sent to the build, walked lazily: only rules about the context pay."""
        return self.workspace.context(self.context_root, self.ignore_path)

    def platform_of(self, stage: StageModel) -> str:
        """The platform a stage is built for: its ``FROM --platform``, else the build's
        ``--platform`` when it names one; "" when unknown (several, or the build host's)."""
        written = stage.stage.platform or ""
        if written and "$" not in written:
            return written
        if (not written or "TARGETPLATFORM" in written) and len(self.platforms) == 1:
            return self.platforms[0]
        return ""

    def stage_by_reference(self, reference: str, before: int) -> StageModel | None:
        """The stage a FROM or --from names (by name or index), defined before ``before``."""
        lowered = reference.lower()
        for stage in self.stages[:before]:
            if stage.name == lowered or str(stage.index) == reference:
                return stage
        return None

    def context_path(self, relative: str) -> Path:
        return self.context_root / relative

    def local_projects(self) -> list[Path]:
        """Build-context folders that a pip install of a local path (``pip install .``,
        ``-e ./lib``) installs, found through COPY destinations and WORKDIR."""
        folders = []
        for stage in self.stages:
            for step in stage.steps:
                for install in step.installs:
                    if install.family != "pip" or install.action != "install":
                        continue
                    for argument in (*install.packages, *install.editables):
                        value = argument.value.split("[", 1)[0]
                        if not (value in (".", "..") or value.startswith(("./", "../", "/"))):
                            continue
                        image_path = _absolute(step.workdir, value)
                        source = context_source(self, stage, image_path, step.index)
                        if source is not None and os.path.isdir(source) and source not in folders:
                            folders.append(source)
        return folders


# -- building ---------------------------------------------------------------------------


def build_image(
    workspace: Workspace,
    dockerfile_path: Path,
    dockerfile: Dockerfile,
    context_root: Path,
    *,
    target: str | None = None,
    build_args: dict[str, str] | None = None,
    gpu: bool | None = None,
    services: tuple[str, ...] = (),
    compose_file: Path | None = None,
    compose_files: tuple[Path, ...] = (),
    volumes: tuple[str, ...] = (),
    mounts: tuple[tuple[str, Path], ...] = (),
    settings: dict | None = None,
    platforms: tuple[str, ...] = (),
    origin: BuildOrigin | None = None,
    named_contexts: tuple[str, ...] = (),
    run_by_repository: tuple[tuple[str, ...], ...] = (),
    base_for_builders: bool = False,
    base_for_others: bool = False,
    script_outputs: tuple[Path, ...] = (),
) -> Image:
    build_args = dict(build_args or {})
    ignore_path = ignore_file_for(dockerfile_path, context_root, workspace.is_file)
    image = Image(
        dockerfile_path=dockerfile_path,
        dockerfile=dockerfile,
        context_root=context_root,
        ignore_path=ignore_path,
        stages=[],
        workspace=workspace,
        target=target,
        gpu=gpu,
        build_args=build_args,
        services=services,
        compose_file=compose_file,
        compose_files=compose_files or ((compose_file,) if compose_file else ()),
        volumes=volumes,
        mounts=mounts,
        settings=dict(settings or {}),
        platforms=platforms,
        origin=origin,
        named_contexts=named_contexts,
        run_by_repository=run_by_repository,
        base_for_builders=base_for_builders,
        base_for_others=base_for_others,
        script_outputs=script_outputs,
    )
    global_args = {name: build_args.get(name, default or "") for name, default in dockerfile.global_args}
    for stage in dockerfile.stages:
        image.stages.append(_build_stage(image, stage, global_args, build_args))
    _mark_final(image)
    image.fragment = _fragment(image, global_args, build_args)
    return image


def _fragment(image: Image, global_args: dict[str, str], build_args: dict[str, str]) -> StageModel | None:
    """The instructions before the first FROM, as a stage without a base image, when any
    of them is not an ARG."""
    leading = []
    for instruction in image.dockerfile.instructions:
        if instruction.keyword == "FROM":
            break
        leading.append(instruction)
    if all(instruction.keyword == "ARG" for instruction in leading):
        return None
    stage = Stage(-1, None, leading[0], "", "", None, tuple(leading))
    return _build_stage(image, stage, global_args, build_args)


def ignore_file_for(dockerfile_path: Path, context_root: Path, is_file=os.path.isfile) -> Path | None:
    """BuildKit reads ``<Dockerfile>.dockerignore`` beside the Dockerfile if it exists,
    instead of (never merged with) the context's ``.dockerignore``."""
    for candidate in (
        dockerfile_path.with_name(dockerfile_path.name + ".dockerignore"),
        context_root / ".dockerignore",
    ):
        if is_file(candidate):
            return candidate
    return None


def _build_stage(image: Image, stage: Stage, global_args: dict[str, str], build_args: dict[str, str]) -> StageModel:
    base_text = expand(stage.base, global_args, image.dockerfile.escape)
    parent = image.stage_by_reference(base_text, stage.index)
    model = StageModel(
        index=stage.index,
        name=stage.name,
        stage=stage,
        base=ImageRef.parse(base_text),
        parent=parent.index if parent else None,
    )
    if parent is not None and parent.steps:
        last = parent.steps[-1]
        workdir, user, env, shell = last.workdir, last.user, dict(last.env), last.shell
        declared = set(env)
    else:
        # The base image's own ENV (USER $AIRFLOW_UID on apache/airflow) is known for
        # the images knowledge/base_images.toml describes.
        from dockerlint.model.baseimage import base_image

        facts = base_image(model.base)
        workdir, user, env, shell = (
            facts.workdir if facts else "/",
            None,
            dict(facts.env) if facts else {},
            DEFAULT_SHELL,
        )
        declared = set(env)
    # ARG values are visible only after their ARG instruction; ENV persists into child stages.
    arg_names: set[str] = set()
    # ARGs declared without a default that no build invocation gives a value: the builder is
    # expected to pass one (`--build-arg env=prod`), so an `if` on them stays undecided.
    global_unset = {name for name, default in image.dockerfile.global_args if default is None}
    unset: set[str] = set()
    folders: set[str] = set()  # folders WORKDIR or `mkdir` made: `COPY a.txt /app` copies into them
    for position, instruction in enumerate(stage.instructions):
        keyword = instruction.keyword
        step = Step(position, instruction, workdir, user, dict(env), shell)
        if keyword == "RUN":
            _add_commands(image, model, step, unset=frozenset(unset))
            folders.update(made_folders(step))
        elif keyword in ("COPY", "ADD"):
            copy = _copy(image, step, keyword == "ADD", folders)
            if copy is not None:
                model.copies.append(copy)
        elif keyword == "ONBUILD" and instruction.onbuild is not None:
            step.trigger = Step(position, instruction.onbuild, workdir, user, dict(env), shell)
            if instruction.onbuild.keyword == "RUN":
                _add_commands(image, model, step.trigger, trigger=True)
        elif keyword == "WORKDIR":
            value = expand(instruction.args.strip(), env, image.dockerfile.escape)
            workdir = posixpath.normpath(posixpath.join(workdir, value)) if value else workdir
            folders.add(workdir)
        elif keyword == "USER":
            written = instruction.args.strip()
            expanded = expand(written, env, image.dockerfile.escape)
            # A variable nobody defined here (set by an unknown base image or at run time)
            # leaves the user unknown, kept as written: not root, not the previous user.
            user = written if _undefined_variable(written, env) or not expanded else expanded
        elif keyword == "SHELL" and instruction.json_args:
            shell = instruction.json_args
        elif keyword == "ENV":
            for name, value in _pairs(instruction.args, legacy=True):
                if value is not None:  # `ENV A` alone is refused by the build (SYN001)
                    env[name] = expand(value, env, image.dockerfile.escape)
                    declared.add(name)
                    unset.discard(name)
        elif keyword == "ARG":
            for name, default in _pairs(instruction.args, legacy=False):
                unset.discard(name)
                if name in build_args:
                    value = build_args[name]
                elif default is not None:
                    value = expand(default, env, image.dockerfile.escape)
                else:
                    value = global_args.get(name, "")
                    if name not in global_args or name in global_unset and name not in build_args:
                        unset.add(name)
                arg_names.add(name)
                if name not in declared:  # an ENV of the same name wins over an ARG
                    env[name] = value
        model.steps.append(step)
        # A step holds the state its instruction runs in; an instruction that changes the
        # state holds the state it leaves behind, so the last step is the stage's result.
        if keyword in ("WORKDIR", "USER", "SHELL", "ENV", "ARG"):
            step.workdir, step.user, step.env, step.shell = workdir, user, dict(env), shell
    return model


_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)(:?[-+])?")


def _undefined_variable(text: str, env: dict[str, str]) -> bool:
    """``text`` uses a variable that is not defined and has no default (``${V:-x}``)."""
    return any(name not in env and not modifier for name, modifier in _VARIABLE.findall(text))


def keyed_values(instruction: Instruction) -> list[tuple[str, str | None]]:
    """(name, value) pairs of an ENV, LABEL or ARG instruction, quotes removed, variables
    as written; an ARG without a default has the value None."""
    return _pairs(instruction.args, legacy=instruction.keyword != "ARG")


def _pairs(args: str, legacy: bool) -> list[tuple[str, str | None]]:
    """``ENV A=1 B="x y"`` / ``ENV A 1 2`` / ``ARG A=1 B`` into (name, value) pairs."""
    words = _shell_words(args)
    if not words:
        return []
    if legacy and "=" not in words[0]:
        value = args.strip()[len(words[0]) :].strip()
        return [(words[0], _unquote(value))]
    pairs: list[tuple[str, str | None]] = []
    for word in words:
        name, has_value, value = word.partition("=")
        if name:  # a blank name is refused by the build (SYN001)
            pairs.append((name, value if has_value else None))
    return pairs


# A word of POSIX shell quoting (what shlex.split reads a character at a time: 0.4 s for
# a 600 kB ENV): unquoted runs, '...', "..." with \" and \\ escapes, and \x.
_SHELL_WORD = re.compile(r"""(?:[^\s'"\\]+|'[^']*'|"(?:[^"\\]|\\.)*"|\\.)+""", re.DOTALL)
_SHELL_PIECE = re.compile(r"""'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)""", re.DOTALL)
_DOUBLE_QUOTED_ESCAPE = re.compile(r'\\(["\\])')


def _shell_words(text: str) -> list[str]:
    """``shlex.split(text)``; unbalanced quotes: the text split on white space."""
    words, end = [], 0
    for match in _SHELL_WORD.finditer(text):
        if text[end : match.start()].strip():
            return text.split()  # a quote left open
        words.append(_SHELL_PIECE.sub(_unquoted_piece, match.group(0)))
        end = match.end()
    return words if not text[end:].strip() else text.split()


def _unquoted_piece(match: re.Match) -> str:
    single, double, escaped = match.groups()
    if single is not None:
        return single
    if double is not None:
        return _DOUBLE_QUOTED_ESCAPE.sub(r"\1", double)
    return escaped


def _unquote(value: str) -> str:
    try:
        parts = shlex.split(value, posix=True)
    except ValueError:
        return value
    return " ".join(parts)


def _add_commands(
    image: Image, stage: StageModel, step: Step, trigger: bool = False, unset: frozenset[str] = frozenset()
) -> None:
    """``trigger``: an ONBUILD RUN, whose bind mounts bring nothing into this stage.
    ``unset``: ARGs the builder is expected to give a value (no default, none known)."""
    from dockerlint.model.conditions import runs
    from dockerlint.parse.shell import parse_script

    instruction = step.instruction
    scripts: list[tuple[str, ScriptLocator]] = []
    if instruction.json_args is not None:
        argv = instruction.json_args
        # ["sh", "-c", "..."] runs a shell script; any other exec form is one command.
        if (
            len(argv) >= 3
            and posixpath.basename(argv[0]) in ("sh", "bash", "ash", "dash")
            and argv[1].startswith("-")
            and "c" in argv[1]
        ):
            scripts.append((argv[2], ScriptLocator(instruction)))
        else:
            scripts.append((shlex.join(argv), ScriptLocator(instruction)))
    else:
        scripts.append((instruction.args, ScriptLocator(instruction)))
        for heredoc in instruction.heredocs:
            if _heredoc_is_script(instruction.args, heredoc):
                scripts.append((heredoc.body, ScriptLocator(instruction, heredoc)))
    for mount in () if trigger else step.mounts:
        if mount.get("type", "bind") == "bind" and "from" not in mount:
            source = mount.get("source", mount.get("src", "."))
            target = mount.get("target", mount.get("dst", mount.get("destination")))
            if target:
                stage.copies.append(
                    Copy(
                        step.index,
                        instruction,
                        (Argument(source, instruction.span),),
                        _absolute(step.workdir, target),
                        False,
                        None,
                        None,
                        False,
                        False,
                        mount_only=True,
                    )
                )
    commands: list[ShellCommand] = []
    installs: list[Install] = []
    pipefail = False
    resolved: dict[str, tuple[str, Path | None]] = {}  # a hostile line names one file 300,000 times

    def resolve(path: str) -> tuple[str, Path | None]:
        if path not in resolved:
            resolved[path] = _resolve_file(image, stage, step, path)
        return resolved[path]

    ruled_out: set[int] = set()  # positions in ``commands`` of those an `if` this build does not take holds
    for text, locator in scripts:
        script = parse_script(text)
        pipefail = pipefail or script.pipefail
        for command in script.commands:
            if not command.words:
                continue
            shell_command = ShellCommand(command, step.index, locator, locator.heredoc is not None)
            if command.guards and not runs(command.guards, _known_values(step.env, unset)):
                ruled_out.add(len(commands))
            commands.append(shell_command)
            install = recognise(shell_command, resolve)
            if install is not None:
                installs.append(install)
    step.written_commands = tuple(commands)
    step.written_installs = tuple(installs)
    if ruled_out:
        dead = {id(commands[position]) for position in ruled_out}
        step.commands = tuple(command for command in commands if id(command) not in dead)
        step.installs = tuple(install for install in installs if id(install.command) not in dead)
    else:
        step.commands, step.installs = step.written_commands, step.written_installs
    step.pipefail = pipefail


def _known_values(env: dict[str, str], unset: frozenset[str]) -> dict[str, str]:
    return {name: value for name, value in env.items() if name not in unset} if unset else env


_SHELLS = ("sh", "bash", "ash", "dash", "zsh")


def _heredoc_is_script(args: str, heredoc: Heredoc) -> bool:
    """``RUN <<EOF`` (nothing but the marker) runs the body as a script unless its shebang
    names another interpreter; ``RUN bash <<EOF`` too; ``RUN python3 <<EOF`` feeds the
    body to Python instead."""
    words = [word for word in args.split() if "<<" not in word]
    if not words:
        first = heredoc.body.split("\n", 1)[0]
        if not first.startswith("#!"):
            return True
        interpreter = first[2:].split()
        if interpreter and posixpath.basename(interpreter[0]) == "env":
            interpreter = interpreter[1:]
        return bool(interpreter) and posixpath.basename(interpreter[0]) in _SHELLS
    return posixpath.basename(words[0]) in _SHELLS and all(word.startswith("-") for word in words[1:])


def _absolute(workdir: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(workdir or "/", path))


def made_folders(step: Step, commands: tuple[ShellCommand, ...] | None = None) -> set[str]:
    """Absolute folders a RUN creates with ``mkdir`` (in ``commands`` of it, when given)."""
    made = set()
    for command in step.commands if commands is None else commands:
        if command.name == "mkdir":
            made.update(_absolute(step.workdir, word) for word in command.argv[1:] if not word.startswith("-"))
    return made


MAX_COPY_SOURCES = 5_000


def _copy(image: Image, step: Step, is_add: bool, folders: set[str] = frozenset()) -> Copy | None:
    instruction = step.instruction
    escape = image.dockerfile.escape
    if instruction.json_args is not None:
        words = [Argument(expand(word, step.env, escape), instruction.span) for word in instruction.json_args]
        named = len(words) - 1
    else:
        spanned, count = _words_with_spans(instruction)
        words = [Argument(expand(value, step.env, escape), span) for value, span in spanned]
        named = count - 1
    heredoc_names = {heredoc.name for heredoc in instruction.heredocs}
    words = [
        word
        for word in words
        if not (word.value.startswith("<<") and word.value.lstrip("<-").strip("'\"") in heredoc_names)
    ]
    if instruction.heredocs:
        if not words:
            return None
        dest = words[-1].value
        return Copy(
            step.index, instruction, (), _absolute(step.workdir, dest), dest.endswith("/"), None, None, is_add, True
        )
    if len(words) < 2:
        return None
    *sources, dest_word = words
    dest = dest_word.value
    # A source named twice is copied once; past MAX_COPY_SOURCES distinct sources (real
    # COPY lines name a few dozen at most) the rest are not followed: each is globbed
    # against the context, and 600,000 of them took half a minute.
    distinct: dict[str, Argument] = {}
    for source in sources:
        if len(distinct) >= MAX_COPY_SOURCES:
            break
        distinct.setdefault(source.value, source)
    sources = list(distinct.values())
    from_flag = instruction.flag("from")
    from_stage = from_image = None
    if from_flag is not None and from_flag.value:
        reference = expand(from_flag.value, step.env, escape)
        found = image.stage_by_reference(reference, len(image.stages) + 1)
        if found is not None:
            from_stage = found.index
        else:
            from_image = reference
    dest_is_dir = (
        dest.endswith("/")
        or dest in (".", "./")
        or named > 1
        or any(_has_glob(source.value) for source in sources)
        or _absolute(step.workdir, dest) == step.workdir
        or _absolute(step.workdir, dest) in folders
    )
    return Copy(
        step.index,
        instruction,
        tuple(sources),
        _absolute(step.workdir, dest),
        dest_is_dir,
        from_stage,
        from_image,
        is_add,
        False,
    )


def _words_with_spans(instruction: Instruction) -> tuple[list[tuple[str, Span]], int]:
    """Split shell-form COPY/ADD arguments into words, each with its span: the first
    ``MAX_COPY_SOURCES`` distinct sources and the destination, and how many words there
    were (a hostile line names hundreds of thousands)."""
    kept: dict[str, re.Match] = {}
    last = None
    count = 0
    for match in re.finditer(r"\S+", instruction.args):
        count += 1
        if last is not None and len(kept) < MAX_COPY_SOURCES:
            kept.setdefault(last.group(0).strip("'\""), last)
        last = match
    if last is not None:
        kept[last.group(0).strip("'\"") + "\0destination"] = last  # the destination may repeat a source
    words = [(match.group(0).strip("'\""), instruction.span_of(match.start(), match.end())) for match in kept.values()]
    return words, count


def _has_glob(text: str) -> bool:
    return any(char in text for char in "*?[")


def _resolve_file(image: Image, stage: StageModel, step: Step, path: str) -> tuple[str, Path | None]:
    """An in-image path used by a command, and the context file it came from if known."""
    image_path = _absolute(step.workdir, expand(path, step.env, image.dockerfile.escape))
    return image_path, context_source(image, stage, image_path, step.index)


def context_source(image: Image, stage: StageModel, image_path: str, before_step: int) -> Path | None:
    """The build-context file that put ``image_path`` into the stage, following COPY
    destinations (latest first), RUN bind mounts and FROM-stage inheritance. A folder
    copied over the destination adds to it: when the folder lacks the file, an earlier
    COPY that brought it still holds (`COPY requirements.txt ./`, then `COPY web/. ./`);
    with none, the folder's missing file is the answer (its absence is what to report)."""
    missing: Path | None = None  # a folder's path that holds no such file
    for copy in reversed(stage.copies):
        if copy.step_index > before_step or copy.heredoc or copy.from_image:
            continue
        if copy.mount_only and copy.step_index != before_step:
            continue
        for source in copy.sources:
            relative = _copied_relative(copy, source.value, image_path, image.context_root)
            if relative is None:
                continue
            if copy.from_stage is not None:
                origin = image.stages[copy.from_stage]
                return context_source(image, origin, "/" + relative.lstrip("/"), len(origin.steps))
            found = image.context_root / relative
            if _folder_source(copy, source.value, image.context_root) and not os.path.lexists(found):
                missing = missing or found
                continue
            return found
    if stage.parent is not None:
        parent = image.stages[stage.parent]
        return context_source(image, parent, image_path, len(parent.steps)) or missing
    return missing


def made_in(
    image: Image, stage: StageModel, image_path: str, before_step: int, depth: int = 0
) -> list[tuple[StageModel, str, int]]:
    """Where a file that no COPY from the build context brought may have been written: each
    (stage, its path there, the step it existed before), following COPY --from back to the
    stage that made it and then that stage's parents. Empty when the build context holds it."""
    if depth > len(image.stages):
        return []  # a --from that names a later stage: no build gets here
    for copy in reversed(stage.copies):
        if copy.step_index > before_step or copy.heredoc or copy.from_image or copy.mount_only:
            continue
        for source in copy.sources:
            relative = _copied_relative(copy, source.value, image_path, image.context_root)
            if relative is None:
                continue
            if copy.from_stage is None:
                return []
            origin = image.stages[copy.from_stage]
            return made_in(image, origin, "/" + relative.lstrip("/"), len(origin.steps), depth + 1)
    found = [(stage, image_path, before_step)]
    if stage.parent is not None:
        parent = image.stages[stage.parent]
        found += made_in(image, parent, image_path, len(parent.steps), depth + 1)
    return found


def _folder_source(copy: Copy, source: str, context_root: Path) -> bool:
    """Whether a COPY source from the build context is a folder (copied into the destination)."""
    clean = posixpath.normpath("/" + source).lstrip("/") or "."
    return copy.from_stage is None and (clean == "." or os.path.isdir(context_root / clean))


def _copied_relative(copy: Copy, source: str, image_path: str, context_root: Path) -> str | None:
    """The source-side path that ``copy`` placed at ``image_path``, if it did."""
    if not (image_path == copy.dest or image_path.startswith(copy.dest.rstrip("/") + "/")):
        return None  # every case below needs it: decided before asking the file system
    # BuildKit joins a source to the context root: `../requirements.txt` is `requirements.txt`
    source_clean = posixpath.normpath("/" + source).lstrip("/") or "."
    is_dir_source = source_clean == "." or (copy.from_stage is None and os.path.isdir(context_root / source_clean))
    if copy.from_stage is not None and not _has_glob(source_clean):
        is_dir_source = not posixpath.splitext(source_clean)[1]
    if is_dir_source:
        if image_path == copy.dest or image_path.startswith(copy.dest.rstrip("/") + "/"):
            rest = image_path[len(copy.dest.rstrip("/")) :].lstrip("/")
            return posixpath.normpath(posixpath.join(source_clean, rest)) if rest else source_clean
        return None
    if copy.dest_is_dir:
        if posixpath.dirname(image_path) != copy.dest.rstrip("/") and not (
            copy.dest == "/" and posixpath.dirname(image_path) == "/"
        ):
            return None
        name = posixpath.basename(image_path)
        if _has_glob(source_clean):
            if glob_match(name, posixpath.basename(source_clean)):
                return posixpath.join(posixpath.dirname(source_clean), name).lstrip("/")
            return None
        return source_clean if posixpath.basename(source_clean) == name else None
    if image_path == copy.dest:
        return source_clean
    # `COPY requirements.txt /app`, then `/app/requirements.txt`: a path below the
    # destination, so the destination is a folder (the base image's own) and not a new name
    below = posixpath.dirname(image_path) == copy.dest.rstrip("/")
    return source_clean if below and posixpath.basename(image_path) == posixpath.basename(source_clean) else None


def _mark_final(image: Image) -> None:
    if not image.stages:
        return
    final = image.stages[-1]
    if image.target:
        final = image.stage_by_reference(image.target, len(image.stages)) or final
    final.is_final = True
    pending = [final]
    while pending:
        stage = pending.pop()
        if stage.reachable:
            continue
        stage.reachable = True
        needed = [stage.parent] if stage.parent is not None else []
        needed += [copy.from_stage for copy in stage.copies if copy.from_stage is not None]
        for step in stage.steps:
            for mount in step.mounts:
                reference = mount.get("from")
                if reference:
                    found = image.stage_by_reference(reference, stage.index)
                    if found is not None:
                        needed.append(found.index)
        pending.extend(image.stages[index] for index in needed if not image.stages[index].reachable)
