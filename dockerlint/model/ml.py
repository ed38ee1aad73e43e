"""What an image does with ML: its GPU signal, the CUDA base it runs on, which torch build
each pip install brings, and the model downloads its RUN instructions perform.

The MDL and GPU checks ask these questions; the facts they rest on (packages that pull
torch, CPU indexes, download calls, CUDA images) are data in ``knowledge/ml.toml``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dockerlint.knowledge import load
from dockerlint.model import Image, ImageRef, StageModel
from dockerlint.model.image import Step, context_source
from dockerlint.model.installs import Install
from dockerlint.model.queries import external_base, final_chain, image_matches
from dockerlint.parse.python import Call
from dockerlint.source import Span


def ml() -> dict:
    return load("ml")


# -- CUDA base images and the GPU signal ------------------------------------------------


@dataclass(frozen=True)
class CudaImage:
    ref: ImageRef
    version: tuple[int, int] | None  # CUDA major.minor from the tag, when it says
    devel: bool
    full: bool  # carries the CUDA libraries (runtime, cudnn, devel), not just cudart
    has_torch: bool


def cuda_image(ref: ImageRef) -> CudaImage | None:
    """The CUDA facts of a base image, or None when it is no CUDA image."""
    if ref.unresolved:
        return None
    tag = (ref.tag or "latest").lower()
    flavours = ml()["cuda_flavours"]
    for entry in ml()["cuda_images"]:
        if not image_matches(ref, [entry["pattern"]]):
            continue
        gpu_tags = entry.get("gpu_tags")
        if gpu_tags and not any(fnmatchcase(tag, pattern) for pattern in gpu_tags):
            return None
        version = None
        if "cuda" in entry:
            match = re.search(entry["cuda"], tag)
            if match:
                major, minor = match.group(1).split(".")[:2]
                version = (int(major), int(minor))
        devel = any(word in tag for word in flavours["devel_words"])
        full = entry["pattern"] != "nvidia/cuda" and not entry["pattern"].endswith("/cuda")
        full = full or any(word in tag for word in flavours["full_words"])
        return CudaImage(ref, version, devel, full, bool(entry.get("has_torch")))
    return None


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
    ``gpu = false`` wins over a CUDA base image."""
    if image.gpu is False:
        return None
    if image.gpu:
        return "a GPU reservation (compose or config)"
    found = final_cuda(image)
    if found is not None:
        return f"the CUDA base image `{found[0].ref.raw}`"
    return None


# -- what pip installs --------------------------------------------------------------------


@dataclass(frozen=True)
class PipRequest:
    """One distribution a pip install asks for, where it is written and which indexes the
    command sees."""

    name: str  # canonical
    extras: tuple[str, ...]
    specifier: str  # "==2.5.1+cpu", "" when none
    url: str | None
    text: str  # as written
    path: Path  # the Dockerfile or the requirements file
    span: Span


@dataclass(frozen=True)
class PipCommand:
    """A ``pip install``, ``uv pip install`` or ``uv sync``; requests of a local project it
    installs point at the project's pyproject.toml, the command at its Dockerfile line."""

    stage: StageModel
    step: Step
    span: Span  # the command in the Dockerfile
    requests: tuple[PipRequest, ...]
    indexes: tuple[str, ...]  # index URLs and find-links from options, env, requirement files, tool.uv
    torch_backend: str | None  # uv's --torch-backend / UV_TORCH_BACKEND


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


def pip_commands(image: Image, stage: StageModel) -> Iterator[PipCommand]:
    """Every ``pip install`` / ``uv pip install`` / ``uv sync`` of a stage with what it
    asks for."""
    for step in stage.steps:
        for install in step.installs:
            if install.family == "pip" and install.action == "install":
                yield _pip_command(image, stage, step, install)
        for command in step.commands:
            sync = _uv_sync(image, stage, step, command)
            if sync is not None:
                yield sync


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
    for argument in (*install.packages, *install.editables):
        path, _, extras = argument.value.partition("[")
        project = _local_pyproject(image, stage, step, path)
        if project is not None:
            requests += _project_requests(image, project, _extras(extras.rstrip("]").split(",")))
            if install.tool == "uv":  # pip reads no [tool.uv]
                indexes += _uv_indexes(image, project, sources=not install.has("--no-sources"))
            continue
        parsed = _parse_requirement(argument.value) if argument in install.packages else None  # not `-e url`
        if parsed is not None:
            name, extras, specifier, url = parsed
            requests.append(
                PipRequest(name, extras, specifier, url, argument.value, image.dockerfile_path, argument.span)
            )
    for ref in install.requirements:
        if ref.constraint or ref.context_path is None or not ref.context_path.is_file():
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
    return PipCommand(stage, step, install.span, tuple(requests), tuple(indexes), backend or None)


def _uv_sync(image: Image, stage: StageModel, step: Step, command) -> PipCommand | None:
    """``uv sync`` installs the project's dependencies (and ``--extra`` ones) with uv's
    own index settings from its pyproject.toml."""
    argv = command.argv
    if len(argv) < 2 or posixpath.basename(argv[0]) != "uv" or argv[1] != "sync":
        return None
    options: dict[str, list[str]] = {}
    for i, word in enumerate(argv[2:], 2):
        name, has_value, value = word.partition("=")
        if name in ("--project", "--directory", "--extra"):
            options.setdefault(name, []).append(value if has_value else (argv[i + 1] if i + 1 < len(argv) else ""))
    folder = (options.get("--project") or options.get("--directory") or ["."])[-1]
    project = _local_pyproject(image, stage, step, folder)
    if project is None:
        return None
    env = dict(step.env)
    env.update(command.command.assignments)
    extras = ("*",) if "--all-extras" in argv else _extras(options.get("--extra", []))
    requests = _project_requests(image, project, extras)
    indexes = _argv_indexes(env, argv) + _uv_indexes(image, project, sources="--no-sources" not in argv)
    backend = env.get("UV_TORCH_BACKEND")
    return PipCommand(stage, step, command.span, tuple(requests), tuple(indexes), backend or None)


def _extras(words) -> tuple[str, ...]:
    return tuple(word.strip() for word in words if word.strip())


def _local_pyproject(image: Image, stage: StageModel, step: Step, path: str) -> Path | None:
    """The build-context pyproject.toml of a local project argument (``.``, ``./svc``,
    ``/app``), found through COPY and WORKDIR; None for anything else."""
    if not (path in (".", "..") or path.startswith(("./", "../", "/"))):
        return None
    image_path = posixpath.normpath(posixpath.join(step.workdir or "/", path, "pyproject.toml"))
    source = context_source(image, stage, image_path, step.index)
    return source if source is not None and source.is_file() else None


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
        filename = unquote(urlsplit(text).path.rsplit("/", 1)[-1])
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


_LINUX = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64"}


def _marker_holds(marker: str) -> bool:
    """Whether an environment marker holds in a Linux x86_64 image (unknown: yes)."""
    from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName

    try:
        return Marker(marker).evaluate(_LINUX)
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return True


# -- which torch a pip install brings ---------------------------------------------------------


@dataclass(frozen=True)
class TorchInstall:
    """A pip command that brings CUDA torch: the requests responsible, the wheel's CUDA
    version when known, and whether torch comes only through another package."""

    command: PipCommand
    requests: tuple[PipRequest, ...]  # torch-family requests, or the pullers when there are none
    cuda: tuple[int, int] | None
    pulled: bool  # no torch-family request: a package that requires torch brings it
    default_index: bool  # from PyPI (not a cuXXX index or a +cuXXX version)


_CUDA_LABEL = re.compile(r"\+cu(\d+)(\d)\b")
_CUDA_INDEX = re.compile(r"download\.pytorch\.org/whl/(?:nightly/)?cu(\d+)(\d)\b")


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


def torch_installs(image: Image) -> Iterator[TorchInstall]:
    """pip commands of the stages that reach the final image that install CUDA torch, in
    build order. A command is skipped when a CPU build is asked for (CPU index, ``+cpu``,
    ``--torch-backend cpu``), on an arm64 platform (PyPI's aarch64 torch is CPU-only), or
    when an earlier install in the same stage chain already put torch in place."""
    settings = ml()["torch"]
    for stage_list in _chains(image):
        torch_present = False
        for stage in stage_list:
            if _arm64(stage):
                torch_present = True  # whatever it installs, it is not CUDA torch
            for command in pip_commands(image, stage):
                family = [r for r in command.requests if is_torch(r.name)]
                pullers = [r for r in command.requests if pulls_torch(r)]
                if not family and not pullers:
                    continue
                if _cpu_build(command, family, settings):
                    torch_present = True
                    continue
                if torch_present:
                    continue
                torch_present = True
                cuda, default = _wheel_cuda(command, family, settings)
                yield TorchInstall(command, tuple(family or pullers), cuda, not family, default)


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


def _arm64(stage: StageModel) -> bool:
    platform = (stage.stage.platform or "").lower()
    return "arm64" in platform or "aarch64" in platform


def _cpu_build(command: PipCommand, family: list[PipRequest], settings: dict) -> bool:
    if any(cpu in index for index in command.indexes for cpu in settings["cpu_indexes"]):
        return True
    if command.torch_backend == "cpu":
        return True
    return any("+cpu" in request.specifier or "+cpu" in (request.url or "") for request in family)


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


@dataclass(frozen=True)
class Download:
    """A model download a RUN performs at build time."""

    span: Span  # in the Dockerfile
    what: str  # "`huggingface-cli download`", "`snapshot_download(...)` in scripts/fetch.py"
    related: tuple[tuple[Path, Span, str], ...] = ()
    size: int | None = None


_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
_RUNNERS = (("uv", "run"), ("poetry", "run"), ("pipenv", "run"), ("pdm", "run"), ("hatch", "run"))
_PY_VALUE_OPTIONS = ("-W", "-X", "--check-hash-based-pycs")
_SHELLS = ("sh", "bash", "ash", "dash", "zsh")


def downloads(image: Image) -> Iterator[Download]:
    """Model downloads in the RUN and ADD instructions of the stages the final image is
    made of (a builder stage that only hands files over is a deliberate bake)."""
    for stage in reversed(final_chain(image)):
        for step in stage.steps:
            if step.keyword == "RUN":
                yield from _run_downloads(image, stage, step)
        for copy in stage.copies:
            if copy.is_add:
                for source in copy.sources:
                    if "://" in source.value and _model_url(source.value):
                        yield Download(source.span, f"`ADD {source.value}`")


def _run_downloads(image: Image, stage: StageModel, step: Step) -> Iterator[Download]:
    for command in step.commands:
        for what, related, size in _command_downloads(image, stage, step, command.argv, depth=0):
            yield Download(command.span, what, related, size)
    # RUN python3 <<EOF: the heredoc body is the program.
    for heredoc in step.instruction.heredocs:
        if _heredoc_is_python(step, heredoc):
            for call in scan_python(heredoc.body):
                yield Download(call.span(heredoc.body_line), f"`{call.written}` in the heredoc Python")


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
    words = list(argv)
    while words and posixpath.basename(words[0]) in ("env", "sudo", "exec", "time", "nice"):
        words = words[1:]
        while words and (words[0].startswith("-") or "=" in words[0]):
            words = words[1:]
    for runner in _RUNNERS:
        if tuple(words[: len(runner)]) == runner:
            words = words[len(runner) :]
            while words and words[0].startswith("-"):
                words = words[1:]
    if not words or not _PYTHON.match(posixpath.basename(words[0])):
        return None
    rest = words[1:]
    while rest and rest[0].startswith("-") and rest[0] not in ("-c", "-m", "-"):
        if rest[0].startswith(("-c", "-m")) and len(rest[0]) > 2:
            return (rest[0][:2], rest[0][2:], *rest[1:])
        rest = rest[2:] if rest[0] in _PY_VALUE_OPTIONS else rest[1:]
    return tuple(rest)


def _command_downloads(image, stage, step, argv, depth) -> Iterator[tuple[str, tuple, int | None]]:
    """(what, related places, size) for each download one command performs."""
    data = ml()["downloads"]
    if not argv:
        return
    program = posixpath.basename(argv[0])
    words = (program, *argv[1:])
    for pattern in data["commands"]:
        if tuple(words[: len(pattern)]) == tuple(pattern):
            yield f"`{' '.join(argv[: len(pattern) + 1])}`", (), None
            return
    if program in data["fetchers"]:
        for word in argv[1:]:
            if _model_url(word) or (_has_weight_extension(word) and ("://" in word or program in ("wget", "curl"))):
                yield f"`{program} {word}`", (), None
                return
    if program == "git" and len(argv) > 2 and argv[1] == "clone":
        for word in argv[2:]:
            if "://" in word and (urlsplit(word).hostname or "") in data["clone_hosts"]:
                yield f"`git clone {word}`", (), None
                return
    rest = _python_args(argv)
    if rest is not None:
        yield from _python_downloads(image, stage, step, rest, depth)
        return
    if argv[0].endswith(".py"):  # ./download.py, run through its shebang
        yield from _script_downloads(image, stage, step, argv[0], depth, shell=False)
        return
    if depth < 2:
        script = _shell_script(argv)
        if script is not None:
            yield from _script_downloads(image, stage, step, script, depth, shell=True)


def _python_downloads(image, stage, step, rest, depth) -> Iterator[tuple[str, tuple, int | None]]:
    data = ml()["downloads"]
    if not rest or rest[0] == "-":
        return  # stdin: a heredoc is handled by the caller
    if rest[0] == "-c" and len(rest) > 1:
        for call in scan_python(rest[1]):
            yield f"`{call.written}` in `python -c`", (), call.size
        return
    if rest[0] == "-m" and len(rest) > 1:
        module, args = rest[1], rest[2:]
        for pattern in data["python_modules"]:
            if module == pattern[0] and tuple(args[: len(pattern) - 1]) == tuple(pattern[1:]):
                yield f"`python -m {' '.join((module, *args[: len(pattern)]))}`".rstrip(), (), _spacy_size(args)
                return
        relative = module.replace(".", "/")
        for candidate in (relative + ".py", relative + "/__main__.py"):
            found = list(_script_downloads(image, stage, step, candidate, depth, shell=False))
            if found:
                yield from found
                return
        return
    yield from _script_downloads(image, stage, step, rest[0], depth, shell=False)


def _shell_script(argv: tuple[str, ...]) -> str | None:
    program = posixpath.basename(argv[0])
    if program in _SHELLS:
        args = [word for word in argv[1:] if not word.startswith("-")]
        if "-c" in argv or not args:
            return None
        return args[0]
    if argv[0].endswith(".sh") or argv[0].startswith("./"):
        return argv[0]
    return None


def _script_downloads(image, stage, step, path, depth, shell) -> Iterator[tuple[str, tuple, int | None]]:
    """Downloads in a build-context file that the RUN executes."""
    image_path = posixpath.normpath(posixpath.join(step.workdir or "/", path))
    source = context_source(image, stage, image_path, step.index)
    if source is None or not source.is_file():
        return
    loaded = image.workspace.text(source, quiet=True)
    if loaded is None:
        return
    text = loaded[0].text
    shown = _display(image, source)
    if not shell:
        for call in scan_python(text):
            yield f"`{call.written}` in `{shown}`", ((source, call.span(), "the download call"),), call.size
        return
    from dockerlint.parse.shell import parse_script

    for command in parse_script(text).commands:
        for what, related, size in _command_downloads(image, stage, step, command.argv, depth + 1):
            line = text.count("\n", 0, command.start) + 1
            here = (source, Span(line, 1, line, 1), f"runs {what}")
            yield f"{what} in `{shown}`", (here, *related), size


def _display(image: Image, path: Path) -> str:
    try:
        return path.relative_to(image.context_root).as_posix()
    except ValueError:
        return path.name


def _model_url(text: str) -> bool:
    if "://" not in text:
        return False
    host = (urlsplit(text).hostname or "").lower()
    hosts = ml()["downloads"]["hosts"]
    return any(host == known or host.endswith("." + known) for known in hosts) or _has_weight_extension(text)


def _has_weight_extension(text: str) -> bool:
    path = urlsplit(text).path if "://" in text else text
    return posixpath.splitext(path.lower())[1] in ml()["downloads"]["weight_extensions"]


def _spacy_size(args: tuple[str, ...]) -> int | None:
    model = args[1] if len(args) > 1 else ""
    return ml()["spacy_models"]["size_sm"] if model.endswith("_sm") else None


# -- Python calls that download -------------------------------------------------------------


@dataclass(frozen=True)
class DownloadCall:
    name: str  # fully qualified: "sentence_transformers.SentenceTransformer"
    written: str  # as written, with a literal first argument: "SentenceTransformer('all-MiniLM-L6-v2')"
    line: int
    column: int  # 1-based
    end_line: int
    end_column: int  # exclusive, 1-based
    size: int | None = None

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
        for pattern in ml()["downloads"]["calls"]:
            if fnmatchcase(qualified, pattern["name"]):
                if pattern.get("local_ok") and _loads_local(call):
                    break
                shown = f"{call.function}({repr(call.first) if call.first is not None else '...'})"
                found.append(DownloadCall(qualified, shown, call.line, call.column, call.end_line, call.end_column))
                break
    return tuple(found)


_MODEL_KEYWORDS = ("model", "model_name", "model_name_or_path", "pretrained_model_name_or_path", "repo_or_dir", "name")


def _loads_local(call: Call) -> bool:
    """A local path as the model, or ``local_files_only=True``: loaded from disk."""
    keywords = dict(call.keywords)
    if keywords.get("local_files_only") or keywords.get("source") == "local":
        return True
    values = [call.first] + [keywords.get(name) for name in _MODEL_KEYWORDS]
    return any(isinstance(value, str) and value.startswith(("/", "./", "../", "~")) for value in values)
