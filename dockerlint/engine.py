"""Runs the checks over every image and turns their findings into a report's content:
selection, severities, inline suppressions, per-file ignores, stable order, exit code."""

from __future__ import annotations

import bisect
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct, field
from msgspec.structs import replace

from dockerlint.builds import Build, build_image_of, plan_builds
from dockerlint.checks import load_checks
from dockerlint.config import Config
from dockerlint.discover import Found, discover, is_compose_name, is_dockerfile_name, is_requirements_name
from dockerlint.errors import blame
from dockerlint.findings import Finding, Note, Severity
from dockerlint.fixes import MAX_ROUNDS, FixOutcome, FixSettings, apply_edits, choose, edits_by_file, write_if_unchanged
from dockerlint.model import Image
from dockerlint.model.installed_names import image_installs
from dockerlint.model.installed_pip import compiled_sources
from dockerlint.model.installed_projects import project_installs
from dockerlint.model.queries import development_image
from dockerlint.paths import real_path
from dockerlint.rulebook import Rule
from dockerlint.workspace import Workspace

if TYPE_CHECKING:
    from dockerlint.model.scan_cache import ScanCache


class Result(Struct):
    findings: list[Finding]
    notes: list[Note]
    files_checked: int
    images: list[Image] = field(default_factory=list)
    workspace: Workspace | None = None
    origins: dict[tuple, set[int]] = field(default_factory=dict)  # origin_key -> indexes into images
    summaries: list = field(default_factory=list)  # what ``summarize`` made of each image, in order

    def exit_code(self, fail_level: Severity) -> int:
        return 1 if any(f.severity is not None and f.severity >= fail_level for f in self.findings) else 0

    def images_of(self, finding: Finding) -> list[Image]:
        """The images whose checks reported the finding (two images that install the same
        requirements file may both); none for a parse problem of a file."""
        return [self.images[index] for index in sorted(self.origins.get(origin_key(finding), ()))]


def origin_key(finding: Finding) -> tuple:
    """What one finding is, before and after ``finalize`` (which de-duplicates by it)."""
    return finding.code, finding.path, finding.span.line, bounded_message(finding.message)


def project_root(paths: list[Path], config: Config) -> Path:
    """The repository the paths belong to: the config's folder, else the nearest folder
    holding ``.git``, else the (common folder of the) paths themselves."""
    if config.path is not None:
        return config.root
    first = real_path(paths[0])
    start = first if os.path.isdir(first) else first.parent
    for folder in (start, *start.parents):
        if os.path.exists(folder / ".git"):
            return folder
    return start


def lint(
    paths: list[Path],
    config: Config,
    rules: Mapping[str, Rule],
    *,
    force_exclude: bool = False,
    cache_dir: Path | ScanCache | None = None,
    overlay: Mapping[Path, bytes | None] | None = None,
    root: Path | None = None,
    keep_images: bool = True,
    summarize: Callable[[Image, list[Finding]], object] | None = None,
    jobs: int | None = 1,
    agree: bool = True,
) -> Result:
    """``cache_dir``: where the DEP rules keep import scans between runs (None: no cache;
    a ``ScanCache``: one kept open across runs, as a language server does).
    ``overlay``: file contents that replace what is on disk (see ``Workspace``).
    ``root``: the repository, when the caller knows it (an editor's workspace folder);
    otherwise found from the paths (``project_root``).
    ``summarize(image, its findings)``: what the run keeps of each image it checks
    (``Result.summaries``), called with the image's own findings as the report has them.
    ``keep_images=False``: each image's model is let go once it is checked and summarized,
    so a repository of thousands of images is linted in the memory of a few
    (``Result.images`` and ``Result.origins`` stay empty); the images are then checked in
    ``jobs`` processes (None: one per core when there are enough images; see ``workers``).
    ``agree=False``: the AGREED findings of every image are kept, for a caller that holds the
    findings of images this run does not check (an editor re-linting one image) and agrees
    them itself."""
    root = root or project_root(paths, config)
    # Reads stay inside the repository and the paths the user named (a named Dockerfile
    # brings its folder, the context it is built with by default).
    named = [path if os.path.isdir(path) else path.absolute().parent for path in paths]
    workspace = Workspace(roots=[root, *named], overlay=overlay)
    workspace.root = root
    directories = [real_path(path) for path in paths if os.path.isdir(path)]
    files = []
    for path in paths:
        if os.path.isdir(path):
            continue
        if not os.path.exists(path) and not os.path.islink(path):
            workspace.note(path.absolute(), "does not exist")
            continue
        if force_exclude and config.is_excluded(path):
            continue
        files.append(path.absolute())

    found = Found()
    for directory in directories:
        with blame(directory):
            part = discover(directory, config)
        found.dockerfiles += part.dockerfiles
        found.compose_files += part.compose_files
        found.requirements += part.requirements
        found.pyprojects += part.pyprojects
        found.build_files += part.build_files
        found.python_files += part.python_files
        for note_path, message in part.notes:
            workspace.note(note_path, message)
    if files:
        # Files named on the command line (as pre-commit does) take part in images that
        # live anywhere in the repository: discover it all, then keep the images they touch.
        with blame(root):
            whole = discover(root, config)
        for note_path, message in whole.notes:
            workspace.note(note_path, message)
        for path in files:
            if is_dockerfile_name(path.name) and path not in whole.dockerfiles:
                whole.dockerfiles.append(path)
            elif is_compose_name(path.name) and path not in whole.compose_files:
                whole.compose_files.append(path)
        found.dockerfiles += whole.dockerfiles
        found.compose_files += whole.compose_files
        found.requirements += whole.requirements
        found.build_files += whole.build_files
        found.python_files = max(found.python_files, whole.python_files)
    for items in (found.dockerfiles, found.compose_files, found.requirements, found.pyprojects, found.build_files):
        items[:] = sorted(set(items))

    _check_dockerfile_tables(config, found.dockerfiles, workspace)
    builds = [build for build in plan_builds(found, config, workspace, root) if _inside_repository(build, workspace)]
    enabled = config.enabled_codes(rules)
    # hadolint-compatible (DL) rules read only the Dockerfile: with nothing else selected,
    # requirements, ignore and pyproject files are not read.
    reads_files = any(not code.startswith("DL") for code in enabled)
    scan_cache = None
    code_to_scan = 0  # Python files a cold scan may read: work that pays for more processes
    if any(code.startswith(("DEP", "GPU")) for code in enabled):  # both read the images' code
        from dockerlint.model.code import use_scan_cache
        from dockerlint.model.distributions import use_project_modules

        use_project_modules(config.known_modules)
        scan_cache = use_scan_cache(workspace, cache_dir)
        code_to_scan = max(0, found.python_files - (scan_cache.known_files() if scan_cache is not None else 0))
    suppressions = Suppressions(workspace)
    setup = _Setup(
        workspace=workspace,
        checks=[function for function, codes in load_checks(enabled).items() if enabled.intersection(codes)],
        settings=config.rule_settings(),
        reads_files=reads_files,
        files=files,
        keep_images=keep_images,
        finish=_Finish(config, rules, enabled, suppressions, moot_lines=agree),
        summarize=summarize,
        scan_cache=scan_cache,
    )
    if keep_images:
        checked = _check_images(builds, setup)
    else:
        from dockerlint.workers import check_in_processes, jobs_for

        processes = jobs_for(jobs, len(builds), code_to_scan)
        checked = _check_images(builds, setup) if processes == 1 else check_in_processes(builds, setup, processes)
    findings = [f for produced in checked.by_check for f in produced if not agree or _agreed(f, checked)]
    checked.by_check.clear()  # ``findings`` holds them now
    if agree:
        _summarize_again(checked, setup)
    if files:
        for path in files:  # a file that cannot be read is still worth a note
            if is_dockerfile_name(path.name):
                workspace.dockerfile(path)
            elif is_requirements_name(path) and reads_files:  # checked even when no image installs it
                workspace.requirements(path)
    elif reads_files:
        for path in found.requirements:  # requirements no image installs still get parsed
            if not workspace.requirements_parsed(path):
                workspace.requirements(path)
    if scan_cache is not None:
        scan_cache.save()

    reported_files = checked.reported_files | set(files) if files else None
    for path, problems in sorted(workspace.problems.items()):
        if reported_files is not None and path not in reported_files:
            continue
        findings.extend(Finding(p.code, path, p.span, p.message, p.fix) for p in problems)

    _check_suppression_codes(suppressions, rules)
    findings = finalize(_drained(findings), config, rules, enabled, workspace, suppressions, moot_lines=agree)
    read = workspace.files_read()
    if reported_files is not None:
        read &= reported_files
    return Result(
        findings,
        _unique_notes(workspace.notes),
        len(read),
        checked.images,
        workspace,
        checked.origins,
        checked.summaries,
    )


def _summarize_again(checked: _Checked, setup: _Setup) -> None:
    """The summaries of images that said an AGREED finding another image did not: made
    again, without it, as a run that keeps its images makes them from the report."""
    for index, build, own in checked.revisit:
        kept = [finding for finding in own if _agreed(finding, checked)]
        if len(kept) == len(own):
            continue
        image = build_image_of(build, setup.workspace, setup.settings)
        if image is not None:
            with blame(image.dockerfile_path):
                checked.summaries[index] = setup.summarize(image, setup.finish.all(kept))


def _agreed(finding: Finding, checked: _Checked) -> bool:
    """Whether every image that installs the entry the finding is on says it (every image
    that reads its file, for a line no install names), for the AGREED codes. An image that
    reads a pyproject.toml for other groups than the entry's has nothing to say of it."""
    if finding.code not in AGREED:
        return True
    if finding.code == "DEP002":  # an import in a code file: every image holding the file...
        if finding.path in checked.own_code:
            return True  # ...unless one installs the project the file is part of: its dependencies are at fault
        return checked.agreed[(finding.code, finding.path, finding.span.line)] >= checked.code_holders.get(
            str(finding.path), 1
        )
    return all(_agreed_line(finding, line, checked) for line in (finding.span.line, *finding.also_lines))


def _agreed_line(finding: Finding, line: int, checked: _Checked) -> bool:
    installing = checked.installed_entries.get((finding.path, line))
    if installing is None:
        installing = checked.installed_by.get(finding.path, 1)
    elif finding.code == "DEP003":  # a development image beside it holds its tools by design
        installing -= checked.development_entries.get((finding.path, line), 0)
    installing += checked.compiled_from.get(finding.path, 0)
    return checked.agreed[(finding.code, finding.path, line)] >= installing


class _Setup(Struct):
    """What checking each image needs (a worker process gets it whole, by fork)."""

    workspace: Workspace
    checks: list  # the check functions of the enabled rules
    settings: dict  # the configured thresholds
    reads_files: bool  # False when only hadolint-compatible rules run
    files: list[Path]  # files named on the command line (only their images are checked), or none
    keep_images: bool
    finish: _Finish
    summarize: Callable[[Image, list[Finding]], object] | None
    scan_cache: ScanCache | None


class _Checked(Struct):
    by_check: list[list[Finding]]  # each check's findings, image after image
    images: list[Image] = field(default_factory=list)  # with keep_images
    origins: dict[tuple, set[int]] = field(default_factory=dict)  # with keep_images
    summaries: list = field(default_factory=list)  # with summarize
    reported_files: set[Path] = field(default_factory=set)  # with files: what their images read
    installed_by: Counter = field(default_factory=Counter)  # file -> images checked that read it
    installed_entries: Counter = field(default_factory=Counter)  # (file, line) of an entry -> images installing it
    # the same, of the development images among them: DEP003 is not theirs to say
    development_entries: Counter = field(default_factory=Counter)
    # file -> images that install a requirements file compiled from it, and not the file itself
    compiled_from: Counter = field(default_factory=Counter)
    agreed: Counter = field(default_factory=Counter)  # (code, file, line) of AGREED codes -> images saying it
    code_holders: Counter = field(default_factory=Counter)  # code file -> images checked that hold it
    own_code: set[Path] = field(default_factory=set)  # code files of a local project an image installs
    # with summarize: (index in summaries, build, own findings) of each image that said an
    # AGREED finding, to summarize again without the ones the other images did not say
    revisit: list = field(default_factory=list)


# Findings on a line of a file several images install (a requirements file, a Dockerfile
# built with several targets) whose fix edits that line: removing a package one image does
# not use breaks the one that does. Said only when every image that reads the file says it.
# So is DEP002 on an import in a code file several images hold (`COPY . /app` in each
# service of a repository): the image that installs what the file imports is the one
# that runs it; the others only carry it. And GPU002 on a GPU-only package of a shared
# file: the image that runs on a GPU needs it (onnxruntime-gpu in production, beside a
# CPU test image).
AGREED = frozenset({"DEP001", "DEP002", "DEP003", "DEP004", "GPU002"})


FORGET_EVERY = 32  # images checked between two ``Workspace.forget_parses`` when images are let go


def _check_images(builds: list[Build], setup: _Setup) -> _Checked:
    """Build each image, run every check over it, summarize it and, unless images are
    kept, let it go (and, every ``FORGET_EVERY`` images, the parses it used). Findings are
    kept by check, in image order: the order of a run that runs each check over every
    image in turn, where the first of two equal findings is the one kept."""
    workspace = setup.workspace
    checked = _Checked([[] for _ in setup.checks])
    wanted = set(setup.files)
    one_copy = _OneCopy()
    done = 0
    for build in builds:
        image = build_image_of(build, workspace, setup.settings)
        if image is None:
            continue
        read: set[Path] = set()
        if setup.reads_files:  # every requirements file an image installs is read (and checked)
            with blame(image.dockerfile_path):
                read = image_files(image)
        if wanted:
            if not _touches(image, wanted):
                continue
            if not setup.reads_files:
                with blame(image.dockerfile_path):
                    read = image_files(image)
            checked.reported_files |= read
        checked.installed_by.update(read)
        if setup.reads_files:
            with blame(image.dockerfile_path):
                entries = {(item.path, item.span.line) for item in image_installs(image).items}
                checked.installed_entries.update(entries)
                # a requirements.txt compiled from pyproject.toml installs what pyproject.toml lists
                checked.compiled_from.update(compiled_sources(image) - read)
                if development_image(image):
                    checked.development_entries.update(entries)
                if "DEP002" in setup.finish.enabled:
                    checked.code_holders.update(_held_code(image))
        index = len(checked.images)  # of the image among those kept
        own = []
        with blame(image.dockerfile_path):  # one for all checks: it wraps 70 calls an image
            for produced_by, function in zip(checked.by_check, setup.checks, strict=True):
                produced = [one_copy(finding) for finding in function(image)]
                if setup.keep_images:
                    for finding in produced:
                        checked.origins.setdefault(origin_key(finding), set()).add(index)
                produced_by.extend(produced)
                own.extend(produced)
        said = {(f.code, f.path, line) for f in own if f.code in AGREED for line in (f.span.line, *f.also_lines)}
        checked.agreed.update(said)
        if any(code == "DEP002" for code, _, _ in said):
            checked.own_code.update(_own_code(image, said))
        if setup.summarize is not None:
            if said:
                checked.revisit.append((len(checked.summaries), build, own))
            with blame(image.dockerfile_path):
                checked.summaries.append(setup.summarize(image, setup.finish.all(own)))
        if setup.keep_images:
            checked.images.append(image)
            continue
        done += 1
        if done % FORGET_EVERY == 0:
            forget(setup)
    return checked


class _OneCopy:
    """Messages, advice and spans repeat across images (the same unpinned requirement in a
    thousand services): the findings a run holds share one copy of each."""

    def __init__(self) -> None:
        self._kept: dict = {}

    def __call__(self, finding: Finding) -> Finding:
        share = self._kept.setdefault
        message = share(finding.message, finding.message)
        advice = finding.fix and share(finding.fix, finding.fix)
        span = share(finding.span, finding.span)
        if message is finding.message and advice is finding.fix and span is finding.span:
            return finding
        return replace(finding, message=message, fix=advice, span=span)


def forget(setup: _Setup) -> None:
    """Let the parses and scans held now go, once what the report needs of them is kept:
    what each Dockerfile's comments suppress."""
    for path, dockerfile in setup.workspace.parsed_dockerfiles():
        setup.finish.suppressions.learn(path, dockerfile)
    setup.workspace.forget_parses()
    if setup.scan_cache is not None or setup.reads_files:
        from dockerlint.model.code import forget_scans

        forget_scans(setup.workspace)


def lint_and_fix(
    paths: list[Path], config: Config, rules: Mapping[str, Rule], settings: FixSettings, *, write: bool, **options
) -> tuple[Result, FixOutcome]:
    """Lint, apply the allowed fixes, lint again, until no fix is left (at most
    ``MAX_ROUNDS`` rounds). ``write=False`` (``--diff``) keeps every change in memory: each
    round lints the files as the fixes so far left them. Returns the last lint, whose
    findings are what remains, and what was fixed."""
    outcome = FixOutcome()
    overlay: dict[Path, bytes | None] = {}
    writable = writable_paths(paths)
    for _ in range(MAX_ROUNDS):
        result = lint(paths, config, rules, overlay=None if write else overlay, **options)
        chosen = choose(result.findings, settings, lambda path, workspace=result.workspace: writable(path, workspace))
        changed = False
        for path, edits in edits_by_file(chosen).items():
            was_read, before = result.workspace.bytes_read(path)
            if not was_read:
                before = overlay.get(path) if path in overlay else _current(path)
            after = apply_edits(before, edits)
            if after is None:
                outcome.notes.append(Note(path, "not fixed: the file is not UTF-8 or mixes line endings"))
                chosen = [f for f in chosen if all(edit.path != path for edit in f.autofix.edits)]
                continue
            if write:
                problem = write_if_unchanged(path, before, after)
                if problem is not None:
                    outcome.notes.append(Note(path, problem))
                    chosen = [f for f in chosen if all(edit.path != path for edit in f.autofix.edits)]
                    continue
            outcome.before.setdefault(path, before)
            outcome.after[path] = overlay[path] = after
            changed = True
        outcome.fixed += [f for f in chosen if all(edit.path in outcome.after for edit in f.autofix.edits)]
        if not changed:
            return result, outcome
    return lint(paths, config, rules, overlay=None if write else overlay, **options), outcome


def _current(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def writable_paths(paths: list[Path]):
    """Fixes write only inside the linted paths: a file named on the command line, or
    a file under a directory named there, that does not lead out of the repository."""
    files = {os.path.abspath(path) for path in paths if not os.path.isdir(path)}
    folders = [os.path.abspath(path) for path in paths if os.path.isdir(path)]

    def writable(path: Path, workspace: Workspace) -> bool:
        text = os.path.abspath(path)
        named = text in files or any(text.startswith(folder.rstrip(os.sep) + os.sep) for folder in folders)
        return named and workspace.outside(path) is None and not os.path.islink(path)

    return writable


def _check_dockerfile_tables(config: Config, dockerfiles: list[Path], workspace: Workspace) -> None:
    """A ``contexts``/``targets``/``gpu``/``budget`` entry that names no Dockerfile is a typo or a
    file that moved: say so, or the setting silently stops applying."""
    where = config.path or config.root
    section = "tool.dockerlint." if where.name == "pyproject.toml" else ""
    tables = {"contexts": config.contexts, "targets": config.targets, "gpu": config.gpu, "budget": config.budget}
    for name, table in tables.items():
        for pattern in table:
            if not any(config.for_dockerfile({pattern: True}, dockerfile) for dockerfile in dockerfiles):
                workspace.note(where, f"[{section}{name}] `{pattern}` matches no Dockerfile")


def _check_suppression_codes(suppressions: Suppressions, rules: Mapping[str, Rule]) -> None:
    """A suppression comment naming a code no rule has suppresses nothing: a typo
    (``DL3O42``) or a rule that was renamed. hadolint pragmas may name ShellCheck codes."""
    families = {rule.family for rule in rules.values()}
    for path, problems in suppressions.unknown_codes(set(rules), families):
        for line, codes in problems:
            names = ", ".join(f"`{code}`" for code in sorted(codes))
            suppressions.workspace.note(path, f"line {line}: the suppression comment names no known rule: {names}")


def _inside_repository(build: Build, workspace: Workspace) -> bool:
    """A Dockerfile or context that a compose file or the configuration puts outside the
    repository is not read: it gets one note. Otherwise the context becomes a boundary
    for the files read from it."""
    for what, path, in_context in (("Dockerfile", build.dockerfile, False), ("build context", build.context, False)):
        reason = workspace.outside(path, in_context=in_context)
        if reason is not None:
            origin = build.compose_file or build.dockerfile
            workspace.note(origin, f"{what} `{path}` is outside the repository: not read")
            return False
    workspace.add_context_root(build.context)
    return True


def _own_code(image: Image, said: set[tuple]) -> set[Path]:
    """Of the files the image said DEP002 on, those inside a local project it installs
    (`pip install ./shared`): that project must declare what its code imports."""
    folders = [os.path.join(os.path.abspath(folder), "") for folder in image_installs(image).local_projects]
    return {path for code, path, _ in said if code == "DEP002" and os.path.abspath(path).startswith(tuple(folders))}


def _held_code(image: Image) -> list[str]:
    """The code files the image holds (see AGREED)."""
    from dockerlint.model.code import image_code

    return [file.location for file in image_code(image, image_installs(image).local_projects).files]


def image_files(image: Image) -> set[Path]:
    """The files an image's analysis reads (Dockerfile, ignore file, requirements files,
    pyproject files of local projects it installs), each read once; their parse problems
    are reported."""
    files = {image.dockerfile_path}
    if image.ignore_path:
        files.add(image.ignore_path)
        image.workspace.ignore_file(image.ignore_path)
    for folder in image.local_projects():
        pyproject = folder / "pyproject.toml"
        if image.workspace.pyproject(pyproject) is not None:
            files.add(pyproject)
    for stage in image.stages:
        for install in stage.installs():
            for ref in install.requirements:
                # Anything there but a folder is read: a named pipe or a dangling link
                # gets "cannot read" (REQ004) rather than silence.
                path = ref.context_path
                if path is not None and os.path.lexists(path) and not os.path.isdir(path):
                    files.update(image.workspace.requirements(path).files)
        for step in stage.runs():  # `poetry install`, `uv sync`: the pyproject.toml they read
            files.update(project.pyproject for project in project_installs(image, stage, step) if project.pyproject)
    return files


def _touches(image: Image, wanted: set[Path]) -> bool:
    """Whether the image reads or copies one of the files named on the command line."""
    with blame(image.dockerfile_path):
        return bool(wanted & image_files(image)) or _copies_any(image, wanted)


def _copies_any(image: Image, wanted: set[Path]) -> bool:
    """Whether a COPY/ADD from the build context brings one of these files into a stage
    the image needs (after the ignore file)."""
    for path in wanted:
        try:
            relative = real_path(path).relative_to(real_path(image.context_root)).as_posix()
        except ValueError:
            continue
        if image.ignore is not None and image.ignore.excludes(relative):
            continue
        for stage in image.stages:
            if not stage.reachable:
                continue
            for copy in stage.copies:
                if (
                    copy.from_stage is None
                    and copy.from_image is None
                    and any(_source_covers(source.value, relative) for source in copy.sources)
                ):
                    return True
    return False


def _source_covers(source: str, relative: str) -> bool:
    source = source.strip().lstrip("/").removeprefix("./").rstrip("/")
    if source in ("", "."):
        return True
    if any(char in source for char in "*?["):
        parts, pattern_parts = relative.split("/"), source.split("/")
        return len(parts) >= len(pattern_parts) and all(
            fnmatchcase(part, pattern) for part, pattern in zip(parts, pattern_parts, strict=False)
        )
    return relative == source or relative.startswith(source + "/")


# -- finishing findings -------------------------------------------------------------------


def finalize(
    findings: Iterable[Finding],
    config: Config,
    rules: Mapping[str, Rule],
    enabled: set[str],
    workspace: Workspace,
    suppressions: Suppressions | None = None,
    moot_lines: bool = True,
) -> list[Finding]:
    """Select, suppress, re-level, de-duplicate and sort (``moot_lines``: see _Finish)."""
    return _Finish(config, rules, enabled, suppressions or Suppressions(workspace), moot_lines).all(findings)


def line_covers(rules: Mapping[str, Rule]) -> dict[str, frozenset[str]]:
    """Code -> the codes its findings make moot on their lines (a rule's ``covers-line``)."""
    return {code: frozenset(rule.covers_line) for code, rule in rules.items() if rule.covers_line}


def without_moot(
    findings: list[Finding], covers: Mapping[str, frozenset[str]], mooting: list[Finding] | None = None
) -> list[Finding]:
    """One file's findings without those on a line a finding at warning or above makes moot
    (REQ003's pin on a line DEP001 says to remove); not one that speaks for other lines too.
    ``mooting``: the findings that decide it, when not ``findings`` (a `# noqa: DEP001` keeps
    the package knowingly, and hides its finding, and the pin stays moot: `--add-noqa` is done
    in one pass)."""
    moot = {
        (code, line)
        for finding in (findings if mooting is None else mooting)
        if finding.code in covers and finding.severity is not None and finding.severity >= Severity.WARNING
        for line in (finding.span.line, *finding.also_lines)
        for code in covers[finding.code]
    }
    return [f for f in findings if f.also_lines or (f.code, f.span.line) not in moot] if moot else findings


class _Finish:
    """What the report makes of a finding: dropped (not selected, ignored for its file,
    suppressed by a comment) or kept with its configured level and a bounded message."""

    def __init__(
        self,
        config: Config,
        rules: Mapping[str, Rule],
        enabled: set[str],
        suppressions: Suppressions,
        moot_lines: bool = True,
    ):
        self.severities = {code: rule.severity for code, rule in rules.items()}
        for selector, level in config.severity.items():
            for code in rules:
                if code.startswith(selector) or selector == "ALL":
                    self.severities[code] = level
        self.config = config
        self.enabled = enabled
        self.suppressions = suppressions
        self.ignored_by_path: dict[Path, set[str]] = {}
        self.covers = {code: frozenset(rule.covers) for code, rule in rules.items() if rule.covers}
        # a caller that keeps every image's AGREED findings (agree=False) drops moot lines itself,
        # once it knows which of them every image says (without_moot)
        self.covers_line = line_covers(rules) if moot_lines else {}
        self._mooting: list[Finding] = []  # of the file being finished: findings that make lines moot

    def all(self, findings: Iterable[Finding]) -> list[Finding]:
        """The findings kept, each once, sorted. They are taken a file at a time: what
        tells two findings apart includes the file, so a repository of thousands of files
        never holds the keys of all its findings at once."""
        by_file: dict[str, list[Finding]] = {}
        for finding in findings:
            if finding.code in self.enabled:
                by_file.setdefault(str(finding.path), []).append(finding)
        kept = []
        for name in sorted(by_file):
            kept += sorted(self._uncovered(list(self._kept(by_file.pop(name)))), key=Finding.place_key)
        return kept

    def _uncovered(self, findings: list[Finding]) -> list[Finding]:
        """One file's findings without those a finding of a covering rule stands for (CTX001,
        no ignore file and the whole context copied, says what CTX002 would), and those on a
        line a finding makes moot (REQ003's pin on a line DEP001, at warning, says to remove;
        not a finding that speaks for other lines too)."""
        if self.covers:
            covered = set().union(*(self.covers.get(finding.code, ()) for finding in findings))
            findings = [finding for finding in findings if finding.code not in covered] if covered else findings
        if not self.covers_line:
            return findings
        mooting, self._mooting = self._mooting, []
        return without_moot(findings, self.covers_line, mooting)

    def _kept(self, findings: list[Finding]) -> Iterator[Finding]:
        """Of one file's findings, in the order found: each once, unless ignored or suppressed."""
        seen = set()
        for finding in findings:
            # One root cause, one finding: the same message for the same line is said once
            # (a COPY that names one missing source a thousand times).
            key = (finding.code, finding.span.line, finding.message)
            # A requirements line or an import that several images share is judged by each:
            # their DEP findings differ only by what the rest of each image makes it cost.
            # The first image's is said.
            shared = (finding.code, finding.span) if finding.code.startswith("DEP") else key
            if key in seen or shared in seen:
                continue
            seen.add(key)
            seen.add(shared)
            if finding.path not in self.ignored_by_path:
                relative = _relative(finding.path, self.config.root)
                ignored = self.config.ignored_for(relative) if relative is not None else None
                self.ignored_by_path[finding.path] = ignored or _NOTHING  # one empty set for every file
            if finding.code in self.ignored_by_path[finding.path]:
                continue
            severity = self.severities.get(finding.code, Severity.WARNING)
            if finding.severity is not None:  # a check unsure of a finding says it at a lower level
                severity = min(severity, finding.severity)
            if finding.code in self.covers_line:  # it makes a line moot whether or not a comment hides it
                self._mooting.append(replace(finding, severity=severity))
            if self.suppressions.suppressed(finding):
                continue
            yield replace(finding, severity=severity, message=bounded_message(finding.message))


MAX_QUOTED = 100  # characters of a quoted name, path or line a message shows
MAX_MESSAGE = 1000
_QUOTED = re.compile(r"`[^`]*`")


_NOTHING: frozenset[str] = frozenset()
_NO_SUPPRESSIONS: tuple[frozenset[str], tuple] = (_NOTHING, ())


def _drained(items: list[Finding]) -> Iterator[Finding]:
    """Each item in order, let go by the list as it is taken: the findings of a large
    repository are finished one at a time rather than held twice, as found and as kept."""
    items.reverse()
    while items:
        yield items.pop()


def bounded_message(message: str) -> str:
    """A message quotes what it is about (a path, a requirement line); a hostile file can
    make that megabytes long, and every finding would print it. Long quotes keep their
    start and end around an ellipsis, and the whole message is capped."""
    if len(message) <= MAX_QUOTED:
        return message
    half = MAX_QUOTED // 2

    def shorten(quoted: re.Match[str]) -> str:
        text = quoted[0]
        return text if len(text) <= MAX_QUOTED + 2 else text[: half + 1] + "…" + text[-half - 1 :]

    shortened = _QUOTED.sub(shorten, message)
    if shortened == message:
        shortened = message  # the same string, not a copy of it for every finding
    return shortened if len(shortened) <= MAX_MESSAGE else shortened[: MAX_MESSAGE - 1] + "…"


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


def _unique_notes(notes: list[Note]) -> list[Note]:
    return sorted(set(notes), key=lambda note: (str(note.path), note.message))


_DOCKERLINT_IGNORE = re.compile(r"^dockerlint\s*:\s*(ignore|ignore-file)\s*=\s*([A-Za-z0-9, ]+)")
_HADOLINT_IGNORE = re.compile(r"^hadolint\s+(global\s+|stage\s+)?ignore\s*=\s*([A-Za-z0-9, ]+)")
_NOQA = re.compile(r"(?:^|\s)#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*))?", re.IGNORECASE)


def _codes(text: str) -> set[str]:
    return {code.strip().upper() for code in re.split(r"[,\s]+", text) if code.strip()}


class Suppressions:
    """Inline suppressions, read from the files the workspace already holds.

    Dockerfiles: ``# dockerlint: ignore=CODE[,CODE]`` above an instruction (comment
    lines may stack), ``# dockerlint: ignore-file=CODE`` anywhere, and hadolint's
    ``# hadolint ignore=DLxxxx`` / ``# hadolint global ignore=DLxxxx`` for DL codes, and
    ``# hadolint stage ignore=DLxxxx`` right above a FROM for that stage.
    Other text files (requirements): a trailing ``# noqa`` or ``# noqa: CODE``.
    """

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        # Per Dockerfile: what its comments suppress, and the codes each names; kept
        # (``learn``) when a run lets the parse go.
        self._dockerfile_cache: dict[Path, tuple[set[str], list[tuple[int, int, set[str]]]]] = {}
        self._named: dict[Path, tuple[tuple[int, set[str]], ...]] = {}

    def learn(self, path: Path, dockerfile) -> None:
        """Keep what a parsed Dockerfile's comments say, before its parse is let go."""
        self._dockerfile(path, dockerfile)
        if path not in self._named:
            self._named[path] = tuple(self._named_codes(dockerfile))  # most: (), one shared object

    def learned(self) -> tuple[dict, dict]:
        """What ``learn`` kept, for the process that finishes the run (``absorb``)."""
        return self._dockerfile_cache, self._named

    def absorb(self, learned: tuple[dict, dict]) -> None:
        tables, named = learned
        for path, table in tables.items():
            self._dockerfile_cache.setdefault(path, table)
        for path, codes in named.items():
            self._named.setdefault(path, codes)

    def suppressed(self, finding: Finding) -> bool:
        tables = self._dockerfile_cache.get(finding.path)
        if tables is None:
            dockerfile = self.workspace.cached_dockerfile(finding.path)
            if dockerfile is not None:
                tables = self._dockerfile(finding.path, dockerfile)
        if tables is not None:
            file_codes, ranges = tables
            if finding.code in file_codes:
                return True
            line = finding.span.line
            return any(start <= line <= end and finding.code in codes for start, end, codes in ranges)
        loaded = self.workspace.cached_text(finding.path)
        if loaded is None or is_dockerfile_name(finding.path.name):
            return False
        match = _NOQA.search(loaded[0].line(finding.span.line))
        if match is None:
            return False
        codes = match.group("codes")
        return codes is None or finding.code in _codes(codes)

    def unknown_codes(self, known: set[str], families: set[str]) -> Iterator[tuple[Path, list[tuple[int, set[str]]]]]:
        """Per file this run read: (line, codes) of suppression comments that name codes
        of no rule. In requirements files only codes of dockerlint's families count
        (``# noqa: E501`` may be for another tool)."""
        for path in sorted(self.workspace.files_read()):
            named = self._named.get(path)
            if named is None:
                dockerfile = self.workspace.cached_dockerfile(path)
                named = list(self._named_codes(dockerfile)) if dockerfile is not None else None
            found = []
            if named is not None:
                for line, codes in named:
                    if codes - known:
                        found.append((line, codes - known))
            elif not is_dockerfile_name(path.name):
                loaded = self.workspace.cached_text(path)
                text = loaded[0].text if loaded else ""
                if "noqa" not in text.lower():
                    continue
                for number, line in enumerate(text.splitlines(), start=1):
                    match = _NOQA.search(line)
                    if match and match.group("codes"):
                        codes = {code for code in _codes(match.group("codes")) if code.rstrip("0123456789") in families}
                        if codes - known:
                            found.append((number, codes - known))
            if found:
                yield path, found

    @staticmethod
    def _named_codes(dockerfile) -> Iterator[tuple[int, set[str]]]:
        """(line, the codes it names) of each suppression comment of a Dockerfile."""
        for comment in dockerfile.comments:
            text = comment.text.strip()
            match = _DOCKERLINT_IGNORE.match(text)
            codes = _codes(match.group(2)) if match else set()
            match = _HADOLINT_IGNORE.match(text)
            if match:
                codes = {code for code in _codes(match.group(2)) if code.startswith("DL")}
            if codes:
                yield comment.line, codes

    def _dockerfile(self, path: Path, dockerfile) -> tuple[set[str], list[tuple[int, int, set[str]]]]:
        if path in self._dockerfile_cache:
            return self._dockerfile_cache[path]
        file_codes: set[str] = set()
        pending: list[tuple[int, set[str]]] = []
        stage_pending: list[tuple[int, set[str]]] = []
        for comment in dockerfile.comments:
            text = comment.text.strip()
            match = _DOCKERLINT_IGNORE.match(text)
            if match:
                codes = _codes(match.group(2))
                if match.group(1) == "ignore-file":
                    file_codes |= codes
                else:
                    pending.append((comment.line, codes))
                continue
            match = _HADOLINT_IGNORE.match(text)
            if match:
                codes = {code for code in _codes(match.group(2)) if code.startswith("DL")}
                if match.group(1) and match.group(1).startswith("global"):
                    file_codes |= codes
                elif match.group(1):
                    stage_pending.append((comment.line, codes))
                else:
                    pending.append((comment.line, codes))
        ranges = []
        instructions = sorted(dockerfile.instructions, key=lambda instruction: instruction.span.line)
        starts = [instruction.span.line for instruction in instructions]
        for line, codes in pending:
            index = bisect.bisect_right(starts, line)
            if index < len(instructions):
                instruction = instructions[index]
                between = range(line + 1, instruction.span.line)
                text = dockerfile.text
                if all(not text.line(n).strip() or text.line(n).lstrip().startswith("#") for n in between):
                    ranges.append((instruction.span.line, instruction.span.end_line, codes))
        froms = [instruction.span.line for instruction in instructions if instruction.keyword == "FROM"]
        for line, codes in stage_pending:  # hadolint: only on the line right above a FROM
            if line + 1 in froms:
                following = [start for start in froms if start > line + 1]
                end = following[0] - 1 if following else len(dockerfile.text.line_starts)
                ranges.append((line + 1, end, codes))
        # Most Dockerfiles suppress nothing: they share one empty table.
        tables = (file_codes, ranges) if file_codes or ranges else _NO_SUPPRESSIONS
        self._dockerfile_cache[path] = tables
        return tables
