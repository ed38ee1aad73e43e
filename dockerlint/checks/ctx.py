"""The build context: what is sent to the builder, what COPY needs from it, and what the
ignore file (Docker's own matching, see parse/dockerignore.py) leaves out."""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path

from msgspec.structs import replace

from dockerlint.checks import check
from dockerlint.checks.common import finding, join_spans
from dockerlint.findings import Applicability, Edit, Finding, Fix, Related, Severity, human_size
from dockerlint.model import Copy, Image
from dockerlint.model.buildcontext import (
    context_copies,
    context_path,
    exists_in_context_dir,
    exists_where_it_could_be_built,
    has_glob,
    is_remote,
    reaches_final_image,
    unwanted,
)
from dockerlint.model.documented import documented_downloads
from dockerlint.model.gitignore import GitIgnored, gitignored
from dockerlint.model.submodules import submodule_of
from dockerlint.parse.dockerignore import IgnoreFile, Pattern
from dockerlint.source import Span

_SHOWN = 6  # paths named in one message
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def _anchor(image: Image) -> tuple[Path, Span]:
    """Where a finding about the whole context points: the ignore file's first line (the
    file to edit), else (none, or one that excludes nothing: CTX001 speaks for the image)
    the Dockerfile's first instruction."""
    if image.ignore_path is not None and not _excludes_nothing(image):
        loaded = image.workspace.cached_text(image.ignore_path)
        first = loaded[0].line(1) if loaded else ""
        return image.ignore_path, Span.whole_line(1, first)
    instructions = image.dockerfile.instructions
    return image.dockerfile_path, instructions[0].span if instructions else Span(1, 1, 1, 1)


def _ignore_name(image: Image) -> str:
    return image.ignore_path.name if image.ignore_path else ".dockerignore"


def _excludes_nothing(image: Image) -> bool:
    """Whether the ignore file in use has no pattern at all (empty, or comments only)."""
    ignore = image.workspace.ignore_file(image.ignore_path) if image.ignore_path is not None else None
    return ignore is not None and not ignore.patterns


@check("CTX001")
def no_dockerignore(image: Image) -> Iterator[Finding]:
    empty = _excludes_nothing(image)
    if image.ignore_path is not None and not empty:
        return
    applies = f"the {image.ignore_path.name} there excludes nothing" if empty else "no .dockerignore applies"
    misnamed = None if empty else _misnamed_ignore_file(image)
    if misnamed is not None:
        applies += f" (`{misnamed}` is there, but Docker reads only `.dockerignore`: names are case-sensitive)"
    for stage, copy in context_copies(image):
        if copy.mount_only or not reaches_final_image(image, stage, copy.dest):
            continue  # a builder stage that hands on only what it builds
        for source in copy.sources:
            if is_remote(source.value):
                continue
            folder = context_path(source.value)
            if folder not in (".", "*"):
                stray = _stray_ignore_file(image, folder)
                if stray is not None:
                    yield _stray_ignore_finding(image, source, folder, stray)
                continue
            context = image.context
            size = context.total_size()
            found = unwanted(image)
            today = f", and no image needs {_listed(found)}" if found else ""
            yield replace(
                finding(
                    image,
                    "CTX001",
                    source.span,
                    f"`{copy.instruction.keyword} {source.value}` copies the whole {_copied_context(image, size)} "
                    f"and {applies}: "
                    f"whatever lands in the folder (.git, virtualenvs, caches, .env files) goes into the image{today}",
                    f"Add a .dockerignore beside the context root (or `{image.dockerfile_path.name}.dockerignore` "
                    "beside the Dockerfile) listing .git, .venv, __pycache__ and .env, or copy only the paths "
                    "the image needs.",
                    size_bytes=size,
                ),
                autofix=_ignore_fix(image, found, starter=True),
            )
            break


def _misnamed_ignore_file(image: Image) -> str | None:
    """An ignore file at the context root whose name differs from `.dockerignore` only in
    case (`.Dockerignore`), which Docker on Linux never reads."""
    try:
        names = os.listdir(image.context_root)
    except OSError:
        return None
    return next((name for name in sorted(names) if name.lower() == ".dockerignore" and name != ".dockerignore"), None)


def _stray_ignore_file(image: Image, folder: str) -> list | None:
    """The files of a copied folder that holds its own .dockerignore, which Docker never
    reads (only the context root's, or one named for the Dockerfile beside it)."""
    if not image.context.sent(f"{folder}/.dockerignore"):
        return None
    return image.context.glob(folder)


def _stray_ignore_finding(image: Image, source, folder: str, files: list) -> Finding:
    size = sum(file.size for file in files)
    return finding(
        image,
        "CTX001",
        source.span,
        f"`{source.value}` copies `{folder}/` ({len(files):,} files, {human_size(size)}), whose `.dockerignore` "
        "Docker never reads: only the ignore file at the context root (or one named for the Dockerfile beside "
        "it) applies, so what it excludes (virtualenvs, caches, .env files) goes into the image",
        f"Move `{folder}/.dockerignore` to the context root with each pattern under `{folder}/`, name it "
        f"`{image.dockerfile_path.name}.dockerignore` beside the Dockerfile, or build with `{folder}` as the context.",
        size_bytes=size,
    )


@check("CTX002")
def dockerignore_gap(image: Image) -> Iterator[Finding]:
    found = unwanted(image)
    if not found:
        return
    total = sum(item.size for item in found)
    path, span = _anchor(image)
    patterns = sorted({_pattern_of(item) for item in found})
    where = "to " + _ignore_name(image) if image.ignore_path else "in a new .dockerignore"
    rooted = sorted({item.meant for item in found if item.meant is not None}, key=lambda meant: meant[1])
    anchored = ""
    if rooted:
        written = ", ".join(f"`{text}` (line {line})" for text, line in rooted[:3])
        anchored = (
            f"; {written} of {_ignore_name(image)} {'match' if len(rooted) > 1 else 'matches'} only at the context root"
        )
    yield Finding(
        "CTX002",
        path,
        span,
        f"the build context sends what no image needs: {_listed(found)}{anchored}",
        f"Add {', '.join(f'`{p}`' for p in patterns)} {where} (patterns are anchored at the context root: "
        "use `**/` for every depth).",
        size_bytes=total,
        autofix=_ignore_fix(image, found),
    )


def _listed(found: list) -> str:
    """The unwanted paths found, largest first, with their sizes (the first ``_SHOWN``)."""
    shown = ", ".join(f"{item.path} ({human_size(item.size)})" for item in found[:_SHOWN])
    more = len(found) - _SHOWN
    if more > 0:
        shown += f" and {more} more ({human_size(sum(item.size for item in found[_SHOWN:]))})"
    return shown


def _pattern_of(item) -> str:
    """The pattern that leaves an unwanted path out: the one the ignore file meant, at every
    depth (`**/*.sqlite3` for `*.sqlite3`), else one for the path itself."""
    return f"**/{item.meant[0]}" if item.meant is not None else _pattern_for(item.path)


def _pattern_for(path: str) -> str:
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return name if "/" not in path.rstrip("/") else f"**/{name}"


# What a new .dockerignore starts with (CTX001), beside the paths found: each one only
# while nothing in the context matches it, so it changes nothing that is sent today.
_STARTER = (".git", ".venv", "**/__pycache__", ".env")


def _ignore_fix(image: Image, found: list, starter: bool = False) -> Fix | None:
    """Add the patterns for what was found to the ignore file in use (or a new
    ``.dockerignore`` at the context root), leaving out any pattern that would exclude a
    path a COPY names. ``starter``: a new file also lists the usual unwanted paths that
    are not there yet."""
    needed = [
        context_path(source.value)
        for _, copy in context_copies(image)
        for source in copy.sources
        if not is_remote(source.value) and not has_glob(source.value)
    ]
    needed = [path for path in needed if path not in (".", "*")]
    wanted = {_pattern_of(item) for item in found}
    if starter and (image.ignore_path is None or _excludes_nothing(image)):
        wanted.update(pattern for pattern in _STARTER if not _matches_anything(image, pattern))
    patterns = [
        pattern
        for pattern in sorted(wanted)
        if not any(IgnoreFile((Pattern(pattern, False, 1),)).excludes(path) for path in needed)
    ]
    if not patterns:
        return None
    path = image.ignore_path or image.context_root / ".dockerignore"
    loaded = image.workspace.cached_text(path) if image.ignore_path else None
    text = loaded[0] if loaded else None
    content = "".join(f"{pattern}\n" for pattern in patterns)
    if text is None or not text.text:
        span = Span(1, 1, 1, 1)
    elif text.text.endswith("\n"):
        last = len(text.line_starts)
        span = Span(last, 1, last, 1)
    else:
        last = len(text.line_starts)
        end = len(text.line(last)) + 1
        span, content = Span(last, end, last, end), "\n" + content
    names = ", ".join(f"`{pattern}`" for pattern in patterns)
    return Fix(Applicability.SAFE, f"Add {names} to {path.name}", (Edit(path, span, content),))


def _matches_anything(image: Image, pattern: str) -> bool:
    ignore = IgnoreFile((Pattern(pattern, False, 1),))
    if not pattern.startswith("**/") and exists_in_context_dir(image, pattern):
        return True
    return any(ignore.excludes(file.path) for file in image.context.files)


@check("CTX003")
def copy_source_missing(image: Image) -> Iterator[Finding]:
    context = image.context
    for stage, copy in context_copies(image):
        step = stage.steps[copy.step_index]
        if _unresolved(copy.instruction.args, step.env):
            continue
        keyword = "RUN --mount" if copy.mount_only else copy.instruction.keyword
        missing = []  # sources absent from the context: one finding each, or one for many
        seen = set()
        for source in copy.sources:
            value = source.value
            if value in seen or is_remote(value) or has_glob(value):
                continue  # BuildKit copies an empty match of a wildcard without error
            seen.add(value)
            path = context_path(value)
            if path == "." or context.sent(path):
                continue
            if not exists_in_context_dir(image, path):
                if path.split("/", 1)[0] == ".git":
                    continue  # git's own folder: every clone has it (a copy without it is no clone)
                if exists_where_it_could_be_built(image, path):
                    continue  # the guessed context is likely wrong, not the build
                if image.context_root / path in image.script_outputs:
                    continue  # a script of the repository writes it (`cat <<EOF > aws.env`) before building
                missing.append(source)
            else:
                excluded_by = _excluding_pattern(image.ignore, path)
                if excluded_by is None:
                    continue  # an empty folder, or contents excluded but the folder sent
                message = (
                    f"`{value}` is excluded by `{excluded_by.text}` in {_ignore_name(image)} "
                    f"(line {excluded_by.line}), so it is not in the build context and `{keyword}` fails"
                )
                fix = f"Add `!{path}` after that line of {_ignore_name(image)}, or narrow the pattern."
                yield finding(image, "CTX003", source.span, message, fix)
        fix = (
            "Correct the path (it is relative to the build context, not to the Dockerfile), "
            "or build with the context that holds it."
        )
        if image.origin is not None and image.origin.guessed:
            fix += (
                " No build file in the repository names this Dockerfile's context; if it is built "
                "from another folder, set it under `contexts` in the configuration."
            )
        where = f"the {_context_name(image)}"
        if len(missing) <= _MAX_MISSING_LISTED:
            for source in missing:
                made = documented_downloads(image).get(posixpath.normpath(context_path(source.value)))
                if made is not None:
                    yield _downloaded_by_documented_step(image, source, keyword, made)
                    continue
                pointer = _dvc_pointer(image, context_path(source.value))
                if pointer is not None:
                    yield _tracked_by_dvc(image, source, keyword, pointer)
                    continue
                ignored = gitignored(image.workspace, image.context_root / context_path(source.value))
                if ignored is not None:
                    yield _not_in_git(image, source, keyword, ignored)
                    continue
                submodule = submodule_of(image, context_path(source.value))
                if submodule is not None:
                    yield _in_unfetched_submodule(image, source, keyword, submodule)
                    continue
                message = f"`{source.value}` does not exist in {where}, so `{keyword}` fails"
                yield finding(image, "CTX003", source.span, message, fix)
        elif missing:
            named = ", ".join(f"`{source.value}`" for source in missing[:_MAX_MISSING_LISTED])
            message = (
                f"{len(missing):,} sources do not exist in {where}, so `{keyword}` fails: "
                f"{named} and {len(missing) - _MAX_MISSING_LISTED:,} more"
            )
            yield finding(image, "CTX003", join_spans(missing[0].span, missing[-1].span), message, fix)


_MAX_MISSING_LISTED = 5  # more missing sources in one COPY are one finding (one root cause)


def _downloaded_by_documented_step(image: Image, source, keyword: str, made: tuple[str, int]) -> Finding:
    """A source the repository's documentation downloads before the build (`hf download ...
    --local-dir ./model`): the build works where that step ran, and a clean checkout lacks it."""
    document, line = made
    message = (
        f"`{source.value}` is not in the repository: {document}:{line} downloads it before the build, so "
        f"`{keyword}` works only where that step ran (a clean checkout such as CI's does not have it)"
    )
    fix = (
        "Download it in a build stage (`RUN hf download ... --local-dir ...`) and copy it from there, or "
        "mount it at run time, so that a clean checkout builds too."
    )
    return Finding("CTX003", image.dockerfile_path, source.span, message, fix, severity=Severity.INFO)


def _dvc_pointer(image: Image, path: str) -> str | None:
    """The DVC pointer file (`models/best.pt.dvc`) beside a missing source, or one for a
    folder above it, as a context path; None when there is none."""
    path = posixpath.normpath(path)
    while path and path != ".":
        pointer = f"{path}.dvc"
        if os.path.isfile(image.context_root / pointer):
            return pointer
        path = posixpath.dirname(path)
    return None


def _tracked_by_dvc(image: Image, source, keyword: str, pointer: str) -> Finding:
    """A source DVC tracks: there once `dvc pull` has run (CI steps often do before the
    build), so not a wrong path; said at info."""
    message = (
        f"`{source.value}` is tracked by DVC (`{pointer}`), not by git: `{keyword}` works only after "
        "`dvc pull` has fetched it (a clean checkout, such as CI's, needs that step before the build)"
    )
    fix = "Run `dvc pull` before building (in CI too), or fetch the file in a build stage."
    return Finding("CTX003", image.dockerfile_path, source.span, message, fix, severity=Severity.INFO)


def _in_unfetched_submodule(image: Image, source, keyword: str, submodule: str) -> Finding:
    """A source inside a git submodule this checkout has not fetched: there once `git
    submodule update --init` has run, so not a wrong path; said at info."""
    message = (
        f"`{source.value}` is in the git submodule `{submodule}` (.gitmodules), which this checkout has not "
        f"fetched: `{keyword}` works only after `git submodule update --init` (a CI checkout needs "
        "`submodules: true`)"
    )
    fix = "Fetch the submodules before building (`git submodule update --init --recursive`)."
    return Finding("CTX003", image.dockerfile_path, source.span, message, fix, severity=Severity.INFO)


def _not_in_git(image: Image, source, keyword: str, ignored: GitIgnored) -> Finding:
    """A source git ignores: made where the image is built by hand, missing from a clean
    checkout. Not a wrong path, so the message says which it is."""
    shown = ignored.ignore_file.relative_to(image.workspace.root).as_posix()
    message = (
        f"`{source.value}` is not in the repository: {shown} keeps it out of git (line {ignored.line}), so "
        f"`{keyword}` fails on a clean checkout such as CI's; it works only where it was made beforehand"
    )
    fix = (
        "Make it during the build (a RUN step or an earlier stage), or commit it if it belongs in the repository "
        "(a lock file does; a login or a key never does), so that a clean checkout builds too."
    )
    span = Span(ignored.line, 1, ignored.line, len(ignored.pattern) + 1)
    return finding(
        image, "CTX003", source.span, message, fix, related=[Related(ignored.ignore_file, span, "git ignores it here")]
    )


def _copied_context(image: Image, size: int) -> str:
    """ "build context (N files, size)", naming the folder and the file that builds the
    image from it when one does (compose, bake, a build command): a Dockerfile may be built
    from several contexts, each judged on its own."""
    facts = f"{len(image.context.files):,} files, {human_size(size)}"
    origin = image.origin
    if origin is None or origin.path is None or origin.kind not in ("compose", "bake", "command"):
        return f"build context ({facts})"
    return _context_name(image, facts)


def _context_name(image: Image, facts: str = "") -> str:
    """ "build context (folder/)", by its path in the repository, with ``facts`` about it,
    saying which file builds it with that context (one Dockerfile may be built from several
    contexts) or that it is a guess."""
    root, repository = image.context.root, image.workspace.root
    try:
        folder = root.relative_to(repository).as_posix() if repository is not None else root.name
    except ValueError:
        folder = root.name
    parts = [f"{folder}/" if folder not in ("", ".") else "the repository's root"]
    parts += [facts] if facts else []
    origin = image.origin
    if origin is not None and origin.path is not None and origin.kind in ("compose", "bake", "command"):
        names = sorted({origin.path.name, *(path.name for path in origin.also_by)})
        verb = "builds" if len(names) == 1 else "build"
        parts.append(f"as {' and '.join([', '.join(names[:-1]), names[-1]] if len(names) > 1 else names)} {verb} it")
    name = f"({', '.join(parts)})"
    if origin is None or not origin.guessed:
        return f"build context {name}"
    elsewhere = " nor in any folder above it" if len(origin.alternatives) > 1 else ""
    return f"assumed build context {name}{elsewhere}"


def _unresolved(args: str, env: dict[str, str]) -> bool:
    """A variable without a value makes the source unknowable; stay quiet."""
    return any(not env.get(name) for name in _VARIABLE.findall(args))


def _excluding_pattern(ignore: IgnoreFile | None, path: str):
    """The last pattern that matches ``path``, when it excludes."""
    if ignore is None or not ignore.excludes(path):
        return None
    last = None
    for pattern in ignore.patterns:
        if IgnoreFile((replace(pattern, exclusion=False),)).excludes(path):
            last = pattern
    return last if last is not None and not last.exclusion else None


DEFAULT_LARGE_FILE_SIZE = 50_000_000  # bytes; `large-file-size` in the configuration


@check("CTX004")
def large_context_file(image: Image) -> Iterator[Finding]:
    threshold = image.settings.get("large-file-size", DEFAULT_LARGE_FILE_SIZE)
    large = [file for file in image.context.files if file.size > threshold and not file.is_symlink]
    if not large:
        return
    copied = copied_paths(image)
    anchor_path, anchor_span = _anchor(image)
    for file in large:
        size = human_size(file.size)
        copy = copied.get(file.path)
        if copy is not None:
            yield finding(
                image,
                "CTX004",
                copy.instruction.span,
                f"`{file.path}` ({size}) is sent with every build and this "
                f"{copy.instruction.keyword} puts it into the image",
                "Keep models and data out of the image: download them at start-up or mount them as a volume, "
                f"and add `{file.path}` to {_ignore_name(image)}.",
                size_bytes=file.size,
            )
        else:
            yield Finding(
                "CTX004",
                anchor_path,
                anchor_span,
                f"`{file.path}` ({size}) is sent to the builder with every build although no COPY uses it",
                f"Add `{file.path}` (or its folder) to {_ignore_name(image)}.",
                size_bytes=file.size,
            )


def copied_paths(image: Image) -> dict[str, Copy]:
    """Every sent file that a COPY/ADD of a built stage brings into a layer, with the
    first instruction that does."""
    context = image.context
    paths: dict[str, Copy] = {}
    for _, copy in context_copies(image):
        if copy.mount_only:
            continue
        for source in copy.sources:
            if not is_remote(source.value):
                for file in context.glob(source.value):
                    paths.setdefault(file.path, copy)
    return paths
