"""What an image installs versus what its code uses (DEP001-DEP004).

One analysis per image serves the four codes: the distributions the final image holds
(``model.installed_names``), the code in it and what that code imports and mentions
(``model.code``), and the words of every command the image runs. A distribution is used
when any of these holds: its module is imported at run time (not only under
TYPE_CHECKING), its command or module is run (RUN, CMD, ENTRYPOINT, compose ``command``,
a shell or config file in the image, ``python -m``), a string names it
(``uvicorn.workers.UvicornWorker``, ``INSTALLED_APPS``), a connection URL or framework
setting names its driver, it is a plugin of a host the image uses, or an installed
distribution requires it, loads it, or asks for it through an extra.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from functools import cache, lru_cache
from pathlib import Path

from msgspec import Struct, field

from dockerlint.checks import check, dep_fixes
from dockerlint.checks.common import silenced
from dockerlint.findings import Finding, Related, Severity, human_size
from dockerlint.knowledge import load
from dockerlint.model import Image
from dockerlint.model.code import (
    GUI_CALLS,
    CodeFile,
    ImageCode,
    Mentions,
    confirmed_imports,
    exact_scan,
    file_scan,
    image_code,
    mentions_in_text,
    merge_all,
    service_sources,
)
from dockerlint.model.distributions import (
    Distribution,
    calls,
    canonical,
    closure,
    command_owners,
    cuda_library_hosts,
    database_url_readers,
    development_extras,
    engine_hosts,
    generation,
    handed_objects,
    heavy_variants,
    indexed,
    lookup,
    module_matches,
    module_owners,
    plugin_hosts,
    required_by_some,
    requirements_known,
    requirements_read,
    setting_strings,
    stdlib,
    stdlib_loads,
    string_dispatch,
    submodule_libraries,
    tooling,
    unpickled_models,
    url_dialects,
    url_drivers,
    url_schemes,
)
from dockerlint.model.documented import documented_container_commands
from dockerlint.model.gitignore import gitignored
from dockerlint.model.installed_names import (
    BASE_IMAGE_INSTALLS,
    ImageInstalls,
    Installed,
    image_installs,
    project_scripts,
)
from dockerlint.model.installed_projects import project_installs
from dockerlint.model.installed_records import floor_release, pinned_release
from dockerlint.model.installs import wrapper_words
from dockerlint.model.ml import spacy_pipeline, start_command, start_script_commands, started_program
from dockerlint.model.platforms import platform_start_commands
from dockerlint.model.pyenv import shadowed_by_stdlib
from dockerlint.model.queries import compose_services, development_image, external_base, final_chain, keeps_alive
from dockerlint.model.submodules import copied_submodule, unread_code
from dockerlint.parse.python import Import
from dockerlint.regex import lazy_compile
from dockerlint.source import Span

DEV_CATEGORIES = {
    "test": "a test tool",
    "lint": "a linter or formatter",
    "typing": "a type checker or type stubs",
    "notebook": "a notebook tool",
    "docs": "a documentation tool",
    "debug": "a debugger or profiler",
    "build": "a build helper that no later install uses",
    "release": "a packaging or release tool",
}
# Later RUNs that may build a package from source, which a build helper installed before
# them serves (pip, uv, poetry, `setup.py`, PEP 517 builds).
_SOURCE_BUILD = lazy_compile(r"\b(?:pip[0-9.]*|uv|poetry|pdm|setup\.py|maturin|build|wheel)\b")
_CUDA_BASE = lazy_compile(r"cuda|nvidia|-gpu|gpu-", re.IGNORECASE)


class Analysis(Struct):
    installs: ImageInstalls
    code: ImageCode
    mentions: Mentions  # code, scripts, configs, ENV values, commands
    words: set[str]  # words of every command run at build or run time
    runtime_words: set[str]  # words of CMD, ENTRYPOINT, compose command
    imported: dict[str, list[str]]  # dotted import paths at run time, every file, by top-level name
    imported_by_service: dict[str, list[str]]  # the same, without tests and build scripts
    installed: set[str]  # named installs and everything they require (requires + extras)
    versions: dict[str, str | None]  # installed name -> the version its install pins (None: any)
    extras: dict[str, tuple[str, ...]]  # installed name -> the extras asked of it
    confirmed: bool = False  # whether the line scans' TYPE_CHECKING blocks were read by ast
    verdict: Verdict | None = None  # DEP001's reading of the graph, made once
    database_from_environment: bool | None = None  # see _database_from_environment
    closures: dict[tuple[str, bool], frozenset[str]] = field(default_factory=dict)  # see _closure
    frozen_with_unknowns: set[Path] | None = None  # see _frozen_with_unknowns
    foreign_code: str | None = None  # where the service runs code the image does not hold ("" none)
    loads_pickles: bool | None = None  # see _loads_pickles
    integrations: set[str] | None = None  # see _integration_of
    unread: list[str] | None = None  # see _requirements_unread
    from_vcs: set[str] | None = None  # see _from_vcs
    dotted_mentions: dict[str, list[str]] | None = None  # see _imported_inside


@check("DEP001", "DEP002", "DEP003", "DEP004")
def installed_versus_imported(image: Image) -> Iterator[Finding]:
    if image.final is None:
        return
    analysis = _analyse(image)
    if analysis is None:
        return
    yield from _unused(image, analysis)
    yield from _missing(image, analysis)
    yield from _missing_own_modules(image, analysis)
    yield from _dev_tools(image, analysis)
    yield from _heavy_variants(image, analysis)


def _analyse(image: Image) -> Analysis | None:
    installs = image_installs(image)
    if not installs.items and not installs.providers:
        return None
    code = image_code(image, installs.local_projects)
    words, runtime_words, text = _command_words(image)
    mentions = merge_all([code.mentions, mentions_in_text(text)])
    imported, by_service = _by_top(code.imports.run_time), _by_top(code.imports.by_service)
    versions: dict[str, str | None] = {}
    extras: dict[str, set[str]] = {}
    for item in installs.items:
        pinned = (
            pinned_release(item.written)
            or _compatible_release(item.written)
            or (ANY_RELEASE if _AT_URL.match(item.written) else None)
        )
        versions[item.name] = pinned if versions.get(item.name, pinned) == pinned else None
        extras.setdefault(item.name, set()).update(canonical(extra) for extra in item.extras)
    for name, locked in installs.locked.items():  # a lock file pins what its install brings
        if versions.get(name) is None:
            versions[name] = locked
    for name, (version, spelled) in _spelled_out_extras(installs.items, versions).items():
        versions[name] = version
        extras.setdefault(name, set()).update(spelled)
    asked = {name: tuple(sorted(values)) for name, values in extras.items()}
    installed = _with_locked(closure(set(versions) | installs.providers, asked, versions.get, loads=False), installs)
    return Analysis(installs, code, mentions, words, runtime_words, imported, by_service, installed, versions, asked)


def _compatible_release(written: str) -> str | None:
    """The release a compatible-release requirement (`SQLAlchemy~=2.0.31`) is read at: its
    floor, in the series it keeps to (2.0, whose releases require greenlet; 2.1 does not).
    A `~=` of a major only (`~=2.5`) allows any later minor: no release is chosen."""
    match = _COMPATIBLE.search(written)
    return match.group(1) if match and match.group(1).count(".") >= 2 else None


_COMPATIBLE = lazy_compile(r"~=\s*v?([0-9]+(?:\.[0-9]+)+)")


def _spelled_out_extras(
    items: list[Installed], versions: dict[str, str | None]
) -> dict[str, tuple[str | None, set[str]]]:
    """The extras of an installed distribution whose packages the image installs by name,
    most of them (at least 3, and two in three; not an extra for developing it), each named
    by a range, not pinned: installed for it, as if asked (mineru beside doclayout-yolo,
    ultralytics, transformers, ftfy, shapely, pyclipper and omegaconf is mineru[pipeline]
    written out). Read at the newest or the oldest release the range allows, whichever has
    extras that cover more of the image's packages (mineru 2.5's pipeline extra, gone from
    4.0: the image is written for the release that has it)."""
    # A freeze names everything an environment holds, pinned: what extras were asked is not
    # told by its lines, and a dev tool there is no less one (pydeck[jupyter]'s ipykernel).
    names = {item.name for item in items if pinned_release(item.written) is None}
    found: dict[str, tuple[str | None, set[str]]] = {}
    for item in items:
        if item.name not in names or versions.get(item.name) is not None:
            continue
        best: tuple[int, str | None, set[str]] = (0, None, set())
        for version in (None, floor_release(item.written)):
            spelled, covered = set(), set()
            for extra, members in lookup(item.name, version).extras.items():
                if extra in development_extras():
                    continue
                hits = (set(members) - {item.name}) & names
                if len(hits) >= 3 and 3 * len(hits) >= 2 * len(set(members) - {item.name}):
                    spelled.add(extra)
                    covered |= hits
            if len(covered) > best[0]:
                best = (len(covered), version, spelled)
        if best[2]:
            found[item.name] = best[1:]
    return found


_AT_URL = lazy_compile(r"\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*@\s*\S+://")
# The version of what is installed from a URL (`anyio @ file:///…`, as a freeze of a conda
# environment writes it): any release's (the index reads every release's requirements for
# a version it cannot compare).
ANY_RELEASE = "any release"


def _by_top(paths) -> dict[str, list[str]]:
    """Dotted paths by their first part: a module can only match paths that share it."""
    found: dict[str, list[str]] = {}
    for path in paths:
        found.setdefault(path.split(".", 1)[0], []).append(path)
    return found


def _imports(image: Image, analysis: Analysis, modules, by_service: bool = False) -> bool:
    """Whether the code imports one of ``modules`` at run time (``by_service``: the
    service's own files). A no rests on TYPE_CHECKING blocks read by ast, never only on
    the line scan's reading of them."""
    paths = analysis.imported_by_service if by_service else analysis.imported
    if any(_uses(path, module) for module in modules for path in paths.get(module.split(".", 1)[0], ())):
        return True
    unsure = _by_top(analysis.code.imports.unsure)
    if analysis.confirmed or not any(
        _uses(path, module) for module in modules for path in unsure.get(module.split(".", 1)[0], ())
    ):
        return False
    summary = confirmed_imports(image, analysis.code)
    analysis.imported, analysis.imported_by_service = _by_top(summary.run_time), _by_top(summary.by_service)
    analysis.confirmed = True
    return _imports(image, analysis, modules, by_service)


def _uses(path: str, module: str) -> bool:
    """Whether importing ``path`` runs ``module``: the module itself or something inside it.
    Not a namespace parent: ``import airflow`` loads no provider under ``airflow.providers``
    (which `module_matches` accepts when asking what may serve an import)."""
    return path == module or path.startswith(module + ".")


# -- commands ----------------------------------------------------------------------------


def _command_words(image: Image) -> tuple[set[str], set[str], str]:
    """(words of every command, words of what the container runs, ENV values as text)."""
    from dockerlint.parse.shell import parse_script

    words: set[str] = set()
    runtime: set[str] = set()
    env_text: list[str] = []
    for stage in final_chain(image):
        for step in stage.steps:
            keyword = step.keyword
            if keyword == "RUN":
                install_commands = {id(install.command) for install in step.installs}
                for command in step.commands:
                    if id(command) not in install_commands and not _is_installer(command.argv):
                        words |= _argv_words(command.argv)
            elif keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
                instruction = step.instruction
                if instruction.json_args is not None:
                    argvs = [instruction.json_args]
                else:
                    argvs = [command.argv for command in parse_script(instruction.args).commands]
                for argv in argvs:
                    found = _argv_words(argv)
                    words |= found
                    if keyword != "HEALTHCHECK" and not keeps_alive(argv):  # `sleep infinity` starts nothing
                        runtime |= found
        if stage.steps:
            env_text += stage.steps[-1].env.values()
    for service in compose_services(image):
        for command in (service.entrypoint, service.command):
            if not command:
                continue
            argvs = (
                [command] if isinstance(command, tuple) else [found.argv for found in parse_script(command).commands]
            )
            for argv in argvs:
                found = _argv_words(argv)
                words |= found
                runtime |= found
        env_text += service.environment.values()
    for argv in image.run_by_repository:  # CI runs the tests in the image: `docker run app pytest`
        runtime |= _argv_words(argv)
    for argv in documented_container_commands(image):  # the README's `docker exec -it app pytest`
        runtime |= _argv_words(argv)
    for argv in platform_start_commands(image):  # railway.json's `langgraph dev`, in place of CMD
        runtime |= _argv_words(argv)
    for argv in start_script_commands(image):  # CMD ["./start.sh"], which runs `jupyter lab`
        runtime |= _argv_words(argv)
    words |= runtime
    return words, runtime, "\n".join(env_text)


# Installer commands that install packages into the environment: (program, subcommand).
_INSTALLING = frozenset({
    ("pip", "install"), ("pip3", "install"), ("uv", "sync"), ("uv", "pip"), ("uv", "add"), ("poetry", "install"),
    ("poetry", "add"), ("pipenv", "install"), ("pipenv", "sync"), ("pdm", "install"), ("pdm", "sync"),
    ("pdm", "add"), ("conda", "install"), ("mamba", "install"),
})  # fmt: skip


def _installs_at_start(image: Image) -> bool:
    """Whether the script the container starts with installs packages (`pdm install`,
    `pip install -r requirements.txt`): what the image holds is not all the code runs with."""
    for argv in start_script_commands(image):
        words = argv[wrapper_words(argv) :]
        if len(words) > 1 and (posixpath.basename(words[0]), words[1]) in _INSTALLING:
            return True
        if len(words) > 3 and words[1:3] == ("-m", "pip") and words[3] == "install":
            return True
    return False


def _is_installer(argv: tuple[str, ...]) -> bool:
    """pip/uv/poetry commands name packages, they do not use them."""
    names = [posixpath.basename(word) for word in argv[:4]]
    return any(name in ("pip", "pip3", "uv", "poetry", "pipenv", "conda", "mamba", "pipx") for name in names)


def _argv_words(argv: tuple[str, ...]) -> set[str]:
    """Program names, ``python -m`` modules, dotted paths (``uvicorn.workers.X``,
    ``app.main:app``) and option values, each also by its first dotted part."""
    found: set[str] = set()
    for word in argv:
        for piece in re.split(r"[\s=,;'\"()]+", word):
            if not piece:
                continue
            base = posixpath.basename(piece)
            for candidate in (base, base.split(":", 1)[0], base.split(".", 1)[0]):
                if candidate:
                    found.add(candidate)
    return found


# -- DEP001 ------------------------------------------------------------------------------


def _use(image: Image, analysis: Analysis, distribution: Distribution) -> str | None:
    """Why the image uses the distribution by itself (not through another package), or None."""
    if _imports(image, analysis, distribution.modules) and not _shadowed_by_stdlib(image, distribution):
        return "imported"
    if _imported_by_missing_modules(image, analysis, distribution.modules):
        return "imported by a module of the repository the image should hold"
    if set(distribution.commands) & analysis.words:
        return "run as a command"
    if any(distribution.name in names and module in analysis.imported for module, names in stdlib_loads().items()):
        return "loaded by the standard library"  # zoneinfo's tzdata
    if _imports_a_part_of(image, analysis, distribution):
        return "imported"
    if set(distribution.commands) & analysis.mentions.programs:
        return "run by the code as a process"
    tops = {module.split(".", 1)[0] for module in distribution.modules}
    dotted = set(distribution.modules)
    if tops & analysis.words and (dotted & analysis.words or not any("." in module for module in dotted)):
        return "run as a module"
    mentions = analysis.mentions
    if any("." not in module and module in mentions.names for module in distribution.modules):
        return "named in a string"
    name = distribution.name
    configured = _configured(analysis, name)
    if configured is not None:
        return configured
    if _unserved_application(image, analysis) and _serves_the_code(image, analysis, name):
        return "the server of the web application the code defines"
    if any(name in names for names in url_drivers().values()) and _database_from_environment(image, analysis):
        return "a database driver, and the database is configured by the environment"
    return None


def _imports_a_part_of(image: Image, analysis: Analysis, distribution: Distribution) -> bool:
    """Whether the code imports a smaller part of the package published on its own, in its
    namespace and named after it (`langgraph.prebuilt` of langgraph-prebuilt, which
    langgraph requires): such a part runs on the package's own modules. Not the core a
    meta-package brings (llama-index-core under llama-index, whose own code is nothing)."""
    tops = {module.split(".", 1)[0] for module in distribution.modules}
    for other in distribution.requires:
        if other.startswith(distribution.name + "-"):
            part = lookup(other, analysis.versions.get(other))
            smaller = 0 < part.py_bytes <= distribution.py_bytes
            in_namespace = {module.split(".", 1)[0] for module in part.modules} <= tops
            if smaller and in_namespace and _imports(image, analysis, part.modules):
                return True
    return False


class Verdict(Struct):
    """DEP001's reading of the requirement graph of an image."""

    used: set[str]  # installed names used by themselves: imported, run, named, plugins, may-used by name
    unjudged: set[str]  # installed names DEP001 says nothing about: unknown, development tools, tooling
    needed: set[str]  # everything those bring in
    roots: list[Installed]  # unused installs nothing else needs, in install order
    anchors: set[str]  # what stays when one root goes: used, unjudged, and the other roots
    below: set[str] = field(default_factory=set)  # installed by no install of its own, imported by the code
    unsure: list[str] = field(default_factory=list)  # used packages whose requirements are unread (see _unused)
    hedged: dict[str, list[str]] = field(default_factory=dict)  # freeze entries an unknown entry may need
    # roots that other releases of needed packages no install pins require (huggingface-hub
    # before 1.0 requires requests, and faster-whisper 0.10 caps it there): those packages
    older: dict[str, list[str]] = field(default_factory=dict)


def _verdict(image: Image, analysis: Analysis) -> Verdict:
    if analysis.verdict is not None:
        return analysis.verdict
    used: set[str] = set()
    unjudged: set[str] = set()
    candidates: dict[str, Installed] = {}
    hedged: dict[str, list[str]] = {}  # candidate -> the unknown packages that may need it
    for item in analysis.installs.items:
        name = item.name
        if name in used or name in unjudged or name in candidates:
            continue
        distribution = lookup(name, analysis.versions.get(name))
        if (
            not distribution.known
            or name in _from_vcs(analysis)  # another project than its PyPI namesake, maybe
            or distribution.dev
            or name in tooling()
            or _cuda_library_of_a_host(analysis, name)
            or name in analysis.installs.project_names
            # No modules: a package whose code is in what it requires (llama-index; apache-airflow
            # since 3.0) or in a namespace too deep for the index (opentelemetry.exporter.otlp.proto.grpc).
            or not distribution.modules
        ):
            unjudged.add(name)
        elif _use(image, analysis, distribution) is not None:
            used.add(name)
        elif _unnamed_installs(analysis) and name in required_by_some():
            unjudged.add(name)  # what an install dockerlint cannot name brings may need it
        elif _frozen_beside_unknowns(analysis, item) and name in required_by_some() and _other_unknowns(analysis, item):
            candidates[name] = item  # an unknown entry of the freeze may need it: said at info
            hedged[name] = _likeliest_first(image, analysis, _other_unknowns(analysis, item))
        elif _integration_of(analysis, name):
            unjudged.add(name)
        elif name in unpickled_models()[1] and _loads_pickles(image, analysis):
            unjudged.add(name)  # the model a pickle holds may be one of its estimators
        else:
            candidates[name] = item
    # What the code imports that came in with an install of another name (llama-index-core
    # under llama-index) is needed as well, whatever becomes of that install.
    imported_below = _imported_below(image, analysis) if candidates else set()
    needed = _closure(analysis, used | unjudged | imported_below)
    unused = {name for name in candidates if name not in needed}
    for _ in range(len(unused)):  # each round adds at least one, or ends
        more = _may_use(image, analysis, used, needed, unused) | _plugins_of(needed, unused)
        if not more:
            break
        used |= more
        needed = _closure(analysis, used | unjudged | imported_below)
        unused -= needed
    # a plugin requires its host, but the host is not there for the plugin's sake: an unused
    # host (airflow, under an unused provider) is a root of its own; and what a package would
    # load by a string is not below it (an unused beautifulsoup4 brings no lxml)
    below = {name: _closure(analysis, {name}, loads=False) - {name} - set(plugin_hosts(name)) for name in unused}
    roots = [item for name, item in candidates.items() if name in unused and not any(
        name in found for other, found in below.items() if other != name)]  # fmt: skip
    # what an unknown package may need stays, for what removing another would save
    anchors = used | unjudged | {item.name for item in roots} | set(hedged)
    unsure = _requirements_unread(image, analysis) if roots else []
    older = _required_by_other_releases(analysis, needed, roots)
    analysis.verdict = Verdict(used, unjudged, needed, roots, anchors, imported_below, unsure, hedged, older)
    return analysis.verdict


def _required_by_other_releases(analysis: Analysis, needed: set[str], roots: list[Installed]) -> dict[str, list[str]]:
    """Root -> the needed packages that no install pins and whose other releases (not the
    newest the index read) require it: another requirement may cap them at such a release
    (faster-whisper 0.10's `tokenizers<0.16` keeps huggingface-hub below 1.0, which requires
    requests), which the index's version ranges cannot follow."""
    if not roots:
        return {}
    loose = [name for name in sorted(needed) if not analysis.versions.get(name) and lookup(name).known]
    found: dict[str, list[str]] = {}
    for item in roots:
        for name in loose:
            if item.name in lookup(name, ANY_RELEASE).requires and item.name not in lookup(name).requires:
                found.setdefault(item.name, []).append(name)
    return found


# An environment variable holding a database URL or engine (``DATABASE_URL``,
# ``os.environ["DATABASE_ENGINE"]``, ``${POSTGRES_URI_REGISTRY}``, ``SQLALCHEMY_DATABASE_URI``, ``SQL_ENGINE``,
# ``POSTGRES_CONNECTION_STRING``): the driver it selects is decided where the container runs.
_DATABASE_VARIABLE = lazy_compile(
    r"(?:[A-Z0-9]+_)*(?:DATABASE|DB|POSTGRES|POSTGRESQL|PG|MYSQL|SQL|SQLALCHEMY)(?:_[A-Z0-9]+)*"
    r"_(?:URL|URI|ENGINE|DSN|CONNECTION_STRING|CONN_STRING|CONN_STR|CONNECTION_URL)(?:_[A-Z0-9]+)*"
)


def _database_from_environment(image: Image, analysis: Analysis) -> bool:
    """Whether the image's code or configuration names an environment variable that holds a
    database URL or engine: then any installed database driver may be the one it selects."""
    if analysis.database_from_environment is None:
        analysis.database_from_environment = (
            any(word.isupper() and _DATABASE_VARIABLE.fullmatch(word) for word in analysis.mentions.names)
            or any(module in analysis.imported for module in database_url_readers())  # dj_database_url.config()
            or _engine_from_configuration(image, analysis)
        )
    return analysis.database_from_environment


# `create_engine(conn_string)`: the URL comes from a variable (a config file's, the
# environment's), not a string written in the call
_ENGINE_FROM_VARIABLE = lazy_compile(r"\bcreate_(?:async_)?engine\((?!\s*(?:\)|[fFrRbBuU]{0,2}[\"']))")


def _engine_from_configuration(image: Image, analysis: Analysis) -> bool:
    """Whether the service's code builds a SQLAlchemy engine from a URL it does not write
    out (read from a config file or the environment): then any installed driver may be the
    one it selects."""
    if "sqlalchemy" not in analysis.imported:
        return False
    return any(
        "create_" in text and _ENGINE_FROM_VARIABLE.search(text) for text in service_sources(image, analysis.code)
    )


def _loads_pickles(image: Image, analysis: Analysis) -> bool:
    """Whether the service's code loads a pickle the image does not hold (``joblib.load(path)``
    of a model another image saves to a volume): it imports a module that loads them, calls
    ``load`` or ``loads``, and no pickle is copied in (what one holds is read from it)."""
    if analysis.loads_pickles is None:
        loaders = unpickled_models()[0]
        analysis.loads_pickles = (
            not analysis.code.pickles
            and bool(loaders & set(analysis.imported_by_service))
            and bool(_names_in_code(image, analysis, {"load", "loads"}))
        )
    return analysis.loads_pickles


def _unnamed_installs(analysis: Analysis) -> bool:
    """Whether the image installs Python packages dockerlint cannot name (a wheel glob, a
    requirements file outside the build context, ``setup.py develop``); a base image's own
    packages were there before the named ones and are not counted here."""
    return any(not what.startswith((BASE_IMAGE_INSTALLS, "packages copied from")) for what in analysis.installs.unnamed)


def _development_server(analysis: Analysis) -> bool:
    """Whether the container starts the framework's development server (`manage.py
    runserver`, `flask run`, `fastapi dev`): the production server beside it is for the
    deployment that serves the same application (build_tools.toml, ``app_servers``)."""
    words = analysis.runtime_words
    return any(set(start) <= words for start in load("build_tools")["app_servers"]["development_starts"])


def _unserved_application(image: Image, analysis: Analysis) -> bool:
    """Whether what the container starts serves no web application the code may define: it
    starts nothing, a development server, or a Python program none of whose files imports a
    web framework (a worker's `python app/worker.py` in an image that also holds the API
    that `uvicorn app.main:app` serves where compose or the README overrides the command)."""
    table = load("build_tools")["app_servers"]
    words = analysis.runtime_words
    if not words or _development_server(analysis):
        return True
    if not set(table["servers"]).isdisjoint(words):
        return False
    reached = _reached_from_start(image, analysis)
    if reached is None:
        return False
    frameworks = [module for name in table["frameworks"] for module in lookup(name).modules]
    for file in analysis.code.files:
        scan = file_scan(image, file) if file.image_path in reached else None
        for item in scan.imports or () if scan is not None else ():
            if item.module and any(_uses(item.module, module) for module in frameworks):
                return False
    return True


def _only_development_servers(image: Image) -> bool:
    """Whether every way the image is started runs a development server: its start command,
    and each compose service's own command (a `runserver` service beside `daphne` and
    `celery` services of the same image leaves it a production image)."""
    from dockerlint.parse.shell import parse_script

    starts = load("build_tools")["app_servers"]["development_starts"]
    found = start_command(image)
    lines = [found[1]] if found is not None else []
    for service in compose_services(image):
        for command in (service.entrypoint, service.command):
            if isinstance(command, tuple):
                lines.append(command)
            elif command:
                lines += [item.argv for item in parse_script(command).commands]
    if not lines:
        return False
    return all(any(set(start) <= _argv_words(argv) for start in starts) for argv in lines if argv)


def _serves_the_code(image: Image, analysis: Analysis, name: str) -> bool:
    """Whether ``name`` is an ASGI/WSGI server and the code defines a web application (it
    imports FastAPI, Flask, Django...): in an image that starts nothing, that server is
    how the application is meant to run (build_tools.toml, ``app_servers``)."""
    table = load("build_tools")["app_servers"]
    return name in table["servers"] and _imports(image, analysis, table["frameworks"], by_service=True)


def _configured(analysis: Analysis, name: str) -> str | None:
    """How the code's configuration makes a framework load the distribution by itself: a
    connection URL's driver or scheme, a setting string (Django's cache `BACKEND`), or None."""
    mentions = analysis.mentions
    if any(name in url_drivers().get(driver, ()) for driver in mentions.drivers):
        return "named as a URL driver"
    if any(name in url_schemes().get(scheme, ()) for scheme in mentions.schemes):
        return "named by a connection URL"
    if any(name in url_dialects().get(scheme.split("+", 1)[0], ()) for scheme in mentions.schemes):
        return "named by a connection URL"  # `cockroachdb+asyncpg://`: the dialect, then its driver
    if any(name in setting_strings()[key] for key in mentions.settings):
        return "named by a framework setting"
    return None


def _imported_below(image: Image, analysis: Analysis) -> set[str]:
    """Installed distributions no install names that the service's code imports (not only
    its tests or notebooks), whose command the image runs (`dbt`, which dbt-core brings
    under dbt-postgres), or that its configuration loads (the `redis` of Django's own
    `RedisCache` backend, which django-redis brings)."""
    named = {item.name for item in analysis.installs.items}
    own = analysis.code.first_party  # `from proto import x` of the repository's proto/ is no proto-plus
    found = set()
    for name in analysis.installed - named:
        distribution = lookup(name, analysis.versions.get(name))
        if not distribution.known:
            continue
        modules = [module for module in distribution.modules if module.split(".", 1)[0] not in own]
        if _shadowed_by_stdlib(image, distribution):
            modules = []
        if set(distribution.commands) & analysis.words or (modules and _imports(image, analysis, modules, True)):
            found.add(name)
        elif _configured(analysis, name) is not None:
            found.add(name)
    return found


def _cuda_library_of_a_host(analysis: Analysis, name: str) -> bool:
    """An NVIDIA CUDA library wheel (`nvidia-cudnn-cu11`) beside a framework that loads it:
    a CUDA build of torch from PyTorch's index requires its set, which no index reading of
    PyPI knows; DEP001 leaves them to the framework."""
    pattern, hosts = cuda_library_hosts()
    return fnmatchcase(name, pattern) and not hosts.isdisjoint(analysis.installed)


def _shadowed_by_stdlib(image: Image, distribution: Distribution) -> bool:
    return shadowed_by_stdlib(image, distribution.modules)


def _required_by_another(analysis: Analysis, item: Installed) -> bool:
    """Whether another install of the image requires ``item`` by its name."""
    others = {other.name for other in analysis.installs.items if other.name != item.name}
    return item.name in _closure(analysis, others, loads=False)


def _integration_of(analysis: Analysis, name: str) -> bool:
    """Whether a distribution the index did not read is named as an integration of ``name``
    (langchain-ollama of ollama, llama-index-llms-groq of groq): such a package requires the
    one it is named after, though nothing here can tell."""
    if analysis.integrations is None:
        analysis.integrations = set()
        for other in {item.name for item in analysis.installs.items}:
            if not indexed(other):
                parts = other.split("-")  # every run of its words but the first: llms-groq, groq
                analysis.integrations |= {
                    "-".join(parts[i:j]) for i in range(1, len(parts)) for j in range(i + 1, len(parts) + 1)
                }
    return name in analysis.integrations


def _imports_unprovided(analysis: Analysis) -> bool:
    """Whether the service imports a top-level module that neither the standard library, its
    own code, nor any installed distribution the index knows provides."""
    versions = analysis.versions.get
    provided = {
        module.split(".", 1)[0] for name in analysis.installed for module in lookup(name, versions(name)).modules
    }
    tops = {module.split(".", 1)[0] for module, _ in analysis.code.imports.required}
    return bool(tops - provided - analysis.code.first_party - stdlib())


def _frozen_beside_unknowns(analysis: Analysis, item: Installed) -> bool:
    """A pinned entry of a freeze that lists a distribution the index does not know."""
    return item.path in _frozen_with_unknowns(analysis) and pinned_release(item.written) is not None


def _unknowns_of(analysis: Analysis, path: Path) -> list[str]:
    """The entries of a requirements file (or Pipfile) whose requirements the index cannot
    say: a distribution it does not know, or a release older than any it read
    (pycuda==2022.2.2 required appdirs; the 2026 release it read requires platformdirs)."""
    if path in analysis.installs.compiled_files:
        return []  # its `# via` notes say what each entry is there for
    pins = {item.name: pinned_release(item.written) for item in analysis.installs.items if item.path == path}
    vcs = _from_vcs(analysis)
    return sorted(name for name, version in pins.items() if name in vcs or _unread_entry(name, version))


def _other_unknowns(analysis: Analysis, item: Installed) -> list[str]:
    """The unknown entries of the item's file (`_unknowns_of`) but itself: a package whose
    own requirements are unread is no reason it may be needed."""
    return [name for name in _unknowns_of(analysis, item.path) if name != item.name]


def _likeliest_first(image: Image, analysis: Analysis, names) -> list[str]:
    """Packages whose requirements are unread, in the order a reader should check them: what
    the service imports, then what it installs from a repository (`clip @ git+...`, which
    needs ftfy and regex), then the rest by name."""

    def order(name: str) -> tuple[bool, bool, str]:
        imported = _imports(image, analysis, lookup(name, analysis.versions.get(name)).modules)
        return not imported, name not in _from_vcs(analysis), name

    return sorted(names, key=order)


def _unread_entry(name: str, version: str | None) -> bool:
    if spacy_pipeline(name):
        return False
    return not lookup(name).known or (version is not None and not requirements_read(name, version))


def _unread_beside(image: Image, analysis: Analysis, item: Installed, lighter: str) -> bool:
    """Whether a package the image uses, at a release older than any the index read, may
    require ``item`` by name: one whose code the index read uses it or its lighter variant
    (deepface imports tensorflow or tensorflow-cpu; its 0.0.95 required tensorflow)."""
    family = {item.name, lighter}
    for name in _requirements_unread(image, analysis):
        distribution = lookup(name, analysis.versions.get(name))
        if name != item.name and distribution.known and family & {*distribution.requires, *distribution.may_use}:
            return True
    return False


def _may_be_required_unseen(analysis: Analysis, item: Installed) -> bool:
    """Whether something the index cannot read may require ``item``: an unnamed install, or
    an unknown distribution of the freeze that lists ``item`` among what it froze."""
    return _unnamed_installs(analysis) or _frozen_beside_unknowns(analysis, item)


def _requirements_unread(image: Image, analysis: Analysis) -> list[str]:
    """What the image uses whose requirements dockerlint cannot read: a package the index
    does not hold that the code imports or a command runs (crewai, django-ninja-extra), or
    may (an unknown name, whose modules are a guess, when the code imports what nothing
    known provides), or one an extra of a used package asks for (qdrant-client[fastembed]'s
    fastembed). Any unused package may be one of their requirements (injector under
    django-ninja-extra): DEP001 says so, at info and without claiming its bytes. An unread
    package nothing uses (an Airflow provider of an unused Airflow) goes with what it
    requires; local projects, whose pyproject is read, and spaCy pipelines are not among
    them."""
    if analysis.unread is None:
        named = {item.name for item in analysis.installs.items}
        used = {name for name in named if _use(image, analysis, lookup(name, analysis.versions.get(name)))}
        # An unknown name's modules are a guess from it (django-ninja-extra is `ninja_extra`):
        # when the service imports a module no known install provides, an unknown one may.
        unknown = {name for name in named if not lookup(name, analysis.versions.get(name)).known}
        if unknown - used and _imports_unprovided(analysis):
            used |= unknown
        asked = {
            other
            for name in used
            for extra in analysis.extras.get(name, ())
            for other in lookup(name, analysis.versions.get(name)).extras.get(extra, ())
        }
        compiled = {item.name for item in analysis.installs.items if item.path in analysis.installs.compiled_files}
        unread = [
            name
            for name in (used | asked) - analysis.installs.project_names - compiled
            if (not requirements_read(name, analysis.versions.get(name)) or name in _from_vcs(analysis))
            and not spacy_pipeline(name)
            and name not in analysis.installs.lock_requires
        ]
        analysis.unread = _likeliest_first(image, analysis, unread)
    return analysis.unread


# `clip @ git+https://github.com/openai/CLIP.git`: a repository's code, not the PyPI
# distribution of that name (an unrelated 6 kB `clip` there), whose requirements no index knows.
_VCS_URL = lazy_compile(r"[^@]*@\s*(?:git|hg|svn|bzr)\+")


def _from_vcs(analysis: Analysis) -> set[str]:
    """Names installed from a version-control URL (worked out once: asked per install)."""
    if analysis.from_vcs is None:
        analysis.from_vcs = {item.name for item in analysis.installs.items if _VCS_URL.match(item.written)}
    return analysis.from_vcs


# Of what a file's known entries require, the share it must list to read as a freeze (old
# pins are read by newer ranges, which ask for some names the freeze never held).
FROZEN_SHARE = 0.6
# Of a file's entries, the share that must be pinned exactly: at least half.
FROZEN_ENTRIES = 0.5


def _frozen_with_unknowns(analysis: Analysis) -> set[Path]:
    """Files that read as ``pip freeze`` output, which lists what each package requires
    (most entries pinned exactly, and most of what its known entries require listed too),
    and that list a distribution the index does not know: any pinned entry some package
    requires may be one that unknown distribution needs (``databricks-cli`` and ``PyJWT``).
    A hand-written list, or an entry added to a freeze by hand (``flask-cors~=4.0``), names
    what its author wanted, so it is judged as usual."""
    if analysis.frozen_with_unknowns is None:
        by_file: dict[Path, list[Installed]] = {}
        for item in analysis.installs.items:
            if item.kind == "requirements" or item.path.name == PIPFILE:  # a Pipfile may be a freeze too
                by_file.setdefault(item.path, []).append(item)
        analysis.frozen_with_unknowns = {
            path
            for path, items in by_file.items()
            if path not in analysis.installs.compiled_files and _freeze_with_unknowns(items)
        }
    return analysis.frozen_with_unknowns


PIPFILE = "Pipfile"


def _freeze_with_unknowns(items: list[Installed]) -> bool:
    names = {item.name for item in items}
    pins = {item.name: version for item in items if (version := pinned_release(item.written))}
    if len(pins) < FROZEN_ENTRIES * len(names):  # a freeze with a few entries added by hand is one still
        return False
    if not any(_unread_entry(name, pins.get(name)) for name in names):
        return False
    found = [lookup(name, version) for name, version in pins.items()]
    # An entry whose own requirements are mostly missing was added by hand (runpod, or torch
    # from the CPU index without its CUDA wheels): the freeze is what the other entries say.
    frozen = [
        distribution
        for distribution in found
        if distribution.known and 2 * len(set(distribution.requires) & names) >= len(distribution.requires)
    ]
    required = {other for distribution in frozen for other in distribution.requires}
    return bool(required) and len(required & names) >= FROZEN_SHARE * len(required)


def _plugins_of(needed: set[str], unused: set[str]) -> set[str]:
    """Unused names that a needed package loads by itself as a plugin (pytest-cov under
    pytest): a plugin of a host nothing uses is unused with it."""
    return {name for name in unused if set(plugin_hosts(name)) & needed}


def _closure(analysis: Analysis, start: set[str], loads: bool = True) -> set[str]:
    """What ``start`` brings in. The closure of a set is the union of its names' closures
    (the extras asked of each name are the image's, whatever path reaches it), so each name's
    is made once per image: the verdict and the costs ask for hundreds of overlapping sets."""
    found: set[str] = set()
    for name in start:
        one = analysis.closures.get((name, loads))
        if one is None:
            one = closure({name}, analysis.extras, analysis.versions.get, loads=loads)
            one = analysis.closures[(name, loads)] = frozenset(_with_locked(one, analysis.installs, loads))
        found |= one
    return found


def _with_locked(found: set[str], installs: ImageInstalls, loads: bool = False) -> set[str]:
    """``found`` and what the install's lock file says its packages that the index cannot
    read require (a git-sourced library's boto3; openai-whisper 20230124, older than any
    release the index read, required transformers), and what those bring in (with ``loads``,
    what they load by a string: torchaudio's torchcodec under an sdist-only demucs); and
    what a compiled requirements file's `# via` notes say each needs (pikepdf's deprecated)."""
    if installs.compiled_requires:
        found = set(found)
        pending = list(found)
        while pending:
            for other in installs.compiled_requires.get(pending.pop(), ()):
                if other not in found:
                    more = closure({other}, loads=loads) - found
                    found |= more
                    pending.extend(more)

    def read(name: str) -> bool:  # the index read it at the release the lock pins
        return requirements_read(name, installs.locked.get(name))

    unread = [name for name in found if name in installs.lock_requires and not read(name)]
    while unread:
        for other in installs.lock_requires[unread.pop()]:
            if other in found:
                continue
            if read(other):
                found |= closure({other}, loads=loads)
            else:
                found.add(other)
                if other in installs.lock_requires:
                    unread.append(other)
    return found


def _may_use(image: Image, analysis: Analysis, used: set[str], needed: set[str], unused: set[str]) -> set[str]:
    """Unused names that a distribution the image needs imports without requiring them: when
    it is loaded (a load-time import in a module the code imports, or in the package itself,
    which the image needs), or inside a function, method or class that the code names of a
    package the code itself uses (``pipe.enable_xformers_memory_efficient_attention()`` of
    diffusers; not ``model.encode()`` of a transformers that only sentence-transformers
    imports: the code's ``encode`` is that of the package it imports). Never a development
    tool: an optional module of a package (the pytest plugin it ships) does not make pytest
    needed."""
    found: set[str] = set()
    wanted: dict[str, set[str]] = {}
    # engine='openpyxl': the code that calls pandas names it, wherever pandas comes from (an
    # install, or the base image: NGC's PyTorch images ship pandas)
    for host in engine_hosts():
        distribution = lookup(host, analysis.versions.get(host))
        if set(distribution.engines) & unused and _imports(image, analysis, distribution.modules):
            found.update(other for other in distribution.engines if other in unused)
    # Only what is installed: ``needed`` also holds what an installed package would load by a
    # string if it were there (transformers' tensorflow), and that uses nothing.
    for host in sorted(needed & analysis.installed):
        distribution = lookup(host, analysis.versions.get(host))
        tops = {module.split(".", 1)[0] for module in distribution.modules} | set(distribution.modules)
        for other, modules in distribution.may_use.items():
            if other in unused and other not in found and not lookup(other).dev:
                if any(module in tops or _imports_under(analysis, module) for module in modules):
                    found.add(other)
        for extra, names in distribution.extras.items():
            if any(other in unused for other in names) and _imports_part_named(analysis, distribution, extra):
                found.update(other for other in names if other in unused and not lookup(other).dev)
        # The code calls functions only of what it imports: a package used by a name in a
        # setting (wagtail's `elasticsearch7` backend) says nothing by the code's `default`.
        if not _imports(image, analysis, distribution.modules):
            continue
        direct = host in used
        handed = _handed_methods(analysis, distribution)
        for other, names in calls(host).items():
            if other in _url_driver_distributions():
                continue  # Django's backends call mysqlclient's `execute`: the ENGINE setting or URL picks the driver
            if other in unused and other not in found and not lookup(other).dev:
                # A database driver is the URL's choice: `sqlalchemy.dialects.mysql` (its column
                # types) names no driver of the three that speak MySQL.
                integration = other not in _url_driver_distributions() and _imports_integration(
                    analysis, distribution, lookup(other)
                )
                if integration or handed.intersection(names):
                    found.add(other)
                    continue
                if host in string_dispatch() and analysis.mentions.names.intersection(names):
                    found.add(other)  # `px.scatter(..., trendline="ols")` calls plotly's `ols`
                    continue
                # Of a package the code imports that another brought in (llama-index-core under
                # llama-index, mlflow-skinny under mlflow), only its classes are names distinct
                # enough to tell (`SentenceTransformerRerank`; not `load`, `save_model`).
                wanted.setdefault(other, set()).update(names if direct else (n for n in names if n[:1].isupper()))
    wanted = {other: names for other, names in wanted.items() if other not in found and names}
    if wanted:
        named = _names_in_code(image, analysis, set().union(*wanted.values()))
        found |= {other for other, names in wanted.items() if names & named}
    paths = {path: other for path, other in submodule_libraries().items() if other in unused and other not in found}
    if paths:  # `mlflow.shap.log_explanation(...)`: the flavour module imports shap
        found |= {paths[path] for path in _names_in_code(image, analysis, set(paths))}
    return found


@cache
def _url_driver_distributions() -> frozenset[str]:
    """The distributions a database URL selects as its driver (url_drivers)."""
    return frozenset(name for names in url_drivers().values() for name in names)


def _imports_integration(analysis: Analysis, host: Distribution, backend: Distribution) -> bool:
    """Whether the code imports from ``host`` a name given for ``backend``, which the
    host's functions import: LangChain's ``FAISS``, ``Chroma``, ``QdrantVectorStore`` and
    ``PGVector`` run on faiss, chromadb, qdrant-client and pgvector, whichever of their
    methods the code calls (the constructors are often inherited and import nothing)."""
    stems = set()
    for module in backend.modules:
        stem = module.split(".", 1)[0].lower().replace("_", "")
        for suffix in _CLIENT_SUFFIXES:
            stem = stem.removesuffix(suffix) or stem
        if len(stem) >= 4:
            stems.add(stem)
            if stem.endswith("s") and len(stem) > 5:
                stems.add(stem[:-1])  # sentence_transformers: SentenceTransformerEmbeddings
    return bool(stems) and any(
        inner.rpartition(".")[2].lower().startswith(tuple(stems)) for inner in _imported_inside(analysis, host)
    )


def _handed_methods(analysis: Analysis, host: Distribution) -> set[str]:
    """The methods a framework calls on objects of the classes the code imports from
    ``host`` (the ``embed_documents`` of an ``OpenAIEmbeddings`` handed to a vector store)."""
    suffixes = handed_objects()
    found: set[str] = set()
    for inner in _imported_inside(analysis, host):
        name = inner.rpartition(".")[2]
        found.update(*(methods for suffix, methods in suffixes.items() if name.endswith(suffix) and name != suffix))
    return found


_CLIENT_SUFFIXES = ("client", "db")  # qdrant_client, chromadb: the backend is named without them


def _imports_part_named(analysis: Analysis, distribution: Distribution, extra: str) -> bool:
    """Whether the code imports a part of the distribution named as the extra is
    (``sqlalchemy.ext.asyncio`` and SQLAlchemy's ``asyncio`` extra, ``ray.serve`` and
    ``ray[serve]``): such an extra holds what that part imports when it is used."""
    word = extra.replace("-", "_")
    return any(word in inner.split(".") for inner in _imported_inside(analysis, distribution))


def _imported_inside(analysis: Analysis, distribution: Distribution) -> Iterator[str]:
    """What the code imports from inside the distribution's modules, after the module's
    name (``ext.asyncio.AsyncSession`` of ``sqlalchemy.ext.asyncio.AsyncSession``), or
    names whole in a string a framework imports (``socialaccount`` of Django's
    ``INSTALLED_APPS`` entry ``"allauth.socialaccount"``)."""
    if analysis.dotted_mentions is None:  # asked for many distributions: grouped once
        analysis.dotted_mentions = {}
        for name in analysis.mentions.names:
            if "." in name:
                analysis.dotted_mentions.setdefault(name.split(".", 1)[0], []).append(name)
    for module in distribution.modules:
        inside = module + "."
        top = module.split(".", 1)[0]
        for path in (*analysis.imported.get(top, ()), *analysis.dotted_mentions.get(top, ())):
            if path.startswith(inside):
                yield path[len(inside) :]


def _imports_under(analysis: Analysis, module: str) -> bool:
    """Whether the code imports ``module`` or something inside it (which loads it)."""
    return any(
        path == module or path.startswith(module + ".") for path in analysis.imported.get(module.split(".", 1)[0], ())
    )


def _names_in_code(image: Image, analysis: Analysis, words: set[str]) -> set[str]:
    """Which of ``words`` the image's Python code calls or imports (`to_postgis(...)`,
    `from llama_index.core import SimpleDirectoryReader`): a keyword argument or a word in a
    string of the same spelling (`subprocess.run(..., text=True)`) is not a use."""
    found: set[str] = set()
    if not words:
        return found
    names = "|".join(re.escape(word) for word in sorted(words) if "." not in word) or "(?!)"
    paths = "|".join(re.escape(word) for word in sorted(words) if "." in word) or "(?!)"  # `mlflow.shap`: as written
    pattern = re.compile(rf"\b({names})\s*\(|\bimport\b[^\n]*?\b({names})\b|\b({paths})\b")
    for file in analysis.code.files:
        loaded = image.workspace.text(file.path, quiet=True)
        if loaded is not None:
            found.update(name for groups in pattern.findall(loaded[0].text) for name in groups if name)
            if found == words:
                break
    return found


def _exclusive(analysis: Analysis, verdict: Verdict, name: str) -> set[str]:
    """What only ``name`` brings into the image: gone with it, kept by nothing else (what it
    loads by a string when installed is not brought in by it), nor by the code, which
    imports some of it (``_imported_only_through``)."""
    only = _brought_only_by(analysis, verdict, name)
    return only - _closure(analysis, only & verdict.below, loads=False)


def _brought_only_by(analysis: Analysis, verdict: Verdict, name: str, hedged: bool = True) -> set[str]:
    """What only ``name`` brings in; ``hedged``: less what an installed package whose
    requirements are unknown may keep (no bytes are claimed for those)."""
    brings = _closure(analysis, {name}, loads=False) & analysis.installed
    only = brings - _closure(analysis, verdict.anchors - {name}) - {name}
    if hedged and only and _unread_kept(analysis, verdict, name):
        only -= required_by_some()
    return only


def _unread_kept(analysis: Analysis, verdict: Verdict, name: str) -> bool:
    """Whether the image keeps (beside ``name``) an installed package whose requirements the
    index cannot read (mlxtend, which requires the matplotlib an unused seaborn brings)."""
    return any(other != name and not requirements_known(other) for other in verdict.anchors & analysis.installed)


def _imported_only_through(analysis: Analysis, verdict: Verdict, name: str) -> list[str]:
    """What the code imports that only ``name`` brings in (llama-index-core under
    llama-index, bcrypt under passlib[bcrypt]): to install instead of it. Not hedged: a
    package whose requirements are unknown may bring it too, but a removal could break the
    import."""
    return sorted(_brought_only_by(analysis, verdict, name, hedged=False) & verdict.below)


def _cost(analysis: Analysis, verdict: Verdict, name: str) -> tuple[int | None, str]:
    """(installed bytes of ``name`` and what only it needs, how the message says it)."""
    only = _exclusive(analysis, verdict, name)
    sizes = {other: lookup(other, analysis.versions.get(other)).installed_bytes() for other in only | {name}}
    total = sum(size for size in sizes.values() if size)
    if not total:
        return None, ""
    if not only:
        return total, f" (~{human_size(total)})"
    biggest = sorted(only, key=lambda other: (-(sizes[other] or 0), other))[:3]
    shown = ", ".join(biggest) + (", ..." if len(only) > 3 else "")
    count = f"{len(only)} package{'s' if len(only) > 1 else ''}"
    return total, f" (~{human_size(total)} with the {count} only it needs: {shown})"


def _unused(image: Image, analysis: Analysis) -> Iterator[Finding]:
    if not analysis.code.files:
        return  # no code to judge by
    verdict = _verdict(image, analysis)
    folded = _hedged_together(image, analysis, verdict)
    for items, reason in folded:
        yield _folded_finding(items, reason)
    said = {id(item) for items, _ in folded for item in items}
    for item in verdict.roots:
        if id(item) in said:
            continue
        distribution = lookup(item.name, analysis.versions.get(item.name))
        size, cost = _cost(analysis, verdict, item.name)
        public = [module for module in distribution.modules if not module.startswith("_")]
        modules = ", ".join(f"`{module}`" for module in public or distribution.modules)  # not paddle's `_foo`
        instead = _imported_only_through(analysis, verdict, item.name)
        through = ", ".join(f"`{other}`" for other in instead)
        unsure = verdict.hedged.get(item.name) or verdict.unsure
        needs = "no installed package needs it"
        older = verdict.older.get(item.name, []) if not unsure else []
        if older:  # a release the resolver may pick requires it: info, no bytes claimed
            names = ", ".join(f"`{name}`" for name in older[:3]) + (" and others" if len(older) > 3 else "")
            needs = (
                f"no installed package needs it at the newest releases dockerlint read, but other releases of "
                f"{names}, which no install pins and another requirement may cap, do"
            )
            size, cost = None, ""
        if unsure:  # a package whose requirements dockerlint cannot read may need it: info, no bytes claimed
            names = ", ".join(f"`{name}`" for name in unsure[:3]) + (" and others" if len(unsure) > 3 else "")
            needs = (
                f"no installed package dockerlint can read needs it, but {names}, whose requirements it "
                "does not know, may"
            )
            size, cost = None, ""
        base = not analysis.runtime_words  # no CMD, ENTRYPOINT or compose command: maybe a base image
        if base and not unsure:
            needs += "; but the image starts nothing, so an image built FROM it may use it"
        runner = None if base or unsure else _runs_foreign_code(image, analysis)
        if runner is not None:  # code the image does not hold, run with its packages
            needs += f"; but {runner}: that code may import it"
            base = True
        foreign = runner is not None
        verdict_text = "and may be unused" if unsure or older or foreign else "but nothing uses it"
        fix = _replacement_fix(item, instead) if instead else _removal_fix(item, _listed_below(analysis, verdict, item))
        if foreign and not unsure and not instead:
            fix = f"Check whether that code imports {modules}; if not, {fix[0].lower()}{fix[1:]}"
        elif unsure and not instead:
            fix = (
                f"Check whether {names} require{'s' if len(unsure) == 1 else ''} it; if not, {fix[0].lower()}{fix[1:]}"
            )
        elif older and not instead:
            fix = (
                f"Check which releases of {names} the install resolves (`pip install --dry-run --report -` lists "
                f"them); if none requires it, {fix[0].lower()}{fix[1:]}"
            )
        yield Finding(
            "DEP001",
            item.path,
            item.span,
            f"`{item.name}`{cost} is installed in the image {verdict_text}: "
            + (
                f"it is a backport of the standard library's {modules}, which the image's Python has and loads first"
                if _shadowed_by_stdlib(image, distribution)
                else f"no code of the image {'that this checkout shows ' if foreign else ''}imports {modules}"
            )
            + f", no command runs it, and {needs}"
            + (f"; the service uses {through}, which only it brings in" if instead else ""),
            fix,
            size,
            severity=Severity.INFO if unsure or older or base else None,
            autofix=None if instead or unsure or older or base else dep_fixes.removal(image, item),
        )


def _hedged_together(
    image: Image, analysis: Analysis, verdict: Verdict
) -> list[tuple[list[Installed], tuple[str, ...]]]:
    """Entries of one file that may be unused for one reason: the same packages, whose
    requirements are unread, may need them (authx's pyjwt, cryptography and python-jose);
    the image starts nothing, so an image built FROM it may use them; or it runs code this
    checkout does not hold (custom nodes cloned at build time), which may import them.
    One decision, one finding: (the entries, by line; the reason, see `_hedge`), for two
    or more."""
    groups: dict[tuple[Path, tuple[str, ...]], list[Installed]] = {}
    for item in verdict.roots:
        reason = _hedge(image, analysis, verdict, item)
        if reason is None or _imported_only_through(analysis, verdict, item.name):
            continue
        if item.kind == "requirements" and silenced(image, item.path, item.span.line, "DEP001"):
            continue
        if _shadowed_by_stdlib(image, lookup(item.name, analysis.versions.get(item.name))):
            continue
        groups.setdefault((item.path, reason), []).append(item)
    return [
        (sorted(items, key=lambda item: item.span.line), reason)
        for (_, reason), items in groups.items()
        if len(items) > 1
    ]


def _hedge(image: Image, analysis: Analysis, verdict: Verdict, item: Installed) -> tuple[str, ...] | None:
    """Why an unused entry may be used after all, as `_unused` words it: ("unsure",
    packages whose requirements are unread...), ("base",) for an image that starts
    nothing, ("foreign", how the service runs code the image does not hold); None when
    nothing hedges it (or only other releases of what requires it, said entry by entry)."""
    unsure = verdict.hedged.get(item.name) or verdict.unsure
    if unsure:
        return ("unsure", *unsure)
    if verdict.older.get(item.name):
        return None
    if not analysis.runtime_words:
        return ("base",)
    runner = _runs_foreign_code(image, analysis)
    return ("foreign", runner) if runner is not None else None


def _folded_finding(items: list[Installed], reason: tuple[str, ...]) -> Finding:
    first, others = items[0], items[1:]
    shown = [f"`{item.name}`" for item in items[:6]]
    listed = (
        ", ".join(shown[:-1]) + f" and {shown[-1]}"
        if len(items) <= 6
        else ", ".join(shown) + f" and {len(items) - 6} more"
    )
    where = first.path.name if first.kind != "argument" else "this `pip install`"
    keep = (
        "If one is used in a way dockerlint cannot see (a plugin loaded by name, code mounted at run time), keep "
        "it and add `# noqa: DEP001` on its line."
    )
    kind, details = reason[0], reason[1:]
    if kind == "unsure":
        names = ", ".join(f"`{name}`" for name in details[:3]) + (" and others" if len(details) > 3 else "")
        message = (
            f"{listed} are installed in the image and may be unused: no code in the image imports them, no command "
            f"runs them, and no installed package dockerlint can read needs them, but {names}, whose requirements "
            "it does not know, may"
        )
        fix = (
            f"Check whether {names} require{'s' if len(details) == 1 else ''} them; remove from {where} those none "
            f"requires. {keep}"
        )
    elif kind == "base":
        message = (
            f"{listed} are installed in the image and may be unused: no code of the image imports them, no command "
            "runs them, and no installed package needs them; but the image starts nothing, so an image built FROM "
            "it may use them"
        )
        fix = f"Check whether the images built FROM this one use them; remove from {where} those none uses. {keep}"
    else:
        message = (
            f"{listed} are installed in the image and may be unused: no code of the image that this checkout shows "
            f"imports them, no command runs them, and no installed package needs them; but {details[0]}: that code "
            "may import them"
        )
        fix = f"Check whether that code imports them; remove from {where} those it does not. {keep}"
    return Finding(
        "DEP001",
        first.path,
        first.span,
        message,
        fix,
        related=tuple(Related(item.path, item.span, f"`{item.name}` may be unused too") for item in others),
        severity=Severity.INFO,
        also_lines=tuple(item.span.line for item in others if item.path == first.path),
    )


# Code that runs code the image does not hold, with the image's packages: a script given at
# run time to the image's interpreter, a repository's hubconf that torch.hub.load fetches and
# runs (`torch.hub.load("ultralytics/yolov5", ...)` checks and imports its requirements), a
# Hub model's own modeling code (`trust_remote_code=True`).


def _pythonpath_not_held(image: Image, analysis: Analysis) -> str | None:
    """A PYTHONPATH folder of the final image that holds none of its code (`ENV
    PYTHONPATH=/app` in a worker that imports the `app` package mounted there at run time):
    the code the service imports from there is not the code read here."""
    final = image.final
    if final is None or not final.steps:
        return None
    workdir = final.steps[-1].workdir or "/"
    for part in final.steps[-1].env.get("PYTHONPATH", "").split(":"):
        if not part or "$" in part or part in (".", "./") or "-packages" in part:
            continue  # a variable's, the working folder, or a place pip installs into
        folder = posixpath.normpath(posixpath.join(workdir, part))
        if folder != "/" and not any(file.image_path.startswith(folder + "/") for file in analysis.code.files):
            return f"PYTHONPATH names `{folder}`, which the image holds no code in (it is mounted or made at run time)"
    return None


def _start_script_not_held(image: Image, analysis: Analysis) -> str | None:
    """The script the start command runs when the image does not hold it (a COPY that took
    another path): the code the service is meant to run is not the code read here."""
    started = started_program(image)
    if started is None or started[1] != "script" or started[2].startswith("-"):
        return None
    step, _, script = started
    path = posixpath.normpath(posixpath.join(step.workdir or "/", script))
    if any(file.image_path == path for file in analysis.code.files):
        return None
    return f"the start command runs `{script}`, which the image does not hold"


def _downloaded_build_script(image: Image) -> str | None:
    """A RUN of the final image's stages that downloads a Python script (`curl -o
    /tmp/convert.py URL`) and runs it with the image's packages, for a message; or None."""
    for stage in final_chain(image):
        for step in stage.runs():
            fetched = set()
            for command in step.commands:
                argv = list(command.argv)
                if command.name in ("curl", "wget"):
                    for index, word in enumerate(argv[:-1]):
                        if word in ("-o", "-O", "--output", "--output-document") and argv[index + 1].endswith(".py"):
                            fetched.add(posixpath.normpath(posixpath.join(step.workdir or "/", argv[index + 1])))
                elif command.name and command.name.startswith("python") and len(argv) > 1 and fetched:
                    script = posixpath.normpath(posixpath.join(step.workdir or "/", argv[1]))
                    if script in fetched:
                        line = step.instruction.span.line
                        return f"the RUN at line {line} runs `{argv[1]}`, which it downloads, with the image's packages"
    return None


def _runs_foreign_code(image: Image, analysis: Analysis) -> str | None:
    """Where the service runs code the image does not hold, and how (`app/worker.py:6` runs
    Python scripts with the image's interpreter); None if it does not."""
    if analysis.foreign_code is None:
        analysis.foreign_code = ""
        analysis.foreign_code = (
            unread_code(image)
            or _downloaded_build_script(image)
            or _start_script_not_held(image, analysis)
            or _pythonpath_not_held(image, analysis)
            or ""
        )
        if not analysis.foreign_code and analysis.code.foreign:
            path, line, what = analysis.code.foreign
            analysis.foreign_code = f"`{path.lstrip('/')}:{line}` {what}"
    return analysis.foreign_code or None


def _listed_below(analysis: Analysis, verdict: Verdict, item: Installed) -> list[str]:
    """The installs in the same file that only ``item`` needs (a pinned freeze file lists them)."""
    only = _exclusive(analysis, verdict, item.name)
    return [other.written for other in analysis.installs.items if other.name in only and other.path == item.path]


def _replacement_fix(item: Installed, instead: list[str]) -> str:
    where = {"requirements": item.path.name, "argument": "this `pip install`", "pyproject": item.path.name}[item.kind]
    names = ", ".join(f"`{name}`" for name in instead)
    return (
        f"Replace `{item.written}` with {names} in {where}: the service uses {'them' if len(instead) > 1 else 'it'}, "
        f"and `{item.name}` brings in more besides."
    )


def _removal_fix(item: Installed, below: list[str] = ()) -> str:
    where = {
        "requirements": f"Remove `{item.written}` from {item.path.name}",
        "argument": f"Remove `{item.written}` from this `pip install`",
        "pyproject": f"Remove `{item.written}` from the dependencies in {item.path.name}",
    }[item.kind]
    if below:
        shown = ", ".join(f"`{written}`" for written in below[:5]) + (", ..." if len(below) > 5 else "")
        where += f", with the lines of what only it needs ({shown})"
    return (
        f"{where}. If it is used in a way dockerlint cannot see (a plugin loaded by name, code "
        "mounted at run time), keep it and add `# noqa: DEP001` on that line."
    )


# -- DEP002 ------------------------------------------------------------------------------


def _missing(image: Image, analysis: Analysis) -> Iterator[Finding]:
    installs = analysis.installs
    if installs.unnamed or image.volumes and _code_under_volume(image, analysis):
        return
    if copied_submodule(image) is not None:
        return  # a git submodule not fetched here may hold the modules the code imports
    if not analysis.runtime_words:
        return  # no CMD, ENTRYPOINT or compose command: the code may be what the image builds, not runs
    if _installs_at_start(image):
        return  # the container installs packages as it starts (`pdm install` in its entrypoint)
    if (
        all(item.name in tooling() for item in installs.items)
        and not installs.local_projects
        and started_program(image) is None
        and not start_script_commands(image)
    ):
        return  # only an installer, and a start dockerlint cannot read (zinit, supervisord): it may install then
    versions = analysis.versions.get
    if any(not lookup(name, versions(name)).known for name in installs.providers):
        return  # its modules and requirements are a guess (or of a release the index has not read)
    provided = {module for name in analysis.installed for module in lookup(name, versions(name)).modules}
    first_party = analysis.code.first_party
    answers: dict[tuple, list[str]] = {}  # the same import recurs in many files
    for module, names in analysis.code.imports.required:
        answers[module, names] = _would_provide(module, names, provided, first_party)
    if not any(answers.values()):
        return  # every import the service needs is served: no file to look at
    # What a package the install does not pin brings is read at its newest release; an older
    # one may be what the resolver picks (arq caps redis below 6, and redis 5 requires
    # PyJWT): a module some release would bring is not said to be missing.
    provided |= {module for name in _any_release_closure(analysis) for module in lookup(name, versions(name)).modules}
    answers = {key: _would_provide(*key, provided, first_party) if found else found for key, found in answers.items()}
    if not any(answers.values()):
        return
    reached = _reached_from_start(image, analysis)
    by_ignore: dict[tuple, list[tuple]] = {}  # one module git keeps out, imported by several files: one finding
    for file in analysis.code.files:
        if file.is_test or reached is not None and file.image_path not in reached:
            continue  # a script the container never runs (the host's producer beside its consumer)
        if reached is None and not _OFFLINE_FOLDERS.isdisjoint(file.image_path.split("/")[:-1]):
            continue  # models/training/train.py: run by hand, not by the service, as far as can be told
        if _in_another_project(image, analysis, file):
            continue  # server/moshi-server/ declares its own dependencies, which this image does not install
        scan = file_scan(image, file)
        if scan is None or scan.imports is None:
            continue
        if not scan.exact and not _unresolved(scan, provided, first_party, answers):
            continue
        scan = exact_scan(image, file)
        if scan is None or scan.imports is None:
            continue
        reported: set[str] = set()
        guarded = None  # the lines under `if __name__ == "__main__":`, read when one is unresolved
        for item, owners in _unresolved(scan, provided, first_party, answers):
            top = item.module.split(".", 1)[0]
            if top in reported:
                continue
            if guarded is None:
                guarded = _main_guarded_lines(image, file)
            if any(low <= item.line <= high for low, high in guarded):
                continue  # runs only when the file is run as a script, which the container does not do
            reported.add(top)
            ignored = _gitignored_module(image, file, top)
            if ignored is not None:  # made by hand where the image is built (`config.py` of the README)
                by_ignore.setdefault((ignored.ignore_file, ignored.line, top), []).append((file, item, ignored))
                continue
            if _repository_module(image, file, top) is not None:
                continue  # the repository's own `config.py`, not copied in: _missing_own_modules says so
            if top == image.context_root.name:
                yield _import_finding(  # `from mcp_server.registry import ...` built from mcp_server/ itself
                    image,
                    file,
                    item,
                    f"the image holds no `{top}` package: the build context is the repository's `{top}/` folder, "
                    f"whose files it copies without the folder itself, so `{item.module}` cannot be imported",
                    f"Build from the folder above `{top}/` and copy it as a package (`COPY {top}/ ./{top}/`), or "
                    f"import its modules without the `{top}.` prefix.",
                )
                continue
            shown = " or ".join(f"`{name}`" for name in owners[:3])
            yield _import_finding(
                image,
                file,
                item,
                f"no installed distribution provides it ({shown} would)",
                f"Add {shown} to the requirements the image installs, or make the import optional "
                "(`try: ... except ImportError:`) if the code can run without it.",
            )
    for imports in by_ignore.values():
        yield _gitignored_module_finding(image, imports)


# Files that declare a project's dependencies: a folder holding one is a project of its own.
_MANIFESTS = ("pyproject.toml", "requirements.txt", "Pipfile")


def _in_another_project(image: Image, analysis: Analysis, file) -> bool:
    """Whether the file is in a folder below the build context's root that declares its own
    dependencies (pyproject.toml, requirements.txt, Pipfile) which no install of the image
    reads, while the image installs from a manifest of its own: another environment's code,
    copied along (Python a Rust server embeds, a tool with its own requirements), not the
    service's. An image that installs from no manifest may simply lack its project's."""
    read = {item.path for item in analysis.installs.items if item.kind != "argument"}
    if not read:
        return False
    read |= set(analysis.installs.local_projects)
    folder, root = file.path.parent, image.context_root
    while folder != root and root in folder.parents:
        manifests = [folder / name for name in _MANIFESTS if image.workspace.is_file(folder / name)]
        if manifests:
            return folder not in read and not any(manifest in read for manifest in manifests)
        folder = folder.parent
    return False


def _main_guarded_lines(image: Image, file) -> list[tuple[int, int]]:
    """The line ranges of the file's `if __name__ == "__main__":` blocks, unless the start
    command runs the file itself as a script (then they run)."""
    import ast

    started = started_program(image)
    if started is not None and started[1] == "script":
        step, _, target = started
        if posixpath.normpath(posixpath.join(step.workdir or "/", target)) == file.image_path:
            return []
    loaded = image.workspace.text(file.path, quiet=True)
    if loaded is None or "__main__" not in loaded[0].text:
        return []
    try:
        tree = ast.parse(loaded[0].text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    return [
        (node.lineno, node.end_lineno or node.lineno)
        for node in tree.body
        if isinstance(node, ast.If) and _is_main_test(node.test)
    ]


def _is_main_test(test) -> bool:
    """`__name__ == "__main__"` (either way round)."""
    import ast

    if not isinstance(test, ast.Compare) or len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [side.id for side in sides if isinstance(side, ast.Name)]
    values = [side.value for side in sides if isinstance(side, ast.Constant)]
    return names == ["__name__"] and values == ["__main__"]


def _any_release_closure(analysis: Analysis) -> set[str]:
    """What the installs bring when each package may be at any release the index read that
    its install allows: the release it pins, the newest or the oldest of its range
    (`fastapi>=0.115` is not a fastapi of 2019), any for a bare name or what another
    package brings (another requirement may cap it: arq's `redis<6`)."""
    named = set(analysis.versions) | analysis.installs.providers
    floors = {item.name: floor_release(item.written) for item in analysis.installs.items}
    found: set[str] = set()
    for at_floor in (False, True):

        def version_of(name: str, at_floor: bool = at_floor) -> str | None:
            if analysis.versions.get(name):
                return analysis.versions[name]
            if name not in named or not floors.get(name):
                return ANY_RELEASE
            return floors[name] if at_floor else None

        found |= closure(named, analysis.extras, version_of, loads=False)
    return found


# Frameworks that import the service's modules by names in strings (settings, app lists,
# task discovery, spiders): from code that imports them, what runs cannot be traced.
# Folders of code people run by hand (training runs, experiments, examples), which a service
# that cannot be traced from its start command (a Celery worker, a compose command) seldom imports.
_OFFLINE_FOLDERS = frozenset({"training", "train", "notebooks", "experiments", "examples", "benchmarks", "research"})
_STRING_LOADERS = frozenset({"django", "celery", "scrapy", "airflow", "dagster", "prefect", "pytest", "rq", "dramatiq"})


def _reached_from_start(image: Image, analysis: Analysis) -> set[str] | None:
    """The image's code files the start command runs: its script or module and the
    first-party modules they import, one from another. None when that cannot be traced (no
    Python start command, a compose command of its own, an import by a computed name, a
    framework that loads modules by strings): then every file counts."""
    started = started_program(image) or _console_script_start(image)
    if started is None or any(service.command or service.entrypoint for service in compose_services(image)):
        return None
    step, kind, target = started
    workdir = step.workdir or "/"
    files = {file.image_path: file for file in analysis.code.files}
    roots = [workdir] + [posixpath.normpath(posixpath.join(workdir, part)) for part in
                         step.env.get("PYTHONPATH", "").split(":") if part]  # fmt: skip
    if kind == "script":
        entry = [posixpath.normpath(posixpath.join(workdir, target))]
        roots.insert(0, posixpath.dirname(entry[0]))
    else:
        if kind == "console":  # the project's package sits where its sources were copied (a src/ layout)
            relative = target.replace(".", "/")
            held = {
                path.removesuffix(tail)
                for path in files
                for tail in (f"/{relative}.py", f"/{relative}/__init__.py")
                if path.endswith(tail)
            }
            if not held:
                return None
            roots[:0] = sorted(held)  # the copied sources and the installed copy alike
        entry = _module_files(target, roots, files, package_main=True)
    if not entry or entry[0] not in files:
        return None
    reached: set[str] = set()
    pending = list(entry)
    while pending:
        path = pending.pop()
        if path in reached:
            continue
        reached.add(path)
        scan = file_scan(image, files[path])
        for item in scan.imports or () if scan is not None else ():
            if item.type_checking or item.optional and not item.dynamic:
                continue  # a module imported under `try: ... except ImportError`: its own imports may fail too
            if item.dynamic and not item.module or item.module.split(".", 1)[0] in _STRING_LOADERS:
                return None
            if item.level:
                base = posixpath.dirname(path)
                for _ in range(item.level - 1):
                    base = posixpath.dirname(base)
                module_roots, module = [base], item.module
            else:
                module_roots, module = roots, item.module
            for name in (module, *(f"{module}.{name}" if module else name for name in item.names)):
                if name:
                    pending += _module_files(name, module_roots, files)
    return reached


def _console_script_start(image: Image) -> tuple | None:
    """(step, "console", module) when the start command is a console script of a project the
    image installs from its build context (`pharos serve`, `[project.scripts] pharos =
    "pharos.cli:main"`): the module it runs."""
    found = start_command(image)
    words = [word for word in found[1] if word not in ("exec", "--")] if found is not None else []
    if not words:
        return None
    module = project_scripts(image).get(posixpath.basename(words[0]), "").split(":", 1)[0].strip()
    return (found[0], "console", module) if _DOTTED.fullmatch(module) else None


_DOTTED = lazy_compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def _module_files(module: str, roots: list[str], files: dict, package_main: bool = False) -> list[str]:
    """The image files a module's import runs: its file and its packages' __init__.py."""
    found = []
    parts = module.split(".")
    for root in roots:
        for depth in range(1, len(parts) + 1):
            base = posixpath.join(root, *parts[:depth])
            candidates = [base + ".py", base + "/__init__.py"]
            if package_main and depth == len(parts):
                candidates.append(base + "/__main__.py")
            found += [candidate for candidate in candidates if candidate in files]
    return found


def _missing_own_modules(image: Image, analysis: Analysis) -> Iterator[Finding]:
    """Imports of the repository's own modules that the image does not hold: `main.py` is
    copied, the `api/` package it imports is not, and the container stops at the import.
    Not when a package dockerlint does not know is installed: it may provide the module."""
    versions = analysis.versions.get
    if any(not lookup(name, versions(name)).known for name in analysis.installs.providers):
        return
    for file, item, top, shown in _missing_repository_modules(image, analysis):
        scan = exact_scan(image, file)  # a finding rests on ast's reading of the import
        if scan is None or not any(
            _unconditional(found) and found.module == item.module for found in scan.imports or ()
        ):
            continue
        yield _import_finding(
            image,
            file,
            item,
            f"the image holds no `{top}`: the repository's `{shown}` is not copied in, so the import fails "
            "when the code runs",
            f"Copy `{shown}` into the image beside {file.image_path.rsplit('/', 1)[-1]} (or install the "
            "package it belongs to).",
        )


def _missing_repository_modules(image: Image, analysis: Analysis) -> list[tuple[CodeFile, Import, str, str]]:
    """(importing file, import, module, its context path) of each module of the repository
    the image's code imports and the image does not hold. Only a module beside the
    importing file, or at the context root, in the build context."""

    def build() -> list[tuple[CodeFile, Import, str, str]]:
        installs = analysis.installs
        # an install that cannot be named may install the project; a base image's packages are no
        # repository's modules
        unnamed = [label for label in installs.unnamed if not label.startswith(BASE_IMAGE_INSTALLS)]
        if unnamed or installs.local_projects or not analysis.runtime_words:
            return []  # an install or a project may bring it; no command: nothing runs the code
        volumes = [posixpath.normpath(volume) for volume in image.volumes]
        versions = analysis.versions.get
        provided = {
            module.split(".", 1)[0] for name in analysis.installed for module in lookup(name, versions(name)).modules
        }
        served = provided | analysis.code.first_party | stdlib()
        wanted = {module.split(".", 1)[0] for module, _ in analysis.code.imports.required} - served
        found = []
        for file in analysis.code.files if wanted else ():
            if file.is_test or not file.image_path.endswith(".py"):
                continue
            scan = file_scan(image, file)  # the line scan: DEP002 confirms with ast, DEP001 only keeps quiet
            reported: set[str] = set()
            for item in scan.imports or () if scan is not None else ():
                if not _unconditional(item):
                    continue
                top = item.module.split(".", 1)[0]
                if top not in wanted or top in reported:
                    continue
                shown = _repository_module(image, file, top)  # None too for a file from elsewhere (a bind)
                if shown is None:
                    continue
                at = posixpath.join(posixpath.dirname(file.image_path), top)
                if any(at == volume or at.startswith(volume.rstrip("/") + "/") for volume in volumes):
                    continue  # a volume mounted there may bring it (`./:/app`); `./data:/app/data` does not
                reported.add(top)
                found.append((file, item, top, shown))
        return found

    return image.memoized(("missing_repository_modules",), build)


def _unconditional(item: Import) -> bool:
    """An absolute import the code makes whenever it runs: not optional, under
    TYPE_CHECKING or by a computed name."""
    return bool(item.module) and not (item.optional or item.type_checking or item.dynamic or item.level)


_MODULES_READ = 200  # of a missing package, the modules read for what they import


def _imported_by_missing_modules(image: Image, analysis: Analysis, modules) -> bool:
    """Whether a module of the repository the image's code imports but the image lacks
    (DEP002's) imports one of ``modules``: the fix copies it in, and what it imports is
    then the image's (`sheets.py` imports gspread)."""
    paths = _missing_module_imports(image, analysis)
    return any(_uses(path, module) for module in modules for path in paths.get(module.split(".", 1)[0], ()))


def _missing_module_imports(image: Image, analysis: Analysis) -> dict[str, list[str]]:
    """The dotted paths the repository modules an image lacks import unconditionally, by
    their first part: read once per image, not for every distribution asked about."""

    def build() -> dict[str, list[str]]:
        found: list[str] = []
        for _, _, top, shown in _missing_repository_modules(image, analysis):
            paths = [image.context_root / shown]
            if shown.endswith("/"):  # a package: its modules, as the context walk found them (no link followed)
                below = [
                    entry.path.removeprefix("./") for entry in (*image.context.files, *image.context.excluded_files)
                ]
                paths = [image.context_root / path for path in below if path.startswith(shown) and path.endswith(".py")]
            for path in paths[:_MODULES_READ]:
                held = image.workspace.is_file(path) and image.workspace.outside(path) is None
                scan = file_scan(image, CodeFile(f"/{top}/{path.name}", str(path))) if held else None
                for item in scan.imports or () if scan is not None else ():
                    if _unconditional(item):
                        found += [item.module, *(f"{item.module}.{name}" for name in item.names)]
        return _by_top(found)

    return image.memoized(("missing_module_imports",), build)


def _repository_module(image: Image, file, top: str) -> str | None:
    """The build context's module of that name beside the importing file or at the context
    root (`db_utils.py`), as _missing_own_modules finds it, or None."""
    try:
        folder = file.path.parent.relative_to(image.context_root).as_posix()
    except ValueError:
        return None
    modules = _context_modules(image)
    return next((modules[found] for found in (f"{folder}/{top}", f"./{top}") if found in modules), None)


def _gitignored_module(image: Image, file, top: str):
    """The `.gitignore` line that keeps a module of that name beside the importing file, or
    at the build context's root, out of git (`./config.py` of settings each user writes),
    or None."""
    for folder in dict.fromkeys((file.path.parent, image.context_root)):
        for candidate in (folder / f"{top}.py", folder / top):
            ignored = gitignored(image.workspace, candidate)
            if ignored is not None:
                return ignored
    return None


def _gitignored_module_finding(image: Image, imports: list[tuple]) -> Finding:
    """An import of a module git keeps out of the repository: it is there where the image is
    built by hand from a prepared checkout, not in a clean one (CI's); said at info, once
    for every file of the image that imports it (the others are related lines)."""
    file, item, ignored = imports[0]
    image.workspace.text(file.path, quiet=True)
    shown = ignored.ignore_file.relative_to(image.workspace.root).as_posix()
    related = []
    for other, other_item, _ in imports[1:]:
        image.workspace.text(other.path, quiet=True)
        span = Span(other_item.line, other_item.column, other_item.line, other_item.column + len("import"))
        related.append(Related(other.path, span, f"{other.image_path} imports it too"))
    return Finding(
        "DEP002",
        file.path,
        Span(item.line, item.column, item.line, item.column + len("import")),
        f"`{item.module}` is imported by {file.image_path} in the image, and {shown} keeps a module of that "
        f"name out of git (line {ignored.line}): the import works where that file was written before the "
        "build, and fails in an image built from a clean checkout (CI's)",
        "Commit a template of it and create the file in the build, or read the settings from the environment, "
        "so that a clean checkout builds a working image.",
        severity=Severity.INFO,
        related=tuple(related),
    )


def _import_finding(image: Image, file, item, why: str, fix: str) -> Finding:
    """DEP002 at the import: ``why`` nothing in the image serves it. In a Django migration
    it is said at info: a migration's RunPython code is history, run once by `migrate` and
    often kept after the package it used was dropped on purpose."""
    image.workspace.text(file.path, quiet=True)  # read now: suppression comments and the report need its text
    migration = _DJANGO_MIGRATION.search(file.image_path) is not None
    return Finding(
        "DEP002",
        file.path,
        Span(item.line, item.column, item.line, item.column + len("import")),
        f"`{item.module}` is imported by {file.image_path} in the image, but {why}"
        + ("; a migration runs it only when `migrate` applies it" if migration else ""),
        fix,
        severity=Severity.INFO if migration else None,
    )


_DJANGO_MIGRATION = lazy_compile(r"/migrations/\d{4}_[^/]*\.py$")


def _context_modules(image: Image) -> dict[str, str]:
    """``folder/name`` -> the context path of a Python module or package of that name, for
    every folder of the build context holding Python files (sent or ignored)."""

    def build() -> dict[str, str]:
        found: dict[str, str] = {}
        for entry in (*image.context.files, *image.context.excluded_files):
            path = entry.path if entry.path.startswith("./") else f"./{entry.path}"
            if not path.endswith(".py") or entry.is_symlink:
                continue
            parts = path.split("/")
            found.setdefault("/".join(parts[:-1]) + "/" + parts[-1][:-3], path[2:])
            for depth in range(1, len(parts) - 1):  # each package folder on the way
                found.setdefault("/".join(parts[: depth + 1]), "/".join(parts[1 : depth + 1]) + "/")
        return found

    return image.memoized(("context_modules",), build)


def _unresolved(scan, provided: set[str], first_party: set[str], answers: dict[tuple, list[str]]) -> list[tuple]:
    """Unconditional imports nothing in the image serves, with the known distributions
    that would serve them (imports of modules no listed distribution provides are left
    alone: dockerlint cannot be sure they are missing). ``answers`` remembers each
    import's answer for one image."""
    found = []
    for item in scan.imports or ():
        if not _unconditional(item):
            continue
        key = (item.module, item.names)
        if key not in answers:
            answers[key] = _would_provide(item.module, item.names, provided, first_party)
        if answers[key] and not _tried_first_is_there(item, provided, first_party):
            found.append((item, answers[key]))
    return found


def _tried_first_is_there(item, provided: set[str], first_party: set[str]) -> bool:
    """Whether the import is the `except ImportError:` fallback of imports the image serves
    (tflite-runtime installed: tensorflow's interpreter is never imported)."""
    return bool(item.fallback_for) and all(
        not _would_provide(module, (), provided, first_party) for module in item.fallback_for
    )


def _would_provide(module: str, names: tuple[str, ...], provided: set[str], first_party: set[str]) -> list[str]:
    """The known distributions that would serve an import nothing in the image serves."""
    top = module.split(".", 1)[0]
    if top in stdlib() or top.startswith("_") or top in first_party or top.endswith(("_pb2", "_pb2_grpc")):
        return []
    paths = [module] + [f"{module}.{name}" for name in names if name != "*"]
    if any(module_matches(path, served) for path in paths for served in _provided_near(provided, top)):
        return []
    return _owners(top, tuple(paths), generation())


def _provided_near(provided: set[str], top: str) -> list[str]:
    return [module for module in provided if module == top or module.startswith(top + ".")]


@lru_cache(maxsize=4096)
def _owners(top: str, paths: tuple[str, ...], generation: int) -> list[str]:
    """Distributions that provide these import paths (``generation`` keys the cache to the
    configured ``known-modules``)."""
    found: list[str] = []
    for module, names in module_owners().items():
        if module.split(".", 1)[0] != top:
            continue
        if any(path == module or path.startswith(module + ".") for path in paths):
            found += [name for name in names if name not in found and not lookup(name).dev]
    return sorted(found, key=lambda name: (len(name), name))


def _code_under_volume(image: Image, analysis: Analysis) -> bool:
    """A compose volume over the code replaces it at run time with whatever is mounted
    (a repository folder bound there is read as the code: it is no unknown)."""
    bound = {target for target, _ in image.mounts}
    unknown = [volume.rstrip("/") + "/" for volume in image.volumes if posixpath.normpath(volume) not in bound]
    return any(file.image_path.startswith(volume) for file in analysis.code.files for volume in unknown)


# -- DEP003 ------------------------------------------------------------------------------


def _compiled_for_another(analysis: Analysis, name: str) -> bool:
    """Whether a compiled requirements file's `# via` notes say a package that is no
    development tool needs ``name`` (jupyter-core `# via nbformat` in a `uv export`): the
    resolver put it there for that package, not as a tool of its own."""
    return any(
        name in needed and not lookup(parent).dev for parent, needed in analysis.installs.compiled_requires.items()
    )


def _dev_tools(image: Image, analysis: Analysis) -> Iterator[Finding]:
    if development_image(image) or _only_development_servers(image):
        return  # a test or development image (it starts `uvicorn --reload`): its tools are what it is for
    running = _categories_run(analysis.runtime_words)
    verdict = needed_by_service = None
    found: list[tuple[Installed, str]] = []  # the tools to report, with their category
    for item in analysis.installs.items:
        distribution = lookup(item.name)
        category = distribution.dev
        if category not in DEV_CATEGORIES or category in running:
            continue
        if category == "build" and not _no_build_after(image, item):
            continue  # it may serve a source build that runs after it
        if _imports(image, analysis, distribution.modules, by_service=True):
            continue  # the service itself imports it
        if any(_named_module(module) and module in analysis.mentions.names for module in distribution.modules):
            continue  # a string names it: INSTALLED_APPS, a middleware path, an include()
        if set(distribution.commands) & analysis.mentions.programs:
            continue  # the service runs it as a process (`create_subprocess_exec("pip-compile", ...)`)
        if verdict is None:
            verdict = _verdict(image, analysis)
            service = {name for name in verdict.used if not lookup(name).dev}
            needed_by_service = _closure(analysis, service)
        if item.name in needed_by_service:
            continue  # a package the service uses requires or loads it (papermill runs ipykernel)
        if _compiled_for_another(analysis, item.name):
            continue  # the lock's `# via nbformat` says a package that is no tool needs it
        if _brings_what_is_used(image, analysis, item.name):
            continue  # the only way a used package gets in (pytest-playwright brings playwright)
        found.append((item, category))
    if not found:
        return
    folded = _required_only_by_tools(analysis, found)
    for item, category in found:
        if item.name in folded:
            continue  # said with the tool that requires it (pyright's nodeenv)
        size, cost = _cost(analysis, verdict, item.name)
        with_it = [other for other, by in folded.items() if by == item.name]
        also = ""
        if with_it:
            lines = {other.name: other.span.line for other, _ in found if other.path == item.path}
            shown = ", ".join(f"`{name}`" + (f" (line {lines[name]})" if name in lines else "") for name in with_it)
            also = f", with {shown}, installed only for it"
        if category == "build":  # nothing after it builds from source: it can go
            help_text = (
                f"{_removal_fix(item).split('. ', 1)[0]}. If a package must be built from source, install "
                "the helper and build it in a builder stage, and copy only the result."
            )
            autofix = dep_fixes.removal(image, item)
        elif (leave_out := _group_install_option(image, item)) is not None:
            help_text = (
                f"It is in a dependency group already, which the image's install takes: install with "
                f"{leave_out} in the Dockerfile, and keep the group for CI and local work."
            )
            autofix = None
        else:
            help_text = (
                "Install it only where it runs: a requirements-dev.txt (or a dependency group) for CI and "
                "local work, or a separate test stage (`FROM runtime AS test`) that the final image does not "
                f"inherit. {_removal_fix(item).split('. ', 1)[0]} here."
            )
            autofix = dep_fixes.move_to_dev(image, item, dep_fixes.files_read(image))
        yield Finding(
            "DEP003",
            item.path,
            item.span,
            f"`{item.name}`{cost}, {DEV_CATEGORIES[category]}, is installed in the final image{also}; "
            "the service never runs it",
            help_text,
            size,
            autofix=autofix,
        )


def _required_only_by_tools(analysis: Analysis, tools: list[tuple[Installed, str]]) -> dict[str, str]:
    """The reported tools that another reported tool of another kind requires and nothing
    else installed does (pyright's nodeenv), with that tool: one finding says both. A
    plugin's host (pytest under pytest-asyncio) is a tool of its own."""
    kinds = {item.name: category for item, category in tools}
    folded: dict[str, str] = {}
    for item, category in tools:
        hosts = set(plugin_hosts(item.name))
        for other in sorted(_closure(analysis, {item.name}, loads=False) & set(kinds) - {item.name}):
            if other in folded or item.name in folded or other in hosts or kinds[other] == category:
                continue
            rest = analysis.installs.names - {item.name, other}
            if other not in _closure(analysis, rest, loads=False):  # no other install needs it
                folded[other] = item.name
    return folded


def _brings_what_is_used(image: Image, analysis: Analysis, name: str) -> bool:
    """Whether a package only ``name`` brings in (no other install requires it) is imported
    by the service's code or run by a command of the image: removing ``name`` removes it."""
    others = _closure(analysis, analysis.installs.names - {name}, loads=False)
    for other in _closure(analysis, {name}, loads=False) - {name} - others:
        distribution = lookup(other, analysis.versions.get(other))
        if set(distribution.commands) & analysis.words or (
            distribution.modules and _imports(image, analysis, distribution.modules, True)
        ):
            return True
    return False


def _group_install_option(image: Image, item: Installed) -> str | None:
    """How the install leaves out the dependency group of pyproject.toml (or category of a
    Pipfile) that ``item`` sits in (``poetry install --without dev``, ``uv sync --no-dev``),
    or None when it is in the project's own dependencies."""
    if item.kind != "pyproject":
        return None
    pyproject = image.workspace.pyproject(item.path)
    group = next((d.group for d in pyproject.dependencies if d.span == item.span), None) if pyproject else None
    if group is None or ":" not in group and group != "uv-dev":
        return None
    kind, _, name = group.partition(":")
    if kind == "pdm-dev" or kind == "group" and _installed_by(image, item) == "pdm":
        return "`pdm install --prod`"  # every dev group out (pdm-project.org, usage/dependency)
    if kind == "pipenv":
        return "`pipenv install` without `--dev`" if name == "dev-packages" else f"`--categories` not naming {name}"
    if kind == "poetry-group":
        return f"`poetry install --without {name}` (or `--only main`)"
    if kind == "group" or group == "uv-dev":
        return "`uv sync --no-dev`" if name in ("", "dev") else f"`uv sync --no-group {name}`"
    return None


def _installed_by(image: Image, item: Installed) -> str | None:
    """The project installer (uv, poetry, pdm) of the stage that installs ``item`` from its
    pyproject.toml: a PEP 735 group is left out by each tool's own option."""
    stage = image.stages[item.stage]
    for step in stage.runs():
        for project in project_installs(image, stage, step):
            if project.pyproject == item.path:
                return project.tool
    return None


def _no_build_after(image: Image, item) -> bool:
    """Whether no RUN of the final image after the command line that installs ``item``
    may build a package from source (only command-line installs are placed this way)."""
    if item.kind != "argument":
        return False
    place = (item.span.line, item.span.column)
    for stage in final_chain(image):
        for step in stage.runs():
            if step.instruction.span.line > item.span.line:
                if _SOURCE_BUILD.search(step.instruction.args):
                    return False
            elif step.instruction.span.line <= item.span.line <= step.instruction.span.end_line:
                # `pip install cython && pip install -r requirements.txt`: the same RUN goes on
                later = (command for command in step.commands if (command.span.line, command.span.column) > place)
                if any(_SOURCE_BUILD.search(" ".join(command.argv)) for command in later):
                    return False
    return True


def _named_module(module: str) -> bool:
    """Whether a string naming ``module`` names the module: ``debug_toolbar`` does, while
    ``black`` (a colour) or ``py`` (pytest's shim module) are words any text holds."""
    return "." not in module and "_" in module.strip("_")


def _categories_run(words: set[str]) -> set[str]:
    """Development categories of the tools the container itself runs (a test image runs
    pytest, a notebook image runs jupyter): their relatives belong there."""
    categories = set()
    for word in words:
        for name in command_owners().get(word, ()) + module_owners().get(word, ()):
            category = lookup(name).dev
            if category:
                categories.add(category)
    return categories


# -- DEP004 ------------------------------------------------------------------------------


def _heavy_variants(image: Image, analysis: Analysis) -> Iterator[Finding]:
    variants = {entry["name"]: entry for entry in heavy_variants()}
    final_stages = {stage.index for stage in final_chain(image)}
    for item in analysis.installs.items:
        entry = variants.get(item.name)
        if entry is None:
            continue
        if entry.get("compiles") and item.stage not in final_stages:
            continue  # compiled in a builder stage: no compiler in the final image
        if entry.get("unless_gui_calls") and not analysis.mentions.calls.isdisjoint(GUI_CALLS):
            continue  # the code opens windows: it needs the GUI build
        if entry.get("cpu_only") and _has_gpu(image):
            continue
        if not _lighter_exists(entry, analysis.versions.get(item.name), image.platforms):
            continue
        if not _release_at_least(analysis.versions.get(item.name), entry.get("heavy_from")):
            continue  # psycopg2 before 2.8 shipped its own wheels; tensorflow before 2.1 was CPU-only
        if entry.get("cpu_only") and _may_be_required_unseen(analysis, item) and item.name in required_by_some():
            continue  # a package dockerlint cannot read may require it by name: the swap would install both
        if not entry.get("compiles") and _required_by_another(analysis, item):
            continue  # ultralytics requires opencv-python by name: the swap would add a second cv2, saving nothing
        if not entry.get("compiles") and _unread_beside(image, analysis, item, entry["lighter"]):
            continue  # deepface 0.0.95, older than the release the index read, required tensorflow by name
        lighter = f"`{entry['lighter']}`" + (f" (or `{entry['also']}`)" if entry.get("also") else "")
        heavy, light = lookup(item.name).installed_bytes(), lookup(entry["lighter"]).installed_bytes()
        size = heavy - light if heavy and light and heavy > light else None
        only_heavy = _required_only_by_heavy(analysis, item.name, entry["lighter"])  # xgboost's NCCL
        if size is not None:
            size += only_heavy or 0
            saving = f", saving ~{human_size(size)} installed"
        else:  # the lighter one's own size unknown: what only the heavy one requires
            size = only_heavy
            saving = f", saving at least ~{human_size(size)} installed" if size else ""
        where = " on an image with no GPU" if entry.get("cpu_only") else ""
        yield Finding(
            "DEP004",
            item.path,
            item.span,
            f"`{item.name}` {entry['why']}{where}: {lighter} provides the same module{saving}",
            f"Install {lighter} instead of `{item.name}` (same import name, same API).",
            size,
            autofix=dep_fixes.swap(image, item, entry["lighter"]),
        )


def _required_only_by_heavy(analysis: Analysis, heavy: str, lighter: str) -> int | None:
    """Bytes of what ``heavy`` requires and ``lighter`` does not, that nothing else installed
    needs (xgboost's nvidia-nccl-cu12); None when any of it has no known size."""
    extra = set(lookup(heavy, analysis.versions.get(heavy)).requires) - set(lookup(lighter).requires)
    others = {item.name for item in analysis.installs.items if item.name != heavy}
    extra -= _closure(analysis, others, loads=False)
    sizes = [lookup(name).installed_bytes() for name in sorted(extra)]
    return sum(sizes) if extra and all(sizes) else None


def _lighter_exists(entry: dict, pinned: str | None, platforms: tuple[str, ...]) -> bool:
    """Whether the lighter variant is published for the pinned release (xgboost-cpu from
    2.1.0 on) and for every platform the image is built for."""
    if entry.get("amd64_only") and any(not platform.endswith("amd64") for platform in platforms):
        return False
    return _release_at_least(pinned, entry.get("since"))


def _release_at_least(pinned: str | None, release: str | None) -> bool:
    """Whether the pinned release (None: the newest) is ``release`` or later (no ``release``:
    any is)."""
    if not release or not pinned:
        return True
    from packaging.version import InvalidVersion, Version

    try:
        return Version(pinned) >= Version(release)
    except InvalidVersion:
        return False


def _has_gpu(image: Image) -> bool:
    if image.gpu:
        return True
    ref, _ = external_base(image, image.final)
    return bool(_CUDA_BASE.search(ref.raw))
