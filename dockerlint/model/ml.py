"""What an image does with ML: its GPU signal, the CUDA base it runs on, which torch build
each pip install brings, and the model downloads its RUN instructions perform.

The MDL and GPU checks ask these questions; the facts they rest on (packages that pull
torch, CPU indexes, download calls, CUDA images) are data in ``knowledge/ml.toml``.
"""

from __future__ import annotations

import os
import posixpath
import re
import shlex
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from urllib.parse import unquote

from msgspec import Struct
from msgspec.structs import replace

from dockerlint.knowledge import load
from dockerlint.model import Image, ImageRef, StageModel, coupling
from dockerlint.model.baseimage import BaseImage, base_image
from dockerlint.model.image import Step, context_source
from dockerlint.model.installed_names import project_selections
from dockerlint.model.installed_projects import (
    exported_project,
    lock_requirements,
    locked_reach,
    locked_versions,
    project_selection,
    reach,
)
from dockerlint.model.installs import Install, with_values, wrapper_words
from dockerlint.model.pyenv import isolated_venv, libc
from dockerlint.model.queries import compose_services, external_base, final_chain, stage_of, truthy
from dockerlint.parse.python import Call
from dockerlint.regex import glob_match, lazy_compile
from dockerlint.source import Span
from dockerlint.urls import split_url, url_host


def ml() -> dict:
    return load("ml")


def spacy_pipeline(name: str) -> bool:
    """Whether a distribution (``en-core-web-sm``) or module is a spaCy pipeline package: its
    weights and a loader, needing nothing but spaCy (ml.toml [spacy_models])."""
    return _spacy_pipeline_name().match(name.replace("-", "_")) is not None


@cache
def _spacy_pipeline_name() -> re.Pattern[str]:
    return re.compile(ml()["spacy_models"]["name_regex"])


# -- CUDA base images and the GPU signal ------------------------------------------------


class CudaImage(Struct, frozen=True):
    ref: ImageRef
    version: tuple[int, int] | None  # CUDA major.minor from the tag, when it says
    devel: bool
    full: bool  # carries the CUDA libraries (runtime, cudnn, devel), not just cudart
    has_torch: bool
    runtime_twin: bool = False  # its -devel tags have -runtime twins


def cuda_image(ref: ImageRef) -> CudaImage | None:
    """The CUDA facts of a base image, or None when it is no CUDA image (or unknown)."""
    facts = base_image(ref)
    if facts is None or not facts.is_cuda:
        return None
    return CudaImage(ref, facts.cuda, facts.devel, facts.full_cuda, facts.torch is not None, facts.runtime_twin)


def final_cuda(image: Image) -> tuple[CudaImage, StageModel] | None:
    """The CUDA image the final stage is built on (following FROM <stage>), with the stage
    whose FROM names it."""
    if image.final is None:
        return None
    ref, stage = external_base(image, image.final)
    found = cuda_image(ref)
    return (found, stage) if found else None


def gpu_signal(image: Image) -> str | None:
    """Why the image is believed to run on a GPU, or None: a CPU-only image. Config
    ``gpu = false`` wins over every other signal; then compose or config, a CUDA base
    image, deployment files and the code itself (model/gpu_signals.py). Walking the
    repository costs: ask only when there is something to report."""
    if image.gpu is False:
        return None
    if image.gpu:
        return "a GPU reservation (compose or config)"
    found = final_cuda(image)
    if found is not None:
        return f"the CUDA base image `{found[0].ref.raw}`"
    from dockerlint.model.gpu_signals import gpu_evidence

    return gpu_evidence(image)


# -- what pip installs --------------------------------------------------------------------


class PipRequest(Struct, frozen=True):
    """One distribution a pip install asks for, where it is written and which indexes the
    command sees."""

    name: str  # canonical
    extras: tuple[str, ...]
    specifier: str  # "==2.5.1+cpu", "" when none
    url: str | None
    text: str  # as written
    path: Path  # the Dockerfile or the requirements file
    span: Span


class PipCommand(Struct, frozen=True):
    """A ``pip install``, ``uv pip install`` or ``uv sync``; requests of a local project it
    installs point at the project's pyproject.toml, the command at its Dockerfile line."""

    stage: StageModel
    step: Step
    span: Span  # the command in the Dockerfile
    requests: tuple[PipRequest, ...]
    indexes: tuple[str, ...]  # index URLs and find-links from options, env, requirement files, tool.uv
    torch_backend: str | None  # uv's --torch-backend / UV_TORCH_BACKEND
    compiles: bool = True  # writes a .pyc beside each .py it installs (pip does unless --no-compile; uv only if asked)
    locked_torch: str | None = None  # the torch release a project's lock file pins (uv.lock, Pipfile.lock)
    lock_pullers: tuple[str, ...] = ()  # requests whose locked requirements bring torch (uv.lock, poetry.lock)


def _compiles(tool: str, options, env: dict) -> bool:
    """Whether an install writes bytecode: pip does unless told not to; uv and poetry's
    installer only when asked (``--compile-bytecode``, ``UV_COMPILE_BYTECODE``, ``--compile``)."""
    if tool == "pip":
        return "--no-compile" not in options
    if tool == "uv":
        asked = "--compile-bytecode" in options or "--compile" in options
        return asked or truthy(env.get("UV_COMPILE_BYTECODE"))
    return "--compile" in options


_INDEX_ENV = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL",
    "UV_INDEX",
    "UV_DEFAULT_INDEX",
    "UV_FIND_LINKS",
)
_INDEX_OPTIONS = ("--index-url", "--extra-index-url", "--find-links", "--index", "--default-index")


def install_stages(image: Image) -> list[StageModel]:
    """Stages whose pip installs reach the final image, each chain root first: the final
    stage and its parents, and stages (with their parents) whose Python environment the
    final chain copies (``COPY --from=builder /opt/venv``)."""
    chain = list(reversed(final_chain(image)))
    wanted: list[StageModel] = []
    for stage in chain:
        for copy in stage.copies:
            if copy.from_stage is not None and any(_python_location(s.value) for s in copy.sources):
                source = image.stages[copy.from_stage]
                for member in _ancestry(image, source):
                    if member not in wanted and member not in chain:
                        wanted.append(member)
    return wanted + chain


def _ancestry(image: Image, stage: StageModel) -> list[StageModel]:
    found = []
    while stage is not None and stage not in found:
        found.append(stage)
        stage = image.stages[stage.parent] if stage.parent is not None else None
    return list(reversed(found))


def _python_location(path: str) -> bool:
    path = "/" + path.strip().lstrip("/")
    if path == "/" or any(part in path for part in ("venv", "site-packages", "dist-packages", "/.local")):
        return True
    return path.startswith(("/usr/local", "/opt", "/install", "/usr/lib/python"))


def pip_commands(image: Image, stage: StageModel) -> tuple[PipCommand, ...]:
    """Every ``pip install`` / ``uv pip install`` / ``uv sync`` of a stage with what it
    asks for (worked out once per image: many rules ask)."""
    return image.memoized(("pip_commands", stage.index), lambda: tuple(_pip_commands(image, stage)))


def _pip_commands(image: Image, stage: StageModel) -> Iterator[PipCommand]:
    for step in stage.steps:
        for install in step.installs:
            if install.family == "pip" and install.action == "install":
                yield _pip_command(image, stage, step, install)
        for project, pyproject, dependencies in project_selections(image, stage, step):
            yield _project_command(image, stage, step, project, pyproject, dependencies)


def _argv_indexes(env: dict, argv: tuple[str, ...]) -> list[str]:
    indexes = [env[name] for name in _INDEX_ENV if env.get(name)]
    for i, word in enumerate(argv):
        name, has_value, value = word.partition("=")
        if name in _INDEX_OPTIONS or name in ("-i", "-f"):
            if has_value:
                indexes.append(value)
            elif i + 1 < len(argv):
                indexes.append(argv[i + 1])
    return indexes


def _pip_command(image: Image, stage: StageModel, step: Step, install: Install) -> PipCommand:
    env = dict(step.env)
    env.update(install.command.command.assignments)
    indexes = _argv_indexes(env, install.command.argv)
    requests: list[PipRequest] = []
    pullers: list[str] = []
    for position, argument in enumerate((*install.packages, *install.editables)):
        path, _, extras = argument.value.partition("[")
        project = _local_pyproject(image, stage, step, path)
        if project is not None:
            own = _project_requests(image, project, _extras(extras.rstrip("]").split(",")))
            requests += own
            pullers += _lock_pullers(image, project, own)
            if install.tool == "uv":  # pip reads no [tool.uv]
                indexes += _uv_indexes(image, project, sources=not install.has("--no-sources"))
            continue
        is_package = position < len(install.packages)  # not `-e url` (by place: an `in` test was quadratic)
        value = with_values(argument.value, env)
        parsed = _parse_requirement(value) if is_package else None
        if parsed is not None:
            name, extras, specifier, url = parsed
            requests.append(PipRequest(name, extras, specifier, url, value, image.dockerfile_path, argument.span))
    locked_torch = None
    for ref in install.requirements:
        if ref.constraint:
            continue
        if ref.context_path is None or not os.path.isfile(ref.context_path):
            exported = exported_project(image, stage, step, ref.image_path)
            selection = project_selection(image, exported) if exported is not None else None
            if selection is not None:  # `poetry export` wrote it: the lock's versions of what it exports
                pyproject, dependencies = selection
                requests += _dependency_requests(exported.pyproject, dependencies)
                if "--without-urls" not in exported.options:
                    indexes += _poetry_indexes(pyproject)
                locked_torch = locked_torch or locked_versions(image, exported).get("torch")
            continue
        loaded = image.workspace.requirements(ref.context_path)
        options = loaded.options
        indexes += [url for url in (options.index_url, *options.extra_index_urls, *options.find_links) if url]
        for requirement in loaded.requirements:
            if requirement.constraint or requirement.name is None or requirement.editable:
                continue
            if requirement.marker and not _marker_holds(requirement.marker):
                continue
            requests.append(
                PipRequest(
                    requirement.name,
                    tuple(requirement.extras),
                    requirement.specifier,
                    requirement.url,
                    requirement.text,
                    requirement.path or ref.context_path,
                    requirement.span,
                )
            )
    backend = install.option("--torch-backend") or env.get("UV_TORCH_BACKEND")
    compiles = _compiles(install.tool, install.options, env)
    return PipCommand(
        stage, step, install.span, tuple(requests), tuple(indexes), backend or None, compiles, locked_torch,
        tuple(pullers),
    )  # fmt: skip


def _lock_pullers(image: Image, pyproject: Path, requests: list[PipRequest]) -> list[str]:
    """The project's dependencies that the index cannot read and that its own lock file
    (which `pip install .` does not follow) records as bringing torch: whisperx."""
    from dockerlint.model.distributions import requirements_known

    unread = [request.name for request in requests if not requirements_known(request.name)]
    if not unread:
        return []
    requires = lock_requirements(image, pyproject.parent)
    return [name for name in unread if "torch" in reach(requires, name)]


def _dependency_requests(path, dependencies) -> list[PipRequest]:
    return [
        PipRequest(
            dependency.name, dependency.extras, dependency.specifier, None, dependency.text, path, dependency.span
        )
        for dependency in dependencies
    ]


def _project_command(image: Image, stage: StageModel, step: Step, project, pyproject, dependencies) -> PipCommand:
    """``uv sync`` or ``poetry install``: the dependencies the tool chooses (groups such as
    uv's default ``dev`` or ``--all-groups``, poetry's non-optional groups, extras), with
    the tool's own index settings from pyproject.toml."""
    path = project.pyproject
    requests = tuple(_dependency_requests(path, dependencies))
    argv = project.command.argv if project.command is not None else ()
    indexes = _argv_indexes(project.env, argv)
    if project.tool == "uv":
        indexes += _uv_indexes(image, path, sources="--no-sources" not in project.options)
    else:
        indexes += _poetry_indexes(pyproject)
    span = project.command.span if project.command is not None else step.instruction.span
    backend = project.env.get("UV_TORCH_BACKEND") if project.tool == "uv" else None
    compiles = _compiles(project.tool, project.options, project.env)
    locked_torch = locked_versions(image, project).get("torch")
    pullers = tuple(
        request.name for request in requests if locked_torch and "torch" in locked_reach(image, project, request.name)
    )
    return PipCommand(stage, step, span, requests, tuple(indexes), backend or None, compiles, locked_torch, pullers)


def _poetry_indexes(pyproject) -> list[str]:
    """Poetry sources searched for the torch family: sources that are not ``explicit``,
    and sources a torch-family dependency names (``torch = {source = "pytorch-cpu"}``)."""
    poetry = pyproject.tool.get("poetry")
    if not isinstance(poetry, dict):
        return []
    sources = [
        entry for entry in poetry.get("source") or () if isinstance(entry, dict) and isinstance(entry.get("url"), str)
    ]
    urls = [entry["url"] for entry in sources if entry.get("priority") != "explicit"]
    named = {entry.get("name"): entry["url"] for entry in sources}
    tables = [poetry.get("dependencies")]
    tables += [group.get("dependencies") for group in (poetry.get("group") or {}).values() if isinstance(group, dict)]
    for table in tables:
        for name, value in table.items() if isinstance(table, dict) else ():
            if is_torch(name.lower().replace("_", "-")):
                for entry in value if isinstance(value, list) else [value]:
                    if isinstance(entry, dict) and entry.get("source") in named:
                        urls.append(named[entry["source"]])
    return urls


def _extras(words) -> tuple[str, ...]:
    return tuple(word.strip() for word in words if word.strip())


def _local_pyproject(image: Image, stage: StageModel, step: Step, path: str) -> Path | None:
    """The build-context pyproject.toml of a local project argument (``.``, ``./svc``,
    ``/app``), found through COPY and WORKDIR; None for anything else."""
    if not (path in (".", "..") or path.startswith(("./", "../", "/"))):
        return None
    image_path = posixpath.normpath(posixpath.join(step.workdir or "/", path, "pyproject.toml"))
    source = context_source(image, stage, image_path, step.index)
    return source if source is not None and os.path.isfile(source) else None


def _project_requests(image: Image, path: Path, extras: tuple[str, ...]) -> list[PipRequest]:
    """The project's (or poetry's main) dependencies and the chosen optional ones, never
    dev groups, at their lines in pyproject.toml."""
    pyproject = image.workspace.pyproject(path)
    if pyproject is None:
        return []
    requests = []
    for dependency in pyproject.dependencies:
        group = dependency.group
        wanted = group in ("project", "poetry") or (
            group.startswith("optional:") and ("*" in extras or group.partition(":")[2] in extras)
        )
        if not wanted or dependency.name is None or dependency.name == pyproject.name:
            continue
        if dependency.marker and not _marker_holds(dependency.marker):
            continue
        requests.append(
            PipRequest(
                dependency.name, dependency.extras, dependency.specifier, None, dependency.text, path, dependency.span
            )
        )
    return requests


def _uv_indexes(image: Image, path: Path, sources: bool) -> list[str]:
    """Index URLs uv uses for the torch family of the project at ``path`` (pip reads no
    ``[tool.uv]``): indexes that ``[tool.uv.sources]`` pins torch to, and indexes that are
    not ``explicit`` (uv searches them before PyPI)."""
    pyproject = image.workspace.pyproject(path)
    uv = pyproject.tool.get("uv") if pyproject is not None else None
    if not isinstance(uv, dict):
        return []
    declared = [
        entry for entry in uv.get("index") or () if isinstance(entry, dict) and isinstance(entry.get("url"), str)
    ]
    urls = [entry["url"] for entry in declared if not entry.get("explicit")]
    named = {entry.get("name"): entry["url"] for entry in declared}
    source_table = uv.get("sources") if sources and isinstance(uv.get("sources"), dict) else {}
    for name, source in source_table.items():
        if not is_torch(name.lower().replace("_", "-")):
            continue
        for entry in source if isinstance(source, list) else [source]:
            if isinstance(entry, dict) and entry.get("index") in named:
                if not entry.get("marker") or _marker_holds(str(entry["marker"])):
                    urls.append(named[entry["index"]])
    return urls


def _parse_requirement(text: str) -> tuple[str, tuple[str, ...], str, str | None] | None:
    """(canonical name, extras, specifier, url) of a pip argument, or None for paths,
    ``.``, variables and anything else that names no distribution."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    if "://" in text:
        filename = unquote(split_url(text).path.rsplit("/", 1)[-1])
        if filename.endswith(".whl") and filename.count("-") >= 4:
            name, version = filename.split("-")[:2]
            return canonicalize_name(name), (), f"=={version}", text
        if " @ " not in text:
            return None
    if text.startswith((".", "/", "$", "-")) or text.endswith((".whl", ".tar.gz", ".zip")):
        return None
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return None
    if requirement.marker is not None and not _marker_holds(str(requirement.marker)):
        return None
    extras = tuple(sorted(requirement.extras))
    return canonicalize_name(requirement.name), extras, str(requirement.specifier), requirement.url


def _marker_holds(marker: str) -> bool:
    """Whether an environment marker may hold in a Linux x86_64 image (the machine
    PyTorch's CUDA wheels are for), whatever its Python (unknown: yes)."""
    from dockerlint.model.requested import linux_environments, may_hold

    return may_hold(marker, linux_environments(("x86_64",)))


# -- which torch a pip install brings ---------------------------------------------------------


class TorchInstall(Struct, frozen=True):
    """A pip command that brings CUDA torch: the requests responsible, the wheel's CUDA
    version when known, and whether torch comes only through another package."""

    command: PipCommand
    requests: tuple[PipRequest, ...]  # torch-family requests, or the pullers when there are none
    cuda: tuple[int, int] | None
    pulled: bool  # no torch-family request: a package that requires torch brings it
    default_index: bool  # from PyPI (not a cuXXX index or a +cuXXX version)
    replaces: BaseImage | None = None  # the base image's own torch, which this one replaces
    version: tuple[int, ...] | None = None  # torch's version when pinned (==X.Y[.Z])
    all_builds_page: str | None = None  # -f torch_stable.html: pip picks a +cuXXX build
    other_index: str | None = None  # an index besides PyPI and PyTorch's that torch may come from
    venv: str | None = None  # with ``replaces``: the venv, blind to the base's torch, it installs into

    @property
    def bundles_cuda(self) -> bool:
        """Before torch 1.13 the CUDA libraries are inside the torch wheel."""
        cutoff = tuple(int(part) for part in ml()["torch"]["bundled_before"].split("."))
        return self.version is not None and self.version[:2] < cutoff


_CUDA_LABEL = lazy_compile(r"\+cu(\d+)(\d)\b")
_CUDA_INDEX = lazy_compile(r"download\.pytorch\.org/whl/(?:nightly/)?cu(\d+)(\d)\b")


def is_torch(name: str) -> bool:
    return name in ml()["torch"]["family"]


def pulls_torch(request: PipRequest) -> bool:
    """Whether the request brings torch today: the package index's requirements of its
    newest version (with the extras asked for) reach torch."""
    from dockerlint.model.distributions import pulls

    return not is_torch(request.name) and pulls(request.name, request.extras, "torch")


def torch_cuda_size() -> int:
    """Installed bytes of the CUDA libraries PyPI's Linux torch brings: the nvidia-* wheels
    its newest version requires, from the package index (the notes' figure without it)."""
    from dockerlint.model.distributions import cuda_size

    return cuda_size("torch") or ml()["torch"]["cuda_libraries_size"]


def _newest(request: PipRequest) -> dict | None:
    """The row of ``torch.newest`` for the request (and its extras), if any."""
    for row in ml()["torch"]["newest"]:
        if row["name"] == request.name and all(extra in request.extras for extra in row.get("extras", ())):
            return row
    return None


def _upgrades(command: PipCommand) -> bool:
    """Whether the pip command upgrades what is installed already (``-U``, ``--upgrade``,
    ``--force-reinstall``)."""
    for install in command.step.installs:
        if install.span == command.span:
            return install.has("-U", "--upgrade", "--force-reinstall")
    return True  # not found: assume the worst, as before


def replaces_base_torch(request: PipRequest, base: BaseImage, upgrade: bool = True) -> bool:
    """An install of ``request`` replaces the torch the base image ships with another
    one: ``torch`` pinned to a version the base's does not match, or a package whose
    newest release (what pip picks when it is not pinned) needs a newer torch, whatever
    Python the image runs when that is unknown. A companion the base installs with its
    torch (torchvision in pytorch/pytorch), asked for without a version and without
    ``upgrade``, is already satisfied: pip installs nothing. Unknown versions: no."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import Version

    if base.torch_version is None:
        return False
    if not upgrade and not request.specifier and not request.url and request.name in base.companions:
        return False
    installed = Version(".".join(map(str, base.torch_version)))
    try:
        if request.name == "torch":
            return bool(request.specifier) and installed not in SpecifierSet(request.specifier)
        if request.specifier and coupling.coupled(request.name):
            # torchvision==0.17.0, xformers==0.0.16: each release requires one torch release
            allowed = coupling.torch_allowed(request.name, request.specifier)
            return allowed is not None and len(allowed[1]) == 1 and str(installed) not in allowed[0]
        if request.specifier or request.url:
            return False  # a pinned release: what it needs of torch is not in the table
        row = _newest(request)
        if row is None:
            return False
        needs = row["by_python"]
        if base.python:
            return base.python in needs and installed not in SpecifierSet(needs[base.python])
        known = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
        return all(python in needs and installed not in SpecifierSet(needs[python]) for python in known)
    except InvalidSpecifier:
        return False


def torch_installs(image: Image) -> tuple[TorchInstall, ...]:
    """pip commands of the stages that reach the final image that install CUDA torch, in
    build order. A command is skipped when it asks for a CPU build (CPU index, ``+cpu``,
    ``--torch-backend cpu``) or a ROCm or XPU build, on an arm64 platform (PyPI's aarch64
    torch is CPU-only), or when an earlier install in the same stage chain already put
    torch in place."""
    return image.memoized(("torch_installs",), lambda: tuple(_torch_installs(image)))


def _torch_installs(image: Image) -> Iterator[TorchInstall]:
    settings = ml()["torch"]
    for stage_list in _chains(image):
        root = stage_list[0]
        base = base_image(root.base) if root.parent is None else None
        base_torch = base if base is not None and base.torch else None
        torch_present = base_torch is not None  # the base image's torch satisfies what needs torch
        for stage in stage_list:
            if _arm64(image, stage) or libc(image, stage) == "musl":
                # whatever it installs, it is not CUDA torch: PyPI's aarch64 torch is CPU-only, and
                # torch publishes no musllinux wheel (on Alpine the install fails: IMG003's)
                torch_present, base_torch = True, None
            for command in _with_pipeline_downloads(image, stage):
                family = [r for r in command.requests if is_torch(r.name)]
                pullers = [
                    r
                    for r in command.requests
                    if pulls_torch(r) or _transformer_pipeline(r.name) or r.name in command.lock_pullers
                ]
                if not family and not pullers:
                    continue
                if _cpu_build(command, family, settings) or _other_accelerator_build(command, family, settings):
                    torch_present, base_torch = True, None
                    continue
                if torch_present:
                    if base_torch is not None:
                        venv = isolated_venv(image, stage, command.step, command.span)
                        if venv is not None:  # the base image's torch is not there: all of it installs again
                            replacing = family or pullers
                        else:
                            upgrade = _upgrades(command)
                            replacing = [r for r in family + pullers if replaces_base_torch(r, base_torch, upgrade)]
                        if replacing:
                            cuda, default = _wheel_cuda(command, [r for r in replacing if is_torch(r.name)], settings)
                            pulled = not any(is_torch(r.name) for r in replacing)
                            yield TorchInstall(
                                command,
                                tuple(replacing),
                                cuda,
                                pulled,
                                default,
                                base_torch,
                                *_origin(command, replacing),
                                venv=venv,
                            )
                            base_torch = None
                    continue
                torch_present = True
                cuda, default = _wheel_cuda(command, family, settings)
                yield TorchInstall(
                    command, tuple(family or pullers), cuda, not family, default, None, *_origin(command, family)
                )


def _with_pipeline_downloads(image: Image, stage: StageModel) -> list[PipCommand]:
    """The stage's pip commands and, in build order among them, its `spacy download`s of
    transformer pipelines: spaCy installs the pipeline with pip from the default index,
    and what runs it requires torch (ml.toml [spacy_models])."""
    commands = list(pip_commands(image, stage))
    suffix = ml()["spacy_models"]["trf_suffix"]
    for download in downloads(image):
        model = download.model or ""
        if download.position[0] != stage.index or "spacy" not in download.what or not model.endswith(suffix):
            continue
        step = stage.steps[download.position[1]]
        request = PipRequest(model.replace("_", "-"), (), "", None, model, image.dockerfile_path, download.span)
        commands.append(PipCommand(stage, step, download.span, (request,), (), None))
    return sorted(commands, key=lambda command: (command.step.index, command.span.line, command.span.column))


def _transformer_pipeline(name: str) -> bool:
    """A spaCy transformer pipeline (`en-core-web-trf`): what runs it requires torch."""
    return spacy_pipeline(name) and name.replace("-", "_").endswith(ml()["spacy_models"]["trf_suffix"])


def _chains(image: Image) -> list[list[StageModel]]:
    """The install stages grouped into root-first chains (a builder chain, then the final)."""
    stages = install_stages(image)
    chains: list[list[StageModel]] = []
    for stage in stages:
        for chain in chains:
            if stage.parent is not None and chain[-1].index == stage.parent:
                chain.append(stage)
                break
        else:
            chains.append([stage])
    return chains


def _origin(command: PipCommand, family: list[PipRequest]) -> tuple:
    """(torch version, the all-builds page pip picks from, another index it may come from)."""
    settings = ml()["torch"]
    version = None
    for request in family:
        match = re.match(r"^===?(\d+(?:\.\d+)+)", request.specifier) if request.name == "torch" else None
        if match:
            version = tuple(int(part) for part in match.group(1).split("."))
    if version is None and command.locked_torch and re.fullmatch(r"\d+(\.\d+)+", command.locked_torch):
        version = tuple(int(part) for part in command.locked_torch.split("."))  # the lock file's torch
    if version is None:  # xformers==0.0.16 requires torch==1.13.1: that release is the one installed
        for request in family:
            allowed = coupling.torch_allowed(request.name, request.specifier) if request.specifier else None
            if allowed is not None and len(allowed[0]) == 1 and re.fullmatch(r"\d+(\.\d+)+", next(iter(allowed[0]))):
                version = tuple(int(part) for part in next(iter(allowed[0])).split("."))
    page = next((index for index in command.indexes for known in settings["all_builds_pages"] if known in index), None)
    other = None
    for index in command.indexes:
        host = url_host(index)
        if host and host not in settings["default_index_hosts"] and host != "download.pytorch.org":
            other = index
            break
    return version, page, other


def _arm64(image: Image, stage: StageModel) -> bool:
    platform = image.platform_of(stage).lower()
    return "arm64" in platform or "aarch64" in platform


def _cpu_build(command: PipCommand, family: list[PipRequest], settings: dict) -> bool:
    if any(cpu in index for index in command.indexes for cpu in settings["cpu_indexes"]):
        return True
    if command.torch_backend == "cpu":
        return True
    return any("+cpu" in request.specifier or "+cpu" in (request.url or "") for request in family)


def _other_accelerator_build(command: PipCommand, family: list[PipRequest], settings: dict) -> bool:
    """A torch built for AMD's ROCm or Intel's XPU: a GPU build, but no CUDA torch."""
    if any(other in index for index in command.indexes for other in settings["other_accelerator_indexes"]):
        return True
    labels = settings["other_accelerator_labels"]
    return any(label in request.specifier or label in (request.url or "") for request in family for label in labels)


def _wheel_cuda(command: PipCommand, family: list[PipRequest], settings: dict) -> tuple[tuple[int, int] | None, bool]:
    """The CUDA version of the torch wheel and whether it comes from the default index."""
    for request in family:
        match = _CUDA_LABEL.search(request.specifier + (request.url or ""))
        if match:
            return (int(match.group(1)), int(match.group(2))), False
    for index in command.indexes:
        match = _CUDA_INDEX.search(index)
        if match:
            return (int(match.group(1)), int(match.group(2))), False
    if any(page in index for index in command.indexes for page in settings["all_builds_pages"]):
        return None, False  # a +cuXXX build from PyTorch's page, CUDA version unknown
    backend = command.torch_backend or ""
    if backend.startswith("cu") and backend[2:].isdigit():
        return (int(backend[2:-1]), int(backend[-1])), False
    for request in family:
        if request.name == "torch":
            match = re.match(r"^===?(\d+)\.(\d+)", request.specifier)
            if match:
                version = settings["default_cuda"].get(f"{match.group(1)}.{match.group(2)}")
                if version:
                    major, minor = version.split(".")
                    return (int(major), int(minor)), True
    return None, True


def torch_fix_line(install: TorchInstall) -> str:
    """The line to add before the install: the torch family from the CPU index."""
    pins = []
    for request in install.requests if not install.pulled else ():
        pin = request.specifier if request.specifier.startswith("==") else ""
        pins.append(f"{request.name}{pin.split('+')[0]}")
    packages = " ".join(dict.fromkeys(pins)) or "torch"
    return f"RUN pip install --no-cache-dir --index-url {ml()['torch']['cpu_index_url']} {packages}"


# -- model downloads --------------------------------------------------------------------------


class Download(Struct, frozen=True):
    """A model download a RUN performs at build time: one per model and command (a
    tokenizer fetched beside its model's weights belongs to the same download)."""

    span: Span  # in the Dockerfile
    what: str  # "`huggingface-cli download`", "`snapshot_download(...)` in scripts/fetch.py"
    related: tuple[tuple[Path, Span, str], ...] = ()
    size: int | None = None
    model: str | None = None  # the model it names, when the build says
    # "weights", "tokenizer" (tokenizer/processor/config files), "data", or "package-data": data
    # a library reads, named package by package (NLTK's `punkt`), small and meant to be baked
    kind: str = "weights"
    also: tuple[str, ...] = ()  # other calls that fetch the same model in the same command
    caches: tuple[str, ...] = ()  # cache variables it fills (HF_HOME, TORCH_HOME, …)
    position: tuple[int, int] = (0, 0)  # (stage index, step index) of the instruction
    folder: str | None = None  # the folder it writes into, when the command or call names one
    family: str = ""  # the library family whose cache it fills by default ("hf", "torch", "nltk", ...)


class _Hit(Struct, frozen=True):
    what: str
    related: tuple[tuple[Path, Span, str], ...] = ()
    size: int | None = None
    model: str | None = None
    kind: str = "weights"
    caches: tuple[str, ...] = ()
    folder: str | None = None
    family: str = ""


_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
_RUNNERS = (("uv", "run"), ("poetry", "run"), ("pipenv", "run"), ("pdm", "run"), ("hatch", "run"))
_PY_VALUE_OPTIONS = ("-W", "-X", "--check-hash-based-pycs")
_SHELLS = ("sh", "bash", "ash", "dash", "zsh")


def downloads(image: Image) -> tuple[Download, ...]:
    """Model downloads in the RUN and ADD instructions of the stages the final image is
    made of (a builder stage that only hands files over is a deliberate bake)."""
    return image.memoized(("downloads",), lambda: tuple(_downloads(image)))


def stage_downloads(image: Image, stage: StageModel) -> tuple[Download, ...]:
    """The downloads of one stage's own RUN instructions: a builder's, whose files a
    `COPY --from` hands to the final image (not in ``downloads``: that is a deliberate bake)."""

    def build() -> tuple[Download, ...]:
        return tuple(
            download for step in stage.steps if step.keyword == "RUN" for download in _run_downloads(image, stage, step)
        )

    return image.memoized(("stage_downloads", stage.index), build)


def build_steps_that_may_download(image: Image) -> dict[tuple[int, int], frozenset[str]]:
    """(stage, step) of the final image's RUN instructions whose Python may download a model,
    with the cache variables of the loaders it may call: a module the program imports, at
    any level, calls a loader of the download table, even where the program reaches it in
    ways a reader cannot follow (a class picked by name at run time)."""
    return image.memoized(("build_steps_that_may_download",), lambda: dict(_may_download(image)))


def _may_download(image: Image) -> Iterator[tuple[tuple[int, int], frozenset[str]]]:
    for stage in final_chain(image):
        for step in stage.steps:
            if step.keyword != "RUN":
                continue
            caches = {
                name
                for command in step.commands
                for hit in _command_downloads(image, stage, step, command.argv, 0, command, everything=True)
                for name in hit.caches
            }
            if caches:
                yield (stage.index, step.index), frozenset(caches)


def startup_downloads(image: Image) -> tuple[Download, ...]:
    """Model downloads the final image's start command performs: the service's own code
    that its CMD/ENTRYPOINT runs (a script, a module, or the module an ASGI/WSGI server
    imports), read the way build-time Python is; each at the instruction that starts it."""
    return image.memoized(("startup_downloads",), lambda: tuple(_startup_downloads(image)))


# Servers that import the module their `module:app` argument names, and runners that run a
# script file, so that their argument is the Python the container starts with.
_APP_SERVERS = ("uvicorn", "gunicorn", "hypercorn", "daphne", "granian")
_SCRIPT_RUNNERS = {("streamlit", "run"), ("fastapi", "run"), ("fastapi", "dev"), ("chainlit", "run")}


def _startup_downloads(image: Image) -> Iterator[Download]:
    final = image.final
    if final is None:
        return
    found = _started(image)
    if found is None:
        return
    step, program = found
    hits = list(_command_downloads(image, final, step, program, depth=0))
    yield from _grouped(hits, step.instruction.span, (final.index, step.index))


def start_command(image: Image) -> tuple[Step, tuple[str, ...]] | None:
    """The last CMD or ENTRYPOINT of the final image and the command line the two make;
    for an image with neither, the command its compose services run it with (one command
    for all of them), at the final instruction."""
    last: dict[str, Step] = {}
    for stage in reversed(final_chain(image)):
        for step in stage.steps:
            if step.keyword in ("CMD", "ENTRYPOINT"):
                last[step.keyword] = step
    if not last:
        return _compose_start_command(image)
    words: list[str] = []
    for keyword in ("ENTRYPOINT", "CMD"):
        step = last.get(keyword)
        if step is None:
            continue
        args = step.instruction.json_args
        if args is None:
            try:
                args = shlex.split(step.instruction.args)
            except ValueError:
                return None
        words += list(args)
    if not words:
        return None
    return last.get("CMD") or last["ENTRYPOINT"], tuple(words)


def _compose_start_command(image: Image) -> tuple[Step, tuple[str, ...]] | None:
    """The one command the compose services that build the image run it with (entrypoint,
    then command), at the final instruction; None when they give none or disagree."""
    final = image.final
    commands = set()
    for service in compose_services(image):
        command = service.entrypoint or service.command
        if isinstance(command, str):
            try:
                command = tuple(shlex.split(command))
            except ValueError:
                return None
        if service.entrypoint and service.command:
            command = (*command, *(service.command if isinstance(service.command, tuple) else ()))
        if command:
            commands.add(command)
    if len(commands) != 1 or final is None or not final.steps:
        return None
    return final.steps[-1], commands.pop()


def start_may_download(image: Image) -> bool | None:
    """Whether the Python the final image starts may download a model: a loader of the
    download table anywhere in the modules it imports, at any level (a request handler's
    `pipeline(...)` included), that does not read a local path; None when the start
    command runs no Python dockerlint can follow, or a program the image does not hold
    (code a volume mounts at run time)."""
    return image.memoized(("start_may_download",), lambda: _start_may_download(image))


def _start_may_download(image: Image) -> bool | None:
    final = image.final
    found = _started(image) if final is not None else None
    if found is None:
        return None
    step, program = found
    stage = stage_of(image, step)
    rest = _python_args(program) or ()
    if rest[:1] == ("-m",) and len(rest) > 1:
        paths = list(_module_files(rest[1]))
    else:
        paths = [rest[0]] if rest and not rest[0].startswith("-") else []
    held = [
        source
        for path in paths
        if (
            source := context_source(
                image, stage, posixpath.normpath(posixpath.join(step.workdir or "/", path)), step.index
            )
        )
        and os.path.isfile(source)
    ]
    if not held:
        return None
    return next(_command_downloads(image, stage, step, program, depth=0, everything=True), None) is not None


def start_script_commands(image: Image) -> tuple[tuple[str, ...], ...]:
    """The commands of the shell script the final image's start command runs (`./start.sh`,
    `sh /app/entrypoint.sh`), read from the build context the COPY took it from; () when
    the start command runs no script of the repository."""
    return image.memoized(("start_script_commands",), lambda: tuple(_start_script_commands(image)))


def _start_script_commands(image: Image) -> Iterator[tuple[str, ...]]:
    from dockerlint.parse.shell import parse_script

    found = start_command(image)
    script = shell_script(found[1]) if found is not None else None
    if script is None:
        return
    step = found[0]
    stage = stage_of(image, step)
    image_path = posixpath.normpath(posixpath.join(step.workdir or "/", script))
    source = context_source(image, stage, image_path, step.index)
    loaded = image.workspace.text(source, quiet=True) if source is not None and os.path.isfile(source) else None
    if loaded is not None:
        for command in parse_script(loaded[0].text).commands:
            yield tuple(command.argv)


def started_program(image: Image) -> tuple[Step, str, str] | None:
    """What the final image's start command runs as Python: (the step, "script" or
    "module", the script's path or the module's dotted name); None when it is no Python
    command line (a shell script, `celery -A`, a server without a `module:app`)."""
    found = _started(image)
    rest = _python_args(found[1]) if found is not None else None
    if not rest or rest[0] in ("-c", "-"):
        return None
    if rest[0] == "-m":
        return (found[0], "module", rest[1]) if len(rest) > 1 else None
    return found[0], "script", rest[0]


def _started(image: Image) -> tuple[Step, tuple[str, ...]] | None:
    """The final image's start command as the Python command line it amounts to, with the
    instruction it is read at; None when it runs no Python dockerlint can name."""
    found = start_command(image)
    if found is None:
        return None
    step, argv = found
    program = _started_python(argv) or _flask_started(image, step, argv)
    return (step, program) if program is not None else None


# `flask run` finds the application in --app, else FLASK_APP, else wsgi.py, else app.py
# (Flask docs, "Application Discovery").
_FLASK_DEFAULT_MODULES = ("wsgi", "app")


def _flask_started(image: Image, step: Step, argv: tuple[str, ...]) -> tuple[str, ...] | None:
    """`flask run` (through `pipenv run` and the like) as the module it imports."""
    words = list(_shell_string_command(argv) or argv)
    for runner in _RUNNERS:
        if tuple(words[: len(runner)]) == runner:
            words = words[len(runner) :]
    if not words or posixpath.basename(words[0]) != "flask" or "run" not in words:
        return None
    named = step.env.get("FLASK_APP")
    for index, word in enumerate(words):
        if word in ("--app", "-A") and index + 1 < len(words):
            named = words[index + 1]
        elif word.startswith("--app="):
            named = word.split("=", 1)[1]
    if named:
        module = named.split(":", 1)[0].removesuffix(".py").replace("/", ".").strip(".")
        return ("python", "-m", module) if re.fullmatch(r"[\w.]+", module) else None
    stage = stage_of(image, step)
    for module in _FLASK_DEFAULT_MODULES:
        for path in (f"{module}.py", f"{module}/__init__.py"):
            source = context_source(image, stage, posixpath.join(step.workdir or "/", path), step.index)
            if source is not None and os.path.isfile(source):
                return ("python", "-m", module)
    return None


def _started_python(argv: tuple[str, ...]) -> tuple[str, ...] | None:
    """The Python command line a start command amounts to, or None."""
    argv = _shell_string_command(argv) or argv
    if _python_args(argv) is not None or argv[0].endswith(".py"):
        return argv
    for runner in _RUNNERS:  # `poetry run uvicorn app.main:app`: the server, in the project's environment
        if tuple(argv[: len(runner)]) == runner and len(argv) > len(runner):
            argv = argv[len(runner) :]
            break
    program = posixpath.basename(argv[0])
    if program in _APP_SERVERS:
        targets = [word for word in argv[1:] if ":" in word and not word.startswith("-") and "/" not in word]
        module = targets[0].split(":", 1)[0] if targets else None
        return ("python", "-m", module) if module and re.fullmatch(r"[\w.]+", module) else None
    if len(argv) > 2 and (program, argv[1]) in _SCRIPT_RUNNERS and argv[2].endswith(".py"):
        return ("python", argv[2])
    return None


def _downloads(image: Image) -> Iterator[Download]:
    for stage in reversed(final_chain(image)):
        for step in stage.steps:
            if step.keyword == "RUN":
                yield from _run_downloads(image, stage, step)
        for copy in stage.copies:
            if copy.is_add:
                for source in copy.sources:
                    if "://" in source.value and _model_url(source.value):
                        yield Download(source.span, f"`ADD {source.value}`", position=(stage.index, copy.step_index))


def _run_downloads(image: Image, stage: StageModel, step: Step) -> Iterator[Download]:
    position = (stage.index, step.index)
    downloaded = False
    for command in step.commands:
        if downloaded and command.command.fallback:
            continue  # `fetch big || fetch small`: the second runs only if the first failed
        hits = list(_command_downloads(image, stage, step, command.argv, depth=0, command=command))
        downloaded = downloaded or bool(hits)
        yield from _grouped(hits, command.span, position)
    # RUN python3 <<EOF: the heredoc body is the program.
    for heredoc in step.instruction.heredocs:
        if _heredoc_is_python(step, heredoc):
            hits = list(_program_hits(image, stage, step, heredoc.body, "the heredoc Python", heredoc.body_line))
            yield from _grouped(hits, step.instruction.span, position)


def _grouped(hits: list[_Hit], span: Span, position: tuple[int, int]) -> Iterator[Download]:
    """One download per model: calls naming the same model (its weights, its tokenizer)
    in one command are one download, reported at the first weights call."""
    groups: dict[str, list[_Hit]] = {}
    for index, hit in enumerate(hits):
        key = hit.model.lower() if hit.model else f"#{index}"
        groups.setdefault(key, []).append(hit)
    for members in groups.values():
        order = {"weights": 0, "data": 1, "tokenizer": 2, "package-data": 3}
        first = min(members, key=lambda hit: order.get(hit.kind, 0))
        others = [hit for hit in members if hit is not first]
        related = tuple(dict.fromkeys(item for hit in (first, *others) for item in hit.related))
        sizes = [hit.size for hit in members if hit.size]
        caches = tuple(dict.fromkeys(name for hit in members for name in hit.caches))
        yield Download(
            span,
            first.what,
            related,
            max(sizes) if sizes else None,
            first.model,
            first.kind,
            tuple(hit.what.split(" in ", 1)[0] for hit in others),
            caches,
            position,
            next((hit.folder for hit in members if hit.folder), None),
            first.family,
        )


def _heredoc_is_python(step: Step, heredoc) -> bool:
    """``RUN python3 <<EOF`` (or ``python -``), or ``RUN <<EOF`` with a Python shebang."""
    words = tuple(word for word in step.instruction.args.split() if "<<" not in word)
    if not words:
        first_line = heredoc.body.split("\n", 1)[0]
        return first_line.startswith("#!") and "python" in first_line
    rest = _python_args(words)
    return rest is not None and (not rest or rest[0] == "-")


def _python_args(argv: tuple[str, ...]) -> tuple[str, ...] | None:
    """The arguments after the interpreter's own options, if ``argv`` runs Python."""
    skipped = wrapper_words(argv)  # `sudo -E`, `env A=1`, `uv --directory api run --no-sync`
    words = list(argv[skipped:])
    if "run" in argv[:skipped] and words and words[0].endswith(".py"):
        return tuple(words)  # `uv run bot.py` runs the script with the project's Python
    if not words or not _PYTHON.match(posixpath.basename(words[0])):
        return None
    rest = words[1:]
    while rest and rest[0].startswith("-") and rest[0] not in ("-c", "-m", "-"):
        if rest[0].startswith(("-c", "-m")) and len(rest[0]) > 2:
            return (rest[0][:2], rest[0][2:], *rest[1:])
        rest = rest[2:] if rest[0] in _PY_VALUE_OPTIONS else rest[1:]
    return tuple(rest)


def _command_downloads(image, stage, step, argv, depth, command=None, everything=False) -> Iterator[_Hit]:
    """A hit for each download one command performs (``everything``: see ``follow``)."""
    data = ml()["downloads"]
    if not argv:
        return
    program = posixpath.basename(argv[0])
    words = (program, *argv[1:])
    for pattern in data["commands"]:
        if tuple(words[: len(pattern)]) == tuple(pattern):
            yield _cli_hit(argv, len(pattern))
            return
    if program in data["fetchers"]:
        for word in argv[1:]:
            if _model_url(word) or (_has_weight_extension(word) and ("://" in word or program in ("wget", "curl"))):
                yield _Hit(f"`{program} {word}`")
                return
    if program == "git" and len(argv) > 2 and argv[1] == "clone":
        for word in argv[2:]:
            if "://" in word and url_host(word) in data["clone_hosts"]:
                yield _Hit(f"`git clone {word}`")
                return
    if program in data["model_clis"]:
        hit = _model_cli_hit(argv, data["model_clis"][program])
        if hit is not None:
            yield hit
        return
    rest = _python_args(argv)
    if rest is not None:
        yield from _python_downloads(image, stage, step, rest, depth, command, everything)
        return
    if argv[0].endswith(".py"):  # ./download.py, run through its shebang
        yield from _script_downloads(image, stage, step, argv[0], depth, shell=False, everything=everything)
        return
    if depth < 2:
        script = shell_script(argv)
        if script is not None:
            yield from _script_downloads(image, stage, step, script, depth, shell=True, everything=everything)


def _cli_hit(argv: tuple[str, ...], length: int) -> _Hit:
    """A download command (``huggingface-cli download X``, ``spacy download X``)."""
    words = [word for word in argv[length:] if not word.startswith("-")]
    model = words[0] if words else None
    program = posixpath.basename(argv[0])
    sizes = "spacy" if program == "spacy" else "huggingface"
    caches = _cli_caches(program, argv)
    family = {"huggingface-cli": "hf", "hf": "hf", "ollama": "ollama", "spacy": "spacy"}.get(program, "")
    return _Hit(f"`{' '.join(argv[: length + 1])}`", (), model_size(sizes, model), model, caches=caches, family=family)


def _cli_caches(program: str, argv: tuple[str, ...]) -> tuple[str, ...]:
    families = ml()["caches"]["families"]
    if program in ("huggingface-cli", "hf") and not any(word.startswith("--local-dir") for word in argv):
        return tuple(families["hf"])
    if program == "ollama":
        return tuple(families["ollama"])
    return ()


def _model_cli_hit(argv: tuple[str, ...], table: dict) -> _Hit | None:
    """A model's own command line run at build (``whisper --model small warmup.wav``):
    given an input, it fetches the model (named, or its default) before anything else;
    ``--help`` or no input stops it first."""
    model = table.get("default")
    inputs = []
    skip = False
    for i, word in enumerate(argv[1:], 1):
        if skip:
            skip = False
            continue
        name, has_value, value = word.partition("=")
        if name in table["help_options"]:
            return None
        if name in table["model_options"]:
            model = value if has_value else (argv[i + 1] if i + 1 < len(argv) else model)
        if word.startswith("-"):
            skip = not has_value  # every option of these programs takes a value
        else:
            inputs.append(word)
    if not inputs:
        return None
    shown = " ".join(argv[:6]) + (" …" if len(argv) > 6 else "")
    caches = tuple(ml()["caches"]["families"].get(table.get("cache", ""), ()))
    if any(word.partition("=")[0] in table.get("targets", ()) for word in argv):
        caches = ()
    return _Hit(f"`{shown}`", (), model_size(table.get("sizes", ""), model), model, caches=caches)


_SHELL_VARIABLE = lazy_compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def _shell_expanded(program: str, step, command=None) -> str:
    """A ``python -c`` program as Python gets it: the shell has put the build's ARG and ENV
    values in place of ``${NAME}`` (an ARG without a value is empty: `SentenceTransformer('')`
    loads nothing), unless the program was single-quoted. Unknown names are left as written."""
    if "$" not in program:
        return program
    if command is not None and any(
        word.value == program and word.raw.startswith("'") for word in command.command.words
    ):
        return program
    env = dict(step.env)
    return _SHELL_VARIABLE.sub(lambda match: env.get(match[1] or match[2], match[0]), program)


def _python_downloads(image, stage, step, rest, depth, command=None, everything=False) -> Iterator[_Hit]:
    data = ml()["downloads"]
    if not rest or rest[0] == "-":
        return  # stdin: a heredoc is handled by the caller
    if rest[0] == "-c" and len(rest) > 1:
        code = _shell_expanded(rest[1], step, command)
        yield from _program_hits(image, stage, step, code, "`python -c`", everything=everything)
        return
    if rest[0] == "-m" and len(rest) > 1:
        module, args = rest[1], rest[2:]
        for pattern in data["python_modules"]:
            if module == pattern[0] and tuple(args[: len(pattern) - 1]) == tuple(pattern[1:]):
                words, folder = _operands(args[len(pattern) - 1 :])
                model = words[0] if words else None
                sizes = "spacy" if module == "spacy" else "huggingface"
                corpora = module in data["data_modules"]
                caches = tuple(ml()["caches"]["families"]["nltk"]) if corpora and folder is None else ()
                kind = "data" if corpora else "weights"
                if module == "nltk.downloader" and words and not set(words) & set(data["nltk_collections"]):
                    kind = "package-data"
                shown = f"`python -m {' '.join((module, *args[: len(pattern)]))}`".replace(" `", "`")
                family = "nltk" if corpora else ("spacy" if module == "spacy" else "hf")
                yield _Hit(shown.rstrip(), (), model_size(sizes, model), model, kind, caches, folder, family)
                return
        for candidate in _module_files(module):
            found = list(
                _script_downloads(image, stage, step, candidate, depth, shell=False, module=True, everything=everything)
            )
            if found:
                yield from found
                return
        return
    yield from _script_downloads(image, stage, step, rest[0], depth, shell=False, everything=everything)


# Options of `python -m nltk.downloader` (and of the other download modules) that take a value.
_DOWNLOADER_VALUE_OPTIONS = ("-d", "--dir", "-u", "--url")


def _operands(words) -> tuple[list[str], str | None]:
    """The names a download module is given, and the folder its `-d DIR` names."""
    found, folder, skip = [], None, None
    for word in words:
        if skip is not None:
            folder = word if skip in ("-d", "--dir") else folder
            skip = None
        elif word in _DOWNLOADER_VALUE_OPTIONS:
            skip = word
        elif word.startswith("--dir="):
            folder = word.partition("=")[2]
        elif not word.startswith("-"):
            found.append(word)
    return found, folder


def _module_files(module: str) -> tuple[str, ...]:
    """The files, relative to the working folder, that `python -m module` may run."""
    relative = module.replace(".", "/")
    return (relative + ".py", relative + "/__init__.py", relative + "/__main__.py")


def _shell_string_command(argv: tuple[str, ...]) -> tuple[str, ...] | None:
    """The one command a `sh -c '...'` start command runs (`sh -c "uvicorn main:app --port
    ${PORT}"`, written so to expand a variable), `exec` dropped; None for anything else."""
    if len(argv) != 3 or posixpath.basename(argv[0]) not in _SHELLS or argv[1] != "-c":
        return None
    from dockerlint.parse.shell import parse_script

    commands = parse_script(argv[2]).commands
    if len(commands) != 1 or commands[0].nested:
        return None
    words = tuple(commands[0].argv)
    if words[:1] == ("exec",):
        words = words[1:]
    return words or None


def shell_script(argv: tuple[str, ...], depth: int = 0) -> str | None:
    """The script a start command runs: `sh start.sh`, `./start.sh`, or the one command of
    `bash -c "/app/start.sh"`."""
    inner = _shell_string_command(argv) if depth < 3 else None
    if inner is not None:
        return shell_script(inner, depth + 1)
    program = posixpath.basename(argv[0])
    if program in _SHELLS:
        args = [word for word in argv[1:] if not word.startswith("-")]
        if "-c" in argv or not args:
            return None
        return args[0]
    if argv[0].endswith(".sh") or argv[0].startswith("./"):
        return argv[0]
    return None


def _script_downloads(image, stage, step, path, depth, shell, module=False, everything=False) -> Iterator[_Hit]:
    """Downloads in a build-context file that the RUN executes."""
    image_path = posixpath.normpath(posixpath.join(step.workdir or "/", path))
    source = context_source(image, stage, image_path, step.index)
    if source is None or not os.path.isfile(source):
        return
    loaded = image.workspace.text(source, quiet=True)
    if loaded is None:
        return
    text = loaded[0].text
    shown = _display(image, source)
    if not shell:
        yield from _program_hits(
            image,
            stage,
            step,
            text,
            f"`{shown}`",
            path=source,
            image_path=image_path,
            module=module,
            everything=everything,
        )
        return
    from dockerlint.parse.shell import parse_script

    for command in parse_script(text).commands:
        for hit in _command_downloads(image, stage, step, command.argv, depth + 1, everything=everything):
            line = text.count("\n", 0, command.start) + 1
            here = (source, Span(line, 1, line, 1), f"runs {hit.what}")
            yield replace(hit, what=f"{hit.what} in `{shown}`", related=(here, *hit.related))


def _program_hits(
    image, stage, step, text, label, first_line=0, path=None, image_path=None, module=False, everything=False
) -> Iterator[_Hit]:
    """Downloads a Python program performs, in its own text and in the first-party modules
    it runs. ``first_line``: where a heredoc's text starts in the Dockerfile (0: the
    program is a file or ``-c`` code)."""
    from dockerlint.model.build_python import entry_span, follow
    from dockerlint.parse.python import scan_calls

    parsed = scan_calls(text)
    matched: dict[int, DownloadCall] = {}
    local = _local_path(image, stage, step)

    def matches(qualified: str, call: Call) -> bool:
        if call.settings and _variables_set(image, step) & set(call.settings):
            return False  # `os.getenv("MODEL", "bge-small")`, and the image sets MODEL: another model, or a path
        read = _with_field_defaults(image, step, call) if call.attributes else call
        found = _match_call(qualified, read, local)
        if found is not None:
            matched[id(call)] = found
        return found is not None

    here = path if path is not None else (image.dockerfile_path if first_line else None)
    reached = follow(
        image,
        stage,
        step,
        parsed,
        matches,
        path=path,
        image_path=image_path,
        whole=path is not None,
        module=module,
        everything=everything,
    )
    for item in reached:
        call = matched[id(item.call)]
        if item.path is None or item.path == path:
            what = f"`{call.written}` in {label}"
            spot = call.span(first_line or 1)
            related = ((here, spot, "the download call"),) if here is not None else ()
        else:
            entry = entry_span(item, first_line or 1)
            how = f"run by {label} through `{item.entry.function}(…)`" if item.entry else f"run when {label} imports it"
            what = f"`{call.written}` in `{_display(image, item.path)}` ({how})"
            related = ((item.path, call.span(), "the download call"),)
            if entry is not None and here is not None:
                related = ((here, entry, f"calls `{item.entry.function}`"), *related)
        yield _Hit(what, related, call.size, call.model, call.kind, call.caches, call.folder, call.family)


def _with_field_defaults(image: Image, step: Step, call: Call) -> Call:
    """``call`` with each settings attribute it reads (`settings.encoder.voice_encoder`)
    given the string default the image's settings classes declare for that field, when one
    class declares it and the image's environment sets no variable of that name (pydantic
    reads `VOICE_ENCODER`, or `ENCODER__VOICE_ENCODER` for a nested section)."""
    defaults = settings_defaults(image)
    if not defaults:
        return call
    variables = {name.lower() for name in _variables_set(image, step)}
    keywords = dict(call.keywords)
    first = call.first
    for keyword, field in call.attributes:
        value = defaults.get(field)
        if value is None or any(_names_field(name, field.lower()) for name in variables):
            continue
        if keyword == "" and first is None:
            first = value
        elif keyword and keywords.get(keyword) is None:
            keywords[keyword] = value
    return replace(call, first=first, keywords=tuple(keywords.items()))


def _names_field(variable: str, field: str) -> bool:
    """Whether pydantic-settings reads ``variable`` (lower-cased) for ``field``: its name, a
    nested section's `PARENT__FIELD`, or the name behind an `env_prefix` (`APP_FIELD`)."""
    if variable == field or variable.endswith("__" + field):
        return True
    return "__" not in variable and variable.endswith("_" + field)


def settings_defaults(image: Image) -> dict[str, str]:
    """Field -> the string default of the settings classes in the image's code (pydantic
    BaseSettings and the BaseModel sections they nest), for fields declared once."""
    return image.memoized(("settings_defaults",), lambda: _settings_defaults(image))


def _settings_defaults(image: Image) -> dict[str, str]:
    from dockerlint.model.code import image_code
    from dockerlint.parse.python import scan_calls

    found: dict[str, str | None] = {}
    for file in image_code(image).files:
        if file.is_test or not file.image_path.endswith(".py"):
            continue
        loaded = image.workspace.text(file.path, quiet=True)
        if loaded is None or not any(word in loaded[0].text for word in ("BaseSettings", "BaseModel", "dataclass")):
            continue
        for field, value in scan_calls(loaded[0].text).field_defaults:
            found[field] = value if found.get(field, value) == value else None  # declared twice: unknown
    return {field: value for field, value in found.items() if value is not None}


def _variables_set(image: Image, step: Step) -> set[str]:
    """The environment variables the program's environment sets: the instruction's ENV
    (and ARG), and the environment and env files of the compose services that run the image."""
    found = set(step.env)
    for service in compose_services(image):
        found |= set(service.environment)
        for env_file in service.env_files:
            for path in image.compose_files:
                loaded = image.workspace.text(path.parent / env_file, quiet=True)
                if loaded is not None:
                    found |= {line.split("=", 1)[0].strip() for line in loaded[0].text.splitlines() if "=" in line}
    return found


def _local_path(image: Image, stage: StageModel, step: Step):
    """Whether a relative model path exists in the image where the program runs."""

    def exists(value: str) -> bool:
        image_path = posixpath.normpath(posixpath.join(step.workdir or "/", value))
        source = context_source(image, stage, image_path, step.index)
        return source is not None and os.path.exists(source)

    return exists


def _display(image: Image, path: Path) -> str:
    try:
        return path.relative_to(image.context_root).as_posix()
    except ValueError:
        return path.name


# Files a model host also serves that are no model: its installer (`ollama.com/install.sh`).
_INSTALLER_SUFFIXES = (".sh", ".ps1", ".py", ".exe", ".deb", ".rpm")


def _model_url(text: str) -> bool:
    if "://" not in text:
        return False
    if split_url(text).path.lower().endswith(_INSTALLER_SUFFIXES):
        return False  # `curl -fsSL https://ollama.com/install.sh | sh` installs the program, no model
    host = url_host(text)
    hosts = ml()["downloads"]["hosts"]
    return any(host == known or host.endswith("." + known) for known in hosts) or _has_weight_extension(text)


def _has_weight_extension(text: str) -> bool:
    path = split_url(text).path if "://" in text else text
    return posixpath.splitext(path.lower())[1] in ml()["downloads"]["weight_extensions"]


def model_size(table: str, model: str | None) -> int | None:
    """The approximate download size of a well-known model (``knowledge/ml.toml``
    [model_sizes]), tried with and without an ``org/`` prefix and a file extension."""
    if not model or not table:
        return None
    sizes = {name.lower(): size for name, size in ml()["model_sizes"].get(table, {}).items()}
    name = model.lower().rstrip("/")
    for candidate in (name, name.rsplit("/", 1)[-1], posixpath.splitext(name.rsplit("/", 1)[-1])[0]):
        if candidate in sizes:
            return sizes[candidate]
    return None


# -- Python calls that download -------------------------------------------------------------


class DownloadCall(Struct, frozen=True):
    name: str  # fully qualified: "sentence_transformers.SentenceTransformer"
    written: str  # as written, with a literal first argument: "SentenceTransformer('all-MiniLM-L6-v2')"
    line: int
    column: int  # 1-based
    end_line: int
    end_column: int  # exclusive, 1-based
    size: int | None = None
    model: str | None = None  # the model it names, when written as a literal
    kind: str = "weights"  # "weights", "tokenizer", "data" or "package-data" (see knowledge/ml.toml)
    caches: tuple[str, ...] = ()  # cache variables it fills
    folder: str | None = None  # the folder a target keyword names (`download_dir=`), when a literal
    family: str = ""  # the library family whose cache it fills by default (its row's `cache`)

    def span(self, first_line: int = 1) -> Span:
        """Where the call sits, for code starting at ``first_line`` of its file."""
        offset = first_line - 1
        return Span(self.line + offset, self.column, self.end_line + offset, self.end_column)


def scan_python(text: str) -> list[DownloadCall]:
    """Calls in ``text`` that download model weights, with imports resolved. Code that
    ``ast`` cannot parse (syntax newer than the running Python) is read by libcst in a
    child process; unparsable code finds nothing (a guess from grep would flag comments
    and strings)."""
    return list(_scan_python(text))


@cache
def _scan_python(text: str) -> tuple[DownloadCall, ...]:
    from dockerlint.parse.python import scan_calls

    parsed = scan_calls(text)
    aliases = dict(parsed.aliases)
    found = []
    for call in parsed.calls:
        head, _, tail = call.function.partition(".")
        qualified = aliases.get(head, head) + ("." + tail if tail else "")
        match = _match_call(qualified, call)
        if match is not None:
            found.append(match)
    return tuple(found)


_MODEL_KEYWORDS = ("model", "model_name", "model_name_or_path", "pretrained_model_name_or_path", "repo_or_dir", "name")


def _match_call(qualified: str, call: Call, local_path=None) -> DownloadCall | None:
    """The download a call performs, by the first row of the table its callee matches,
    or None (no row, or the row's conditions say nothing is downloaded)."""
    for row in ml()["downloads"]["calls"]:
        if not glob_match(qualified, row["name"]):
            continue
        keywords = dict(call.keywords)
        if "" in (call.first, *(keywords.get(name) for name in row.get("model", ()))):
            return None  # an empty name (an ARG given no value) loads no weights
        model = _model_argument(call, row)
        if row.get("local_ok") and (_loads_local(call) or _exists_locally(model, local_path)):
            return None
        if not _row_downloads(row, call, keywords):
            return None
        if model is None and not any(name in keywords for name in row.get("model", ())):
            model = row.get("default_model")  # only when no model is passed: a variable names another
        shown = f"{call.function}({repr(call.first) if call.first is not None else '...'})"
        families = ml()["caches"]["families"]
        fills_cache = not any(keywords.get(name) or name in call.nones for name in row.get("targets", ()))
        caches = tuple(families.get(row.get("cache", ""), ())) if fills_cache else ()
        folder = next((keywords[name] for name in row.get("targets", ()) if isinstance(keywords.get(name), str)), None)
        kind = row.get("kind", "weights")
        if "collections" in row and model not in ml()["downloads"][row["collections"]]:
            kind = "package-data"  # a package by name, or by a variable (a loop over names): not a whole set
        return DownloadCall(
            qualified,
            shown,
            call.line,
            call.column,
            call.end_line,
            call.end_column,
            model_size(row.get("sizes", ""), model),
            model,
            kind,
            caches,
            folder,
            row.get("cache", ""),
        )
    return None


def _model_argument(call: Call, row: dict) -> str | None:
    """The model the call names: its first argument, unless the row says that one is the
    task (`pipeline('summarization', model=...)`), else a model keyword of the row."""
    keywords = dict(call.keywords)
    first = None if row.get("first_is_task") else call.first
    for value in (first, *(keywords.get(name) for name in row.get("model", ()))):
        if isinstance(value, str) and value:
            return value
    return None


def _row_downloads(row: dict, call: Call, keywords: dict) -> bool:
    """The row's conditions: ``when``/``when_first`` (only then), ``unless_none``,
    ``unless_false`` and ``when_missing``."""
    if any(name in call.nones for name in row.get("unless_none", ())):
        return False
    if any(keywords.get(name) is False for name in row.get("unless_false", ())):
        return False
    if any(name in keywords for name in row.get("when_missing", ())):
        return False
    if "when" in row or "when_first" in row:
        given = any(
            name in keywords and keywords[name] is not False and name not in call.nones for name in row.get("when", ())
        )
        prefixes = tuple(row.get("when_first", ()))
        first = bool(prefixes) and isinstance(call.first, str) and call.first.startswith(prefixes)
        return given or first
    return True


def _exists_locally(model: str | None, local_path) -> bool:
    """A relative model path (``models/minilm``, ``best.pt``) that the image holds where the
    program runs is loaded from disk."""
    if local_path is None or not model or "://" in model or model.startswith(("hf-hub:", "hf_hub:")):
        return False
    return local_path(model)


def _loads_local(call: Call) -> bool:
    """A local path as the model, or ``local_files_only=True``: loaded from disk."""
    keywords = dict(call.keywords)
    if keywords.get("local_files_only") or keywords.get("source") == "local":
        return True
    values = [call.first] + [keywords.get(name) for name in _MODEL_KEYWORDS]
    return any(isinstance(value, str) and value.startswith(("/", "./", "../", "~")) for value in values)
