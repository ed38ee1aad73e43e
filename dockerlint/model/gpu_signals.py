"""Whether an image runs on a GPU, from what the repository says beyond its Dockerfile.

Signals, each with where it was found:
- the code in the image puts work on a GPU without asking whether one is there
  (``.to("cuda")``, ``device="cuda"``); code that asks (``torch.cuda.is_available()``)
  runs on a CPU too and says nothing;
- it is written for a GPU-only serving platform (Banana's potassium);
- deployment files of the repository run it with GPUs: Kubernetes, Helm and KubeRay
  manifests (``nvidia.com/gpu`` limits, ``num-gpus``, GPU node selectors), RunPod's
  ``.runpod/hub.json``/``tests.json``, a documented ``docker run --gpus``;
- a compose service that builds it keeps a GPU reservation commented out, as the switch
  to run it on one;
- its base, unknown to the knowledge, is named for CUDA or GPUs, or an install asks for an
  extra or group named for them (``--extra gpu``, ``.[cuda]``).

A deployment file speaks for an image when it names it (the image's compose ``image:``,
a ``docker build -t`` of its Dockerfile, its folder or file name), or when it sits in the
Dockerfile's folder tree and no other Dockerfile is closer; a file naming a public image
(``ollama/ollama``) speaks for that image only. Knowledge (patterns, keys, platforms) is
in ``knowledge/ml.toml`` under ``[gpu_signals]``.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shlex
from functools import cache
from pathlib import Path

from msgspec import Struct

from dockerlint.knowledge import load
from dockerlint.model.image import Image, ImageRef
from dockerlint.regex import glob_match, lazy_compile

MAX_HINT_BYTES = 1_000_000
_DOC_NAMES = lazy_compile(r"^(readme[\w.-]*\.(md|rst|txt)|[\w.-]+\.(sh|bash)|makefile|justfile)$", re.IGNORECASE)
_YAML = lazy_compile(r"\.ya?ml$", re.IGNORECASE)
_TEMPLATED = lazy_compile(r"\{\{|\$\{?[A-Za-z_]")


class GpuHint(Struct, frozen=True):
    """A deployment file that runs some image with (or without) GPUs."""

    path: Path
    line: int
    what: str  # for messages: "`nvidia.com/gpu` in ray-cluster/values.yaml"
    images: tuple[str, ...]  # image references it runs ("" when it names none: RunPod, Banana)
    names: tuple[str, ...] = ()  # for `docker build -t NAME -f FILE`: the Dockerfile it builds


def gpu_evidence(image: Image) -> str | None:
    """Why the repository or the code says the image runs on a GPU, or None."""
    named = _gpu_name(image)
    if named is not None:
        return named
    for hint in _hints_for(image):
        return hint.what
    return (
        code_gpu_use(image)
        or _gpu_package(image)
        or _gpu_base(image)
        or _gpu_extra(image)
        or _commented_gpu_reservation(image)
    )


_EXTRA_OPTIONS = ("--extra", "-E", "--extras", "--with", "--group", "--only")  # uv, Poetry, PDM: the value names one


def _gpu_extra(image: Image) -> str | None:
    """An install that asks for an extra or group named for GPUs (`uv sync --extra gpu`,
    `pip install .[cuda]`, `poetry install --with gpu`): the variant built to run on one."""
    from dockerlint.model.ml import install_stages

    for stage in install_stages(image):
        for step in stage.runs():
            for command in step.commands:
                argv = list(command.argv)
                for index, word in enumerate(argv):
                    value = None
                    if word in _EXTRA_OPTIONS and index + 1 < len(argv):
                        value = argv[index + 1]
                    elif word.startswith(tuple(f"{option}=" for option in _EXTRA_OPTIONS if option.startswith("--"))):
                        value = word.partition("=")[2]
                    elif "[" in word and word.endswith("]") and not word.startswith("-"):
                        value = word[word.index("[") + 1 : -1]
                    for name in (value or "").replace(",", " ").split():
                        if _GPU_BASE.fullmatch(f"-{name}-"):
                            line = step.instruction.span.line
                            return f"`{command.name}` asking for the `{name}` extra (line {line})"
    return None


# A base image dockerlint does not know whose name or tag says CUDA or GPU
# (`pytorchlightning/pytorch_lightning:base-cuda-py3.10-torch2.1-cuda11.8.0`, a local
# `ptgctl:gpu`, `...:2.1-cu121`): built for one, as a base of the knowledge's table would be.
_GPU_BASE = lazy_compile(r"(?:^|[/:._-])(?:gpu|cuda|nvidia|cu\d{2,3})(?:\d[\d.]*)?(?:[/:._-]|$)", re.IGNORECASE)


def _gpu_base(image: Image) -> str | None:
    from dockerlint.model.baseimage import base_image
    from dockerlint.model.queries import external_base

    if image.final is None:
        return None
    ref, _ = external_base(image, image.final)
    if ref is None or base_image(ref) is not None or not _GPU_BASE.search(ref.raw):
        return None
    return f"the base image `{ref.raw}`, whose name says CUDA or GPU"


# A compose line that reserves a GPU, commented out: `# driver: nvidia`, `# capabilities:
# [gpu]`, `#   - gpu`, `# runtime: nvidia`, `# gpus: all`. Compose files keep the switch this
# way ("un-comment to enable GPU in production"): the service is meant to run on one there.
_COMMENTED_GPU = lazy_compile(
    r"^\s*#+\s*(?:-\s*)?(?:driver:\s*[\"']?nvidia\b|capabilities:\s*\[[^\]]*\bgpu\b|runtime:\s*[\"']?nvidia\b"
    r"|gpus:\s*[\"']?(?:all|\d+)\b)",
    re.IGNORECASE,
)


def _commented_gpu_reservation(image: Image) -> str | None:
    """A GPU reservation commented out in the block of a compose service that builds the
    image (from its key to the next service's, or to the next top-level key), or None."""
    from dockerlint.parse.compose import parse_compose

    for path in image.compose_files if image.services else ():
        loaded = image.workspace.text(path, quiet=True)
        if loaded is None or "#" not in loaded[0].text:
            continue
        lines = loaded[0].text.splitlines()
        services = parse_compose(loaded[0].text).services
        starts = sorted(service.line for service in services)
        for service in services:
            if service.name not in image.services:
                continue
            later = [start for start in starts if start > service.line]
            end = later[0] - 1 if later else len(lines)
            for number in range(service.line, end):
                text = lines[number]
                if text[:1] not in ("", " ", "\t", "#"):
                    break  # a top-level key: the services mapping has ended
                if _COMMENTED_GPU.match(text):
                    return f"a GPU reservation commented out in {path.name}:{number + 1}, the switch to run it on one"
    return None


def _gpu_package(image: Image) -> str | None:
    """A package the image installs that runs only on a GPU (vLLM), or None."""
    from dockerlint.model.installed_names import image_installs

    packages = _settings()["gpu_packages"]
    for item in image_installs(image).items:
        if item.name in packages:
            return f"`{item.name}`, which runs only on a GPU, installed at {item.path.name}:{item.span.line}"
    return None


# A Dockerfile, build target or final stage named for GPUs (`gpu.Dockerfile` beside the CPU
# `Dockerfile`, `--target cuda`): the variant made to run on one.
_GPU_NAME = lazy_compile(r"(?:^|[._-])(?:gpu|cuda|nvidia)(?:\d*)(?:[._-]|$)", re.IGNORECASE)


def _gpu_name(image: Image) -> str | None:
    """Why the image's own names say it is made for a GPU, or None."""
    for what, name in (
        ("Dockerfile", image.dockerfile_path.name),
        ("build target", image.target),
        ("final stage", image.final.name if image.final else None),
    ):
        if name and _GPU_NAME.search(name):
            return f"the {what} named for GPUs (`{name}`)"
    return None


def code_gpu_use(image: Image) -> str | None:
    """A place where the image's code puts work on a GPU unconditionally, or None (also
    when some code asks whether a GPU is there: then it runs on a CPU as well)."""
    from dockerlint.model.code import image_code

    settings = _settings()
    code = image_code(image, image.local_projects())
    imported = {path.split(".", 1)[0] for path in code.imports.run_time}
    for module, what in settings["platform_modules"].items():
        if module in imported:
            return what
    if not code.gpu or code.gpu[0] == "check":
        return None
    image_path, line, text = code.gpu
    return f"`{text}` in {image_path.lstrip('/')} (line {line})"


def gpu_lines(text: str) -> tuple:
    """What a Python file says about GPUs, as the scan cache keeps it: ``(line, text)`` of a
    GPU use at the top of the module (it runs at import), else ``("check",)`` when it asks
    whether a GPU is there, else ``(line, text)`` of its first GPU use, else ``()``. A file
    without any of the ``code_words`` is ruled out at once."""
    if not any(word in text for word in _settings()["code_words"]):
        return ()
    uses, checks = _patterns()
    use: tuple = ()
    checked = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.split("#", 1)[0] if "#" in line else line
        if checks.search(stripped):
            checked = True
        elif uses.search(stripped):
            if stripped[:1] not in (" ", "\t"):
                # at the top of the module: it runs at import, whatever a function elsewhere checks
                return (number, stripped.strip())
            use = use or (number, stripped.strip())
    return ("check",) if checked else use


@cache
def _settings() -> dict:
    return load("ml")["gpu_signals"]


@cache
def _patterns() -> tuple[re.Pattern, re.Pattern]:
    settings = _settings()
    return re.compile("|".join(settings["code_uses"])), re.compile("|".join(settings["code_checks"]))


# -- deployment files -----------------------------------------------------------------------


class _Repository(Struct):
    """The repository's hints, indexed once for every image of a run."""

    hints: list[GpuHint]
    deployments: list[GpuHint]  # the hints that are not build commands
    tags: dict[str, set[str]]  # a built Dockerfile's file name -> the short names its builds tag
    dockerfiles: dict[Path, list[Path]]  # folder -> the Dockerfiles in it

    @classmethod
    def of(cls, hints: list[GpuHint], dockerfiles: list[Path]) -> _Repository:
        tags: dict[str, set[str]] = {}
        for hint in hints:
            for name in hint.names:
                tags.setdefault(posixpath.basename(name), set()).update(_short(ref) for ref in hint.images)
        folders: dict[Path, list[Path]] = {}
        for dockerfile in dockerfiles:
            folders.setdefault(dockerfile.parent, []).append(dockerfile)
        return cls(hints, [hint for hint in hints if not hint.names], tags, folders)


def _hints_for(image: Image) -> list[GpuHint]:
    root = image.workspace.root or image.context_root
    repository = _repository(image.workspace, root)
    if not repository.hints:
        return []
    names = _image_names(image, repository)
    wanted = []
    for hint in repository.deployments:
        if any(_short(ref) in names for ref in hint.images if ref):
            wanted.append(hint)
        elif _nearest(hint.path, repository.dockerfiles) == [image.dockerfile_path] and _ours(hint, names):
            wanted.append(hint)
    return wanted


def _ours(hint: GpuHint, names: set[str]) -> bool:
    """A file near the Dockerfile speaks for it unless it names another image: one with
    a templated or no reference does, one whose name is the image's does."""
    if not any(hint.images):
        return True
    return any(_TEMPLATED.search(ref) or _short(ref) in names for ref in hint.images)


def _short(reference: str) -> str:
    """The last path component of an image name, without tag or digest: the part a
    repository and its deployment files agree on across registries."""
    ref = ImageRef.parse(reference.strip())
    return posixpath.basename(ref.name).lower()


def _image_names(image: Image, repository: _Repository) -> set[str]:
    """Names the repository gives the image: its folder and file name, compose services
    and `image:`, and `docker build -t` tags of its Dockerfile."""
    path = image.dockerfile_path
    names = {path.parent.name.lower()}
    stem = path.name.lower()
    for affix in ("dockerfile.", ".dockerfile", "containerfile.", ".containerfile"):
        stem = stem.replace(affix, "")
    if stem not in ("dockerfile", "containerfile", ""):
        names.add(stem)
    names.update(service.lower() for service in image.services)
    names.update(repository.tags.get(path.name, ()))
    return {name for name in names if name}


def _nearest(path: Path, dockerfiles: dict[Path, list[Path]]) -> list[Path]:
    """The Dockerfiles of the nearest folder above ``path`` that holds any."""
    folder = path.parent
    while True:
        if folder in dockerfiles:
            return dockerfiles[folder]
        if folder.parent == folder:
            return []
        folder = folder.parent


def _repository(workspace, root: Path) -> _Repository:
    key = ("gpu-hints", root)
    if key not in workspace.derived:
        workspace.derived[key] = _Repository.of(*_walk(workspace, root))
    return workspace.derived[key]


def _walk(workspace, root: Path) -> tuple[list[GpuHint], list[Path]]:
    from dockerlint.discover import SKIP_DIRS, is_compose_name, is_dockerfile_name

    hints: list[GpuHint] = []
    dockerfiles: list[Path] = []
    platform_files = _settings()["platform_files"]
    stack = [os.fspath(root)]  # folders as strings: a path object only for what is kept
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        in_runpod = os.path.basename(folder) == ".runpod"
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if name not in SKIP_DIRS:
                        stack.append(entry.path)
                    continue
                if is_dockerfile_name(name):
                    dockerfiles.append(Path(entry.path))
                    continue
                if name in platform_files:
                    kind = "platform"
                elif in_runpod and name.endswith(".json"):
                    kind = "runpod"
                elif _YAML.search(name) and not is_compose_name(name):
                    kind = "manifest"
                elif _DOC_NAMES.match(name):
                    kind = "doc"
                else:
                    continue
                if not entry.is_file(follow_symlinks=False) or entry.stat().st_size > MAX_HINT_BYTES:
                    continue
            except OSError:
                continue
            path = Path(entry.path)
            if kind == "platform":
                hints.append(GpuHint(path, 1, platform_files[name], ("",)))
            elif kind == "runpod":
                hints.extend(_runpod(workspace, path, root))
            elif kind == "manifest":
                hints.extend(_manifest(workspace, path, root))
            else:
                hints.extend(_documented_commands(workspace, path, root))
    return sorted(hints, key=lambda hint: (str(hint.path), hint.line)), sorted(dockerfiles)


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def _runpod(workspace, path: Path, root: Path) -> list[GpuHint]:
    """RunPod Hub metadata: ``config.runsOn: "GPU"``, ``gpuCount``, ``gpuTypeId``."""
    loaded = workspace.text(path, quiet=True)
    try:
        data = json.loads(loaded[0].text) if loaded else None
    except ValueError:
        return []
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        return []
    gpu = str(config.get("runsOn", "")).upper() == "GPU" or _positive(config.get("gpuCount"))
    gpu = gpu or bool(config.get("gpuTypeId") or config.get("gpuIds"))
    if not gpu:
        return []
    # The hub files describe the repository the .runpod folder is in.
    return [GpuHint(path.parent, 1, f"RunPod's GPU configuration in {_shown(path, root)}", ("",))]


def _positive(value) -> bool:
    try:
        return float(str(value).strip().strip("\"'")) > 0
    except ValueError:
        return False


def _manifest(workspace, path: Path, root: Path) -> list[GpuHint]:
    """YAML documents (Kubernetes, Helm values, KubeRay) that ask for GPUs, with the
    images they run."""
    settings = _settings()
    keys = (*settings["manifest_counts"], *settings["manifest_selectors"])
    if not _mentions(workspace, path, keys):
        return []
    loaded = workspace.text(path, quiet=True)
    if loaded is None:
        return []
    text = loaded[0].text
    import yaml

    try:
        documents = list(yaml.safe_load_all(text))
    except (yaml.YAMLError, RecursionError, ValueError):
        documents = []
        # Helm templates are not YAML until rendered: read the parts that are.
        for chunk in re.split(r"^---\s*$", re.sub(r"\{\{.*?\}\}", "$TEMPLATED", text), flags=re.MULTILINE):
            try:
                documents.append(yaml.safe_load(chunk))
            except (yaml.YAMLError, RecursionError, ValueError):
                continue
    hints = []
    for document in documents:
        key = _gpu_key(document, settings)
        if key is None:
            continue
        images = tuple(_images(document))
        line = next((i for i, row in enumerate(text.splitlines(), 1) if key in row), 1)
        hints.append(GpuHint(path, line, f"`{key}` in {_shown(path, root)}", images or ("",)))
    return hints


def _gpu_key(node, settings, depth: int = 0) -> str | None:
    if depth > 40:
        return None
    if isinstance(node, dict):
        for key, value in node.items():
            if key in settings["manifest_counts"] and _positive(value):
                return str(key)
            if key in settings["manifest_selectors"] and value not in (None, False, "false", "0", ""):
                return str(key)
            found = _gpu_key(value, settings, depth + 1)
            if found:
                return found
    elif isinstance(node, list):
        for item in node:
            found = _gpu_key(item, settings, depth + 1)
            if found:
                return found
    return None


def _images(node, depth: int = 0):
    if depth > 40:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "image" and isinstance(value, str):
                yield value
            elif key == "image" and isinstance(value, dict) and isinstance(value.get("repository"), str):
                yield value["repository"]
            else:
                yield from _images(value, depth + 1)
    elif isinstance(node, list):
        for item in node:
            yield from _images(item, depth + 1)


def _documented_commands(workspace, path: Path, root: Path) -> list[GpuHint]:
    """``docker run --gpus ... IMAGE`` and ``docker build -t NAME -f FILE`` in READMEs,
    shell scripts and Makefiles."""
    if not _mentions(workspace, path, ("--gpus", "--runtime", "docker build", "docker buildx", "podman build")):
        return []
    loaded = workspace.text(path, quiet=True)
    if loaded is None:
        return []
    hints = []
    for number, line in logical_lines(loaded[0].text):
        if "docker" not in line or not (" run" in line or " build" in line):
            continue
        words = command_words(line)
        for index, word in enumerate(words[:-1]):
            if posixpath.basename(word) not in ("docker", "podman"):
                continue
            rest = words[index + 1 :]
            if rest[:2] in (["container", "run"], ["image", "build"], ["builder", "build"]):
                rest = rest[1:]  # the management command forms: `docker container run`, `docker image build`
            if rest[0] in ("run", "build", "buildx"):
                hint = _docker_command(rest, path, number, root)
                if hint is not None:
                    hints.append(hint)
                break
    return hints


def command_words(line: str) -> list[str]:
    """The words of a documented command line, as a shell splits them (a Markdown code span's
    backticks and a prompt's `$` dropped); none when it does not split (an open quote)."""
    try:
        return shlex.split(line.strip().strip("`$ "), comments=True)
    except ValueError:
        return []


def logical_lines(text: str):
    """(first line number, text) of each command, lines continued with a backslash joined:
    a documented `docker run` often spreads its options over several lines."""
    pending, start = "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if line.rstrip().endswith("\\") and len(pending) < 10_000:
            pending += line.rstrip()[:-1] + " "
            continue
        yield start, pending + line
        pending = ""
    if pending:
        yield start, pending


def _mentions(workspace, path: Path, words) -> bool:
    """Whether the file's bytes hold one of ``words``: most files hold none, and are then
    neither decoded nor kept."""
    data = workspace.read_bytes(path, quiet=True, keep=False)
    return data is not None and any(word.encode() in data for word in words)


def _docker_command(words: list[str], path: Path, line: int, root: Path) -> GpuHint | None:
    from dockerlint.parse.buildcmd import RUN_VALUE_OPTIONS

    if words[0] in ("build", "buildx"):
        args = words[2:] if words[0] == "buildx" else words[1:]
        tags, files = [], []
        for i, word in enumerate(args):
            name, has_value, value = word.partition("=")
            if name in ("-t", "--tag") and (has_value or i + 1 < len(args)):
                tags.append(value if has_value else args[i + 1])
            if name in ("-f", "--file") and (has_value or i + 1 < len(args)):
                files.append(value if has_value else args[i + 1])
        if not tags:
            return None
        return GpuHint(path, line, "", tuple(tags), tuple(files or ["Dockerfile"]))
    gpus, image = False, None
    i = 1
    while i < len(words):
        word = words[i]
        name, has_value, value = word.partition("=")
        if name == "--gpus":
            gpus = (value if has_value else (words[i + 1] if i + 1 < len(words) else "")) not in ("", "0", "none")
        if name == "--runtime" and (value if has_value else (words[i + 1] if i + 1 < len(words) else "")) == "nvidia":
            gpus = True
        if word.startswith("-"):
            i += 1 if has_value or name not in RUN_VALUE_OPTIONS else 2
            continue
        image = word
        break
    if not gpus or image is None:
        return None
    return GpuHint(path, line, f"`docker run --gpus` in {_shown(path, root)} (line {line})", (image,))


# -- an image that never touches a GPU -----------------------------------------------------------


def never_uses_gpu(image: Image, torch_on_cpu: bool = False) -> bool:
    """Everything that could put the image on a GPU can be read, and none of it does: its
    Python code (there is some) imports no GPU-capable module and names no CUDA device,
    pip installs nothing GPU-capable from readable sources, no system package is CUDA,
    the final command runs Python, and no deployment file or compose/config says GPU.
    Anything unreadable or unknown answers False. ``torch_on_cpu``: the code may import
    torch and the libraries that keep it on the CPU unless told (``cpu_by_default_modules``),
    and pip may install them, as long as nothing in the code names or asks for a GPU."""
    from dockerlint.model.code import image_code
    from dockerlint.model.installed_projects import exported_project
    from dockerlint.model.layers import installed_packages
    from dockerlint.model.ml import install_stages, pip_commands, pulls_torch
    from dockerlint.model.queries import final_chain
    from dockerlint.model.submodules import unread_code

    settings = _settings()
    if image.gpu or _hints_for(image) or unread_code(image) is not None:
        return False  # code this checkout does not hold (a submodule not fetched, a cloned repository)
    code = image_code(image, image.local_projects())
    if not any(not file.is_test for file in code.files):
        return False
    imported = {path.split(".", 1)[0] for path in code.imports.run_time}
    allowed = set(settings["cpu_by_default_modules"]) if torch_on_cpu else set()
    if imported & set(settings["gpu_modules"]) - allowed:
        return False
    words = {word.lower() for word in code.mentions.names}
    if words & {"cuda", "gpu", "gpus", "nvidia", "num_gpus", *settings["gpu_commands"]}:
        return False
    if code_gpu_use(image) is not None or (torch_on_cpu and code.gpu):
        return False  # with torch_on_cpu, asking whether a GPU is there counts as well
    gpu_distributions = settings["gpu_distributions"]
    for stage in install_stages(image):
        for step in stage.steps:
            for install in step.installs:
                if install.family == "pip" and install.action == "install":
                    if install.editables or any(
                        not _readable(image, ref) and exported_project(image, stage, step, ref.image_path) is None
                        for ref in install.requirements
                    ):
                        return False  # a requirements file neither read nor a `poetry export` of the project
                    if any(
                        "://" in argument.value or argument.value.startswith(("/", "."))
                        for argument in install.packages
                    ):
                        return False
                elif install.family not in ("apt", "apk", "rpm"):
                    return False  # conda, npm...: what they install is not read here
            for package in installed_packages(step):
                if any(glob_match(package.name, pattern) for pattern in settings["gpu_system_packages"]):
                    return False
            if any(posixpath.basename(command.name) in settings["gpu_commands"] for command in step.commands):
                return False
        for command in pip_commands(image, stage):
            for request in command.requests:
                torch_family = pulls_torch(request) or request.name in load("ml")["torch"]["family"]
                if torch_on_cpu and (torch_family or request.name in allowed):
                    continue  # the base image's torch, or a library that leaves it on the CPU
                if (
                    request.url
                    or set(request.extras) & set(settings["gpu_extras"])
                    or torch_family
                    or any(glob_match(request.name, pattern) for pattern in gpu_distributions)
                    or any(glob_match(request.name, entry["pattern"]) for entry in load("ml")["gpu_only"])
                ):
                    return False
    if _project_installs_gpu_capable(image, gpu_distributions, torch_on_cpu, allowed):
        return False  # `uv sync` of a lock that brings faster-whisper (through a git dependency)
    return _runs_python(final_chain(image), settings)


def _project_installs_gpu_capable(image: Image, patterns, torch_on_cpu: bool, allowed: set[str]) -> bool:
    """Whether the project installs of the image (`uv sync`, `poetry install`, `pdm install`)
    put a GPU-capable distribution into it: one they name, or one their lock file pins."""
    from dockerlint.model.installed_names import image_installs

    installs = image_installs(image)
    names = {item.name for item in installs.items if item.kind == "pyproject"} | set(installs.locked)
    torch_family = set(load("ml")["torch"]["family"])
    for name in names:
        if torch_on_cpu and (name in torch_family or name in allowed):
            continue
        if name in torch_family or any(glob_match(name, pattern) for pattern in patterns):
            return True
        if any(glob_match(name, entry["pattern"]) for entry in load("ml")["gpu_only"]):
            return True
    return False


def _readable(image: Image, ref) -> bool:
    """A requirements file and every file it includes can be read, without problems."""
    if ref.context_path is None or not os.path.isfile(ref.context_path):
        return False
    return not image.workspace.requirements(ref.context_path).problems


def _runs_python(chain, settings) -> bool:
    """The program the container starts (the last ENTRYPOINT, else the last CMD, nearest
    stage first) is Python or a Python tool, or the Dockerfile sets none and the base
    image's own applies."""
    for keyword in ("ENTRYPOINT", "CMD"):
        for stage in chain:
            for step in reversed(stage.steps):
                if step.keyword != keyword:
                    continue
                args = step.instruction.json_args
                words = list(args) if args is not None else step.instruction.args.split()
                program = posixpath.basename(words[0]) if words else ""
                return bool(re.match(r"^python(\d+(\.\d+)?)?$", program)) or program in settings["python_programs"]
    return True
