"""COPY and ADD: DL3010 archives extracted after COPY, DL3020 ADD of local files, DL3021
several sources, DL3022 and DL3023 `--from`, DL3045 relative destinations, DL3067
whole file systems."""

from __future__ import annotations

from collections.abc import Iterator

from dockerlint.checks import check, fixing
from dockerlint.checks.common import finding
from dockerlint.checks.dl.common import all_stages, instructions, positional
from dockerlint.findings import Finding
from dockerlint.model import Image, StageModel, Step
from dockerlint.model.queries import workdir_before
from dockerlint.parse.dockerfile import Instruction

# What ADD extracts: tar archives, plain or compressed.
_TAR_ARCHIVES = (
    ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz", ".tar.zst", ".tzst", ".tar.lz",
    ".tar.lzma",
)  # fmt: skip
# File names hadolint's DL3010 takes for archives (compressed files and tar archives).
_ARCHIVE_SUFFIXES = (
    ".tar", ".Z", ".bz2", ".gz", ".lz", ".lzma", ".tZ", ".tb2", ".tbz", ".tbz2", ".tgz", ".tlz", ".tpz", ".txz", ".xz",
)  # fmt: skip
_UNPACKERS = ("unzip", "gunzip", "bunzip2", "unlzma", "unxz", "zgz", "uncompress", "zcat", "gzcat")


def copy_words(instruction: Instruction) -> list[str]:
    """The sources and the destination of a COPY/ADD as written, quotes removed."""
    if instruction.json_args is not None:
        return list(instruction.json_args)
    return [word.strip("'\"") for word in instruction.args.split()]


def _basename(path: str) -> str:
    return path.strip("'\"").replace("\\", "/").rsplit("/", 1)[-1]


@check("DL3010")
def copied_archive_extracted(image: Image) -> Iterator[Finding]:
    archives: dict[int, dict[str, Step]] = {}  # stage -> archive name -> the COPY that brought it
    reported: set[int] = set()
    for stage, step in instructions(image, "COPY", "RUN"):
        instruction, found = step.instruction, archives.setdefault(id(stage), {})
        if step.keyword == "COPY":
            words = copy_words(instruction)
            if instruction.flag("from") is not None or instruction.heredocs or len(words) < 2:
                continue
            *sources, dest = words
            names = [_basename(dest)] if dest.endswith(_ARCHIVE_SUFFIXES) else [_basename(s) for s in sources]
            for name in names:
                if name.endswith(_ARCHIVE_SUFFIXES):
                    found.setdefault(name, step)
            continue
        for command in step.written_commands if found else ():
            if not _extracts(command):
                continue
            for _, word in positional(command):
                copy = found.get(_basename(word))
                if copy is not None and id(copy) not in reported:
                    reported.add(id(copy))
                    yield finding(
                        image,
                        "DL3010",
                        copy.instruction.span,
                        f"`{_basename(word)}` is copied in and then unpacked on line {command.span.line}: "
                        "the archive stays in the COPY layer",
                        "Use `ADD archive.tar.gz /dest/`, which unpacks a local tar archive in one layer, "
                        "or unpack it in a builder stage.",
                    )


def _extracts(command) -> bool:
    if command.name in _UNPACKERS:
        return True
    if command.name != "tar":
        return False
    return any(word in ("--extract", "--get") or (word.startswith("-") and "x" in word) for word in command.argv[1:])


@check("DL3020")
def add_local_file(image: Image) -> Iterator[Finding]:
    for stage in all_stages(image):
        for copy in stage.copies:
            if not copy.is_add or copy.heredoc or copy.from_stage is not None or copy.mount_only:
                continue
            fix = _copy_fix(image, copy) if not _relative_without_workdir(image, stage, copy) else None
            for source in copy.sources:
                value = source.value
                if _add_only(value):
                    continue
                yield finding(
                    image,
                    "DL3020",
                    source.span,
                    f"ADD of the local path `{value}`: use COPY, which only copies",
                    "Replace `ADD` with `COPY` (ADD is for URLs and archives to extract).",
                    autofix=fix,
                )


def _relative_without_workdir(image: Image, stage: StageModel, copy) -> bool:
    """The destination is relative and no WORKDIR comes before: as COPY it is DL3045's."""
    words = copy_words(copy.instruction)
    dest = words[-1] if words else ""
    if dest.startswith(("/", "$")) or (len(dest) > 1 and dest[0].isalpha() and dest[1] == ":"):
        return False
    return not workdir_before(image, stage, copy.step_index)


def _add_only(value: str) -> bool:
    """A source only ADD handles: a URL, a git repository, a tar archive it extracts."""
    return "://" in value or value.startswith("git@") or value.lower().endswith(_TAR_ARCHIVES)


# Flags that only ADD takes (the Dockerfile reference): COPY would refuse them.
_ADD_FLAGS = ("checksum", "keep-git-dir", "unpack")
# ADD extracts a local tar archive whatever its name (it looks at the content), so only a
# folder, or a file whose suffix says it is text or code, is certain to be copied as is.
_PLAIN_SUFFIXES = (
    ".py", ".pyi", ".txt", ".md", ".rst", ".toml", ".cfg", ".ini", ".conf", ".json", ".yaml", ".yml", ".sh",
    ".lock", ".in", ".env", ".html", ".js", ".css", ".sql", ".xml", ".properties", ".ipynb", ".csv",
)  # fmt: skip


def _copy_fix(image: Image, copy):
    """ADD -> COPY when every source is a folder of the context or a text file (nothing
    ADD could extract; no wildcard or variable that could name an archive) and no ADD-only
    flag is used."""
    from dockerlint.model.buildcontext import context_path

    instruction = copy.instruction
    if "$" in instruction.args or any(flag.name in _ADD_FLAGS for flag in instruction.flags):
        return None
    for source in copy.sources:
        value = source.value
        if _add_only(value) or any(char in value for char in "*?["):
            return None
        path = context_path(value)
        folder = path == "." or any(file.path.startswith(path + "/") for file in image.context.files)
        if not folder and not (path.lower().endswith(_PLAIN_SUFFIXES) and image.context.sent(path)):
            return None
    span = fixing.keyword_span(image, instruction)
    if span is None:
        return None
    from dockerlint.findings import Edit

    written = fixing.span_text(image, span)
    return fixing.safe("Use `COPY`", Edit(image.dockerfile_path, span, "COPY" if written.isupper() else "copy"))


@check("DL3021")
def copy_several_sources(image: Image) -> Iterator[Finding]:
    for _stage, step in instructions(image, "COPY"):
        words = copy_words(step.instruction)
        if len(words) > 2 and not words[-1].endswith("/") and not step.instruction.heredocs:
            yield finding(
                image,
                "DL3021",
                step.instruction.span,
                f"COPY of {len(words) - 1} sources to `{words[-1]}`, which does not end with `/`: BuildKit refuses it",
                f"End the destination with a slash (`{words[-1]}/`).",
            )


def _from_reference(step: Step) -> str | None:
    flag = step.instruction.flag("from")
    return flag.value if flag is not None and flag.value else None


def _copies_from(image: Image) -> Iterator[tuple[StageModel, Step, str, str | None]]:
    """COPY --from that names no earlier stage: (stage, step, the reference as written,
    the image it resolves to); numbers and names of earlier stages are left out."""
    for stage, step in instructions(image, "COPY"):
        reference = _from_reference(step)
        if reference is None:
            continue
        copy = next((c for c in stage.copies if c.instruction is step.instruction), None)
        if copy is not None and copy.from_stage is not None:
            continue
        yield stage, step, reference, copy.from_image if copy is not None else reference


@check("DL3022")
def copy_from_unknown_stage(image: Image) -> Iterator[Finding]:
    for stage, step, reference, resolved in _copies_from(image):
        if resolved is None or ":" in resolved or (stage.name is not None and resolved.lower() == stage.name):
            continue
        if resolved in image.named_contexts:
            continue  # a named build context of the build (bake `contexts`, compose `additional_contexts`)
        yield finding(
            image,
            "DL3022",
            step.instruction.span,
            f"`COPY --from={reference}` names no earlier stage: it is pulled as the image `{resolved}:latest`",
            "Name a stage defined above (`FROM ... AS name`), or a full image reference with a tag.",
        )


@check("DL3023")
def copy_from_own_stage(image: Image) -> Iterator[Finding]:
    for stage, step, reference, resolved in _copies_from(image):
        if stage.name is not None and (resolved or "").lower() == stage.name:
            yield finding(
                image,
                "DL3023",
                step.instruction.span,
                f"`COPY --from={reference}` names the stage it is in: a stage cannot copy from itself",
                "Copy from an earlier stage, or use a plain COPY from the build context.",
            )


@check("DL3045")
def copy_relative_destination(image: Image) -> Iterator[Finding]:
    for stage, step in instructions(image, "COPY"):
        words = copy_words(step.instruction)
        if step.instruction.heredocs:
            words = [word for word in words if not word.startswith("<<")]
        if not words:
            continue
        dest = words[-1]
        if dest.startswith(("/", "$")) or (len(dest) > 1 and dest[0].isalpha() and dest[1] == ":"):
            continue
        if workdir_before(image, stage, step.index):
            continue
        yield finding(
            image,
            "DL3045",
            step.instruction.span,
            f"COPY to the relative path `{dest}` before any WORKDIR: it lands wherever the base image's "
            "working directory happens to be",
            "Set `WORKDIR /app` before the COPY, or copy to an absolute path.",
        )


@check("DL3067")
def copy_whole_filesystem(image: Image) -> Iterator[Finding]:
    for _stage, step in instructions(image, "COPY"):
        if _from_reference(step) is not None:
            *sources, dest = copy_words(step.instruction) or [""]
            if "/" in sources and dest == "/":
                yield finding(
                    image,
                    "DL3067",
                    step.instruction.span,
                    f"`COPY --from={_from_reference(step)} / /` copies another stage's whole file system, "
                    "with its package manager, caches and build tools",
                    "Copy only the folders the image needs (`COPY --from=build /opt/venv /opt/venv`).",
                )
