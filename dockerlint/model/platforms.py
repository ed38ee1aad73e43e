"""The start commands hosting platforms give an image's containers in place of its CMD:
Railway's ``deploy.startCommand`` (railway.json, railway.toml), Fly.io's ``[processes]``
and ``[experimental] cmd`` (fly.toml), Render's ``dockerCommand`` (render.yaml) and
Heroku's ``run`` section (heroku.yml). Each file is read beside the Dockerfile, at the
build context's root and at the repository's root, for the Dockerfile it names (or, naming
none, the ``Dockerfile`` of its own folder, which those platforms build by default).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from pathlib import Path

from dockerlint.model.gpu_signals import command_words
from dockerlint.model.image import Image

PLATFORM_FILES = ("railway.json", "railway.toml", "fly.toml", "render.yaml", "heroku.yml")
MAX_PLATFORM_BYTES = 256_000


def platform_start_commands(image: Image) -> tuple[tuple[str, ...], ...]:
    """The commands platforms start this image's containers with, each an argv."""
    return image.memoized(("platform_start_commands",), lambda: tuple(dict.fromkeys(_start_commands(image))))


def _start_commands(image: Image) -> Iterator[tuple[str, ...]]:
    folders = {image.dockerfile_path.parent, image.context_root}
    if image.workspace.root is not None:
        folders.add(image.workspace.root)
    for folder in sorted(folders):
        for name in PLATFORM_FILES:
            path = folder / name
            if not image.workspace.is_file(path) or image.workspace.outside(path) is not None:
                continue
            loaded = image.workspace.text(path, quiet=True)
            if loaded is None or len(loaded[0].text) > MAX_PLATFORM_BYTES:
                continue
            for dockerfile, command in _entries(name, loaded[0].text):
                named = Path(posixpath.normpath(posixpath.join(str(folder), dockerfile or "Dockerfile")))
                if named != image.dockerfile_path:
                    continue
                argv = tuple(command) if isinstance(command, list) else tuple(command_words(command))
                if argv and all(isinstance(word, str) for word in argv):
                    yield argv


def _entries(name: str, text: str) -> list[tuple[str | None, str | list]]:
    """(the Dockerfile the entry builds, or None for the default; its start command)."""
    try:
        if name == "railway.json":
            return _railway(json.loads(text))
        if name in ("railway.toml", "fly.toml"):
            from dockerlint.tomlparser import tomllib

            data = tomllib.loads(text)
            return _railway(data) if name == "railway.toml" else _fly(data)
        from dockerlint.parse.buildfiles import load_yaml

        documents = load_yaml(text) or []
        data = _plain(documents[0]) if documents else None
        return _render(data) if name == "render.yaml" else _heroku(data)
    except (ValueError, RecursionError, MemoryError, TypeError):
        return []


def _plain(value):
    """A YAML value of the build-file reader with its scalars as strings."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return None if value is None else str(value)


def _table(value) -> dict:
    return value if isinstance(value, dict) else {}


def _railway(data) -> list[tuple[str | None, str | list]]:
    command = _table(_table(data).get("deploy")).get("startCommand")
    dockerfile = _table(_table(data).get("build")).get("dockerfilePath")
    if isinstance(command, str) and command.strip() and (dockerfile is None or isinstance(dockerfile, str)):
        return [(dockerfile, command)]
    return []


def _fly(data) -> list[tuple[str | None, str | list]]:
    data = _table(data)
    dockerfile = _table(data.get("build")).get("dockerfile")
    if dockerfile is not None and not isinstance(dockerfile, str):
        return []
    commands = [command for command in _table(data.get("processes")).values() if isinstance(command, str)]
    experimental = _table(data.get("experimental")).get("cmd")
    if isinstance(experimental, (str, list)):
        commands.append(experimental)
    return [(dockerfile, command) for command in commands if command]


def _render(data) -> list[tuple[str | None, str | list]]:
    found = []
    for service in _table(data).get("services") or ():
        service = _table(service)
        if "docker" not in (service.get("runtime"), service.get("env")):
            continue
        command, dockerfile = service.get("dockerCommand"), service.get("dockerfilePath")
        if isinstance(command, str) and command.strip() and (dockerfile is None or isinstance(dockerfile, str)):
            found.append((dockerfile, command))
    return found


def _heroku(data) -> list[tuple[str | None, str | list]]:
    data = _table(data)
    built = _table(_table(data.get("build")).get("docker"))
    found = []
    for process, command in _table(data.get("run")).items():
        if isinstance(command, dict):
            command = command.get("command")
        dockerfile = built.get(process)
        if isinstance(command, (str, list)) and command and (dockerfile is None or isinstance(dockerfile, str)):
            found.append((dockerfile, command))
    return found
