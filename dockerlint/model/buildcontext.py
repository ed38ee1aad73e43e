"""Questions about the build context that the CTX and SEC rules share: which COPY/ADD
read it, which sent files they bring into the image, and what is sent that no build
wants. Everything comes from the one walk in ``image.context``."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from pathlib import Path

from msgspec import Struct

from dockerlint.knowledge import load
from dockerlint.model.image import Copy, Image, StageModel
from dockerlint.parse.dockerignore import go_clean
from dockerlint.regex import glob_match, lazy_compile


def context_path(source: str) -> str:
    """A COPY source as BuildKit resolves it: cleaned, never above the context root."""
    return go_clean("/" + source).lstrip("/") or "."


def is_remote(source: str) -> bool:
    """ADD also takes URLs and git repositories, which are not in the context."""
    return "://" in source or source.startswith("git@")


def has_glob(source: str) -> bool:
    return any(char in source for char in "*?[")


def context_copies(image: Image, stages: list[StageModel] | None = None) -> Iterator[tuple[StageModel, Copy]]:
    """COPY/ADD (and RUN bind mounts) that read the build context, in stages that are built."""
    for stage in stages if stages is not None else image.stages:
        if not stage.reachable:
            continue
        for copy in stage.copies:
            if copy.from_stage is None and copy.from_image is None and not copy.heredoc:
                yield stage, copy


def exists_in_context_dir(image: Image, path: str) -> bool:
    """Whether ``path`` exists under the context root at all (sent or not). The walk
    records files only; an empty directory or a file below a pruned folder needs this
    one lstat, taken only for a source the walk did not find."""
    return os.path.lexists(image.context.root / path)


def exists_where_it_could_be_built(image: Image, path: str) -> bool:
    """Whether the context is a guess and ``path`` exists in another folder the image
    could be built from (a folder above the Dockerfile, or where a build step moves it):
    then a path missing from the guessed context says more about the guess than the build."""
    origin = image.origin
    if origin is None or not origin.guessed:
        return False
    return any(folder != image.context_root and os.path.lexists(folder / path) for folder in origin.alternatives)


def reaches_final_image(image: Image, stage: StageModel, path: str, depth: int = 0) -> bool:
    """Whether what ``stage`` holds at ``path`` (an absolute folder) ends up in the final
    image: the stage is the final one or one it is built FROM, or a stage that does copy
    ``path`` (or a folder above it) out of it does. A builder stage whose only output is
    ``COPY --from=builder /app/dist/app.whl`` keeps the rest to itself."""
    chain = set()
    final = next((s for s in image.stages if s.is_final), None)
    while final is not None and final.index not in chain:
        chain.add(final.index)
        final = image.stages[final.parent] if final.parent is not None else None
    if stage.index in chain:
        return True
    if depth > len(image.stages):
        return False
    for other in image.stages:
        if not other.reachable:
            continue
        for copy in other.copies:
            if copy.from_stage != stage.index:
                continue
            for source in copy.sources:
                if _covers(source.value, path):
                    if reaches_final_image(image, other, copy.dest, depth + 1):
                        return True
    return False


def _covers(source: str, path: str) -> bool:
    """Whether copying ``source`` (a path in another stage, maybe a wildcard) takes
    ``path`` or everything below it."""
    source = posixpath.normpath("/" + source.strip().lstrip("/"))
    if has_glob(source):
        source = posixpath.dirname(source[: min(source.find(c) for c in "*?[" if c in source)] + "x")
    return source == "/" or path == source or path.startswith(source.rstrip("/") + "/")


class Unwanted(Struct, frozen=True):
    path: str  # the folder (or file) as a context-relative path
    size: int  # bytes of every sent file below it
    files: int
    # the ignore file's pattern meant for it, which matches only at the context root, and its line
    meant: tuple[str, int] | None = None


def virtualenvs(image: Image) -> tuple[str, ...]:
    """The context's virtualenvs, whatever their names (a folder holding ``pyvenv.cfg``), as
    ``folder/`` prefixes."""

    def find() -> tuple[str, ...]:
        marker = "/pyvenv.cfg"
        return tuple(file.path[: 1 - len(marker)] for file in image.context.files if file.path.endswith(marker))

    return image.memoized(("virtualenvs",), find)


def unwanted(image: Image) -> list[Unwanted]:
    """Sent paths no image build wants (``.git``, venvs, caches, ``.env``), largest first.
    ``.git`` is wanted when a local project takes its version from git."""
    table = load("context")["unwanted"]
    directories = set(table["directories"])
    if _versions_from_git(image):
        directories.discard(".git")
    names = set(table["files"])
    files = image.context.files if _reads_the_context(image) else ()
    sent = _copied_paths(image)
    if sent is not None:  # BuildKit transfers only what COPY, ADD and bind mounts take
        files = [file for file in files if file.path in sent]
    venvs = virtualenvs(image)
    marker = table["build_read_beside"]  # a front-end project's bundler reads the .env beside it
    read_at_build = {file.path[: -len(marker)] for file in files if file.path.rpartition("/")[2] == marker}
    rooted = _rooted_patterns(image) if files else []
    groups: dict[str, list[int]] = {}
    meant: dict[str, tuple[str, int] | None] = {}
    for file in files:
        path = file.path
        hit = None
        parts = path.split("/")
        for index in range(len(parts) - 1):
            if parts[index] in directories:
                hit = "/".join(parts[: index + 1]) + "/"
                break
        if hit is None and venvs:
            hit = next((venv for venv in venvs if path.startswith(venv)), None)
        if hit is None and parts[-1] in names and path[: -len(parts[-1])] not in read_at_build:
            hit = None if parts[-1] == ".env" and _reads_copied_env(image, path, table) else path
        if hit is None and rooted:
            hit = _meant_deeper(image, parts, rooted, meant)
        if hit is not None:
            group = groups.setdefault(hit, [0, 0])
            group[0] += file.size
            group[1] += 1
    found = [
        Unwanted(path, size, count, meant.get(path))
        for path, (size, count) in groups.items()
        if size or path not in meant  # an empty folder a root-anchored pattern missed costs nothing
    ]
    found.sort(key=lambda item: (-item.size, item.path))
    return found


def _rooted_patterns(image: Image) -> list[tuple[str, int]]:
    """The ignore file's patterns of one name (`chroma_storage/`, `*.sqlite3`) that match
    nothing at the context root: Docker anchors them there, unlike .gitignore, so they were
    meant for that name at any depth. (pattern, line)."""
    ignore = image.workspace.ignore_file(image.ignore_path) if image.ignore_path is not None else None
    if ignore is None:
        return []
    try:
        top = os.listdir(image.context_root)
    except OSError:
        return []
    found = []
    for pattern in ignore.patterns:
        text = pattern.text
        if pattern.exclusion or not text or "/" in text or text.startswith("**") or text in (".", "*"):
            continue
        if not any(glob_match(name, text) for name in top):
            found.append((text, pattern.line))
    return found


def _meant_deeper(
    image: Image, parts: list[str], rooted: list[tuple[str, int]], meant: dict[str, tuple[str, int] | None]
) -> str | None:
    """The first folder or file below the root, on ``parts``, that a root-anchored pattern
    names, where git ignores it too: a local artifact the pattern was written for. One the
    repository keeps (`app/data/` beside an ignored `data/`, `app/settings.json` under
    `*.json`) may be what the image needs."""
    from dockerlint.model.gitignore import gitignored

    for index in range(1, len(parts)):
        for text, line in rooted:
            if not glob_match(parts[index], text):
                continue
            hit = "/".join(parts[: index + 1]) + ("/" if index < len(parts) - 1 else "")
            if hit not in meant:  # asked once per folder: its files give the same answer
                ignored = gitignored(image.workspace, image.context_root / hit.rstrip("/")) is not None
                meant[hit] = (text, line) if ignored else None
            return hit if meant[hit] is not None else None
    return None


def _reads_copied_env(image: Image, path: str, table: dict) -> bool:
    """Whether the image copies this `.env` in and its code loads one when it starts
    (`load_dotenv()`, `flask run`): the file is what the service reads its settings from,
    unless compose hands its variables to the container (`env_file: .env`)."""
    from dockerlint.model.code import image_code
    from dockerlint.model.queries import compose_services, final_chain

    if any(service.env_files for service in compose_services(image)):
        return False

    copied = any(
        any(file.path == path for source in copy.sources for file in image.context.glob(source.value))
        for stage in final_chain(image)
        for copy in stage.copies
        if copy.from_stage is None and not copy.from_image and not copy.heredoc
    )
    if not copied:
        return False
    readers = set(table["env_readers"])
    code = image_code(image)
    if any(module.split(".", 1)[0] in readers for module in code.imports.by_service):
        return True
    if _names_env_file(image, code):
        return True  # pydantic-settings' `env_file="app/.env"`, `load_dotenv("config/.env")`
    from dockerlint.model.installed_names import image_installs

    if table["env_reading_package"] not in {item.name for item in image_installs(image).items}:
        return False
    from dockerlint.model.ml import start_command, start_script_commands

    started = start_command(image)
    commands = [started[1]] if started is not None else []
    commands += start_script_commands(image)
    return any(posixpath.basename(word) in table["env_reading_commands"] for words in commands for word in words)


# A string in the code that names an environment file by path: `env_file="app/.env"`.
_ENV_FILE_STRING = lazy_compile(r"""["'](?:[\w.${}/-]*/)?\.env["']""")
MAX_ENV_SCAN_FILES = 2_000  # service files searched for one; a repository names it near its settings


def _names_env_file(image: Image, code) -> bool:
    """Whether the service's Python names an `.env` file in a string (a settings class's
    `env_file`, a `load_dotenv(path)`): it reads the file the image copies in."""
    for file in [file for file in code.files if not file.is_test][:MAX_ENV_SCAN_FILES]:
        if not file.image_path.endswith(".py"):
            continue
        loaded = image.workspace.text(Path(file.location), quiet=True)
        if loaded is not None and ".env" in loaded[0].text and _ENV_FILE_STRING.search(loaded[0].text):
            return True
    return False


def _copied_paths(image: Image) -> set[str] | None:
    """The context paths the COPY, ADD and bind mounts of the built stages take, or None
    when one takes the whole context (`COPY . .`) or a path dockerlint cannot read (a
    variable it does not know)."""
    taken: set[str] = set()
    for _, copy in context_copies(image):
        for source in copy.sources:
            value = source.value
            if is_remote(value):
                continue
            if "$" in value or context_path(value) in (".", "*"):
                return None
            taken.update(file.path for file in image.context.glob(value))
    return taken


def _reads_the_context(image: Image) -> bool:
    """Whether a COPY, ADD or bind mount takes anything from the build context: an image
    that fetches its code (`RUN git clone`) needs none of it, and BuildKit sends none."""
    return any(
        copy.from_stage is None and not copy.from_image and not copy.heredoc
        and any("://" not in source.value for source in copy.sources)
        for stage in image.stages for copy in stage.copies
    )  # fmt: skip


def _versions_from_git(image: Image) -> bool:
    backends = tuple(name.replace("_", "-") for name in load("context")["unwanted"]["vcs_versioning"])
    for folder in image.local_projects():
        pyproject = image.workspace.pyproject(folder / "pyproject.toml")
        if pyproject is None:
            continue
        for requirement in pyproject.build_requires:
            if requirement.strip().lower().replace("_", "-").startswith(backends):
                return True
    return False
