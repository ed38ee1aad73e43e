"""Compose files: what each service builds and runs with.

INTERFACE (other modules rely on these names; keep them):

- ``parse_compose(text: str) -> Compose`` never raises; YAML errors become a problem
  (code "SYN001"). Uses ``yaml.safe_load`` semantics only (never executes tags).

The file is read as a node graph (parse/yamldocs.py), and the nodes are turned into plain
values here rather than by a constructor, for three reasons: key nodes carry the line of each service; unknown tags
(compose's own ``!reset``/``!override``, or a hostile ``!!python/object``) are read as the
plain scalar they tag and never constructed; and every node visited is counted, so an
alias bomb (aliases of aliases, or merge keys doubling at each level) stops at a fixed
budget instead of exhausting memory. Scalars stay the strings written (``A: 010`` is
``"010"``), which is what compose hands to Docker; only ``null`` becomes None.
"""

from __future__ import annotations

import re
from functools import lru_cache

from msgspec import Struct, field

from dockerlint.parse.yamldocs import compose_documents
from dockerlint.source import Problem, Span, Text


class Volume(Struct, frozen=True):
    target: str  # the path inside the container
    source: str | None  # host path or named volume; None for an anonymous volume


class Service(Struct, frozen=True):
    name: str
    line: int  # line of the service's key in the file
    context: str | None  # build.context (or the string form of build), as written; "." when build has none
    dockerfile: str | None  # build.dockerfile, relative to the context
    target: str | None  # build.target
    args: dict[str, str]  # build.args; an argument without a value maps to ""
    image: str | None
    gpu: bool  # deploy.resources.reservations.devices with capabilities [gpu], gpus:, or runtime: nvidia
    volumes: tuple[Volume, ...]
    environment: dict[str, str]  # a variable without a value (taken from the host) maps to ""
    command: tuple[str, ...] | str | None
    named_contexts: tuple[str, ...] = ()  # build.additional_contexts names
    entrypoint: tuple[str, ...] | str | None = None  # replaces the image's ENTRYPOINT (and drops its CMD)
    env_files: tuple[str, ...] = ()  # env_file: the files whose variables the container gets
    container_name: str | None = None  # the name `docker exec` reaches the running container by


class Compose(Struct, frozen=True):
    services: tuple[Service, ...]
    problems: tuple[Problem, ...] = field(default=())


# Far above any real compose file (a 2,000-line file has a few thousand nodes), far below
# what hurts: visiting this many nodes takes well under a second.
NODE_BUDGET = 200_000

_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _TooManyNodes(Exception):
    pass


class _RecursiveAlias(Exception):
    pass


@lru_cache(maxsize=16)  # the engine and several rules ask for each image's compose file
def parse_compose(text: str) -> Compose:
    import yaml

    try:
        documents = compose_documents(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = ", ".join(filter(None, (error.context, error.problem))) or "invalid YAML"
        return _failed(f"compose file is not valid YAML: {reason} (line {line})", Span(line, column, line, column + 1))
    except yaml.reader.ReaderError as error:  # a character YAML does not allow
        line, column = Text.of(text).position(min(error.position, len(text)))
        message = f"compose file is not valid YAML: character U+{error.character:04X} is not allowed (line {line})"
        return _failed(message, Span(line, column, line, column + 1))
    except RecursionError:
        return _failed("compose file is nested too deeply to read", Span(1, 1, 1, 1))
    except (yaml.YAMLError, MemoryError) as error:
        return _failed(f"compose file could not be read: {type(error).__name__}: {error}", Span(1, 1, 1, 1))

    reader = _NodeReader()
    # Compose merges the documents of a multi-document file in order; here a later
    # document's keys replace an earlier one's, service by service.
    configs: dict[str, tuple[int, dict]] = {}
    try:
        for root in documents:
            if not isinstance(root, yaml.MappingNode):
                return _failed("compose file must be a mapping with a 'services' key", _node_span(root))
            services_node = reader.pairs(root).get("services", (None, None))[1]
            if services_node is None or (isinstance(services_node, yaml.ScalarNode) and services_node.tag == _NULL_TAG):
                continue
            if not isinstance(services_node, yaml.MappingNode):
                return _failed("'services' must be a mapping of service names", _node_span(services_node))
            for name, (key_node, value_node) in reader.pairs(services_node).items():
                config = reader.value(value_node)
                config = config if isinstance(config, dict) else {}
                line, earlier = configs.get(name, (key_node.start_mark.line + 1, {}))
                configs[name] = (line, {**earlier, **config})
    except _TooManyNodes:
        message = f"compose file expands to more than {NODE_BUDGET} YAML nodes (an alias bomb?); not read"
        return _failed(message, Span(1, 1, 1, 1))
    except _RecursiveAlias:
        return _failed("compose file has an alias inside its own anchor; not read", Span(1, 1, 1, 1))
    except RecursionError:
        return _failed("compose file is nested too deeply to read", Span(1, 1, 1, 1))
    merged = {name: _extended(name, configs, set()) for name in configs}
    return Compose(tuple(_service(name, configs[name][0], config) for name, config in merged.items()))


def _extended(name: str, configs: dict[str, tuple[int, dict]], seen: set[str]) -> dict:
    """A service's configuration with the service it ``extends`` in the same file merged
    under it (a `dev` service that extends `prod` and sets only `build.target` builds with
    prod's context). One in another file (``extends: {file: ...}``) is not read here."""
    config = configs[name][1]
    extends = config.get("extends")
    base_name = extends if isinstance(extends, str) else extends.get("service") if isinstance(extends, dict) else None
    if isinstance(extends, dict) and extends.get("file") is not None:
        return config
    if not isinstance(base_name, str) or base_name not in configs or base_name in seen or base_name == name:
        return config
    base = _extended(base_name, configs, seen | {name})
    return {key: value for key, value in _merged(base, config).items() if key != "extends"}


# Compose's merge: a mapping is merged key by key, these sequences are added to, and any
# other value of the extending service replaces the base's.
_ADDED_SEQUENCES = frozenset({"volumes", "ports", "expose", "env_file", "dns", "extra_hosts", "devices", "secrets"})


def _merged(base: dict, override: dict) -> dict:
    result = dict(base)
    for key, value in override.items():
        earlier = result.get(key)
        if key in ("args", "environment", "labels") and earlier is not None and value is not None:
            earlier, value = _assignments(earlier), _assignments(value)  # `A=1` lists and mappings alike
        if isinstance(earlier, dict) and isinstance(value, dict):
            result[key] = _merged(earlier, value)
        elif key in _ADDED_SEQUENCES and isinstance(earlier, list) and isinstance(value, list):
            result[key] = earlier + [item for item in value if item not in earlier]
        else:
            result[key] = value
    return result


# `${NAME:-default}`, `${NAME-default}` and the other forms without a `${` inside; `$$`.
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])([^{}]*)\}")
_NESTING = 8  # `${A:-${B:-x}}`: defaults inside defaults, read from the inside out this deep


def interpolate(text: str) -> str:
    """A value as compose reads it with none of its variables set: a variable with a
    default (``${DATA:-./data}``) is its default, ``$$`` is ``$``; any other variable
    (``${DATA}``, ``${DATA:?required}``) stays as written, a value dockerlint does not know.
    Variables a ``.env`` file or the shell sets may differ from the defaults."""
    if "$" not in text or "\0" in text or "\1" in text:
        return text

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "\0"  # put back as `$` once every variable is read
        if match.group(2) in (":-", "-"):
            return match.group(3)
        return "\1" + match.group(0)[1:]  # unknown: kept, and not read again

    for _ in range(_NESTING):
        replaced = _VARIABLE.sub(replace, text)
        if replaced == text:
            break
        text = replaced
    return text.replace("\1", "$").replace("\0", "$")


def _failed(message: str, span: Span) -> Compose:
    return Compose((), (Problem("SYN001", message, span),))


def _node_span(node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


class _NodeReader:
    """Turns YAML nodes into dicts, lists, strings and None, within NODE_BUDGET visits."""

    def __init__(self) -> None:
        self.remaining = NODE_BUDGET
        self.open: set[int] = set()  # ids of the collection nodes being read, to catch `&a [*a]`

    def _spend(self) -> None:
        self.remaining -= 1
        if self.remaining < 0:
            raise _TooManyNodes

    def _enter(self, node) -> None:
        if id(node) in self.open:
            raise _RecursiveAlias
        self.open.add(id(node))

    def pairs(self, mapping) -> dict:
        """Key → (key node, value node), merge keys (``<<``) applied: explicit keys win,
        then earlier merge sources over later ones."""
        import yaml

        merged: dict = {}
        explicit: dict = {}
        for key_node, value_node in mapping.value:
            self._spend()
            if key_node.tag == _MERGE_TAG:
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    if isinstance(source, yaml.MappingNode):
                        self._enter(source)
                        for key, pair in self.pairs(source).items():
                            merged.setdefault(key, pair)
                        self.open.discard(id(source))
            elif isinstance(key_node, yaml.ScalarNode):
                explicit[key_node.value] = (key_node, value_node)
        merged.update(explicit)
        return merged

    def value(self, node):
        import yaml

        self._spend()
        if isinstance(node, yaml.ScalarNode):
            return None if node.tag == _NULL_TAG else interpolate(node.value)
        self._enter(node)
        if isinstance(node, yaml.SequenceNode):
            value = [self.value(item) for item in node.value]
        else:
            value = {key: self.value(value_node) for key, (_, value_node) in self.pairs(node).items()}
        self.open.discard(id(node))
        return value


def _service(name: str, line: int, config: dict) -> Service:
    build = config.get("build")
    named: tuple[str, ...] = ()
    if isinstance(build, str):
        context, dockerfile, target, args = build, None, None, {}
    elif isinstance(build, dict):
        context = _text(build.get("context")) or "."
        dockerfile, target = _text(build.get("dockerfile")), _text(build.get("target"))
        args = _assignments(build.get("args"))
        named = tuple(_assignments(build.get("additional_contexts")))
    else:
        context, dockerfile, target, args = None, None, None, {}
    return Service(
        name=name,
        line=line,
        context=context,
        dockerfile=dockerfile,
        target=target,
        args=args,
        image=_text(config.get("image")),
        gpu=_wants_gpu(config),
        volumes=tuple(filter(None, map(_volume, _list(config.get("volumes"))))),
        environment=_assignments(config.get("environment")),
        command=_command(config.get("command")),
        named_contexts=named,
        entrypoint=_command(config.get("entrypoint")),
        env_files=_env_files(config.get("env_file")),
        container_name=_text(config.get("container_name")),
    )


def _env_files(value: object) -> tuple[str, ...]:
    """``env_file`` as a path, a list of paths, or a list of ``{path: ...}`` mappings."""
    items = [value] if isinstance(value, str) else _list(value)
    found = [
        item if isinstance(item, str) else _text(item.get("path")) if isinstance(item, dict) else None for item in items
    ]
    return tuple(path for path in found if path)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _assignments(value: object) -> dict[str, str]:
    """``args``/``environment`` as a list (``A=1``, bare ``A``) or a mapping."""
    if isinstance(value, dict):
        return {key: item if isinstance(item, str) else "" for key, item in value.items()}
    result = {}
    for item in _list(value):
        if isinstance(item, str) and item:
            key, _, assigned = item.partition("=")
            result[key] = assigned
    return result


def _wants_gpu(config: dict) -> bool:
    if config.get("runtime") == "nvidia" or config.get("gpus") not in (None, "", "0"):
        return True
    reservations = config.get("deploy")
    for key in ("resources", "reservations"):
        reservations = reservations.get(key) if isinstance(reservations, dict) else None
    devices = reservations.get("devices") if isinstance(reservations, dict) else None
    for device in _list(devices):
        if not isinstance(device, dict):
            continue
        capabilities = _list(device.get("capabilities"))
        # Older files nest the list once more: capabilities: [[gpu]].
        flat = [c for item in capabilities for c in (item if isinstance(item, list) else [item])]
        if "gpu" in flat or device.get("driver") == "nvidia":
            return True
    return False


_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_OUTSIDE_VARIABLES = re.compile(r":(?![^{]*\})")


def _volume(entry: object) -> Volume | None:
    """Short syntax ``[source:]target[:mode]`` or long syntax ``{type, source, target}``."""
    if isinstance(entry, dict):
        target = _text(entry.get("target"))
        if not target:
            return None
        source = None if entry.get("type") == "tmpfs" else _text(entry.get("source"))
        return Volume(target, source or None)
    if not isinstance(entry, str) or not entry:
        return None
    drive = ""
    if _WINDOWS_DRIVE.match(entry):
        drive, entry = entry[:2], entry[2:]
    # `${DATA:?required}:/data` is two parts
    parts = _OUTSIDE_VARIABLES.split(entry) if "${" in entry and len(entry) < 1_000 else entry.split(":")
    if len(parts) == 1:
        return Volume(drive + parts[0], None) if not drive else None
    return Volume(parts[1], drive + parts[0])


def _command(value: object) -> tuple[str, ...] | str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return tuple(item if isinstance(item, str) else "" for item in value)
    return None
