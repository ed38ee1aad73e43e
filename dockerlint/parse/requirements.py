"""pip requirements and constraints files.

INTERFACE (other modules rely on these names; keep them):

- ``parse_requirements(data: bytes) -> RequirementsFile`` never raises. It decodes as pip
  does (UTF-8 with or without BOM, UTF-16 with BOM; invalid bytes replaced with a problem).
- ``load_requirements(path: Path, read: Callable[[Path], bytes | None]) -> RequirementSet``
  follows ``-r``/``-c`` includes relative to the including file, with a visited set:
  cycles and missing files become problems (code "REQ004"), never exceptions; an include
  dockerlint does not follow (a URL, a path with a variable) is ``unfollowed``, a note
  about the run, not a problem of the file. ``read`` returns None for a missing or
  unreadable file. Each file is parsed once.

Why our own parser: pip-requirements-parser (measured in notes/library-probe.md §2) takes
~0.35 ms a line, aborts on a missing include, recurses ~1,000 times on a cycle and rejects
``${VAR}`` and ``--config-settings``, which pip accepts. This module follows pip 23's
``req_file.py`` rules instead: backslash continuations (a comment line ends one), comments
start at ``#`` at line start or after whitespace, the line is split into requirement text
and options at the first space-separated token starting with ``-``, options are split with
shlex and read like pip's optparse (long options may be abbreviated), and requirement text
goes to ``packaging``, imported lazily because it costs ~35 ms at start-up.

``${NAME}`` references (pip expands ``[A-Z0-9_]+`` names from the environment) are kept as
written. When one makes a requirement unparsable (``foo==${FOO_VERSION}``), the
requirement is kept with the name written before the variable (None when the variable is
part of the name), its extras and marker, and specifier ""; no problem is reported.

Lines are split at "\\n" only (pip's ``splitlines`` also breaks at form feeds and other
separators; editors and our spans do not).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote

from msgspec import Struct, field
from msgspec.structs import replace

from dockerlint.regex import lazy_compile
from dockerlint.source import MAX_PROBLEMS_PER_FILE, Problem, Span, decode
from dockerlint.urls import split_url


class Requirement(Struct, frozen=True):
    name: str | None  # canonical name (PEP 503, ``canonical_name``); None for `-e .`, paths
    raw_name: str | None  # as written
    specifier: str  # "" when none; packaging's canonical, sorted form: "<2,>=1.0"
    extras: tuple[str, ...]
    marker: str | None
    url: str | None  # `name @ url`, a VCS or file URL, or a local path
    editable: bool
    hashes: tuple[str, ...]
    text: str  # the logical line as written, continuations joined, comment removed
    span: Span  # from the first physical line/column of the requirement to its end
    path: Path | None = None  # filled in by load_requirements
    constraint: bool = False  # came from a -c file: takes part in resolution, installs nothing
    # What needs it, by the `# via` notes pip-compile and `uv pip compile` write under it
    # (canonical names; `-r file` entries, the file's own requests, left out).
    via: tuple[str, ...] = ()


class Include(Struct, frozen=True):
    kind: str  # "requirement" (-r) or "constraint" (-c)
    target: str  # as written, after ${VAR} is left untouched
    span: Span


class Options(Struct, frozen=True):
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    pre: bool = False
    trusted_hosts: tuple[str, ...] = ()
    only_binary: tuple[str, ...] = ()  # values as written: ":all:", "torch,numpy"
    no_binary: tuple[str, ...] = ()
    prefer_binary: bool = False
    require_hashes: bool = False


class OptionLine(Struct, frozen=True):
    """One line of global options, so a finding can point at the line that set them."""

    span: Span
    options: Options


class RequirementsFile(Struct, frozen=True):
    requirements: tuple[Requirement, ...]
    includes: tuple[Include, ...]
    options: Options
    problems: tuple[Problem, ...] = field(default=())  # REQ005 for lines pip would reject
    noqa: dict[int, frozenset[str] | None] = field(default_factory=dict)  # line -> codes (None: all)
    option_lines: tuple[OptionLine, ...] = ()  # in file order; `options` is their merge


class RequirementSet(Struct, frozen=True):
    """Everything one ``pip install -r ROOT`` reads."""

    root: Path
    files: tuple[Path, ...]  # every file read, root first
    requirements: tuple[Requirement, ...]  # in pip's order, constraints marked
    options: Options  # merged over all files
    problems: tuple[tuple[Path, Problem], ...] = ()
    option_lines: tuple[tuple[Path, OptionLine], ...] = ()  # in pip's order
    noqa: dict[Path, dict[int, frozenset[str] | None]] = field(default_factory=dict)
    unfollowed: tuple[tuple[Path, int, str], ...] = ()  # (file, line, why) of includes not read


# --- decoding -----------------------------------------------------------------------

_UTF16_BOMS = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_CODING_LINE = lazy_compile(rb"coding[:=]\s*([-\w.]+)")


def _decode(data: bytes) -> tuple[str, bool]:
    """pip's ``auto_decode``: a BOM wins, then a PEP 263 coding comment in the first two
    lines, then UTF-8 (pip uses the locale, which is UTF-8 in the images we lint)."""
    for bom, encoding in _UTF16_BOMS:
        if data.startswith(bom):
            return _decode_with(data[len(bom) :], encoding)
    if not data.startswith(b"\xef\xbb\xbf"):
        for line in data.split(b"\n", 2)[:2]:
            declared = _CODING_LINE.search(line) if line.startswith(b"#") else None
            if declared:
                try:
                    return _decode_with(data, declared.group(1).decode("ascii"))
                except (LookupError, UnicodeError):  # pip fails here; we read UTF-8
                    break
    return decode(data)


def _decode_with(data: bytes, encoding: str) -> tuple[str, bool]:
    try:
        text, bad = data.decode(encoding), False
    except UnicodeDecodeError:
        text, bad = data.decode(encoding, errors="replace"), True
    return text.replace("\r\n", "\n").replace("\r", "\n"), bad


# --- logical lines --------------------------------------------------------------------

# pip: a comment starts at `#` at line start or after whitespace (a lookbehind, because
# pip's `(^|\s+)#` is quadratic on long runs of spaces)
_COMMENT = re.compile(r"(?:^|(?<=\s))#")
_COMMENT_LINE = re.compile(r"\s*#")
_ENV_VAR = lazy_compile(r"\$\{[A-Z0-9_]+\}")
_NOQA = lazy_compile(r"#\s*noqa(?:\s*:\s*([A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.I)


class _Logical(Struct):
    """A logical line: physical lines joined as pip joins them, plus the offset map."""

    joined: str
    pieces: list[tuple[int, int, int]]  # (offset in joined, physical line, column offset)

    def position(self, offset: int) -> tuple[int, int]:
        start, line, column = next(piece for piece in reversed(self.pieces) if piece[0] <= offset)
        return line, column + offset - start + 1

    def span(self, start: int, end: int) -> Span:
        line, column = self.position(start)
        end_line, end_column = self.position(end - 1)
        return Span(line, column, end_line, end_column + 1)


def _logical_lines(text: str) -> Iterator[_Logical]:
    """pip's ``join_lines``: a line ending in a backslash continues unless it is a comment
    line; leading and trailing backslashes of a continued line are dropped."""
    joined: list[str] = []
    pieces: list[tuple[int, int, int]] = []
    length = 0
    for number, line in enumerate(text.split("\n"), 1):
        is_comment = _COMMENT_LINE.match(line) is not None
        if line.endswith("\\") and not is_comment:
            body = line.strip("\\")
            pieces.append((length, number, len(line) - len(line.lstrip("\\"))))
            joined.append(body)
            length += len(body)
            continue
        if is_comment:
            line = " " + line  # keeps the comment a comment once joined
            pieces.append((length, number, -1))
        else:
            pieces.append((length, number, 0))
        joined.append(line)
        yield _Logical("".join(joined), pieces)
        joined, pieces, length = [], [], 0
    if joined:
        yield _Logical("".join(joined), pieces)


# --- options --------------------------------------------------------------------------

# pip 23's requirements-file options: long name -> takes a value. The last four apply to
# the requirement on the same line; --install-option was removed in pip 23.1 but older
# files still carry it, so it is accepted.
_LONG_OPTIONS = {
    "--index-url": True,
    "--pypi-url": True,
    "--extra-index-url": True,
    "--no-index": False,
    "--constraint": True,
    "--requirement": True,
    "--editable": True,
    "--find-links": True,
    "--no-binary": True,
    "--only-binary": True,
    "--prefer-binary": False,
    "--require-hashes": False,
    "--pre": False,
    "--trusted-host": True,
    "--use-feature": True,
    "--global-option": True,
    "--hash": True,
    "--config-settings": True,
    "--install-option": True,
}
_SHORT_OPTIONS = {
    "-i": "--index-url",
    "-c": "--constraint",
    "-r": "--requirement",
    "-e": "--editable",
    "-f": "--find-links",
    "-C": "--config-settings",
}
_PER_REQUIREMENT = frozenset({"--global-option", "--hash", "--config-settings", "--install-option"})
_STRONG_HASHES = frozenset({"sha256", "sha384", "sha512"})
_NEEDS_SHLEX = lazy_compile(r"[\"'\\]|[^\S ]")


# Far longer than any real option line (an index URL, a few --hash values): shlex builds a
# token a character at a time, so a megabyte of backslashes took 19 s.
MAX_QUOTED_OPTIONS = 64 * 1024


class _OptionError(Exception):
    pass


def _read_options(options_text: str) -> tuple[list[tuple[str, str | None]], list[str]]:
    """Options as (long name, value) in order, and stray arguments, the way optparse
    reads them; raises _OptionError with pip's reason."""
    if _NEEDS_SHLEX.search(options_text):
        if len(options_text) > MAX_QUOTED_OPTIONS:  # shlex is quadratic in a token's length
            raise _OptionError(f"options of {len(options_text):,} characters with quotes or escapes are not read")
        try:
            tokens = shlex.split(options_text)
        except ValueError as error:
            raise _OptionError(f"could not split the options ({error})") from None
    else:
        tokens = [token for token in options_text.split(" ") if token]
    found: list[tuple[str, str | None]] = []
    stray: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        value: str | None = None
        if token == "--":
            stray.extend(tokens[index:])
            break
        if token.startswith("--"):
            name, has_value, value = token.partition("=")
            name = _long_option(name)
            if not has_value:
                value = None
            if not _LONG_OPTIONS[name] and has_value:
                raise _OptionError(f"{name} takes no value")
        elif token.startswith("-") and len(token) > 1:
            name = _SHORT_OPTIONS.get(token[:2], "")
            if not name:
                raise _OptionError(f"no such option: {token[:2]}")
            value = token[2:] or None
        else:
            stray.append(token)
            continue
        if _LONG_OPTIONS[name] and value is None:
            if index >= len(tokens):
                raise _OptionError(f"{name} needs a value")
            value = tokens[index]
            index += 1
        found.append((name, value))
    return found, stray


def _long_option(written: str) -> str:
    """optparse accepts any unambiguous prefix of a long option."""
    if written in _LONG_OPTIONS:
        return written
    matches = [name for name in _LONG_OPTIONS if name.startswith(written)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise _OptionError(f"ambiguous option {written} ({', '.join(sorted(matches))})")
    raise _OptionError(f"no such option: {written}")


def _split_args_options(content: str) -> tuple[str, str]:
    """pip's ``break_args_options``: options start at the first space-separated token
    that starts with "-"."""
    offset = 0
    for token in content.split(" "):
        if token.startswith("-"):
            return content[:offset].strip(), content[offset:]
        offset += len(token) + 1
    return content, ""


_OPTION_FIELDS = {
    "--index-url": "index_url",
    "--pypi-url": "index_url",
    "--extra-index-url": "extra_index_urls",
    "--find-links": "find_links",
    "--trusted-host": "trusted_hosts",
    "--only-binary": "only_binary",
    "--no-binary": "no_binary",
    "--no-index": "no_index",
    "--pre": "pre",
    "--prefer-binary": "prefer_binary",
    "--require-hashes": "require_hashes",
}  # --use-feature is accepted but not recorded


def _set_option(into: dict, name: str, value: str | None) -> None:
    key = _OPTION_FIELDS.get(name)
    if key is None:
        return
    if isinstance(into[key], list):
        into[key].append(value)
    elif isinstance(into[key], bool):
        into[key] = True
    else:
        into[key] = value


def _new_options() -> dict:
    return {
        "index_url": None,
        "extra_index_urls": [],
        "find_links": [],
        "no_index": False,
        "pre": False,
        "trusted_hosts": [],
        "only_binary": [],
        "no_binary": [],
        "prefer_binary": False,
        "require_hashes": False,
    }


def _merge_options(into: dict, options: Options) -> None:
    """Later index URL wins; lists are appended without repeats; flags stay set."""
    if options.index_url is not None:
        into["index_url"] = options.index_url
    for key in ("extra_index_urls", "find_links", "trusted_hosts", "only_binary", "no_binary"):
        into[key].extend(getattr(options, key))
    for key in ("no_index", "pre", "prefer_binary", "require_hashes"):
        into[key] = into[key] or getattr(options, key)


def _frozen_options(options: dict) -> Options:
    return Options(
        **{key: tuple(dict.fromkeys(value)) if isinstance(value, list) else value for key, value in options.items()}
    )


# --- requirement text -----------------------------------------------------------------

_VCS = ("git", "hg", "svn", "bzr")
_URL_SCHEMES = frozenset(
    ["http", "https", "file", "ftp"]
    + [f"{vcs}+{scheme}" for vcs in _VCS for scheme in ("http", "https", "ssh", "file")]
    + ["git", "git+git", "svn", "svn+svn", "hg+static-http", "bzr+sftp", "bzr+ftp", "bzr+lp"]
)
_ARCHIVE_SUFFIXES = (
    ".whl", ".zip", ".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tbz", ".tar.xz", ".txz",
    ".tlz", ".tar.lz", ".tar.lzma",
)  # fmt: skip
_IDENTIFIER = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_NAME_AT = re.compile(rf"{_IDENTIFIER}\s*(?:\[[^\]]*\]\s*)?@")
_NAME_PREFIX = lazy_compile(rf"({_IDENTIFIER})\s*(\[[^\]]*\])?\s*")
# Every `\s*` is followed by a required non-space, so a failing match backtracks linearly;
# callers pass stripped text.
_CLAUSE = r"(?:===?|!=|<=?|>=?|~=)\s*[A-Za-z0-9.*+!_-]+"
_SIMPLE_REQUIREMENT = re.compile(
    rf"({_IDENTIFIER})(?:\s*\[\s*((?:{_IDENTIFIER})(?:\s*,\s*{_IDENTIFIER})*)?\s*\])?"
    rf"(?:\s*({_CLAUSE}(?:\s*,\s*{_CLAUSE})*))?"
)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_SEPARATORS = re.compile(r"[-_.]+")
_EGG = lazy_compile(r"[#&]egg=([^&]*)")
_OPERATORS = ("==", "!=", "<=", ">=", "~=", "<", ">")


class _Invalid(Exception):
    pass


_ORPHAN_HASH = "--hash without a requirement is ignored by pip (a missing `\\`?)"


class _OrphanHash(_Invalid):
    """A ``--hash`` line with no requirement: the line above lacks its ``\\``. A file
    written that way has many; they are one mistake, reported once."""


class _Parsed(Struct):
    name: str | None = None
    raw_name: str | None = None
    specifier: str = ""
    extras: tuple[str, ...] = ()
    marker: str | None = None
    url: str | None = None


def _scheme(text: str) -> str:
    match = _SCHEME.match(text)
    return match.group(1).lower() if match else ""


def _is_url(text: str) -> bool:
    return _scheme(text) in _URL_SCHEMES


def _looks_like_path(text: str) -> bool:
    return "/" in text or text.startswith(".")


def canonical_name(name: str) -> str:
    """PEP 503 normalisation, ``Scikit_Learn`` -> ``scikit-learn``: what packaging's
    ``canonicalize_name`` returns, without importing ``packaging.utils``, which loads
    ``packaging.tags`` (subprocess, logging, sysconfig) that reading a pin never needs."""
    return _SEPARATORS.sub("-", name).lower()


@lru_cache(maxsize=512)
def _marker(text: str) -> str:
    from packaging.markers import InvalidMarker, Marker

    try:
        return str(Marker(text))
    except (InvalidMarker, RecursionError) as error:
        raise _Invalid(f"invalid marker ({_first_line(error)})") from None


def _first_line(error: BaseException) -> str:
    line = (str(error).splitlines() or [type(error).__name__])[0]
    return line[:1].lower() + line[1:]


def _extras(written: str) -> tuple[str, ...]:
    return tuple(sorted({extra.strip() for extra in written.split(",") if extra.strip()}))


def _from_packaging(text: str) -> _Parsed:
    text = text.strip()
    simple = _SIMPLE_REQUIREMENT.fullmatch(text)
    if simple:  # most lines; a third of the cost of packaging's full grammar
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        name, extras, specifier = simple.groups()
        try:
            specifier_set = SpecifierSet(specifier or "")
        except InvalidSpecifier:
            pass  # let the full parser explain what is wrong
        else:
            return _Parsed(
                name=canonical_name(name),
                raw_name=name,
                specifier=str(specifier_set),
                extras=_extras(extras or ""),
            )
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as Parsed

    try:
        parsed = Parsed(text)
    except (InvalidRequirement, RecursionError) as error:
        reason = "invalid requirement, " + _first_line(error)
        if "=" in text and not any(operator in text for operator in _OPERATORS):
            reason += '; "=" is not an operator, did you mean "=="?'
        raise _Invalid(reason) from None
    return _Parsed(
        name=canonical_name(parsed.name),
        raw_name=parsed.name,
        specifier=str(parsed.specifier),
        extras=tuple(sorted(parsed.extras)),
        marker=str(parsed.marker) if parsed.marker else None,
        url=parsed.url,
    )


def _from_link(link: str) -> _Parsed:
    """Name a URL or path the way pip does: from ``#egg=`` or a wheel's file name."""
    egg = _EGG.search(link)
    if egg and egg.group(1):
        try:
            parsed = _from_packaging(egg.group(1))
            parsed.url = link
            return parsed
        except _Invalid:
            return _Parsed(url=link)
    filename = unquote(link.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1])
    if filename.lower().endswith(".whl"):
        parts = filename[:-4].split("-")
        if len(parts) not in (5, 6) or not all(parts):
            raise _Invalid(f"{filename} is not a valid wheel filename")
        return _Parsed(canonical_name(parts[0]), parts[0], f"=={parts[1]}", url=link)
    return _Parsed(url=link)


def _with_variables(text: str) -> _Parsed:
    """A requirement made unparsable by a ${VAR}: keep what precedes the variable."""
    prefix = _NAME_PREFIX.match(text)
    if not prefix or text[prefix.end() : prefix.end() + 1] == "$":
        return _Parsed()
    extras: tuple[str, ...] = ()
    if prefix.group(2) and "$" not in prefix.group(2):
        extras = _extras(prefix.group(2)[1:-1])
    rest = text[prefix.end() :]
    url = rest[1:].strip() if rest.startswith("@") else ""
    raw = prefix.group(1)
    return _Parsed(canonical_name(raw), raw, "", extras, None, url or None)


def requirement_problem(text: str) -> str | None:
    """Why pip cannot read ``text`` as a requirement (a command-line argument), or None;
    a value holding a shell variable or glob, or longer than any requirement, is not judged."""
    if not text or len(text) > 10_000 or any(char in text for char in "$*?`"):
        return None
    try:
        _requirement(text)
    except _Invalid as error:
        return str(error)
    return None


def _requirement(text: str) -> _Parsed:
    """pip's ``parse_req_from_line``: a URL, a local path or archive, or a PEP 508 string."""
    separator = "; " if _is_url(text) else ";"
    text, has_marker, marker_text = text.partition(separator)
    marker = _marker(marker_text.strip()) if has_marker and marker_text.strip() else None
    text = text.strip()
    if _is_url(text):
        parsed = _from_link(text)
    elif not _NAME_AT.match(text) and (_looks_like_path(text) or text.lower().endswith(_ARCHIVE_SUFFIXES)):
        path, extras = _split_extras(text)
        parsed = _from_link(path)
        parsed.extras = extras or parsed.extras
    else:
        try:
            parsed = _from_packaging(text)
        except _Invalid:
            if not _ENV_VAR.search(text):
                raise
            parsed = _with_variables(text)
    parsed.marker = marker or parsed.marker
    return parsed


def _split_extras(path: str) -> tuple[str, tuple[str, ...]]:
    """pip's ``_strip_extras``: a trailing ``[...]`` holding no "]" (written without its
    regex, which is quadratic on long runs of "[")."""
    opening = path.rfind("[")
    if not path.endswith("]") or opening < 1 or "]" in path[opening + 1 : -1]:
        return path, ()
    if opening + 2 == len(path):
        return path, ()
    written = path[opening:]
    try:
        return path[:opening], _from_packaging("placeholder" + written).extras
    except _Invalid:
        raise _Invalid(f"invalid extras {written}") from None


def _editable(value: str) -> _Parsed:
    """pip's ``parse_editable``: a local project folder or a VCS URL. A VCS URL without
    ``#egg=`` gets name None; pip 23 refuses it, but we do not report it."""
    path, extras = _split_extras(value)
    scheme = _scheme(path)
    is_vcs = scheme.split("+", 1)[0] in _VCS
    if len(scheme) > 1 and scheme != "file" and not is_vcs:  # "c:" is a Windows drive
        raise _Invalid("not a valid editable requirement: use a local folder or a VCS URL")
    parsed = _from_link(path)
    parsed.extras = extras or parsed.extras
    return parsed


# --- one file -------------------------------------------------------------------------

_QUOTE_LIMIT = 100


def _quote(content: str) -> str:
    short = content if len(content) <= _QUOTE_LIMIT else content[: _QUOTE_LIMIT - 1] + "…"
    return f"`{short}`"


def _noqa_codes(noqa: re.Match) -> frozenset[str] | None:
    """Codes of a ``# noqa: A1,B2`` comment; None for a bare ``# noqa`` (all codes)."""
    codes = noqa.group(1)
    return frozenset(code.upper() for code in re.split(r"[\s,]+", codes)) if codes else None


def parse_requirements(data: bytes) -> RequirementsFile:
    text, had_invalid_bytes = _decode(data)
    requirements: list[Requirement] = []
    includes: list[Include] = []
    option_lines: list[OptionLine] = []
    problems: list[Problem] = []
    noqa: dict[int, frozenset[str] | None] = {}
    orphan_hashes: list[tuple[str, Span]] = []
    if had_invalid_bytes:
        first_line = text.split("\n", 1)[0]
        message = "not valid UTF-8 (or UTF-16 with a BOM): unreadable bytes were replaced"
        problems.append(Problem("SYN002", message, Span.whole_line(1, first_line)))

    via_of: int | None = None  # the requirement whose `# via` notes follow (its index)
    in_via = False
    for logical in _logical_lines(text):
        joined = logical.joined
        comment = _COMMENT.search(joined)
        body = joined[: comment.start()] if comment else joined
        content = body.strip()
        if not content:
            if comment and via_of is not None:
                in_via = _read_via(joined[comment.start() :], requirements, via_of, in_via)
            continue
        via_of, in_via = None, False
        start = len(body) - len(body.lstrip())
        span = logical.span(start, start + len(content))
        noqa_comment = _NOQA.search(joined, comment.start()) if comment else None
        if noqa_comment:
            noqa[span.line] = _noqa_codes(noqa_comment)
        try:
            item = _parse_line(content, span)
        except _OrphanHash:
            orphan_hashes.append((content, span))
            continue
        except _Invalid as error:
            if len(problems) >= MAX_PROBLEMS_PER_FILE:
                message = f"more than {MAX_PROBLEMS_PER_FILE:,} invalid lines: the rest of the file is not read"
                problems.append(Problem("REQ005", message, span))
                break
            problems.append(Problem("REQ005", f"{_quote(content)}: {error}", span))
            continue
        if isinstance(item, Requirement):
            requirements.append(item)
            via_of = len(requirements) - 1
            if comment:  # `deprecated==1.2.14  # via pikepdf` (--annotation-style=line)
                in_via = _read_via(joined[comment.start() :], requirements, via_of, False)
        elif isinstance(item, Include):
            includes.append(item)
        elif item is not None:
            option_lines.append(item)

    if orphan_hashes:
        problems.append(_orphan_hash_problem(orphan_hashes))
        problems.sort(key=lambda problem: (problem.span.line, problem.span.column))
    merged = _new_options()
    for line in option_lines:
        _merge_options(merged, line.options)
    return RequirementsFile(
        tuple(requirements),
        tuple(includes),
        _frozen_options(merged),
        tuple(problems),
        noqa,
        tuple(option_lines),
    )


_VIA = re.compile(r"#\s*via\b(.*)")


def _read_via(comment: str, requirements: list[Requirement], index: int, in_via: bool) -> bool:
    """Add the names of a `# via a, b` note (or of a `#   a` line of a `# via` block) to the
    requirement above; whether a block of names goes on."""
    found = _VIA.match(comment.strip())
    if found is not None:
        names, block = found.group(1), not found.group(1).strip()
    elif in_via:
        names, block = comment.strip().lstrip("#"), True
    else:
        return False
    wanted = []
    for part in names.split(","):
        word = part.strip()
        if word and not word.startswith(("-", "(")) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", word):
            wanted.append(canonical_name(word))
    if wanted:
        item = requirements[index]
        requirements[index] = replace(item, via=tuple(dict.fromkeys((*item.via, *wanted))))
    return block


def _orphan_hash_problem(orphans: list[tuple[str, Span]]) -> Problem:
    content, span = orphans[0]
    if len(orphans) == 1:
        return Problem("REQ005", f"{_quote(content)}: {_ORPHAN_HASH}", span)
    lines = ", ".join(str(orphan_span.line) for _, orphan_span in orphans)
    message = (
        f"{len(orphans)} `--hash` lines have no requirement (lines {lines}): pip reads each as a line of its own "
        "and ignores the hash (the requirement above it lacks a trailing `\\`?)"
    )
    fix = "End every line of a requirement but its last with `\\`, with no blank line in between."
    return Problem("REQ005", message, span, fix)


def _parse_line(content: str, span: Span) -> Requirement | Include | OptionLine | None:
    """One logical line; raises _Invalid with the reason pip would give."""
    args, options_text = _split_args_options(content)
    try:
        options, stray = _read_options(options_text) if options_text else ([], [])
    except _OptionError as error:
        raise _Invalid(str(error)) from None
    editables = [value for name, value in options if name == "--editable"]
    if stray:
        raise _Invalid(f"pip ignores {' '.join(stray)!r} after the options")

    if args or editables:
        global_options = [name for name, _ in options if name not in _PER_REQUIREMENT and name != "--editable"]
        if global_options or (args and editables):
            extra = global_options[0] if global_options else "--editable"
            raise _Invalid(f"{extra} is not allowed on a requirement line (pip ignores it there)")
        hashes = []
        for name, value in options:
            if name == "--hash":
                hashes.append(_checked_hash(value or ""))
        parsed = _requirement(args) if args else _editable(editables[0] or "")
        return Requirement(
            name=parsed.name,
            raw_name=parsed.raw_name,
            specifier=parsed.specifier,
            extras=parsed.extras,
            marker=parsed.marker,
            url=parsed.url,
            editable=not args,
            hashes=tuple(hashes),
            text=content,
            span=span,
        )

    if any(name == "--hash" for name, _ in options):
        raise _OrphanHash(_ORPHAN_HASH)
    for kind, option in (("requirement", "--requirement"), ("constraint", "--constraint")):
        targets = [value for name, value in options if name == option]
        if targets:  # pip follows the first -r, else the first -c, and nothing else
            return Include(kind, targets[0] or "", span)
    merged = _new_options()
    for name, value in options:
        _set_option(merged, name, value)
    return OptionLine(span, _frozen_options(merged)) if options else None


def _checked_hash(value: str) -> str:
    algorithm, has_digest, digest = value.partition(":")
    if not has_digest or not digest:
        raise _Invalid(f"--hash={value} is not of the form --hash=sha256:<hex digest>")
    if algorithm not in _STRONG_HASHES:
        raise _Invalid(f"--hash algorithm {algorithm!r} is not one of sha256, sha384, sha512")
    return value


# --- includes -------------------------------------------------------------------------

_REMOTE = lazy_compile(r"^(?:http|https):", re.I)


class _Frame(Struct):
    path: Path
    constraint: bool
    items: Iterator[Requirement | Include | OptionLine]


def _target_path(include: Include, including: Path) -> Path | str:
    """The file an include names, or why it is not followed."""
    target = include.target
    if _ENV_VAR.search(target):
        return (
            f"-{include.kind[0]} {target} uses an environment variable; "
            "dockerlint does not expand it, so the file is not followed"
        )
    if _REMOTE.match(target):
        return f"-{include.kind[0]} {target}: remote includes are not followed (no network)"
    if target.lower().startswith("file:"):
        target = unquote(split_url(target).path)
    return Path(os.path.normpath(including.parent / target))


def _project_requirements(data: bytes) -> RequirementsFile:
    """A pyproject.toml named by ``-r``: uv (``uv pip install -r pyproject.toml``) reads its
    ``[project].dependencies`` as the requirements, at the lines they are written on."""
    from dockerlint.parse.pyproject import parse_pyproject

    project = parse_pyproject(data.decode("utf-8", errors="replace"))
    found = []
    for dependency in project.dependencies:
        if dependency.group != "project" or dependency.name is None:
            continue
        written = dependency.text.split(";", 1)[0].strip()
        raw = _RAW_NAME.match(written)
        url = written.split("@", 1)[1].strip() if "@" in written else None
        found.append(
            Requirement(
                dependency.name,
                raw.group(0) if raw else dependency.name,
                dependency.specifier,
                dependency.extras,
                dependency.marker,
                url,
                False,
                (),
                dependency.text,
                dependency.span,
            )
        )
    return RequirementsFile(tuple(found), (), _frozen_options(_new_options()), problems=project.problems)


_RAW_NAME = lazy_compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def load_requirements(path: Path, read: Callable[[Path], bytes | None]) -> RequirementSet:
    """Everything ``pip install -r path`` reads, in pip's order (depth first, includes
    expanded in place). Paths are joined and normalised as strings (no symlinks are
    resolved). A file reached again with the same -r/-c kind (a diamond) adds nothing;
    reached both from a constraint and a requirement include, its lines appear once of
    each kind, as pip would use them."""
    loader = _Loader(Path(os.path.normpath(path)), read)
    loader.run()
    merged = _new_options()
    for _, line in loader.option_lines:
        _merge_options(merged, line.options)
    return RequirementSet(
        root=path,
        files=tuple(loader.files),
        requirements=tuple(loader.requirements),
        options=_frozen_options(merged),
        problems=tuple(loader.problems),
        option_lines=tuple(loader.option_lines),
        noqa=loader.noqa,
        unfollowed=tuple(loader.unfollowed),
    )


class _Loader:
    """Walks includes with an explicit stack, so a long include chain cannot overflow
    Python's recursion limit."""

    def __init__(self, root: Path, read: Callable[[Path], bytes | None]):
        self.root = root
        self.read = read
        self.parsed: dict[Path, RequirementsFile | None] = {}
        self.files: list[Path] = []
        self.requirements: list[Requirement] = []
        self.option_lines: list[tuple[Path, OptionLine]] = []
        self.problems: list[tuple[Path, Problem]] = []
        self.unfollowed: list[tuple[Path, int, str]] = []
        self.noqa: dict[Path, dict[int, frozenset[str] | None]] = {}
        self.entered: set[tuple[Path, bool]] = set()
        self.stack: list[_Frame] = []
        self.open_files: dict[Path, int] = {}  # path -> depth on the stack

    def run(self) -> None:
        if self.load(self.root) is None:
            message = f"cannot read requirements file {self.root.name}"
            self.problems.append((self.root, Problem("REQ004", message, Span(1, 1, 1, 1))))
            return
        self.enter(self.root, constraint=False)
        while self.stack:
            frame = self.stack[-1]
            item = next(frame.items, None)
            if item is None:
                self.stack.pop()
                del self.open_files[frame.path]
            elif isinstance(item, Requirement):
                self.requirements.append(replace(item, path=frame.path, constraint=frame.constraint))
            elif isinstance(item, OptionLine):
                self.option_lines.append((frame.path, item))
            else:
                self.follow(item, frame)

    def load(self, file: Path) -> RequirementsFile | None:
        if file not in self.parsed:
            try:
                data = self.read(file)
            except (OSError, ValueError):  # a reader built on open(): ValueError for "\0"
                data = None
            if data is None:
                result = None
            elif file.name == "pyproject.toml":  # uv reads a -r pyproject.toml as the project's dependencies
                result = _project_requirements(data)
            else:
                result = parse_requirements(data)
            self.parsed[file] = result
            if result is not None:
                self.files.append(file)
                self.problems.extend((file, problem) for problem in result.problems)
                if result.noqa:
                    self.noqa[file] = result.noqa
        return self.parsed[file]

    def enter(self, file: Path, constraint: bool) -> None:
        result = self.parsed[file]
        assert result is not None
        self.entered.add((file, constraint))
        self.open_files[file] = len(self.stack)
        items = sorted(
            (*result.requirements, *result.includes, *result.option_lines),
            key=lambda item: item.span.line,
        )
        self.stack.append(_Frame(file, constraint, iter(items)))

    def follow(self, include: Include, frame: _Frame) -> None:
        target = _target_path(include, frame.path)
        if isinstance(target, str):  # pip reads it; dockerlint cannot: the run's limit, not the file's
            self.unfollowed.append((frame.path, include.span.line, target))
            return
        if target in self.open_files:
            chain = [f.path for f in self.stack[self.open_files[target] :]] + [target]
            shown = " → ".join(self.display(file) for file in chain)
            message = f"include cycle: {shown}; not followed again"
            self.problems.append((frame.path, Problem("REQ004", message, include.span)))
            return
        constraint = frame.constraint or include.kind == "constraint"
        if (target, constraint) in self.entered:
            return
        if self.load(target) is None:
            message = f"-{include.kind[0]} {include.target}: cannot read {self.display(target)}"
            self.problems.append((frame.path, Problem("REQ004", message, include.span)))
            return
        self.enter(target, constraint)

    def display(self, path: Path) -> str:
        """A path as the user thinks of it: relative to the root file's folder."""
        try:
            return Path(os.path.relpath(path, self.root.parent)).as_posix()
        except ValueError:  # another drive on Windows
            return path.as_posix()
