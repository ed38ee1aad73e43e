"""A shell script followed statement by statement, without running it: which simple
commands it runs, with which words, in which directory.

Build scripts, CI steps and Makefile recipes say where an image is built with ``cd``,
variables (``DOCKERFILE=docker/Dockerfile``), functions called with arguments and
``for`` loops over fixed words. This module follows exactly those, on the tree that
tree-sitter-bash gives (the parser of ``parse/shell.py``), and nothing more:

- a word is expanded when every part of it is known; otherwise it is ``None``. Unquoted
  expansions are split on blanks; ``${VAR:-default}`` is known only when VAR is;
  ``$(pwd)``, ``$(dirname "$0")`` (also ``${BASH_SOURCE[0]}``, with ``cd ... && pwd``
  around it) and ``$(git rev-parse --show-toplevel)`` are the directories they print.
- ``cd``/``pushd`` move the working directory; ``popd``, ``cd -`` or an unknown target
  make it unknown. Subshells, pipelines and ``$(...)`` keep their changes to themselves.
- what happens in only some branches (``if``, ``case``, ``||``, loops) is kept only where
  every way through agrees; anything else becomes unknown.
- ``source``/``.`` and ``eval`` make every variable unknown from there on.

``commands(script, cwd=..., variables=...)`` never raises and yields each simple command
with its argv and directory, in the order the script runs them (function bodies where
they are called), and each output redirection as ``(WRITES, target)``. Without
tree-sitter it yields nothing: a guess is worse than silence.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any

from msgspec import Struct, field

from dockerlint.parse.shell import bash_parser

_Node = Any
UNKNOWN_NAME = "__DOCKERLINT_UNKNOWN__"  # a variable that is never known: callers put it in text they cannot read
WRITES = ">"  # argv[0] of the entry for an output redirection: (WRITES, target path or None)
_MAX_CALL_DEPTH = 8
_MAX_LOOP_WORDS = 32
_MAX_COMMANDS = 10_000


class RanCommand(Struct, frozen=True):
    argv: tuple[str | None, ...]  # None: a word that cannot be known
    cwd: str | None  # absolute POSIX path, None when unknown
    offset: int  # character offset of the command in the script


class _State(Struct):
    cwd: str | None
    variables: dict[str, str | None]  # None: assigned, but to something unknown
    positional: tuple[str | None, ...] | None  # $1...; None when unknown
    functions: dict[str, _Node] = field(default_factory=dict)
    depth: int = 0

    def copy(self) -> _State:
        return _State(self.cwd, dict(self.variables), self.positional, dict(self.functions), self.depth)


def commands(
    script: str,
    *,
    cwd: str | None,
    variables: Mapping[str, str | None] | None = None,
    script_path: str | None = None,
    repository: str | None = None,
) -> list[RanCommand]:
    """Every simple command ``script`` runs, in order. ``variables`` are known before it
    starts (None: unknown); ``script_path`` is ``$0``; ``repository`` is the checkout root."""
    parser = bash_parser()
    if parser is None:
        return []
    stripped = script.rstrip()
    if stripped.endswith("\\"):  # a continued last line (a Makefile recipe's `; \`): nothing follows
        script = stripped[:-1]
    walker = _Walker(script, script_path, repository)
    try:
        tree = parser.parse(walker.data)
    except Exception:  # tree-sitter refuses the input: nothing is known
        return []
    state = _State(cwd, dict(variables or {}), ())
    try:
        walker.statements(tree.root_node.named_children, state)
    except (RecursionError, _Stop):
        pass
    return walker.found


class _Stop(Exception):
    pass


class _Walker:
    def __init__(self, script: str, script_path: str | None, repository: str | None) -> None:
        self.text = script
        self.data = script.encode("utf-8", "surrogatepass")
        self.ascii = len(self.data) == len(script)
        self.script_path = script_path
        self.repository = repository
        self.found: list[RanCommand] = []

    # -- statements -------------------------------------------------------------------------
    def statements(self, nodes, state: _State) -> None:
        for node in nodes:
            self.statement(node, state)

    def statement(self, node: _Node, state: _State) -> None:
        kind = node.type
        if kind in ("comment", "heredoc_body", "test_command"):
            return
        if kind == "ERROR":
            state.cwd = None  # what the parser could not read may have moved
            return
        if kind == "command":
            self.command(node, state)
        elif kind == "variable_assignment":
            self.assign(node, state)
        elif kind == "variable_assignments":
            for child in node.named_children:
                self.assign(child, state)
        elif kind == "declaration_command":
            self.declare(node, state)
        elif kind == "unset_command":
            for child in node.named_children:
                state.variables[self.source(child)] = None
        elif kind == "function_definition":
            name = node.child_by_field_name("name")
            body = node.child_by_field_name("body")
            if name is not None and body is not None:
                state.functions[self.source(name)] = body
        elif kind in ("program", "compound_statement", "do_group"):
            self.statements(node.named_children, state)
        elif kind == "redirected_statement":
            body = node.child_by_field_name("body")
            if body is not None:
                self.statement(body, state)
            redirects = list(node.named_children)
            for child in node.named_children:  # `cat <<EOF > aws.env`: the file redirect sits in the heredoc's
                if child.type == "heredoc_redirect":
                    redirects += [inner for inner in child.named_children if inner.type == "file_redirect"]
            for child in redirects:  # `> file` writes it: a caller may need to know
                operator = child.children[0].type if child.type == "file_redirect" and child.children else ""
                if operator in (">", ">>", ">|", "&>", "&>>") and child.named_children:
                    target = self.expand_one(child.named_children[-1], state, split=True)
                    self.found.append(RanCommand((WRITES, target), state.cwd, self.offset(child)))
        elif kind == "list":
            self.list(node, state)
        elif kind == "subshell":
            self.statements(node.named_children, state.copy())
        elif kind == "pipeline":
            for child in node.named_children:
                self.statement(child, state.copy())
        elif kind == "negated_command":
            self.statements(node.named_children, state)
        elif kind == "if_statement":
            self.branches(node, state)
        elif kind == "case_statement":
            outcomes = [state]
            for item in node.named_children:
                if item.type == "case_item":
                    branch = state.copy()
                    self.statements([c for c in item.named_children if c != item.named_children[0]], branch)
                    outcomes.append(branch)
            _merge_into(state, outcomes)
        elif kind == "for_statement":
            self.for_loop(node, state)
        elif kind in ("while_statement", "c_style_for_statement"):
            body = node.child_by_field_name("body")
            branch = state.copy()
            if body is not None:
                self.statement(body, branch)
            _merge_into(state, [state, branch])
        else:
            state.cwd = None  # a construct not followed here: stop trusting the directory

    def list(self, node: _Node, state: _State) -> None:
        """``a && b || c``: each part after ``||`` may not run."""
        conditional = False
        for child in node.children:
            if not child.is_named:
                conditional = child.type == "||"
                continue
            if conditional:
                branch = state.copy()
                self.statement(child, branch)
                _merge_into(state, [state, branch])
            else:
                self.statement(child, state)

    def branches(self, node: _Node, state: _State) -> None:
        condition, bodies, current = [], [], None
        has_else = False
        for child in node.children:
            if child.type in ("if", "fi", ";", "&"):
                continue
            if child.type == "then":
                current = []
                bodies.append(current)
                continue
            if child.type in ("elif_clause", "else_clause"):
                # an elif's condition runs only when the earlier ones failed: a branch too
                has_else = has_else or child.type == "else_clause"
                bodies.append([c for c in child.named_children])
                continue
            if current is None:
                if child.is_named:
                    condition.append(child)
            elif child.is_named:
                current.append(child)
        self.statements(condition, state)
        outcomes = [] if has_else else [state.copy()]
        for body in bodies:
            branch = state.copy()
            self.statements(body, branch)
            outcomes.append(branch)
        _merge_into(state, outcomes)

    def for_loop(self, node: _Node, state: _State) -> None:
        variable = node.child_by_field_name("variable")
        body = node.child_by_field_name("body")
        if variable is None or body is None:
            state.cwd = None
            return
        name = self.source(variable)
        values: list[str | None] | None = []
        words = [c for c in node.children_by_field_name("value")]
        for word in words:
            expanded = self.expand(word, state)
            if expanded is None:
                values = None
                break
            values.extend(expanded)
        if not words:
            values = list(state.positional) if state.positional is not None else None
        outcomes = [state.copy()]
        if values is None or len(values) > _MAX_LOOP_WORDS:
            values = [None]
        for value in values:
            branch = state.copy()
            branch.variables[name] = value
            self.statement(body, branch)
            outcomes.append(branch)
        _merge_into(state, outcomes)

    # -- simple commands --------------------------------------------------------------------
    def command(self, node: _Node, state: _State) -> None:
        words: list[str | None] = []
        for child in node.named_children:
            if child.type in ("variable_assignment", "file_redirect", "herestring_redirect", "heredoc_redirect"):
                continue
            if child.type == "command_name":
                child = child.named_children[0] if child.named_children else child
            expanded = self.expand(child, state)
            if expanded is None:
                words.append(None)
            else:
                words.extend(expanded)
        if not words:
            return
        name = words[0]
        if name in ("cd", "pushd"):
            state.cwd = self.chdir(state.cwd, words[1:])
            return
        if name == "popd":
            state.cwd = None
            return
        if name in ("set", "shift"):
            if name == "shift" or any(w is None or w == "--" or not w.startswith(("-", "+")) for w in words[1:]):
                state.positional = None  # set -- a b, set a b: new positional parameters
            return  # set -euo pipefail: options only
        if name in ("source", ".", "eval"):
            state.variables = {key: None for key in state.variables}  # it may assign anything
            if name == "eval":
                state.cwd = None
            return
        if name == "export" or name == "readonly" or name == "local":
            return
        if name is not None and name in state.functions and state.depth < _MAX_CALL_DEPTH:
            call = _State(state.cwd, state.variables, tuple(words[1:]), state.functions, state.depth + 1)
            self.statement(state.functions[name], call)
            state.cwd = call.cwd
            return
        if len(self.found) >= _MAX_COMMANDS:
            raise _Stop
        self.found.append(RanCommand(tuple(words), state.cwd, self.offset(node)))

    def chdir(self, cwd: str | None, arguments: list[str | None]) -> str | None:
        operands = [word for word in arguments if word is None or not word.startswith("-") or word == "-"]
        if len(operands) != 1 or operands[0] in (None, "-") or cwd is None and not operands[0].startswith("/"):
            return None
        target = operands[0]
        if target.startswith("~"):
            return None
        return posixpath.normpath(posixpath.join(cwd or "/", target))

    def assign(self, node: _Node, state: _State) -> None:
        name_node = node.child_by_field_name("name")
        if name_node is None:
            return
        name = self.source(name_node)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            return
        value_node = node.child_by_field_name("value")
        operator = self.data[name_node.end_byte : name_node.end_byte + 2]
        if operator.startswith(b"+="):
            state.variables[name] = None
            return
        if value_node is None:
            state.variables[name] = ""
            return
        state.variables[name] = self.expand_one(value_node, state, split=False)

    def declare(self, node: _Node, state: _State) -> None:
        keyword = node.children[0].type if node.children else ""
        options = [self.source(c) for c in node.named_children if c.type == "word"]
        arrays = any(o.startswith("-") and ("a" in o or "A" in o) for o in options)
        for child in node.named_children:
            if child.type == "variable_assignment":
                if arrays:
                    name = child.child_by_field_name("name")
                    if name is not None:
                        state.variables[self.source(name)] = None
                else:
                    self.assign(child, state)
            elif child.type == "variable_name" and keyword == "local":
                state.variables[self.source(child)] = ""

    # -- words ------------------------------------------------------------------------------
    def expand(self, node: _Node, state: _State) -> list[str] | None:
        """The words one word node becomes; None when unknown."""
        kind = node.type
        if kind in ("simple_expansion", "expansion"):
            value = self.expansion(node, state)
            if value is None:
                return None
            if isinstance(value, tuple):  # "$@" unquoted
                return list(value)
            return value.split()
        if kind == "command_substitution":
            value = self.substitution(node, state)
            return None if value is None else value.split()
        value = self.expand_one(node, state, split=True)
        return None if value is None else [value]

    def expand_one(self, node: _Node, state: _State, *, split: bool) -> str | None:
        """One word's value, no field splitting (assignments, or a quoted word)."""
        kind = node.type
        text = self.source(node)
        if kind == "word":
            if text.startswith("~"):
                return None
            return _unescape(text) if "\\" in text else _checked(text)
        if kind == "number":
            return text
        if kind == "raw_string":
            return _checked(text[1:-1]) if len(text) >= 2 and text.endswith("'") else None
        if kind == "string":
            return self.double_quoted(node, state)
        if kind in ("simple_expansion", "expansion"):
            value = self.expansion(node, state)
            if isinstance(value, tuple):
                return " ".join(v for v in value) if None not in value else None  # type: ignore[misc]
            if value is not None and split and len(value.split()) != 1:
                return None
            return value
        if kind == "command_substitution":
            value = self.substitution(node, state)
            if value is not None and split and len(value.split()) != 1:
                return None
            return value
        if kind == "concatenation":
            parts = []
            for child in node.children:
                part = self.expand_one(child, state, split=split)
                if part is None:
                    return None
                parts.append(part)
            return "".join(parts)
        return None  # $'...', arithmetic, arrays, process substitution, globs with braces...

    def double_quoted(self, node: _Node, state: _State) -> str | None:
        parts: list[str] = []
        children = node.children
        for child in children:
            kind = child.type
            if not child.is_named:
                if kind != '"':
                    parts.append(self.source(child))
                continue
            if kind == "string_content":
                parts.append(_unescape_double(self.source(child)))
            elif kind in ("simple_expansion", "expansion"):
                value = self.expansion(child, state)
                if isinstance(value, tuple):
                    if None in value:
                        return None
                    value = " ".join(value)  # type: ignore[arg-type]
                if value is None:
                    return None
                parts.append(value)
            elif kind == "command_substitution":
                value = self.substitution(child, state)
                if value is None:
                    return None
                parts.append(value)
            else:
                return None
        return _checked("".join(parts))

    def expansion(self, node: _Node, state: _State) -> str | tuple[str | None, ...] | None:
        """$X, ${X}, ${X:-default}, $1, $@; None when unknown."""
        text = self.source(node)
        if node.type == "simple_expansion":
            name = text[1:]
        else:
            inner = text[2:-1] if text.startswith("${") and text.endswith("}") else ""
            match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!-])(?:(:?[-=])(.*))?", inner, re.DOTALL)
            if match is None:
                if inner in ("BASH_SOURCE[0]", "BASH_SOURCE"):
                    return self.script_path
                return None
            name = match.group(1)
            if match.group(2):
                value = self.lookup(name, state)
                if isinstance(value, str) and (value or match.group(2) in ("-", "=")):
                    return value
                return None  # the default applies only when we know the variable is unset
        return self.lookup(name, state)

    def lookup(self, name: str, state: _State) -> str | tuple[str | None, ...] | None:
        if name == "0":
            return self.script_path
        if name.isdigit():
            index = int(name) - 1
            if state.positional is None or index >= len(state.positional):
                return None if state.positional is None or state.depth == 0 else ""
            return state.positional[index]
        if name in ("@", "*"):
            return state.positional if state.positional is not None and state.depth else None
        if name == "PWD":
            return state.cwd
        if name == UNKNOWN_NAME:
            return None
        return state.variables.get(name)

    def substitution(self, node: _Node, state: _State) -> str | None:
        """The few ``$(...)`` whose output is a known directory."""
        inner = self.source(node)
        inner = inner[2:-1] if inner.startswith("$(") else inner[1:-1]
        plain = re.sub(r"\s+", " ", inner.replace('"', "").replace("'", "")).strip()
        script_dir = posixpath.dirname(self.script_path) if self.script_path else None
        if plain == "pwd":
            return state.cwd
        if plain in ("git rev-parse --show-toplevel",):
            return self.repository
        match = re.fullmatch(
            r"(?:cd )?\$\((?:dirname|realpath) \$(?:0|\{0\}|\{BASH_SOURCE\[0\]\}|BASH_SOURCE)\)"
            r"(/[\w./-]*)?(?: (?:&&|;) pwd(?: -P)?)?",
            plain,
        ) or re.fullmatch(r"dirname \$(?:0|\{0\}|\{BASH_SOURCE\[0\]\}|BASH_SOURCE)", plain)
        if match is None:
            return self.path_of(plain, state)
        if script_dir is None:
            return None
        below = match.group(1) if match.re.groups else None
        return posixpath.normpath(script_dir + (below or ""))

    def path_of(self, plain: str, state: _State) -> str | None:
        """``dirname``/``realpath``/``readlink -f`` of a path, or of a variable whose value
        is known: the two steps of `path=$(realpath $0); path=$(dirname "$path")`."""
        match = re.fullmatch(
            r"(dirname|realpath|readlink -[fe]) (?:\$\{?([A-Za-z_][A-Za-z0-9_]*|0)\}?|([\w./-]+))", plain
        )
        if match is None:
            return None
        value = match.group(3) or self.lookup(match.group(2), state)
        if not isinstance(value, str) or not value:
            return None
        if not value.startswith("/"):
            if state.cwd is None:
                return None
            value = posixpath.join(state.cwd, value)
        value = posixpath.normpath(value)
        return posixpath.dirname(value) if match.group(1) == "dirname" else value

    # -- text -------------------------------------------------------------------------------
    def source(self, node: _Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "surrogatepass")

    def offset(self, node: _Node) -> int:
        if self.ascii:
            return node.start_byte
        return len(self.data[: node.start_byte].decode("utf-8", "surrogatepass"))


def _merge_into(state: _State, outcomes: list[_State]) -> None:
    """Keep what every way through agrees on."""
    if not outcomes:
        return
    first = outcomes[0]
    state.cwd = first.cwd if all(o.cwd == first.cwd for o in outcomes) else None
    names = set().union(*(o.variables for o in outcomes))
    merged: dict[str, str | None] = {}
    for name in names:
        values = {o.variables.get(name, _MISSING) for o in outcomes}
        merged[name] = values.pop() if len(values) == 1 else None
        if merged[name] is _MISSING:
            merged[name] = None
    state.variables = merged  # type: ignore[assignment]
    for outcome in outcomes:
        state.functions.update(outcome.functions)
    if any(o.positional != first.positional for o in outcomes):
        state.positional = None


_MISSING: Any = object()


def _checked(value: str) -> str | None:
    return None if UNKNOWN_NAME in value else value


def _unescape(text: str) -> str | None:
    """An unquoted word: a backslash keeps the next character (newline: nothing)."""
    result = re.sub(r"\\(\n|.)", lambda m: "" if m.group(1) == "\n" else m.group(1), text, flags=re.DOTALL)
    return _checked(result)


def _unescape_double(text: str) -> str:
    """Inside "...": a backslash escapes only $ ` " \\ and newline."""
    return re.sub(r'\\([$`"\\\n])', lambda m: "" if m.group(1) == "\n" else m.group(1), text)
