"""RUN scripts into simple commands.

INTERFACE (other modules rely on these names; keep them):

- ``parse_script(script: str) -> Script`` never raises. ``script`` is the text a shell
  would run: a shell-form RUN's arguments or a heredoc body.
- ``Command.start``/``Command.end`` and ``Word.start``/``Word.end`` are character offsets
  into ``script``, so the caller can map them to file positions.

What counts as a command: every simple command, wherever it sits (lists, pipelines,
subshells, brace groups, if/for/while/case bodies, functions, ``$(...)``, backticks,
``<(...)``; substitutions nested more than 32 deep are not read, and ``has_error`` says
so), plus ``export``/``declare``/``local``/``readonly``/``unset`` with their
arguments as words. ``time cmd`` keeps ``time`` as the name. Not commands: ``[ ]``/``[[ ]]``
tests (package rules never need them, and their operands are expressions, not argv),
``case`` patterns, bare assignments (``A=1``; a ``$(...)`` inside them still counts)
and heredoc bodies inside the script (data for the command, not code).

``sh -c STRING`` (also ``bash -lc``, ``/bin/sh -ec``, ``bash -o pipefail -c``): STRING
is parsed as well, its commands ``nested``, their offsets mapped into ``script``. The
mapping is exact character by character, escapes map as a whole; ``Word.raw`` of an
inner word is its text in STRING, so it differs from ``script[start:end]`` only where
the outer quoting had escapes (``bash -c "pip install \\"$X\\""``).

The parser is tree-sitter-bash (measured 26/26 correct on realistic RUN lines,
~33 µs/line; library-probe.md §5). It is imported on first use, not at start-up. When
it is not installed, a small quote-aware splitter keeps the linter working.
"""

from __future__ import annotations

import bisect
import functools
import re
import shlex
import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from msgspec import Struct

from dockerlint.regex import lazy_compile


class Word(Struct, frozen=True):
    raw: str  # as written, quotes kept: '"$pkg"'
    value: str  # dequoted: '$pkg'; variables are not expanded
    start: int
    end: int


class Command(Struct, frozen=True, dict=True):
    """One simple command: ``A=1 pip install -r req.txt`` -> name "pip"."""

    words: tuple[Word, ...]  # argv, dequoted in ``Word.value``; redirections excluded
    assignments: tuple[tuple[str, str], ...]  # env prefixes: (("A", "1"),)
    start: int
    end: int
    pipeline: int  # id of the pipeline this command belongs to (unique per script)
    pipe_position: int  # 0 for the first command of a pipeline, 1 for the one after "|", ...
    pipe_length: int  # number of commands in that pipeline (1 when there is no pipe)
    nested: bool = False  # found inside $(...), backticks, <(...), or a `sh -c '...'` string
    # Words a redirection follows without a blank, with it: `torch>=2.1` is `torch` and a
    # redirection to `=2.1` (an unquoted version comparison).
    glued: tuple[str, ...] = ()
    # The `if` conditions the command runs under, as written, with whether it runs when the
    # condition holds (the `then` branch) or when it does not (`else`; an `elif` branch is
    # the earlier conditions failing and its own holding): `[ "$INSTALL_DEV" = "true" ]`.
    guards: tuple[tuple[str, bool], ...] = ()
    # Runs only when the command list before it failed: the part after `||` of `a || b`.
    fallback: bool = False

    @functools.cached_property
    def argv(self) -> tuple[str, ...]:
        return tuple(word.value for word in self.words)

    @property
    def name(self) -> str:
        """The program's base name ("/usr/bin/pip3" -> "pip3"); "" when there is none."""
        return self.words[0].value.rsplit("/", 1)[-1] if self.words else ""


class Script(Struct, frozen=True):
    commands: tuple[Command, ...]  # in source order, including nested ones
    has_error: bool  # the parser had to recover somewhere
    pipefail: bool  # `set -o pipefail` (or `set -euo pipefail` etc.) runs before any pipe


def parse_script(script: str) -> Script:
    """Split ``script`` into simple commands; see the module docstring for what counts.

    ``pipefail`` is True when some ``set`` turns pipefail on and every pipe runs after
    it in its own shell (a ``sh -c`` string is a new shell: ``bash -o pipefail -c`` or a
    ``set`` inside the string covers its pipes, the outer ``set`` does not).
    """
    if len(script) <= MAX_REMEMBERED_SCRIPT:
        return _parse_remembered(script)
    return _parse(script)


# The model, the checks and the fixes ask for the same RUN script several times, and the
# Dockerfiles of one repository repeat their RUN lines (`apt-get update && ...`). A Script
# is immutable, so the last parses are kept; long scripts are not (their trees are large).
MAX_REMEMBERED_SCRIPT = 16 * 1024


@functools.lru_cache(maxsize=512)
def _parse_remembered(script: str) -> Script:
    return _parse(script)


def _parse(script: str) -> Script:
    collector = _Collector()
    try:
        collector.parse(script, _IDENTITY, nested=False, depth=0, pipefail=False)
    except RecursionError:  # absurdly deep nesting; keep what was found
        collector.has_error = True
    commands = sorted(collector.commands, key=lambda command: (command.start, command.end))
    pipefail = any(on for on, _ in collector.shells) and all(covered for _, covered in collector.shells)
    return Script(tuple(commands), collector.has_error, pipefail)


# --- what both splitters hand over ------------------------------------------------------


class _Piece(NamedTuple):
    """A stretch of a dequoted value and the source text it came from.

    ``verbatim`` pieces map character for character; an escape maps as a whole. They let
    a ``sh -c`` string's inner offsets be mapped back into the outer script.
    """

    value: str
    start: int
    end: int
    verbatim: bool


class _ShellString(NamedTuple):
    """The STRING of ``sh -c STRING``: its dequoted text as pieces, and whether the
    shell was started with ``-o pipefail``."""

    pieces: tuple[_Piece, ...]
    pipefail: bool


_Pipe = tuple[int, int, int] | None  # (local pipeline key, position, length), or not in a pipe


class _RawCommand(NamedTuple):
    words: tuple[Word, ...]
    assignments: tuple[tuple[str, str], ...]
    start: int
    end: int
    pipe: _Pipe
    in_substitution: bool
    shell_string: _ShellString | None
    glued: tuple[str, ...] = ()
    guards: tuple[tuple[str, bool], ...] = ()


class _OffsetMap(NamedTuple):
    """Maps offsets in an inner (``sh -c``) script to offsets in the outer one."""

    start: Callable[[int], int]
    end: Callable[[int], int]


_IDENTITY = _OffsetMap(lambda offset: offset, lambda offset: offset)
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh"})
_MAX_SHELL_DEPTH = 8
# Each command inside ``$(`` nested N deep holds the text of every level inside it, so
# hostile nesting costs N² memory; real scripts nest two or three levels.
_MAX_SUBSTITUTION_DEPTH = 32
# tree-sitter's tree and the pieces of its words take a few hundred bytes per character of a
# script made of expansions (a 1.2 MB RUN line: ~900 MB). Real RUN scripts are a few KB;
# a longer one is split by the plain splitter, which is linear in time and memory.
MAX_TREE_SITTER_SCRIPT = 128 * 1024
# tree-sitter's error recovery inside parentheses nested thousands deep is quadratic (a
# stray byte inside 40,000 `(` took 3 s a parse); real scripts nest a few subshells. A
# script nested deeper than this is split by the plain splitter.
MAX_TREE_SITTER_NESTING = 256
# The plain splitter's words and operators take ~150 bytes each: a 2 MB line of
# `-r -r -r ...` would hold 600,000 of them. A script past this many is read up to there
# and marked as not fully parsed; real RUN scripts have a few hundred.
MAX_FALLBACK_TOKENS = 50_000


def _nested_deeper(text: str, limit: int) -> bool:
    """Whether subshell parentheses (not ``$(``, which tree-sitter reads in linear time)
    nest more than ``limit`` deep somewhere in ``text``. Quotes are not told apart: an
    overestimate only sends a script to the plain splitter."""
    if text.count("(") - text.count("$(") <= limit:
        return False
    depth = 0
    previous = ""
    for character in text:
        if character == "(" and previous != "$":
            depth += 1
            if depth > limit:
                return True
        elif character == ")" and depth:
            depth -= 1
        previous = character
    return False


def _after_or(between: str) -> bool:
    """Whether the text between two commands joins them with `||` (`a || b`, also across a
    line continuation or around a closing parenthesis or brace)."""
    return between.replace("\\\n", " ").strip(" \t\n);}").startswith("||")


class _Collector:
    """Commands of one top-level script and of the ``sh -c`` strings inside it."""

    def __init__(self) -> None:
        self.commands: list[Command] = []
        self.has_error = False
        self.shells: list[tuple[bool, bool]] = []  # per shell: (pipefail set, pipes covered)
        self._pipelines = 0

    def parse(self, text: str, offsets: _OffsetMap, nested: bool, depth: int, pipefail: bool) -> None:
        readable = len(text) <= MAX_TREE_SITTER_SCRIPT and not _nested_deeper(text, MAX_TREE_SITTER_NESTING)
        parser = _tree_sitter_parser() if readable else None
        if parser is None:
            raw_commands, has_error = _split_without_tree_sitter(text)
        else:
            raw_commands, has_error = _split_with_tree_sitter(parser, text)
        self.has_error = self.has_error or has_error
        raw_commands.sort(key=lambda raw: raw.start)
        pipelines: dict[int, int] = {}
        own: list[tuple[Command, bool]] = []
        listed_end = 0  # where the last command of the script's own list ends
        for raw in raw_commands:
            fallback = raw.start >= listed_end and _after_or(text[listed_end : raw.start])
            listed_end = max(listed_end, raw.end)
            command = self._command(raw, offsets, nested, pipelines, fallback)
            self.commands.append(command)
            own.append((command, raw.in_substitution))
            inner = raw.shell_string
            if inner is not None and depth < _MAX_SHELL_DEPTH:
                inner_text = "".join(piece.value for piece in inner.pieces)
                self.parse(inner_text, _inner_offsets(inner.pieces, offsets), True, depth + 1, inner.pipefail)
        self.shells.append(_pipefail_state(own, pipefail))

    def _command(
        self, raw: _RawCommand, offsets: _OffsetMap, nested: bool, pipelines: dict[int, int], fallback: bool
    ) -> Command:
        if raw.pipe is None:
            pipeline, position, length = self._new_pipeline(), 0, 1
        else:
            key, position, length = raw.pipe
            if key not in pipelines:
                pipelines[key] = self._new_pipeline()
            pipeline = pipelines[key]
        words = raw.words
        if offsets is not _IDENTITY:
            words = tuple(Word(w.raw, w.value, offsets.start(w.start), offsets.end(w.end)) for w in words)
        return Command(
            words,
            raw.assignments,
            offsets.start(raw.start),
            offsets.end(raw.end),
            pipeline,
            position,
            length,
            nested or raw.in_substitution,
            raw.glued,
            raw.guards,
            fallback,
        )

    def _new_pipeline(self) -> int:
        self._pipelines += 1
        return self._pipelines - 1


def _shell_command_string(words: Sequence[Word]) -> tuple[int, bool] | None:
    """Where ``sh -c STRING`` keeps STRING, and whether ``-o pipefail`` came with it.

    Options may come before or after ``-c``; the string is the first operand.
    """
    if not words or words[0].value.rsplit("/", 1)[-1] not in _SHELLS:
        return None
    has_c = pipefail = False
    index = 1
    while index < len(words):
        arg = words[index].value
        if arg == "--":
            index += 1
            break
        if arg.startswith("--"):
            index += 1
            continue
        if len(arg) < 2 or arg[0] not in "-+":
            break
        letters = arg[1:]
        has_c = has_c or "c" in letters
        if ("o" in letters or "O" in letters) and index + 1 < len(words):
            pipefail = pipefail or (arg[0] == "-" and words[index + 1].value == "pipefail")
            index += 1
        index += 1
    if has_c and index < len(words):
        return index, pipefail
    return None


def _inner_offsets(pieces: tuple[_Piece, ...], outer: _OffsetMap) -> _OffsetMap:
    """An offset map from a dequoted string back through its pieces into the outer text."""
    value_starts: list[int] = []
    total = 0
    for piece in pieces:
        value_starts.append(total)
        total += len(piece.value)

    def locate(offset: int) -> tuple[_Piece, int]:
        index = max(bisect.bisect_right(value_starts, offset) - 1, 0)
        while index > 0 and not pieces[index].value:  # skip removed line continuations
            index -= 1
        return pieces[index], offset - value_starts[index]

    def start(offset: int) -> int:
        if not pieces:
            return outer.start(0)
        piece, within = locate(min(offset, max(total - 1, 0)))
        return outer.start(piece.start + within if piece.verbatim else piece.start)

    def end(offset: int) -> int:
        if not pieces or offset <= 0:
            return start(0)
        piece, within = locate(min(offset, total) - 1)
        return outer.end(piece.start + within + 1 if piece.verbatim else piece.end)

    return _OffsetMap(start, end)


def _pipefail_state(commands: list[tuple[Command, bool]], pipefail: bool) -> tuple[bool, bool]:
    """(pipefail was ever on, every pipe ran with it on) for one shell's commands."""
    ever_on, covered = pipefail, True
    for command, in_substitution in commands:
        if command.pipe_length > 1 and command.pipe_position == 0:
            covered = covered and pipefail
        if command.name == "set" and not in_substitution:
            pipefail = _pipefail_after_set(command.argv, pipefail)
            ever_on = ever_on or pipefail
    return ever_on, covered


def _pipefail_after_set(argv: tuple[str, ...], pipefail: bool) -> bool:
    """``set -o pipefail``, ``set -euxo pipefail``, ``set -o errexit -o pipefail``, ``set +o pipefail``."""
    for flag, option in zip(argv[1:], argv[2:], strict=False):
        if option == "pipefail" and flag[:1] in ("-", "+") and "o" in flag[1:]:
            pipefail = flag[0] == "-"
    return pipefail


# --- tree-sitter -------------------------------------------------------------------------

_thread_parsers = threading.local()


@functools.lru_cache(maxsize=1)
def _bash_language() -> Any:
    """tree-sitter's bash grammar, loaded on first use (29 ms), or None when not installed."""
    try:
        import tree_sitter
        import tree_sitter_bash
    except ImportError:
        return None
    return tree_sitter.Language(tree_sitter_bash.language())


def bash_parser() -> Any:
    """tree-sitter's bash parser for this thread, or None when tree-sitter is not
    installed: for modules that follow a script's structure (parse/shellflow.py)."""
    return _tree_sitter_parser()


def _tree_sitter_parser() -> Any:
    """One parser per thread: a tree-sitter parser must not be shared across threads."""
    language = _bash_language()
    if language is None:
        return None
    parser = getattr(_thread_parsers, "parser", None)
    if parser is None:
        import tree_sitter

        parser = _thread_parsers.parser = tree_sitter.Parser(language)
    return parser


_Node = Any  # a tree_sitter.Node; tree-sitter is imported on first use
_StackItem = tuple[_Node, _Pipe, int]  # node, pipeline context, how many $(...) or <(...) it is inside


class _Source:
    """The script as UTF-8 bytes for tree-sitter, with byte -> character offsets back."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8", "surrogatepass")  # lone surrogates must not raise
        self._wide_chars: list[int] = []  # character index of every non-ASCII character
        self._wide_bytes: list[int] = []  # ... its byte offset
        self._wide_ends: list[int] = []  # ... and the byte offset after it
        if len(self.data) != len(text):
            extra = 0
            for match in re.finditer(r"[^\x00-\x7f]", text):
                index = match.start()
                size = len(match.group().encode("utf-8", "surrogatepass"))
                self._wide_chars.append(index)
                self._wide_bytes.append(index + extra)
                self._wide_ends.append(index + extra + size)
                extra += size - 1

    def char(self, byte: int) -> int:
        if not self._wide_chars:
            return byte
        k = bisect.bisect_right(self._wide_bytes, byte) - 1
        if k < 0:
            return byte
        if byte < self._wide_ends[k]:
            return self._wide_chars[k]
        return self._wide_chars[k] + 1 + byte - self._wide_ends[k]

    def span(self, node: _Node) -> tuple[int, int]:
        if not self._wide_chars:
            return node.start_byte, node.end_byte
        return self.char(node.start_byte), self.char(node.end_byte)

    def may_hold_commands(self, node: _Node) -> bool:
        """Whether a word or command could contain $(...), `...`, <(...) or >(...)."""
        return _SUBSTITUTION_START.search(self.data, node.start_byte, node.end_byte) is not None


_SUBSTITUTION_START = re.compile(rb"\$\(|`|[<>]\(")
_NAME = lazy_compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DECLARATIONS = frozenset({"declaration_command", "unset_command"})
_SUBSTITUTIONS = frozenset({"command_substitution", "process_substitution"})
_NOT_WORDS = frozenset({"file_redirect", "heredoc_redirect", "herestring_redirect", "comment", "ERROR"})
# Nodes whose text is kept as written in a dequoted value (variables are not expanded).
_VERBATIM = frozenset({"simple_expansion", "expansion", "arithmetic_expansion", "array"}) | _SUBSTITUTIONS


def _split_with_tree_sitter(parser: Any, text: str) -> tuple[list[_RawCommand], bool]:
    source = _Source(text)
    root = parser.parse(source.data).root_node
    found: list[_RawCommand] = []
    pipeline_keys = 0
    # Iterative: hostile input can nest deeper than Python's recursion limit.
    stack: list[_StackItem] = [(root, None, 0)]
    too_deep = False
    while stack:
        node, pipe, depth = stack.pop()
        kind = node.type
        children = node.named_children
        if kind == "command" or kind in _DECLARATIONS:
            raw = _ts_command(node, source, pipe, depth > 0)
            if raw is not None:
                found.append(raw)
            if not source.may_hold_commands(node):
                continue
            if raw is not None and raw.shell_string is not None:  # the inner parse finds those
                string_start = raw.shell_string.pieces[0].start if raw.shell_string.pieces else -1
                children = [
                    child for child in children if not source.span(child)[0] <= string_start < source.span(child)[1]
                ]
        elif kind in _SUBSTITUTIONS:
            if depth >= _MAX_SUBSTITUTION_DEPTH:
                too_deep = True
                continue
            pipe, depth = None, depth + 1
        elif kind == "heredoc_body" or kind == "comment":
            continue
        elif kind == "pipeline":
            elements, rest = _pipe_elements(node)
            stack.extend(_pipeline_items(elements, rest, pipeline_keys, pipe, depth))
            pipeline_keys += 1
            continue
        elif kind == "redirected_statement":
            heredoc_pipe = _heredoc_pipeline(node)
            if heredoc_pipe is not None:
                stack.extend(_heredoc_pipeline_items(node, heredoc_pipe, pipeline_keys, pipe, depth))
                pipeline_keys += 1
                continue
        stack.extend((child, pipe, depth) for child in reversed(children))
    if b"then" in source.data:
        regions = _branches(root, source)
        if regions:
            found = [_guarded(raw, regions) for raw in found]
    return found, root.has_error or too_deep


_Region = tuple[int, int, tuple[tuple[str, bool], ...]]  # (start, end, guards) of an `if` branch


def _branches(root: _Node, source: _Source) -> list[_Region]:
    """The branches of every `if` of the script, with the guards of each."""
    regions: list[_Region] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "if_statement":
            regions += _if_branches(node, source)
        stack.extend(node.named_children)
    return regions


def _if_branches(node: _Node, source: _Source) -> list[_Region]:
    """`if C1; then A; elif C2; then B; else D; fi`: A runs when C1 holds, B when C1 does
    not and C2 does, D when neither does."""
    regions: list[_Region] = []
    failed: list[tuple[str, bool]] = []  # the conditions before, each not holding

    def clause(children: list[_Node], end: int) -> None:
        condition: list[_Node] = []
        body_start = None
        for child in children:
            if child.type == "then":
                body_start = source.span(child)[1]
            elif body_start is None and child.type not in ("if", "elif", ";", "&", "\n"):
                condition.append(child)
        if body_start is None or not condition:
            return
        start = source.span(condition[0])[0]
        text = source.text[start : source.span(condition[-1])[1]]
        if failed:  # an elif's test runs when the conditions before it did not hold
            regions.append((start, body_start, tuple(failed)))
        regions.append((body_start, end, (*failed, (text, True))))
        failed.append((text, False))

    head: list[_Node] = []
    for child in node.children:
        if child.type in ("elif_clause", "else_clause", "fi"):
            if head:
                clause(head, source.span(child)[0])
                head = []
            if child.type == "elif_clause":
                clause(child.children, source.span(child)[1])
            elif child.type == "else_clause":
                start, end = source.span(child)
                regions.append((start, end, tuple(failed)))
        else:
            head.append(child)
    return regions


def _guarded(raw: _RawCommand, regions: list[_Region]) -> _RawCommand:
    guards = tuple(guard for start, end, held in regions if start <= raw.start < end for guard in held)
    return raw._replace(guards=guards) if guards else raw


def _pipe_elements(pipeline: _Node) -> tuple[list[_Node], list[_Node]]:
    """The commands of a pipeline, and the statements after it that tree-sitter put inside.

    tree-sitter-bash 0.25 parses ``a | b | c && d`` as ``a | (b | c && d)``: a list as the
    last element. Pipes bind tighter than ``&&``, so only the list's first element belongs
    to the pipeline; the rest follow it. Nested pipelines are flattened.
    """
    elements, rest = [], []
    work = [pipeline]
    while work:
        node = work.pop()
        if node.type == "pipeline":
            work.extend(child for child in reversed(node.named_children) if child.type != "comment")
        elif node.type == "list" and not work and node.named_child_count:
            first, *others = node.named_children
            rest[:0] = others
            work.append(first)
        else:
            elements.append(node)
    return elements, rest


def _pipeline_items(elements: list[_Node], rest: list[_Node], key: int, pipe: _Pipe, depth: int) -> list[_StackItem]:
    """Stack items (last first) for a pipeline's elements and for what follows it."""
    items = [(element, (key, i, len(elements)), depth) for i, element in enumerate(elements)]
    items.extend((statement, pipe, depth) for statement in rest)
    items.reverse()
    return items


def _heredoc_pipeline(statement: _Node) -> _Node | None:
    """The ``| sh`` of ``cat <<EOF | sh``: tree-sitter files it under the heredoc redirect."""
    for child in statement.named_children:
        if child.type == "heredoc_redirect":
            for grandchild in child.named_children:
                if grandchild.type == "pipeline":
                    return grandchild
    return None


def _heredoc_pipeline_items(
    statement: _Node, heredoc_pipe: _Node, key: int, pipe: _Pipe, depth: int
) -> list[_StackItem]:
    """Stack items for ``cat <<EOF | sh`` with the body and the tail in one pipeline."""
    body = statement.child_by_field_name("body")
    heads: list[_Node] = []
    rest: list[_Node] = []
    if body is not None and body.type == "pipeline":
        heads, rest = _pipe_elements(body)
    elif body is not None:
        heads = [body]
    tail, tail_rest = _pipe_elements(heredoc_pipe)
    items = _pipeline_items(heads + tail, rest + tail_rest, key, pipe, depth)
    for child in statement.named_children:  # other redirects may hold commands: `<<EOF && b`
        if child != body:
            items.extend((grandchild, pipe, depth) for grandchild in child.named_children if grandchild != heredoc_pipe)
    return items


def _ts_command(node: _Node, source: _Source, pipe: _Pipe, in_substitution: bool) -> _RawCommand | None:
    word_nodes: list[_Node] = []
    assignments: list[tuple[str, str]] = []
    if node.type in _DECLARATIONS:
        word_nodes.append(node.children[0])  # the `export` keyword itself
    for child in node.named_children:
        kind = child.type
        if kind == "variable_assignment" and not word_nodes and _is_assignment(child, source):
            value = child.child_by_field_name("value")
            assignments.append(
                (_value(child.child_by_field_name("name"), source), "" if value is None else _value(value, source))
            )
        elif kind == "command_name":
            name_parts = child.named_children
            word_nodes.append(name_parts[0] if name_parts else child)
        elif kind not in _NOT_WORDS:
            word_nodes.append(child)
    if not word_nodes:
        return None
    after, glued = _words_after_redirect_targets(node, source)
    groups = _adjacent(word_nodes + after, source)
    words = tuple([_ts_word(group[0], source) if len(group) == 1 else _joined(group, source) for group in groups])
    shell_string = None
    inner = _shell_command_string(words)
    if inner is not None:
        index, pipefail = inner
        shell_string = _ShellString(tuple(piece for part in groups[index] for piece in _pieces(part, source)), pipefail)
    start, end = source.span(node)
    if after:
        end = max(end, words[-1].end)
    return _RawCommand(words, tuple(assignments), start, end, pipe, in_substitution, shell_string, glued)


def _adjacent(nodes: list[_Node], source: _Source) -> list[list[_Node]]:
    """The nodes grouped into shell words: nodes with nothing between them are one word.
    tree-sitter ends a word at a closing bracket (``uvicorn[standard]\\>=0.29`` is two
    nodes), where bash reads on to the next blank."""
    groups: list[list[_Node]] = []
    for node in nodes:
        if groups and source.span(groups[-1][-1])[1] == source.span(node)[0]:
            groups[-1].append(node)
        else:
            groups.append([node])
    return groups


def _joined(nodes: list[_Node], source: _Source) -> Word:
    """One word of several adjacent nodes."""
    parts = [_ts_word(node, source) for node in nodes]
    return Word(
        "".join(part.raw for part in parts), "".join(part.value for part in parts), parts[0].start, parts[-1].end
    )


def _words_after_redirect_targets(command: _Node, source: _Source) -> tuple[list[_Node], tuple[str, ...]]:
    """Arguments written after a redirection: bash takes one word as its target and gives the
    rest to the command (``pip install torch>=2.1 --index-url URL`` passes the index URL),
    while tree-sitter files them all under the redirect. Also each redirection written
    against the word before it, with that word (``torch>=2.1``)."""
    node, parent = command, command.parent
    # `true && pip install a>=1 b`: tree-sitter files the redirections under the whole list;
    # bash gives them to its last command
    while parent is not None and parent.type == "list" and parent.named_children[-1].end_byte == node.end_byte:
        node, parent = parent, parent.parent
    if parent is None or parent.type != "redirected_statement":
        return [], ()
    found: list[_Node] = []
    glued: list[str] = []
    before = command  # the node whose last word a redirection may follow
    for redirect in parent.named_children:
        if redirect.type != "file_redirect" or redirect.start_byte < command.end_byte:
            continue
        start = redirect.start_byte
        if start > 0 and source.data[start - 1 : start] not in (b" ", b"\t", b"\n", b"\\"):
            last = (before.named_children or [before])[-1] if before is not command else None
            word_start = last.start_byte if last is not None else _last_word_start(command)
            targets = [child for child in redirect.named_children if child.type != "file_descriptor"]
            end = targets[0].end_byte if targets else redirect.end_byte
            glued.append(source.data[word_start:end].decode("utf-8", "replace"))
        targets = [child for child in redirect.named_children if child.type != "file_descriptor"]
        found += targets[1:]
        before = redirect
    return found, tuple(glued)


def _last_word_start(command: _Node) -> int:
    children = [child for child in command.named_children if child.type not in _NOT_WORDS]
    return children[-1].start_byte if children else command.start_byte


def _is_assignment(node: _Node, source: _Source) -> bool:
    """tree-sitter also accepts ``--mount=x`` as an assignment; bash runs it as a word."""
    name = node.child_by_field_name("name")
    return name is not None and _NAME.fullmatch(_value(name, source)) is not None


def _ts_word(node: _Node, source: _Source) -> Word:
    """One word; plain words and '...' strings (most of them) without building pieces."""
    start, end = source.span(node)
    raw = source.text[start:end]
    kind = node.type
    if kind == "word" and "\\" not in raw:
        value = raw
    elif kind == "raw_string" and len(raw) >= 2 and raw[-1] == "'":
        value = raw[1:-1]
    else:
        value = "".join(piece.value for piece in _pieces(node, source))
    return Word(raw, value, start, end)


def _value(node: _Node, source: _Source) -> str:
    return _ts_word(node, source).value


def _pieces(node: _Node, source: _Source) -> list[_Piece]:
    """The dequoted value of one word node, as pieces."""
    text = source.text
    start, end = source.span(node)
    kind = node.type
    if kind == "word":
        return _unescape(text, start, end, _UNQUOTED_ESCAPE, _escaped_char)
    if kind == "raw_string":
        closed = end - start >= 2 and text[end - 1] == "'"
        return [_verbatim(text, start + 1, end - 1 if closed else end)]
    if kind == "ansi_c_string":
        closed = end - start >= 3 and text[end - 1] == "'"
        return _unescape(text, start + 2, end - 1 if closed else end, _ANSI_C_ESCAPE, _ansi_c_escape)
    if kind == "string":
        return _double_quoted(node, source, start, end)
    if kind in _VERBATIM or node.child_count == 0:
        return [_verbatim(text, start, end)]
    pieces: list[_Piece] = []  # concatenation, variable_assignment, ...: children in turn
    position = start
    for child in node.children:
        child_start, child_end = source.span(child)
        if child_start > position:
            pieces.append(_verbatim(text, position, child_start))
        pieces.extend(_pieces(child, source))
        position = max(position, child_end)
    if end > position:
        pieces.append(_verbatim(text, position, end))
    return pieces


def _double_quoted(node: _Node, source: _Source, start: int, end: int) -> list[_Piece]:
    """ "..." : backslash escapes only $ ` " \\ and newline; expansions stay as written."""
    text = source.text
    children = node.children
    content_start = start + 1 if text[start : start + 1] == '"' else start
    last = children[-1] if children else None
    closed = (
        last is not None
        and len(children) > 1
        and not last.is_named
        and not last.is_missing
        and text[end - 1 : end] == '"'
    )
    content_end = end - 1 if closed else end
    pieces: list[_Piece] = []
    position = content_start
    for child in children:
        if child.is_named and child.type != "string_content":
            child_start, child_end = source.span(child)
            pieces.extend(_unescape(text, position, child_start, _DOUBLE_QUOTED_ESCAPE, _escaped_char))
            pieces.append(_verbatim(text, child_start, child_end))
            position = child_end
    pieces.extend(_unescape(text, position, content_end, _DOUBLE_QUOTED_ESCAPE, _escaped_char))
    return pieces


# --- dequoting helpers (shared with the fallback) ---------------------------------------------

_UNQUOTED_ESCAPE = lazy_compile(r"\\(.)", re.DOTALL)
_DOUBLE_QUOTED_ESCAPE = lazy_compile(r'\\([$`"\\\n])')
_ANSI_C_ESCAPE = lazy_compile(r"\\(x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}|[0-7]{1,3}|c.|.)", re.DOTALL)
_ANSI_C_SIMPLE = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r",
                  "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}  # fmt: skip


def _verbatim(text: str, start: int, end: int) -> _Piece:
    return _Piece(text[start:end], start, end, True)


def _unescape(
    text: str, start: int, end: int, pattern: re.Pattern[str], replace: Callable[[str], str | None]
) -> list[_Piece]:
    if start >= end:
        return []
    if text.find("\\", start, end) == -1:
        return [_verbatim(text, start, end)]
    pieces: list[_Piece] = []
    position = start
    for match in pattern.finditer(text, start, end):
        replacement = replace(match.group(1))
        if replacement is None:
            continue
        if match.start() > position:
            pieces.append(_verbatim(text, position, match.start()))
        pieces.append(_Piece(replacement, match.start(), match.end(), False))
        position = match.end()
    if end > position:
        pieces.append(_verbatim(text, position, end))
    return pieces


def _escaped_char(escaped: str) -> str:
    return "" if escaped == "\n" else escaped  # backslash-newline continues the line


def _ansi_c_escape(escaped: str) -> str | None:
    head = escaped[0]
    if head in "xuU" and len(escaped) > 1:
        code = int(escaped[1:], 16)
        return chr(code) if code <= 0x10FFFF else None
    if head in "01234567":
        return chr(int(escaped, 8) & 0xFF)
    if head == "c" and len(escaped) == 2:
        return chr(ord(escaped[1]) & 0x1F)
    return _ANSI_C_SIMPLE.get(escaped)


# --- fallback without tree-sitter -----------------------------------------------------------

_OPERATORS = ("&&", "||", ";;", "|&", ";", "|", "&", "(", ")")
_REDIRECT_OPERATORS = ("<<<", "<<-", "<<", ">>", ">&", "<&", "&>>", "&>", ">|", "<>", ">", "<")
_OPERATOR_STARTS = frozenset(op[0] for op in _OPERATORS + _REDIRECT_OPERATORS)  # no other word is one
_KEYWORDS = frozenset({"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}"})
_ASSIGNMENT = lazy_compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")


def _split_without_tree_sitter(text: str) -> tuple[list[_RawCommand], bool]:
    """Best effort without tree-sitter: split on && || ; | & and newlines outside quotes.

    Redirections, heredoc bodies, shell keywords, ``for``/``case`` headers and ``case``
    patterns are dropped. Commands inside ``$(...)`` are not found.
    """
    tokens, has_error = _fallback_tokens(text)
    found: list[_RawCommand] = []
    words: list[Word] = []
    pipeline: list[list[Word]] = []
    skipping = ""  # "header": `for x in ...` / `case x in`; "pattern": a case pattern
    case_depth = 0

    def end_pipeline() -> None:
        key = len(found)
        for position, command_words in enumerate(pipeline):
            pipe = (key, position, len(pipeline)) if len(pipeline) > 1 else None
            command = _fallback_command(command_words, pipe)
            if command is not None:
                found.append(command)
        pipeline.clear()

    for token in tokens:
        if isinstance(token, str):  # an operator
            if skipping == "pattern":
                skipping = "" if token == ")" else skipping
                continue
            if skipping == "header":
                skipping = "" if token in (";", "\n") else skipping
                continue
            if words:
                pipeline.append(words)
                words = []
            if token not in ("|", "|&"):
                end_pipeline()
            if token == ";;" and case_depth:
                skipping = "pattern"
            continue
        keyword = token.value if token.raw == token.value else ""
        if skipping == "header":
            skipping = "pattern" if keyword == "in" and case_depth else skipping
            continue
        if skipping == "pattern" or (not words and keyword == "esac"):
            if keyword == "esac":
                skipping, case_depth = "", case_depth - 1
            continue
        if not words:
            if keyword in ("for", "select", "case"):
                skipping = "header"
                case_depth += keyword == "case"
                continue
            if keyword in _KEYWORDS:
                continue
        words.append(token)
    if words:
        pipeline.append(words)
    end_pipeline()
    return found, has_error


def _fallback_command(words: list[Word], pipe: tuple[int, int, int] | None) -> _RawCommand | None:
    start, end = words[0].start, words[-1].end
    assignments = []
    while words and _ASSIGNMENT.match(words[0].raw):
        name, _, value = words.pop(0).value.partition("=")
        assignments.append((name.rstrip("+"), value))
    if not words or words[0].value in ("[", "[["):  # tests are skipped, as with tree-sitter
        return None
    shell_string = None
    inner = _shell_command_string(words)
    if inner is not None:
        index, pipefail = inner
        shell_string = _ShellString(_fallback_pieces(words[index]), pipefail)
    return _RawCommand(tuple(words), tuple(assignments), start, end, pipe, False, shell_string)


def _fallback_tokens(text: str) -> tuple[list[Word | str], bool]:
    """Words and operators ("\\n" stands for a newline), skipping redirections and heredocs."""
    tokens: list[Word | str] = []
    has_error = False
    heredocs: list[tuple[str, bool]] = []  # (delimiter, strip tabs) waiting for the next line
    redirect_target = False
    index, length = 0, len(text)
    while index < length:
        if len(tokens) >= MAX_FALLBACK_TOKENS:
            has_error = True
            break
        char = text[index]
        if char in " \t\r":
            index += 1
        elif char == "\\" and text.startswith("\n", index + 1):
            index += 2
        elif char == "\n":
            tokens.append("\n")
            index = _skip_heredoc_bodies(text, index + 1, heredocs)
            heredocs.clear()
        elif char == "#":
            newline = text.find("\n", index)
            index = length if newline == -1 else newline
        elif char in _OPERATOR_STARTS and (
            redirect := next((op for op in _REDIRECT_OPERATORS if text.startswith(op, index)), None)
        ):
            index += len(redirect)
            redirect_target = redirect
        elif char in _OPERATOR_STARTS and (
            operator := next((op for op in _OPERATORS if text.startswith(op, index)), None)
        ):
            tokens.append(operator)
            index += len(operator)
        else:
            end, closed = _fallback_word_end(text, index)
            has_error = has_error or not closed
            raw = text[index:end]
            if raw.isdigit() and text.startswith((">", "<"), end):
                pass  # a file descriptor: the 2 of 2>&1
            elif redirect_target:
                if redirect_target in ("<<", "<<-"):
                    heredocs.append((_fallback_value(raw), redirect_target == "<<-"))
                redirect_target = False
            else:
                tokens.append(Word(raw, _fallback_value(raw), index, end))
            index = end
    return tokens, has_error


def _fallback_word_end(text: str, index: int) -> tuple[int, bool]:
    """End of the word at ``index`` (quotes, escapes, $(...) and backticks kept inside)."""
    quote = ""
    depth = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char == "\\" and quote != "'":
            index += 2
            continue
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char == "(" and depth or text.startswith("$(", index):
            depth += 1
            index += 2 if char == "$" else 1
            continue
        elif char == ")" and depth:
            depth -= 1
        elif char in " \t\r\n;&|()<>" and not depth:
            break
        index += 1
    return min(index, length), not quote and not depth


def _skip_heredoc_bodies(text: str, index: int, heredocs: list[tuple[str, bool]]) -> int:
    for delimiter, strip_tabs in heredocs:
        while index < len(text):
            newline = text.find("\n", index)
            line_end = len(text) if newline == -1 else newline
            line = text[index:line_end]
            index = line_end + 1
            if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                break
    return min(index, len(text))


# shlex builds a token one character at a time (quadratic in its length): a word longer
# than this is kept as written. No package name, path or option is near it.
_MAX_DEQUOTED_WORD = 8192


def _fallback_value(raw: str) -> str:
    if len(raw) > _MAX_DEQUOTED_WORD:
        return raw
    if raw.startswith("$'") and raw.endswith("'") and len(raw) > 2:
        return "".join(piece.value for piece in _unescape(raw, 2, len(raw) - 1, _ANSI_C_ESCAPE, _ansi_c_escape))
    try:
        parts = shlex.split(raw)
    except ValueError:  # unterminated quote
        return raw
    return parts[0] if len(parts) == 1 else raw


def _fallback_pieces(word: Word) -> tuple[_Piece, ...]:
    """Exact for a quoted string without escapes; otherwise the whole word maps as one."""
    raw, value = word.raw, word.value
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"" and value == raw[1:-1]:
        return (_Piece(value, word.start + 1, word.end - 1, True),)
    return (_Piece(value, word.start, word.end, value == raw),)
