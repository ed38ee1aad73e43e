"""Models and data baked into images: downloaded by a RUN, copied from the build context,
installed as packages, or cached inside the container at run time."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from fnmatch import translate
from functools import cache

from dockerlint.checks import check
from dockerlint.checks.common import external_base, final_chain, finding
from dockerlint.context import ContextFile
from dockerlint.findings import Finding, Related, human_size
from dockerlint.model import Image
from dockerlint.model.baseimage import base_image
from dockerlint.model.documented import documented_volumes
from dockerlint.model.fetch_scripts import FetchScripts
from dockerlint.model.ml import (
    build_steps_that_may_download,
    downloads,
    install_stages,
    ml,
    model_size,
    pip_commands,
    spacy_pipeline,
    stage_downloads,
    start_may_download,
    startup_downloads,
)
from dockerlint.model.queries import truthy
from dockerlint.parse.dockerfile import expand

_BAKED = "baked into this layer, fetched again on every cache miss and shipped with every copy of the image"
_SERVERLESS_FIX = (
    "A function mounts no volume and its CMD names the handler: keep the model in the image, but download it "
    "in a separate stage and `COPY --from` only the model files, so that the download tools and caches stay there."
)
_RUNTIME_FIX = (
    "Fetch models when the container starts into a cache on a volume (for example `ENV HF_HOME=/models` "
    "with a volume mounted at `/models`), or mount the weights at run time; if they must ship in the "
    "image, download them in a separate stage and `COPY --from` only the model files."
)


@check("MDL001")
def model_download_at_build(image: Image) -> Iterator[Finding]:
    serverless = _serverless(image)
    offline = _offline(image)
    fetched: dict[tuple, set[str]] = {}  # (cache family, model) -> the kinds earlier steps fetched into it
    for download in downloads(image):
        if download.kind == "package-data":
            continue  # NLTK's punkt or stopwords: small data the code reads, meant to be baked
        if download.model and download.folder is None and download.family:
            kinds = fetched.setdefault((download.family, _model_key(download.model)), set())
            cached = "weights" in kinds or download.kind in kinds
            kinds.add(download.kind)
            if cached:
                continue  # an earlier step fetched it into the same cache: this load finds it there
        if offline and download.family == "hf":
            continue  # `HF_HUB_OFFLINE=1` in the final image: it is made to find its models baked in
        installed = _installed_spacy_model(image, download)
        if installed is not None:
            yield finding(
                image,
                "MDL001",
                download.span,
                f"{download.what} installs `{download.model}` at build time, which the image installs already "
                f"(`{installed.written}` at {installed.path.name}:{installed.span.line}): this download adds "
                "nothing but build time and a dependency on the network",
                "Delete this download: the requirements install the model's package.",
                related=[Related(installed.path, installed.span, "the model's package is installed here")],
            )
            continue
        if _small_spacy_pipeline(download.model):
            continue  # en_core_web_sm: a 12 MB package the code loads at import, shipped as spaCy's docs say
        if _into_cache_mount(image, download):
            continue  # fetched once into the builder's cache; whatever the RUN copies out is meant to ship
        details = [f"`{download.model}`"] if download.model and download.model not in download.what else []
        details += [f"~{human_size(download.size)}"] if download.size else []
        named = f" ({', '.join(details)})" if details else ""
        also = ""
        if download.also:
            shown = ", ".join(download.also[:2]) + (" …" if len(download.also) > 2 else "")
            also = f"; {shown} fetch{'es' if len(download.also) == 1 else ''} files of the same model"
        if download.kind == "tokenizer":
            what = f"downloads tokenizer or config files{named} at build time (small, not weights)"
            cost = "they are baked into this layer and the build needs the model hub on every cache miss"
        elif download.kind == "data":
            what = f"downloads model data{named} at build time"
            cost = f"it is {_BAKED}"
        else:
            what = f"downloads model weights{named} at build time"
            cost = f"they are {_BAKED}"
        if serverless:  # no volume to fetch into at start-up: the model belongs in the image
            cost = "on a function runtime the model belongs in the image, but the download's tools and caches ship too"
        yield finding(
            image,
            "MDL001",
            download.span,
            f"{download.what} {what}{also}: {cost}",
            _SERVERLESS_FIX if serverless else _RUNTIME_FIX,
            download.size,
            related=[Related(path, span, message) for path, span, message in download.related],
            autofix=None if serverless else _startup_suggestion(image, download),
        )


def _offline(image: Image) -> bool:
    """Whether the final image turns the Hugging Face libraries' downloads off
    (`HF_HUB_OFFLINE=1`, `TRANSFORMERS_OFFLINE=1`): its models must be in the image."""
    final = image.final
    if final is None or not final.steps:
        return False
    env = final.steps[-1].env
    return any(truthy(env.get(name)) for name in ml()["caches"]["offline"])


def _serverless(image: Image) -> bool:
    """Whether the final stage runs on a function runtime (AWS Lambda's base images)."""
    final = image.final
    if final is None:
        return False
    ref, _ = external_base(image, final)
    facts = base_image(ref)
    return facts is not None and facts.serverless


def _platform_image_volumes(image: Image) -> list[str]:
    """The folders a platform mounts its volume at, for an image made for that platform (a
    base of its own, or its SDK installed): RunPod's /workspace."""
    from dockerlint.model.installed_names import image_installs

    ref = external_base(image, image.final)[0] if image.final is not None else None
    base = ref.raw if ref is not None else ""
    installed = {item.name for item in image_installs(image).items}
    found = []
    for platform in ml()["caches"]["platform_image_volumes"].values():
        if any(base.startswith(prefix) for prefix in platform["bases"]) or installed & set(platform["packages"]):
            found += platform["volumes"]
    return found


def _small_spacy_pipeline(model: str | None) -> bool:
    """A spaCy pipeline of a small or medium size (`en_core_web_sm`, `de_core_news_md`)."""
    if not model or not spacy_pipeline(model):
        return False
    return model.rsplit("_", 1)[-1] in ml()["spacy_models"]["baked_sizes"]


def _installed_spacy_model(image: Image, download):
    """The install that already puts a spaCy pipeline's package (``en-core-web-sm``, often
    as ``en_core_web_sm @ https://…``) into the image that ``spacy download`` fetches."""
    from dockerlint.model.distributions import canonical
    from dockerlint.model.installed_names import image_installs

    if not download.model or "spacy download" not in download.what:
        return None
    wanted = canonical(download.model)
    return next((item for item in image_installs(image).items if item.name == wanted), None)


def _startup_suggestion(image: Image, download):
    """Shown, never applied: the RUN that downloads goes, and the final CMD runs the same
    command first at start-up (where the model cache should be a volume, MDL003)."""
    from dockerlint.checks import fixing
    from dockerlint.findings import Edit
    from dockerlint.source import Span

    stage_index, step_index = download.position
    step = image.stages[stage_index].steps[step_index]
    final = image.final
    if step.keyword != "RUN" or len(step.commands) != 1 or final is None or image.stages[stage_index] is not final:
        return None
    command = fixing.span_text(image, step.commands[0].span)
    cmd = next((s for s in reversed(final.steps) if s.keyword == "CMD"), None)
    if "\n" in command or cmd is None or not cmd.instruction.json_args:
        return None
    import shlex

    service = shlex.join(cmd.instruction.json_args)
    run = step.instruction.span
    cmd_span = cmd.instruction.span
    if run.end_line >= cmd_span.line:
        return None
    new_cmd = fixing.json_form(["sh", "-c", f"{command} && exec {service}"])
    edits = (
        Edit(image.dockerfile_path, Span(run.line, 1, run.end_line + 1, 1), ""),
        Edit(image.dockerfile_path, cmd_span, f"CMD {new_cmd}"),
    )
    return fixing.display_only("Download at start-up, before the service", *edits)


@check("MDL002")
def model_files_copied(image: Image) -> Iterator[Finding]:
    settings = ml()["copied"]
    extensions = tuple(ml()["downloads"]["weight_extensions"])
    scripts = FetchScripts(image)
    first_copy: dict[str, int] = {}  # weight file -> line of the COPY that first brought it
    for stage in reversed(final_chain(image)):
        for copy in sorted(stage.copies, key=lambda copy: copy.step_index):
            if copy.from_stage is not None or copy.from_image or copy.mount_only or copy.heredoc:
                continue
            for source in copy.sources:
                if "://" in source.value:
                    continue  # ADD of a URL is a download (MDL001)
                selected = [file for file in image.context.glob(source.value) if not file.is_symlink]
                if not selected:
                    yield from _filled_by_script(image, scripts, copy, source)
                    continue
                stores = _stores(selected)
                in_store = {file.path for _, files in stores for file in files}
                weights = [
                    file
                    for file in selected
                    if posixpath.splitext(file.path.lower())[1] in extensions and file.path not in in_store
                ]
                pointers = [
                    file
                    for file in weights
                    if _lfs_pointer(image, file) and not _mounted_over(image, copy, source.value, file.path)
                ]
                real = [file for file in weights if file not in pointers]
                again = [file for file in real if file.path in first_copy]
                fresh = [file for file in real if file.path not in first_copy]
                for file in fresh:
                    first_copy[file.path] = copy.instruction.span.line
                total = sum(file.size for file in fresh)
                if pointers and not _ci_fetches_lfs(image):
                    yield finding(
                        image,
                        "MDL002",
                        source.span,
                        f"`{source.value}` brings Git LFS pointer files, not weights: {_listing(pointers)}; "
                        "the model will fail to load in the container",
                        "Run `git lfs pull` before the build (in CI: check out with LFS), or better, "
                        "fetch the weights at run time into a volume.",
                    )
                if fresh and total >= settings["min_size"]:
                    yield finding(
                        image,
                        "MDL002",
                        source.span,
                        f"`{source.value}` copies {len(fresh)} model weight file{'s' if len(fresh) > 1 else ''} "
                        f"({human_size(total)}: {_listing(fresh)}) into the image: every rebuild and every "
                        "pull carries them",
                        "Mount the weights at run time (a volume or a bind mount), or fetch them at start "
                        "into a cache volume; add them to `.dockerignore` so the context stays small.",
                        total,
                    )
                twice = sum(file.size for file in again)
                if again and twice >= settings["min_size"]:
                    lines = sorted({first_copy[file.path] for file in again})
                    yield finding(
                        image,
                        "MDL002",
                        source.span,
                        f"`{source.value}` copies {_listing(again)} ({human_size(twice)}) again: line "
                        f"{', '.join(map(str, lines))} already put {'it' if len(again) == 1 else 'them'} in the "
                        "image, so every copy of the image stores the weights twice",
                        "Copy the weights once (exclude them from the broad COPY with `.dockerignore`, or drop "
                        "the second COPY), or better, mount them at run time.",
                        twice,
                    )
                for store, files in stores:
                    size = sum(file.size for file in files)
                    if size < settings["store_min_size"]:
                        continue
                    yield finding(
                        image,
                        "MDL002",
                        source.span,
                        f"`{source.value}` copies a pre-built {store} index ({_listing(files, 2)}, "
                        f"{human_size(size)}) into the image: every change to the data means a rebuild, and "
                        "every pull carries it",
                        "Keep the index outside the image: mount it as a volume, or build or fetch it when the "
                        "service starts (from object storage), and add it to `.dockerignore`.",
                        size,
                    )


def _filled_by_script(image: Image, scripts: FetchScripts, copy, source) -> Iterator[Finding]:
    """A COPY of a folder the build context does not hold but one of its scripts fills
    with a model before the build (``snapshot_download(..., local_dir="models")``)."""
    if any(char in source.value for char in "*?[$"):
        return
    filled = scripts.filling(source.value)
    if filled is None:
        return
    size = model_size("huggingface", filled.model)
    model = f" (`{filled.model}`{f', ~{human_size(size)}' if size else ''})" if filled.model else ""
    shown = filled.path.relative_to(image.context_root).as_posix()
    yield finding(
        image,
        "MDL002",
        source.span,
        f"`{copy.instruction.keyword} {source.value}` copies `{filled.folder}/`, which `{shown}` fills with "
        f"`{filled.written}`{model} before the build: the weights are baked into the image, and every "
        "rebuild and every pull carries them",
        "Mount the folder at run time (a volume or a bind mount), or have the service download the model "
        "into a cache volume when it starts; keep the folder in `.dockerignore`.",
        size,
        related=[Related(filled.path, filled.span, "downloads the model into the folder")],
    )


def _stores(files: list[ContextFile]) -> list[tuple[str, list[ContextFile]]]:
    """Pre-built vector stores among copied files, each with the files that belong to it."""
    found: list[tuple[str, list[ContextFile]]] = []
    taken: set[str] = set()
    for store, is_marker in _store_markers():
        # A context of thousands of files holds a marker rarely: the names are matched first.
        for marker in [file for file in files if is_marker(file.path.rpartition("/")[2])]:
            if marker.path in taken:
                continue
            folder = marker.path.rpartition("/")[0]
            if store["scope"] == "folder":
                if not folder:
                    continue  # a store at the context root cannot be told from the rest
                members = [file for file in files if file.path.startswith(folder + "/")]
            else:
                stem = posixpath.splitext(marker.path)[0]
                members = [file for file in files if posixpath.splitext(file.path)[0] == stem]
            members = [file for file in members if file.path not in taken]
            taken |= {file.path for file in members}
            found.append((store["name"], members))
    return found


@cache
def _store_markers() -> list[tuple[dict, Callable[[str], object]]]:
    """Each store of the table with a test of a file name against its marker pattern."""
    return [(store, re.compile(translate(store["marker"])).match) for store in ml()["copied"]["stores"]]


def _into_cache_mount(image: Image, download) -> bool:
    """Whether the download fills a BuildKit cache mount of its RUN: its cache variable,
    set on the command or in the environment, points into the mount
    (`RUN --mount=type=cache,target=/tmp/fastembed-cache FASTEMBED_CACHE_PATH=/tmp/fastembed-cache
    python preload.py`): a layer cache miss does not fetch it again."""
    stage_index, step_index = download.position
    step = image.stages[stage_index].steps[step_index]
    targets = [target.rstrip("/") for target in step.cache_mount_targets() if target.startswith("/")]
    if not targets or not download.caches:
        return False
    values = [step.env.get(name, "") for name in download.caches]
    values += [
        value for command in step.commands for name, value in command.command.assignments if name in download.caches
    ]
    return any(_under(value, target) for value in values if value.startswith("/") for target in targets)


def _mounted_over(image: Image, copy, source: str, path: str) -> bool:
    """Whether a compose volume of the image's services is mounted where ``copy`` puts the
    context file ``path`` (or above it): the running container sees the mounted files, not
    the copied pointer (`./src:/app/src` over the `.onnx` files that `COPY . .` took)."""
    if not image.volumes:
        return False
    source_clean = posixpath.normpath("/" + source).lstrip("/") or "."
    if source_clean == "." or path.startswith(source_clean.rstrip("/") + "/"):
        rest = path if source_clean == "." else path[len(source_clean.rstrip("/")) + 1 :]
        target = posixpath.join(copy.dest, rest)
    else:
        target = posixpath.join(copy.dest, posixpath.basename(path)) if copy.dest_is_dir else copy.dest
    target = posixpath.normpath(target)
    return any(target == volume or target.startswith(volume.rstrip("/") + "/") for volume in image.volumes)


def _ci_fetches_lfs(image: Image) -> bool:
    """Whether the repository's CI checks out with Git LFS objects (actions/checkout's
    `lfs: true`, `git lfs pull`): the pointers of this checkout are weights there."""
    root = image.workspace.root
    if root is None:
        return False
    settings = ml()["copied"]
    for pattern in settings["ci_files"]:
        for path in sorted(root.glob(pattern)):
            loaded = image.workspace.text(path, quiet=True)
            if loaded is not None and re.search(settings["lfs_fetch"], loaded[0].text):
                return True
    return False


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
    if any(truthy(final_env.get(name)) for name in settings["offline"]):
        return
    variables = list(settings["variables"])
    if _installs_model_library(image):
        variables += settings["generic"]
    volumes = [*image.volumes, *_volume_instructions(image), *documented_volumes(image), *settings["platform_volumes"]]
    volumes += _platform_image_volumes(image)
    yield from _startup_download_findings(image, volumes)
    prefilled: set[tuple[str, str]] | None = None  # read only when a variable would be reported
    reported: set[str] = set()  # HF_HOME and HUGGINGFACE_HUB_CACHE at one folder, or one below it: one finding
    for stage in final_chain(image):
        for step in stage.steps:
            if step.keyword != "ENV":
                continue
            for name in variables:
                match = re.search(rf"(?:^|\s){re.escape(name)}(?=[=\s])", step.instruction.args)
                value = step.env.get(name, "")
                if match is None or not value.startswith("/") or final_env.get(name) != value:
                    continue
                if any(_under(value, done) or _under(done, value) for done in reported):
                    continue  # HUGGINGFACE_HUB_CACHE=$HF_HOME/hub: the volume the finding asks for covers it
                if any(_under(value, volume) for volume in volumes):
                    continue
                prefilled = _prefilled(image) if prefilled is None else prefilled
                if (name, value) in prefilled:
                    continue
                if start_may_download(image) is False:
                    return  # the service's code loads its models from local folders (a mounted `./ml`)
                start = match.start() + (1 if match.group(0)[0].isspace() else 0)
                reported.add(value)
                yield finding(
                    image,
                    "MDL003",
                    step.instruction.span_of(start, start + len(name)),
                    f"`{name}={value}` puts the model cache inside the container with no VOLUME or compose "
                    "volume there: models downloaded at run time land in the container layer and are "
                    "fetched again by every new container",
                    f"Mount a volume at `{value}` (compose `volumes:` or `docker run -v models:{value}`), "
                    f"or declare `VOLUME {value}`.",
                    autofix=_volume_fix(image, final, value),
                )


def _startup_download_findings(image: Image, volumes: list[str]) -> Iterator[Finding]:
    """The service's code downloads a model when the container starts, into the default
    cache (no cache variable set: an ENV one is reported above), with no volume over it and
    no build-time download of the same model to find there."""
    if _serverless(image):
        return  # a function runtime: MDL001's advice (the model ships in the image) applies
    final_env = image.final.steps[-1].env
    home = image.final.steps[-1].home.rstrip("/") or "/"
    baked = {_model_key(download.model) for download in downloads(image)}
    by_cache: dict[tuple[str, ...], list] = {}  # one cache, one decision: its models in one finding
    for download in startup_downloads(image):
        if download.kind != "weights" or not download.caches or any(final_env.get(n) for n in download.caches):
            continue  # a call with its own folder (`local_dir=`), or a cache variable reported above
        if not download.model or not ("/" in download.model or download.size):
            continue  # a variable may name a mounted folder; a bare word may be a task (`pipeline(task, model=m)`)
        if _model_key(download.model) in baked or "" in baked:
            continue  # the build downloaded it already (`all-MiniLM-L6-v2` is `sentence-transformers/all-MiniLM-L6-v2`)
        if any(_under(volume, home) or _under(home, volume) for volume in volumes):
            continue  # a volume over the home folder, or within it (~/.cache/huggingface)
        by_cache.setdefault(download.caches, []).append(download)
    for group in by_cache.values():
        first = group[0]
        named = f" `{first.model}`" if first.model and first.model not in first.what else ""
        sizes = [download.size for download in group]
        size = sum(sizes) if all(sizes) else None
        cost = f" (~{human_size(size)})" if size else ""
        what = f"{first.what} downloads model weights{named}"
        related = [Related(path, span, message) for download in group for path, span, message in download.related]
        if len(group) > 1:
            models = ", ".join(f"`{download.model}`" for download in group)
            more = f"{len(group) - 1} more load{'s' if len(group) > 2 else ''}"
            what = f"{first.what} and {more} download model weights ({models})"
        yield finding(
            image,
            "MDL003",
            first.span,
            f"{what}{cost} each time a container starts, into the "
            f"library's default cache under `{home}` inside the container: every new container (each deploy, "
            "restart on another node, replica) fetches them again",
            "Point the library's cache at a volume (for example `ENV HF_HOME=/models` with a volume mounted at "
            "`/models`), or download the model in a build stage and `COPY --from` it if it must ship in the image.",
            size,
            related=related,
        )


def _model_key(model: str | None) -> str:
    return (model or "").rstrip("/").rsplit("/", 1)[-1].lower()


def _volume_fix(image: Image, final, value: str):
    """``VOLUME`` at the cache, after the last instruction of the final stage that writes
    files (a later RUN's writes there would not persist)."""
    from dockerlint.checks import fixing
    from dockerlint.findings import Edit
    from dockerlint.source import Span

    if any(char.isspace() or char in "$\"'\\" for char in value):
        return None
    writers = [step for step in final.steps if step.keyword in ("FROM", "RUN", "COPY", "ADD", "WORKDIR")]
    span = writers[-1].instruction.span
    end = len(image.dockerfile.text.line(span.end_line)) + 1
    edit = Edit(image.dockerfile_path, Span(span.end_line, end, span.end_line, end), f"\nVOLUME {value}")
    return fixing.unsafe(f"Declare `VOLUME {value}`", edit)


def _prefilled(image: Image) -> set[tuple[str, str]]:
    """(variable, value) pairs whose cache a build-time download of the final image fills
    (or may fill: the build runs the service's own code, which loads a model in a way not
    followed to its name): the running container finds those models there."""
    filled = set()
    final_env = image.final.steps[-1].env if image.final is not None and image.final.steps else {}
    for download in downloads(image):
        stage_index, step_index = download.position
        env = image.stages[stage_index].steps[step_index].env
        filled |= {(name, env[name]) for name in download.caches if env.get(name)}
        if download.folder:  # `nltk.download(..., download_dir=D)`, then `ENV NLTK_DATA=D`
            folder = posixpath.normpath(
                posixpath.join(image.stages[stage_index].steps[step_index].workdir or "/", download.folder)
            )
            filled |= {(name, value) for name, value in final_env.items() if value.rstrip("/") == folder}
    for (stage_index, step_index), caches in build_steps_that_may_download(image).items():
        env = image.stages[stage_index].steps[step_index].env
        filled |= {(name, env[name]) for name in caches if env.get(name)}
    return filled | _copied_caches(image)


def _copied_caches(image: Image) -> set[tuple[str, str]]:
    """(variable, value) pairs whose cache a `COPY --from` brings from a stage that used the
    same variable for its cache there (a model-downloader stage with `HF_HOME=/app/.cache/hf`,
    then `COPY --from=model-downloader /app/.cache /app/.cache`), or that downloaded into a
    folder the copy takes (`nltk.downloader -d /app/a2a/nltk_data`, `COPY --from=builder
    /app/a2a /app`, then `ENV NLTK_DATA=/app/nltk_data`)."""
    settings = ml()["caches"]
    names = [*settings["variables"], *settings["generic"]]
    final_env = image.final.steps[-1].env if image.final is not None and image.final.steps else {}
    filled = set()
    for stage in final_chain(image):
        for copy in stage.copies:
            if copy.from_stage is None or copy.mount_only or not image.stages[copy.from_stage].steps:
                continue
            source_stage = image.stages[copy.from_stage]
            source_env = source_stage.steps[-1].env
            folders = []
            for download in stage_downloads(image, source_stage) if final_env else ():
                if download.folder:
                    workdir = source_stage.steps[download.position[1]].workdir or "/"
                    folders.append(posixpath.normpath(posixpath.join(workdir, download.folder)))
            for argument in copy.sources:
                source = posixpath.normpath(argument.value)
                for name in names:
                    value = source_env.get(name, "")
                    if value.startswith("/") and _under(value, source):
                        relative = posixpath.relpath(value, source)
                        filled.add((name, posixpath.normpath(posixpath.join(copy.dest, relative))))
                for folder in folders:
                    if _under(folder, source):
                        landed = posixpath.normpath(posixpath.join(copy.dest, posixpath.relpath(folder, source)))
                        filled |= {(name, value) for name, value in final_env.items() if value.rstrip("/") == landed}
    return filled


def _under(path: str, volume: str) -> bool:
    """Whether the volume covers the path; a volume at a path compose leaves to a variable
    (``${DATA_ROOT}``) may be anywhere."""
    if "$" in volume:
        return True
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
    for stage in install_stages(image):
        for command in pip_commands(image, stage):
            for request in command.requests:
                model = request.name.replace("-", "_")
                url = request.url or ""
                if not (spacy_pipeline(model) or any(word in url for word in settings["url_words"])):
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
