"""The Python a RUN executes, followed into the project's own modules.

A build often downloads weights through the project's code rather than in the Dockerfile:
``RUN python - <<EOF`` with ``from inference import CLIP; CLIP()``, or
``RUN python lambda_handler.py`` whose module-level code builds a predictor whose
``__init__`` loads a tokenizer from another module. This module reads the program the RUN
gives Python (a script, ``-c`` code or a heredoc), then every first-party module it imports
(found in the image through COPY and WORKDIR, as Python's ``sys.path`` would), runs their
import-time code and the functions and classes the program calls, and reports the calls
that match the download table. It reads files only: nothing is imported or executed.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable
from pathlib import Path

from msgspec import Struct, field

from dockerlint.model.image import Image, StageModel, Step, context_source
from dockerlint.parse.python import Call, PythonCalls
from dockerlint.source import Span

MAX_MODULES = 40  # first-party modules read for one program
MAX_UNITS = 400  # (module, scope) pairs run for one program
MAX_REEXPORTS = 8  # packages that import a name from another module, followed for one call
# The methods that run when a class is called (a function runs its own body).
_CONSTRUCTORS = ("", ".__init__", ".__post_init__", ".__new__")


class Reached(Struct, frozen=True):
    """A call the program reaches, with where it sits and how the program gets there."""

    call: Call
    qualified: str  # the callee with imports resolved: "open_clip.create_model_and_transforms"
    path: Path | None  # the build-context file holding it; None: the program text itself
    entry: Call | None  # the call in the program text that leads there (None: import time)


class _Module(Struct):
    path: Path | None  # the build-context file; None for ``-c`` code and heredocs
    image_path: str | None  # where the image holds it ("/app/inference.py")
    parsed: PythonCalls
    defined: set[str] = field(default_factory=set)  # scopes that hold calls ("CLIP", "CLIP.__init__")

    def __post_init__(self) -> None:
        for call in self.parsed.calls:
            parts = call.scope.split(".") if call.scope else []
            for end in range(1, len(parts) + 1):
                self.defined.add(".".join(parts[:end]))


def follow(
    image: Image,
    stage: StageModel,
    step: Step,
    parsed: PythonCalls,
    matches: Callable[[str, Call], bool],
    *,
    path: Path | None = None,
    image_path: str | None = None,
    whole: bool = False,
    module: bool = False,
    everything: bool = False,
) -> list[Reached]:
    """The calls the program ``parsed`` reaches that ``matches`` accepts (it is given the
    resolved callee and the call), in the program and in the first-party modules it runs.

    ``whole``: every call of the program counts as run (a script: its functions are its
    entry points, called in ways a reader cannot always trace); otherwise only its
    top-level code and what that calls. ``module``: the program runs as ``python -m`` (or
    a server's ``module:app``), which finds imports from the working folder, not from the
    program's own folder. ``everything``: every call of every module the program imports,
    at any level, counts as run (what the program may do, where it picks a class or
    function by name at run time)."""
    walker = _Walker(image, stage, step, matches, None if module else image_path, everything)
    entry = _Module(path, image_path, parsed)
    walker.run(entry, None if whole else "", None, is_entry=True)
    return walker.found


class _Walker:
    def __init__(self, image, stage, step, matches, entry_image_path: str | None, everything: bool = False) -> None:
        self.image, self.stage, self.step, self.matches = image, stage, step, matches
        self.everything = everything
        workdir = step.workdir or "/"
        entry_dir = posixpath.dirname(entry_image_path) if entry_image_path else workdir
        self.roots = [entry_dir] + _pythonpath(step.env.get("PYTHONPATH", ""), workdir)
        self.modules: dict[str, _Module | None] = {}
        self.done: set[tuple[int, str | None]] = set()
        self.found: list[Reached] = []
        self.seen_calls: set[tuple[str, int, int]] = set()

    def run(self, module: _Module, scope: str | None, entry: Call | None, is_entry: bool = False) -> None:
        """Run ``scope`` of ``module`` (None: every call; "": top-level code)."""
        key = (id(module), scope)
        if key in self.done or len(self.done) >= MAX_UNITS:
            return
        self.done.add(key)
        if scope == "" or scope is None:
            self._imports(module, entry)
        for call in module.parsed.calls:
            if scope is not None and call.scope != scope:
                continue
            if scope == "" and call.guarded and not is_entry:
                continue  # `if __name__ == "__main__":` of an imported module does not run
            qualified = _qualified(module.parsed, call.function)
            if self.matches(qualified, call):
                place = (str(module.path), call.line, call.column)
                if place not in self.seen_calls:
                    self.seen_calls.add(place)
                    self.found.append(Reached(call, qualified, module.path, entry or (None if not is_entry else call)))
                continue
            for target, target_scope in self._targets(module, call):
                self.run(target, target_scope, entry if entry is not None or not is_entry else call)

    def _imports(self, module: _Module, entry: Call | None) -> None:
        """Importing a first-party module runs its top-level code."""
        scope = None if self.everything else ""
        for _, name in module.parsed.aliases:
            found = self._absolute(name)
            if found is not None:
                self.run(found[0], scope, entry)
        for _, name in module.parsed.relative:
            found = self._relative(module, name)
            if found is not None:
                self.run(found[0], scope, entry)

    def _targets(self, module: _Module, call: Call) -> list[tuple[_Module, str]]:
        head, _, tail = call.function.partition(".")
        if head in ("self", "cls") and tail and "." not in tail and call.scope:
            owner = call.scope.split(".")[0]
            return [(module, f"{owner}.{tail}")]
        relative = dict(module.parsed.relative)
        aliases = dict(module.parsed.aliases)
        found = None
        if head in relative:
            found = self._relative(module, relative[head] + ("." + tail if tail else ""))
        elif head in aliases:
            found = self._absolute(aliases[head] + ("." + tail if tail else ""))
        else:
            nested = f"{call.scope}.{call.function}" if call.scope else ""
            for name in (nested, call.function):
                if name and name in module.defined:
                    return [(module, name + suffix) for suffix in _CONSTRUCTORS]
            return []
        for _ in range(MAX_REEXPORTS):  # `from .clip import CLIP` in a package's __init__.py
            if found is None or not found[1]:
                return []
            target, name = found
            first, _, rest = name.partition(".")
            if any(scope == first or scope.startswith(first + ".") for scope in target.defined):
                break
            inner_aliases, inner_relative = dict(target.parsed.aliases), dict(target.parsed.relative)
            if first in inner_relative:
                found = self._relative(target, inner_relative[first] + ("." + rest if rest else ""))
            elif first in inner_aliases:
                found = self._absolute(inner_aliases[first] + ("." + rest if rest else ""))
            else:
                break
        if found is None or not found[1]:
            return []
        target, name = found
        return [(target, name + suffix) for suffix in _CONSTRUCTORS]

    def _absolute(self, dotted: str) -> tuple[_Module, str] | None:
        """The first-party module a dotted name lives in, and the rest of the name."""
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):
            for root in self.roots:
                module = self._load(root, parts[:cut])
                if module is not None:
                    return module, ".".join(parts[cut:])
        return None

    def _relative(self, module: _Module, dotted: str) -> tuple[_Module, str] | None:
        if module.image_path is None:
            return None
        level = len(dotted) - len(dotted.lstrip("."))
        base = posixpath.dirname(module.image_path)
        for _ in range(level - 1):
            base = posixpath.dirname(base)
        parts = [part for part in dotted.lstrip(".").split(".") if part]
        for cut in range(len(parts), -1, -1):
            loaded = self._load(base, parts[:cut]) if cut else self._load(base, [], package=True)
            if loaded is not None:
                return loaded, ".".join(parts[cut:])
        return None

    def _load(self, root: str, parts: list[str], package: bool = False) -> _Module | None:
        base = posixpath.join(root, *parts) if parts else root
        candidates = [base + "/__init__.py"] if package or not parts else [base + ".py", base + "/__init__.py"]
        for image_path in candidates:
            image_path = posixpath.normpath(image_path)
            if image_path in self.modules:
                if self.modules[image_path] is not None:
                    return self.modules[image_path]
                continue
            loaded = None
            if len([m for m in self.modules.values() if m is not None]) < MAX_MODULES:
                loaded = self._read(image_path)
            self.modules[image_path] = loaded
            if loaded is not None:
                return loaded
        return None

    def _read(self, image_path: str) -> _Module | None:
        from dockerlint.parse.python import scan_calls

        source = context_source(self.image, self.stage, image_path, self.step.index)
        if source is None or not os.path.isfile(source):
            return None
        loaded = self.image.workspace.text(source, quiet=True)
        if loaded is None:
            return None
        return _Module(source, image_path, scan_calls(loaded[0].text))


def _qualified(parsed: PythonCalls, function: str) -> str:
    head, _, tail = function.partition(".")
    aliases = dict(parsed.aliases)
    return aliases.get(head, head) + ("." + tail if tail else "")


def _pythonpath(value: str, workdir: str) -> list[str]:
    roots = []
    for entry in value.split(":"):
        entry = entry.strip()
        if not entry or "$" in entry:
            continue
        roots.append(posixpath.normpath(posixpath.join(workdir, entry)))
    return roots


def entry_span(reached: Reached, first_line: int = 1) -> Span | None:
    """Where, in the program text, the path to ``reached`` starts (None: at import time)."""
    call = reached.entry
    if call is None:
        return None
    offset = first_line - 1
    return Span(call.line + offset, call.column, call.end_line + offset, call.end_column)
