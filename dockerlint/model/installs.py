"""Package installs recognised in RUN commands: pip (and uv pip), apt, apk, yum/dnf.

Which words are options that take a value is package-manager knowledge; it lives in
``knowledge/package_managers.toml`` so that a missing flag is a data fix, not a code fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct, field

from dockerlint.knowledge import load
from dockerlint.source import Span

if TYPE_CHECKING:
    from dockerlint.model.image import ShellCommand


class Argument(Struct, frozen=True):
    value: str
    span: Span


class RequirementRef(Struct, frozen=True):
    """``-r path`` (or ``-c path``) of a pip command, resolved back to the build context."""

    image_path: str  # absolute path inside the image
    context_path: Path | None  # the file on disk it was copied from, when known
    span: Span
    constraint: bool = False


class Install(Struct, frozen=True):
    tool: str  # the program: "pip", "uv", "apt-get", "apt", "apk", "yum", "dnf", "microdnf"
    family: str  # "pip", "apt", "apk" or "rpm"
    action: str  # the subcommand: "install", "uninstall", "update", "add", "del", "purge", ...
    packages: tuple[Argument, ...]  # package arguments (pip: requirement specs; apt: names)
    options: dict[str, str | bool]  # long option name -> value (True for a flag)
    command: ShellCommand
    requirements: tuple[RequirementRef, ...] = ()
    editables: tuple[Argument, ...] = ()
    module_form: bool = False  # `python -m pip`
    flags: frozenset[str] = field(default=frozenset())  # every option word as written

    @property
    def span(self) -> Span:
        return self.command.span

    @property
    def invocation(self) -> str:
        """The command as written, for messages: ``uv pip install``, ``python -m pip install``."""
        if self.module_form:
            return f"python -m {self.tool} {self.action}"
        if self.tool == "uv" and "pip" in self.command.argv[1:3]:
            return f"uv pip {self.action}"
        return f"{self.tool} {self.action}"

    def has(self, *names: str) -> bool:
        return any(name in self.options for name in names)

    def option(self, name: str) -> str | bool | None:
        return self.options.get(name)


def _table() -> dict:
    return load("package_managers")


def package_manager(name: str) -> dict:
    """One table of knowledge/package_managers.toml: a tool's options and aliases."""
    return _table()[name]


def _pip_entry(argv: tuple[str, ...]) -> tuple[str, int, bool] | None:
    """(tool, index of the subcommand, python -m form) for pip-like commands."""
    if not argv:
        return None
    name = argv[0].rsplit("/", 1)[-1]
    if name == "pip" or (name.startswith("pip") and name[3:].replace(".", "").isdigit()):
        return "pip", 1, False
    if name.startswith("python") and name[6:].replace(".", "").isdigit() or name == "python":
        # python [-X opts] -m pip ...
        for i, word in enumerate(argv[1:], 1):
            if word == "-m" and i + 1 < len(argv) and argv[i + 1] == "pip":
                return "pip", i + 2, True
            if word.startswith("-m") and word[2:] == "pip":
                return "pip", i + 1, True
            if not word.startswith("-"):
                return None
        return None
    if name == "uv" and len(argv) > 2 and argv[1] == "pip":
        return "uv", 2, False
    return None


def recognise(command: ShellCommand, resolve_file) -> Install | None:
    """The install a command performs, or None. ``resolve_file(path)`` maps a path used in
    the command (relative to WORKDIR or absolute) to (image path, context file or None)."""
    argv = command.argv
    skip = wrapper_words(argv)
    if skip >= len(argv):
        return None
    table = _table()
    pip = _pip_entry(argv[skip:])
    if pip is not None:
        tool, sub, module_form = pip
        return _parse(command, tool, "pip", skip + sub, table["pip"], resolve_file, module_form)
    name = argv[skip].rsplit("/", 1)[-1]
    for family, spec in table.items():
        if family != "pip" and name in spec.get("programs", ()):
            return _parse(command, name, family, skip + 1, spec, resolve_file, False)
    return None


_WRAPPERS = {
    "sudo": ("-u", "-g", "-C", "-h"),
    "env": ("-u", "-C"),
    "time": (),
    "nice": ("-n",),
    "nohup": (),
    "exec": (),
}


# `conda run -n ENV pip install ...` runs the command inside an environment.
_ENV_RUNNERS = {
    "conda": ("-n", "--name", "-p", "--prefix", "--cwd"),
    "mamba": ("-n", "--name", "-p", "--prefix", "--cwd"),
    "micromamba": ("-n", "--name", "-p", "--prefix", "--cwd"),
    # A project manager's `run` runs the command in the project's environment
    # (`poetry run pip install torchvision`, `pipenv run pip install torch --index-url ...`).
    "poetry": ("-P", "--project", "-C", "--directory"),
    "pipenv": (),
    "pdm": ("-p", "--project"),
    "hatch": ("-e", "--env"),
    "uv": (
        "--with",
        "--with-requirements",
        "--python",
        "-p",
        "--project",
        "--directory",
        "--extra",
        "--group",
        "--env-file",
        "--package",
    ),
}


_VARIABLE_NAME = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def with_values(word: str, env: dict[str, str]) -> str:
    """A command word with the ARG and ENV values it names put in, as the shell of the RUN
    does (`poetry==${POETRY_VERSION}`); as written when one of them is not set here."""
    if "$" not in word or any(name not in env for name in _VARIABLE_NAME.findall(word)):
        return word
    from dockerlint.parse.dockerfile import expand

    return expand(word, env)


def wrapper_words(argv: tuple[str, ...]) -> int:
    """How many leading words only wrap the real command: ``sudo -E``, ``env A=1``,
    ``time``, ``conda run -n ENV``, ``uv --directory api run --no-sync``."""
    i = 0
    while i < len(argv):
        name = argv[i].rsplit("/", 1)[-1]
        run = _run_word(argv, i + 1, _ENV_RUNNERS[name]) if name in _ENV_RUNNERS else None
        if run is not None:  # global options may come first: `uv --directory api run`
            takes_value, i = _ENV_RUNNERS[name], run + 1
        elif name in _WRAPPERS:
            takes_value, i = _WRAPPERS[name], i + 1
        else:
            break
        while i < len(argv) and (argv[i].startswith("-") or "=" in argv[i]):
            i += 2 if argv[i].partition("=")[0] in takes_value and "=" not in argv[i] else 1
    return i


def _run_word(argv: tuple[str, ...], start: int, takes_value: tuple[str, ...]) -> int | None:
    """Where the `run` of an environment runner is, past the options before it, or None."""
    i = start
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in takes_value else 1
    return i if i < len(argv) and argv[i] == "run" else None


def _setup_py_location(value: str, options: dict[str, str | bool]) -> None:
    """``--install-option="--prefix=/install"`` (pip before 23.1): pip builds every package
    with ``setup.py install`` and that option, so the packages go under the prefix or root
    as with pip's own ``--prefix``/``--root``."""
    words = value.split()
    for index, word in enumerate(words):
        name, has_value, given = word.partition("=")
        if name in ("--prefix", "--root") and not has_value and index + 1 < len(words):
            given = words[index + 1]
        if name in ("--prefix", "--root") and given:
            options.setdefault(name, given)


def _parse(command, tool, family, sub, spec, resolve_file, module_form) -> Install | None:
    argv = command.argv
    value_options = set(spec.get("value_options", ()))
    aliases = spec.get("aliases", {})
    options: dict[str, str | bool] = {}
    flags: set[str] = set()
    packages: list[Argument] = []
    named: set[str] = set()
    requirements: list[RequirementRef] = []
    editables: list[Argument] = []
    action = None
    i = sub
    # Options may come before the subcommand (`apt-get -y install`, `pip -q install`).
    while i < len(argv):
        word = argv[i]
        if action is None and not word.startswith("-"):
            action = word
            i += 1
            continue
        if word.startswith("-") and word != "-":
            if not word.startswith("--") and len(word) > 2 and word[:2] in value_options:
                # a short option glued to its value: -rrequirements.txt, -oAPT::X=false
                name, value, has_value = word[:2], word[2:], True
            else:
                name, has_value, value = word.partition("=")
            canonical = aliases.get(name, name)
            flags.add(name)
            if name in value_options or canonical in value_options:
                if not has_value and i + 1 < len(argv):
                    i += 1
                    value = argv[i]
                    value_index = i
                else:
                    value_index = i
                options[canonical] = value
                if family == "pip" and canonical in ("--requirement", "--constraint"):
                    image_path, context_path = resolve_file(value)
                    requirements.append(
                        RequirementRef(
                            image_path,
                            context_path,
                            command.word_span(value_index),
                            constraint=canonical == "--constraint",
                        )
                    )
                elif family == "pip" and canonical == "--editable":
                    editables.append(Argument(value, command.word_span(value_index)))
                elif family == "pip" and canonical == "--install-option":
                    _setup_py_location(value, options)
            else:
                options[canonical] = True
                # short flag clusters such as -yq: record each letter too
                if not name.startswith("--") and len(name) > 2:
                    for letter in name[1:]:
                        options[aliases.get("-" + letter, "-" + letter)] = True
        elif action is not None and word not in named:
            named.add(word)  # `pip install a a` installs `a` once; a hostile line repeats it 100,000 times
            packages.append(Argument(word, command.word_span(i)))
        i += 1
    if action is None:
        return None
    action = spec.get("actions", {}).get(action, action)
    return Install(
        tool=tool,
        family=family,
        action=action,
        packages=tuple(packages),
        options=options,
        command=command,
        requirements=tuple(requirements),
        editables=tuple(editables),
        module_form=module_form,
        flags=frozenset(flags),
    )
