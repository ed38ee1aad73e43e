"""``docker buildx bake`` files: each target's context, Dockerfile, target stage, build
arguments and platforms.

Both forms are read: JSON (``docker-bake.json``) with the standard library, and HCL
(``docker-bake.hcl``) with a small reader of the part of HCL that bake files use for
these attributes: blocks, attributes, string templates with ``${VAR}``, numbers, bools,
lists and maps, comments and heredocs. ``variable`` defaults fill ``${VAR}``; a function
call, a conditional, a ``for`` expression or any interpolation beyond a variable makes
that attribute unknown, and a target with an unknown context or Dockerfile is not used.
(A full HCL2 parser, python-hcl2, would add lark and the compiled ``regex`` package to
every install for a file few Python services have, and would still leave the
expressions to evaluate here.)

Bake runs where the file is (it looks for it in the working directory), so relative
contexts start at the file's folder and a Dockerfile is relative to its context.
Files in one folder are merged in bake's lookup order, later ones overriding targets of
earlier ones (``docker-bake.override.hcl``). ``inherits`` copies a parent's attributes.
"""

from __future__ import annotations

import json
import posixpath
import re

from msgspec import Struct

from dockerlint.parse.buildcmd import BuildCommand, exports_files
from dockerlint.parse.buildfiles import Declared, Reading


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()
_MAX_TOKENS = 200_000


class _Block(Struct):
    kind: str
    labels: list[str]
    attributes: dict  # name -> raw value (a _Template, list, dict, scalar or UNKNOWN)
    line: int


class _Template(Struct, frozen=True):
    """A string with ``${NAME}`` parts still to fill: ("lit", text) / ("var", name)."""

    parts: tuple[tuple[str, str], ...]


def lookup_order(name: str) -> tuple[int, str]:
    """Bake reads docker-bake.json, docker-bake.hcl, then the override files."""
    lowered = name.lower()
    override = ".override." in lowered
    return (2 if override else 0) + (1 if lowered.endswith(".hcl") else 0), lowered


def read_bake(files: list[tuple[str, str]], folder: str) -> Reading:
    """``files``: (text, absolute path) in lookup order, all in ``folder``."""
    reading = Reading()
    variables: dict[str, object] = {}
    targets: dict[str, dict] = {}
    lines: dict[str, int] = {}
    for text, path in files:
        try:
            blocks = _json_blocks(text) if path.lower().endswith(".json") else _hcl_blocks(text)
        except (_Error, RecursionError):
            reading.problems.append(f"{posixpath.basename(path)}: not read as a bake file")
            continue
        for block in blocks:
            if block.kind == "variable" and block.labels:
                variables[block.labels[0]] = block.attributes.get("default", UNKNOWN)
            elif block.kind == "target" and block.labels:
                name = block.labels[0]
                targets[name] = {**targets.get(name, {}), **block.attributes}
                lines.setdefault(name, block.line)
    for name in targets:
        merged = _inherited(name, targets, 0)
        command = _target_command(merged, variables, folder)
        if command is not None:
            reading.declared.append(Declared(command, lines.get(name, 1)))
    return reading


def _inherited(name: str, targets: dict[str, dict], depth: int) -> dict:
    attributes = targets.get(name, {})
    parents = attributes.get("inherits")
    if depth > 10 or not isinstance(parents, list):
        return attributes
    merged: dict = {}
    for parent in parents:
        if isinstance(parent, _Template) and len(parent.parts) == 1 and parent.parts[0][0] == "lit":
            parent_attributes = _inherited(parent.parts[0][1], targets, depth + 1)
            args = {**_as_dict(merged.get("args")), **_as_dict(parent_attributes.get("args"))}
            merged = {**merged, **parent_attributes, "args": args}
    args = {**_as_dict(merged.get("args")), **_as_dict(attributes.get("args"))}
    return {**merged, **attributes, "args": args}


def _as_dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _target_command(attributes: dict, variables: dict, folder: str) -> BuildCommand | None:
    if "matrix" in attributes or "dockerfile-inline" in attributes:
        return None

    def text(key: str, default: str | None) -> str | None | _Unknown:
        if key not in attributes:
            return default
        return _evaluate(attributes[key], variables, 0)

    context = text("context", ".")
    dockerfile = text("dockerfile", "Dockerfile")
    if not isinstance(context, str) or not isinstance(dockerfile, str):
        return None
    if "://" in context or context.startswith(("target:", "git@", "docker-image:")):
        return None
    context_path = posixpath.normpath(posixpath.join(folder, context))
    dockerfile_path = posixpath.normpath(posixpath.join(context_path, dockerfile))
    target = text("target", None)
    args = []
    for key, value in _as_dict(attributes.get("args")).items():
        evaluated = _evaluate(value, variables, 0)
        if isinstance(evaluated, str):
            args.append((str(key), evaluated))
    platforms_value = attributes.get("platforms")
    platforms: tuple[str, ...] = ()
    if isinstance(platforms_value, list):
        evaluated_platforms = [_evaluate(item, variables, 0) for item in platforms_value]
        if all(isinstance(item, str) for item in evaluated_platforms):
            platforms = tuple(evaluated_platforms)  # type: ignore[arg-type]
    outputs_value = attributes.get("output")
    outputs: list[str | None] = []
    if isinstance(outputs_value, list):
        outputs = [
            item if isinstance(item, str) else None for item in (_evaluate(v, variables, 0) for v in outputs_value)
        ]
    return BuildCommand(
        "docker buildx bake",
        context_path,
        (dockerfile_path,),
        target if isinstance(target, str) else None,
        tuple(sorted(args)),
        platforms,
        exports_files(outputs),
        tuple(str(name) for name in _as_dict(attributes.get("contexts"))),
    )


def _evaluate(value: object, variables: dict, depth: int) -> str | None | _Unknown:
    """A scalar attribute as a string; None for null; UNKNOWN for anything else."""
    if depth > 16:
        return UNKNOWN
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, _Template):
        return UNKNOWN
    out = []
    for kind, part in value.parts:
        if kind == "lit":
            out.append(part)
            continue
        if part not in variables:
            return UNKNOWN
        filled = _evaluate(variables[part], variables, depth + 1)
        if not isinstance(filled, str):
            return UNKNOWN
        out.append(filled)
    return "".join(out)


class _Error(Exception):
    pass


# -- JSON -----------------------------------------------------------------------------------


def _json_blocks(text: str) -> list[_Block]:
    try:
        document = json.loads(text)
    except ValueError as error:
        raise _Error from error
    if not isinstance(document, dict):
        raise _Error
    blocks = []
    for kind in ("variable", "target"):
        for name, attributes in _as_dict(document.get(kind)).items():
            if isinstance(attributes, dict):
                at = text.find(json.dumps(name))
                line = text.count("\n", 0, max(at, 0)) + 1
                blocks.append(_Block(kind, [name], {k: _json_value(v) for k, v in attributes.items()}, line))
    return blocks


def _json_value(value: object) -> object:
    if isinstance(value, str):
        return _template(value)
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_value(item) for key, item in value.items()}
    return value


# -- HCL --------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<newline>\n)
  | (?P<space>[ \t\r]+)
  | (?P<comment>(?:\#|//)[^\n]*|/\*.*?\*/)
  | (?P<heredoc><<-?(?P<marker>[A-Za-z_][A-Za-z0-9_]*)\n)
  | (?P<string>")
  | (?P<number>-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<punct>[{}\[\](),=:?.!<>+*/%&|-])
    """,
    re.VERBOSE | re.DOTALL,
)


class _Tok(Struct, frozen=True):
    kind: str
    value: object
    line: int


def _hcl_tokens(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    index, line, end = 0, 1, len(text)
    while index < end:
        if len(tokens) > _MAX_TOKENS:
            raise _Error
        match = _TOKEN.match(text, index)
        if match is None:
            raise _Error
        kind = match.lastgroup
        if kind == "marker":
            kind = "heredoc"
        if kind == "string":
            value, stop = _hcl_string(text, match.end())
            tokens.append(_Tok("string", value, line))
            line += text.count("\n", index, stop)
            index = stop
            continue
        if kind == "heredoc":
            marker = match.group("marker")
            close = re.compile(r"^[ \t]*" + re.escape(marker) + r"[ \t]*$", re.MULTILINE)
            found = close.search(text, match.end())
            if found is None:
                raise _Error
            body = text[match.end() : found.start()]
            tokens.append(_Tok("string", _template(body), line))
            line += text.count("\n", index, found.end())
            index = found.end()
            continue
        if kind == "newline":
            tokens.append(_Tok("newline", "\n", line))
            line += 1
        elif kind == "comment":
            line += match.group().count("\n")
        elif kind != "space":
            raw = match.group()
            tokens.append(_Tok(kind, raw, line))
        index = match.end()
    return tokens


def _hcl_string(text: str, start: int) -> tuple[object, int]:
    """A quoted template from ``start`` (after the quote) to its closing quote."""
    out: list[str] = []
    index, end = start, len(text)
    while index < end:
        char = text[index]
        if char == '"':
            return _template("".join(out)), index + 1
        if char == "\n":
            raise _Error
        if char == "\\" and index + 1 < end:
            out.append(
                {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}.get(text[index + 1], "\\" + text[index + 1])
            )
            index += 2
            continue
        if text.startswith(("$${", "%%{"), index):
            out.append(text[index : index + 3])  # an escaped `${`: kept for _template to read
            index += 3
            continue
        if text.startswith("${", index) or text.startswith("%{", index):
            close = _close_brace(text, index + 2)
            out.append(text[index:close])
            index = close
            continue
        out.append(char)
        index += 1
    raise _Error


def _close_brace(text: str, index: int) -> int:
    depth = 1
    while index < len(text):
        char = text[index]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
        elif char == '"':
            index = text.find('"', index + 1)
            if index < 0:
                raise _Error
        index += 1
    raise _Error


def _template(text: str) -> _Template | _Unknown:
    parts: list[tuple[str, str]] = []
    position = 0
    for match in re.finditer(r"\$\$\{|%%\{|\$\{([^}]*)\}|%\{", text):
        literal = text[position : match.start()]
        position = match.end()
        if match.group() in ("$${", "%%{"):
            parts.append(("lit", literal + match.group()[1:]))
            continue
        if match.group() == "%{":
            return UNKNOWN
        parts.append(("lit", literal))
        name = match.group(1).strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            return UNKNOWN
        parts.append(("var", name))
    parts.append(("lit", text[position:]))
    return _Template(tuple(part for part in parts if part != ("lit", "")))


class _Parser:
    def __init__(self, tokens: list[_Tok]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self, skip_newlines: bool = False) -> _Tok | None:
        index = self.index
        while skip_newlines and index < len(self.tokens) and self.tokens[index].kind == "newline":
            index += 1
        return self.tokens[index] if index < len(self.tokens) else None

    def next(self, skip_newlines: bool = False) -> _Tok:
        while skip_newlines and self.index < len(self.tokens) and self.tokens[self.index].kind == "newline":
            self.index += 1
        if self.index >= len(self.tokens):
            raise _Error
        token = self.tokens[self.index]
        self.index += 1
        return token

    def body(self, closing: str | None) -> list[_Block | tuple[str, object]]:
        items: list[_Block | tuple[str, object]] = []
        while True:
            token = self.peek(skip_newlines=True)
            if token is None:
                if closing is None:
                    return items
                raise _Error
            if token.kind == "punct" and token.value == closing:
                self.next(skip_newlines=True)
                return items
            name = self.next(skip_newlines=True)
            if name.kind != "name":
                raise _Error
            after = self.peek()
            if after is not None and after.kind == "punct" and after.value == "=":
                self.next()
                items.append((str(name.value), self.expression()))
                continue
            labels: list[str] = []
            while True:
                token = self.next()
                if token.kind == "punct" and token.value == "{":
                    break
                if (
                    token.kind == "string"
                    and isinstance(token.value, _Template)
                    and all(k == "lit" for k, _ in token.value.parts)
                ):
                    labels.append("".join(p for _, p in token.value.parts))
                elif token.kind == "name":
                    labels.append(str(token.value))
                else:
                    raise _Error
            inner = self.body("}")
            attributes = {key: value for key, value in (item for item in inner if isinstance(item, tuple))}
            items.append(_Block(str(name.value), labels, attributes, name.line))

    def expression(self) -> object:
        """One value; what is not a plain value is skipped to its end and is UNKNOWN."""
        value = self.primary()
        token = self.peek()
        if token is None or token.kind == "newline" or (token.kind == "punct" and token.value in ",]})"):
            return value
        self.skip_expression()
        return UNKNOWN

    def primary(self) -> object:
        token = self.next(skip_newlines=True)
        if token.kind == "string":
            return token.value
        if token.kind == "number":
            text = str(token.value)
            return float(text) if any(c in text for c in ".eE") else int(text)
        if token.kind == "name":
            if token.value in ("true", "false"):
                return token.value == "true"
            if token.value == "null":
                return None
            after = self.peek()
            if after is not None and after.kind == "punct" and after.value in "([.":
                self.skip_expression()
                return UNKNOWN
            return _Template((("var", str(token.value)),))  # a bare variable reference
        if token.kind == "punct" and token.value == "[":
            items = []
            while True:
                nxt = self.peek(skip_newlines=True)
                if nxt is None:
                    raise _Error
                if nxt.kind == "punct" and nxt.value == "]":
                    self.next(skip_newlines=True)
                    return items
                if nxt.kind == "name" and nxt.value == "for":
                    self.skip_to("]")
                    return UNKNOWN
                items.append(self.expression())
                nxt = self.peek(skip_newlines=True)
                if nxt is not None and nxt.kind == "punct" and nxt.value == ",":
                    self.next(skip_newlines=True)
        if token.kind == "punct" and token.value == "{":
            mapping: dict = {}
            while True:
                nxt = self.next(skip_newlines=True)
                if nxt.kind == "punct" and nxt.value == "}":
                    return mapping
                if nxt.kind == "punct" and nxt.value == ",":
                    continue
                if nxt.kind == "name" and nxt.value == "for":
                    self.skip_to("}")
                    return UNKNOWN
                if nxt.kind == "name":
                    key = str(nxt.value)
                elif nxt.kind == "string" and isinstance(nxt.value, _Template):
                    key = "".join(p for k, p in nxt.value.parts if k == "lit")
                else:
                    raise _Error
                separator = self.next()
                if not (separator.kind == "punct" and separator.value in "=:"):
                    raise _Error
                mapping[key] = self.expression()
        if token.kind == "punct" and token.value == "(":
            self.skip_to(")")
            return UNKNOWN
        self.skip_expression()
        return UNKNOWN

    def skip_to(self, closing: str) -> None:
        pairs = {"(": ")", "[": "]", "{": "}"}
        depth = 1
        while depth:
            token = self.next()
            if token.kind == "punct" and token.value in pairs:
                depth += 1
            elif token.kind == "punct" and token.value in ")]}":
                depth -= 1
        del closing

    def skip_expression(self) -> None:
        pairs = {"(": ")", "[": "]", "{": "}"}
        while True:
            token = self.peek()
            if token is None or token.kind == "newline":
                return
            if token.kind == "punct" and token.value in ",)]}":
                return
            self.next()
            if token.kind == "punct" and token.value in pairs:
                self.skip_to(pairs[str(token.value)])


def _hcl_blocks(text: str) -> list[_Block]:
    items = _Parser(_hcl_tokens(text)).body(None)
    return [item for item in items if isinstance(item, _Block)]
