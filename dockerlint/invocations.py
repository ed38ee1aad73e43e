"""How the repository's own files build its images: the build commands of CI workflows,
Makefiles, scripts and package.json, bake and skaffold files, and the ``mv``/``cp`` steps
that put a Dockerfile somewhere else before it is built.

Every path is resolved as the tool would (see parse/buildcmd.py) and kept only when it
is certain: the Dockerfile must be one the repository holds, the context a folder inside
the repository (a path that leads out is never read; a note says so), and a script
whose starting folder is unknown (the repository root or its own folder) counts only
when exactly one of them makes the command name an existing Dockerfile. The files are
the ones discovery found on its one walk; nothing here walks the tree again.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct, field

from dockerlint.discover import build_file_kind
from dockerlint.model.origin import BuildOrigin
from dockerlint.paths import real_path
from dockerlint.workspace import Workspace

if TYPE_CHECKING:  # the parsers load only when the repository has build files
    from dockerlint.parse.buildcmd import BuildCommand, RunCommand
    from dockerlint.parse.buildfiles import Reading

_MAX_BUILD_FILE_BYTES = 1024 * 1024  # a build file larger than this is generated, not written


class FoundBuild(Struct, frozen=True):
    dockerfile: Path
    context: Path
    target: str | None
    args: tuple[tuple[str, str], ...]
    platforms: tuple[str, ...]
    origin: BuildOrigin
    named_contexts: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


class Moved(Struct, frozen=True):
    """A Dockerfile that a build step moves or copies before building it."""

    dockerfile: Path
    destination: Path
    origin: BuildOrigin


class _Candidate(Struct):
    """One command of one script, as read from each possible starting folder."""

    builds: list[BuildCommand | None]
    moves: list
    origin: BuildOrigin
    overwrites: list[str | None]  # the file a mv/cp or `>` replaces (None: unknown or none)
    compose: list[tuple[str, ...]]  # compose files a `docker compose -f` names


class BuildFacts(Struct):
    builds: list[FoundBuild]
    moves: list[Moved]
    compose_files: list[Path]  # compose files that build commands name (`docker compose -f x.yml`)
    runs: list[RunCommand]  # commands run in an image or a compose service (`docker run app pytest`)
    written: list[Path] = field(default_factory=list)  # files a script writes (`> aws.env`, `cp a b`)


def read_builds(build_files: list[Path], dockerfiles: set[Path], workspace: Workspace, root: Path) -> BuildFacts:
    """The builds and moves the build files describe, each with where it is written."""
    if not build_files:
        return BuildFacts([], [], [], [])
    from dockerlint.parse.buildfiles import read_build_file

    root = real_path(root)
    root_text = root.as_posix()
    candidates: list[_Candidate] = []
    declared: list[tuple[BuildCommand, BuildOrigin]] = []
    container_runs: list[RunCommand] = []
    bake_folders: dict[Path, list[tuple[str, str]]] = {}
    for path in build_files:
        kind = build_file_kind((path.parent.parent.name, path.parent.name, path.name)) or "shell"
        text = _read(path, workspace, kind)
        if text is None:
            continue
        if kind == "bake":
            bake_folders.setdefault(path.parent, []).append((text, path.as_posix()))
            continue
        reading = read_build_file(kind, text, path.as_posix(), root_text)
        _collect(reading, path, kind, text, root_text, candidates, declared, container_runs, workspace)
    if bake_folders:
        from dockerlint.parse.bake import lookup_order, read_bake

        for folder, files in sorted(bake_folders.items()):
            files.sort(key=lambda item: lookup_order(posixpath.basename(item[1])))
            reading = read_bake(files, folder.as_posix())
            origin_path = Path(files[-1][1])
            for problem in reading.problems:
                workspace.note(origin_path, problem, "note")
            for item in reading.declared:
                declared.append((item.command, BuildOrigin("bake", origin_path, item.line, _target_text(item.command))))

    reals: dict[Path, Path] = {}
    moved = _moves(candidates, dockerfiles, root, reals)
    sources: dict[Path, set[Path]] = {}
    for move in moved:
        sources.setdefault(move.destination, set()).add(move.dockerfile)
    destinations = {destination: found.pop() for destination, found in sources.items() if len(found) == 1}
    # A Dockerfile some step replaces (`cp Dockerfile.prod Dockerfile`, `envsubst > Dockerfile`)
    # is not what a build of that path reads: such builds are not used.
    replaced = {Path(path) for candidate in candidates for path in candidate.overwrites if path}
    dockerfiles = dockerfiles - replaced
    found: list[FoundBuild] = []
    for command, origin in declared:
        build = _resolve(command, dockerfiles, destinations, root, workspace, origin, reals)
        if build is not None:
            found.append(build)
    for candidate in candidates:
        resolved = {}
        for command in candidate.builds:
            if command is None:
                continue
            build = _resolve(command, dockerfiles, destinations, root, workspace, candidate.origin, reals, quiet=True)
            if build is not None:
                resolved[(build.dockerfile, build.context)] = build
        if len(resolved) == 1:
            found.append(next(iter(resolved.values())))
        elif len(candidate.builds) == 1 and candidate.builds[0] is not None:
            _resolve(
                candidate.builds[0], dockerfiles, destinations, root, workspace, candidate.origin, reals
            )  # its note
    composes = []
    for candidate in candidates:
        named = {path for files in candidate.compose for path in files}
        if len(set(candidate.compose)) == 1:  # every starting folder reads the same files
            composes.extend(Path(path) for path in sorted(named))
    compose_paths = [
        path for path in dict.fromkeys(composes) if _inside(_real(path, reals), root) and os.path.isfile(path)
    ]
    return BuildFacts(found, moved, compose_paths, container_runs, sorted(replaced))


def _read(path: Path, workspace: Workspace, kind: str) -> str | None:
    from dockerlint.parse.buildfiles import is_shell_script, mentions_builds

    data = workspace.read_bytes(path, quiet=True, keep=False)
    if data is None or len(data) > _MAX_BUILD_FILE_BYTES or b"\0" in data[:8192]:
        return None
    if kind == "shell" and not path.name.endswith((".sh", ".bash")) and not is_shell_script(data[:128]):
        return None
    if kind not in ("bake", "skaffold") and not mentions_builds(data):
        return None
    return data.decode("utf-8", errors="replace")


def _collect(
    reading: Reading,
    path: Path,
    kind: str,
    file_text: str,
    root: str,
    candidates: list[_Candidate],
    declared: list[tuple[BuildCommand, BuildOrigin]],
    container_runs: list[RunCommand],
    workspace: Workspace,
) -> None:
    from dockerlint.parse.buildcmd import RunCommand, build_command, compose_files, file_move, run_command
    from dockerlint.parse.shellflow import commands

    for problem in reading.problems:
        workspace.note(path, problem, "note")
    container_runs += [RunCommand("dockerfile", dockerfile, argv) for dockerfile, argv in reading.image_runs]
    source_kind = "skaffold" if kind == "skaffold" else "command"
    for item in reading.declared:
        declared.append((item.command, BuildOrigin(source_kind, path, item.line, _target_text(item.command))))
    for script in reading.scripts:
        starts = script.cwds or (None,)
        runs = [
            commands(
                script.text, cwd=start, variables=script.variables, script_path=script.script_path, repository=root
            )
            for start in starts
        ]
        if not runs or any(len(run) != len(runs[0]) for run in runs):
            continue
        starts_of_lines = _line_starts(script.text)
        file_lines = file_text.split("\n")
        for index, first in enumerate(runs[0]):
            ran = run_command(first.argv)
            if ran is not None:
                container_runs.append(ran)
                continue
            builds = [build_command(run[index].argv, run[index].cwd) for run in runs]
            moves = [file_move(run[index].argv, run[index].cwd) for run in runs]
            overwrites = [_overwritten(run[index].argv, run[index].cwd, root) for run in runs]
            composes = [compose_files(run[index].argv, run[index].cwd) for run in runs]
            if not any(builds) and not any(moves) and not any(overwrites) and not any(composes):
                continue
            line_index = _line_index(starts_of_lines, first.offset)
            line = script.lines[min(line_index, len(script.lines) - 1)] if script.lines else 1
            written = file_lines[line - 1].strip() if 0 < line <= len(file_lines) else ""
            origin = BuildOrigin("command", path, line, _shorten(written.lstrip("-@+ ").removeprefix("run:").strip()))
            candidates.append(_Candidate(builds, moves, origin, overwrites, composes))


def _overwritten(argv: tuple[str | None, ...], cwd: str | None, root: str | None = None) -> str | None:
    """The path an ``mv``/``cp`` (its last operand; into a folder of the repository, the
    source's name there: `cp -r ../saved_models/facebook $path`), a ``>`` redirection, a
    ``mkdir`` (its first folder) or a command that exports requirements (``poetry export -o
    requirements.txt``) writes."""
    from dockerlint.parse.shellflow import WRITES

    if not argv or argv[0] is None or cwd is None:
        return None
    if argv[0] == WRITES:
        target = argv[1] if len(argv) > 1 else None
    elif argv[0].rsplit("/", 1)[-1] in ("mv", "cp", "install", "ln") and len(argv) > 2:
        target = argv[-1]
        sources = [word for word in argv[1:-1] if word is None or not word.startswith("-")]
        if target is not None and len(sources) == 1 and sources[0] and _folder_in(root, cwd, target):
            target = posixpath.join(target, posixpath.basename(sources[0].rstrip("/")))
    elif argv[0].rsplit("/", 1)[-1] == "mkdir":  # `mkdir -p models` before the build: a folder COPY finds
        target = next((word.rstrip("/") for word in argv[1:] if word and not word.startswith("-")), None)
    else:
        target = _exported_to(argv)
        if target is None:
            return None
    if target is None or target.endswith("/"):
        return None
    return posixpath.normpath(posixpath.join(cwd, target))


def _folder_in(root: str | None, cwd: str, target: str) -> bool:
    """Whether ``target`` (from ``cwd``) ends in ``/`` or is a folder of the repository at
    ``root`` (never looked up outside it)."""
    if target.endswith("/"):
        return True
    if root is None:
        return False
    path = posixpath.normpath(posixpath.join(cwd, target))
    inside = path == root.rstrip("/") or path.startswith(root.rstrip("/") + "/")
    return inside and os.path.isdir(path) and not os.path.islink(path)


def _exported_to(argv: tuple[str | None, ...]) -> str | None:
    """The file a requirements export names with its output option (``-o FILE``,
    ``--output-file=FILE``), or None."""
    from dockerlint.knowledge import load

    writers = load("build_commands")["file_writers"]
    words = [word or "" for word in argv]
    words[0] = words[0].rsplit("/", 1)[-1]
    for prefix, options in writers.items():
        length = len(prefix.split())
        if " ".join(words[:length]) != prefix:
            continue
        for index, word in enumerate(words[length:], length):
            if word in options and index + 1 < len(words):
                return words[index + 1] or None
            name, equals, value = word.partition("=")
            if equals and name in options:
                return value or None
    return None


def _moves(candidates: list[_Candidate], dockerfiles: set[Path], root: Path, reals: dict[Path, Path]) -> list[Moved]:
    moved: list[Moved] = []
    for candidate in candidates:
        places = set()
        for move in candidate.moves:
            if move is None:
                continue
            source = Path(move.source)
            if source not in dockerfiles:
                continue
            destination = posixpath.join(move.destination, source.name) if move.into_folder else move.destination
            destination_path = Path(destination)
            if os.path.isdir(destination_path):
                destination_path = destination_path / source.name
            places.add((source, destination_path))
        if len(places) != 1:
            continue
        source, destination = places.pop()
        if not _inside(_real(destination.parent, reals), root):
            continue  # it leaves the repository
        moved.append(Moved(source, destination, candidate.origin))
    return moved


def _resolve(
    command: BuildCommand,
    dockerfiles: set[Path],
    destinations: dict[Path, Path],
    root: Path,
    workspace: Workspace,
    origin: BuildOrigin,
    reals: dict[Path, Path],
    *,
    quiet: bool = False,
) -> FoundBuild | None:
    if command.context is None or not command.dockerfiles or command.exports_files:
        return None  # unknown, or a build that exports files (binaries, docs), not an image
    context = Path(command.context)
    dockerfile = None
    for candidate in map(Path, command.dockerfiles):
        if candidate in dockerfiles:
            dockerfile = candidate
        elif candidate in destinations:
            dockerfile = destinations[candidate]
        if dockerfile is not None:
            break
    if dockerfile is None:
        return None
    real = _real(context, reals)
    if not _inside(real, root):
        if not quiet:
            workspace.note(
                origin.path or dockerfile,
                f"line {origin.line}: the build context {command.context} is outside the repository; not read",
                "note",
            )
        return None
    if not os.path.isdir(real):
        return None
    return FoundBuild(
        dockerfile, real, command.target, command.args, command.platforms, origin, command.named_contexts, command.tags
    )


def _real(path: Path, reals: dict[Path, Path]) -> Path:
    """Symbolic links resolved (a context reached through a link that leads out is
    outside), once per path and run."""
    if path not in reals:
        reals[path] = real_path(path)
    return reals[path]


def _inside(real: Path, root: Path) -> bool:
    return real == root or root in real.parents


def _line_starts(text: str) -> list[int]:
    starts = [0]
    index = text.find("\n")
    while index >= 0:
        starts.append(index + 1)
        index = text.find("\n", index + 1)
    return starts


def _line_index(starts: list[int], offset: int) -> int:
    import bisect

    return bisect.bisect_right(starts, offset) - 1


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _target_text(command: BuildCommand) -> str:
    return command.program
