"""Models and data baked into images: downloaded by a RUN, copied from the build context,
installed as packages, or cached inside the container at run time."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from dockerlint.checks import check
from dockerlint.checks.common import final_chain, finding
from dockerlint.context import ContextFile
from dockerlint.findings import Finding, Related, human_size
from dockerlint.model import Image
from dockerlint.model.ml import downloads, install_stages, ml, pip_commands
from dockerlint.parse.dockerfile import expand

_RUNTIME_FIX = (
    "Fetch models when the container starts into a cache on a volume (for example `ENV HF_HOME=/models` "
    "with a volume mounted at `/models`), or mount the weights at run time; if they must ship in the "
    "image, download them in a separate stage and `COPY --from` only the model files."
)


@check("MDL001")
def model_download_at_build(image: Image) -> Iterator[Finding]:
    for download in downloads(image):
        size = f" (~{human_size(download.size)})" if download.size else ""
        yield finding(
            image,
            "MDL001",
            download.span,
            f"{download.what} downloads model weights at build time{size}: they are baked into this layer, "
            "fetched again on every cache miss and shipped with every copy of the image",
            _RUNTIME_FIX,
            download.size,
            related=[Related(path, span, message) for path, span, message in download.related],
        )


@check("MDL002")
def model_files_copied(image: Image) -> Iterator[Finding]:
    settings = ml()["copied"]
    extensions = tuple(ml()["downloads"]["weight_extensions"])
    for stage in final_chain(image):
        for copy in stage.copies:
            if copy.from_stage is not None or copy.from_image or copy.mount_only or copy.heredoc:
                continue
            for source in copy.sources:
                if "://" in source.value:
                    continue  # ADD of a URL is a download (MDL001)
                weights = [
                    file
                    for file in image.context.glob(source.value)
                    if posixpath.splitext(file.path.lower())[1] in extensions and not file.is_symlink
                ]
                pointers = [file for file in weights if _lfs_pointer(image, file)]
                real = [file for file in weights if file not in pointers]
                total = sum(file.size for file in real)
                if pointers:
                    yield finding(
                        image,
                        "MDL002",
                        source.span,
                        f"`{source.value}` brings Git LFS pointer files, not weights: {_listing(pointers)}; "
                        "the model will fail to load in the container",
                        "Run `git lfs pull` before the build (in CI: check out with LFS), or better, "
                        "fetch the weights at run time into a volume.",
                    )
                if real and total >= settings["min_size"]:
                    yield finding(
                        image,
                        "MDL002",
                        source.span,
                        f"`{source.value}` copies {len(real)} model weight file{'s' if len(real) > 1 else ''} "
                        f"({human_size(total)}: {_listing(real)}) into the image: every rebuild and every "
                        "pull carries them",
                        "Mount the weights at run time (a volume or a bind mount), or fetch them at start "
                        "into a cache volume; add them to `.dockerignore` so the context stays small.",
                        total,
                    )


def _lfs_pointer(image: Image, file: ContextFile) -> bool:
    if file.size > 200:
        return False
    data = image.workspace.read_bytes(image.context_root / file.path, quiet=True) or b""
    return data.startswith(ml()["copied"]["lfs_pointer"].encode())


def _listing(files: list[ContextFile], shown: int = 3) -> str:
    largest = sorted(files, key=lambda file: (-file.size, file.path))
    names = ", ".join(f"`{file.path}`" for file in largest[:shown])
    return names + (f" and {len(files) - shown} more" if len(files) > shown else "")


@check("MDL003")
def model_cache_in_container(image: Image) -> Iterator[Finding]:
    final = image.final
    if final is None or not final.steps:
        return
    settings = ml()["caches"]
    final_env = final.steps[-1].env
    if any(_truthy(final_env.get(name)) for name in settings["offline"]):
        return
    variables = list(settings["variables"])
    if _installs_model_library(image):
        variables += settings["generic"]
    volumes = list(image.volumes) + _volume_instructions(image)
    for stage in final_chain(image):
        for step in stage.steps:
            if step.keyword != "ENV":
                continue
            for name in variables:
                match = re.search(rf"(?:^|\s){re.escape(name)}(?=[=\s])", step.instruction.args)
                value = step.env.get(name, "")
                if match is None or not value.startswith("/") or final_env.get(name) != value:
                    continue
                if any(_under(value, volume) for volume in volumes):
                    continue
                start = match.start() + (1 if match.group(0)[0].isspace() else 0)
                yield finding(
                    image,
                    "MDL003",
                    step.instruction.span_of(start, start + len(name)),
                    f"`{name}={value}` puts the model cache inside the container with no VOLUME or compose "
                    "volume there: models downloaded at run time land in the container layer and are "
                    "fetched again by every new container",
                    f"Mount a volume at `{value}` (compose `volumes:` or `docker run -v models:{value}`), "
                    f"or declare `VOLUME {value}`.",
                )


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _under(path: str, volume: str) -> bool:
    volume = volume.rstrip("/") or "/"
    return path == volume or path.startswith(volume.rstrip("/") + "/")


def _volume_instructions(image: Image) -> list[str]:
    found = []
    for stage in final_chain(image):
        for step in stage.steps:
            if step.keyword == "VOLUME":
                words = step.instruction.json_args or tuple(step.instruction.args.split())
                found += [expand(word, step.env, image.dockerfile.escape) for word in words]
    return found


def _installs_model_library(image: Image) -> bool:
    libraries = set(ml()["caches"]["model_libraries"])
    for stage in install_stages(image):
        for command in pip_commands(image, stage):
            if any(request.name in libraries for request in command.requests):
                return True
    return False


@check("MDL004")
def model_as_package(image: Image) -> Iterator[Finding]:
    settings = ml()["spacy_models"]
    name_pattern = re.compile(settings["name_regex"])
    for stage in install_stages(image):
        for command in pip_commands(image, stage):
            for request in command.requests:
                model = request.name.replace("-", "_")
                url = request.url or ""
                if not (name_pattern.match(model) or any(word in url for word in settings["url_words"])):
                    continue
                size = settings["size_sm"] if model.endswith("_sm") else None
                cost = f"~{human_size(size)}" if size else "up to hundreds of MB"
                yield Finding(
                    "MDL004",
                    request.path,
                    request.span,
                    f"the spaCy pipeline `{model}` is installed as a Python package: its weights ({cost}) "
                    "are baked into the image and every model update means a rebuild",
                    f"Keep the pipeline out of the image: put it on a volume and load it by path "
                    f'(`spacy.load("/models/{model}")`); if it must ship, pin it and accept the size.',
                    size,
                )
