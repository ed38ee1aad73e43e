"""The Python code of a Jupyter notebook, for rules that compare what an image installs
with what its code imports.

INTERFACE (other modules rely on these names; keep them):

- ``notebook_source(data: bytes) -> NotebookSource | None`` never raises. None for
  anything but a readable nbformat 4 or 3 notebook of a Python kernel no bigger than
  ``MAX_NOTEBOOK_BYTES``.

``NotebookSource.text`` holds the code cells in order, a blank line between two cells,
and ends with a newline; its lines are split at "\\n" only, as ``ast`` counts them, and
``lines[i - 1]`` is the line of the .ipynb file where line ``i`` of ``text`` is written.
Columns are not kept: a cell indented as a whole is dedented, as IPython does, and the
JSON escapes shift them anyway.

IPython syntax never reaches ``text``: a line magic, shell escape (``!cmd``, ``x = !cmd``),
help (``obj?``, ``?obj``), auto-call (``/f x``) or automagic ``pip install`` line that
starts a statement becomes ``pass`` at its indentation (``%time stmt`` becomes ``stmt``);
a cell whose cell magic is not ``%%time``/``%%timeit``/``%%capture``/``%%prun`` becomes
blank lines. The commands of ``!``, ``%pip``/``%conda``, ``%%bash``/``%%sh`` lines and
cells are kept in ``shell_commands``, every other magic with its arguments in ``magics``
(``%matplotlib inline`` needs matplotlib, ``%load_ext tensorboard`` tensorboard). A cell
that does not parse is kept as written.

The whole file goes through the stdlib ``json``, which holds most of the cost: a 10 MB
notebook of outputs reads in 15-35 ms, a 200 kB one in ~2 ms. Its line numbers come from a scan of the raw
text: for each code cell, the next ``"source"`` (nbformat 3: ``"input"``) key whose
strings equal the cell's source gives the line of each string.
"""

from __future__ import annotations

import json
import re

from msgspec import Struct

from dockerlint.source import decode

MAX_NOTEBOOK_BYTES = 20_000_000  # outputs make notebooks big; beyond this it is data

# Cell magics whose body is Python run by IPython; any other cell magic is another language.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
SHELL_CELL_MAGICS = frozenset({"bash", "sh"})
SHELLS = frozenset({"sh", "bash", "zsh"})  # %%script <shell>
# Line magics whose argument is a Python statement (when no option precedes it).
PYTHON_LINE_MAGICS = frozenset({"time", "timeit", "prun"})
# Line magics that run a command: the magic's name is the program (%pip) or not (%sx).
PACKAGE_LINE_MAGICS = frozenset({"pip", "conda", "mamba"})
SHELL_LINE_MAGICS = frozenset({"sx", "system"})


class NotebookSource(Struct, frozen=True):
    text: str
    lines: tuple[int, ...]  # per line of text, its 1-based line in the .ipynb file
    language: str  # lower case, "python" unless the notebook says otherwise
    shell_commands: tuple[str, ...]  # in cell order
    magics: tuple[str, ...] = ()  # other magics, without the % signs: "matplotlib inline", "sql"


def notebook_source(data: bytes) -> NotebookSource | None:
    if len(data) > MAX_NOTEBOOK_BYTES:
        return None
    raw, _ = decode(data)
    if not raw.startswith("{", _WHITESPACE.match(raw).end()):
        return None  # binary or some other JSON: spare the parse
    try:
        notebook = json.loads(raw)
    except (ValueError, RecursionError, MemoryError):  # JSONDecodeError is a ValueError
        return None
    if not isinstance(notebook, dict) or notebook.get("nbformat") not in (3, 4):
        return None
    metadata = _table(notebook.get("metadata"))
    language = _language(metadata)
    if not language.startswith(("python", "ipython")):
        return None
    if notebook["nbformat"] == 4:
        cells, key = notebook.get("cells"), "source"
    else:
        worksheets, key = notebook.get("worksheets"), "input"
        if isinstance(worksheets, list):
            cells = [cell for sheet in worksheets if isinstance(sheet, dict) for cell in _list(sheet.get("cells"))]
        else:
            cells = None
    if not isinstance(cells, list):
        return None
    return _assemble(raw, cells, key, language)


def _table(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _language(metadata: dict) -> str:
    for value in (
        _table(metadata.get("kernelspec")).get("language"),
        _table(metadata.get("language_info")).get("name"),
    ):
        if isinstance(value, str) and value.strip():
            return value.strip().lower()
    return "python"


def _assemble(raw: str, cells: list, key: str, language: str) -> NotebookSource:
    locator = _SourceLocator(raw, f'"{key}"')
    text_lines: list[str] = []
    json_lines: list[int] = []
    commands: list[str] = []
    magics: list[str] = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        cell_language = cell.get("language", "python")  # nbformat 3 names it per cell
        if not isinstance(cell_language, str) or not cell_language.lower().startswith(("python", "ipython")):
            continue
        strings = _strings(cell.get(key))
        if not strings:
            continue
        source, string_of_line = _split(strings)
        if not source:
            continue
        located = locator.locate(strings)
        lines = [located[i] for i in string_of_line] if located else [locator.line] * len(source)
        if text_lines:
            text_lines.append("")  # between two cells
            json_lines.append(json_lines[-1])
        text_lines.extend(_python_lines(source, commands, magics))
        json_lines.extend(lines)
    text = "\n".join(text_lines) + "\n" if text_lines else ""
    return NotebookSource(text, tuple(json_lines), language, tuple(commands), tuple(magics))


def _strings(source: object) -> list[str] | None:
    """A cell's source as its list of strings (one string in some files)."""
    if isinstance(source, str):
        return [source]
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        return source
    return None


def _split(strings: list[str]) -> tuple[list[str], list[int]]:
    """The source's lines (split at "\\n" after CR and CRLF became LF, as Python reads
    them), and for each the index of the string where it starts."""
    lines: list[str] = []
    starts: list[int] = []
    pending = None  # a line begun in an earlier string
    for index, part in enumerate(strings):
        if "\r" in part:
            part = part.replace("\r\n", "\n").replace("\r", "\n")
        *complete, tail = part.split("\n")
        for piece in complete:
            if pending is None:
                starts.append(index)
            lines.append((pending or "") + piece)
            pending = None
        if tail:
            if pending is None:
                starts.append(index)
            pending = (pending or "") + tail
    if pending is not None:
        lines.append(pending)
    return lines, starts


class _SourceLocator:
    """Finds, in the raw JSON, the line of each string of one cell's source after another.

    Cells come in file order, so the search only moves forward. An output may hold a key of
    the same name: its strings differ from the cell's and the search goes on. When a cell
    is not found (an escaped key, say) the search stops, so that a hostile file costs one
    pass, and later cells map to the last line found.
    """

    def __init__(self, raw: str, key: str) -> None:
        self.raw = raw
        self.key = key
        self.position = 0
        self.line = 1  # the line of self.position
        self.lost = False

    def locate(self, strings: list[str]) -> list[int] | None:
        search = self.position
        while not self.lost:
            at = self.raw.find(self.key, search)
            if at == -1:
                self.lost = True
                break
            search = at + len(self.key)
            offsets = self._offsets(search, strings)
            if offsets is not None:
                lines = []
                for offset in offsets:
                    self.line += self.raw.count("\n", self.position, offset)
                    self.position = offset
                    lines.append(self.line)
                return lines
        return None

    def _offsets(self, index: int, strings: list[str]) -> list[int] | None:
        """The offsets of the strings of the ``: "..."`` or ``: ["...", ...]`` value at
        ``index`` when they are ``strings``; None for any other value."""
        raw = self.raw
        index = _WHITESPACE.match(raw, index).end()
        if not raw.startswith(":", index):
            return None
        index = _WHITESPACE.match(raw, index + 1).end()
        try:
            if raw.startswith('"', index):
                if len(strings) == 1 and json.decoder.scanstring(raw, index + 1)[0] == strings[0]:
                    return [index]
                return None
            if not raw.startswith("[", index):
                return None
            offsets = []
            for expected in strings:
                index = _WHITESPACE.match(raw, index + 1).end()  # after "[" or ","
                if not raw.startswith('"', index):
                    return None
                string, end = json.decoder.scanstring(raw, index + 1)
                if string != expected:
                    return None
                offsets.append(index)
                index = _WHITESPACE.match(raw, end).end()
                if not raw.startswith("," if len(offsets) < len(strings) else "]", index):
                    return None
            return offsets
        except ValueError:  # not a JSON string after all
            return None


_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _python_lines(lines: list[str], commands: list[str], magics: list[str]) -> list[str]:
    """The cell's lines with IPython syntax replaced; commands it runs go to ``commands``,
    other magics to ``magics``."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return ["" for _ in lines]
    indent = lines[first][: len(lines[first]) - len(lines[first].lstrip(" \t"))]
    if indent:  # IPython dedents a cell indented as a whole
        lines = [line[len(indent) :] if line.startswith(indent) else line for line in lines]
    if not lines[first].startswith("%%"):
        if not _MAYBE_IPYTHON.search("\n".join(lines)):
            return lines  # most cells: no line could be IPython syntax
        return _replace_escapes(lines, 0, commands, magics)
    name, *arguments = lines[first][2:].split() or [""]
    if name in PYTHON_CELL_MAGICS:
        return _replace_escapes(lines, first + 1, commands, magics)
    if name in SHELL_CELL_MAGICS or (name == "script" and arguments[:1] and arguments[0] in SHELLS):
        commands.append("\n".join(lines[first + 1 :]))
    elif name:
        magics.append(lines[first][2:].strip())
    return ["" for _ in lines]


def _replace_escapes(lines: list[str], start: int, commands: list[str], magics: list[str]) -> list[str]:
    """Lines from ``start`` on with each IPython line that starts a statement replaced
    (lines before ``start`` become blank); a line continued in a bracket, string or after
    a backslash is Python, as IPython reads it."""
    out = ["" for _ in lines[:start]]
    state = _CLEAN
    index = start
    while index < len(lines):
        line = lines[index]
        escape = _ipython_escape(line) if state == _CLEAN else None
        if escape is not None:
            last = index
            while lines[last].endswith("\\") and last + 1 < len(lines):
                last += 1  # IPython joins an escaped line with its continuations
            if last > index:
                indent = line[: len(line) - len(line.lstrip(" \t"))]
                joined = indent + " ".join(part.rstrip("\\").strip() for part in lines[index : last + 1])
                escape = _ipython_escape(joined) or escape
            replacement, command, magic = escape
            if command is not None:
                commands.append(command.strip())
            if magic:
                magics.append(magic)
            out.append(replacement)
            out.extend("" for _ in range(index, last))
            state = _after(replacement, _CLEAN)
            index = last + 1
            continue
        out.append(line)
        state = _after(line, state)
        index += 1
    return out


# Any line that _ipython_escape might take; it costs less than tracking strings and brackets.
_MAYBE_IPYTHON = re.compile(r"^[ \t]*(?:[%!?/,;]|(?:pip3?|conda|mamba)[ \t])|\?[ \t]*$|=[ \t]*[!%]", re.MULTILINE)
_HELP = re.compile(r"(?:\?{1,2}.*|[\w.*]+\?{1,2}[ \t]*)$")
_SYSTEM_ASSIGN = re.compile(r"[A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*[ \t]*=[ \t]*([!%])(.*)$")
_AUTOMAGIC_PIP = re.compile(r"(?:pip|pip3|conda|mamba)[ \t]+(?:install|uninstall)\b")


def _ipython_escape(line: str) -> tuple[str, str | None, str | None] | None:
    """For a line of IPython syntax, the Python that stands for it, the command it runs
    and the magic it calls (other than a command's); None for a Python line."""
    code = line.lstrip(" \t")
    indent = line[: len(line) - len(code)]
    placeholder = indent + "pass"
    if not code:
        return None
    if code[0] == "!":
        return placeholder, code.lstrip("!"), None
    if code[0] == "%":
        name, argument = (code.lstrip("%").split(None, 1) + [""])[:2]
        argument = argument.strip()
        if name in PYTHON_LINE_MAGICS and argument and not argument.startswith("-"):
            return indent + argument, None, None
        if name in PACKAGE_LINE_MAGICS:
            return placeholder, f"{name} {argument}", None
        if name in SHELL_LINE_MAGICS:
            return placeholder, argument, None
        return placeholder, None, f"{name} {argument}".strip()
    if code[0] in "/,;" or _HELP.match(code):
        return placeholder, None, None
    assignment = _SYSTEM_ASSIGN.match(code)
    if assignment:
        return placeholder, assignment.group(2) if assignment.group(1) == "!" else None, None
    if _AUTOMAGIC_PIP.match(code):
        return placeholder, code, None
    return None


# Where a line leaves the reader: in a string (its quote), in brackets (their depth) or
# after a backslash. A statement starts only from _CLEAN.
_CLEAN = (None, 0, False)
_CODE_TOKEN = re.compile(r"'''|\"\"\"|'|\"|#|[(\[{]|[)\]}]|\\$")
_STRING_END = {quote: re.compile(r"\\(?:.|$)|" + quote) for quote in ("'''", '"""', "'", '"')}


def _after(line: str, state: tuple[str | None, int, bool]) -> tuple[str | None, int, bool]:
    """The state at the end of ``line``, read from ``state``."""
    quote, depth, _ = state
    index = 0
    while True:
        if quote is not None:
            for end in _STRING_END[quote].finditer(line, index):
                if end.group() == "\\":  # a backslash at the end of the line
                    return quote, depth, True
                if end.group() == quote:
                    quote, index = None, end.end()
                    break
            else:
                if len(quote) == 1:  # an unterminated string: Python stops reading it here
                    quote = None
                break
            continue
        token = _CODE_TOKEN.search(line, index)
        if token is None or token.group() == "#":
            break
        index = token.end()
        kind = token.group()
        if kind in "([{":
            depth += 1
        elif kind in ")]}":
            depth = max(depth - 1, 0)
        elif kind == "\\":
            return None, depth, True
        else:
            quote = kind
    return _CLEAN if quote is None and depth == 0 else (quote, depth, False)
