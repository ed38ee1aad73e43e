"""Other instructions: WORKDIR (DL3000), USER (DL3002, DL3066), EXPOSE (DL3011),
HEALTHCHECK (DL3012, DL3057), CMD and ENTRYPOINT (DL3025, DL4003, DL4004), ENV and ARG
(DL3044, DL3064), MAINTAINER (DL4000)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from functools import cache

from dockerlint.checks import check, fixing
from dockerlint.checks.common import args_words, final_chain, finding
from dockerlint.checks.dl.common import instructions, shipped_stages, variables
from dockerlint.findings import Finding
from dockerlint.knowledge import load
from dockerlint.model import Image, Step
from dockerlint.model.image import keyed_values
from dockerlint.parse.dockerfile import KEYWORDS
from dockerlint.regex import lazy_compile


@check("DL3000")
def relative_workdir(image: Image) -> Iterator[Finding]:
    for _stage, step in instructions(image, "WORKDIR"):
        path = step.instruction.args.strip().strip("'\"")
        if not path or path.startswith(("/", "$")) or (len(path) > 1 and path[0].isalpha() and path[1] == ":"):
            continue
        yield finding(
            image,
            "DL3000",
            step.instruction.span,
            f"`WORKDIR {path}` is relative: it depends on the WORKDIR before it, which may come from the base image",
            f"Use an absolute path (`WORKDIR /{path.lstrip('./')}`).",
        )


# -- USER --------------------------------------------------------------------------------------


def _last_user(image: Image) -> Step | None:
    for stage in final_chain(image):
        for step in reversed(stage.steps):
            if step.keyword == "USER":
                return step
    return None


@check("DL3002")
def last_user_root(image: Image) -> Iterator[Finding]:
    step = _last_user(image)
    if step is None or not variables(step.instruction.args) <= set(step.env):
        return  # no USER, or one whose value comes from outside the Dockerfile
    user = (step.user or "").split(":")[0]
    if user in ("root", "0"):
        yield finding(
            image,
            "DL3002",
            step.instruction.span,
            "the final stage switches back to root with its last USER, so the container runs as root",
            "End the final stage with `USER <non-root user>` (create one with `useradd --create-home app`).",
        )


def _declared_args(image: Image, before: int) -> set[str]:
    names = set()
    for instruction in image.dockerfile.instructions[:before]:
        if instruction.keyword == "ARG":
            names.update(name for name, _ in keyed_values(instruction))
    return names


@check("DL3066")
def non_numeric_user(image: Image) -> Iterator[Finding]:
    for _stage, step in instructions(image, "USER"):
        written = step.instruction.args.strip()
        uid = written.split(":", 1)[0]
        names = variables(uid)
        if uid.isdigit() or names & _declared_args(image, step.instruction.index):
            continue  # numeric, or decided by a build argument
        if names:
            if not names <= set(step.env):
                continue  # set outside the Dockerfile (by the base image): not known here
            if (step.user or "").split(":", 1)[0].isdigit():
                continue
        yield finding(
            image,
            "DL3066",
            step.instruction.span,
            f"`USER {written}` gives a user name, not a numeric UID: the host may not know the name, and "
            "Kubernetes' `runAsNonRoot` check refuses an image whose user is not a number",
            "Use the numeric UID (and GID) of the user, for example `USER 10001:10001`.",
        )


# -- EXPOSE and HEALTHCHECK --------------------------------------------------------------------


@check("DL3011")
def expose_port_range(image: Image) -> Iterator[Finding]:
    for _stage, step in instructions(image, "EXPOSE"):
        for word, span in args_words(step.instruction):
            numbers = re.fullmatch(r"(\d+)(?:-(\d+))?(?:/\w+)?", word)
            if numbers and any(int(n) > 65535 for n in numbers.groups() if n):
                yield finding(
                    image,
                    "DL3011",
                    span,
                    f"`EXPOSE {word}`: ports go from 0 to 65535",
                    "Expose the port the service listens on.",
                )


@check("DL3012")
def several_healthchecks(image: Image) -> Iterator[Finding]:
    yield from _repeated(image, "DL3012", "HEALTHCHECK", "only the last one takes effect")


@check("DL3057")
def missing_healthcheck(image: Image) -> Iterator[Finding]:
    chain = final_chain(image)
    if not chain or any(step.keyword == "HEALTHCHECK" for stage in chain for step in stage.steps):
        return
    stage = chain[0]
    yield finding(
        image,
        "DL3057",
        stage.from_instruction.span,
        "the final stage has no HEALTHCHECK: Docker cannot tell a hung service from a working one",
        'Add `HEALTHCHECK CMD ["curl", "-f", "http://localhost:8000/health"]` (or an equivalent probe), '
        "unless an orchestrator checks health itself.",
    )


# -- CMD and ENTRYPOINT ------------------------------------------------------------------------


@check("DL3025")
def shell_form_cmd(image: Image) -> Iterator[Finding]:
    for stage in final_chain(image) or shipped_stages(image):
        for step in stage.steps:
            instruction = step.instruction
            if instruction.keyword == "HEALTHCHECK":
                command = instruction.args.strip()
                if command[:4].upper() == "CMD " and not command[4:].lstrip().startswith("["):
                    yield finding(
                        image,
                        "DL3025",
                        instruction.span,
                        "HEALTHCHECK CMD in shell form runs under `/bin/sh -c`: the check depends on a "
                        "shell being in the image and on its quoting",
                        'Use the JSON form: HEALTHCHECK CMD ["curl", "-f", "http://localhost:8000/health"].',
                        autofix=_exec_form_fix(image, stage, step),
                    )
            elif (
                instruction.keyword in ("CMD", "ENTRYPOINT")
                and instruction.json_args is None
                and instruction.args.strip()
            ):
                broken = _broken_json_form(instruction.args)
                if broken is not None:
                    yield _broken_json_finding(image, step, broken)
                    continue
                glued = _text_after_json(instruction.args)
                if glued is not None:
                    yield _text_after_json_finding(image, step, glued)
                    continue
                words = args_words(instruction)
                suggestion = ", ".join(f'"{word}"' for word, _ in words[:4]) + (", ..." if len(words) > 4 else "")
                why = "which does not pass on signals such as SIGTERM: the container cannot stop cleanly"
                if words and words[0][0] == "exec":  # the shell hands over: signals reach the program
                    why = (
                        "and `exec` hands the process over, but the shell must be in the image and its quoting applies"
                    )
                help_text = f"Use the JSON form: {instruction.keyword} [{suggestion}]."
                if _SHELL_WORK.search(instruction.args):  # `$PORT`, `&&`: the JSON form would pass them on unread
                    help_text = (
                        "The command needs the shell (it expands variables or joins commands), so the JSON form "
                        "would pass `$PORT` or `&&` on as they are: put `exec` before the program that runs last "
                        f"(`{instruction.keyword} ... exec {_last_program(words)} ...`) so that it receives the "
                        'signals, or move the steps into an entrypoint script that ends with `exec "$@"`.'
                    )
                yield finding(
                    image,
                    "DL3025",
                    instruction.span,
                    f"{instruction.keyword} in shell form runs under `/bin/sh -c`, {why}",
                    help_text,
                    autofix=_exec_form_fix(image, stage, step),
                )


# What only a shell does with a command line: expansions and the operators joining commands.
_SHELL_WORK = lazy_compile(r"\$|&&|\|\||;|\||`|>|<")


def _last_program(words) -> str:
    """The program of the last command joined by `&&`, `||` or `;`: the one to `exec`."""
    segment: list[str] = []
    for word, _ in words:
        if word in ("&&", "||", ";"):
            segment = []
        elif word.endswith(";"):
            segment = []
        else:
            segment.append(word)
    return next((word for word in segment if word != "exec"), "<program>")


def _broken_json_form(args: str) -> list[str] | None:
    """The words of an instruction written as a JSON array that is not JSON (single quotes,
    a trailing comma): Docker then runs the whole text as a shell command, `['uvicorn', ...]`,
    which fails when the container starts. None when it is not such an array of strings."""
    import ast

    text = args.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(value, list) or not value or not all(isinstance(word, str) for word in value):
        return None
    return value


def _broken_json_finding(image: Image, step: Step, words: list[str]) -> Finding:
    from dockerlint.findings import Edit

    instruction = step.instruction
    args = instruction.args
    start = len(args) - len(args.lstrip())
    span = instruction.span_of(start, len(args.rstrip()))
    form = fixing.json_form(words)
    return finding(
        image,
        "DL3025",
        instruction.span,
        f"{instruction.keyword} looks like the JSON form but is not JSON (its strings need double quotes), so "
        f"Docker runs the whole text as a shell command, `{args.strip()[:60]}`, which fails when the container starts",
        f"Write it as JSON: {instruction.keyword} {form}.",
        autofix=fixing.safe("Use the JSON form", Edit(image.dockerfile_path, span, form)),
    )


def _text_after_json(args: str) -> str | None:
    """What follows a JSON array of strings on the line (`["bash", "start.sh"]RUN pip3 …`,
    two lines run together): the text is then no JSON, and Docker runs all of it as a shell
    command. None when the text is no such array."""
    import json

    text = args.strip()
    if not text.startswith("["):
        return None
    try:
        value, end = json.JSONDecoder().raw_decode(text)
    except ValueError:
        return None
    if end >= len(text) or not isinstance(value, list) or not all(isinstance(word, str) for word in value):
        return None
    return text[end:].strip()


def _text_after_json_finding(image: Image, step: Step, rest: str) -> Finding:
    instruction = step.instruction
    first = rest.split(None, 1)[0] if rest else ""
    joined = first.upper() in KEYWORDS
    why = f"a newline is missing before `{first}`" if joined else f"`{rest[:40]}` follows the array"
    return finding(
        image,
        "DL3025",
        instruction.span,
        f"{instruction.keyword} holds a JSON array and more text ({why}): it is no JSON, so Docker runs the whole "
        "text as a shell command, which fails when the container starts",
        f"Put `{first}` on a line of its own." if joined else "Leave only the JSON array on the line.",
    )


def _exec_form_fix(image: Image, stage, step: Step):
    """The JSON form of a shell-form CMD, ENTRYPOINT or HEALTHCHECK CMD whose command the
    shell would only split into words: one simple command, nothing but blanks between
    its words (no operator, pipe, redirection or comment), no expansion, wildcard or
    ``~``. A leading ``exec`` is dropped (it is what the JSON form does). An ENTRYPOINT is
    left alone when the stage has a CMD too, a CMD when an ENTRYPOINT in JSON form takes it
    as arguments: the JSON form would change them."""
    from dockerlint.model.image import DEFAULT_SHELL
    from dockerlint.parse.shell import parse_script

    instruction = step.instruction
    if tuple(posixpath.basename(word) for word in step.shell[:1]) not in (("sh",), ("bash",)) or step.shell[1:] != (
        DEFAULT_SHELL[1],
    ):
        return None
    if instruction.keyword != "HEALTHCHECK" and instruction.flags:
        return None  # `CMD --port 8000`: the words the reader took for flags are the command's
    if instruction.keyword == "ENTRYPOINT" and any(other.keyword == "CMD" for other in stage.steps):
        return None
    if instruction.keyword == "CMD" and any(
        other.keyword == "ENTRYPOINT" and other.instruction.json_args is not None
        for chained in final_chain(image) or [stage]
        for other in chained.steps
    ):
        return None  # the JSON form would hand the ENTRYPOINT other arguments
    args = instruction.args
    start = len(args) - len(args.lstrip())
    if instruction.keyword == "HEALTHCHECK":
        start += 3  # after CMD
    script = args[start : len(args.rstrip())]
    parsed = parse_script(script)
    if parsed.has_error or len(parsed.commands) != 1:
        return None
    command = parsed.commands[0]
    if command.assignments or not command.words:
        return None
    position = 0
    for word in command.words:
        if script[position : word.start].strip() or _SHELL_SPECIAL.search(word.raw):
            return None
        position = word.end
    if script[position:].strip():
        return None
    words = list(command.argv)
    if words[0] == "exec":
        words = words[1:]
    if not words or any(word.startswith("-") for word in words[:1]):
        return None
    first = len(script) - len(script.lstrip())
    span = instruction.span_of(start + first, start + len(script))
    lines = range(span.line + 1, span.end_line)
    if any(image.dockerfile.text.line(number).lstrip().startswith("#") for number in lines):
        return None  # a comment inside the continuation would be lost
    from dockerlint.findings import Edit

    return fixing.safe("Use the JSON form", Edit(image.dockerfile_path, span, fixing.json_form(words)))


# What makes the shell do more than split a word: expansions, wildcards, a leading ``~``.
_SHELL_SPECIAL = re.compile(r"[$`*?\[\]{}\\]|^~")


def _repeated(image: Image, code: str, keyword: str, effect: str) -> Iterator[Finding]:
    """Every instruction of ``keyword`` after the first in the same stage."""
    first: dict[int, Step] = {}
    for stage, step in instructions(image, keyword):
        if id(stage) not in first:
            first[id(stage)] = step
            continue
        yield finding(
            image,
            code,
            step.instruction.span,
            f"a second {keyword} in this stage (the first is on line {first[id(stage)].instruction.span.line}): "
            f"{effect}",
            f"Keep one {keyword} per stage.",
        )


@check("DL4003")
def several_cmds(image: Image) -> Iterator[Finding]:
    yield from _repeated(image, "DL4003", "CMD", "only the last one takes effect")


@check("DL4004")
def several_entrypoints(image: Image) -> Iterator[Finding]:
    yield from _repeated(image, "DL4004", "ENTRYPOINT", "only the last one takes effect")


# -- ENV and ARG -------------------------------------------------------------------------------


def _refers(value: str, name: str) -> bool:
    """``$NAME`` or ``${NAME...}`` in ``value`` (``$NAMEX`` is another variable)."""
    return (
        re.search(r"\$(?:\{" + re.escape(name) + r"[}:\-+?#%/]|" + re.escape(name) + r"(?![A-Za-z0-9_]))", value)
        is not None
    )


@check("DL3044")
def env_self_reference(image: Image) -> Iterator[Finding]:
    declared: set[str] = set()
    for instruction in image.dockerfile.instructions:
        if instruction.keyword == "ARG":
            declared.update(name for name, _ in keyed_values(instruction))
            continue
        if instruction.keyword != "ENV":
            continue
        pairs = keyed_values(instruction)
        for position, (name, _) in enumerate(pairs):
            if name in declared:
                continue
            if any(_refers(value or "", name) for other, (_, value) in enumerate(pairs) if other != position):
                yield finding(
                    image,
                    "DL3044",
                    instruction.span,
                    f"`${name}` is used in the same ENV that sets `{name}`: it still has its earlier value "
                    "there (empty here)",
                    f"Set `{name}` in an ENV of its own before the ENV that uses it.",
                )
                break
        declared.update(name for name, _ in pairs)


@cache
def _secret_words() -> tuple[frozenset[str], re.Pattern]:
    table = load("hadolint")["secret_names"]
    words = "|".join(re.escape(word) for word in table["words"])
    # the word, not running on into a longer one (a plural `s` may follow)
    return frozenset(table["names"]), re.compile(rf"(?:{words})(?:s?(?![a-z]))")


def _sensitive(name: str) -> bool:
    """A name from hadolint's list of secret variables, or one holding a secret-sounding
    word (``token``, ``password``...) that does not run on into a longer word
    (``TOKENIZERS_PARALLELISM`` holds no token; ``TOKENS`` does)."""
    names, words = _secret_words()
    return name.upper() in names or words.search(name.lower()) is not None


@check("DL3064")
def sensitive_arg_env(image: Image) -> Iterator[Finding]:
    for _stage, step in instructions(image, "ARG", "ENV", onbuild=True):
        names = [name for name, _ in keyed_values(step.instruction) if _sensitive(name)]
        if names:
            yield finding(
                image,
                "DL3064",
                step.instruction.span,
                f"`{names[0]}` looks like a secret: {step.keyword} values stay in the image's history and "
                "metadata for anyone who pulls it",
                "Pass secrets with `RUN --mount=type=secret,id=...` at build time, or as environment "
                "variables at run time.",
            )


@check("DL4000")
def maintainer(image: Image) -> Iterator[Finding]:
    for _stage, step in instructions(image, "MAINTAINER"):
        yield finding(
            image,
            "DL4000",
            step.instruction.span,
            "MAINTAINER is deprecated",
            f'Use a label instead: `LABEL org.opencontainers.image.authors="{step.instruction.args.strip()}"`.',
        )
