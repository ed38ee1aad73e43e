"""Dependencies declared in pyproject.toml.

INTERFACE (other modules rely on these names; keep them):

- ``parse_pyproject(text: str) -> Pyproject`` never raises; TOML errors become a problem
  (code "SYN001") with the line TOML reports.

Sources read: ``[project].dependencies``, ``[project.optional-dependencies]``, PEP 735
``[dependency-groups]`` (includes resolved), ``[tool.poetry.dependencies]``,
``[tool.poetry.group.<name>.dependencies]``, the legacy
``[tool.poetry.dev-dependencies]``, uv's legacy ``[tool.uv] dev-dependencies`` (the
``dev`` group, as uv reads it: group "uv-dev") and PDM's ``[tool.pdm.dev-dependencies]``
(``<name> = [...]`` of PEP 508 strings, dev groups as PEP 735's are: group
"pdm-dev:<name>"). Poetry constraints (``^1.2``, ``~1.2``, ``1.2.*``) are translated into
PEP 440 specifiers so later rules handle every source alike.

Positions: TOML parsers give none, so each dependency is found again in the text. The
search starts at the key that holds the list (``dependencies =``, ``gpu =``…) inside the
table that defines it and moves forward past each match, so a string written twice gets
two different spans. When the string cannot be found (escapes, multi-line strings, exotic
dotted keys) the span falls back to the key's line, then the table header's line, then
line 1.
"""

from __future__ import annotations

import re

from msgspec import Struct, field
from msgspec.structs import replace

from dockerlint.regex import lazy_compile
from dockerlint.source import Problem, Span, Text


class Dependency(Struct, frozen=True):
    name: str | None  # canonical name; None when the string is not a valid requirement
    specifier: str
    extras: tuple[str, ...]
    marker: str | None
    text: str  # the requirement string as written; for poetry the `name = value` line
    # "project", "optional:<extra>", "group:<name>", "uv-dev", "pdm-dev:<name>", "poetry", "poetry-group:<name>"
    group: str
    span: Span  # where the string sits in the file (its line; columns of the string)


class Pyproject(Struct, frozen=True):
    name: str | None  # [project].name or [tool.poetry].name
    dependencies: tuple[Dependency, ...]
    build_requires: tuple[str, ...] = ()
    tool: dict = field(default_factory=dict)  # the [tool] table as parsed (config reads [tool.dockerlint])
    # console commands and what they run ("module:function"): [project.scripts], [tool.poetry.scripts]
    scripts: tuple[tuple[str, str], ...] = ()
    requires_python: str = ""  # [project].requires-python, or Poetry's `python` constraint as a PEP 440 specifier
    problems: tuple[Problem, ...] = field(default=())


def parse_pyproject(text: str) -> Pyproject:
    from dockerlint.tomlparser import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return Pyproject(None, (), problems=(_toml_problem(text, str(error)),))
    except (RecursionError, MemoryError) as error:
        message = f"pyproject.toml is nested too deeply or too large to read ({type(error).__name__})"
        return Pyproject(None, (), problems=(Problem("SYN001", message, Span(1, 1, 1, 1)),))

    locator = _Locator(text)
    problems: list[Problem] = []
    project = _table(data, "project")
    tool = _table(data, "tool")
    poetry = _table(tool, "poetry")

    dependencies: list[Dependency] = []
    for string in _strings(project.get("dependencies")):
        dependencies.append(_pep508(string, "project", locator.string(("project", "dependencies"), string)))
    for extra, strings in _table(project, "optional-dependencies").items():
        path = ("project", "optional-dependencies", extra)
        for string in _strings(strings):
            dependencies.append(_pep508(string, f"optional:{extra}", locator.string(path, string)))
    dependencies += _dependency_groups(_table(data, "dependency-groups"), locator, problems)
    for string in _strings(_table(tool, "uv").get("dev-dependencies")):
        dependencies.append(_pep508(string, "uv-dev", locator.string(("tool", "uv", "dev-dependencies"), string)))
    for group, strings in _table(_table(tool, "pdm"), "dev-dependencies").items():
        path = ("tool", "pdm", "dev-dependencies", group)
        for string in _strings(strings):
            dependencies.append(_pep508(string, f"pdm-dev:{group}", locator.string(path, string)))
    dependencies += _poetry_table(_table(poetry, "dependencies"), "poetry", ("tool", "poetry", "dependencies"), locator)
    dependencies += _poetry_table(
        _table(poetry, "dev-dependencies"), "poetry-group:dev", ("tool", "poetry", "dev-dependencies"), locator
    )
    for group, table in _table(poetry, "group").items():
        path = ("tool", "poetry", "group", group, "dependencies")
        dependencies += _poetry_table(_table(table, "dependencies"), f"poetry-group:{group}", path, locator)

    problems += _listed_again(dependencies)
    name = project.get("name", poetry.get("name"))
    return Pyproject(
        name=name if isinstance(name, str) else None,
        dependencies=tuple(dependencies),
        build_requires=tuple(_strings(_table(data, "build-system").get("requires"))),
        tool=tool,
        scripts=_scripts(_table(project, "scripts"), _table(poetry, "scripts")),
        requires_python=_requires_python(project, _table(poetry, "dependencies")),
        problems=tuple(problems),
    )


_GROUP_TABLES = {
    "project": "[project] dependencies",
    "optional": "[project.optional-dependencies] {}",
    "group": "[dependency-groups] {}",
    "uv-dev": "[tool.uv] dev-dependencies",
    "poetry": "[tool.poetry.dependencies]",
    "poetry-group": "[tool.poetry.group.{}.dependencies]",
}


def _listed_again(dependencies: list[Dependency]) -> list[Problem]:
    """A package listed twice in one dependency list (`boto3` and `boto3>=1.40`, or
    `huggingface-hub` and `huggingface_hub`, one name): every install reads both, and an
    edit to one leaves the other behind (REQ002). The same package with other extras or
    another marker is a choice, not a repeat."""
    problems, first = [], {}
    for dependency in dependencies:
        if dependency.name is None:
            continue
        key = (dependency.group, dependency.name, dependency.extras, dependency.marker)
        earlier = first.setdefault(key, dependency)
        if earlier is dependency:
            continue
        kind, _, group = dependency.group.partition(":")
        table = _GROUP_TABLES.get(kind, dependency.group).format(group)
        problems.append(
            Problem(
                "REQ002",
                f"`{dependency.name}` is listed again in {table}: `{dependency.text}` here and "
                f"`{earlier.text}` on line {earlier.span.line}",
                dependency.span,
                "Keep one entry per package, with the version range both lines meant.",
            )
        )
    return problems


# Pipfile: ``[packages]`` (group "pipenv"), ``[dev-packages]`` ("pipenv:dev-packages") and
# other categories ("pipenv:<category>"), each ``name = "<PEP 440 specifier or *>"`` or a
# table (version, extras, markers, git/path/file, and PEP 508 marker names as keys:
# ``pywin32 = {version = "*", sys_platform = "== 'win32'"}``). Sources are kept in
# ``tool["pipenv"]`` for the index rules.
PIPENV_DEFAULT = "packages"
_PIPFILE_NOT_CATEGORIES = ("source", "requires", "scripts", "pipenv")
_MARKER_KEYS = (
    "os_name", "sys_platform", "platform_machine", "platform_python_implementation", "platform_release",
    "platform_system", "platform_version", "python_version", "python_full_version", "implementation_name",
)  # fmt: skip


def parse_pipfile(text: str) -> Pyproject:
    """The dependencies of a Pipfile, by category; never raises."""
    from dockerlint.tomlparser import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return Pyproject(None, (), problems=(_toml_problem(text, str(error), "Pipfile"),))
    except (RecursionError, MemoryError) as error:
        message = f"Pipfile is nested too deeply or too large to read ({type(error).__name__})"
        return Pyproject(None, (), problems=(Problem("SYN001", message, Span(1, 1, 1, 1)),))
    locator = _Locator(text)
    dependencies: list[Dependency] = []
    for category, table in data.items():
        if category in _PIPFILE_NOT_CATEGORIES or not isinstance(table, dict):
            continue
        group = "pipenv" if category == PIPENV_DEFAULT else f"pipenv:{category}"
        values = {_canonical(key): value for key, value in table.items()}
        for dependency in _poetry_table(table, group, (category,), locator, pep440=True):
            value = values.get(dependency.name)
            keys = value if isinstance(value, dict) else {}
            if "path" in keys or "file" in keys:
                dependency = replace(dependency, name=None)  # the project itself, or a local folder
            markers = [f"{key} {keys[key]}" for key in _MARKER_KEYS if isinstance(keys.get(key), str)]
            if markers:
                joined = " and ".join(f"({m})" for m in [dependency.marker, *markers] if m)
                dependency = replace(dependency, marker=joined)
            dependencies.append(dependency)
    sources = (
        [entry for entry in data.get("source", ()) if isinstance(entry, dict)]
        if isinstance(data.get("source"), list)
        else []
    )
    return Pyproject(None, tuple(dependencies), tool={"pipenv": {"source": sources}})


def parse_setup_py(text: str) -> Pyproject | None:
    """What a setup.py declares as literals in its ``setup(...)`` call: ``install_requires``
    and ``extras_require``, read with ``ast``, never run. None when it computes them (read
    from a file, built by code, passed through ``**kwargs``): what it installs is not known."""
    import ast

    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    call = next((node for node in ast.walk(tree) if isinstance(node, ast.Call) and _setup_call(node.func)), None)
    if call is None or any(keyword.arg is None for keyword in call.keywords):
        return None
    given = {keyword.arg: keyword.value for keyword in call.keywords}
    dependencies: list[Dependency] = []
    if "install_requires" in given:
        strings = _literal_strings(given["install_requires"])
        if strings is None:
            return None
        dependencies += [_pep508(value, "project", span) for value, span in strings]
    if "extras_require" in given:
        extras = given["extras_require"]
        if not isinstance(extras, ast.Dict) or not all(isinstance(key, ast.Constant) for key in extras.keys):
            return None
        for key, value in zip(extras.keys, extras.values, strict=True):
            strings = _literal_strings(value)
            if strings is None or not isinstance(key.value, str):
                return None
            dependencies += [_pep508(item, f"optional:{key.value}", span) for item, span in strings]
    name = given.get("name")
    name = name.value if isinstance(name, ast.Constant) and isinstance(name.value, str) else None
    return Pyproject(name, tuple(dependencies))


def _setup_call(function) -> bool:
    import ast

    return (isinstance(function, ast.Name) and function.id == "setup") or (
        isinstance(function, ast.Attribute) and function.attr == "setup"
    )


def _literal_strings(node) -> list[tuple[str, Span]] | None:
    """The strings of a literal list or tuple, each with its span inside the quotes."""
    import ast

    if not isinstance(node, (ast.List, ast.Tuple)):
        return None
    found = []
    for item in node.elts:
        if not isinstance(item, ast.Constant) or not isinstance(item.value, str):
            return None
        found.append((item.value, Span(item.lineno, item.col_offset + 2, item.end_lineno, item.end_col_offset)))
    return found


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return canonicalize_name(name)


def _toml_problem(text: str, message: str, name: str = "pyproject.toml") -> Problem:
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if found:
        line, column = int(found.group(1)), int(found.group(2))
    else:  # "(at end of document)"
        line = text.count("\n") + 1
        column = len(Text.of(text).line(line)) + 1
    return Problem("SYN001", f"{name} is not valid TOML: {message}", Span(line, column, line, column + 1))


def _requires_python(project: dict, poetry_dependencies: dict) -> str:
    """The Python versions the project accepts, as a PEP 440 specifier ("" when it says none
    or it does not translate)."""
    value = project.get("requires-python")
    if isinstance(value, str):
        return value.strip()
    value = poetry_dependencies.get("python")
    return poetry_specifier(value) if isinstance(value, str) else ""


def _scripts(*tables: dict) -> tuple[tuple[str, str], ...]:
    """(command, "module:function") of each console script; Poetry's table form
    (`name = { reference = "...", type = "console" }`) gives its reference."""
    found = {}
    for table in tables:
        for name, target in table.items():
            if isinstance(target, dict):
                target = target.get("reference") if target.get("type", "console") == "console" else None
            found.setdefault(name, target if isinstance(target, str) else "")
    return tuple(sorted(found.items()))


def _table(parent: object, key: str) -> dict:
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else {}


def _strings(value: object) -> list[str]:
    """The string items of a TOML array; anything else in it is not a requirement."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _pep508(string: str, group: str, span: Span) -> Dependency:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        requirement = Requirement(string)
    except InvalidRequirement:
        return Dependency(None, "", (), None, string, group, span)
    return Dependency(
        name=canonicalize_name(requirement.name),
        specifier=str(requirement.specifier),
        extras=tuple(sorted(requirement.extras)),
        marker=str(requirement.marker) if requirement.marker else None,
        text=string,
        group=group,
        span=span,
    )


# PEP 735 sets no limit; real projects nest groups a level or two. Deeper chains would
# reach Python's recursion limit.
MAX_INCLUDE_DEPTH = 50


def _dependency_groups(groups: dict, locator: _Locator, problems: list[Problem]) -> list[Dependency]:
    """PEP 735 groups with ``{include-group = "…"}`` expanded in place.

    Group names match after normalisation, as the PEP says. A cycle, an unknown group or
    a chain deeper than ``MAX_INCLUDE_DEPTH`` is reported once and the include skipped.
    """
    from packaging.utils import canonicalize_name

    by_name = {canonicalize_name(name): name for name in groups}
    own: dict[str, list[Dependency | str]] = {}  # requirements, or names of included groups
    for name, entries in groups.items():
        path = ("dependency-groups", name)
        own[name] = []
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, str):
                own[name].append(_pep508(entry, "", locator.string(path, entry)))
            elif isinstance(entry, dict) and isinstance(entry.get("include-group"), str):
                own[name].append(entry["include-group"])

    reported: set[str] = set()
    expanded: dict[str, list[Dependency]] = {}  # shared includes are expanded once

    def expand(name: str, chain: tuple[str, ...]) -> list[Dependency]:
        if name in expanded:
            return expanded[name]
        found: list[Dependency] = []
        seen: set[int] = set()  # a group included twice, or two ways, counts once (else 2^depth)
        for entry in own[name]:
            for dependency in [entry] if isinstance(entry, Dependency) else include(name, entry, chain):
                if id(dependency) not in seen:
                    seen.add(id(dependency))
                    found.append(dependency)
        expanded[name] = found
        return found

    def include(name: str, entry: str, chain: tuple[str, ...]) -> list[Dependency]:
        target = by_name.get(canonicalize_name(entry))
        if target is None:
            message = f"dependency group {name!r} includes unknown group {entry!r}"
        elif target in chain or target == name:
            message = "dependency group cycle: " + " -> ".join((*chain, name, target))
        elif len(chain) >= MAX_INCLUDE_DEPTH:
            message = f"dependency groups include one another more than {MAX_INCLUDE_DEPTH} deep: not followed"
        else:
            return expand(target, (*chain, name))
        if message not in reported:
            reported.add(message)
            problems.append(Problem("SYN001", message, locator.header(("dependency-groups",))))
        return []

    dependencies = []
    for name in groups:
        for dependency in expand(name, ()):
            dependencies.append(replace(dependency, group=f"group:{name}"))
    return dependencies


def _poetry_table(
    table: dict, group: str, path: tuple[str, ...], locator: _Locator, pep440: bool = False
) -> list[Dependency]:
    """Dependencies written ``name = constraint``: poetry's, or with ``pep440`` a Pipfile's
    (its versions are PEP 440 specifiers, ``*`` for any)."""
    from packaging.utils import canonicalize_name

    dependencies = []
    for raw_name, value in table.items():
        if raw_name.lower() == "python":
            continue
        span, written = locator.key(path, raw_name)
        text = written or f"{raw_name} = {value!r}"
        # A list holds alternatives for different Pythons or platforms: one entry each.
        for constraint in value if isinstance(value, list) else [value]:
            specifier, extras, marker = _poetry_constraint(constraint, pep440)
            dependencies.append(Dependency(canonicalize_name(raw_name), specifier, extras, marker, text, group, span))
    return dependencies


def _poetry_constraint(value: object, pep440: bool = False) -> tuple[str, tuple[str, ...], str | None]:
    """(specifier, extras, marker) of one poetry (or Pipfile) dependency value."""
    translate = _pep440_specifier if pep440 else poetry_specifier
    if isinstance(value, str):
        return translate(value), (), None
    if not isinstance(value, dict):
        return "", (), None
    extras = tuple(sorted(item for item in value.get("extras", ()) if isinstance(item, str)))
    markers = []
    if isinstance(value.get("markers"), str):
        markers.append(value["markers"])
    if isinstance(value.get("python"), str):
        markers.append(_python_marker(value["python"]))
    if isinstance(value.get("platform"), str):
        markers.append(f'sys_platform == "{value["platform"]}"')
    markers = [m for m in markers if m]
    marker = " and ".join(f"({m})" if len(markers) > 1 else m for m in markers) or None
    # git/path/url dependencies carry no version constraint.
    if any(key in value for key in ("git", "path", "url")) or not isinstance(value.get("version"), str):
        return "", extras, marker
    return translate(value["version"]), extras, marker


def _pep440_specifier(constraint: str) -> str:
    """A Pipfile version: a PEP 440 specifier, ``*`` (or nothing) for any; "" when invalid."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    constraint = constraint.strip()
    if constraint in ("", "*"):
        return ""
    try:
        return str(SpecifierSet(constraint))
    except InvalidSpecifier:
        return ""


_CLAUSE = lazy_compile(r"(\^|~=|~|===|==|!=|<=|>=|<|>|=)?\s*([^\s,<>=!~^][^\s,]*)")


def poetry_specifier(constraint: str) -> str:
    """Translate a poetry constraint into a PEP 440 specifier ("" for any version).

    ``^1.2.3`` → ``>=1.2.3,<2.0.0``, ``~1.2`` → ``>=1.2,<1.3``, ``1.2.*`` → ``==1.2.*``,
    ``1.2.3`` → ``==1.2.3``. Alternatives (``||``) and anything that does not translate
    to a valid specifier give "": we would rather miss a conflict than invent one.
    """
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if "||" in constraint or "|" in constraint:
        return ""
    clauses: list[str] = []
    for operator, version in _CLAUSE.findall(constraint.strip()):
        if version == "*" and not operator:
            continue
        if operator == "^":
            clauses += _caret(version)
        elif operator == "~":
            clauses += _tilde(version)
        elif operator in ("", "="):
            clauses.append(f"=={version}")
        else:
            clauses.append(f"{operator}{version}")
    specifier = ",".join(clauses)
    try:
        SpecifierSet(specifier)
    except InvalidSpecifier:
        return ""
    return specifier


def _release(version: str) -> list[int] | None:
    found = re.match(r"(\d+(?:\.\d+)*)", version)
    return [int(part) for part in found.group(1).split(".")] if found else None


def _bounded(version: str, bump: int) -> list[str]:
    """``>=version,<next`` where next increments component ``bump`` and zeroes the rest."""
    release = _release(version)
    if release is None:
        return [f"=={version}"]  # left for SpecifierSet to reject
    bump = min(bump, len(release) - 1)
    upper = release[:bump] + [release[bump] + 1] + [0] * (len(release) - bump - 1)
    return [f">={version}", "<" + ".".join(map(str, upper))]


def _caret(version: str) -> list[str]:
    """Caret: the leftmost non-zero component may not change (all zero: the last one)."""
    release = _release(version) or [0]
    first_non_zero = next((index for index, part in enumerate(release) if part), len(release) - 1)
    return _bounded(version, first_non_zero)


def _tilde(version: str) -> list[str]:
    """Tilde: ``~1.2.3`` and ``~1.2`` allow patch changes, ``~1`` minor changes."""
    release = _release(version) or [0]
    return _bounded(version, 1 if len(release) > 1 else 0)


def _python_marker(constraint: str) -> str:
    """Poetry's ``python = "^3.8"`` as a marker on python_version."""
    specifier = poetry_specifier(constraint)
    parts = []
    for clause in filter(None, specifier.split(",")):
        operator, version = re.match(r"(===|==|!=|<=|>=|~=|<|>)(.*)", clause).groups()
        if operator == "==" and version.endswith(".*"):
            operator, version = "==", version[:-2]
        parts.append(f'python_version {operator} "{version}"')
    return " and ".join(parts)


_HEADER = lazy_compile(r"^[ \t]*\[\[?(?P<name>[^\]\n]*)\]\]?[ \t]*(?:#.*)?$", re.MULTILINE)


def _key_parts(dotted: str) -> tuple[str, ...]:
    """``tool."poetry".group.dev`` → ("tool", "poetry", "group", "dev")."""
    return tuple(part.strip().strip("\"'") for part in re.findall(r'\s*(?:"[^"]*"|\'[^\']*\'|[^.\s]+)\s*', dotted))


# `key = ` at the start of a line: a bare key or one quoted key (dotted keys are searched for).
_KEY_LINE = lazy_compile(r"^[ \t]*(\"[^\"\n]*\"|'[^'\n]*'|[A-Za-z0-9_-]+)[ \t]*=", re.MULTILINE)
# Keys not found in their table's own lines are searched for through the whole file; past
# this many, they take the table header's line (a file of thousands would take minutes).
MAX_KEY_SEARCHES = 200


class _Locator:
    """Finds where values sit in the TOML text (see the module docstring)."""

    def __init__(self, text: str):
        self.text = text
        self.index = Text.of(text)
        # Each table header, in order: (key path, offset of the header, offset of its body).
        self.tables = [
            (_key_parts(found.group("name")), found.start(), found.end()) for found in _HEADER.finditer(text)
        ]
        self.cursors: dict[tuple[str, ...], tuple[int, int]] = {}  # path -> (search from, table end)
        # path -> (body, end) of each table that path names; () is the top of the file
        starts = [start for _, start, _ in self.tables]
        self.regions: dict[tuple[str, ...], list[tuple[int, int]]] = {(): [(0, starts[0] if starts else len(text))]}
        for (parts, _, body), end in zip(self.tables, [*starts[1:], len(text)] if starts else [], strict=True):
            self.regions.setdefault(parts, []).append((body, end))
        self.keys: dict[tuple[str, ...], dict[str, tuple[int, int]]] = {}  # table -> key -> (start, end of line)
        self.slow_lookups = 0

    def _body_end(self, body: int) -> int:
        later = [start for _, start, _ in self.tables if start >= body]
        return min(later) if later else len(self.text)

    def _table_keys(self, table: tuple[str, ...]) -> dict[str, tuple[int, int]]:
        """Where each plain or quoted ``key =`` of the table's bodies starts, read in one pass
        (a key per lookup would read the table again for each of thousands of keys)."""
        if table not in self.keys:
            found: dict[str, tuple[int, int]] = {}
            for start, end in self.regions.get(table, ()) if table else ():
                for match in _KEY_LINE.finditer(self.text, start, end):
                    line_end = self.text.find("\n", match.start(1))
                    found.setdefault(
                        match.group(1).strip("\"'"), (match.start(1), len(self.text) if line_end == -1 else line_end)
                    )
            self.keys[table] = found
        return self.keys[table]

    def header(self, path: tuple[str, ...]) -> Span:
        for table, start, _ in self.tables:
            if table == path:
                line = self.index.position(start)[0]
                return Span.whole_line(line, self.index.line(line))
        return Span(1, 1, 1, 1)

    def _assignment(self, path: tuple[str, ...]) -> tuple[int, int, int] | None:
        """Offsets (start of the key, end of its line, end of its table) of the
        ``key = `` that sets path.

        The key may be written under the table with the full path, under a parent table
        as a dotted key (``optional-dependencies.gpu = …``), or at the top of the file.
        """
        for split in range(len(path) - 1, -1, -1):
            table, keys = path[:split], path[split:]
            pattern = r"\s*\.\s*".join(rf"(?:{re.escape(k)}|\"{re.escape(k)}\"|'{re.escape(k)}')" for k in keys)
            key = re.compile(rf"^[ \t]*({pattern})[ \t]*=", re.MULTILINE)
            regions = [(0, self._body_end(0))] if not table else []
            regions += [(body, self._body_end(body)) for parts, _, body in self.tables if parts == table]
            for start, end in regions:
                found = key.search(self.text, start, end)
                if found:
                    line_end = self.text.find("\n", found.start(1))
                    return found.start(1), len(self.text) if line_end == -1 else line_end, end
        return None

    def string(self, path: tuple[str, ...], value: str) -> Span:
        """Span of the string ``value`` in the array at path, past earlier matches."""
        if path not in self.cursors:
            assignment = self._assignment(path)
            self.cursors[path] = (assignment[0], assignment[2]) if assignment else (-1, -1)
        cursor, end = self.cursors[path]
        if cursor < 0:
            return self.header(path[:-1])
        candidates = [self.text.find(f"{quote}{value}{quote}", cursor, end) for quote in ('"', "'")]
        candidates = [found for found in candidates if found >= 0]
        if not candidates:
            line = self.index.position(cursor)[0]
            return Span.whole_line(line, self.index.line(line))
        start = min(candidates) + 1
        self.cursors[path] = (start + len(value) + 1, end)
        return self.index.span(start, start + len(value))

    def key(self, table: tuple[str, ...], key: str) -> tuple[Span, str | None]:
        """Span and text (to the end of its line) of ``key = …`` inside table."""
        found = self._table_keys(table).get(key)
        if found is None and (*table, key) in self.regions:  # `[packages.coverage]`: a table of its own
            return self.header((*table, key)), None
        if found is None:  # a dotted key under a parent table: searched for, a bounded number of times
            self.slow_lookups += 1
            assignment = self._assignment((*table, key)) if self.slow_lookups <= MAX_KEY_SEARCHES else None
            if assignment is None:
                return self.header(table), None
            found = assignment[:2]
        start, end = found
        written = self.text[start:end].rstrip()
        return self.index.span(start, start + len(written)), written
