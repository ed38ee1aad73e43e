"""Building fixes: edits of the Dockerfile that checks return with their findings.

Every edit is anchored on text the model located, and is offered only when the file holds
exactly that text at that place (a word split by a line continuation, a RUN in JSON form,
a ``<<-`` heredoc whose tabs were stripped: no fix rather than a wrong one). Edits keep the
file's own style: its escape character, the indentation and the side of the line where
its continued lines put ``&&``.
"""

from __future__ import annotations

import json
import re

from dockerlint.findings import Applicability, Edit, Fix
from dockerlint.model import Image, ShellCommand, Step
from dockerlint.parse.dockerfile import Instruction
from dockerlint.source import Span


def span_text(image: Image, span: Span) -> str:
    """The Dockerfile's text of ``span`` (lines joined with ``\\n``)."""
    text = image.dockerfile.text
    if span.line == span.end_line:
        return text.line(span.line)[span.column - 1 : span.end_column - 1]
    parts = [text.line(span.line)[span.column - 1 :]]
    parts += [text.line(number) for number in range(span.line + 1, span.end_line)]
    parts.append(text.line(span.end_line)[: span.end_column - 1])
    return "\n".join(parts)


def word_span(image: Image, command: ShellCommand, index: int) -> Span | None:
    """Where word ``index`` of ``command`` is written, when the file holds it there as
    the shell read it (a shell-form RUN or its heredoc, on one line)."""
    if command.locate.instruction.json_args is not None or index >= len(command.command.words):
        return None
    word = command.command.words[index]
    span = command.word_span(index)
    if span.line != span.end_line or span_text(image, span) != word.raw:
        return None
    return span


def insert_after_word(image: Image, command: ShellCommand, index: int, text: str) -> Edit | None:
    """Insert ``text`` right after word ``index`` (``" --no-cache-dir"`` after ``install``)."""
    span = word_span(image, command, index)
    if span is None:
        return None
    return Edit(image.dockerfile_path, Span(span.end_line, span.end_column, span.end_line, span.end_column), text)


def replace_word(image: Image, command: ShellCommand, index: int, text: str) -> Edit | None:
    span = word_span(image, command, index)
    return None if span is None else Edit(image.dockerfile_path, span, text)


def subcommand_index(command: ShellCommand, *names: str, start: int = 1) -> int | None:
    """The index in argv of the first word from ``start`` on that is one of ``names``."""
    for index in range(start, len(command.argv)):
        if command.argv[index] in names:
            return index
    return None


def flag_after(image: Image, command: ShellCommand, subcommand: str, flag: str) -> Fix | None:
    """A safe fix adding ``flag`` right after ``subcommand`` (``install``) of ``command``
    (after any ``sudo``/``env`` wrapper)."""
    from dockerlint.model.installs import wrapper_words

    index = subcommand_index(command, subcommand, start=wrapper_words(command.argv) + 1)
    if index is None:
        return None
    return safe(f"Add `{flag}`", insert_after_word(image, command, index, f" {flag}"))


def program_index(command: ShellCommand) -> int:
    """The index of the program itself, after any ``sudo``/``env`` wrapper."""
    from dockerlint.model.installs import wrapper_words

    return wrapper_words(command.argv)


def safe(message: str, *edits: Edit | None) -> Fix | None:
    return _fix(Applicability.SAFE, message, edits)


def unsafe(message: str, *edits: Edit | None) -> Fix | None:
    return _fix(Applicability.UNSAFE, message, edits)


def display_only(message: str, *edits: Edit | None) -> Fix | None:
    return _fix(Applicability.DISPLAY_ONLY, message, edits)


def _fix(applicability: Applicability, message: str, edits) -> Fix | None:
    if not edits or any(edit is None for edit in edits):
        return None
    return Fix(applicability, message, tuple(edits))


# -- the end of a RUN ----------------------------------------------------------------------------

_CONTINUED = re.compile(r"^(?P<indent>[ \t]*)(?P<lead>&&[ \t]*)?")


def append_to_run(image: Image, step: Step, line: str, expect: tuple[str, ...]) -> Edit | None:
    """Run ``line`` (``rm -rf /var/lib/apt/lists/*``) after everything else in the RUN,
    with ``&&``: on the last line when the RUN is one line, else on a new continued line
    indented and joined as the lines before it are. ``expect`` is the argv ``line`` must
    parse to as the last command of the script, which rules out a script that ends in a
    comment, ``;`` or an open quote."""
    instruction = step.instruction
    args = instruction.args
    if instruction.json_args is not None or instruction.heredocs or not args.strip():
        return None
    from dockerlint.parse.shell import parse_script

    before = parse_script(args)
    after = parse_script(args.rstrip() + " && " + line)
    if before.has_error or after.has_error or len(after.commands) != len(before.commands) + 1:
        return None
    last = after.commands[-1]
    if last.argv != expect or last.nested:
        return None
    end = len(args.rstrip())
    last_line, last_column = instruction.positions[end - 1]
    point = Span(last_line, last_column + 1, last_line, last_column + 1)
    first_line = instruction.positions[0][0]
    if last_line == first_line:
        return Edit(image.dockerfile_path, point, f" && {line}")
    escape = image.dockerfile.escape
    text = image.dockerfile.text
    previous = _previous_code_line(text, last_line, first_line)
    if previous is None:
        return None
    before_escape = text.line(previous).rstrip()
    if not before_escape.endswith(escape):
        return None
    gap = before_escape[: -len(escape)]
    gap = gap[len(gap.rstrip()) :] or " "
    match = _CONTINUED.match(text.line(last_line))
    # The new line is indented as the line where the last command starts (a list of
    # packages continued below it is indented deeper), or as the first continued line.
    top = [command for command in before.commands if not command.nested]
    start_line = instruction.positions[top[-1].start][0] if top else last_line
    indent_line = start_line if start_line != first_line else _next_code_line(text, first_line, last_line)
    indent = _CONTINUED.match(text.line(indent_line)).group("indent")
    if match.group("lead"):
        return Edit(image.dockerfile_path, point, f"{gap}{escape}\n{indent}{match.group('lead')}{line}")
    return Edit(image.dockerfile_path, point, f" &&{gap}{escape}\n{indent}{line}")


def _previous_code_line(text, line: int, first: int) -> int | None:
    """The line before ``line`` that holds code (comment and blank lines inside a
    continuation are dropped by the parser)."""
    number = line - 1
    while number >= first:
        stripped = text.line(number).strip()
        if stripped and not stripped.startswith("#"):
            return number
        number -= 1
    return None


def _next_code_line(text, line: int, last: int) -> int:
    number = line + 1
    while number < last:
        stripped = text.line(number).strip()
        if stripped and not stripped.startswith("#"):
            return number
        number += 1
    return last


# -- instructions --------------------------------------------------------------------------------


def keyword_span(image: Image, instruction: Instruction) -> Span | None:
    """The instruction's keyword as written (``add`` or ``ADD``)."""
    span = instruction.span
    line = image.dockerfile.text.line(span.line)
    start = len(line) - len(line.lstrip())
    if line[start : start + len(instruction.keyword)].upper() != instruction.keyword:
        return None
    return Span(span.line, start + 1, span.line, start + 1 + len(instruction.keyword))


def args_span(instruction: Instruction) -> Span | None:
    """From the first to the last character of the arguments (blanks at the end left out)."""
    args = instruction.args
    end = len(args.rstrip())
    start = len(args) - len(args.lstrip())
    if start >= end:
        return None
    return instruction.span_of(start, end)


def json_form(words: list[str]) -> str:
    """``["a", "b"]`` as the Dockerfile reference writes it."""
    return "[" + ", ".join(json.dumps(word, ensure_ascii=False) for word in words) + "]"
