"""CUDA where no GPU runs it, and CUDA twice: the bulk of a bloated ML image.

An image is CPU-only unless something says otherwise: a CUDA base image, a compose GPU
reservation, or ``gpu = true`` in the config (``gpu = false`` overrides the base image).
"""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase

from dockerlint.checks import check
from dockerlint.checks.common import final_chain, finding, from_image_span
from dockerlint.findings import Finding, Related, human_size
from dockerlint.model import Image
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

_NO_GPU = "an image with no GPU (no CUDA base image, no GPU reservation in compose or config)"


def _names(requests: tuple[PipRequest, ...]) -> str:
    return ", ".join(f"`{request.text}`" for request in dict.fromkeys(requests))


def _related(image: Image, requests: tuple[PipRequest, ...], message: str) -> list[Related]:
    return [
        Related(request.path, request.span, message) for request in requests if request.path != image.dockerfile_path
    ]


def _version(cuda: tuple[int, int]) -> str:
    return f"{cuda[0]}.{cuda[1]}"


@check("GPU001")
def cuda_torch_on_cpu_image(image: Image) -> Iterator[Finding]:
    if gpu_signal(image) is not None:
        return
    size, cpu_size = torch_cuda_size(), ml()["torch"]["cpu_installed_size"]
    for found in torch_installs(image):
        names = _names(found.requests)
        if found.pulled:
            what = f"{names} requires torch, which this install takes from the default index (PyPI)"
        elif found.default_index:
            what = f"{names} comes from the default index (PyPI)"
        else:
            label = f"CUDA {_version(found.cuda)}" if found.cuda else "CUDA"
            what = f"{names} is a {label} build of torch"
        yield finding(
            image,
            "GPU001",
            found.command.span,
            f"{what}: torch for Linux brings ~{human_size(size)} of CUDA libraries (nvidia-* wheels) into {_NO_GPU}",
            f"Install CPU torch (~{human_size(cpu_size)} installed) before this line: `{torch_fix_line(found)}`; "
            "pip then keeps it "
            "(or pin `torch==X.Y.Z+cpu` with `--extra-index-url https://download.pytorch.org/whl/cpu` "
            "in the requirements file).",
            size,
            related=_related(image, found.requests, "requested here"),
        )


@check("GPU002")
def gpu_package_on_cpu_image(image: Image) -> Iterator[Finding]:
    if gpu_signal(image) is not None:
        return
    for stage in install_stages(image):
        for command in pip_commands(image, stage):
            for request in command.requests:
                entry = _gpu_only(request)
                if entry is None:
                    continue
                size = entry.get("size")
                cost = f" (~{human_size(size)})" if size else ""
                yield Finding(
                    "GPU002",
                    request.path,
                    request.span,
                    f"`{request.text}` is a GPU-only build{cost} installed into {_NO_GPU}",
                    f"Install `{entry['cpu']}` instead; keep the GPU build for an image that runs on a GPU.",
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
    if found is None or not found[0].devel or _compiles(image):
        return
    cuda, stage = found
    flavours = ml()["cuda_flavours"]
    runtime = f"{cuda.ref.name}:{(cuda.ref.tag or '').replace('devel', 'runtime')}"
    yield finding(
        image,
        "GPU003",
        from_image_span(stage),
        f"the final image is built on the CUDA development image `{cuda.ref.raw}` (compiler, headers and "
        f"static libraries, ~{human_size(flavours['devel_extra_size'])} more than the runtime image), "
        "and no instruction of the final stage compiles anything",
        f"Use `{runtime}` for the final stage; if something must be compiled with nvcc, do it in a "
        f"builder stage on `{cuda.ref.raw}` and copy the result.",
        flavours["devel_extra_size"],
    )


def _compiles(image: Image) -> bool:
    """The final stage builds code (nvcc, make, a source build of a package): the devel
    image is then needed there, or at least it is a bigger refactor than a tag change."""
    compilers = set(ml()["cuda_flavours"]["compile_commands"])
    for stage in final_chain(image):
        for step in stage.steps:
            if "TORCH_CUDA_ARCH_LIST" in step.env:
                return True
            if any(command.name in compilers for command in step.commands):
                return True
            if any(install.has("--no-binary", "--no-build-isolation") for install in step.installs):
                return True
    return False


def _cuda_base_installs(image: Image) -> Iterator[tuple[TorchInstall, object]]:
    found = final_cuda(image)
    if found is None:
        return
    cuda = found[0]
    for install in torch_installs(image):
        if cuda.has_torch and install.pulled:
            continue  # the base's torch satisfies the package that needs it
        yield install, cuda


@check("GPU004")
def double_cuda(image: Image) -> Iterator[Finding]:
    size = torch_cuda_size()
    for install, cuda in _cuda_base_installs(image):
        if not cuda.full or cuda.has_torch:
            continue
        names = _names(install.requests)
        via = " (through the torch it requires)" if install.pulled else ""
        yield finding(
            image,
            "GPU004",
            install.command.span,
            f"{names}{via} brings its own CUDA libraries (~{human_size(size)} of nvidia-* wheels) on top "
            f"of the CUDA libraries in `{cuda.ref.raw}`: one copy of CUDA is dead weight",
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
        # CUDA minor-version compatibility: an older wheel of the same major runs fine.
        if wheel[0] == base[0] and wheel <= base:
            continue
        newer = wheel > base
        reason = (
            "the base image only promises a driver for the older version, so the wheel may fail at start "
            "with 'driver too old'"
            if newer
            else "a different CUDA major version from the one the image is built around"
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
