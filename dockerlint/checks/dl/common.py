"""What the hadolint-compatible rules share: which instructions they read, and the way
hadolint looks at a command line (a flag is any word starting with ``-``; ``-abc`` is
the flags a, b and c; ``--name=value`` is the flag ``name``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from dockerlint.checks.common import final_chain
from dockerlint.model import Image, ShellCommand, StageModel, Step
from dockerlint.model.caches import cache_mounted, removes, runs_after  # noqa: F401 - shared with the DL rules

# -- which instructions -----------------------------------------------------------------------


def all_stages(image: Image) -> list[StageModel]:
    """Every stage, with the instructions before the first FROM (a fragment) first."""
    return [image.fragment, *image.stages] if image.fragment is not None else image.stages


def shipped_stages(image: Image) -> list[StageModel]:
    """The stages whose layers end up in the final image (a fragment counts as one):
    what the cache and bloat rules read. A builder stage that is only copied from may
    keep its caches."""
    return final_chain(image) if image.stages else all_stages(image)


def steps(stages: Iterable[StageModel], onbuild: bool = False) -> Iterator[tuple[StageModel, Step]]:
    """Each instruction of the stages; with ``onbuild``, an ONBUILD trigger is read as
    the instruction it wraps (in place of the ONBUILD itself)."""
    for stage in stages:
        for step in stage.steps:
            if step.trigger is not None:
                if onbuild:
                    yield stage, step.trigger
            else:
                yield stage, step


def triggers(stages: Iterable[StageModel]) -> Iterator[tuple[StageModel, Step]]:
    """The instructions that ONBUILD wraps, each with the state it is declared in."""
    for stage in stages:
        for step in stage.steps:
            if step.trigger is not None:
                yield stage, step.trigger


def instructions(image: Image, *keywords: str, onbuild: bool = False) -> list[tuple[StageModel, Step]]:
    """The instructions with one of ``keywords``, in file order (fragment first); with
    ``onbuild``, also those that ONBUILD wraps."""
    index = image.steps_by_keyword
    found = [
        (stage, step, step.instruction.index)
        for keyword in keywords
        for stage, step, trigger in index.get(keyword, ())
        if onbuild or not trigger
    ]
    if len(keywords) > 1:
        found.sort(key=lambda item: item[2])
    return [(stage, step) for stage, step, _ in found]


def _shipped(image: Image, shipped: bool) -> set[int] | None:
    return {id(stage) for stage in shipped_stages(image)} if shipped else None


def runs(image: Image, onbuild: bool = True, shipped: bool = False) -> list[tuple[StageModel, Step]]:
    """The RUN instructions (and, with ``onbuild``, ONBUILD RUNs) of every stage, or with
    ``shipped`` of the stages that end up in the final image."""
    keep = _shipped(image, shipped)
    return [
        (stage, step)
        for stage, step, trigger in image.steps_by_keyword.get("RUN", ())
        if (onbuild or not trigger) and (keep is None or id(stage) in keep)
    ]


def commands(
    image: Image, *names: str, onbuild: bool = True, shipped: bool = False
) -> list[tuple[StageModel, Step, ShellCommand]]:
    """The RUN commands whose program is one of ``names``, in file order."""
    index = image.commands_by_name
    if not any(name in index for name in names):
        return []
    keep = _shipped(image, shipped)
    found = [
        (stage, step, command)
        for name in names
        for stage, step, command, trigger in index.get(name, ())
        if (onbuild or not trigger) and (keep is None or id(stage) in keep)
    ]
    if len(names) > 1:
        found.sort(key=lambda item: (item[1].instruction.index, item[2].command.start))
    return found


# -- command lines ----------------------------------------------------------------------------


def flag_names(word: str) -> list[str]:
    """The flags a word stands for: ``-yq`` -> y, q; ``--yes=1`` -> yes; others none."""
    if len(word) < 2 or word[0] != "-" or word == "--":
        return []
    if word.startswith("--"):
        return [word[2:].split("=", 1)[0]]
    return list(word[1:])


def flags(command: ShellCommand) -> list[str]:
    return [name for word in command.argv[1:] for name in flag_names(word)]


def has_flag(command: ShellCommand, *names: str) -> bool:
    return any(name in names for name in flags(command))


def count_flag(command: ShellCommand, name: str) -> int:
    return sum(1 for flag in flags(command) if flag == name)


def has_arg(command: ShellCommand, *words: str) -> bool:
    """Whether any argument (after the program) is one of ``words``."""
    return any(word in words for word in command.argv[1:])


def is_command(command: ShellCommand, *names: str) -> bool:
    return command.name in names


def uses(command: ShellCommand, names: tuple[str, ...], subcommands: tuple[str, ...]) -> bool:
    """``names`` run with one of ``subcommands`` among its arguments (hadolint's test)."""
    return command.name in names and has_arg(command, *subcommands)


def positional(command: ShellCommand, value_flags: Iterable[str] = ()) -> list[tuple[int, str]]:
    """(index in argv, word) of the arguments that are not flags, skipping the value
    that follows each flag in ``value_flags`` (unless written ``--flag=value``)."""
    value_flags = set(value_flags)
    found, skip = [], False
    for index, word in enumerate(command.argv[1:], 1):
        if skip:
            skip = False
            continue
        names = flag_names(word)
        if names:
            skip = "=" not in word and any(name in value_flags for name in names)
            continue
        found.append((index, word))
    return found


def after_subcommand(words: list[tuple[int, str]], *subcommands: str) -> list[tuple[int, str]]:
    """The words after the first of ``subcommands`` (and after any repeats of it)."""
    for position, (_, word) in enumerate(words):
        if word in subcommands:
            rest = words[position + 1 :]
            while rest and rest[0][1] in subcommands:
                rest = rest[1:]
            return rest
    return []


def word_list(words: Iterable[str], limit: int = 4) -> str:
    """`a`, `b` and `c` (with "and N more" past ``limit``)."""
    words = [f"`{word}`" for word in words]
    if len(words) > limit:
        words = [*words[:limit], f"{len(words) - limit} more"]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def variables(word: str) -> set[str]:
    """The names of the variables a word refers to (``$A``, ``${A}``, ``${A:-x}``)."""
    return set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", word))


def resolved(step: Step, word: str) -> list[str] | None:
    """A command word with the ARG and ENV values of the step put in, split into words
    as the shell splits an unquoted variable; None when it holds a command substitution
    or a variable the Dockerfile does not set (its value is not known)."""
    if "$(" in word or "`" in word:
        return None
    names = variables(word)
    if not names:
        return [word]
    if not names <= set(step.env):
        return None
    from dockerlint.parse.dockerfile import expand

    return expand(word, step.env).split()


def index_of(step: Step, test) -> int | None:
    """The position of the first command of a RUN that passes ``test``."""
    for position, command in enumerate(step.written_commands):
        if test(command):
            return position
    return None
