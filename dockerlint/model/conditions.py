"""Whether an `if` branch of a RUN script runs in this build: its condition read with the
ARG and ENV values the Dockerfile gives (`ARG INSTALL_DEV=false`, then `if [ "$INSTALL_DEV"
= "true" ]; then poetry install; else poetry install --without dev; fi`).

Only the plain tests are read: `[ A = B ]`, `[ A == B ]`, `[ A != B ]`, `[ -n A ]`, `[ -z A ]`,
`[ A ]`, the same with `[[ ]]` or `test`, and a leading `!`. A condition that reads any
other way, or a variable the Dockerfile does not set (one the base image or the script
itself may set), is undecided: both branches are taken as running, as before.
"""

from __future__ import annotations

import re
import shlex

_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(:?[-+=?][^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")
_COMPARISONS = {"=": True, "==": True, "!=": False}


def runs(guards: tuple[tuple[str, bool], ...], env: dict[str, str]) -> bool:
    """False when one of the conditions the command runs under is known to go the other
    way in this build; True otherwise (held, or undecided)."""
    return not any(holds(condition, env) is (not wanted) for condition, wanted in guards)


def holds(condition: str, env: dict[str, str]) -> bool | None:
    """Whether the test holds with these values; None when it cannot be read or uses a
    variable that is not set here."""
    text = condition.strip().rstrip(";").strip()
    found = _VARIABLE.findall(text)
    if any((braced or plain) not in env for braced, _, plain in found) or "$(" in text or "`" in text:
        return None
    if any(modifier and modifier.lstrip(":")[:1] != "-" for _, modifier, _ in found):
        return None  # ${X:+y}, ${X:=y}, ${X:?}: not read
    unquoted = _unquoted_variables(text)
    if unquoted is None:
        return None
    for match in _VARIABLE.finditer(text):
        value = _value(match, env)
        if match.start() in unquoted and (not value or any(c.isspace() or c in "*?[" for c in value)):
            return None  # split or dropped by the shell: `[ -n $X ]` with X empty is `[ -n ]`
    try:
        words = [_VARIABLE.sub(lambda match: _value(match, env), word) for word in shlex.split(text)]
    except ValueError:
        return None
    negated = False
    if words[:1] == ["!"]:
        negated, words = True, words[1:]
    if words[:1] == ["test"]:
        words = words[1:]
    elif len(words) >= 2 and (words[0], words[-1]) in (("[", "]"), ("[[", "]]")):
        words = words[1:-1]
    else:
        return None
    if words[:1] == ["!"]:
        negated, words = not negated, words[1:]
    result = _test(words)
    return None if result is None else result != negated


def _unquoted_variables(text: str) -> set[int] | None:
    """Where a `$` stands outside quotes; None when one stands inside single quotes (no
    expansion there) or the quotes do not close."""
    found: set[int] = set()
    quote = ""
    for index, character in enumerate(text):
        if quote == "'":
            if character == "'":
                quote = ""
            elif character == "$":
                return None
        elif character in "'\"" and quote in ("", character):
            quote = "" if quote else character
        elif character == "$" and not quote:
            found.add(index)
    return None if quote else found


def _value(match: re.Match, env: dict[str, str]) -> str:
    braced, modifier, plain = match.groups()
    value = env[braced or plain]
    if modifier and modifier.startswith(":") and value == "":
        return modifier[2:]  # ${X:-default} with X empty (a set X, empty or not, keeps ${X-default})
    return value


def _test(words: list[str]) -> bool | None:
    if len(words) == 3 and words[1] in _COMPARISONS:
        if any(character in words[2] for character in "*?["):
            return None  # `[[ $X == dev* ]]` matches a pattern
        return (words[0] == words[2]) == _COMPARISONS[words[1]]
    if len(words) == 2 and words[0] in ("-n", "-z"):
        return bool(words[1]) == (words[0] == "-n")
    if len(words) == 1:
        return bool(words[0])
    return None
