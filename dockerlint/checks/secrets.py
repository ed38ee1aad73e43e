"""SEC002: secrets that end up in the image, as files or as ARG/ENV values.

Messages name the file or the variable, never the value.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from functools import cache

from dockerlint.checks import check
from dockerlint.checks.common import final_chain, finding
from dockerlint.findings import Finding
from dockerlint.knowledge import load
from dockerlint.model import Image
from dockerlint.model.buildcontext import context_copies, is_remote
from dockerlint.parse.dockerfile import Instruction

_SHOWN = 5
_KEY_SNIFF = 65536  # a PEM header sits at the top of the file
# NAME=value (value quoted or not), as ENV and ARG write it.
_PAIR = re.compile(r"""(?<!\S)([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)""")
_SWITCHES = frozenset({"", "0", "1", "true", "false", "yes", "no", "on", "off", "none", "null"})


@check("SEC002")
def secret_in_image(image: Image) -> Iterator[Finding]:
    stages = final_chain(image)
    yield from _secret_files(image, stages)
    for stage in stages:
        for step in stage.steps:
            if step.keyword in ("ENV", "ARG"):
                yield from _secret_values(image, step.instruction)


def _secret_files(image: Image, stages) -> Iterator[Finding]:
    context = image.context
    for _, copy in context_copies(image, stages):
        if copy.mount_only:
            continue
        for source in copy.sources:
            if is_remote(source.value):
                continue
            secrets = [file.path for file in context.glob(source.value) if _secret_file(image, file.path)]
            if not secrets:
                continue
            shown = ", ".join(f"`{path}`" for path in secrets[:_SHOWN])
            if len(secrets) > _SHOWN:
                shown += f" and {len(secrets) - _SHOWN} more"
            yield finding(
                image,
                "SEC002",
                source.span,
                f"`{copy.instruction.keyword} {source.value}` puts secret-looking files into the image: {shown}; "
                "anyone who can pull the image can read them",
                "Exclude them in .dockerignore and pass them at run time (environment, mounted secret), or at "
                "build time with `RUN --mount=type=secret,id=...`.",
            )


def _secret_file(image: Image, path: str) -> bool:
    matcher, paths, extensions = _file_rules()
    name = path.rsplit("/", 1)[-1]
    if matcher.fullmatch(name):
        return True
    for tail in paths:  # ".ssh/" is a folder at any depth, ".aws/credentials" a file
        if ("/" + tail in "/" + path) if tail.endswith("/") else ("/" + path).endswith("/" + tail):
            return True
    if name.endswith(extensions):
        data = image.workspace.read_bytes(image.context.root / path, quiet=True)
        return data is not None and _secrets()["private_key_marker"].encode() in data[:_KEY_SNIFF]
    return False


@cache
def _file_rules() -> tuple[re.Pattern[str], tuple[str, ...], tuple[str, ...]]:
    """One regex for every secret file name (names, globs, ``.env.*`` but its templates)."""
    table = _secrets()
    templates = "|".join(re.escape(name) for name in table["env_templates"])
    alternatives = [re.escape(name) for name in table["names"]]
    alternatives += [fnmatch.translate(pattern) for pattern in table["patterns"]]
    alternatives.append(f"(?!(?:{templates})$){re.escape(table['env_prefix'])}.+")
    return (
        re.compile("|".join(f"(?:{item})" for item in alternatives), re.S),
        tuple(table["paths"]),
        tuple(table["key_extensions"]),
    )


def _secret_values(image: Image, instruction: Instruction) -> Iterator[Finding]:
    for match in _pairs(instruction):
        name, value, start, end = match
        if _value_is_token(value):
            why = "a value in the format of an access token or a URL with a password"
        elif _name_is_secret(name) and _value_is_literal_secret(value, instruction.keyword):
            why = "a secret-looking name with a value" + (" taken from a build argument" if "$" in value else "")
        else:
            continue
        where = (
            "the image config (`docker inspect`)"
            if instruction.keyword == "ENV"
            else "the image history (`docker history`)"
        )
        yield finding(
            image,
            "SEC002",
            instruction.span_of(start, end),
            f"`{instruction.keyword} {name}` has {why}; the value is stored in {where}",
            "Pass secrets at build time with `RUN --mount=type=secret,id=...` and at run time through the "
            "environment or a mounted secret; never through ARG defaults or ENV.",
        )


def _pairs(instruction: Instruction) -> list[tuple[str, str, int, int]]:
    """(name, value as written, start, end of the name) for each NAME=value, and the
    legacy ``ENV NAME value`` form."""
    args = instruction.args
    pairs = [(m.group(1), m.group(2).strip("\"'"), m.start(1), m.end(1)) for m in _PAIR.finditer(args)]
    if not pairs and instruction.keyword == "ENV":
        legacy = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s+(.+)", args, re.S)
        if legacy:
            pairs.append((legacy.group(1), legacy.group(2).strip().strip("\"'"), legacy.start(1), legacy.end(1)))
    return pairs


def _name_is_secret(name: str) -> bool:
    table = load("context")["secret_names"]
    lowered = name.lower()
    if lowered.endswith(tuple(table["not_secret_suffixes"])):
        return False
    words = [word for word in re.split(r"[_\-]+", lowered) if word]
    if any(word in table["words"] for word in words):
        return True
    return any([first, second] in table["pairs"] for first, second in zip(words, words[1:], strict=False))


def _value_is_literal_secret(value: str, keyword: str) -> bool:
    if value.lower() in _SWITCHES or value.startswith(("/", "./", "~")):
        return False  # a switch, or a path to a mounted secret
    if "$" in value:
        return keyword == "ENV"  # ENV copies a build argument into the image config
    return True


def _value_is_token(value: str) -> bool:
    return "$" not in value and any(pattern.search(value) for pattern in _token_patterns())


@cache
def _token_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(pattern) for pattern in load("context")["secret_values"]["patterns"])


@cache
def _secrets() -> dict:
    return load("context")["secrets"]
