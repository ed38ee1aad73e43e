"""Requirements across one image: conflicts, duplicates, unpinned packages.

Everything is read from ``model.requested``: the requirements files, constraints,
pyproject dependencies and ``pip install`` arguments that meet in the final image.
Findings about a requirement point at its line in the file that holds it.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from dockerlint.checks import check
from dockerlint.checks.common import finding
from dockerlint.findings import Finding, Related
from dockerlint.model import Image, coupling
from dockerlint.model.requested import Entry, by_name, requested

_PIN_OPERATORS = ("==", "===", "~=", "<", "<=")
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
        if entry.applies is True and entry.specifier and (entry.name == coupling.TORCH or coupling.coupled(entry.name)):
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
        for index, entry in enumerate(listed):
            first = next((earlier for earlier in listed[:index] if _duplicates(earlier, entry)), None)
            if first is None:
                continue
            yield Finding(
                "REQ002",
                entry.path,
                entry.span,
                f"`{name}` is listed again for this image: `{entry.text}` here and {_shown(image, first)}",
                "Keep one line per package (in the file the others include), or move shared pins to a "
                "constraints file (-c).",
                related=(Related(first.path, first.span, f"`{first.text}` listed first"),),
            )


def _duplicates(first: Entry, second: Entry) -> bool:
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
    return True


@check("REQ003")
def unpinned_requirement(image: Image) -> Iterator[Finding]:
    for name, entries in by_name(requested(image)).items():
        if any(_pins(entry) for entry in entries if entry.applies is not False):
            continue
        for entry in entries:
            if entry.kind == "command" or entry.constraint or entry.applies is False:
                continue  # arguments of `pip install` are DL3013's, constraints install nothing
            if "${" in entry.text:
                continue  # the version comes from the environment at build time
            yield Finding(
                "REQ003",
                entry.path,
                entry.span,
                f"`{entry.text}` sets no version (no `==`, `~=` or upper bound), so each build of the image "
                f"may install a different `{name}`",
                f"Pin it (`{name}==<version>`), or install from a lock file or constraints file "
                "(`pip-compile`, `uv pip compile`, `pip freeze`).",
            )


def _pins(entry: Entry) -> bool:
    if entry.url is not None:
        return True  # a direct URL names one artifact
    return any(clause.operator in _PIN_OPERATORS for clause in _specifier_set(entry.specifier))


@check("REQ004")
def missing_requirements_file(image: Image) -> Iterator[Finding]:
    """``pip install -r FILE`` where FILE comes from the build context, which does not hold
    it, and no RUN of the build writes it (``pip-compile``, ``poetry export``)."""
    for stage in image.stages:
        if not stage.reachable:
            continue
        for step in stage.runs():
            for install in step.installs:
                if install.family != "pip":
                    continue
                for ref in install.requirements:
                    path = ref.context_path
                    if path is None or path.exists() or _written_in_build(image, posixpath.basename(ref.image_path)):
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


def _written_in_build(image: Image, name: str) -> bool:
    """Whether a RUN may write a file of this name: named anywhere but as the one ``-r`` value."""
    mentions = sum(step.instruction.args.count(name) for stage in image.stages for step in stage.runs())
    return mentions > 1
