"""Questions about an image that checks and model modules both ask."""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable

from dockerlint.model.image import Image, ImageRef, StageModel, Step
from dockerlint.regex import glob_match


def truthy(value: str | None) -> bool:
    """Whether an environment value turns a setting on (``PIP_USER=1``, ``HF_HUB_OFFLINE=true``)."""
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def final_chain(image: Image) -> list[StageModel]:
    """The stages whose layers end up in the final image: the final stage and the stages
    it is built FROM, nearest first. A builder only copied from is not among them."""
    chain = []
    stage = image.final
    while stage is not None and stage not in chain:
        chain.append(stage)
        stage = image.stages[stage.parent] if stage.parent is not None else None
    return chain


def stage_of(image: Image, step: Step) -> StageModel:
    """The stage that holds ``step`` (steps know their index, not their stage)."""
    return next(stage for stage in image.stages if any(other is step for other in stage.steps))


def external_base(image: Image, stage: StageModel) -> tuple[ImageRef, StageModel]:
    """The registry image a stage is built on, following FROM <stage> links, and the
    stage whose FROM names it."""
    seen = set()
    while stage.parent is not None and stage.index not in seen:
        seen.add(stage.index)
        stage = image.stages[stage.parent]
    return stage.base, stage


def image_matches(ref: ImageRef, patterns: Iterable[str]) -> bool:
    """Shell-style patterns against the image name, or ``name:tag`` for patterns with a tag."""
    for pattern in patterns:
        if ":" in pattern.rsplit("/", 1)[-1]:
            if glob_match(f"{ref.repository}:{ref.tag or 'latest'}", pattern):
                return True
        elif glob_match(ref.repository, pattern) or glob_match(ref.name, pattern):
            return True
    return False


def workdir_before(image: Image, stage: StageModel, before: int) -> bool:
    """A WORKDIR before step ``before`` of this stage, or in a stage it is built FROM."""
    seen = set()
    while stage.index not in seen:
        seen.add(stage.index)
        if any(step.keyword == "WORKDIR" for step in stage.steps[:before]):
            return True
        if stage.parent is None:
            return False
        stage = image.stages[stage.parent]
        before = len(stage.steps)
    return False


# A final stage, target or Dockerfile with one of these words in its name is meant for
# development, as are the compose services of one: `Dockerfile.dev`, `dev.python.Dockerfile`,
# `--target test`, a `tests` service.
_DEV_IMAGE_WORDS = re.compile(
    r"(?:^|[-_./])(dev|devel|develop|development|local|test|tests|testing|ci|lint|debug|notebook|jupyter|lab)(?:$|[-_./])"
)


def development_image(image: Image) -> bool:
    """An image for development or tests, not one that ships: named so (its final stage,
    target or Dockerfile), or run only by compose services named so (a `test-*` service
    beside `web` leaves it a production image)."""
    names = (image.final.name if image.final else None, image.target, image.dockerfile_path.name.lower())
    if any(_DEV_IMAGE_WORDS.search(name) for name in names if name):
        return True
    if bool(image.services) and all(_DEV_IMAGE_WORDS.search(service) for service in image.services):
        return True
    return image.memoized(("dev_container",), lambda: _dev_container(image))


_JSONC_COMMENT = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', re.DOTALL)
_TRAILING_COMMA = re.compile(r'("(?:\\.|[^"\\])*")|,\s*([}\]])')  # JSONC allows `[1, 2,]`


def _dev_container(image: Image) -> bool:
    """Whether the repository's `.devcontainer/devcontainer.json` builds this image: its
    `dockerFile`/`build.dockerfile` is this Dockerfile, or its `service` is one of the
    compose services that build it. A dev container is where developers work, not an image
    that ships (VS Code and the Dev Containers spec read that file)."""
    root = image.workspace.root or image.context_root
    config = root / ".devcontainer" / "devcontainer.json"
    loaded = image.workspace.text(config, quiet=True)
    if loaded is None:
        return False
    import json

    try:
        text = _JSONC_COMMENT.sub(lambda match: match.group(1) or "", loaded[0].text)
        data = json.loads(_TRAILING_COMMA.sub(lambda match: match.group(1) or match.group(2), text))
    except (ValueError, RecursionError):
        return False
    if not isinstance(data, dict):
        return False
    build = data.get("build") if isinstance(data.get("build"), dict) else {}
    dockerfile = data.get("dockerFile") or data.get("dockerfile") or build.get("dockerfile")
    if isinstance(dockerfile, str):
        if os.path.normpath(config.parent / dockerfile) == os.path.normpath(image.dockerfile_path):
            return True
    service = data.get("service")
    return isinstance(service, str) and service in image.services


def compose_services(image: Image) -> list:
    """The services of every compose file that build the image (docker-compose.yml's `web`,
    and docker-compose.prod.yml's `web` that runs it with gunicorn)."""
    if not image.services:
        return []
    from dockerlint.parse.compose import parse_compose

    found = []
    for path in image.compose_files:
        loaded = image.workspace.text(path, quiet=True)
        if loaded is not None:
            found += [service for service in parse_compose(loaded[0].text).services if service.name in image.services]
    return found


def keeps_alive(argv) -> bool:
    """Whether a start command only keeps the container alive (``sleep infinity``, ``tail
    -f /dev/null``, a bare shell): a base or development image (build_tools.toml,
    ``placeholder_starts``)."""
    from dockerlint.knowledge import load

    if not argv:
        return False
    words = [posixpath.basename(argv[0]), *argv[1:]]  # /bin/sleep is sleep
    for pattern in load("build_tools")["placeholder_starts"]["commands"]:
        if len(pattern) == len(words) and all(map(glob_match, words, pattern)):
            return True
    return False
