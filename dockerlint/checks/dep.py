"""What an image installs versus what its code uses (DEP001-DEP004).

One analysis per image serves the four codes: the distributions the final image holds
(``model.installed_names``), the code in it and what that code imports and mentions
(``model.code``), and the words of every command the image runs. A distribution is used
when any of these holds: its module is imported at run time (not only under
TYPE_CHECKING), its command or module is run (RUN, CMD, ENTRYPOINT, compose ``command``,
a shell or config file in the image, ``python -m``), a string names it
(``uvicorn.workers.UvicornWorker``, ``INSTALLED_APPS``), a connection URL or framework
setting names its driver, it is a plugin of an installed host, or an installed
distribution requires it, loads it, or asks for it through an extra.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from dockerlint.checks import check, dep_fixes
from dockerlint.checks.common import external_base, final_chain
from dockerlint.findings import Finding, human_size
from dockerlint.model import Image
from dockerlint.model.code import (
    ImageCode,
    Mentions,
    confirmed_imports,
    exact_scan,
    file_scan,
    image_code,
    mentions_in_text,
    merge_all,
)
from dockerlint.model.distributions import (
    Distribution,
    command_owners,
    generation,
    heavy_variants,
    lookup,
    module_matches,
    module_owners,
    plugin_hosts,
    required_somewhere,
    setting_strings,
    stdlib,
    tooling,
    url_drivers,
    url_schemes,
)
from dockerlint.model.installed_names import ImageInstalls, Installed, image_installs
from dockerlint.source import Span

DEV_CATEGORIES = {
    "test": "a test tool",
    "lint": "a linter or formatter",
    "typing": "a type checker or type stubs",
    "notebook": "a notebook tool",
    "docs": "a documentation tool",
    "debug": "a debugger or profiler",
}
# A final stage or Dockerfile with one of these words in its name is meant for development.
DEV_IMAGE_WORDS = re.compile(
    r"(?:^|[-_./])(dev|devel|develop|development|test|tests|testing|ci|lint|debug|notebook|jupyter)(?:$|[-_./])"
)
_CUDA_BASE = re.compile(r"cuda|nvidia|-gpu|gpu-", re.IGNORECASE)


@dataclass
class Analysis:
    installs: ImageInstalls
    code: ImageCode
    mentions: Mentions  # code, scripts, configs, ENV values, commands
    words: set[str]  # words of every command run at build or run time
    runtime_words: set[str]  # words of CMD, ENTRYPOINT, compose command
    imported: dict[str, list[str]]  # dotted import paths at run time, every file, by top-level name
    imported_by_service: dict[str, list[str]]  # the same, without tests and build scripts
    installed: set[str]  # named installs and everything they require (requires + extras)
    confirmed: bool = False  # whether the line scans' TYPE_CHECKING blocks were read by ast


@check("DEP001", "DEP002", "DEP003", "DEP004")
def installed_versus_imported(image: Image) -> Iterator[Finding]:
    if image.final is None:
        return
    analysis = _analyse(image)
    if analysis is None:
        return
    yield from _unused(image, analysis)
    yield from _missing(image, analysis)
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
    starts = {(item.name, item.extras) for item in installs.items} | {(name, ()) for name in installs.providers}
    installed = set(_installed(starts))
    return Analysis(installs, code, mentions, words, runtime_words, imported, by_service, installed)


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
    if any(module_matches(path, module) for module in modules for path in paths.get(module.split(".", 1)[0], ())):
        return True
    unsure = _by_top(analysis.code.imports.unsure)
    if analysis.confirmed or not any(
        module_matches(path, module) for module in modules for path in unsure.get(module.split(".", 1)[0], ())
    ):
        return False
    summary = confirmed_imports(image, analysis.code)
    analysis.imported, analysis.imported_by_service = _by_top(summary.run_time), _by_top(summary.by_service)
    analysis.confirmed = True
    return _imports(image, analysis, modules, by_service)


def _installed(start: set[tuple[str, tuple[str, ...]]], without: str | None = None) -> dict[str, set[str]]:
    """Every distribution the named installs put into the image (requirement and extra
    edges), each with the extras asked of it; ``without`` is left out with all that
    only it brings in."""
    found: dict[str, set[str]] = {}
    pending = [(name, extras) for name, extras in start if name != without]
    while pending:
        name, extras = pending.pop()
        known = found.get(name)
        if known is not None and set(extras) <= known:
            continue
        found.setdefault(name, set()).update(extras)
        for other in _requires(lookup(name), extras):
            if other != without:
                pending.append((other, ()))
    return found


def _requires(distribution: Distribution, extras) -> set[str]:
    names = set(distribution.requires)
    for extra in extras:
        names.update(distribution.extras.get(extra.lower().replace("_", "-"), ()))
    return names


def _needed_by_another(analysis: Analysis, name: str) -> bool:
    """Whether a distribution installed for another reason requires it, loads it or asks
    for it by an extra (cycles through ``name`` itself do not count)."""
    others = _installed({(item.name, item.extras) for item in analysis.installs.items}, without=name)
    return any(name in lookup(other).needs(tuple(extras)) for other, extras in others.items())


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
                    if keyword != "HEALTHCHECK":
                        runtime |= found
        if stage.steps:
            env_text += stage.steps[-1].env.values()
    for service in _compose_services(image):
        command = service.command
        if command:
            argvs = (
                [command] if isinstance(command, tuple) else [found.argv for found in parse_script(command).commands]
            )
            for argv in argvs:
                found = _argv_words(argv)
                words |= found
                runtime |= found
        env_text += service.environment.values()
    words |= runtime
    return words, runtime, "\n".join(env_text)


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


def _compose_services(image: Image) -> list:
    if image.compose_file is None or not image.services:
        return []
    from dockerlint.parse.compose import parse_compose

    loaded = image.workspace.text(image.compose_file, quiet=True)
    if loaded is None:
        return []
    return [service for service in parse_compose(loaded[0].text).services if service.name in image.services]


# -- DEP001 ------------------------------------------------------------------------------


def _use(image: Image, analysis: Analysis, distribution: Distribution) -> str | None:
    """Why the image uses the distribution, or None."""
    if _imports(image, analysis, distribution.modules):
        return "imported"
    if set(distribution.commands) & analysis.words:
        return "run as a command"
    tops = {module.split(".", 1)[0] for module in distribution.modules}
    dotted = set(distribution.modules)
    if tops & analysis.words and (dotted & analysis.words or not any("." in module for module in dotted)):
        return "run as a module"
    mentions = analysis.mentions
    if any("." not in module and module in mentions.names for module in distribution.modules):
        return "named in a string"
    name = distribution.name
    if any(name in url_drivers().get(driver, ()) for driver in mentions.drivers):
        return "named as a URL driver"
    if any(name in url_schemes().get(scheme, ()) for scheme in mentions.schemes):
        return "named by a connection URL"
    if any(name in setting_strings()[key] for key in mentions.settings):
        return "named by a framework setting"
    if _needed_by_another(analysis, name):
        return "required by another installed package"
    if set(plugin_hosts(name)) & analysis.installed:
        return "a plugin of an installed package"
    return None


def _unused(image: Image, analysis: Analysis) -> Iterator[Finding]:
    if not analysis.code.files:
        return  # no code to judge by
    unknown = bool(analysis.installs.unnamed) or any(
        not lookup(name).known for name in analysis.installs.names | analysis.installs.providers
    )
    for item in analysis.installs.items:
        distribution = lookup(item.name)
        if (
            not distribution.known
            or distribution.dev
            or item.name in tooling()
            or item.name in analysis.installs.project_names
            or not (distribution.modules or distribution.commands)
        ):
            continue
        if unknown and item.name in required_somewhere():
            continue  # a package whose requirements we do not know may need it
        if _use(image, analysis, distribution) is not None:
            continue
        size = distribution.size_mb * 1_000_000 if distribution.size_mb else None
        modules = ", ".join(f"`{module}`" for module in distribution.modules) or "no module"
        cost = f" (~{human_size(size)})" if size else ""
        yield Finding(
            "DEP001",
            item.path,
            item.span,
            f"`{item.name}`{cost} is installed in the image but nothing uses it: no code in the image "
            f"imports {modules}, no command runs it, and no installed package needs it",
            _removal_fix(item),
            size,
            autofix=dep_fixes.removal(image, item),
        )


def _removal_fix(item: Installed) -> str:
    where = {
        "requirements": f"Remove `{item.written}` from {item.path.name}",
        "argument": f"Remove `{item.written}` from this `pip install`",
        "pyproject": f"Remove `{item.written}` from the dependencies in {item.path.name}",
    }[item.kind]
    return (
        f"{where}. If it is used in a way dockerlint cannot see (a plugin loaded by name, code "
        "mounted at run time), keep it and add `# noqa: DEP001` on that line."
    )


# -- DEP002 ------------------------------------------------------------------------------


def _missing(image: Image, analysis: Analysis) -> Iterator[Finding]:
    installs = analysis.installs
    if installs.unnamed or image.volumes and _code_under_volume(image, analysis):
        return
    if any(not lookup(name).known for name in installs.providers):
        return  # its modules and requirements are a guess
    provided = {module for name in analysis.installed for module in lookup(name).modules}
    first_party = analysis.code.first_party
    answers: dict[tuple, list[str]] = {}  # the same import recurs in many files
    for module, names in analysis.code.imports.required:
        answers[module, names] = _would_provide(module, names, provided, first_party)
    if not any(answers.values()):
        return  # every import the service needs is served: no file to look at
    for file in analysis.code.files:
        if file.is_test:
            continue
        scan = file_scan(image, file)
        if scan is None or scan.imports is None:
            continue
        if not scan.exact and not _unresolved(scan, provided, first_party, answers):
            continue
        scan = exact_scan(image, file)
        if scan is None or scan.imports is None:
            continue
        reported: set[str] = set()
        for item, owners in _unresolved(scan, provided, first_party, answers):
            top = item.module.split(".", 1)[0]
            if top in reported:
                continue
            reported.add(top)
            image.workspace.text(file.path, quiet=True)  # read now: suppression comments and the report need its text
            shown = " or ".join(f"`{name}`" for name in owners[:3])
            yield Finding(
                "DEP002",
                file.path,
                Span(item.line, item.column, item.line, item.column + len("import")),
                f"`{item.module}` is imported by {file.image_path} in the image, but no installed "
                f"distribution provides it ({shown} would)",
                f"Add {shown} to the requirements the image installs, or make the import optional "
                "(`try: ... except ImportError:`) if the code can run without it.",
            )


def _unresolved(scan, provided: set[str], first_party: set[str], answers: dict[tuple, list[str]]) -> list[tuple]:
    """Unconditional imports nothing in the image serves, with the known distributions
    that would serve them (imports of modules no listed distribution provides are left
    alone: dockerlint cannot be sure they are missing). ``answers`` remembers each
    import's answer for one image."""
    found = []
    for item in scan.imports or ():
        if item.optional or item.type_checking or item.dynamic or item.level or not item.module:
            continue
        key = (item.module, item.names)
        if key not in answers:
            answers[key] = _would_provide(item.module, item.names, provided, first_party)
        if answers[key]:
            found.append((item, answers[key]))
    return found


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
    """A compose volume over the code replaces it at run time with whatever is mounted."""
    return any(
        file.image_path.startswith(volume.rstrip("/") + "/") for file in analysis.code.files for volume in image.volumes
    )


# -- DEP003 ------------------------------------------------------------------------------


def _dev_tools(image: Image, analysis: Analysis) -> Iterator[Finding]:
    final = image.final
    names = f"{final.name or ''} {image.target or ''} {image.dockerfile_path.name.lower()}"
    if DEV_IMAGE_WORDS.search(names):
        return
    running = _categories_run(analysis.runtime_words)
    for item in analysis.installs.items:
        distribution = lookup(item.name)
        category = distribution.dev
        if category not in DEV_CATEGORIES or category in running:
            continue
        if _imports(image, analysis, distribution.modules, by_service=True):
            continue  # the service itself imports it
        size = distribution.size_mb * 1_000_000 if distribution.size_mb else None
        yield Finding(
            "DEP003",
            item.path,
            item.span,
            f"`{item.name}`, {DEV_CATEGORIES[category]}, is installed in the final image; the service never runs it",
            "Install it only where it runs: a requirements-dev.txt (or a dependency group) for CI and "
            "local work, or a separate test stage (`FROM runtime AS test`) that the final image does not "
            f"inherit. {_removal_fix(item).split('. ', 1)[0]} here.",
            size,
            autofix=dep_fixes.move_to_dev(image, item, dep_fixes.files_read(image)),
        )


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
        if set(entry.get("unless_calls", ())) & analysis.mentions.calls:
            continue  # the code opens windows: it needs the GUI build
        if entry.get("cpu_only") and _has_gpu(image):
            continue
        lighter = f"`{entry['lighter']}`" + (f" (or `{entry['also']}`)" if entry.get("also") else "")
        size = entry["saving_mb"] * 1_000_000 if entry.get("saving_mb") else None
        saving = f", saving ~{human_size(size)}" if size else ""
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


def _has_gpu(image: Image) -> bool:
    if image.gpu:
        return True
    ref, _ = external_base(image, image.final)
    return bool(_CUDA_BASE.search(ref.raw))
