"""Compose files: what each service builds and runs with.

INTERFACE (other modules rely on these names; keep them):

- ``parse_compose(text: str) -> Compose`` never raises; YAML errors become a problem
  (code "SYN001"). Uses ``yaml.safe_load`` semantics only (never executes tags).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dockerlint.source import Problem


@dataclass(frozen=True)
class Volume:
    target: str  # the path inside the container
    source: str | None  # host path or named volume; None for an anonymous volume


@dataclass(frozen=True)
class Service:
    name: str
    line: int  # line of the service's key in the file
    context: str | None  # build.context (or the string form of build), as written
    dockerfile: str | None  # build.dockerfile, relative to the context
    target: str | None  # build.target
    args: dict[str, str]  # build.args
    image: str | None
    gpu: bool  # deploy.resources.reservations.devices with capabilities [gpu], gpus:, or runtime: nvidia
    volumes: tuple[Volume, ...]
    environment: dict[str, str]
    command: tuple[str, ...] | str | None


@dataclass(frozen=True)
class Compose:
    services: tuple[Service, ...]
    problems: tuple[Problem, ...] = field(default=())


def parse_compose(text: str) -> Compose:
    raise NotImplementedError
