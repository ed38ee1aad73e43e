"""Which images a repository builds: each Dockerfile with its build context, target,
build arguments, platforms and GPU signal, and where the context comes from.

For each Dockerfile the most certain source that names it decides: the configuration
(``contexts``), then compose, bake and skaffold files, then build commands found in CI
workflows, Makefiles, scripts and package.json, then a guess from the file tree."""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct
from msgspec.structs import replace

from dockerlint.config import Config
from dockerlint.discover import Found
from dockerlint.errors import blame
from dockerlint.model import Image, build_image
from dockerlint.model.origin import BuildOrigin
from dockerlint.parse.dockerfile import expand
from dockerlint.paths import real_path
from dockerlint.regex import glob_match
from dockerlint.workspace import Workspace

if TYPE_CHECKING:
    from dockerlint.parse.buildcmd import RunCommand


class Build(Struct, frozen=True):
    dockerfile: Path
    context: Path
    target: str | None = None
    args: tuple[tuple[str, str], ...] = ()
    gpu: bool | None = None
    services: tuple[str, ...] = ()
    containers: tuple[str, ...] = ()  # compose `container_name`s: what `docker exec NAME` reaches
    compose_file: Path | None = None
    compose_files: tuple[Path, ...] = ()  # every compose file with a service built from it
    volumes: tuple[str, ...] = ()  # container paths the compose services mount volumes at
    mounts: tuple[tuple[str, Path], ...] = ()  # of those, the repository folders bound there: (path, folder)
    platforms: tuple[str, ...] = ()  # --platform of the build, when every source agrees
    origin: BuildOrigin | None = None  # where the context comes from
    named_contexts: tuple[str, ...] = ()  # bake `contexts`, compose `additional_contexts`, --build-context
    run_by_repository: tuple[tuple[str, ...], ...] = ()  # `docker run TAG pytest` in CI and scripts
    image_names: tuple[str, ...] = ()  # compose `image:`, `docker build -t`
    base_for_builders: bool = False  # other Dockerfiles start only builder stages FROM it
    base_for_others: bool = False  # other Dockerfiles start a stage FROM it (any stage)
    script_outputs: tuple[Path, ...] = ()  # files the repository's scripts write (`cat <<EOF > aws.env`)


def plan_builds(found: Found, config: Config, workspace: Workspace, project_root: Path) -> list[Build]:
    """One build per (Dockerfile, context, target), from the most certain source that
    names the Dockerfile; the configuration's context and target override any source."""
    from dockerlint.invocations import read_builds

    declared: dict[Path, list[Build]] = {}  # compose, bake, skaffold
    commands: dict[Path, list[Build]] = {}  # build commands in CI, Makefiles, scripts
    facts = read_builds(found.build_files, set(found.dockerfiles), workspace, project_root)
    tags: dict[Path, set[str]] = {}  # what build commands tag each Dockerfile's image, whichever source plans it
    for item in facts.builds:
        tags.setdefault(item.dockerfile, set()).update(_image_name(tag) for tag in item.tags)
    named = [path for path in facts.compose_files if path not in found.compose_files]  # `docker compose -f x.yml`
    for compose_path in found.compose_files + named:
        with blame(compose_path):
            compose_builds = _compose_builds(compose_path, workspace)
        for build in compose_builds:
            if os.path.isfile(build.dockerfile):
                declared.setdefault(build.dockerfile, []).append(build)
    for item in facts.builds:
        build = Build(
            item.dockerfile,
            item.context,
            item.target,
            item.args,
            platforms=item.platforms,
            origin=item.origin,
            named_contexts=item.named_contexts,
        )
        tier = commands if item.origin.kind == "command" else declared
        tier.setdefault(item.dockerfile, []).append(build)
    moved: dict[Path, list] = {}
    for move in facts.moves:
        moved.setdefault(move.dockerfile, []).append(move)

    compose_paths = found.compose_files + named
    # Compose services that run an image reference rather than build one (`image:
    # ${DJANGO_IMAGE}` in docker-compose.prod.yml): the deployed form of a service another
    # compose file builds, or the image a build command tags.
    image_services = _image_services(compose_paths, workspace)
    deployed: dict[str, list[Path]] = {}
    overrides: dict[str, list[tuple[Path, bool]]] = {}  # service -> (compose file, gives it a GPU)
    for service, compose_path in image_services:
        if service.image:
            deployed.setdefault(service.name, []).append(compose_path)
        else:
            overrides.setdefault(service.name, []).append((compose_path, service.gpu))
    builds: dict[tuple, Build] = {}
    for dockerfile in sorted(set(found.dockerfiles) | set(declared)):
        planned = declared.get(dockerfile) or commands.get(dockerfile) or []
        if dockerfile in declared:  # CI builds the `production` target that compose, building `development`, does not
            targets = {build.target for build in declared[dockerfile]}
            planned = planned + [
                build
                for build in commands.get(dockerfile, [])
                if build.target is not None and build.target not in targets
            ]
        configured = config.for_dockerfile(config.contexts, dockerfile)
        if configured is not None:
            context = real_path(config.root / configured)
            origin = BuildOrigin("config", config.path, None, f"contexts: {configured}")
            planned = [replace(build, context=context, origin=origin) for build in planned] or [
                Build(dockerfile, context, origin=origin)
            ]
        elif not planned:
            with blame(dockerfile):
                planned = [_guess(dockerfile, workspace, project_root, moved.get(dockerfile, []))]
        target = config.for_dockerfile(config.targets, dockerfile)
        gpu = config.for_dockerfile(config.gpu, dockerfile)
        for build in planned:
            if target is not None:
                build = replace(build, target=target)
            if gpu is not None:
                build = replace(build, gpu=gpu)
            more = tuple(path for service in build.services for path in deployed.get(service, ()))
            if more:  # docker-compose.prod.yml runs the `web` that docker-compose.yml builds
                build = replace(build, compose_files=tuple(dict.fromkeys(build.compose_files + more)))
            # `-f docker-compose.gpu.yml` beside the compose file: what it adds to the service
            folders = {path.parent for path in build.compose_files}
            added = [
                item for service in build.services for item in overrides.get(service, ()) if item[0].parent in folders
            ]
            if added:
                build = replace(
                    build,
                    compose_files=tuple(dict.fromkeys((*build.compose_files, *(path for path, _ in added)))),
                    gpu=True if any(gpu for _, gpu in added) else build.gpu,
                )
            key = (build.dockerfile, build.context, build.target)
            if key in builds and _conflicting_args(builds[key], build):
                key = (*key, build.args)  # `--build-arg NAME=api` and `NAME=ray`: two images, linted each
            builds[key] = _merge(builds[key], build) if key in builds else build
    named = {
        key: {_image_name(name) for name in build.image_names} | tags.get(build.dockerfile, set())
        for key, build in builds.items()
    }
    if any(named.values()):  # `image: app:latest` in compose runs what `docker build -t app` made
        for service, compose_path in image_services:
            for key, names in named.items():
                if service.image and _image_name(service.image) in names and service.name not in builds[key].services:
                    build = builds[key]
                    builds[key] = replace(
                        build,
                        services=(*build.services, service.name),
                        compose_files=tuple(dict.fromkeys((*build.compose_files, compose_path))),
                        volumes=tuple(dict.fromkeys((*build.volumes, *(volume.target for volume in service.volumes)))),
                        gpu=True if service.gpu else build.gpu,
                    )
    if any(named.values()):
        builder_bases, final_bases = _bases_of(found.dockerfiles, workspace)
        for key, names in named.items():
            if names & builder_bases and not names & final_bases:
                builds[key] = replace(builds[key], base_for_builders=True)
            if names & (builder_bases | final_bases):
                builds[key] = replace(builds[key], base_for_others=True)
    if facts.written:
        written = tuple(facts.written)
        builds = {key: replace(build, script_outputs=written) for key, build in builds.items()}
    if facts.runs:
        for key, build in builds.items():
            named = tags.get(build.dockerfile, set())
            ran = [run.command for run in facts.runs if run.command and _runs_in(run, build, named)]
            if ran:
                builds[key] = replace(build, run_by_repository=tuple(dict.fromkeys(ran)))
    by_context: dict[tuple[Path, Path], set[Path]] = {}
    for build in builds.values():
        if build.origin is not None and build.origin.path is not None:
            by_context.setdefault((build.dockerfile, build.context), set()).add(build.origin.path)
    for key, build in builds.items():
        others = by_context.get((build.dockerfile, build.context), set()) - {
            build.origin.path if build.origin else None
        }
        if others:
            builds[key] = replace(build, origin=replace(build.origin, also_by=tuple(sorted(others))))
    return sorted(builds.values(), key=lambda b: (str(b.dockerfile), str(b.context), b.target or ""))


def _runs_in(run: RunCommand, build: Build, tags: set[str]) -> bool:
    """Whether ``run`` runs in the image ``build`` makes: by its tag (`docker run app`), its
    compose service (`docker compose run web`), or its running container (`docker exec NAME`,
    by `container_name` or by the service's name, which users often give the container)."""
    if run.kind == "image":
        return _image_name(run.name) in tags
    if run.kind == "container":
        return run.name in build.containers or run.name in build.services
    if run.kind == "dockerfile":  # a CI job's `container:`, the image another job builds from it
        return run.name == str(build.dockerfile)
    return run.name in build.services


def _bases_of(dockerfiles: list[Path], workspace: Workspace) -> tuple[set[str], set[str]]:
    """(the images some Dockerfile starts a builder stage FROM, those it starts its last
    stage FROM): an image of the repository that only ever starts builder stages is a
    tool-chain image (`FROM acme/base AS builder`, then a clean slim final stage)."""
    builders, finals = set(), set()
    for path in dockerfiles:
        loaded = workspace.text(path, quiet=True, in_context=False)
        if loaded is None:
            continue
        bases = _FROM.findall(loaded[0].text)
        for number, base in enumerate(bases):
            name = _image_name(base)
            found = finals if number == len(bases) - 1 else builders
            # a name built without a namespace is often pushed under one (`cedrik-base`, then
            # `FROM acme/cedrik-base:latest`): the last part of the name matches it too
            found.update({name, name.rsplit("/", 1)[-1]})
    return builders, finals


# The image of each FROM line (its flags skipped): read without a parse, for every Dockerfile.
_FROM = re.compile(r"^[ \t]*FROM[ \t]+(?:--\S+[ \t]+)*([^\s]+)", re.IGNORECASE | re.MULTILINE)


def _image_name(reference: str) -> str:
    """An image reference as a run and a build both write it: `app` is `app:latest` and
    `docker.io/library/app`."""
    name = reference.removeprefix("docker.io/").removeprefix("library/")
    return name.removesuffix(":latest")


def _conflicting_args(first: Build, second: Build) -> bool:
    """Whether two sources build the Dockerfile with different values of one build argument
    (the Makefile's `--build-arg NAME=api` and `NAME=ray`): different images, not one."""
    values = dict(first.args)
    return any(name in values and values[name] != value for name, value in second.args)


def _merge(first: Build, second: Build) -> Build:
    """Two sources building the same image: services and volumes add up, build arguments
    and platforms are kept where they agree, the first source is named."""
    args = tuple(sorted(set(first.args) & set(second.args)))
    return replace(
        first,
        args=args,
        gpu=first.gpu if first.gpu == second.gpu else (True if True in (first.gpu, second.gpu) else None),
        services=first.services + tuple(s for s in second.services if s not in first.services),
        containers=tuple(dict.fromkeys(first.containers + second.containers)),
        image_names=tuple(dict.fromkeys(first.image_names + second.image_names)),
        compose_files=tuple(dict.fromkeys(first.compose_files + second.compose_files)),
        volumes=tuple(dict.fromkeys(first.volumes + second.volumes)),
        mounts=tuple(dict.fromkeys(first.mounts + second.mounts)),
        platforms=first.platforms if first.platforms == second.platforms else (),
    )


def build_image_of(build: Build, workspace: Workspace, settings: dict | None = None) -> Image | None:
    """The model of the image a build makes; None when its Dockerfile cannot be read."""
    dockerfile = workspace.dockerfile(build.dockerfile)
    if dockerfile is None:
        return None
    with blame(build.dockerfile):
        return build_image(
            workspace,
            build.dockerfile,
            dockerfile,
            build.context,
            target=build.target,
            build_args=dict(build.args),
            gpu=build.gpu,
            services=build.services,
            compose_file=build.compose_file,
            compose_files=build.compose_files,
            volumes=build.volumes,
            mounts=build.mounts,
            settings=settings,
            platforms=build.platforms,
            origin=build.origin,
            named_contexts=build.named_contexts,
            run_by_repository=build.run_by_repository,
            base_for_builders=build.base_for_builders,
            base_for_others=build.base_for_others,
            script_outputs=build.script_outputs,
        )


def _image_services(compose_paths: list[Path], workspace: Workspace) -> list[tuple]:
    """(service, compose file) of every compose service that builds nothing: one that runs
    an image reference (`image: filewhisperer:latest`), or one that adds to the service of
    that name another compose file defines (an override: `docker-compose.gpu.yml`'s
    `worker` with a GPU reservation only, no image)."""
    from dockerlint.parse.compose import parse_compose

    found = []
    for path in compose_paths:
        loaded = workspace.text(path, quiet=True)
        if loaded is None:
            continue
        for service in parse_compose(loaded[0].text).services:
            if service.context is None and service.dockerfile is None:
                found.append((service, path))
    return found


def _from_project_folder(path: str) -> str:
    """A compose path that starts from the shell's working folder (`${PWD}/backend/.Dockerfile`):
    `docker compose` is run from the compose file's folder, so it is that folder's path."""
    for prefix in ("${PWD}/", "$PWD/"):
        if path.startswith(prefix):
            return "./" + path[len(prefix) :]
    return path


def _compose_builds(compose_path: Path, workspace: Workspace) -> list[Build]:
    from dockerlint.parse.compose import parse_compose

    loaded = workspace.text(compose_path)
    if loaded is None:
        return []
    compose = parse_compose(loaded[0].text)
    workspace.add_problems(compose_path, compose.problems)
    builds = []
    for service in compose.services:
        if service.context is None and service.dockerfile is None:
            continue
        context_root = real_path(compose_path.parent / _from_project_folder(service.context or "."))
        written = service.dockerfile or "Dockerfile"
        from_project = _from_project_folder(written)  # an absolute path: not below the context
        dockerfile = real_path((compose_path.parent if from_project != written else context_root) / from_project)
        builds.append(
            Build(
                dockerfile,
                context_root,
                target=service.target,
                args=tuple(sorted(service.args.items())),
                gpu=True if service.gpu else None,
                services=(service.name,),
                containers=(service.container_name,) if service.container_name else (),
                image_names=(service.image,) if service.image else (),
                compose_file=compose_path,
                compose_files=(compose_path,),
                volumes=tuple(volume.target for volume in service.volumes),
                mounts=_repository_mounts(service.volumes, compose_path, workspace),
                origin=BuildOrigin("compose", compose_path, service.line, f"service {service.name}"),
                named_contexts=service.named_contexts,
            )
        )
    return builds


def _repository_mounts(volumes, compose_path: Path, workspace: Workspace) -> tuple[tuple[str, Path], ...]:
    """The service's bind mounts of repository folders (``.:/app``): at run time the
    container sees those files at that path, whatever the image put there. A named
    volume, a file, and a folder outside the repository are not code dockerlint can read."""
    mounts = []
    for volume in volumes:
        source = volume.source
        if not source or not source.startswith((".", "/")) or not volume.target.startswith("/"):
            continue  # a named volume (`cache:/root/.cache`), `~/...` or a relative target
        folder = real_path(compose_path.parent / source)
        if os.path.isdir(folder) and workspace.outside(folder, in_context=False) is None:
            mounts.append((posixpath.normpath(volume.target), folder))
    return tuple(mounts)


def _guess(dockerfile: Path, workspace: Workspace, project_root: Path, moves: list) -> Build:
    """No file says how it is built: the folder (a folder a build step moves it to first,
    else its own) unless its local COPY sources exist in more of its parent folders, up to
    the repository root. The other folders stay on record: a rule must not report a path
    missing from a guessed context when it is present in one of them."""
    folder = dockerfile.parent
    candidates = [move.destination.parent for move in moves] + [folder]
    if folder != project_root and project_root in folder.parents:
        parent = folder.parent
        while True:
            candidates.append(parent)
            if parent == project_root or parent == parent.parent:
                break
            parent = parent.parent
    candidates = list(dict.fromkeys(candidates))
    chosen = candidates[0]
    sources = []
    parsed = workspace.dockerfile(dockerfile) if len(candidates) > 1 else None
    if parsed is not None:
        sources = _local_copy_sources(parsed)
    if sources and not all(_exists(chosen, source) for source in sources):
        counts = [sum(_exists(candidate, source) for source in sources) for candidate in candidates]
        if max(counts) < len(sources):
            beside = _sibling_holding(folder, candidates, sources)
            if beside is not None:
                candidates.append(beside)
                counts.append(len(sources))
        chosen = candidates[counts.index(max(counts))]  # the nearest among the best
    if chosen == folder and any(posixpath.normpath(source) == "." for source in sources):
        chosen = _project_above(folder, candidates) or chosen
    if moves and chosen == moves[0].destination.parent:
        move = moves[0]
        detail = f"the folder it is moved to by `{move.origin.detail}`"
        origin = BuildOrigin("guess", move.origin.path, move.origin.line, detail, tuple(candidates))
    else:
        detail = "the Dockerfile's folder" if chosen == folder else "the folder that holds its COPY sources"
        origin = BuildOrigin("guess", None, None, detail, tuple(candidates))
    return Build(dockerfile, chosen, origin=origin)


def _project_above(folder: Path, candidates: list[Path]) -> Path | None:
    """For a Dockerfile that copies its whole context from a folder holding no project of
    its own (``docker/`` with Dockerfiles and a compose file), the nearest folder above
    that does (a pyproject.toml, requirements.txt or setup.py): `COPY . .` then `pip
    install -e .` means that project, not the Dockerfiles' folder."""
    if _holds_project(folder):
        return None
    for parent in candidates:
        if parent != folder and parent in folder.parents and _holds_project(parent):
            return parent
    return None


_PROJECT_FILES = ("pyproject.toml", "requirements.txt", "setup.py", "Pipfile")


def _holds_project(folder: Path) -> bool:
    """Whether the folder holds a Python project's manifest or Python code of its own."""
    try:
        names = [entry.name for entry in os.scandir(folder)]
    except OSError:
        return True  # unreadable: assume it does, keep the guess as it was
    return any(name in _PROJECT_FILES or name.endswith(".py") for name in names)


def _sibling_holding(folder: Path, candidates: list[Path], sources: list[str]) -> Path | None:
    """The one folder beside the Dockerfile's own or one of its parents' (``backend/`` for
    ``docker/backend.Dockerfile``) that holds every COPY source, when no folder on the way
    up does: a Dockerfile kept in a folder of its own, built with another as context. A
    Dockerfile at the repository root has no such folder: what it copies must be there."""
    if len(candidates) < 2 or not [source for source in sources if posixpath.normpath(source) != "."]:
        return None
    holding = []
    for parent in candidates[1:]:
        try:
            children = sorted(entry for entry in parent.iterdir() if entry.is_dir() and not entry.is_symlink())
        except OSError:
            continue
        for child in children[:MAX_GUESS_FOLDERS]:
            if child not in candidates and folder not in (child, *child.parents):
                if all(_exists(child, source) for source in sources):
                    holding.append(child)
    return holding[0] if len(holding) == 1 else None


MAX_GUESS_FOLDERS = 200  # folders looked at beside each one on the way up


def _local_copy_sources(dockerfile) -> list[str]:
    args = {name: default or "" for name, default in dockerfile.global_args}
    sources = []
    for instruction in dockerfile.instructions:
        if instruction.keyword not in ("COPY", "ADD") or instruction.flag("from") or instruction.heredocs:
            continue
        words = list(instruction.json_args) if instruction.json_args is not None else instruction.args.split()
        for word in words[:-1]:
            word = expand(word.strip("'\""), args, dockerfile.escape)
            if "://" in word or word.startswith("git@") or not word or "$" in word:
                continue
            sources.append(word)
    return list(dict.fromkeys(sources))[:MAX_GUESS_SOURCES]  # each is looked up in every candidate folder


MAX_GUESS_SOURCES = 1_000  # distinct COPY sources that decide a guessed context (real files name dozens)


def _exists(root: Path, source: str) -> bool:
    source = posixpath.normpath(source.lstrip("/"))
    if source == ".":
        return True
    if any(char in source for char in "*?["):
        parent = root / posixpath.dirname(source)
        pattern = posixpath.basename(source)
        try:
            return any(glob_match(entry.name, pattern) for entry in parent.iterdir())
        except OSError:
            return False
    return os.path.exists(root / source)
