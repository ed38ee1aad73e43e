"""Requirements across one image: conflicts, duplicates, unpinned packages.

Everything is read from ``model.requested``: the requirements files, constraints,
pyproject dependencies and ``pip install`` arguments that meet in the final image.
Findings about a requirement point at its line in the file that holds it.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from functools import lru_cache
from itertools import islice
from pathlib import Path

from dockerlint.checks import check
from dockerlint.checks.common import external_base, finding, silenced
from dockerlint.findings import Finding, Related, Severity
from dockerlint.model import Image, coupling
from dockerlint.model.distributions import canonical as canonical_name
from dockerlint.model.distributions import lookup, newest_version
from dockerlint.model.image import context_source
from dockerlint.model.installed_records import unwrapped, with_parents
from dockerlint.model.pyenv import shadowed_by_stdlib
from dockerlint.model.requested import Entry, by_name, environments, project_entries, requested

_PIN_OPERATORS = ("==", "===", "~=", "<", "<=")
MAX_LINES_SHOWN = 3  # other places a repeated requirement is listed, named in the message
_LIST_LIMIT = 6


@lru_cache(maxsize=8192)
def _specifier_set(specifier: str):
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(specifier)


def _unsatisfiable(entries: list[Entry]) -> bool:
    combined = _specifier_set(entries[0].specifier)
    for entry in entries[1:]:
        combined = combined & _specifier_set(entry.specifier)
    return combined.is_unsatisfiable()


def _where(image: Image, entry: Entry) -> str:
    """``file:line``, relative to the build context (or the Dockerfile's folder)."""
    for base in (image.context_root, image.dockerfile_path.parent):
        try:
            relative = Path(os.path.relpath(entry.path, base)).as_posix()
        except ValueError:
            continue
        if not relative.startswith("../"):
            return f"{relative}:{entry.span.line}"
    return f"{entry.path.name}:{entry.span.line}"


def _shown(image: Image, entry: Entry) -> str:
    role = " (constraint)" if entry.constraint else ""
    return f"`{entry.text}`{role} at {_where(image, entry)}"


@check("REQ001")
def version_conflict(image: Image) -> Iterator[Finding]:
    for name, entries in by_name(requested(image)).items():
        usable = [entry for entry in entries if entry.applies is True and entry.specifier]
        if len(usable) < 2 or all(entry.constraint for entry in usable) or not _unsatisfiable(usable):
            continue
        # Name the lines that clash pairwise; a clash only the whole set has names them all.
        involved = [
            entry for entry in usable if any(other is not entry and _unsatisfiable([entry, other]) for other in usable)
        ] or usable
        last = involved[-1]
        listed = "; ".join(_shown(image, entry) for entry in involved)
        yield Finding(
            "REQ001",
            last.path,
            last.span,
            f"no version of `{name}` satisfies every requirement installed into this image: {listed}",
            "Make the specifiers agree (usually: change the older pin, or let the lock file decide and "
            "drop the other pin); a constraint (-c) must allow the version the requirements ask for.",
            related=tuple(Related(entry.path, entry.span, f"`{entry.text}` for `{name}`") for entry in involved[:-1]),
        )


@check("REQ001")
def torch_coupling_conflict(image: Image) -> Iterator[Finding]:
    """torchvision, torchaudio and xformers releases each require one torch release: within
    one ``pip install`` (one resolution) a torch pin that none of the allowed releases
    accepts fails the build. Across installs pip replaces torch instead (LAY003)."""
    groups: dict[tuple[int, int, int], list[Entry]] = {}
    for entry in requested(image):
        if entry.applies is True and entry.specifier and coupling.concerns_torch(entry.name):
            groups.setdefault(entry.install, []).append(entry)
    for entries in groups.values():
        torch_entries = [entry for entry in entries if entry.name == coupling.TORCH]
        direct = frozenset(coupling.torch_releases())
        for entry in torch_entries:
            direct &= coupling.torch_matching(entry.specifier)
        if not direct:
            continue  # torch's own lines disagree: the check above reports them
        needs: list[tuple[list[Entry], frozenset[str], tuple]] = []
        for name, named in by_name([entry for entry in entries if entry.name != coupling.TORCH]).items():
            allowed = coupling.torch_allowed(name, ",".join(entry.specifier for entry in named))
            if allowed is not None:
                needs.append((named, *allowed))
        blocking = [need for need in needs if not need[1] & direct]
        if not blocking:
            combined = direct
            for need in needs:
                combined &= need[1]
            if combined or len(needs) < 2:
                continue
            blocking = needs
        involved = torch_entries + [entry for need in blocking for entry in need[0]]
        anchor = torch_entries[-1] if torch_entries and blocking is not needs else involved[-1]
        reasons = " and ".join(_coupling_reason(image, named, rows) for named, _, rows in blocking)
        if torch_entries:
            torch_text = " and ".join(_shown(image, entry) for entry in torch_entries)
            message = f"{torch_text} cannot be installed with {reasons}, so this `pip install` fails"
        else:
            message = f"no torch release satisfies both {reasons}, so this `pip install` fails"
        yield Finding(
            "REQ001",
            anchor.path,
            anchor.span,
            message,
            "Pick versions built for one torch release (the PyTorch install matrix lists them), or pin only "
            "torch and let pip choose the matching torchvision, torchaudio and xformers.",
            related=tuple(
                Related(entry.path, entry.span, f"`{entry.text}`") for entry in involved if entry is not anchor
            ),
        )


def _coupling_reason(image: Image, named: list[Entry], rows: tuple[tuple[str, str], ...]) -> str:
    name = named[0].name
    shown = " and ".join(_shown(image, entry) for entry in named)
    known = [row for row in rows if not row[0].startswith("newer")] or list(rows)
    needs = [f"{release} requires torch{requirement or ' (any)'}" for release, requirement in (known[0], known[-1])]
    if len(known) == 1:
        return f"{shown} ({name} {needs[0]})"
    return f"{shown} (the {name} releases it allows need another torch: {needs[0]}, …, {needs[1]})"


@check("REQ002")
def duplicate_requirement(image: Image) -> Iterator[Finding]:
    for name, entries in by_name(requested(image)).items():
        listed = [entry for entry in entries if entry.kind == "requirements" and not entry.constraint]
        # One finding per first listing that is repeated: at the first repeat, naming the
        # others (a file listing one package 30,000 times is one mistake, not 29,999).
        repeats: dict[int, tuple[Entry, list[Entry]]] = {}
        for index, entry in enumerate(listed):
            # islice, not a slice: a copy of the entries before each one was quadratic (a file
            # listing one package 180,000 times spent a second copying)
            first = next((earlier for earlier in islice(listed, index) if _duplicates(image, earlier, entry)), None)
            if first is not None:
                repeats.setdefault(id(first), (first, []))[1].append(entry)
        for first, again in repeats.values():
            entry, more = again[0], again[1:]
            also = ""
            if more:
                shown = ", ".join(_where(image, other) for other in more[:MAX_LINES_SHOWN])
                rest = f" and {len(more) - MAX_LINES_SHOWN:,} more" if len(more) > MAX_LINES_SHOWN else ""
                also = f" (and again at {shown}{rest})"
            yield Finding(
                "REQ002",
                entry.path,
                entry.span,
                f"`{name}` is listed again for this image: `{entry.text}` here and {_shown(image, first)}{also}",
                "Keep one line per package (in the file the others include), or move shared pins to a "
                "constraints file (-c).",
                related=(
                    Related(first.path, first.span, f"`{first.text}` listed first"),
                    *(Related(other.path, other.span, "listed again") for other in more[:MAX_LINES_SHOWN]),
                ),
            )


def _duplicates(image: Image, first: Entry, second: Entry) -> bool:
    if first.extras != second.extras:
        return False  # adding an extra to a package is how extras are requested
    if first.hashed and second.hashed and first.path != second.path:
        return False  # compiled lock files (pip-compile) overlap by design
    if not (first.applies is True and second.applies is True) and first.marker != second.marker:
        return False  # different markers: at most one may apply
    if first.applies is False:
        return False
    if first.specifier and second.specifier and _unsatisfiable([first, second]):
        return False  # REQ001 reports it
    if first.path != second.path and first.specifier == second.specifier and not _include(image, first, second):
        return False  # two files that stand alone (api.txt, worker.txt), pinned alike, installed together here
    return True


def _include(image: Image, first: Entry, second: Entry) -> bool:
    """Whether one of the two entries' requirements files includes the other's (`-r base.txt`)."""
    workspace = image.workspace
    return any(
        other.path in workspace.requirements(entry.path).files
        for entry, other in ((first, second), (second, first))
        if entry.kind == "requirements" and workspace.is_file(entry.path)
    )


@check("REQ003")
def unpinned_requirement(image: Image) -> Iterator[Finding]:
    """Each unpinned requirement; a file that pins none of at least ``_UNPINNED_FILE``
    entries is one decision (pin them all, or compile a lock), said once for the file."""
    found = [
        (entry, name) for entry, name in _unpinned(image) if not silenced(image, entry.path, entry.span.line, "REQ003")
    ]
    pinned: dict[Path, int] = {}
    for entry in requested(image):
        if entry.kind != "command" and _pins(entry):
            pinned[entry.path] = pinned.get(entry.path, 0) + 1
    by_file: dict[Path, list[tuple[Entry, str]]] = {}
    for entry, name in found:
        by_file.setdefault(entry.path, []).append((entry, name))
    for path, listed in by_file.items():
        count, pins = len(listed), pinned.get(path, 0)
        if count >= _UNPINNED_FILE and count >= _MOSTLY * pins or count >= _MANY_UNPINNED and count > pins:
            yield _unpinned_file(listed, pinned.get(path, 0))
            continue
        for entry, name in listed:
            what = "sets only a lower bound" if ">" in entry.specifier else "sets no version"
            yield Finding(
                "REQ003",
                entry.path,
                entry.span,
                f"`{entry.text}` {what} (no `==`, `~=` or upper bound), so each build of the image "
                f"may install a different `{name}`",
                f"Pin it (`{name}==<version>`), or install from a lock file or constraints file "
                "(`pip-compile`, `uv pip compile`, `pip freeze`).",
            )


_UNPINNED_FILE = 3  # unpinned entries of a file that pins (nearly) nothing: one finding for the file
_MOSTLY = 2  # ... and at least this many unpinned entries for each pinned one: the file's choice is not to pin
_MANY_UNPINNED = 6  # or this many, more than it pins: one decision too (a pyproject of lower bounds and no lock)


def _unpinned_file(listed: list[tuple[Entry, str]], pinned: int = 0) -> Finding:
    first = listed[0][0]
    shown = ", ".join(f"`{name}`" for _, name in listed[:5]) + (
        f" and {len(listed) - 5} more" if len(listed) > 5 else ""
    )
    if pinned:
        bounds = " or only a lower bound" if any(">" in entry.specifier for entry, _ in listed) else ""
        what = f"{len(listed)} of the {len(listed) + pinned} requirements of {first.path.name} set no version{bounds}"
        whom = "them"
    else:
        what = f"none of the {len(listed)} requirements of {first.path.name} sets a version"
        whom = "all of them"
    return Finding(
        "REQ003",
        first.path,
        first.span,
        f"{what} ({shown}; no `==`, `~=` or "
        f"upper bound), so each build of the image may install different releases of {whom}",
        "Compile a lock file from them (`pip-compile`, `uv pip compile`, or `pip freeze` of a working image) "
        "and install from it, or pin each (`name==<version>`).",
        related=tuple(Related(entry.path, entry.span, f"`{name}` is unpinned too") for entry, name in listed[1:]),
        also_lines=tuple(entry.span.line for entry, _ in listed[1:] if entry.path == first.path),
    )


def _unpinned(image: Image) -> Iterator[tuple[Entry, str]]:
    """The first unpinned listing of each package nothing installed into the image pins."""
    pinned_by_variable = _pinned_by_variable(image)
    for name, entries in by_name(requested(image)).items():
        if any(_pins(entry) for entry in entries if entry.applies is not False) or name in pinned_by_variable:
            continue
        for entry in entries:
            if entry.kind == "command" or entry.constraint or entry.applies is False:
                continue  # arguments of `pip install` are DL3013's, constraints install nothing
            if "${" in entry.text:
                continue  # the version comes from the environment at build time
            if _kept_from_base(image, entry):
                break  # the base ships it (pytorch/pytorch:2.5.1's torch, apache/airflow's pandas): pip keeps that
            if shadowed_by_stdlib(image, lookup(name).modules):
                break  # `asyncio`, `pathlib`: a backport the standard library shadows, to delete (DEP001), not pin
            # Once per name: pinning this line pins the package, later listings are REQ002's.
            yield entry, name
            break


def _kept_from_base(image: Image, entry: Entry) -> bool:
    """Whether the base image of the stage that installs ``entry`` ships a release of it the
    entry allows, and the install does not upgrade: pip keeps what the base has, a version
    the image's tag pins (pytorch/pytorch:2.5.1's torch; what apache/airflow:2.9.3 installs
    under Airflow's constraints, for an entry with no version)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import Version

    from dockerlint.model.baseimage import base_image, shipped_distributions

    if entry.url:
        return False
    stage_index, step_index, _ = entry.install
    stage = image.stages[stage_index]
    base = base_image(external_base(image, stage)[0])
    if base is None:
        return False
    step = stage.steps[step_index]
    if any(install.family == "pip" and install.has("--upgrade", "-U") for install in step.installs):
        return False
    if entry.name == "torch" and base.torch_version is not None:
        try:
            return Version(".".join(map(str, base.torch_version))) in SpecifierSet(entry.specifier)
        except InvalidSpecifier:
            return False
    if entry.name in base.companions and base.torch_version is not None:
        from dockerlint.model.coupling import release_for_torch

        release = release_for_torch(entry.name, ".".join(map(str, base.torch_version)))
        try:
            return release is not None and Version(release) in SpecifierSet(entry.specifier)
        except InvalidSpecifier:
            return False
    return not entry.specifier and entry.name in shipped_distributions(base.ships)


# A `pip install` argument pinned to a build variable: `apache-airflow==${AIRFLOW_VERSION}`.
_VARIABLE_PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*\$\{?[A-Za-z_]\w*\}?")


def _pinned_by_variable(image: Image) -> set[str]:
    """Names a ``pip install`` of the image pins to a variable the build sets (the
    apache/airflow base image sets AIRFLOW_VERSION): pinned, to a version only the build
    knows, which also pins the same name in the requirements files that command installs."""
    names = set()
    for stage in image.stages:
        if not stage.reachable:
            continue
        for step in stage.runs():
            for install in step.installs:
                if install.family == "pip":
                    names.update(
                        canonical_name(match.group(1))
                        for argument in install.packages
                        if (match := _VARIABLE_PIN.fullmatch(argument.value))
                    )
    return names


def _pins(entry: Entry) -> bool:
    if entry.url is not None:
        return True  # a direct URL names one artifact
    return any(clause.operator in _PIN_OPERATORS for clause in _specifier_set(entry.specifier))


@check("REQ004")
def missing_requirements_file(image: Image) -> Iterator[Finding]:
    """``pip install -r FILE`` where FILE comes from the build context, which does not hold
    it, and no RUN of the build writes it (``pip-compile``, ``poetry export``)."""
    written: dict[str, bool] = {}  # a hostile line names one file thousands of times
    for stage in image.stages:
        if not stage.reachable:
            continue
        for step in stage.runs():
            for install in step.installs:
                if install.family != "pip":
                    continue
                for ref in install.requirements:
                    path = ref.context_path
                    if path is not None and path.name == "pyproject.toml" and install.tool != "uv":
                        if os.path.isfile(path):
                            yield _pip_reads_pyproject(image, ref)
                        continue
                    if (
                        path is None
                        or os.path.exists(path)
                        or path in image.script_outputs  # a script exports it before the build
                        or _written_in_build(image, posixpath.basename(ref.image_path), written)
                    ):
                        continue
                    try:
                        relative = path.relative_to(image.context_root).as_posix()
                    except ValueError:
                        continue
                    option = "-c" if ref.constraint else "-r"
                    yield finding(
                        image,
                        "REQ004",
                        ref.span,
                        f"`{option} {posixpath.basename(ref.image_path)}`: the build context has no `{relative}`, "
                        "so this `pip install` fails",
                        "Correct the file name, or add the file to the repository (and copy it before the install).",
                    )


@check("REQ005")
def invalid_requirement_argument(image: Image) -> Iterator[Finding]:
    """A requirement on a ``pip install`` command line that pip cannot read
    (``fastapi=0.115.12``): pip stops before installing anything and the RUN fails, as
    for a bad line of a requirements file (which the parser reports)."""
    from dockerlint.parse.requirements import requirement_problem

    for stage in image.stages:
        if not stage.reachable:
            continue
        for step in stage.runs():
            for install in step.installs:
                if install.family != "pip" or install.action not in ("install", "download", "wheel"):
                    continue
                for argument in install.packages:
                    problem = requirement_problem(argument.value)
                    if problem is not None:
                        yield finding(
                            image,
                            "REQ005",
                            argument.span,
                            f"`{argument.value}`: {problem}: `{install.invocation}` stops and the RUN fails",
                            "Write the requirement as pip reads it (`name==1.2.3`, `name>=1,<2`), quoted in the "
                            "shell when it holds `<`, `>` or spaces.",
                        )


def _pip_reads_pyproject(image: Image, ref) -> Finding:
    """pip reads any ``-r`` file as a requirements file: a pyproject.toml stops it at its
    first table header. uv reads the project's dependencies from it."""
    option = "-c" if ref.constraint else "-r"
    return finding(
        image,
        "REQ004",
        ref.span,
        f"`{option} {posixpath.basename(ref.image_path)}`: pip reads it as a requirements file and stops at its "
        "first table (`[project]` is no requirement), so this `pip install` fails",
        "Install the project's dependencies with uv (`uv pip install -r pyproject.toml`), or install the "
        "project itself (`pip install .`), or export a requirements file from it.",
    )


def _written_in_build(image: Image, name: str, known: dict[str, bool]) -> bool:
    """Whether a RUN may write a file of this name: named anywhere but as the one ``-r`` value
    (each name asked once per image: ``known``)."""
    if name not in known:
        mentions = sum(step.instruction.args.count(name) for stage in image.stages for step in stage.runs())
        known[name] = mentions > 1
    return known[name]


# -- REQ006, REQ007 ------------------------------------------------------------------------------


@check("REQ006")
def foreign_requirement(image: Image) -> Iterator[Finding]:
    """Lines frozen in another environment: a conda build folder (``pkg @ file:///…``) or a
    Windows-only distribution without a platform marker. One finding per file and cause."""
    from dockerlint.knowledge import load

    if image.final is None or any(dict(env)["sys_platform"] == "win32" for env in environments(image, image.final)):
        return
    table = load("requirements")
    windows = {canonical_name(item["name"]): item["why"] for item in table["windows_only"]}
    conda: dict[tuple, list[Entry]] = {}
    foreign: dict[tuple, list[Entry]] = {}
    for entry in requested(image):
        if entry.applies is not True or entry.constraint:
            continue
        group = (entry.path, entry.install if entry.kind == "command" else None)
        if entry.url and _build_folder(entry.url, table["conda_build_paths"]):
            conda.setdefault(group, []).append(entry)
        elif entry.name in windows:
            foreign.setdefault(group, []).append(entry)
    for entries in conda.values():
        first = entries[0]
        more = f"; {len(entries) - 1} more line{'s' if len(entries) > 2 else ''} like it ({_lines(entries[1:])})"
        yield Finding(
            "REQ006",
            first.path,
            first.span,
            f"`{_short(first.text)}` points at a folder on the machine where conda built the package "
            f"(`pip freeze` in a conda environment writes these), so `pip install` fails here: no such "
            f"file{more if len(entries) > 1 else ''}",
            "Write versions instead of conda's paths: `pip list --format=freeze > requirements.txt` in that "
            "environment, or pin by hand (`numpy==1.26.4`).",
            related=tuple(
                Related(entry.path, entry.span, f"`{entry.name}` from a conda build") for entry in entries[1:]
            ),
        )
    for entries in foreign.values():
        first = entries[0]
        listed = "; ".join(f"`{entry.text}` ({windows[entry.name]})" for entry in entries)
        yield Finding(
            "REQ006",
            first.path,
            first.span,
            f"Windows-only: {listed}; pip finds nothing it can install on this Linux image, so the build fails",
            'Drop the line, or keep it for Windows only with a marker: `pywin32==306 ; sys_platform == "win32"`.',
            related=tuple(Related(entry.path, entry.span, f"`{entry.name}` is Windows-only") for entry in entries[1:]),
        )


def _build_folder(url: str, table: dict) -> bool:
    if not url.lower().startswith("file:"):
        return False
    path = url[len("file:") :].lstrip("/")
    path = "/" + path.replace("\\", "/")
    if re.match(r"^/[A-Za-z]:/", path):
        return True  # a Windows drive
    return any(part in path for part in table["contains"]) or path.startswith(tuple(table["foreign_prefixes"]))


def _lines(entries: list[Entry]) -> str:
    lines = [str(entry.span.line) for entry in entries]
    return "lines " + ", ".join(lines[:_LIST_LIMIT]) + (", …" if len(lines) > _LIST_LIMIT else "")


def _short(text: str) -> str:
    return text if len(text) <= 90 else text[:89] + "…"


@check("REQ007")
def same_package_twice(image: Image) -> Iterator[Finding]:
    """Several distributions of one top-level package (opencv-python and
    opencv-python-headless both install ``cv2``) installed into one image."""
    from dockerlint.knowledge import load
    from dockerlint.model.distributions import lookup

    entries = [
        entry
        for entry in (*requested(image), *project_entries(image))  # `uv sync`/`poetry install` install them too
        if entry.applies is True and not entry.constraint
    ]
    for group in load("requirements")["same_package"]:
        members = set(group["distributions"])
        found: dict[str, tuple[Entry, str | None]] = {}
        for entry in entries:
            if entry.name in members:
                found.setdefault(entry.name, (entry, None))
            elif not entry.no_deps:  # `pip install ultralytics --no-deps`: its opencv-python is not installed
                for needed in sorted(lookup(entry.name).needs(entry.extras, loads=False) & members):
                    found.setdefault(needed, (entry, entry.name))
        if len(found) < 2:
            continue
        ordered = sorted(found.items(), key=lambda item: _order(entries, item[1][0]))
        last_entry = ordered[-1][1][0]
        shown = "; ".join(
            f"`{name}` ({'required by ' if via else ''}{_shown(image, entry)})" for name, (entry, via) in ordered
        )
        yield Finding(
            "REQ007",
            last_entry.path,
            last_entry.span,
            f"{len(ordered)} distributions of `{group['package']}` are installed into this image: {shown}. Each "
            f"writes its own `{group['package']}` over the other's, so which build the code imports depends on "
            "install order, and removing one breaks the other",
            group.get("keep", "Keep the one the code is written for")
            + "; when a dependency pulls another one, uninstall it after the install "
            "(`pip uninstall -y …`) or install it with `--no-deps` and its other requirements by hand.",
            related=tuple(
                Related(entry.path, entry.span, f"`{name}`") for name, (entry, _) in ordered if entry is not last_entry
            ),
        )


def _order(entries: list[Entry], entry: Entry) -> int:
    return next(index for index, other in enumerate(entries) if other is entry)


# A requirement and a redirection written against it: `torch>=2.1` unquoted is `torch`, then
# `>` to a file named `=2.1`; `numpy<2` reads its input from a file named `2`.
_UNQUOTED_COMPARISON = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?)(?P<redirect>>>?|<)(?P<rest>=?\s*\d.*)"
)


@check("REQ008")
def unquoted_version_comparison(image: Image) -> Iterator[Finding]:
    for stage in image.stages:
        if not stage.reachable:
            continue
        for step in stage.runs():
            for install in step.installs:
                if install.family == "pip" and install.action == "install":
                    yield from _unquoted_comparisons(image, install)


def _unquoted_comparisons(image: Image, install) -> Iterator[Finding]:
    """One finding per command: its unquoted comparisons are one mistake, fixed at once."""
    found = [
        (text, match)
        for text in install.command.command.glued
        if (match := _UNQUOTED_COMPARISON.fullmatch(text)) is not None
    ]
    if len(found) > 1:
        shown = ", ".join(f"`{text}`" for text, _ in found[:5]) + (
            f" and {len(found) - 5} more" if len(found) > 5 else ""
        )
        reads = any(match["redirect"] == "<" for _, match in found)
        effect = (
            "reads its input from a file named after one of them, which fails the install"
            if reads
            else "writes pip's output to files named after the versions, and pip installs each package at any version"
        )
        yield finding(
            image,
            "REQ008",
            install.span,
            f"{len(found)} requirements are not quoted ({shown}): the shell takes each `>` or `<` and what follows "
            f"as a redirection, so this command {effect}",
            'Quote each requirement: `pip install "name>=1.2"`.',
        )
        return
    for text, match in found:
        name, redirect, rest = match["name"], match["redirect"], match["rest"].strip()
        if redirect == "<":
            effect = f"reads its input from a file named `{rest}`, which fails the install"
        else:
            effect = f"writes pip's output to a file named `{rest}`, and pip installs `{name}` at any version"
        yield finding(
            image,
            "REQ008",
            install.span,
            f"`{text}` is not quoted: the shell takes `{redirect}{rest}` as a redirection, so this command {effect}",
            f'Quote the requirement: `pip install "{text}"`.',
        )


# -- REQ009 ----------------------------------------------------------------------------------


@check("REQ009")
def removed_tool_command(image: Image) -> Iterator[Finding]:
    """A command or option that the release of a tool the image installs no longer has
    (knowledge/tool_removals.toml): only where the image installs the tool itself and that
    install takes the newest release (unpinned, or a range that allows it), or pins one past
    the removal. A tool the base image brings is of unknown release: never reported."""
    from dockerlint.knowledge import load

    removals = load("tool_removals")["removals"]
    tools = {removal["tool"] for removal in removals}
    for stage in image.stages:
        if not stage.reachable:
            continue
        for step in stage.runs():
            for command in step.commands:
                argv, _ = unwrapped(command.argv, step.env)
                tool = posixpath.basename(argv[0]) if argv else ""
                if tool not in tools:
                    continue
                words = [word for word in argv[1:] if not word.startswith("-")]
                for removal in removals:
                    if removal["tool"] != tool or words[:1] != [removal["command"]]:
                        continue
                    if "option" in removal and removal["option"] not in argv:
                        continue
                    before = list(_commands_before(image, stage, step, command))
                    installed = _tool_release(before, tool)
                    if installed is None or not _at_or_past(installed, removal["release"], tool):
                        continue
                    if installed == NEWEST and not _pythons_at_least(image, stage, removal["python"]):
                        continue  # on an older Python (or one not known) pip takes an older release
                    if "plugin" in removal and _names(before, removal["plugin"]):
                        continue
                    shown = "at its newest release" if installed == NEWEST else installed
                    yield finding(
                        image,
                        "REQ009",
                        command.span,
                        f"{removal['said']}; this image installs {tool} {shown}, so the build stops here",
                        removal["fix"],
                    )


NEWEST = "newest"  # an install that takes whatever release is newest


def _commands_before(image: Image, stage, step, command):
    """(step, command) of the stage and the stages it is built on that run before ``command``."""
    for member in reversed(with_parents(image, stage)):
        for done in member.steps:
            for earlier in done.commands:
                if member is stage and (done.index, earlier.command.start) >= (step.index, command.command.start):
                    return
                yield done, earlier


def _tool_release(before, tool: str) -> str | None:
    """The release of ``tool`` that the last install of it in ``before`` puts in the image:
    its exact pin, NEWEST when nothing keeps it from the newest, None when no install of it
    is seen or its range leaves the release open."""
    found = None
    for done, earlier in before:
        argv, env = unwrapped(earlier.argv, done.env)
        installs = [install for install in done.installs if install.command == earlier]
        words = [
            argument.value
            for install in installs
            if install.family == "pip" and install.action == "install"
            for argument in install.packages
        ]
        if argv[:2] == ("pipx", "install"):
            words += [word for word in argv[2:] if not word.startswith("-")]
        for word in words:
            release = _release_asked(word, tool)
            if release is not False:
                found = release
        if tool == "poetry" and "install.python-poetry.org" in " ".join(earlier.argv):
            found = env.get("POETRY_VERSION") or NEWEST  # the official installer reads POETRY_VERSION
    return found


def _release_asked(requirement: str, tool: str) -> str | None | bool:
    """What a requirement of ``tool`` asks for (see _tool_release); False: another package."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        parsed = Requirement(requirement)
    except InvalidRequirement:
        return False
    if canonical_name(parsed.name) != tool:
        return False
    pins = [spec.version for spec in parsed.specifier if spec.operator in ("==", "===") and "*" not in spec.version]
    if pins:
        return pins[0]
    if not parsed.specifier:
        return NEWEST
    newest = newest_version(tool)
    return NEWEST if newest is not None and parsed.specifier.contains(newest, prereleases=True) else None


def _pythons_at_least(image: Image, stage, lowest: str) -> bool:
    """Whether every Python the stage may run is known and at least ``lowest``."""
    wanted = tuple(int(part) for part in lowest.split("."))
    pythons = {dict(env)["python_version"] for env in environments(image, stage)}
    try:
        return bool(pythons) and all(tuple(int(part) for part in python.split(".")[:2]) >= wanted for python in pythons)
    except ValueError:
        return False


def _at_or_past(installed: str, release: str, tool: str) -> bool:
    from packaging.version import InvalidVersion, Version

    if installed == NEWEST:
        installed = newest_version(tool) or ""
    try:
        return Version(installed) >= Version(release)
    except InvalidVersion:
        return False


def _names(before, package: str) -> bool:
    """Whether a command in ``before`` names the package (`pip install poetry-plugin-export`,
    `poetry self add poetry-plugin-export`, `pipx inject poetry poetry-plugin-export`)."""
    wanted = canonical_name(package)
    return any(
        canonical_name(re.split(r"[\[<>=!~;@ ]", word, maxsplit=1)[0]) == wanted
        for _, earlier in before
        for word in earlier.argv[1:]
        if word and not word.startswith("-")
    )


# -- REQ010 ------------------------------------------------------------------------------------


def _locked_in_build(stage, step, tool: str) -> int | None:
    """The line of a `uv lock` / `poetry lock` / `pdm lock` the stage runs before ``step``
    (or in it), or None."""
    for earlier in stage.runs():
        if earlier.index > step.index:
            break
        for command in earlier.commands:
            if command.name == tool and [word for word in command.argv[1:] if not word.startswith("-")][:1] == ["lock"]:
                return earlier.instruction.span.line
    return None


_LOCK_INSTALL = {  # how to install from each lock that sits beside a pyproject.toml
    "uv.lock": "`uv sync --frozen` (or `uv export --frozen -o requirements.txt` and install that)",
    "poetry.lock": "`poetry install` (or `poetry export -o requirements.txt` and install that)",
    "pdm.lock": "`pdm install --frozen-lockfile` (or `pdm export -o requirements.txt` and install that)",
}


def _pip_ignores_lock(image: Image, stage, step) -> Iterator[Finding]:
    """A `pip install .` / `uv pip install -r pyproject.toml` of a project whose lock file the
    repository commits: pip (and uv's pip interface) read the ranges of pyproject.toml and
    never the lock, so each build resolves the dependencies again."""
    from dockerlint.model.installed_pip import local_project
    from dockerlint.model.installed_projects import PYPROJECT_LOCKS

    earlier_files = any(
        ref.context_path is None or ref.context_path.name != "pyproject.toml"
        for other in stage.runs()
        if other.index < step.index
        for install in other.installs
        if install.family == "pip"
        for ref in install.requirements
    )
    for install in step.installs:
        if install.family != "pip" or install.action != "install" or install.has("--no-deps"):
            continue  # `--no-deps`: the dependencies come from elsewhere (an exported lock)
        if earlier_files:
            continue  # a requirements file installed first (`poetry export` of the lock) may pin them
        projects = [
            (ref.context_path.parent, ref.span)
            for ref in install.requirements
            if ref.context_path is not None and ref.context_path.name == "pyproject.toml" and not ref.constraint
        ]
        for argument in (*install.packages, *install.editables):
            folder = local_project(image, stage, step, argument.value)
            if folder is not None:
                projects.append((folder, argument.span))
        for folder, span in projects:
            lock = next((name for name in PYPROJECT_LOCKS if os.path.isfile(folder / name)), None)
            if lock is None or not os.path.isfile(folder / "pyproject.toml"):
                continue
            committed = folder / lock
            shown = (
                committed.relative_to(image.context_root).as_posix()
                if committed.is_relative_to(image.context_root)
                else lock
            )
            yield Finding(
                "REQ010",
                image.dockerfile_path,
                span,
                f"`{install.invocation}` reads the version ranges of pyproject.toml, not `{shown}`, which the "
                "repository commits: each build resolves the dependencies again and may install other versions "
                "than the lock pins",
                f"Install from the lock: {_LOCK_INSTALL[lock]}.",
                severity=Severity.WARNING,
            )


@check("REQ010")
def lock_file_left_out(image: Image) -> Iterator[Finding]:
    """A `uv sync`, `poetry install` or `pdm install` whose project the repository locks
    (uv.lock, poetry.lock, pdm.lock beside its pyproject.toml), run where the image does not
    hold that lock: the installer resolves the dependencies again instead of installing what
    the lock pins. With `--frozen`/`--locked` uv stops instead."""
    from dockerlint.model.installed_projects import LOCK_FILES, project_installs
    from dockerlint.model.ml import install_stages

    for stage in install_stages(image):
        for step in stage.runs():
            yield from _pip_ignores_lock(image, stage, step)
            for project in project_installs(image, stage, step):
                lock = LOCK_FILES.get(project.tool)
                if project.tool == "pipenv" or lock is None or project.pyproject is None or project.command is None:
                    continue
                committed = project.pyproject.parent / lock
                if not os.path.isfile(committed):
                    continue  # nothing locked: REQ003's concern, not this one
                held = context_source(image, stage, posixpath.join(project.folder, lock), step.index)
                if held is not None:
                    continue
                shown = (
                    committed.relative_to(image.context_root).as_posix()
                    if committed.is_relative_to(image.context_root)
                    else lock
                )
                command = f"{project.tool} {'sync' if project.tool == 'uv' else 'install'}"
                relocked = _locked_in_build(stage, step, project.tool)
                stops = project.tool == "uv" and not relocked and ({"--frozen", "--locked"} & set(project.options))
                if relocked is not None:
                    message = (
                        f"`{command}` installs from the lock the build makes again (`{project.tool} lock` at line "
                        f"{relocked}), not from `{shown}`, which the repository commits: each build resolves the "
                        "dependencies anew and may install other versions than the lock pins"
                    )
                elif stops:
                    message = (
                        f"`{command}` asks for the lock file (`{' '.join(sorted(stops))}`), but the image does not "
                        f"hold `{shown}` at this step (no COPY brought it to `{project.folder}`): the build stops"
                    )
                else:
                    message = (
                        f"`{command}` runs without `{shown}`, which the repository commits: no COPY brought it to "
                        f"`{project.folder}` before this step, so each build resolves the dependencies again and may "
                        "install other versions than the lock pins"
                    )
                yield Finding(
                    "REQ010",
                    image.dockerfile_path,
                    project.command.span,
                    message,
                    f"Copy the lock file with the manifest before the install (`COPY pyproject.toml {lock} ./`)"
                    + ("" if stops or project.tool != "uv" else " and install from it (`uv sync --frozen`)")
                    + ".",
                    severity=None if stops else Severity.WARNING,  # the rule is an error where uv stops
                )
