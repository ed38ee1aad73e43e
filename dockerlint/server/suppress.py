"""The edits behind the editor's "ignore this rule" actions: the comments the engine
reads (``engine.Suppressions``), written where they take effect.

- Dockerfile, one line: ``# dockerlint: ignore=CODE`` on its own line above the
  instruction that holds the finding (added to an ignore comment already there).
- Dockerfile, whole file: ``# dockerlint: ignore-file=CODE`` below the parser
  directives (``# syntax=`` must stay the first line to stay a directive).
- Requirements and Python files: ``# noqa: CODE`` at the end of the line (added to a
  ``# noqa:`` list already there); never after a line continuation, which the comment
  would swallow. pyproject.toml and compose files too, when the file still reads the
  same with the comment (it would change a value inside a multi-line string).
- Nothing for .dockerignore: a ``#`` starts a comment only at the start of a line, so
  a trailing one would become part of the pattern.

Other files have no file-wide comment: ``per-file-ignores`` in the configuration does
that, and the hover says how.
"""

from __future__ import annotations

import re
from pathlib import Path

from dockerlint.discover import is_compose_name, is_dockerfile_name, is_requirements_name
from dockerlint.findings import Edit
from dockerlint.source import Span, Text

_IGNORE = re.compile(r"^(\s*#\s*dockerlint\s*:\s*ignore\s*=\s*)([A-Za-z0-9, ]*?)(\s*)$")
_IGNORE_FILE = re.compile(r"^(\s*#\s*dockerlint\s*:\s*ignore-file\s*=\s*)([A-Za-z0-9, ]*?)(\s*)$")
_DIRECTIVE = re.compile(r"^\s*#\s*(syntax|escape|check)\s*=", re.IGNORECASE)
_NOQA_CODES = re.compile(r"#\s*noqa\s*:\s*([A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)", re.IGNORECASE)
_BARE_NOQA = re.compile(r"#\s*noqa\b(?!\s*:)", re.IGNORECASE)


def kind_of(path: Path) -> str | None:
    """How a file takes suppression comments: dockerfile, line (``# noqa``), a checked
    line (TOML/YAML: only when no value changes), or None."""
    if is_dockerfile_name(path.name):
        return "dockerfile"
    if is_requirements_name(path) or path.suffix == ".py":
        return "line"
    if path.name == "pyproject.toml" or path.suffix == ".toml":
        return "toml"
    if is_compose_name(path.name):
        return "yaml"
    return None


def ignore_on_line(path: Path, text: str, code: str, line: int) -> Edit | None:
    """The edit that makes ``code`` ignored on ``line`` (1-based), or None."""
    kind = kind_of(path)
    if kind == "dockerfile":
        return _dockerfile_line(path, text, code, line)
    if kind is None:
        return None
    edit = _noqa(path, Text.of(text), code, line)
    if edit is None or kind == "line" or _reads_the_same(kind, text, edit):
        return edit
    return None


def ignore_in_file(path: Path, text: str, code: str) -> Edit | None:
    """The edit that makes ``code`` ignored in the whole file (Dockerfiles only)."""
    if kind_of(path) != "dockerfile":
        return None
    source = Text.of(text)
    lines = [source.line(number) for number in range(1, len(source.line_starts) + 1)]
    for number, content in enumerate(lines, start=1):
        match = _IGNORE_FILE.match(content)
        if match:
            return _add_code(path, number, match, code)
    first = 0
    while first < len(lines) and _DIRECTIVE.match(lines[first]):
        first += 1
    return Edit(path, Span(first + 1, 1, first + 1, 1), f"# dockerlint: ignore-file={code}\n")


def _dockerfile_line(path: Path, text: str, code: str, line: int) -> Edit | None:
    from dockerlint.parse.dockerfile import parse_dockerfile

    dockerfile = parse_dockerfile(text)
    holding = [i for i in dockerfile.instructions if i.span.line <= line <= i.span.end_line]
    if not holding:
        return None
    start = holding[0].span.line
    source = dockerfile.text
    # Comment lines stacked right above the instruction apply to it: reuse an ignore there.
    above = start - 1
    while above >= 1 and source.line(above).lstrip().startswith("#"):
        match = _IGNORE.match(source.line(above))
        if match:
            return _add_code(path, above, match, code)
        above -= 1
    content = source.line(start)
    indent = content[: len(content) - len(content.lstrip())]
    return Edit(path, Span(start, 1, start, 1), f"{indent}# dockerlint: ignore={code}\n")


def _add_code(path: Path, line: int, match: re.Match[str], code: str) -> Edit | None:
    codes = [item.strip() for item in match.group(2).split(",") if item.strip()]
    if code in codes:
        return None
    start = len(match.group(1)) + 1
    end = start + len(match.group(2))
    return Edit(path, Span(line, start, line, end), ",".join([*codes, code]))


def _noqa(path: Path, source: Text, code: str, line: int) -> Edit | None:
    content = source.line(line)
    if line > len(source.line_starts) or content.rstrip().endswith("\\") or _BARE_NOQA.search(content):
        return None
    match = _NOQA_CODES.search(content)
    if match:
        codes = [item.strip().upper() for item in match.group(1).split(",")]
        if code in codes:
            return None
        return Edit(path, Span(line, match.start(1) + 1, line, match.end(1) + 1), ", ".join([*codes, code]))
    kept = content.rstrip()
    return Edit(path, Span(line, len(kept) + 1, line, len(content) + 1), f"  # noqa: {code}")


def _reads_the_same(kind: str, text: str, edit: Edit) -> bool:
    """Whether a TOML or YAML file holds the same data with the comment added."""
    from dockerlint.fixes import apply_edits

    changed = apply_edits(text.encode("utf-8"), [edit])
    if changed is None:
        return False
    try:
        if kind == "toml":
            from dockerlint.tomlparser import tomllib

            return tomllib.loads(text) == tomllib.loads(changed.decode("utf-8"))
        return _yaml_tokens(text) == _yaml_tokens(changed.decode("utf-8"))
    except Exception:  # noqa: BLE001 - a file that does not parse gets no comment
        return False


def _yaml_tokens(text: str) -> list[tuple[str, object]]:
    """The scanner's tokens (comments are not tokens; aliases are not expanded)."""
    import yaml

    return [(type(token).__name__, getattr(token, "value", None)) for token in yaml.scan(text, Loader=yaml.SafeLoader)]
