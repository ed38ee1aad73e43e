"""CUDA where no GPU runs it, and CUDA twice: the bulk of a bloated ML image.

An image is CPU-only unless something says otherwise: a CUDA base image, a compose GPU
reservation, or ``gpu = true`` in the config (``gpu = false`` overrides the base image).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from fnmatch import fnmatchcase

from msgspec.structs import replace

from dockerlint.checks import check, fixing
from dockerlint.checks.common import finding, from_image_span
from dockerlint.findings import Edit, Finding, Related, Severity, human_size
from dockerlint.knowledge import load
from dockerlint.model import Image
from dockerlint.model.baseimage import base_image
from dockerlint.model.gpu_signals import never_uses_gpu
from dockerlint.model.ml import (
    PipRequest,
    TorchInstall,
    final_cuda,
    gpu_signal,
    install_stages,
    ml,
    pip_commands,
    torch_cuda_size,
    torch_fix_line,
    torch_installs,
)
from dockerlint.model.native_build import compiles_native
from dockerlint.model.size.figures import torch_build
from dockerlint.source import Span

_NO_GPU = (
    "an image with no GPU (no CUDA base image, no GPU reservation in compose, config or deployment files, "
    "no code that needs one)"
)


def _names(requests: tuple[PipRequest, ...]) -> str:
    return ", ".join(f"`{request.text}`" for request in dict.fromkeys(requests))


def _several(requests: tuple[PipRequest, ...]) -> bool:
    return len(dict.fromkeys(requests)) > 1


def _verb(requests: tuple[PipRequest, ...], singular: str) -> str:
    """``singular`` ("brings", "is") agreeing with the requests named as its subject."""
    if not _several(requests):
        return singular
    return "are" if singular == "is" else singular.removesuffix("s")


def _related(image: Image, requests: tuple[PipRequest, ...], message: str) -> list[Related]:
    return [
        Related(request.path, request.span, message) for request in requests if request.path != image.dockerfile_path
    ]


def _cuda_libraries(install: TorchInstall) -> tuple[int, str]:
    """The bytes of CUDA a torch install brings, and how to say where they are: inside
    the wheel before torch 1.13, nvidia-* wheels since."""
    settings = ml()["torch"]
    if install.bundles_cuda:  # what the CUDA build installs beyond the CPU build
        download = settings["bundled_wheel_size"]
        return settings["bundled_installed_size"] - settings["cpu_installed_size"], (
            f"its CUDA libraries inside the wheel (~{human_size(download)} download)"
        )
    # a pinned release: its measured build (as the bill of bytes counts it); otherwise what
    # the newest torch requires today, from the package index
    size = torch_build(install.version)["nvidia"] if install.version else torch_cuda_size()
    return size, f"~{human_size(size)} of CUDA libraries (nvidia-* wheels)"


def _shown_version(install: TorchInstall) -> str:
    return " " + ".".join(map(str, install.version)) if install.version else ""


def _version(cuda: tuple[int, int]) -> str:
    return f"{cuda[0]}.{cuda[1]}"


@check("GPU001")
def cuda_torch_on_cpu_image(image: Image) -> Iterator[Finding]:
    installs = list(torch_installs(image))
    if not installs or gpu_signal(image) is not None:
        return
    settings = ml()["torch"]
    cpu_size = settings["cpu_installed_size"]
    from dockerlint.model.code import image_code

    # the service picks a GPU when one is there (`torch.cuda.is_available()`): run with one
    # (`docker run --gpus`, which nothing here says), its CUDA torch is what it uses
    prefers_gpu = image_code(image, image.local_projects()).gpu == ("check",)
    for found in installs:
        names = _names(found.requests)
        source = f"the index `{found.other_index}`" if found.other_index else "the default index (PyPI)"
        if found.replaces is not None:
            what = (
                f"{names} {_verb(found.requests, 'needs')} another torch than the one `{found.replaces.ref.raw}` "
                "ships, so this install "
                f"takes torch from {source}"
            )
        elif found.pulled:
            what = f"{names} {_verb(found.requests, 'requires')} torch, which this install takes from {source}"
        elif found.all_builds_page:
            what = (
                f"{names} with the find-links page `{found.all_builds_page}` {_verb(found.requests, 'installs')} "
                f"{'CUDA builds' if _several(found.requests) else 'a CUDA build'} "
                "(pip prefers the `+cuXXX` builds over `+cpu`)"
            )
        elif found.default_index:
            what = f"{names} {_verb(found.requests, 'comes')} from {source}"
        else:
            label = f"CUDA {_version(found.cuda)}" if found.cuda else "CUDA"
            builds = f"{label} builds" if _several(found.requests) else f"a {label} build"
            what = f"{names} {_verb(found.requests, 'is')} {builds} of torch"
        size, libraries = _cuda_libraries(found)
        cuda = f"torch{_shown_version(found)} for Linux brings {libraries}"
        pin = "==X.Y.Z+cpu"
        if found.version:
            pin = "==" + ".".join(map(str, found.version)) + "+cpu"
        hedge = (
            "; but the code uses a GPU when one is there, so if the image is run with one, keep CUDA torch"
            if prefers_gpu
            else ""
        )
        reported = finding(
            image,
            "GPU001",
            found.command.span,
            f"{what}: {cuda} into {_NO_GPU}{hedge}",
            f"Install CPU torch (~{human_size(cpu_size)} installed) before this line: `{torch_fix_line(found)}`; "
            "pip then keeps it "
            f"(or pin `torch{pin}` with `--extra-index-url https://download.pytorch.org/whl/cpu` "
            "in the requirements file).",
            size,
            related=_related(image, found.requests, "requested here"),
            autofix=_cpu_torch_fix(image, found),
        )
        yield replace(reported, severity=Severity.INFO) if prefers_gpu else reported


_PLACEMENT_OPTIONS = ("--user", "--prefix", "--target", "--root", "--python", "--system", "--index-url")


def _cpu_torch_fix(image: Image, found: TorchInstall):
    """The torch family from the CPU index, pinned, installed by the same pip at the start
    of the install's RUN: then the install keeps it. Offered when that pip is plain (found
    on PATH, no ``--user``/``--prefix``/``--target``), starts the RUN, and torch comes from
    PyPI with its version pinned."""
    from dockerlint.model.installs import wrapper_words

    if not (found.default_index or found.pulled) or found.replaces is not None or found.other_index:
        return None
    step = found.command.step
    instruction = step.instruction
    install = next((i for i in step.installs if i.family == "pip" and i.span == found.command.span), None)
    if install is None or install.tool != "pip" or install.has(*_PLACEMENT_OPTIONS):
        return None
    argv = install.command.argv
    start = wrapper_words(argv)
    if start or "install" not in argv[start:]:
        return None
    program = argv[: argv.index("install", start) + 1]
    if any("/" in word or not re.fullmatch(r"[\w.+=-]+", word) for word in program):
        return None
    line = torch_fix_line(found).removeprefix("RUN pip install")
    if any("==" not in word for word in line.split()[3:]) or instruction.json_args is not None:
        return None  # an unpinned torch here would be DL3013's
    args = instruction.args
    start = len(args) - len(args.lstrip())
    if start >= len(args) or install.command.command.start != start:
        return None  # the install is not what the RUN starts with
    line_number, column = instruction.positions[start]
    point = Span(line_number, column, line_number, column)
    edit = Edit(image.dockerfile_path, point, f"{' '.join(program)}{line} && ")
    return fixing.unsafe("Install CPU torch first", edit)


@check("GPU002")
def gpu_package_on_cpu_image(image: Image) -> Iterator[Finding]:
    found = [
        (request, entry)
        for stage in install_stages(image)
        for command in pip_commands(image, stage)
        for request in command.requests
        if (entry := _gpu_only(request)) is not None
    ]
    if not found or gpu_signal(image) is not None:
        return
    grouped: dict[tuple, list[PipRequest]] = {}  # (group, file) -> its requests, in order
    for request, entry in found:
        if "group" in entry:
            grouped.setdefault((entry["group"], request.path), []).append(request)
    for request, entry in found:
        together = grouped.get((entry.get("group"), request.path), [request])
        if request is not together[0]:
            continue  # said with the first of its group
        size = entry.get("size")
        cost = f" (~{human_size(size)})" if size else ""
        if len(together) > 1:
            yield Finding(
                "GPU002",
                request.path,
                request.span,
                f"`{request.text}` and {len(together) - 1} more GPU-only packages are installed into {_NO_GPU}",
                ml()["gpu_only_groups"][entry["group"]],
                related=tuple(Related(other.path, other.span, f"`{other.text}`") for other in together[1:]),
            )
            continue
        yield Finding(
            "GPU002",
            request.path,
            request.span,
            f"`{request.text}` is a GPU-only build{cost} installed into {_NO_GPU}",
            entry.get("fix")
            or f"Install `{entry['cpu']}` instead; keep the GPU build for an image that runs on a GPU.",
            size,
        )


def _gpu_only(request: PipRequest) -> dict | None:
    for entry in ml()["gpu_only"]:
        if not fnmatchcase(request.name, entry["pattern"]):
            continue
        extras = entry.get("extras")
        if extras is None or any(extra in extras for extra in request.extras):
            return entry
    return None


@check("GPU003")
def cuda_devel_final_stage(image: Image) -> Iterator[Finding]:
    found = final_cuda(image)
    if found is None or not found[0].devel or compiles_native(image):
        return
    cuda, stage = found
    flavours = ml()["cuda_flavours"]
    compiling = _runtime_kernel_compiler(image)
    if cuda.runtime_twin:
        instead = f"Use `{cuda.ref.name}:{(cuda.ref.tag or '').replace('devel', 'runtime')}` for the final stage"
    else:  # RunPod publishes development tags only
        version = f"{cuda.version[0]}.{cuda.version[1]}.<patch>" if cuda.version else "<version>"
        instead = (
            f"`{cuda.ref.name}` publishes no runtime tags: build the final stage on "
            f"`nvidia/cuda:{version}-cudnn-runtime-<os>`, or on `python:3.X-slim` with PyPI torch, whose wheels "
            "carry the CUDA libraries they need"
        )
    more = human_size(flavours["devel_extra_size"])
    extra = f"compiler, headers and static libraries, ~{more} more than the runtime image"
    if compiling is not None:  # nvcc may be what the service needs: said, not counted
        yield Finding(
            "GPU003",
            image.dockerfile_path,
            from_image_span(stage),
            f"the final image is built on the CUDA development image `{cuda.ref.raw}` ({extra}); no instruction "
            f"compiles anything, but `{compiling}`, which it installs, compiles CUDA kernels with nvcc when the "
            "service runs, and may need it",
            f"If the kernels it uses come prebuilt (an ahead-of-time build, a kernel cache), {instead[0].lower()}"
            f"{instead[1:]}; otherwise keep the development image.",
            severity=Severity.INFO,
        )
        return
    yield finding(
        image,
        "GPU003",
        from_image_span(stage),
        f"the final image is built on the CUDA development image `{cuda.ref.raw}` ({extra}), "
        "and no instruction of the final stage compiles anything",
        f"{instead}; if something must be compiled with nvcc, do it in a builder stage on `{cuda.ref.raw}` and "
        "copy the result.",
        flavours["devel_extra_size"],
    )


def _runtime_kernel_compiler(image: Image) -> str | None:
    """A package the image installs that compiles CUDA kernels with nvcc at run time (vLLM,
    FlashInfer, DeepSpeed: ml.toml ``runtime_kernel_compilers``), or None."""
    from dockerlint.model.installed_names import image_installs

    compilers = ml()["runtime_kernel_compilers"]["packages"]
    return next((item.name for item in image_installs(image).items if item.name in compilers), None)


def _cuda_base_installs(image: Image) -> Iterator[tuple[TorchInstall, object]]:
    """Torch installs on a CUDA base image, unless the image is a build environment that
    compiles against both (then neither copy is dead weight, and no driver runs it)."""
    found = final_cuda(image)
    if found is None or compiles_native(image):
        return
    cuda = found[0]
    for install in torch_installs(image):
        yield install, cuda


@check("GPU004")
def double_cuda(image: Image) -> Iterator[Finding]:
    for install, cuda in _cuda_base_installs(image):
        size, libraries = _cuda_libraries(install)
        names = _names(install.requests)
        if install.venv is not None:
            version = ".".join(map(str, install.replaces.torch_version or ()))
            shipped = f"the torch {version} that `{cuda.ref.raw}` ships" if version else f"`{cuda.ref.raw}`'s torch"
            yield finding(
                image,
                "GPU004",
                install.command.span,
                f"{names} {_verb(install.requests, 'installs')} into the virtual environment `{install.venv}`, "
                f"made without `--system-site-packages`, which does not see {shipped}: a second torch goes in "
                f"with {libraries} on top of the image's, and one copy is dead weight",
                f"Make the venv with `--system-site-packages` (`uv venv --system-site-packages {install.venv}`), so "
                "the image's torch satisfies the requirement, or install into the image's Python; or build on "
                "`python:3.X-slim` and let the torch wheels bring the CUDA libraries they need.",
                size,
                related=_related(image, install.requests, "requested here"),
            )
            continue
        if install.replaces is not None:
            version = ".".join(map(str, install.replaces.torch_version or ()))
            yield finding(
                image,
                "GPU004",
                install.command.span,
                f"{names} {_verb(install.requests, 'needs')} another torch than the torch {version} that "
                f"`{cuda.ref.raw}` ships, so pip "
                f"installs a second torch from the default index with {libraries} on top of the image's: "
                "one copy is dead weight",
                f"Pin {names} to a release that works with torch {version} (or pin torch to it), or choose a "
                "base image whose torch is the one these packages need.",
                size,
                related=_related(image, install.requests, "requested here"),
            )
            continue
        if not cuda.full or cuda.has_torch:
            continue
        they = "they require" if _several(install.requests) else "it requires"
        via = f" (through the torch {they})" if install.pulled else ""
        yield finding(
            image,
            "GPU004",
            install.command.span,
            f"{names}{via} {_verb(install.requests, 'brings')} {libraries} on top of the CUDA libraries in "
            f"`{cuda.ref.raw}`: one copy of "
            "CUDA is dead weight",
            f"Build on `{cuda.ref.name}:<version>-base-<os>` or `python:3.X-slim`: the torch wheels carry "
            "the CUDA libraries they need, and the GPU driver comes from the host.",
            size,
            related=_related(image, install.requests, "requested here"),
        )


@check("GPU005")
def cuda_version_mismatch(image: Image) -> Iterator[Finding]:
    for install, cuda in _cuda_base_installs(image):
        if cuda.version is None or install.cuda is None:
            continue
        wheel, base = install.cuda, cuda.version
        # A wheel built for an older CUDA runs on the newer driver a newer base asks for
        # (drivers run older CUDA applications), and torch wheels carry their own CUDA
        # libraries: only a newer wheel can fail. From CUDA 11 on, one of the same major
        # release runs on any driver of that family (NVIDIA's CUDA Compatibility guide,
        # "Minor Version Compatibility": 12.x needs a driver >= 525, 11.x >= 450): only a
        # newer major release can.
        if wheel <= base or (wheel[0] == base[0] and base[0] >= 11):
            continue
        reason = (
            "the base image only promises a driver for the older version, so the wheel may fail at start "
            "with 'driver too old'"
        )
        source = "PyPI's build" if install.default_index else "build"
        yield finding(
            image,
            "GPU005",
            install.command.span,
            f"{_names(install.requests)}: torch's {source} is for CUDA {_version(wheel)} but `{cuda.ref.raw}` "
            f"has CUDA {_version(base)}: {reason}",
            f"Install torch for CUDA {_version(base)} (`--index-url https://download.pytorch.org/whl/"
            f"cu{base[0]}{base[1]}`, where PyTorch publishes one) or use a base image with CUDA {_version(wheel)}.",
            related=_related(image, install.requests, "requested here"),
        )


@check("GPU006")
def cuda_base_without_gpu_use(image: Image) -> Iterator[Finding]:
    """A CUDA image under a service that nothing puts on a GPU. Framework images (which
    ship torch, TensorFlow, TensorRT) are IMG002's; images that compile CUDA code need theirs."""
    found = final_cuda(image)
    if found is None:
        return
    cuda, stage = found
    facts = base_image(cuda.ref)
    if facts is None or not facts.full_cuda or {"tensorflow", "tensorrt"} & set(facts.carries):
        return
    if facts.torch:
        yield from _cuda_torch_base_on_cpu(image, facts, stage)
        return
    if image.gpu or compiles_native(image) or not never_uses_gpu(image):
        return
    flavours = ml()["cuda_flavours"]
    # A -devel tag's compiler and headers are GPU003's to count; a devel image under
    # another name (runpod/base, rayproject/ray:*-cuXXX) has no GPU003 finding.
    untagged_devel = facts.cuda_libraries == "devel" and not facts.devel
    size = flavours["runtime_size"] + (flavours["devel_extra_size"] if untagged_devel else 0)
    yield finding(
        image,
        "GPU006",
        from_image_span(stage),
        f"the final stage is built on the CUDA image `{cuda.ref.raw}` (~{human_size(size)} or more of CUDA "
        "libraries), but nothing in the image uses a GPU: its code imports no GPU-capable module, pip installs "
        "none, and no compose file, config or deployment file runs it with a GPU",
        _cpu_twin(facts),
        size,
    )


def _cuda_torch_base_on_cpu(image: Image, facts, stage) -> Iterator[Finding]:
    """A framework image whose torch is a CUDA build (`pytorch/pytorch`) under code that
    uses torch but never names or asks for a GPU, which nothing runs with one: the CUDA
    libraries are dead weight. Said at info: a platform may still attach a GPU the
    repository does not mention. (Code that does not use torch at all is IMG002's.)"""
    if facts.torch != "cuda" or image.gpu or compiles_native(image) or not never_uses_gpu(image, torch_on_cpu=True):
        return
    from dockerlint.model.code import image_code

    imported = {path.split(".", 1)[0] for path in image_code(image, image.local_projects()).imports.run_time}
    users = set(load("base_images")["framework_users"].get("torch", ()))  # transformers runs on torch
    if "torch" not in imported and not imported & users:
        return  # a base whose framework the code does not use: IMG002
    size = torch_cuda_size() if facts.cuda_libraries == "wheels" else None
    yield Finding(
        "GPU006",
        image.dockerfile_path,
        from_image_span(stage),
        f"the final stage is built on `{facts.ref.raw}`, whose torch is a CUDA build, but nothing runs the "
        "image with a GPU and the code keeps torch on the CPU (it never names a CUDA device or asks for one)",
        "Build on `python:3.X-slim` and install torch from https://download.pytorch.org/whl/cpu (or pin "
        "`torch==X.Y.Z+cpu`); keep the CUDA image for GPU workloads.",
        size,
        severity=Severity.INFO,
    )


def _cpu_twin(facts) -> str:
    ref = facts.ref
    if ref.repository.startswith("rayproject/"):
        tag = re.sub(r"-(?:cu\d+|gpu)(?=-|$)", "", ref.tag or "")
        return (
            f"Use the CPU image `{ref.name}:{tag}` (`-cpu` or no platform suffix); keep the CUDA tag for GPU workers."
        )
    if ref.repository.startswith("runpod/"):
        return "Use a CPU base (`python:3.X-slim`, or a runpod/base tag without `cuda`); keep CUDA for GPU endpoints."
    return (
        "Use `python:3.X-slim` (or the distribution image the CUDA tag is built on); keep the CUDA image for "
        "GPU workloads."
    )
