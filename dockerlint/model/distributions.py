"""What a distribution provides and needs, from shipped data, never from the environment
dockerlint happens to run in.

Two files under ``knowledge/``:

- ``packages.index``, the package index, built from PyPI's metadata and wheels by
  ``scripts/build_package_index.py`` (docs/package-index.md): import names, console
  scripts, ``Requires-Dist`` per version range with extras, installed size, bundled CUDA,
  and what each distribution imports lazily or optionally ("may use").
- ``package_overrides.toml``, by hand, for what metadata cannot say: development roles,
  distributions loaded by a string (a setting, a kernel name), naming patterns, URL
  drivers and framework settings.

A name in either is *known*. A name matching a naming pattern with real modules
(``google-cloud-*``) is known through the pattern. Any other name is *guessed*: its module
is taken to be the name with ``-`` replaced by ``_``, and the DEP rules stay quiet about it.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from msgspec import Struct, field
from msgspec.structs import replace

from dockerlint.knowledge import PackageIndex, load, load_package_calls, load_packages
from dockerlint.parse.requirements import canonical_name as canonical  # PEP 503: Scikit_Learn -> scikit-learn
from dockerlint.regex import glob_match, lazy_compile

if TYPE_CHECKING:
    from collections.abc import Callable

_EMPTY: dict = {}


class Distribution(Struct, frozen=True):
    name: str
    modules: tuple[str, ...]  # import names, dotted for namespace packages
    commands: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()  # at the version looked up; the newest version's when none is
    loads: tuple[str, ...] = ()  # loaded by a string when installed next to it (override file)
    engines: tuple[str, ...] = ()  # loaded when the code that calls it names them (override file)
    may_use: dict[str, tuple[str, ...]] = field(default_factory=dict)  # other -> own modules whose import loads it
    extras: dict[str, tuple[str, ...]] = field(default_factory=dict)
    asks: dict[str, tuple[str, ...]] = field(default_factory=dict)  # required name -> the extras it asks of it
    dev: str | None = None
    size: int | None = None  # installed bytes (the newest Linux x86_64 wheel)
    py_bytes: int = 0  # of that, Python source an installer may compile (a .pyc beside each)
    cuda_bytes: int = 0  # of that, CUDA libraries the wheel bundles
    groups: tuple[str, ...] = ()  # entry-point groups it registers plugins in
    known: bool = True  # False: modules are the guess from the name

    def installed_bytes(self, compiled: bool = True) -> int | None:
        """What installing it puts on disk: the wheel's files and, from an installer that
        compiles (pip does by default), the .pyc beside each Python file, which the wheel's
        size leaves out (sizes.toml [python])."""
        if self.size is None:
            return None
        return self.size + (round(self.py_bytes * _pyc_per_py()) if compiled else 0)

    def needs(self, extras: tuple[str, ...] = (), loads: bool = True) -> set[str]:
        """Distributions it brings in or picks up by itself, with the given extras. A may-use
        edge without names is not among them: the index does not tell an import the package
        makes whenever it is imported from one in an optional module of its own (a pytest
        or mypy plugin it ships)."""
        names = set(self.requires) | (set(self.loads) if loads else set())
        for extra in extras:
            names.update(self.extras.get(canonical(extra), ()))
        names.discard(self.name)
        return names


@cache
def _overrides() -> dict:
    return load("package_overrides")


def development_extras() -> frozenset[str]:
    """Extras for developing, testing or documenting a package (package_overrides.toml)."""
    return frozenset(_overrides()["development_extras"])


@cache
def _roles() -> dict[str, str]:
    return {name: role for role, table in _overrides()["roles"].items() for name in table["names"]}


def _index() -> PackageIndex:
    return load_packages()


# The project's own additions (`known-modules` in the configuration): distribution ->
# import names. Set once per run by the engine, before any check asks.
_project_modules: dict[str, tuple[str, ...]] = {}
_generation = 0  # changes with them, so that caches built on lookups can key on it


def use_project_modules(mapping: dict[str, list[str]]) -> None:
    """Make the configured distribution -> import names mapping take part in lookups."""
    global _project_modules, _generation
    wanted = {canonical(name): tuple(modules) for name, modules in mapping.items()}
    if wanted != _project_modules:
        _project_modules = wanted
        _generation += 1
        _lookup.cache_clear()
        _needs.cache_clear()
        module_owners.cache_clear()


def generation() -> int:
    return _generation


def lookup(name: str, version: str | None = None) -> Distribution:
    """What ``name`` provides and needs; its requirements at ``version`` (the range that
    holds it), or when no version is given those of its newest version."""
    name = canonical(name)
    return _lookup(name, None if version is None else _range_of(name, version))


@cache
def _lookup(name: str, chosen: int | None) -> Distribution:
    """``lookup`` by the index of the requirement range chosen (None: the newest; -1: all
    of them, for a version that cannot be compared): one record per range, not per version."""
    entry = _index().record(name)
    override = _overrides()["distributions"].get(name)
    if entry is None and override is None:
        found = _from_patterns(name)
        if found.dev is None and name in _roles():  # a development role needs no index entry
            found = replace(found, dev=_roles()[name])
        if name in _project_modules:
            return replace(found, modules=_project_modules[name], known=True)
        return found
    found = _from_entry(name, entry or _EMPTY, override or _EMPTY, chosen)
    if name in _project_modules:
        found = replace(found, modules=_project_modules[name])
    return found


@cache
def _range_of(name: str, version: str) -> int | None:
    """Which requirement range of ``name`` holds ``version`` (-1: every range, when the
    version cannot be compared; None: the newest, when the index has no record)."""
    starts = _range_starts(name)
    if starts is None:
        return None
    from packaging.version import InvalidVersion, Version

    try:
        wanted = Version(version)
    except InvalidVersion:
        return -1
    if wanted.is_prerelease:
        # The index reads final releases: a pre-release previews its final one and requires
        # what it does (aiogram 3.0.0b7 already required pydantic; 2.25 did not).
        wanted = Version(wanted.base_version)
    chosen = 0
    for index, start in enumerate(starts):
        if start is not None and start <= wanted:
            chosen = index
    return chosen


@cache
def _range_starts(name: str) -> tuple | None:
    entry = _index().record(name)
    if entry is None:
        return None
    from packaging.version import InvalidVersion, Version

    starts = []
    for item in entry.get("ranges", ()):
        try:
            starts.append(None if item["from"] is None else Version(item["from"]))
        except InvalidVersion:
            starts.append(None)
    return tuple(starts)


def newest(name: str) -> Distribution:
    """The distribution at its newest version: what an install without a pin gets today."""
    return lookup(name)


def newest_version(name: str) -> str | None:
    """The newest release the index read (what an install without a pin got then)."""
    entry = _index().record(canonical(name))
    return entry.get("version") if entry else None


def _from_entry(name: str, entry: dict, override: dict, chosen: int | None) -> Distribution:
    written, written_extras = _requirements(entry.get("ranges", ()), chosen)
    written |= set(override.get("requires", ()))
    asks: dict[str, set[str]] = {}
    for requirement in written:
        other, wanted = split_extras(requirement)
        asks.setdefault(other, set()).update(wanted)
    requires = set(asks)
    extras = {extra: {split_extras(item)[0] for item in items} for extra, items in written_extras.items()}
    modules = override.get("modules", entry.get("modules"))
    size, commands, py_bytes = entry.get("size"), entry.get("commands", ()), entry.get("py_bytes", 0)
    if modules == [] and "modules" not in override and _before_newest_range(entry, chosen):
        # Empty today (a meta-package: apache-airflow 3 moved its code to apache-airflow-core),
        # which says nothing of an older release, unless the index read one from before the move.
        earlier = entry.get("earlier")
        if earlier is not None and 0 <= chosen < _range_index(entry, earlier["before"]):
            modules, size, commands = earlier["modules"], earlier["size"], earlier["commands"]
            py_bytes = earlier.get("py_bytes", 0)
        else:
            modules = size = None
    known = modules is not None  # an index entry without its wheel read knows no modules
    if modules is None:  # the naming patterns' guess (llama-index-readers-web: llama_index.readers.web)
        modules = list(_from_patterns(name).modules)
    elif _before_newest_range(entry, chosen):
        modules = [*modules, *_moved_out_since(name, entry, requires)]
    may_use = {other: tuple(where) for other, where in entry.get("may_use", _EMPTY).items()}
    return Distribution(
        name=name,
        modules=tuple(modules),
        commands=tuple(sorted(set(commands) | set(override.get("commands", ())))),
        requires=tuple(sorted(requires - {name})),
        asks={other: tuple(sorted(wanted)) for other, wanted in asks.items() if wanted},
        loads=tuple(override.get("loads", ())),
        engines=tuple(override.get("engines", ())),
        may_use=may_use,
        extras={extra: tuple(names) for extra, names in extras.items()},
        dev=_roles().get(name) or _pattern_dev(name),
        size=size,
        py_bytes=py_bytes,
        cuda_bytes=entry.get("cuda_bytes", 0),
        groups=tuple(entry.get("groups", ())),
        known=known,
    )


def _moved_out_since(name: str, entry: dict, requires: set[str]) -> list[str]:
    """Modules of the package's own namespace that newer releases moved into a distribution
    of their own, which they require and this older release does not: this release holds
    them itself (langgraph 0.2 has `langgraph.prebuilt`; from 0.3 it requires
    langgraph-prebuilt). The index reads the modules of the newest release only."""
    newest, _ = _requirements(entry.get("ranges", ()), None)
    tops = {module.split(".", 1)[0] for module in entry.get("modules") or ()}
    moved: list[str] = []
    for other in sorted({split_extras(requirement)[0] for requirement in newest} - requires - {name}):
        moved += [module for module in _lookup(other, None).modules if module.split(".", 1)[0] in tops]
    return moved


@cache
def _pyc_per_py() -> float:
    return float(load("sizes")["python"]["pyc_per_py"])


def _before_newest_range(entry: dict, chosen: int | None) -> bool:
    """Whether the release looked up is older than the newest requirement range: the
    index's modules and size are the newest wheel's."""
    return chosen is not None and chosen != len(entry.get("ranges", ())) - 1


def _range_index(entry: dict, start: str) -> int:
    """The index of the requirement range starting at release ``start`` (0 if none does)."""
    starts = [item["from"] for item in entry.get("ranges", ())]
    return starts.index(start) if start in starts else 0


def _requirements(ranges, chosen: int | None) -> tuple[set[str], dict[str, set[str]]]:
    """Requirement names (and extra -> names) of range ``chosen``; of the newest range when
    it is None (what an install that pins nothing gets today), of every range when -1."""
    picked = ranges if chosen == -1 else ranges[-1:] if chosen is None else ranges[chosen : chosen + 1]
    requires: set[str] = set()
    extras: dict[str, set[str]] = {}
    for item in picked:
        requires.update(item["requires"])
        for extra, names in item.get("extras", _EMPTY).items():
            extras.setdefault(extra, set()).update(names)
    return requires, extras


def split_extras(requirement: str) -> tuple[str, tuple[str, ...]]:
    """``cuda-toolkit[cublas,cudart]`` -> ("cuda-toolkit", ("cublas", "cudart"))."""
    name, _, rest = requirement.partition("[")
    return name, tuple(rest.rstrip("]").split(",")) if rest else ()


def _pattern_dev(name: str) -> str | None:
    """The development role of the first naming pattern that fits ``name``."""
    for pattern, fits in _patterns():
        if fits(name):
            return pattern.get("dev")
    return None


@cache
def _patterns() -> tuple[tuple[dict, Callable[[str], bool]], ...]:
    """The naming patterns of the override file, each with its test."""
    return tuple((pattern, _glob_test(pattern["match"])) for pattern in _overrides()["patterns"])


def _glob_test(pattern: str) -> Callable[[str], bool]:
    """Whether a name fits ``pattern``. A pattern that is one ``*`` between a prefix and
    a suffix (all of them today) is tested without building a regular expression."""
    prefix, star, suffix = pattern.partition("*")
    if not star or any(char in prefix + suffix for char in "*?["):
        return lambda name: glob_match(name, pattern)
    shortest = len(prefix) + len(suffix)
    return lambda name: len(name) >= shortest and name.startswith(prefix) and name.endswith(suffix)


def _from_patterns(name: str) -> Distribution:
    for pattern, fits in _patterns():
        found = _from_pattern(name, pattern) if fits(name) else None
        if found is not None:
            return found
    return Distribution(name, (name.replace("-", "_"),), known=False)


def _from_pattern(name: str, pattern: dict) -> Distribution | None:
    """``name`` read by a pattern that fits it."""
    match = pattern["match"]
    prefix, _, suffix = match.partition("*")
    rest = name[len(prefix) : len(name) - len(suffix)]
    if not rest:
        return None
    if pattern.get("same_as") == "strip":
        twin = lookup(rest)
        if pattern.get("cpu_build"):
            requires = tuple(other for other in twin.requires if not other.startswith("nvidia-"))
            return replace(twin, name=name, requires=requires, asks={}, size=None, py_bytes=0, cuda_bytes=0)
        return replace(twin, name=name)
    category, _, tail = rest.partition("-")
    head = f"{category}.{tail.replace('-', '_')}" if tail else category  # readers-llama-parse: readers.llama_parse
    modules = tuple(
        template.format(rest=rest.replace("-", "_"), dotted=rest.replace("-", "."), head=head)
        for template in pattern["modules"]
    )
    return Distribution(name, modules, dev=pattern.get("dev"), known=not pattern.get("guess", False))


@cache
def engine_hosts() -> tuple[str, ...]:
    """Distributions that load others by the names the calling code gives (pandas'
    ``engine='openpyxl'``): the override file's ``engines``."""
    return tuple(sorted(name for name, entry in _overrides()["distributions"].items() if entry.get("engines")))


def plugin_hosts(name: str) -> tuple[str, ...]:
    """Distributions that load ``name`` by themselves as a plugin: the hosts of the
    entry-point groups it registers in, of the namespace package its modules sit in
    (``hydra_plugins``), or of its naming pattern (``pytest-*``)."""
    name = canonical(name)
    groups = _overrides()["plugin_groups"]
    distribution = lookup(name)
    hosts = [groups[group] for group in distribution.groups if group in groups]
    namespaces = _overrides().get("plugin_namespaces", _EMPTY)
    hosts += [namespaces[module.split(".", 1)[0]] for module in distribution.modules
              if "." in module and module.split(".", 1)[0] in namespaces]  # fmt: skip
    for pattern, fits in _patterns():
        if fits(name) and "loaded_by" in pattern:
            hosts += pattern["loaded_by"]
            break
    return tuple(dict.fromkeys(host for host in hosts if host != name))


def url_drivers() -> dict[str, list[str]]:
    return _overrides()["url_drivers"]


def url_schemes() -> dict[str, list[str]]:
    return _overrides()["url_schemes"]


def stdlib_loads() -> dict[str, list[str]]:
    """Standard-library module -> the distributions it loads by itself when installed."""
    return _overrides()["stdlib_loads"]


def database_url_readers() -> list[str]:
    """Modules that read the database URL from the environment by default (DATABASE_URL)."""
    return _overrides()["database_url_readers"]["modules"]


def string_dispatch() -> dict[str, str]:
    """Package -> the argument whose string names a function of its own that it calls."""
    return _overrides()["string_dispatch"]


def url_dialects() -> dict[str, list[str]]:
    """URL scheme -> the distributions of its SQLAlchemy dialect, whatever the driver."""
    return _overrides()["url_dialects"]


def setting_strings() -> dict[str, list[str]]:
    return _overrides()["setting_strings"]


def model_providers() -> dict[str, str]:
    return _overrides()["model_providers"]


def submodule_libraries() -> dict[str, str]:
    """Dotted path of a package's submodule for another library -> that library."""
    return _overrides()["submodule_libraries"]


# `git+https://host/owner/repo.git@ref#egg=x`, `git+ssh://git@host/owner/repo`, `git@host:owner/repo`
_REPOSITORY_URL = lazy_compile(
    r"(?:\w+\+)?(?:\w+://)?(?:[^@/\s]+@)?([\w.-]+)[/:]([\w.-]+)/([\w.-]+?)(?:\.git)?(?:[@#?/]|$)"
)


def vcs_distribution(url: str) -> str | None:
    """The distribution a version-control URL installs, when the repository is a known one
    (``git+https://github.com/openai/whisper.git@v20240930`` -> openai-whisper), else None."""
    found = _REPOSITORY_URL.match(url.strip())
    if found is None:
        return None
    return _overrides()["vcs_repositories"].get("/".join(found.groups()).lower())


def handed_objects() -> dict[str, list[str]]:
    """Suffix of a class name -> the methods a framework calls on such an object."""
    return _overrides()["handed_objects"]


def heavy_variants() -> list[dict]:
    return _overrides()["heavy_variants"]


def module_matches(module: str, provided: str) -> bool:
    """Whether an import of ``module`` may be served by a distribution providing
    ``provided``: equal, inside it, or a namespace parent of it (``google.cloud``)."""
    return module == provided or module.startswith(provided + ".") or provided.startswith(module + ".")


@cache
def module_owners() -> dict[str, tuple[str, ...]]:
    """Import name -> the known distributions that provide it (dotted names kept whole)."""
    owners = {module: list(names) for module, names in _index().owners["modules"].items()}
    overrides = _overrides()["distributions"]
    changed = {name for name, entry in overrides.items() if "modules" in entry or name not in _index()}
    changed |= set(_project_modules)
    if changed:
        for names in owners.values():
            names[:] = [name for name in names if name not in changed]
        for name in sorted(changed):
            for module in lookup(name).modules:
                owners.setdefault(module, []).append(name)
    return {module: tuple(found) for module, found in owners.items() if found}


@cache
def command_owners() -> dict[str, tuple[str, ...]]:
    """Console command -> the known distributions that install it."""
    owners = {command: list(names) for command, names in _index().owners["commands"].items()}
    for name, entry in _overrides()["distributions"].items():
        for command in entry.get("commands", ()):
            if name not in owners.setdefault(command, []):
                owners[command].append(name)
    return {command: tuple(found) for command, found in owners.items()}


def indexed(name: str) -> bool:
    """Whether the package index read the distribution (its requirements are known); a name
    known only by a naming pattern or the override file is not."""
    return canonical(name) in _index()


def requirements_known(name: str) -> bool:
    """Whether what the distribution requires is known: the index read it, or the override
    file describes it (an entry there that names no requirements requires nothing)."""
    return indexed(name) or canonical(name) in _overrides()["distributions"]


def requirements_read(name: str, version: str | None) -> bool:
    """Whether what the distribution requires at ``version`` is known: ``requirements_known``,
    and the release is not of a major series older than the oldest the index read (the
    oldest range speaks for older releases of its series; Faker 5.8 is not Faker 37), nor,
    before 1.0, older than that release (SQLAlchemy-Utils 0.36 is not 0.38, mediapipe
    0.10.11 not 0.10.35)."""
    if not requirements_known(name):
        return False
    entry = _index().record(canonical(name)) if version else None
    oldest = entry.get("oldest_read") if entry else None
    if not oldest:
        return True
    from packaging.version import InvalidVersion, Version

    try:
        pinned, read = Version(version), Version(oldest)
    except InvalidVersion:
        return True
    if pinned.major == read.major == 0:  # before 1.0 any release may change what it requires
        # (deepface 0.0.95 required tensorflow; mediapipe 0.10.11 torch and jax, 0.10.35 neither)
        return pinned.release[:3] >= read.release[:3]
    return pinned.major >= read.major


@cache
def required_by_some() -> frozenset[str]:
    """Every name some indexed distribution requires, at some version, or by an extra:
    what an install dockerlint cannot name may bring in for its own use (listed by the
    index build, so no record is decoded for it)."""
    return frozenset(_index().listed("required"))


@cache
def calls(name: str) -> dict[str, tuple[str, ...]]:
    """Other distribution -> the names of ``name``'s functions, methods and classes whose
    call reaches an import of it (``PyPDFLoader`` -> pypdf), with the override file's
    (a class the framework itself calls into: Django checks every ``ImageField``)."""
    found = {other: tuple(names) for other, names in (load_package_calls().record(canonical(name)) or {}).items()}
    for other, names in (_overrides()["distributions"].get(canonical(name)) or _EMPTY).get("calls", _EMPTY).items():
        found[other] = tuple(sorted({*found.get(other, ()), *names}))
    return found


def closure(start, extras: dict[str, tuple[str, ...]] | None = None, version=None, loads: bool = True) -> set[str]:
    """Every distribution ``start`` brings in (requirements, extras asked for, and with
    ``loads`` the string loads), at the versions ``version(name)`` gives (None: the newest
    version's). Without ``loads`` it is what an install puts in the image: a string load
    uses a package when it is there, it never installs it. May-use edges count only
    through the names the code uses (the DEP rules ask)."""
    given = extras or {}
    asked: dict[str, set[str]] = {}  # the extras asked of each name reached (copied from ``given`` when reached)

    def asked_of(name: str) -> set[str]:
        if name not in asked:
            asked[name] = set(given.get(name, ()))
        return asked[name]

    done: dict[str, set[str]] = {}
    pending = [canonical(name) for name in start]
    while pending:
        name = pending.pop()
        wanted = asked_of(name)
        if name in done and wanted <= done[name]:
            continue
        done[name] = set(wanted)
        pinned = version(name) if version else None
        chosen = None if pinned is None else _range_of(name, pinned)
        distribution = _lookup(name, chosen)
        for other, more in distribution.asks.items():
            if not set(more) <= asked_of(other):
                asked_of(other).update(more)
                pending.append(other)
        pending.extend(other for other in _needs(name, chosen, tuple(sorted(wanted)), loads) if other not in done)
    return set(done)


@cache
def _needs(name: str, chosen: int | None, extras: tuple[str, ...], loads: bool) -> tuple[str, ...]:
    """``Distribution.needs`` of a looked-up range, once (a closure asks it again and again)."""
    return tuple(sorted(_lookup(name, chosen).needs(extras, loads)))


def pulls(name: str, extras: tuple[str, ...], target: str) -> bool:
    """Whether installing ``name[extras]`` today brings ``target`` (requirements of the
    newest versions, with the extras each asks of the next: docling requires
    ``docling-slim[standard]``, which brings torch)."""
    return target in _brought(canonical(name), tuple(sorted({canonical(extra) for extra in extras})))


@cache
def _brought(name: str, extras: tuple[str, ...]) -> frozenset[str]:
    return frozenset(closure({name}, {name: extras} if extras else None, loads=False)) - {name}


@cache
def _required_closure(start: frozenset[str]) -> frozenset[str]:
    """What installing ``start`` today brings: requirements of the newest versions, with
    the extras they ask of each other (``cuda-toolkit[cublas]``), no loads or may-use."""
    return frozenset(closure(start, loads=False))


def cuda_size(name: str) -> int:
    """Installed bytes of CUDA that ``name`` brings today: the nvidia-* wheels it requires
    (directly or through others) and CUDA libraries bundled in its own wheels; 0 when one
    of those wheels is not in the index."""
    names = _required_closure(frozenset({canonical(name)}))
    wheels = [newest(other).size for other in names if other.startswith("nvidia-")]
    if None in wheels:
        return 0  # a CUDA wheel the index has not read: no figure rather than a wrong one
    # An nvidia-* wheel counts whole; its CUDA libraries are part of that size, not more of it.
    return sum(wheels) + sum(newest(other).cuda_bytes for other in names if not other.startswith("nvidia-"))


@cache
def stdlib() -> frozenset[str]:
    import sys

    table = _overrides()["stdlib"]
    return frozenset(sys.stdlib_module_names) | frozenset(table["removed"]) | frozenset(table["bundled"])


@cache
def stdlib_backports() -> dict:
    """What decides whether the standard library shadows a PyPI namesake: the modules it
    dropped (``removed``) and those it gained after 3.6, with the version (``added``)."""
    table = _overrides()["stdlib"]
    return {"removed": frozenset(table["removed"]), "added": dict(table["added"])}


@cache
def tooling() -> frozenset[str]:
    return frozenset(_overrides()["tooling"]["names"])


def cuda_library_hosts() -> tuple[str, frozenset[str]]:
    """(the name pattern of NVIDIA's CUDA library wheels, the frameworks that load them)."""
    table = _overrides()["cuda_library_hosts"]
    return table["libraries"], frozenset(table["hosts"])


def unpickled_models() -> tuple[frozenset[str], frozenset[str]]:
    """(modules that load pickles, distributions whose models a pickle may hold)."""
    table = _overrides()["unpickled_models"]
    return frozenset(table["loaders"]), frozenset(table["libraries"])
