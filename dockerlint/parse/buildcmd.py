"""What one command line asks of an image builder: ``docker build``, ``docker buildx
build``, ``podman build``, ``buildah bud``, ``nerdctl build``, and the ``mv``/``cp`` that
put a Dockerfile where a later build expects it.

The input is argv as a shell would pass it, each word a string or ``None`` when it held
something that cannot be known here (an unset variable, a ``$(...)``), and the directory
the command runs in (an absolute POSIX path, or ``None`` when unknown). Nothing unknown
becomes a fact: a word that cannot be known where an option or the context could stand
makes the command unusable, an unknown Dockerfile or context leaves that field ``None``,
and a build argument without a known value is left out.

Paths follow the tools: ``-f`` is relative to the working directory, not to the context
(docker/cli#1549); the context is the one positional argument; the Dockerfile defaults to
``<context>/Dockerfile``; podman and buildah take the Containerfile's folder as the
context when none is given, and look for ``Containerfile`` then ``Dockerfile``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from functools import cache

from msgspec import Struct

from dockerlint.knowledge import load

Argv = Sequence[str | None]


class BuildCommand(Struct, frozen=True):
    program: str  # "docker build", "podman build", ... as recognised
    context: str | None  # absolute, normalised; None when unknown, remote or stdin
    dockerfiles: tuple[str, ...]  # candidate Dockerfile paths, first existing wins; () when unknown
    target: str | None  # --target when known
    args: tuple[tuple[str, str], ...]  # --build-arg NAME=VALUE with a known value
    platforms: tuple[str, ...]  # --platform values when all are known
    exports_files: bool = False  # every --output is files (type=local/tar/cacheonly, a folder): no image
    named_contexts: tuple[str, ...] = ()  # names of --build-context NAME=VALUE (a COPY --from may name one)
    tags: tuple[str, ...] = ()  # -t/--tag values when known


def exports_files(outputs: list[str | None]) -> bool:
    """Whether a build's outputs are all files rather than an image (``-o ./bin``,
    ``type=local,dest=out``, ``type=tar``, ``type=cacheonly``)."""
    if not outputs or None in outputs:
        return False
    for output in outputs:
        fields = dict(part.partition("=")[::2] for part in output.split(","))  # type: ignore[union-attr]
        kind = fields.get("type") if "type" in fields else ("local" if "=" not in output and output != "-" else None)
        if kind not in ("local", "tar", "cacheonly"):
            return False
    return True


class FileMove(Struct, frozen=True):
    """``mv``/``cp`` of one file: ``source`` is then also found at ``destination``."""

    source: str  # absolute, normalised
    destination: str  # absolute, normalised; a folder when ``into_folder``
    into_folder: bool  # the destination was written with a trailing slash


@cache
def _tables() -> dict:
    data = load("build_commands")
    commands = {tuple(key.split()): table for key, table in data["commands"].items()}
    return {
        "commands": commands,
        "global": frozenset(data["global"]["value"]),
        "docker": (frozenset(data["docker"]["value"]), frozenset(data["docker"]["flag"])),
        "podman": (frozenset(data["podman"]["value"]), frozenset(data["podman"]["flag"])),
        "wrappers": {
            name: (frozenset(table.get("value", ())), frozenset(table.get("chdir", ())))
            for name, table in data["wrappers"].items()
        },
    }


def unwrap(argv: Argv) -> list[str | None] | None:
    """argv without ``sudo``/``env``/``time``/... in front; None when a wrapper changes the
    directory or hides the command."""
    words = list(argv)
    wrappers = _tables()["wrappers"]
    while words and isinstance(words[0], str) and _base(words[0]) in wrappers:
        name = _base(words.pop(0))
        takes_value, chdir = wrappers[name]
        while words:
            word = words[0]
            if word is None:
                return None
            if name == "env" and "=" in word and not word.startswith("-"):
                words.pop(0)  # NAME=VALUE for the command's environment
                continue
            if not word.startswith("-") or word == "-":
                break
            words.pop(0)
            if word == "--":
                break
            option = word.split("=", 1)[0]
            if option in chdir or (len(word) > 2 and not word.startswith("--") and word[:2] in chdir):
                return None
            if option in takes_value and "=" not in word:
                if not words:
                    return None
                words.pop(0)
    return words


def build_command(argv: Argv, cwd: str | None) -> BuildCommand | None:
    """The build ``argv`` runs, or None when it is not an image build."""
    words = unwrap(argv)
    if not words or words[0] is None:
        return None
    tables = _tables()
    program = _base(words[0])
    rest = words[1:]
    # Global options of the program (docker --context x build, podman --log-level=debug build).
    while rest and isinstance(rest[0], str) and rest[0].startswith("-"):
        option = rest.pop(0)
        if "=" not in option and option in tables["global"]:
            if not rest:
                return None
            rest.pop(0)
    for prefix, family in tables["commands"].items():
        if prefix[0] != program or len(rest) < len(prefix) - 1:
            continue
        middle = rest[: len(prefix) - 1]
        if middle and middle[0] == "buildx":  # docker buildx --builder x build
            buildx_rest = rest[1:]
            while buildx_rest and isinstance(buildx_rest[0], str) and buildx_rest[0].startswith("-"):
                option = buildx_rest.pop(0)
                if "=" not in option and option in tables["global"] and buildx_rest:
                    buildx_rest.pop(0)
            if len(prefix) == 3 and buildx_rest[:1] == [prefix[2]]:
                return _interpret(" ".join(prefix), family, buildx_rest[1:], cwd)
            continue
        if tuple(middle) == prefix[1:]:
            return _interpret(" ".join(prefix), family, rest[len(prefix) - 1 :], cwd)
    return None


def _interpret(program: str, family: str, words: list[str | None], cwd: str | None) -> BuildCommand | None:
    takes_value, flags = _tables()[family]
    positionals: list[str | None] = []
    files: list[str | None] = []
    target: str | None = None
    args: dict[str, str] = {}
    platforms: list[str | None] = []
    outputs: list[str | None] = []
    named: list[str] = []
    tags: list[str] = []
    unsure = False  # an option we do not know, written without `=`
    index = 0
    options_done = False

    def record(option: str, value: str | None) -> None:
        nonlocal target
        if option in ("-f", "--file"):
            files.append(value)
        elif option == "--target":
            target = value
        elif option == "--build-arg":
            if value is not None and "=" in value:
                name, _, assigned = value.partition("=")
                args[name] = assigned
            elif value is not None:
                args.pop(value, None)  # taken from the environment: unknown
        elif option == "--platform":
            platforms.extend(value.split(",") if value is not None else [None])
        elif option in ("-o", "--output"):
            outputs.append(value)
        elif option == "--build-context" and value is not None and "=" in value:
            named.append(value.partition("=")[0])
        elif option in ("-t", "--tag") and value:
            tags.append(value)

    while index < len(words):
        word = words[index]
        index += 1
        if word is None:
            return None  # could be an option, a value or the context
        if options_done or not word.startswith("-") or word == "-":
            positionals.append(word)
            continue
        if word == "--":
            options_done = True
            continue
        if word.startswith("--"):
            option, equals, value = word.partition("=")
            if equals:
                record(option, value)
            elif option in takes_value:
                if index >= len(words):
                    return None
                record(option, words[index])
                index += 1
            elif option not in flags:
                unsure = True
            continue
        # -q, -t name, -tname, -t=name, -qt name (pflag shorthand rules)
        letters = word[1:]
        while letters:
            option = "-" + letters[0]
            letters = letters[1:]
            if option in takes_value:
                if letters:
                    record(option, letters.removeprefix("="))
                else:
                    if index >= len(words):
                        return None
                    record(option, words[index])
                    index += 1
                break
            if option not in flags:
                unsure = True
                break

    if family == "docker":
        if len(positionals) != 1:
            return None
        context_word: str | None = positionals[0]
    else:
        if len(positionals) > 1 or (unsure and positionals):
            return None
        context_word = positionals[0] if positionals else None

    context = None if context_word in (None, "-") or _remote(context_word) else _join(cwd, context_word)
    if len(files) > 1 or (files and files[0] in (None, "-")):
        dockerfiles: tuple[str, ...] = ()
    elif files:
        dockerfile = _join(cwd, files[0])
        dockerfiles = (dockerfile,) if dockerfile else ()
        if family == "podman" and context_word is None and dockerfile:
            context = posixpath.dirname(dockerfile)
    elif context is not None:
        names = ("Dockerfile",) if family == "docker" else ("Containerfile", "Dockerfile")
        dockerfiles = tuple(posixpath.join(context, name) for name in names)
    else:
        dockerfiles = ()
    if family == "podman" and context_word is None and not files:
        context = cwd
        dockerfiles = tuple(posixpath.join(cwd, name) for name in ("Containerfile", "Dockerfile")) if cwd else ()
    known_platforms = tuple(p for p in platforms if p) if None not in platforms else ()
    return BuildCommand(
        program,
        context,
        dockerfiles,
        target,
        tuple(sorted(args.items())),
        known_platforms,
        exports_files(outputs),
        tuple(named),
        tuple(tags),
    )


_COMPOSE_PROGRAMS = {("docker", "compose"), ("podman", "compose"), ("docker-compose",), ("podman-compose",)}


def compose_files(argv: Argv, cwd: str | None) -> tuple[str, ...]:
    """The files ``docker compose -f a.yml -f b.yml ...`` names (absolute), when all are known."""
    words = unwrap(argv)
    if not words or words[0] is None or cwd is None:
        return ()
    program = _base(words[0])
    rest = words[1:]
    if (program,) in _COMPOSE_PROGRAMS:
        pass
    elif rest and (program, rest[0]) in _COMPOSE_PROGRAMS:
        rest = rest[1:]
    else:
        return ()
    files: list[str] = []
    index = 0
    while index < len(rest):
        word = rest[index]
        index += 1
        if word is None or not word.startswith("-"):
            break  # the subcommand: compose's own options come before it
        option, equals, value = word.partition("=")
        if option in ("-f", "--file"):
            if not equals:
                value = rest[index] if index < len(rest) else None
                index += 1
            if value is None or value == "-":
                return ()
            files.append(value)
    joined = [_join(cwd, name) for name in files]
    return tuple(path for path in joined if path) if None not in joined else ()


# `docker run` options that take a value (the image is the first word that is neither).
RUN_VALUE_OPTIONS = frozenset(
    "-a -c -e -h -l -m -p -u -v -w --add-host --cpus --device --entrypoint --env --env-file --gpus --hostname "
    "--ipc --label --mount --name --network --platform --publish --restart --runtime --shm-size --ulimit --user "
    "--volume --workdir --memory --cidfile --log-driver --log-opt --pid --security-opt --tmpfs".split()
)
# `docker compose run` options that take a value (the service is the first word that is neither).
_COMPOSE_RUN_VALUE_OPTIONS = frozenset(
    "-e --env -l --label --name -p --publish -u --user -v --volume -w --workdir --entrypoint --cap-add "
    "--cap-drop --env-from-file --pull".split()
)


# `docker exec` options that take a value (the container is the first word that is neither).
_EXEC_VALUE_OPTIONS = frozenset("-e --env --env-file -u --user -w --workdir --detach-keys".split())


class RunCommand(Struct, frozen=True):
    """A command a script runs inside an image: ``docker run IMAGE CMD...`` (``image``),
    ``docker compose run SERVICE CMD...`` (``service``), or ``docker exec CONTAINER CMD...``
    in a running container (``container``)."""

    kind: str  # "image", "service", "container", or "dockerfile" (a CI job's container built from it)
    name: str  # the image reference, the compose service or the container's name
    command: tuple[str, ...]  # what it runs there (empty: the image's own CMD)


def run_command(argv: Argv) -> RunCommand | None:
    """The command ``argv`` runs in a container, when the image or service and every word
    after it are known."""
    words = unwrap(argv)
    if not words or words[0] is None:
        return None
    program, rest = _base(words[0]), words[1:]
    if rest[:1] == ["container"] and rest[1:2] in (["run"], ["exec"]):
        rest = rest[1:]
    if program in ("docker", "podman") and rest[:1] == ["run"]:
        kind, rest, takes_value = "image", rest[1:], RUN_VALUE_OPTIONS
    elif program in ("docker", "podman") and rest[:1] == ["exec"]:
        kind, rest, takes_value = "container", rest[1:], _EXEC_VALUE_OPTIONS
    else:
        if (program,) in _COMPOSE_PROGRAMS:
            pass
        elif rest and (program, rest[0]) in _COMPOSE_PROGRAMS:
            rest = rest[1:]
        else:
            return None
        while rest and rest[0] is not None and rest[0].startswith("-"):  # compose's own options
            option = rest.pop(0)
            if "=" not in option and option in ("-f", "--file", "-p", "--project-name", "--profile", "--env-file"):
                rest = rest[1:]
        if rest[:1] not in (["run"], ["exec"]):
            return None
        kind, rest, takes_value = "service", rest[1:], _COMPOSE_RUN_VALUE_OPTIONS
    index = 0
    while index < len(rest):
        word = rest[index]
        if word is None:
            return None
        if not word.startswith("-"):
            command = rest[index + 1 :]
            if None in command:
                return None
            return RunCommand(kind, word, tuple(command))  # type: ignore[arg-type]
        option, equals, _ = word.partition("=")
        index += 1 if equals or option not in takes_value else 2
    return None


_MOVE_FLAGS = {"mv": frozenset("fvni"), "cp": frozenset("fvnipPLrRa")}


def file_move(argv: Argv, cwd: str | None) -> FileMove | None:
    """``mv SOURCE DEST`` / ``cp SOURCE DEST`` with both paths known, else None."""
    words = unwrap(argv)
    if not words or words[0] is None or cwd is None:
        return None
    program = _base(words[0])
    if program not in _MOVE_FLAGS:
        return None
    operands: list[str] = []
    for word in words[1:]:
        if word is None:
            return None
        if word.startswith("-") and len(word) > 1 and not operands:
            if word.startswith("--") or not set(word[1:]) <= _MOVE_FLAGS[program]:
                return None
            continue
        operands.append(word)
    if len(operands) != 2:
        return None
    source, destination = (_join(cwd, operand) for operand in operands)
    if source is None or destination is None:
        return None
    return FileMove(source, destination, operands[1].endswith("/"))


def _join(cwd: str | None, path: str | None) -> str | None:
    if path is None or path.startswith("~"):
        return None
    if posixpath.isabs(path):
        return posixpath.normpath(path)
    if cwd is None:
        return None
    return posixpath.normpath(posixpath.join(cwd, path))


def _remote(word: str) -> bool:
    return "://" in word or word.startswith(("git@", "github.com/"))


def _base(word: str) -> str:
    return word.rsplit("/", 1)[-1]
