"""Which images a repository builds: each Dockerfile with its build context, target,
build arguments and GPU signal, from compose files, configuration and the file tree."""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from pathlib import Path

from dockerlint.config import Config
from dockerlint.discover import Found
from dockerlint.errors import blame
from dockerlint.model import Image, build_image
from dockerlint.parse.dockerfile import expand
from dockerlint.paths import real_path
from dockerlint.workspace import Workspace


@dataclass(frozen=True)
class Build:
    dockerfile: Path
    context: Path
    target: str | None = None
    args: tuple[tuple[str, str], ...] = ()
    gpu: bool | None = None
    services: tuple[str, ...] = ()
    compose_file: Path | None = None
    volumes: tuple[str, ...] = ()  # container paths the compose services mount volumes at


def plan_builds(found: Found, config: Config, workspace: Workspace, project_root: Path) -> list[Build]:
    """One build per (Dockerfile, context, target): compose first, then config, then the
    Dockerfile's folder, then the repository root when COPY sources exist only there."""
    builds: dict[tuple, Build] = {}
    from_compose: set[Path] = set()
    for compose_path in found.compose_files:
        with blame(compose_path):
            compose_builds = _compose_builds(compose_path, workspace)
        for build in compose_builds:
            if not os.path.isfile(build.dockerfile):
                continue
            key = (build.dockerfile, build.context, build.target)
            if key in builds:  # two services building the same image
                previous = builds[key]
                build = replace(
                    previous,
                    gpu=bool(previous.gpu) or bool(build.gpu) or None,
                    services=previous.services + build.services,
                    volumes=tuple(dict.fromkeys(previous.volumes + build.volumes)),
                )
            builds[key] = build
            from_compose.add(build.dockerfile)
    for dockerfile in found.dockerfiles:
        if dockerfile in from_compose:
            continue
        context = config.for_dockerfile(config.contexts, dockerfile)
        if context is not None:
            context_root = real_path(config.root / context)
        else:
            with blame(dockerfile):
                context_root = _guess_context(dockerfile, workspace, project_root)
        target = config.for_dockerfile(config.targets, dockerfile)
        builds[(dockerfile, context_root, target)] = Build(dockerfile, context_root, target)
    planned = []
    for build in builds.values():
        gpu = config.for_dockerfile(config.gpu, build.dockerfile)
        if gpu is not None:
            build = replace(build, gpu=gpu)
        planned.append(build)
    planned.sort(key=lambda b: (str(b.dockerfile), str(b.context), b.target or ""))
    return planned


def build_images(builds: list[Build], workspace: Workspace, settings: dict | None = None) -> list[Image]:
    images = []
    for build in builds:
        dockerfile = workspace.dockerfile(build.dockerfile)
        if dockerfile is None:
            continue
        with blame(build.dockerfile):
            image = build_image(
                workspace,
                build.dockerfile,
                dockerfile,
                build.context,
                target=build.target,
                build_args=dict(build.args),
                gpu=build.gpu,
                services=build.services,
                compose_file=build.compose_file,
                volumes=build.volumes,
                settings=settings,
            )
        images.append(image)
    return images


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
        context_root = real_path(compose_path.parent / (service.context or "."))
        dockerfile = real_path(context_root / (service.dockerfile or "Dockerfile"))
        builds.append(
            Build(
                dockerfile,
                context_root,
                target=service.target,
                args=tuple(sorted(service.args.items())),
                gpu=True if service.gpu else None,
                services=(service.name,),
                compose_file=compose_path,
                volumes=tuple(volume.target for volume in service.volumes),
            )
        )
    return builds


def _guess_context(dockerfile: Path, workspace: Workspace, project_root: Path) -> Path:
    """The Dockerfile's folder, unless its local COPY sources exist only at the root."""
    folder = dockerfile.parent
    if folder == project_root:
        return folder
    parsed = workspace.dockerfile(dockerfile)
    if parsed is None:
        return folder
    sources = list(_local_copy_sources(parsed))
    if not sources:
        return folder
    if all(_exists(folder, source) for source in sources):
        return folder
    if all(_exists(project_root, source) for source in sources):
        return project_root
    return folder


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
    return sources


def _exists(root: Path, source: str) -> bool:
    source = posixpath.normpath(source.lstrip("/"))
    if source == ".":
        return True
    if any(char in source for char in "*?["):
        parent = root / posixpath.dirname(source)
        pattern = posixpath.basename(source)
        try:
            return any(fnmatchcase(entry.name, pattern) for entry in parent.iterdir())
        except OSError:
            return False
    return os.path.exists(root / source)
