"""LABEL: DL3048 label keys, and the rules of a configured label schema
(``label-schema`` and ``strict-labels``, or hadolint's own configuration): DL3049
missing, DL3050 not in the schema, DL3051 empty, and values that are not a valid URL
(DL3052), RFC 3339 time (DL3053), SPDX license (DL3054), git hash (DL3055), semantic
version (DL3056) or e-mail address (DL3058)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache

from dockerlint.checks import check
from dockerlint.checks.common import finding
from dockerlint.checks.dl.common import instructions
from dockerlint.findings import Finding
from dockerlint.knowledge import load
from dockerlint.model import Image, StageModel, Step
from dockerlint.model.image import keyed_values


def _labels(image: Image) -> Iterator[tuple[Step, list[tuple[str, str]]]]:
    for _stage, step in instructions(image, "LABEL"):
        yield step, [(name, value or "") for name, value in keyed_values(step.instruction)]


def _schema(image: Image) -> dict[str, str]:
    return dict(image.settings.get("label-schema") or {})


# -- keys --------------------------------------------------------------------------------------

_KEY = re.compile(r"[a-z](?:[a-z0-9._/-]*[a-z0-9])?")
_RESERVED = ("com.docker.", "io.docker.", "org.dockerproject.")


def _bad_key(key: str) -> bool:
    return not _KEY.fullmatch(key) or key.startswith(_RESERVED) or ".." in key or "--" in key


@check("DL3048")
def label_key(image: Image) -> Iterator[Finding]:
    for step, pairs in _labels(image):
        bad = [name for name, _ in pairs if _bad_key(name)]
        if bad:
            yield finding(
                image,
                "DL3048",
                step.instruction.span,
                f"the label key `{bad[0]}` does not follow Docker's key format",
                "Use lower-case letters, digits, `.`, `-` and `/`, starting with a letter, in reverse-DNS "
                "style (`org.opencontainers.image.source`); `com.docker.`, `io.docker.` and "
                "`org.dockerproject.` are reserved.",
            )


# -- the schema: present, known, not empty -----------------------------------------------------


@check("DL3049")
def label_missing(image: Image) -> Iterator[Finding]:
    for label in _schema(image):
        for stage in _stages_missing(image, label):
            yield finding(
                image,
                "DL3049",
                stage.from_instruction.span,
                f"the label `{label}` required by the label schema is missing in {stage.label}",
                f'Add `LABEL {label}="..."` to the stage (or to a stage it is built FROM).',
            )


def _stages_missing(image: Image, label: str) -> list[StageModel]:
    """Stages without the label, as hadolint decides: a stage has it when it or a stage
    it is built FROM sets it; a stage another stage copies from is left alone, and so is
    the stage a later unnamed stage builds on and labels."""
    good: set[int] = set()
    bad: list[StageModel] = []
    for stage in image.stages:
        if stage.parent is not None and stage.parent in good:
            good.add(stage.index)
        else:
            bad.append(stage)
        for step in stage.steps:
            if step.keyword == "COPY":
                source = step.instruction.flag("from")
                if source is not None and source.value:
                    bad = [other for other in bad if other.name is None or other.name != source.value.lower()]
            elif step.keyword == "LABEL" and label in (name for name, _ in keyed_values(step.instruction)):
                if stage.name is None and stage.parent is not None:
                    bad = [other for other in bad if other.index != stage.parent]
                good.add(stage.index)
                bad = [other for other in bad if other is not stage]
    return bad


@check("DL3050")
def label_not_in_schema(image: Image) -> Iterator[Finding]:
    schema = _schema(image)
    if not image.settings.get("strict-labels"):
        return
    for step, pairs in _labels(image):
        extra = [name for name, _ in pairs if name not in schema]
        if extra:
            yield finding(
                image,
                "DL3050",
                step.instruction.span,
                f"the label `{extra[0]}` is not in the label schema, and `strict-labels` allows no others",
                "Remove the label, or add it to `label-schema`.",
            )


@check("DL3051")
def label_empty(image: Image) -> Iterator[Finding]:
    schema = _schema(image)
    for step, pairs in _labels(image):
        for name, value in pairs:
            if name in schema and not value:
                yield finding(
                    image,
                    "DL3051",
                    step.instruction.span,
                    f"the label `{name}` required by the label schema is empty",
                    f'Give `{name}` a value (`LABEL {name}="..."`).',
                )


# -- the schema: values of a type -------------------------------------------------------------

_URI_CHARS = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*(?:#(?:[A-Za-z0-9\-._~:/?@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)?"
)
_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:[Zz]|[+-](\d\d):?(\d\d))")
_SEMVER = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?")
_GIT_HASH = re.compile(r"[0-9a-f]{7}|[0-9a-f]{40}")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf'(?:{_ATOM}(?:\.{_ATOM})*|"(?:[^"\\\r\n]|\\.)*")@(?:{_LABEL}(?:\.{_LABEL})*|\[[^\[\]\\\s]*\])')


def _valid_rfc3339(value: str) -> bool:
    match = _RFC3339.fullmatch(value)
    if not match:
        return False
    import calendar

    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        return False
    if hour > 23 or minute > 59 or second > 60:
        return False
    offset_hour, offset_minute = match.group(7), match.group(8)
    return offset_hour is None or (int(offset_hour) < 24 and int(offset_minute) < 60)


@cache
def _deprecated_licenses() -> frozenset[str]:
    return frozenset(load("hadolint")["spdx"]["deprecated"])


def _valid_spdx(value: str) -> bool:
    """One SPDX license identifier, spelled as the SPDX list spells it, not deprecated
    (an expression such as ``MIT OR Apache-2.0`` is not one identifier)."""
    from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

    value = value.strip()
    if not value or any(char in value for char in " ()+") or value.startswith(("LicenseRef-", "DocumentRef-")):
        return False
    try:
        canonical = canonicalize_license_expression(value)
    except InvalidLicenseExpression:
        return False
    return canonical == value and value not in _deprecated_licenses()


_TYPES: dict[str, tuple[str, str, Callable[[str], bool]]] = {
    "url": ("DL3052", "a valid URL", lambda value: bool(_URI_CHARS.fullmatch(value))),
    "rfc3339": ("DL3053", "an RFC 3339 time (`2024-05-01T12:00:00Z`)", _valid_rfc3339),
    "spdx": ("DL3054", "an SPDX license identifier (`Apache-2.0`)", _valid_spdx),
    "hash": (
        "DL3055",
        "a git commit hash (7 or 40 lower-case hex digits)",
        lambda value: bool(_GIT_HASH.fullmatch(value)),
    ),
    "semver": ("DL3056", "a semantic version (`1.4.2`)", lambda value: bool(_SEMVER.fullmatch(value))),
    "email": ("DL3058", "an e-mail address", lambda value: bool(_EMAIL.fullmatch(value))),
}


def _typed(image: Image, kind: str) -> Iterator[Finding]:
    code, what, valid = _TYPES[kind]
    names = {name for name, label_type in _schema(image).items() if label_type == kind}
    if not names:
        return
    for step, pairs in _labels(image):
        for name, value in pairs:
            if name in names and not valid(value):
                yield finding(
                    image,
                    code,
                    step.instruction.span,
                    f"the label `{name}` is `{value}`, which is not {what} as the label schema requires",
                    f"Set `{name}` to {what}.",
                )


@check("DL3052")
def label_url(image: Image) -> Iterator[Finding]:
    yield from _typed(image, "url")


@check("DL3053")
def label_rfc3339(image: Image) -> Iterator[Finding]:
    yield from _typed(image, "rfc3339")


@check("DL3054")
def label_spdx(image: Image) -> Iterator[Finding]:
    yield from _typed(image, "spdx")


@check("DL3055")
def label_git_hash(image: Image) -> Iterator[Finding]:
    yield from _typed(image, "hash")


@check("DL3056")
def label_semver(image: Image) -> Iterator[Finding]:
    yield from _typed(image, "semver")


@check("DL3058")
def label_email(image: Image) -> Iterator[Finding]:
    yield from _typed(image, "email")
