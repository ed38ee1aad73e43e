"""Source text and positions shared by every parser.

Positions are 1-based lines and 1-based columns counted in code points; ``end_column``
is exclusive (the column after the last character), as SARIF expects.
"""

from __future__ import annotations

import bisect
from array import array

from msgspec import Struct


class Span(Struct, frozen=True):
    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def whole_line(cls, line: int, text: str = "") -> Span:
        return cls(line, 1, line, len(text) + 1)


# A file with more parse problems than this is not what its name says (generated, binary
# or hostile): its first problems are reported, then one more says the rest are not. A
# 2 MB file of bad lines would otherwise make 300,000 findings and a gigabyte of report.
MAX_PROBLEMS_PER_FILE = 1_000


class Problem(Struct, frozen=True):
    """A parse problem, returned as data; the engine turns it into a finding."""

    code: str
    message: str
    span: Span
    fix: str | None = None


class Text(Struct, frozen=True):
    """Decoded text with an index from offsets to (line, column). The index is a packed
    array: a run holds the text of every file it reports on, and a tuple of ints would
    take nine times the room."""

    text: str
    line_starts: array  # of int: where each line starts

    @classmethod
    def of(cls, text: str) -> Text:
        starts = array("q", [0])
        find = text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        return cls(text, starts)

    def __hash__(self) -> int:  # the index follows from the text (and an array has no hash)
        return hash(self.text)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        index = bisect.bisect_right(self.line_starts, offset) - 1
        return index + 1, offset - self.line_starts[index] + 1

    def span(self, start: int, end: int) -> Span:
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(line, column, end_line, end_column)

    def line(self, number: int) -> str:
        """The text of a 1-based line without its line ending."""
        if number < 1 or number > len(self.line_starts):
            return ""
        start = self.line_starts[number - 1]
        end = self.line_starts[number] - 1 if number < len(self.line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r")


def decode(data: bytes) -> tuple[str, bool]:
    """Decode file bytes as UTF-8 (dropping a BOM); invalid bytes become U+FFFD.

    Returns the text and whether any byte was invalid. CRLF and lone CR become LF so
    that every parser sees one line ending and columns stay exact.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text, bad = data.decode("utf-8"), False
    except UnicodeDecodeError:
        text, bad = data.decode("utf-8", errors="replace"), True
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, bad
