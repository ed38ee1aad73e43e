"""Imports of a Python source file, for rules that compare what an image installs with
what its code imports.

INTERFACE (other modules rely on these names; keep them):

- ``scan_imports(text: str) -> PythonFile`` never raises.
- ``line_scan_imports(text: str) -> tuple[Import, ...] | None`` never raises: the fast,
  inexact reading (None when only ``ast`` can answer).
- ``scan_calls(text: str) -> PythonCalls`` never raises: every call whose callee is a
  dotted name, with the import aliases needed to resolve it (for MDL001).

The stdlib ``ast`` does the work: it is about ten times faster than libcst and uses a
tenth of the memory (notes/library-probe.md §4). When ``ast`` rejects a file because it
uses syntax newer than the running Python (PEP 695 ``type X = …``, PEP 701 f-strings,
PEP 758 ``except A, B:``), libcst, which parses any version, reads it instead, but in a
child process: libcst crashes the whole interpreter on pathological nesting, and its
200 ms import stays off the common path. The child imports this module and runs
``_libcst_child_main`` (imports) or ``_libcst_calls_child_main`` (calls), so both parsers
classify with the same rules.
"""

from __future__ import annotations

import ast
import re
import sys
import warnings
from typing import NamedTuple

from msgspec import Struct

from dockerlint.regex import lazy_compile
from dockerlint.source import Problem, Span


class Import(NamedTuple):  # a tuple: built by the thousand, and kept in the scan cache as a JSON list
    module: str  # absolute dotted name as written; for relative imports the part after the dots (may be "")
    level: int  # 0 absolute, 1 for "from . import x", ...
    names: tuple[str, ...]  # for "from x import a, b": ("a", "b"); () for "import x"
    line: int  # 1-based
    column: int  # 1-based, in code points
    optional: bool  # inside try: whose handlers catch ImportError/ModuleNotFoundError/Exception/bare except
    type_checking: bool  # under `if TYPE_CHECKING:` / `if typing.TYPE_CHECKING:`
    dynamic: bool  # importlib.import_module("x") / __import__("x") / find_spec("x"); module "" when not a literal
    # In the `except ImportError:` of a try that imports these (ast only): the fallback runs
    # only when they are missing (`from tflite_runtime.interpreter import ...`, then tensorflow's).
    fallback_for: tuple[str, ...] = ()


class PythonFile(Struct, frozen=True):
    imports: tuple[Import, ...]
    problems: tuple[Problem, ...]
    parsed_by: str  # "ast", "libcst" or "none"


class Call(Struct, frozen=True):
    """A call whose callee is a dotted name, with what a rule needs of its arguments."""

    function: str  # the callee as written: "hub.load", "SentenceTransformer"
    line: int
    column: int  # 1-based, in code points
    end_line: int
    end_column: int  # exclusive, 1-based
    first: str | None  # the first positional argument when it is a string literal
    keywords: tuple[tuple[str, str | bool | int | float | None], ...]  # name, literal value (None: not a literal)
    scope: str = ""  # the enclosing definitions, dotted ("Model.__init__", "main"); "" at module level
    guarded: bool = False  # inside ``if __name__ == "__main__":`` (runs only as a script)
    nones: tuple[str, ...] = ()  # keywords given a literal ``None``
    # Environment variables whose defaults stand in for arguments (`MODEL = os.getenv("MODEL",
    # "small")`, then `load(MODEL)`): where the image or compose sets one, the value is another.
    settings: tuple[str, ...] = ()
    # Arguments that read a settings attribute (`WhisperModel(settings.encoder.voice_encoder)`):
    # (keyword, or "" for the first positional argument; the attribute's last name)
    attributes: tuple[tuple[str, str], ...] = ()


class PythonCalls(Struct, frozen=True):
    aliases: tuple[tuple[str, str], ...]  # (local name, imported dotted name) in source order
    calls: tuple[Call, ...]
    parsed_by: str  # "ast", "libcst" or "none"
    # ``from .models import Net`` -> ("Net", ".models.Net"): the leading dots are the level
    relative: tuple[tuple[str, str], ...] = ()
    # String defaults of settings classes' fields (pydantic's BaseSettings and the BaseModel
    # sections they nest): ("voice_encoder", "org/whisper-medium"), in source order
    field_defaults: tuple[tuple[str, str], ...] = ()


# A handler catching one of these makes the imports in its try body optional.
IMPORT_ERROR_NAMES = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
# Calls that import, or look up, a module named by their first argument.
DYNAMIC_IMPORT_CALLS = frozenset(
    {
        "__import__",
        "builtins.__import__",
        "importlib.__import__",
        "import_module",
        "importlib.import_module",
        "find_spec",
        "util.find_spec",
        "importlib.util.find_spec",
    }
)
# ``with suppress(ImportError):`` makes its body optional, like try/except.
SUPPRESS_CALLS = frozenset({"suppress", "contextlib.suppress"})

LIBCST_MAX_BYTES = 1_000_000
LIBCST_TIMEOUT_SECONDS = 5.0


def _parse(text: str) -> ast.Module:
    """``ast.parse`` without its warnings (an invalid escape in a scanned file is the
    file's business, not a line on the user's terminal)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text)


def scan_imports(text: str) -> PythonFile:
    try:
        tree = _parse(text)
    except SyntaxError as error:  # also IndentationError and TabError
        return _after_syntax_error(text, error)
    except (ValueError, RecursionError, MemoryError) as error:  # NUL bytes; nesting ast cannot hold
        return PythonFile((), (_unparsable(f"{type(error).__name__}: {error}", 1, 1),), "none")
    return PythonFile(tuple(_AstScanner(text).scan(tree)), (), "ast")


# -- the line scan -------------------------------------------------------------------------
# ``ast`` costs about a millisecond a file, most of a large repository's run. The line
# scan reads imports and the blocks that qualify them (try/except, ``if TYPE_CHECKING:``,
# ``with suppress(...)``) from the lines alone, by indentation. It is not exact: an
# import written inside a multi-line string counts as one, and a block whose lines a
# string interrupts ends early. Callers rely on the direction of those errors: imports
# are never missed, optional and TYPE_CHECKING marks are at worst left off, and an
# answer a finding rests on is confirmed by ``scan_imports``.

_LINE_STATEMENT = re.compile(  # matched at the start of a line
    r"(?P<indent>[ \t]*)(?:"
    r"(?P<import>import[ \t]+|from(?:[ \t]+|(?=\.))(?P<dots>\.*)[ \t]*(?P<module>(?:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)?)"
    r"(?:[ \t]|\\\n)*(?<!\w)import(?=[ \t(\\])[ \t]*)(?P<rest>.*)"
    r"|(?P<try>try)[ \t]*:"
    r"|(?:el)?if[ \t]+(?P<type_checking>(?:[A-Za-z_]\w*\.)*TYPE_CHECKING)[ \t]*:"
    r"|(?:async[ \t]+)?with[ \t]+(?:contextlib\.)?suppress[ \t]*\((?P<suppressed>[^()\n]*)\)[ \t]*:"
    r")"
)
# An import after a colon or semicolon (``if x: import y``, ``a = 1; import b``) is
# not at the start of its line: files holding one are left to ``ast``.
_INLINE_IMPORT = re.compile(r"[:;][ \t]*(?:import[ \t]|from[ \t]+\.*[\w.]*[ \t]+import[ \t])")
_EXCEPT = lazy_compile(r"except\b\*?(?P<types>[^:#\n]*):")
_COMMENT = lazy_compile(r"#[^\n]*")
_ALIAS = lazy_compile(r"\sas\s")  # one whitespace each side: `\s+as\s+` backtracks quadratically over long blanks
_BLOCK_ENDS: dict[int, re.Pattern[str]] = {}
MAX_LINE_SCAN_BLOCKS = 200  # a file with more try/TYPE_CHECKING blocks than this goes to ast


def line_scan_imports(text: str) -> tuple[Import, ...] | None:
    """Imports read from the lines alone, or None when the file needs ``ast`` (dynamic
    imports, an import after a colon or semicolon)."""
    if any(word in text for word in ("import_module", "__import__", "find_spec")) or _INLINE_IMPORT.search(text):
        return None
    optional: list[tuple[int, int]] = []  # (start, end) offsets of block bodies
    type_checking: list[tuple[int, int]] = []
    found: list[Import] = []
    budget = 4 * len(text) + 10_000  # characters the block searches may read: hostile nesting goes to ast
    line, counted = 1, 0  # newlines are counted from the previous match on
    for start in _candidate_lines(text):
        match = _LINE_STATEMENT.match(text, start)
        if match is None:
            continue
        line += text.count("\n", counted, start)
        counted = start
        indent, keyword, rest = match.group("indent", "import", "rest")
        if keyword is None:
            body_start = _next_line(text, match.end())
            body_end = _block_end(text, body_start, len(indent))
            budget -= body_end - body_start
            if budget < 0 or len(optional) + len(type_checking) >= MAX_LINE_SCAN_BLOCKS:
                return None
            if match.group("try") is not None:
                if _handlers_catch_import_errors(text, body_end, indent):
                    optional.append((body_start, body_end))
            elif match.group("type_checking") is not None:
                type_checking.append((body_start, body_end))
            elif _catches_import_errors(_exception_names(match.group("suppressed")) or [""]):
                optional.append((body_start, body_end))
            continue
        if rest.isidentifier():  # most imports: one plain name
            names: tuple[str, ...] = (rest,)
        else:
            names = _imported_names(text, match)
        is_optional = bool(optional) and any(low <= start < high for low, high in optional)
        is_type_checking = bool(type_checking) and any(low <= start < high for low, high in type_checking)
        column = len(indent) + 1
        if keyword[0] == "i":
            found += [Import(name, 0, (), line, column, is_optional, is_type_checking, False) for name in names]
        else:
            module, dots = match.group("module", "dots")
            found.append(Import(module, len(dots), names, line, column, is_optional, is_type_checking, False))
    return tuple(found)


def _imported_names(text: str, match: re.Match[str]) -> tuple[str, ...]:
    """The names after ``import``, over continued lines and parentheses, without
    comments and ``as`` aliases."""
    rest_start, end = match.start("rest"), match.end()
    while end < len(text):  # a line continued by a backslash
        last = end
        while last > rest_start and text[last - 1] in " \t":
            last -= 1
        if last == rest_start or text[last - 1] != "\\":
            break
        newline = text.find("\n", end + 1)
        end = len(text) if newline == -1 else newline
    rest = text[rest_start:end]
    if "(" in rest and ")" not in rest:
        close = text.find(")", end)
        rest = text[rest_start : close if close != -1 else end]
    rest = _COMMENT.sub("", rest).split(";", 1)[0].replace("\\", " ").strip("() \t\n")
    return tuple(name for name in (_ALIAS.split(part, 1)[0].strip(" ()\t\n") for part in rest.split(",")) if name)


def _candidate_lines(text: str) -> list[int]:
    """Starts of the lines holding a word the line scan reads (``str.find`` is several
    times faster than a regex trying every line); a line continued from the one before
    starts there (``from x \\`` then ``import y``)."""
    starts = set()
    heads: dict[int, int] = {}  # line start -> start of the line it continues
    for word in ("import", "try", "TYPE_CHECKING", "suppress"):
        found = text.find(word)
        while found != -1:
            start = text.rfind("\n", 0, found) + 1
            walked = []
            while start >= 2 and text[start - 2] == "\\" and start not in heads:
                walked.append(start)
                start = text.rfind("\n", 0, start - 2) + 1
            start = heads.get(start, start)
            heads.update(dict.fromkeys(walked, start))
            starts.add(start)
            found = text.find(word, found + len(word))
    return sorted(starts)


def _next_line(text: str, position: int) -> int:
    end = text.find("\n", position)
    return len(text) if end == -1 else end + 1


def _block_end(text: str, body_start: int, width: int) -> int:
    """Where a block opened at indentation ``width`` ends: the first line of code (not
    blank, not a comment) indented no deeper than its opener."""
    pattern = _BLOCK_ENDS.get(width)
    if pattern is None:
        pattern = _BLOCK_ENDS[width] = re.compile(rf"^[ \t]{{0,{width}}}(?![ \t\n#])", re.MULTILINE)
    found = pattern.search(text, body_start)
    return found.start() if found else len(text)


def _handlers_catch_import_errors(text: str, position: int, indent: str) -> bool:
    """Whether one of the ``except`` clauses found at ``position`` (the end of a try body)
    catches ImportError. A clause the line cannot read counts as not catching it."""
    while text.startswith(indent, position):
        handler = _EXCEPT.match(text, position + len(indent))
        if handler is None:
            return False  # finally, else, or a clause written over several lines
        if _catches_import_errors(_exception_names(handler.group("types")) or [None]):
            return True
        position = _block_end(text, _next_line(text, handler.end()), len(indent))
    return False


def _exception_names(types: str) -> list[str | None]:
    """``(ImportError, OSError) as error`` -> ["ImportError", "OSError"]."""
    return re.findall(r"[A-Za-z_][\w.]*", re.split(r"\bas\b", types, maxsplit=1)[0])


def scan_calls(text: str) -> PythonCalls:
    """Calls and import aliases of ``text``: ``ast``, or libcst in a child process when
    ``ast`` rejects newer syntax; nothing when neither parses it."""
    try:
        tree = _parse(text)
    except SyntaxError as error:
        rows = _run_libcst_child("_libcst_calls_child_main", text) if _libcst_may_help(text, error) else None
        try:
            aliases = tuple((local, name) for local, name in rows["aliases"])
            relative = tuple((local, name) for local, name in rows["relative"])
            calls = tuple(
                Call(f, ln, c, el, ec, first, tuple(map(tuple, kw)), scope, bool(guarded), tuple(nones))
                for f, ln, c, el, ec, first, kw, scope, guarded, nones in rows["calls"]
            )
        except (TypeError, KeyError, ValueError):
            return PythonCalls((), (), "none")
        return PythonCalls(aliases, calls, "libcst", relative)
    except (ValueError, RecursionError, MemoryError):
        return PythonCalls((), (), "none")
    return _ast_calls(text, tree)


def _ast_calls(text: str, tree: ast.AST) -> PythonCalls:
    columns = _AstScanner(text)
    aliases: list[tuple[int, int, str, str]] = []
    relative: list[tuple[int, int, str, str]] = []
    calls: list[Call] = []
    field_defaults: list[tuple[str, str]] = []
    constants, variables = _module_constants(tree)
    # An explicit stack of (node, enclosing definitions, under the __main__ guard, names the
    # enclosing functions bind): deep trees stay within the recursion limit.
    stack: list[tuple[ast.AST, str, bool, frozenset[str]]] = [(tree, "", False, frozenset())]
    while stack:
        node, scope, guarded, bound = stack.pop()

        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                aliases.append((node.lineno, node.col_offset, local, alias.name if alias.asname else local))
        elif isinstance(node, ast.ImportFrom):
            target = relative if node.level else aliases
            prefix = "." * (node.level or 0) + (node.module or "")
            if node.module or node.level:
                for alias in node.names:
                    name = f"{prefix}.{alias.name}" if node.module else f"{prefix}{alias.name}"
                    target.append((node.lineno, node.col_offset, alias.asname or alias.name, name))
        elif isinstance(node, ast.Call):
            function = _dotted(node.func)
            if function is not None:
                end_line = node.end_lineno or node.lineno
                calls.append(
                    Call(
                        function,
                        node.lineno,
                        columns._column(node.lineno, node.col_offset),
                        end_line,
                        columns._column(end_line, node.end_col_offset or node.col_offset),
                        _string(_value(node.args[0], constants, bound)) if node.args else None,
                        tuple((k.arg, _value(k.value, constants, bound)) for k in node.keywords if k.arg),
                        scope,
                        guarded,
                        tuple(k.arg for k in node.keywords if k.arg and _is_none(k.value)),
                        _settings(node, variables, bound) if variables else (),
                        _attribute_arguments(node),
                    )
                )
        elif isinstance(node, ast.ClassDef) and _settings_class(node):
            field_defaults += _class_defaults(node)
        inner, inner_bound = scope, bound
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            inner = f"{scope}.{node.name}" if scope else node.name
            inner_bound = bound | _bound_names(node) if constants else bound
        for child in ast.iter_child_nodes(node):
            child_guarded = guarded or (
                not scope and isinstance(node, ast.If) and child in node.body and _is_main_test(node.test)
            )
            # Decorators and defaults run where the definition stands, not inside it.
            in_body = inner != scope and not isinstance(child, ast.expr) and not isinstance(child, ast.arguments)
            stack.append((child, inner if in_body else scope, child_guarded, inner_bound if in_body else bound))
    aliases.sort(key=lambda row: row[:2])
    relative.sort(key=lambda row: row[:2])
    calls.sort(key=lambda call: (call.line, call.column))
    return PythonCalls(
        tuple(row[2:] for row in aliases),
        tuple(calls),
        "ast",
        tuple(row[2:] for row in relative),
        tuple(field_defaults),
    )


def _attribute_arguments(call: ast.Call) -> tuple[tuple[str, str], ...]:
    """(keyword or "", last name) of the arguments that are attribute reads (`settings.model`)."""
    found = []
    if call.args and isinstance(call.args[0], ast.Attribute):
        found.append(("", call.args[0].attr))
    found += [(k.arg, k.value.attr) for k in call.keywords if k.arg and isinstance(k.value, ast.Attribute)]
    return tuple(found)


_SETTINGS_BASES = ("BaseSettings", "BaseModel")


def _settings_class(node: ast.ClassDef) -> bool:
    """A pydantic settings class or a section of one (`class EncoderSettings(BaseModel)`),
    or a dataclass of configuration (`@dataclass class Configuration: model: str = "..."`)."""
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if (_dotted(target) or "").rsplit(".", 1)[-1] == "dataclass":
            return True
    for base in node.bases:
        name = base.attr if isinstance(base, ast.Attribute) else base.id if isinstance(base, ast.Name) else ""
        if name in _SETTINGS_BASES or name.endswith("Settings"):
            return True
    return False


def _class_defaults(node: ast.ClassDef) -> list[tuple[str, str]]:
    """The fields a class body gives a string default: `name: str = "x"`, `name = "x"`,
    `name: str = Field("x")` / `Field(default="x")`."""
    found = []
    for statement in node.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            target, value = statement.target.id, statement.value
        elif (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            target, value = statement.targets[0].id, statement.value
        else:
            continue
        if isinstance(value, ast.Call) and _dotted(value.func) in ("Field", "pydantic.Field"):
            keywords = {k.arg: k.value for k in value.keywords if k.arg}
            value = value.args[0] if value.args else keywords.get("default")
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            found.append((target, value.value))
    return found


def _module_constants(tree: ast.AST) -> tuple[dict[str, str], dict[str, str]]:
    """Names the module binds once, at its top level, to a string (`MODEL_NAME = "small"`),
    or to an environment variable with a string default (`os.getenv("MODEL", "small")`,
    `os.environ.get(...)`): the default is what runs where nothing sets the variable. With
    the variable each of the latter reads."""
    values: dict[str, str] = {}
    variables: dict[str, str] = {}
    counts: dict[str, int] = {}
    for statement in getattr(tree, "body", ()):
        targets = statement.targets if isinstance(statement, ast.Assign) else [getattr(statement, "target", None)]
        for target in targets:
            for name in ast.walk(target) if target is not None else ():
                if isinstance(name, ast.Name):
                    counts[name.id] = counts.get(name.id, 0) + 1
        if isinstance(statement, (ast.Assign, ast.AnnAssign)) and len(targets) == 1:
            variable, value = None, None
            if isinstance(statement.value, ast.Call):
                variable, value = _environment_default(statement.value)
            elif isinstance(statement.value, ast.Constant):
                value = statement.value.value
            if isinstance(value, str) and isinstance(targets[0], ast.Name):
                values[targets[0].id] = value
                if variable is not None:
                    variables[targets[0].id] = variable
    once = {name: value for name, value in values.items() if counts.get(name) == 1}
    return once, {name: variable for name, variable in variables.items() if name in once}


def _settings(node: ast.Call, variables: dict[str, str], bound: frozenset[str]) -> tuple[str, ...]:
    """The environment variables behind the call's arguments that are module constants."""
    arguments = [*node.args[:1], *(keyword.value for keyword in node.keywords)]
    return tuple(
        variables[argument.id]
        for argument in arguments
        if isinstance(argument, ast.Name) and argument.id in variables and argument.id not in bound
    )


_ENVIRONMENT_READS = frozenset({"os.getenv", "getenv", "os.environ.get", "environ.get"})


def _environment_default(call: ast.Call) -> tuple[str | None, str | None]:
    """(NAME, its string default) of `os.getenv("NAME", "default")` or `os.environ.get(...)`."""
    if _dotted(call.func) not in _ENVIRONMENT_READS or len(call.args) != 2:
        return None, None
    name, default = (_literal(argument) for argument in call.args)
    if not isinstance(name, str) or not isinstance(default, str):
        return None, None
    return name, default


def _bound_names(definition: ast.AST) -> frozenset[str]:
    """The names a function or class binds itself (parameters, assignments, `global`
    declarations): there a module constant's name may mean something else."""
    found = set()
    for node in ast.walk(definition):
        if isinstance(node, ast.arg):
            found.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            found.add(node.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            found.update(node.names)
    return frozenset(found)


def _value(argument: ast.AST, constants: dict[str, str], bound: frozenset[str]) -> str | bool | int | float | None:
    """A literal, or the module-level string constant a name holds (`MODEL = "small"`)
    where no enclosing function binds that name itself."""
    if isinstance(argument, ast.Name) and argument.id in constants and argument.id not in bound:
        return constants[argument.id]
    return _constant(argument)


def _string(value) -> str | None:
    return value if isinstance(value, str) else None


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _is_main_test(node: ast.AST) -> bool:
    """``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)):
        return False
    sides = [node.left, node.comparators[0]]
    return any(isinstance(side, ast.Name) and side.id == "__name__" for side in sides) and any(
        _literal(side) == "__main__" for side in sides
    )


def _constant(node: ast.AST) -> str | bool | int | float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bool, int, float)):
        return node.value
    return None


def _unparsable(reason: str, line: int, column: int) -> Problem:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return Problem(
        "SYN001",
        f"could not parse this file on Python {version}: {reason}; its imports are not checked",
        Span(line, column, line, column + 1),
    )


def _after_syntax_error(text: str, error: SyntaxError) -> PythonFile:
    line, column = max(error.lineno or 1, 1), max(error.offset or 1, 1)
    problem = _unparsable(f"{error.msg} (line {line})", line, column)
    if not _libcst_may_help(text, error):
        return PythonFile((), (problem,), "none")
    imports = _scan_with_libcst(text)
    if imports is None:
        return PythonFile((), (problem,), "none")
    return PythonFile(imports, (), "libcst")


def _libcst_may_help(text: str, error: SyntaxError) -> bool:
    """Indentation and nesting limits are no newer-syntax problem: libcst would not help
    (and deep nesting is exactly what crashes it); nor is it given very large files."""
    hopeless = isinstance(error, IndentationError) or any(
        reason in str(error.msg) for reason in ("too many nested", "null bytes")
    )
    return not hopeless and len(text.encode("utf-8", "surrogatepass")) <= LIBCST_MAX_BYTES


def _tried_modules(body: list) -> tuple[str, ...]:
    """The absolute modules a try body imports at its own level (what its handlers stand in for)."""
    found: list[str] = []
    for statement in body:
        if isinstance(statement, ast.Import):
            found += [alias.name for alias in statement.names]
        elif isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            found.append(statement.module)
    return tuple(found)


def _scan_with_libcst(text: str) -> tuple[Import, ...] | None:
    """Imports found by libcst in a child process; None if it fails, crashes or times out."""
    rows = _run_libcst_child("_libcst_child_main", text)
    try:
        return tuple(Import(m, lv, tuple(n), ln, c, o, t, d, tuple(f)) for m, lv, n, ln, c, o, t, d, f in rows)
    except (ValueError, TypeError):
        return None


def _run_libcst_child(entry: str, text: str):
    """The JSON that ``entry`` of this module prints when run on ``text`` in a child
    process; None if it fails, crashes or times out."""
    import json
    import subprocess
    from pathlib import Path

    # The child runs in the folder that holds this package, never in the scanned
    # repository, so no file there can shadow a module the child imports.
    package_root = str(Path(__file__).resolve().parents[2])
    script = f"import sys; sys.path.insert(0, {package_root!r}); from dockerlint.parse.python import {entry}; {entry}()"
    try:
        child = subprocess.run(
            [sys.executable, "-c", script],
            input=text.encode("utf-8", "replace"),
            capture_output=True,
            timeout=LIBCST_TIMEOUT_SECONDS,
            cwd=package_root,
        )
    except (subprocess.TimeoutExpired, OSError):
        return None
    if child.returncode != 0:  # a parse error, or a crash (negative: killed by a signal)
        return None
    try:
        return json.loads(child.stdout)
    except ValueError:
        return None


def _catches_import_errors(handler_types: list[str | None]) -> bool:
    """Whether handlers with these caught type names (None: bare except) catch ImportError."""
    return any(name is None or name.rpartition(".")[2] in IMPORT_ERROR_NAMES for name in handler_types)


def _is_type_checking(name: str | None) -> bool:
    return name is not None and name.rpartition(".")[2] == "TYPE_CHECKING"


def _dynamic_target(name: str | None, package: str | None) -> tuple[str, int]:
    """(module, level) named by a dynamic import's literal arguments.

    ``import_module(".sub", package="pkg")`` resolves to ``pkg.sub``; without a literal
    package the relative name is kept with its level. A non-literal name gives ("", 0).
    """
    if name is None:
        return "", 0
    relative = name.lstrip(".")
    level = len(name) - len(relative)
    if level and package:
        parents = package.split(".")
        if level - 1 < len(parents):
            base = ".".join(parents[: len(parents) - (level - 1)])
            return f"{base}.{relative}" if relative else base, 0
    return relative, level


class _AstScanner:
    def __init__(self, text: str):
        self.text = text
        self.lines: list[str] | None = None  # split only when a column needs converting

    def _column(self, line: int, byte_offset: int) -> int:
        """ast counts columns in UTF-8 bytes; spans count code points."""
        if self.text.isascii():
            return byte_offset + 1
        if self.lines is None:
            self.lines = self.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return len(source.encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1

    def scan(self, tree: ast.AST) -> list[Import]:
        """Walk the tree with an explicit stack: a tree ast could build may still be
        deeper than Python's recursion limit.

        Expressions are only entered when the text mentions a dynamic import function;
        otherwise statements suffice, which is most of the time and much faster.
        """
        with_calls = any(word in self.text for word in ("import_module", "__import__", "find_spec"))
        found: list[Import] = []
        stack: list[tuple[ast.AST, bool, bool, tuple[str, ...]]] = [(tree, False, False, ())]
        while stack:
            node, optional, type_checking, fallback_for = stack.pop()
            if isinstance(node, ast.Import):
                for alias in node.names:
                    column = self._column(alias.lineno, alias.col_offset)
                    found.append(
                        Import(alias.name, 0, (), alias.lineno, column, optional, type_checking, False, fallback_for)
                    )
                continue
            if isinstance(node, ast.ImportFrom):
                module, level = node.module or "", node.level or 0
                names = tuple(alias.name for alias in node.names)
                column = self._column(node.lineno, node.col_offset)
                found.append(
                    Import(module, level, names, node.lineno, column, optional, type_checking, False, fallback_for)
                )
                continue
            if with_calls and isinstance(node, ast.Call):
                dynamic = self._dynamic(node, optional, type_checking)
                if dynamic:
                    found.append(dynamic)
            body_optional, body_type_checking = optional, type_checking
            handled: tuple[str, ...] = ()  # what the handlers import in place of
            if isinstance(node, _TRY_NODES):
                body_optional = optional or _catches_import_errors([_handler_name(h.type) for h in node.handlers])
                if body_optional and not optional:
                    handled = _tried_modules(node.body)
            elif isinstance(node, ast.If):
                body_type_checking = type_checking or _is_type_checking(_dotted(node.test))
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                body_optional = optional or any(_suppresses_import_errors(item.context_expr) for item in node.items)
            for field, value in ast.iter_fields(node):
                if not with_calls and field not in _STATEMENT_FIELDS:
                    continue
                if field == "body":
                    flags = (body_optional, body_type_checking, fallback_for)
                else:
                    flags = (optional, type_checking, handled if field == "handlers" else fallback_for)
                for child in value if isinstance(value, list) else (value,):
                    if isinstance(child, ast.AST):
                        stack.append((child, *flags))
        found.sort(key=lambda item: (item.line, item.column))
        return found

    def _dynamic(self, call: ast.Call, optional: bool, type_checking: bool) -> Import | None:
        function = _dotted(call.func)
        if function not in DYNAMIC_IMPORT_CALLS:
            return None
        keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
        name_node = call.args[0] if call.args else keywords.get("name")
        package_node = call.args[1] if len(call.args) > 1 and "__import__" not in function else keywords.get("package")
        module, level = _dynamic_target(_literal(name_node), _literal(package_node))
        column = self._column(call.lineno, call.col_offset)
        return Import(module, level, (), call.lineno, column, optional, type_checking, True)


_TRY_NODES = tuple(getattr(ast, name) for name in ("Try", "TryStar") if hasattr(ast, name))
_STATEMENT_FIELDS = frozenset({"body", "orelse", "finalbody", "handlers", "cases"})


def _dotted(node: ast.AST | None) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _handler_name(node: ast.AST | None) -> str | None:
    """The caught type's name; for a tuple, the first one that catches ImportError."""
    if node is None:
        return None
    if isinstance(node, ast.Tuple):
        names = [_dotted(element) or "" for element in node.elts]
        return next((n for n in names if _catches_import_errors([n])), "")
    return _dotted(node) or ""


def _suppresses_import_errors(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and _dotted(node.func) in SUPPRESS_CALLS
        and _catches_import_errors([_dotted(arg) or "" for arg in node.args])
    )


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _cst_string(cst, node) -> str | None:
    """The value of a libcst string literal (plain or implicitly concatenated), else None.
    ``cst`` is passed in: libcst is only ever imported in the child process."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _libcst_child_main() -> None:
    """Child process: read source on stdin, print its imports as JSON rows; exit 1 on a
    parse error. Runs libcst, so it must never run in the linter's own process."""
    import json

    import libcst as cst
    from libcst.helpers import get_full_name_for_node
    from libcst.metadata import MetadataWrapper, PositionProvider

    def name_of(node) -> str | None:
        return get_full_name_for_node(node) if isinstance(node, (cst.Name, cst.Attribute)) else None

    def literal(node) -> str | None:
        return _cst_string(cst, node)

    def handler_names(handlers) -> list[str | None]:
        names: list[str | None] = []
        for handler in handlers:
            if handler.type is None:
                names.append(None)
            elif isinstance(handler.type, cst.Tuple):
                names += [name_of(element.value) or "" for element in handler.type.elements]
            else:
                names.append(name_of(handler.type) or "")
        return names

    class Visitor(cst.CSTVisitor):
        METADATA_DEPENDENCIES = (PositionProvider,)

        def __init__(self) -> None:
            super().__init__()
            self.optional: list[bool] = []
            self.type_checking: list[bool] = []
            self.trying: list[list[str]] = []  # per try: what its handlers import in place of
            self.fallback: list[list[str]] = []
            self.rows: list[list] = []

        def add(self, node, module: str, level: int, names: list[str], dynamic: bool) -> None:
            start = self.get_metadata(PositionProvider, node).start
            flags = [any(self.optional), any(self.type_checking), dynamic]
            fallback = self.fallback[-1] if self.fallback else []
            self.rows.append([module, level, names, start.line, start.column + 1, *flags, fallback])

        def visit_Try(self, node) -> None:
            tried: list[str] = []
            if not any(self.optional) and _catches_import_errors(handler_names(node.handlers)):
                for line in node.body.body:
                    for statement in getattr(line, "body", ()):
                        if isinstance(statement, cst.Import):
                            tried += [name_of(alias.name) or "" for alias in statement.names]
                        elif isinstance(statement, cst.ImportFrom) and not statement.relative and statement.module:
                            tried.append(name_of(statement.module) or "")
            self.trying.append([name for name in tried if name])

        def leave_Try(self, node) -> None:
            self.trying.pop()

        def visit_ExceptHandler(self, node) -> None:
            self.fallback.append(self.trying[-1] if self.trying else [])

        def leave_ExceptHandler(self, node) -> None:
            self.fallback.pop()

        def visit_Import(self, node) -> None:
            for alias in node.names:
                self.add(alias, name_of(alias.name) or "", 0, [], False)

        def visit_ImportFrom(self, node) -> None:
            names = ["*"] if isinstance(node.names, cst.ImportStar) else [name_of(a.name) or "" for a in node.names]
            self.add(node, name_of(node.module) or "", len(node.relative), names, False)

        def visit_Call(self, node) -> None:
            function = name_of(node.func)
            if function not in DYNAMIC_IMPORT_CALLS:
                return
            positional = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
            keywords = {arg.keyword.value: arg.value for arg in node.args if arg.keyword is not None}
            name = positional[0] if positional else keywords.get("name")
            package = positional[1] if len(positional) > 1 and "__import__" not in function else keywords.get("package")
            module, level = _dynamic_target(literal(name), literal(package))
            self.add(node, module, level, [], True)

        def visit_Try_body(self, node) -> None:
            self.optional.append(_catches_import_errors(handler_names(node.handlers)))

        def leave_Try_body(self, node) -> None:
            self.optional.pop()

        def visit_TryStar_body(self, node) -> None:
            self.optional.append(_catches_import_errors(handler_names(node.handlers)))

        def leave_TryStar_body(self, node) -> None:
            self.optional.pop()

        def visit_With_body(self, node) -> None:
            self.optional.append(
                any(
                    isinstance(item.item, cst.Call)
                    and name_of(item.item.func) in SUPPRESS_CALLS
                    and _catches_import_errors([name_of(arg.value) or "" for arg in item.item.args])
                    for item in node.items
                )
            )

        def leave_With_body(self, node) -> None:
            self.optional.pop()

        def visit_If_body(self, node) -> None:
            self.type_checking.append(_is_type_checking(name_of(node.test)))

        def leave_If_body(self, node) -> None:
            self.type_checking.pop()

    source = sys.stdin.buffer.read().decode("utf-8", "replace")
    try:
        module = cst.parse_module(source)
        visitor = Visitor()
        MetadataWrapper(module, unsafe_skip_copy=True).visit(visitor)
    except (cst.ParserSyntaxError, RecursionError, MemoryError) as error:
        sys.stderr.write(f"{type(error).__name__}: {error}\n")
        sys.exit(1)
    visitor.rows.sort(key=lambda row: (row[3], row[4]))
    sys.stdout.write(json.dumps(visitor.rows))


def _libcst_calls_child_main() -> None:
    """Child process: read source on stdin, print its import aliases and dotted-name calls
    as JSON (the rows of ``scan_calls``); exit 1 on a parse error. Runs libcst, so it must
    never run in the linter's own process."""
    import json

    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    def dotted(node) -> str | None:
        parts = []
        while isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
            node = node.value
        if not isinstance(node, cst.Name):
            return None
        parts.append(node.value)
        return ".".join(reversed(parts))

    def constant(node):
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            return _cst_string(cst, node)
        if isinstance(node, cst.Name) and node.value in ("True", "False"):
            return node.value == "True"
        if isinstance(node, (cst.Integer, cst.Float)):
            return node.evaluated_value
        return None

    class Visitor(cst.CSTVisitor):
        METADATA_DEPENDENCIES = (PositionProvider,)

        def __init__(self) -> None:
            super().__init__()
            self.aliases: list[list] = []
            self.relative: list[list] = []
            self.calls: list[list] = []
            self.scope: list[str] = []
            self.main: list[bool] = []  # per enclosing if-body: is it the __main__ guard

        def visit_Import(self, node) -> None:
            start = self.get_metadata(PositionProvider, node).start
            for alias in node.names:
                name = dotted(alias.name) or ""
                if alias.asname is not None:
                    self.aliases.append([start.line, start.column, dotted(alias.asname.name) or "", name])
                else:
                    top = name.split(".")[0]
                    self.aliases.append([start.line, start.column, top, top])

        def visit_ImportFrom(self, node) -> None:
            if isinstance(node.names, cst.ImportStar) or (node.module is None and not node.relative):
                return
            start = self.get_metadata(PositionProvider, node).start
            module = dotted(node.module) or "" if node.module is not None else ""
            prefix = "." * len(node.relative) + module
            target = self.relative if node.relative else self.aliases
            for alias in node.names:
                name = dotted(alias.name) or ""
                local = dotted(alias.asname.name) if alias.asname is not None else name
                full = f"{prefix}.{name}" if module else f"{prefix}{name}"
                target.append([start.line, start.column, local or "", full])

        def _enter(self, node) -> None:
            self.scope.append(node.name.value)

        def _leave(self, node) -> None:
            self.scope.pop()

        visit_FunctionDef_body = visit_ClassDef_body = _enter
        leave_FunctionDef_body = leave_ClassDef_body = _leave

        def visit_If_body(self, node) -> None:
            test = node.test
            main = (
                not self.scope
                and isinstance(test, cst.Comparison)
                and len(test.comparisons) == 1
                and isinstance(test.comparisons[0].operator, cst.Equal)
                and "__name__" in (dotted(test.left), dotted(test.comparisons[0].comparator))
                and "__main__" in (constant(test.left), constant(test.comparisons[0].comparator))
            )
            self.main.append(bool(main))

        def leave_If_body(self, node) -> None:
            self.main.pop()

        def visit_Call(self, node) -> None:
            function = dotted(node.func)
            if function is None:
                return
            where = self.get_metadata(PositionProvider, node)
            positional = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
            first = constant(positional[0]) if positional else None
            keywords = [[arg.keyword.value, constant(arg.value)] for arg in node.args if arg.keyword is not None]
            nones = [
                arg.keyword.value
                for arg in node.args
                if arg.keyword is not None and isinstance(arg.value, cst.Name) and arg.value.value == "None"
            ]
            self.calls.append(
                [
                    function,
                    where.start.line,
                    where.start.column + 1,
                    where.end.line,
                    where.end.column + 1,
                    first if isinstance(first, str) else None,
                    keywords,
                    ".".join(self.scope),
                    any(self.main),
                    nones,
                ]
            )

    source = sys.stdin.buffer.read().decode("utf-8", "replace")
    try:
        module = cst.parse_module(source)
        visitor = Visitor()
        MetadataWrapper(module, unsafe_skip_copy=True).visit(visitor)
    except (cst.ParserSyntaxError, RecursionError, MemoryError) as error:
        sys.stderr.write(f"{type(error).__name__}: {error}\n")
        sys.exit(1)
    visitor.aliases.sort(key=lambda row: row[:2])
    visitor.relative.sort(key=lambda row: row[:2])
    visitor.calls.sort(key=lambda row: (row[1], row[2]))
    aliases = [row[2:] for row in visitor.aliases]
    relative = [row[2:] for row in visitor.relative]
    sys.stdout.write(json.dumps({"aliases": aliases, "relative": relative, "calls": visitor.calls}))
