"""Files that say how a repository's images are built, read into shell scripts (with the
directory and variables they start with) and builds declared as data.

- GitHub Actions workflows: ``run`` steps (``working-directory``, ``env``, ``defaults``)
  and ``docker/build-push-action`` steps (``context``, ``file``, ``target``,
  ``build-args``, ``platforms``; the default Git context is the repository root).
- GitLab CI: each job's ``before_script`` + ``script`` (one shell), ``after_script``;
  ``variables``, ``default``, hidden jobs and ``extends``.
- Azure Pipelines: ``script``/``bash`` steps, ``Bash@3``/``CmdLine@2`` inline scripts and
  ``Docker@2`` build steps; ``$(variable)`` macros.
- Jenkinsfile: ``sh`` steps and ``docker.build(...)``, inside ``dir(...) { }`` blocks; the
  ``environment { }`` block. Groovy is read by a small lexer (strings, comments, braces).
- Makefiles: recipe lines with make variables expanded (recursively, after the whole file
  is read, as make does), ``$(CURDIR)``; ``.ONESHELL``.
- package.json ``scripts``; shell scripts (``*.sh``, or a shebang).

YAML is read as a node graph (parse/yamldocs.py), so every value keeps its line and
nothing is constructed from tags; a budget of nodes stops alias bombs. Text a CI system
substitutes before the shell sees it (``${{ ... }}``, ``$(macro)``, Groovy ``${...}``) is
replaced by the value when it is known and by an unknown variable otherwise, so that the
shell reading (parse/shellflow.py) can never take it for a fact.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator, Mapping

from msgspec import Struct, field

from dockerlint.parse.buildcmd import BuildCommand, build_command, exports_files
from dockerlint.parse.shellflow import UNKNOWN_NAME
from dockerlint.parse.yamldocs import compose_documents

UNKNOWN = "${" + UNKNOWN_NAME + "}"


class Script(Struct, frozen=True):
    """Shell text one step runs, where it starts, and what it knows at the start."""

    text: str
    lines: tuple[int, ...]  # the file line of each line of ``text``
    cwds: tuple[str | None, ...]  # possible starting directories (absolute); () or (None,) when unknown
    variables: Mapping[str, str | None] = field(default_factory=dict)
    script_path: str | None = None  # $0


class Declared(Struct, frozen=True):
    """A build given as data (a CI action's inputs, a bake target, a skaffold artifact)."""

    command: BuildCommand
    line: int


class Reading(Struct):
    scripts: list[Script] = field(default_factory=list)
    declared: list[Declared] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # why something could not be read
    # (Dockerfile, argv) of the `run:` steps of a CI job that runs in a `container:` of the
    # image another job of the workflow builds (`needs: build`)
    image_runs: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)


# -- which file is which (the names: see discover.build_file_kind) ---------------------------

_SHEBANG = re.compile(rb"#!\s*(?:/usr)?/bin/(?:env\s+)?(?:ba|z|da)?sh\b")


def is_shell_script(head: bytes) -> bool:
    return _SHEBANG.match(head) is not None


def mentions_builds(data: bytes) -> bool:
    """Cheap test before parsing: only files naming a builder or a Dockerfile matter."""
    lowered = data.lower()
    return any(
        word in lowered for word in (b"docker", b"podman", b"buildah", b"nerdctl", b"containerfile", b"skaffold")
    )


def read_build_file(kind: str, text: str, path: str, root: str) -> Reading:
    """Read one file; ``path`` and ``root`` (the repository) are absolute POSIX paths."""
    readers = {
        "github": _github,
        "gitlab": _gitlab,
        "circleci": _circleci,
        "azure": _azure,
        "jenkins": _jenkins,
        "make": _makefile,
        "npm": _package_json,
        "shell": _shell,
        "windows": _windows,
        "skaffold": _skaffold,
    }
    reader = readers.get(kind)
    if reader is None:
        return Reading()
    try:
        return reader(text, path, root)
    except (_TooLarge, RecursionError):
        return Reading(problems=["too large or deeply nested to read; its build commands are not used"])


# -- YAML with lines ----------------------------------------------------------------------


class Scalar(str):
    """A YAML string that knows where it is: ``lines`` maps each of its lines to a file line."""

    line: int
    lines: tuple[int, ...]


class _TooLarge(Exception):
    pass


# A 2,000-line workflow has a few thousand nodes; an alias bomb stops here in well under a second.
_NODE_BUDGET = 50_000


def load_yaml(text: str) -> list[object] | None:
    """Every document as dicts, lists and ``Scalar``s (null is None); None when invalid."""
    import yaml

    try:
        roots = compose_documents(text)
    except (yaml.YAMLError, RecursionError, MemoryError):
        return None
    budget = [_NODE_BUDGET]
    return [_yaml_value(root, budget, set()) for root in roots]


def _yaml_value(node, budget: list[int], open_nodes: set[int]):
    import yaml

    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:null":
            return None
        value = Scalar(node.value)
        first = node.start_mark.line + 1
        value.line = first
        if node.style == "|":
            content = first + 1  # the text starts below the `|`
            value.lines = tuple(range(content, content + node.value.count("\n") + 1))
        else:
            value.lines = (first,)
        return value
    if id(node) in open_nodes:
        raise _TooLarge  # an alias inside its own anchor
    open_nodes.add(id(node))
    try:
        if isinstance(node, yaml.SequenceNode):
            return [_yaml_value(item, budget, open_nodes) for item in node.value]
        result: dict = {}
        merged: dict = {}
        for key_node, value_node in node.value:
            budget[0] -= 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    if isinstance(source, yaml.MappingNode):
                        for key, value in _yaml_value(source, budget, open_nodes).items():
                            merged.setdefault(key, value)
            elif isinstance(key_node, yaml.ScalarNode):
                key = Scalar(key_node.value)
                key.line = key_node.start_mark.line + 1
                key.lines = (key.line,)
                result[key] = _yaml_value(value_node, budget, open_nodes)
        return {**merged, **result}
    finally:
        open_nodes.discard(id(node))


def _line(value: object, default: int = 1) -> int:
    return getattr(value, "line", default)


def _lines(value: object) -> tuple[int, ...]:
    return getattr(value, "lines", None) or (_line(value),)


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _sequence(value: object) -> list:
    return value if isinstance(value, list) else []


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _literal_variables(table: object, known: Mapping[str, str | None] | None = None) -> dict[str, str | None]:
    """A ``NAME: value`` table; a value that refers to anything is known only when that is."""
    result: dict[str, str | None] = {}
    for name, value in _mapping(table).items():
        if isinstance(value, dict):  # GitLab's {value: ..., description: ...}
            value = value.get("value")
        text = value if isinstance(value, str) else (None if value is None else str(value))
        result[str(name)] = _substitute_variables(text, {**(known or {}), **result}) if text is not None else None
    return result


def _substitute_variables(text: str, known: Mapping[str, str | None]) -> str | None:
    """``$NAME``/``${NAME}`` replaced by known values; None when one is not known."""
    unknown = False

    def replace(match: re.Match) -> str:
        nonlocal unknown
        value = known.get(match.group(1) or match.group(2))
        if value is None:
            unknown = True
            return ""
        return value

    result = re.sub(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))", replace, text.replace("$$", "\0"))
    if unknown or "$" in result:
        return None
    return result.replace("\0", "$")


def _joined(items: list[tuple[str, tuple[int, ...]]]) -> tuple[str, tuple[int, ...]]:
    """Script pieces (text, file line of each of its lines) as one script."""
    texts: list[str] = []
    lines: list[int] = []
    for text, item_lines in items:
        count = text.count("\n") + 1
        texts.append(text)
        lines.extend(item_lines[:count])
        lines.extend([item_lines[-1]] * (count - len(item_lines)))
    return "\n".join(texts), tuple(lines)


# -- GitHub Actions -----------------------------------------------------------------------

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.DOTALL)


def _github_expressions(text: str, root: str, env: Mapping[str, str | None]) -> str:
    def replace(match: re.Match) -> str:
        expression = match.group(1)
        if expression == "github.workspace":
            return root
        name = re.fullmatch(r"env\.([A-Za-z_][A-Za-z0-9_]*)", expression)
        if name and env.get(name.group(1)) is not None and "\n" not in (env[name.group(1)] or ""):
            return env[name.group(1)] or ""
        return UNKNOWN

    return _EXPRESSION.sub(replace, text)


def _github(text: str, path: str, root: str) -> Reading:
    reading = Reading()
    documents = load_yaml(text)
    if not documents or not isinstance(documents[0], dict):
        return reading
    workflow = documents[0]
    base_env = {"GITHUB_WORKSPACE": root, **_literal_variables(workflow.get("env"))}
    workflow_run = _mapping(_mapping(workflow.get("defaults")).get("run"))
    built: dict[str, list[str]] = {}  # job -> the Dockerfiles it builds
    for name, job in _mapping(workflow.get("jobs")).items():
        job = _mapping(job)
        if "uses" in job:  # a reusable workflow: its own file is read on its own
            continue
        job_env = {**base_env, **_literal_variables(job.get("env"), base_env)}
        job_run = {**workflow_run, **_mapping(_mapping(job.get("defaults")).get("run"))}
        windows = "windows" in str(job.get("runs-on", "")).lower()
        found = Reading()
        for step in _sequence(job.get("steps")):
            step = _mapping(step)
            uses = _string(step.get("uses")) or ""
            inputs = _mapping(step.get("with"))
            if uses.startswith("actions/checkout") and ("path" in inputs or "repository" in inputs):
                found = Reading()  # the repository is not the workspace: paths cannot be placed
                break
            step_env = {**job_env, **_literal_variables(step.get("env"), job_env)}
            if uses.startswith("docker/build-push-action"):
                declared = _build_push_action(inputs, root, step_env, _line(uses))
                if declared is not None:
                    found.declared.append(declared)
                continue
            run = _string(step.get("run"))
            if run is None:
                continue
            shell = _string(step.get("shell")) or _string(job_run.get("shell"))
            if (shell is None and windows) or (shell is not None and shell.split()[0] not in ("bash", "sh")):
                continue
            directory = _string(step.get("working-directory")) or _string(job_run.get("working-directory"))
            cwd: str | None = root
            if directory is not None:
                directory = _github_expressions(directory, root, step_env)
                cwd = None if UNKNOWN_NAME in directory else posixpath.normpath(posixpath.join(root, directory))
            script = _github_expressions(run, root, step_env)
            found.scripts.append(Script(script, _lines(run), (cwd,), step_env))
        reading.scripts += found.scripts
        reading.declared += found.declared
        built[str(name)] = [path for item in found.declared for path in item.command.dockerfiles[:1]]
    reading.image_runs += _container_job_runs(_mapping(workflow.get("jobs")), built)
    return reading


def _container_job_runs(jobs: dict, built: dict[str, list[str]]) -> list[tuple[str, tuple[str, ...]]]:
    """The `run:` steps of jobs whose `container:` is an image a job they need builds (one
    Dockerfile among those jobs): the tests CI runs inside the image, each line an argv."""
    import shlex

    found = []
    for job in jobs.values():
        job = _mapping(job)
        container = job.get("container")
        image = container if isinstance(container, str) else _mapping(container).get("image")
        needs = job.get("needs")
        needs = [needs] if isinstance(needs, str) else [str(item) for item in _sequence(needs)]
        dockerfiles = {path for need in needs for path in built.get(need, ())}
        if not image or len(dockerfiles) != 1:
            continue
        dockerfile = dockerfiles.pop()
        for step in _sequence(job.get("steps")):
            run = _string(_mapping(step).get("run"))
            for line in (run or "").splitlines():
                try:
                    words = tuple(shlex.split(line.split(" #", 1)[0]))
                except ValueError:
                    continue
                if words and not any("${{" in word for word in words):
                    found.append((dockerfile, words))
    return found


def _circleci(text: str, path: str, root: str) -> Reading:
    """CircleCI's ``jobs.<name>.steps``: a ``run`` step is a command string, or a mapping
    with ``command`` and ``working_directory`` (relative to the checkout, the repository)."""
    reading = Reading()
    documents = load_yaml(text)
    if not documents or not isinstance(documents[0], dict):
        return reading
    for job in _mapping(documents[0].get("jobs")).values():
        job = _mapping(job)
        job_env = _literal_variables(job.get("environment"))
        job_directory = _string(job.get("working_directory"))
        for step in _sequence(job.get("steps")):
            run = _mapping(step).get("run")
            command, directory, env = run, job_directory, job_env
            if isinstance(run, dict):
                command = run.get("command")
                directory = _string(run.get("working_directory")) or job_directory
                env = {**job_env, **_literal_variables(run.get("environment"), job_env)}
            command = _string(command)
            if command is None:
                continue
            cwd: str | None = root
            if directory is not None:
                relative = (
                    directory.removeprefix("~/project").lstrip("/") if directory.startswith("~/project") else directory
                )
                cwd = (
                    None
                    if "$" in relative or relative.startswith(("~", "/"))
                    else posixpath.normpath(posixpath.join(root, relative))
                )
            reading.scripts.append(Script(command, _lines(command), (cwd,), env))
    return reading


def _build_push_action(inputs: dict, root: str, env: Mapping[str, str | None], line: int) -> Declared | None:
    def value(name: str) -> str | None:
        raw = inputs.get(name)
        if raw is None:
            return None
        text = _github_expressions(str(raw), root, env)
        return None if UNKNOWN_NAME in text else text.strip()

    def known(name: str) -> bool:
        return inputs.get(name) is None or value(name) is not None

    if not known("context") or not known("file"):
        return None
    context_input = value("context") or "{{defaultContext}}"
    file_input = value("file")
    if context_input.startswith("{{defaultContext}}"):
        below = context_input[len("{{defaultContext}}") :]
        if below and (not below.startswith(":") or file_input is not None):
            return None  # a subfolder of the Git context with a file: where the file is read from is not certain
        context = posixpath.normpath(posixpath.join(root, below[1:])) if below else root
    elif "://" in context_input or context_input.startswith("git@"):
        return None
    else:
        context = posixpath.normpath(posixpath.join(root, context_input))
    dockerfile = (
        posixpath.normpath(posixpath.join(root, file_input)) if file_input else posixpath.join(context, "Dockerfile")
    )
    target = value("target") if known("target") else None
    args = []
    for entry in str(inputs.get("build-args") or "").splitlines():  # one per line; each known or left out
        name, equals, assigned = _github_expressions(entry, root, env).strip().partition("=")
        if equals and name and UNKNOWN_NAME not in name + assigned:
            args.append((name, assigned))
    platforms = tuple(p.strip() for p in re.split(r"[,\n]", value("platforms") or "") if p.strip())
    outputs = (
        [line.strip() for line in (value("outputs") or "").splitlines() if line.strip()] if known("outputs") else [None]
    )
    tags = []
    for entry in re.split(r"[,\n]", str(inputs.get("tags") or "")):
        tag = _github_expressions(entry, root, env).strip()
        if UNKNOWN_NAME in tag:  # `ghcr.io/${{ github.repository_owner }}/app-base:latest`
            tag = tag.rsplit("/", 1)[-1].split(":", 1)[0]  # its last part, what a FROM of it ends with
        if tag and UNKNOWN_NAME not in tag:
            tags.append(tag)
    command = BuildCommand(
        "docker/build-push-action",
        context,
        (dockerfile,),
        target,
        tuple(sorted(args)),
        platforms,
        exports_files(outputs),
        tags=tuple(dict.fromkeys(tags)),
    )
    return Declared(command, line)


# -- GitLab CI ------------------------------------------------------------------------------

_GITLAB_RESERVED = frozenset(
    {
        "default",
        "include",
        "stages",
        "variables",
        "workflow",
        "image",
        "services",
        "cache",
        "before_script",
        "after_script",
        "types",
        "spec",
    }  # fmt: skip
)


def _gitlab(text: str, path: str, root: str) -> Reading:
    reading = Reading()
    documents = load_yaml(text)
    if not documents or not isinstance(documents[-1], dict):
        return reading
    pipeline = documents[-1]  # a `spec:` header document comes first
    known = {"CI_PROJECT_DIR": root, "CI_BUILDS_DIR": None}
    variables = {**known, **_literal_variables(pipeline.get("variables"), known)}
    default = {
        key: value
        for key, value in {**pipeline, **_mapping(pipeline.get("default"))}.items()
        if key in ("before_script", "after_script")
    }
    for name, job in pipeline.items():
        if name in _GITLAB_RESERVED or str(name).startswith(".") or not isinstance(job, dict):
            continue
        job = _gitlab_extends(job, pipeline, 0)
        job_variables = {**variables, **_literal_variables(job.get("variables"), variables)}
        main = _script_items(job.get("before_script", default.get("before_script"))) + _script_items(job.get("script"))
        after = _script_items(job.get("after_script", default.get("after_script")))
        for items in (main, after):
            if items:
                script, lines = _joined(items)
                reading.scripts.append(Script(script, lines, (root,), job_variables))
    return reading


def _gitlab_extends(job: dict, pipeline: dict, depth: int) -> dict:
    parents = job.get("extends")
    names = [parents] if isinstance(parents, str) else _sequence(parents)
    if not names or depth > 10:
        return job
    merged: dict = {}
    for name in names:
        parent = pipeline.get(name)
        if isinstance(parent, dict):
            merged = _deep_merge(merged, _gitlab_extends(parent, pipeline, depth + 1))
    return _deep_merge(merged, job)


def _deep_merge(base: dict, over: dict) -> dict:
    result = dict(base)
    for key, value in over.items():
        result[key] = (
            _deep_merge(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) else value
        )
    return result


def _script_items(value: object) -> list[tuple[str, tuple[int, ...]]]:
    if isinstance(value, str):
        return [(value, _lines(value))]
    items = []
    for item in _sequence(value):
        items.extend(_script_items(item))
    return items


# -- Azure Pipelines ------------------------------------------------------------------------

_AZURE_ROOT_MACROS = frozenset(
    {"build.sourcesdirectory", "system.defaultworkingdirectory", "build.repository.localpath"}
)
_AZURE_ROOT_VARIABLES = ("BUILD_SOURCESDIRECTORY", "SYSTEM_DEFAULTWORKINGDIRECTORY", "BUILD_REPOSITORY_LOCALPATH")


def _azure_macros(text: str, root: str, variables: Mapping[str, str | None]) -> str:
    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name.lower() in _AZURE_ROOT_MACROS:
            return root
        if name in variables:
            value = variables[name]
            return UNKNOWN if value is None or "\n" in value else value
        return UNKNOWN if "." in name else match.group(0)  # $(word) may be the shell's own

    return re.sub(r"\$\(([A-Za-z_][\w.]*)\)", replace, text)


def _azure_variables(value: object) -> dict[str, str | None]:
    if isinstance(value, dict):
        return _literal_variables(value)
    result: dict[str, str | None] = {}
    for entry in _sequence(value):
        entry = _mapping(entry)
        if "name" in entry:
            raw = entry.get("value")
            result[str(entry["name"])] = raw if isinstance(raw, str) and "$" not in raw else None
    return result


def _azure(text: str, path: str, root: str) -> Reading:
    reading = Reading()
    documents = load_yaml(text)
    if not documents or not isinstance(documents[0], dict):
        return reading
    pipeline = documents[0]
    variables = _azure_variables(pipeline.get("variables"))
    for job_variables, steps in _azure_jobs(pipeline, variables):
        checkouts = [_mapping(step) for step in steps if "checkout" in _mapping(step)]
        if len(checkouts) > 1 or any(c.get("checkout") != "self" or "path" in c for c in checkouts):
            continue  # several repositories, or another place: paths cannot be placed
        env = {**job_variables, **dict.fromkeys(_AZURE_ROOT_VARIABLES, root)}
        for step in steps:
            step = _mapping(step)
            inputs = _mapping(step.get("inputs"))
            task = (_string(step.get("task")) or "").split("@")[0].lower()
            script = _string(step.get("script")) or _string(step.get("bash"))
            directory = _string(step.get("workingDirectory"))
            if task in ("bash", "cmdline") and str(inputs.get("targetType", "inline")).lower() == "inline":
                script = _string(inputs.get("script"))
                directory = _string(inputs.get("workingDirectory"))
            if task == "docker":
                declared = _azure_docker_task(inputs, root, env, _line(step.get("task")))
                if declared is not None:
                    reading.declared.append(declared)
                continue
            if script is None or "pwsh" in step or "powershell" in step:
                continue
            cwd: str | None = root
            if directory is not None:
                directory = _azure_macros(directory, root, env)
                cwd = None if UNKNOWN_NAME in directory or "$" in directory else posixpath.join(root, directory)
            text = _azure_macros(script, root, env)
            reading.scripts.append(Script(text, _lines(script), (cwd and posixpath.normpath(cwd),), env))
    return reading


def _azure_jobs(pipeline: dict, variables: dict) -> Iterator[tuple[dict, list]]:
    if "steps" in pipeline:
        yield variables, _sequence(pipeline.get("steps"))
    for stage in [pipeline] + [_mapping(s) for s in _sequence(pipeline.get("stages"))]:
        stage_variables = (
            {**variables, **_azure_variables(stage.get("variables"))} if stage is not pipeline else variables
        )
        for job in _sequence(stage.get("jobs")):
            job = _mapping(job)
            job_variables = {**stage_variables, **_azure_variables(job.get("variables"))}
            if "steps" in job:
                yield job_variables, _sequence(job.get("steps"))
            for key in ("runOnce", "rolling", "canary"):
                strategy = _mapping(_mapping(job.get("strategy")).get(key))
                for phase in strategy.values():
                    if isinstance(phase, dict) and "steps" in phase:
                        yield job_variables, _sequence(phase.get("steps"))


def _azure_docker_task(inputs: dict, root: str, env: Mapping[str, str | None], line: int) -> Declared | None:
    command = str(inputs.get("command", "buildAndPush"))
    if command not in ("build", "buildAndPush"):
        return None
    raw_file = _string(inputs.get("Dockerfile") or inputs.get("dockerfile"))
    if raw_file is None:
        return None  # the default `**/Dockerfile` picks the first match: not certain
    dockerfile = _azure_macros(raw_file, root, env)
    if UNKNOWN_NAME in dockerfile or "$" in dockerfile or any(c in dockerfile for c in "*?["):
        return None
    dockerfile = posixpath.normpath(posixpath.join(root, dockerfile))
    raw_context = _string(inputs.get("buildContext")) or "**"
    if raw_context == "**":
        context = posixpath.dirname(dockerfile)
    else:
        context_text = _azure_macros(raw_context, root, env)
        if UNKNOWN_NAME in context_text or "$" in context_text or any(c in context_text for c in "*?["):
            return None
        context = posixpath.normpath(posixpath.join(root, context_text))
    words = ["docker", "build", *(str(inputs.get("arguments") or "").split()), context]
    if any(UNKNOWN_NAME in word for word in words):
        return None
    extra = build_command(words, root)
    target = extra.target if extra else None
    args = extra.args if extra else ()
    platforms = extra.platforms if extra else ()
    return Declared(BuildCommand("Docker@2", context, (dockerfile,), target, args, platforms), line)


# -- Jenkinsfile ------------------------------------------------------------------------------


class _Token(Struct, frozen=True):
    kind: str  # "name", "string", "punct"
    value: str  # a string's value as Groovy makes it (interpolation unknown)
    line: int
    lines: tuple[int, ...] = ()


def _groovy_tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    index, line, end = 0, 1, len(text)
    while index < end:
        char = text[index]
        if char == "\n":
            line += 1
            index += 1
        elif char.isspace():
            index += 1
        elif text.startswith("//", index):
            stop = text.find("\n", index)
            index = end if stop < 0 else stop
        elif text.startswith("/*", index):
            stop = text.find("*/", index + 2)
            stop = end if stop < 0 else stop + 2
            line += text.count("\n", index, stop)
            index = stop
        elif char in "'\"":
            quote = text[index : index + 3] if text.startswith(char * 3, index) else char
            start = index + len(quote)
            position = start
            while position < end and not text.startswith(quote, position):
                if text[position] == "\\":
                    position += 1
                elif len(quote) == 1 and text[position] == "\n":
                    break
                position += 1
            raw = text[start:position]
            value = _groovy_string(raw, gstring=char == '"')
            first = line
            line += raw.count("\n")
            string_lines = tuple(range(first, first + raw.count("\n") + 1))
            tokens.append(_Token("string", value, first, string_lines))
            index = min(end, position + len(quote))
        elif char.isalpha() or char == "_":
            stop = index
            while stop < end and (text[stop].isalnum() or text[stop] in "_."):
                stop += 1
            tokens.append(_Token("name", text[index:stop], line))
            index = stop
        else:
            tokens.append(_Token("punct", char, line))
            index += 1
    return tokens


def _groovy_string(raw: str, *, gstring: bool) -> str:
    """A Groovy string's value; in "..." an interpolation becomes an unknown variable."""
    out: list[str] = []
    index, end = 0, len(raw)
    while index < end:
        char = raw[index]
        if char == "\\" and index + 1 < end:
            nxt = raw[index + 1]
            out.append({"n": "\n", "t": "\t", "\n": ""}.get(nxt, nxt))
            index += 2
        elif gstring and char == "$" and index + 1 < end and (raw[index + 1] == "{" or raw[index + 1].isalpha()):
            if raw[index + 1] == "{":
                close = raw.find("}", index)
                index = end if close < 0 else close + 1
            else:
                match = re.match(r"\$[A-Za-z_][\w.]*", raw[index:])
                index += match.end() if match else 1
            out.append(UNKNOWN)
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _jenkins(text: str, path: str, root: str) -> Reading:
    reading = Reading()
    tokens = _groovy_tokens(text)
    variables: dict[str, str | None] = {"WORKSPACE": root}
    stack: list[str | None] = []  # for each open brace: the directory it sets (or "" for none)
    cwd: str | None = root
    index = 0
    count = len(tokens)

    def at(i: int, kind: str, value: str | None = None) -> bool:
        return i < count and tokens[i].kind == kind and (value is None or tokens[i].value == value)

    while index < count:
        token = tokens[index]
        if token.kind == "punct" and token.value == "{":
            stack.append(cwd)
        elif token.kind == "punct" and token.value == "}":
            cwd = stack.pop() if stack else cwd
        elif token.kind == "name" and token.value == "environment" and at(index + 1, "punct", "{"):
            position = index + 2
            while position + 2 < count and not at(position, "punct", "}"):
                if at(position, "name") and at(position + 1, "punct", "=") and at(position + 2, "string"):
                    value = tokens[position + 2].value
                    variables[tokens[position].value] = None if UNKNOWN_NAME in value else value
                    position += 3
                else:
                    position += 1
            index = position
            continue
        elif token.kind == "name" and token.value == "dir" and at(index + 1, "punct", "(") and at(index + 2, "string"):
            if at(index + 3, "punct", ")") and at(index + 4, "punct", "{"):
                folder = tokens[index + 2].value
                stack.append(cwd)
                known = cwd is not None and UNKNOWN_NAME not in folder and "$" not in folder
                cwd = posixpath.normpath(posixpath.join(cwd, folder)) if known and cwd else None
                index += 5
                continue
        elif token.kind == "name" and token.value == "sh":
            script = _jenkins_sh_script(tokens, index + 1)
            if script is not None:
                reading.scripts.append(Script(script.value, script.lines or (script.line,), (cwd,), dict(variables)))
        elif token.kind == "name" and token.value == "docker.build" and at(index + 1, "punct", "("):
            if at(index + 2, "string"):
                extra = "."
                if at(index + 3, "punct", ",") and at(index + 4, "string"):
                    extra = tokens[index + 4].value
                reading.scripts.append(Script(f"docker build -t image {extra}", (token.line,), (cwd,), dict(variables)))
        index += 1
    return reading


def _jenkins_sh_script(tokens: list[_Token], index: int) -> _Token | None:
    """The script of ``sh '...'``, ``sh("...")``, ``sh script: '...'``, ``sh(label: x, script: '...')``."""
    count = len(tokens)
    if index < count and tokens[index].kind == "punct" and tokens[index].value == "(":
        index += 1
    if index < count and tokens[index].kind == "string":
        after = tokens[index + 1] if index + 1 < count else None
        if after is None or not (after.kind == "punct" and after.value == ":"):
            return tokens[index]
    depth = 0
    while index + 2 < count:
        token = tokens[index]
        if token.kind == "punct" and token.value in "({[":
            depth += 1
        elif token.kind == "punct" and token.value in ")}]":
            if depth == 0:
                return None
            depth -= 1
        elif depth == 0 and token.kind == "name" and token.value == "script":
            if tokens[index + 1].value == ":" and tokens[index + 2].kind == "string":
                return tokens[index + 2]
        if token.kind == "name" and token.value in ("sh", "stage", "steps"):
            return None
        index += 1
    return None


# -- Makefiles ----------------------------------------------------------------------------------

_ASSIGNMENT = re.compile(r"^(?:(?:export|override|private)\s+)*([A-Za-z0-9_.-]+)\s*(::=|:::=|:=|\?=|\+=|!=|=)(.*)$")
_CONDITIONAL = re.compile(r"^(?:ifeq|ifneq|ifdef|ifndef)\b")


_RULE_HEADER = re.compile(r"^([A-Za-z0-9_./%-]+(?:[ \t]+[A-Za-z0-9_./%-]+)*)[ \t]*::?(?!=)(.*)$")


def makefile_rules(text: str) -> dict[str, tuple[list[str], list[str]]]:
    """target -> (its prerequisites, its recipe lines), in the order the file gives them;
    the first target is the default goal. Variables are left as written."""
    rules: dict[str, tuple[list[str], list[str]]] = {}
    current: list[tuple[list[str], list[str]]] = []
    for line in text.split("\n"):
        if line.startswith("\t"):
            for _, recipe in current:
                recipe.append(line[1:])
            continue
        header = _RULE_HEADER.match(line.split("#", 1)[0].rstrip())
        if header is None:
            if line.strip():
                current = []
            continue
        prerequisites = header.group(2).split(";", 1)[0].split()
        current = []
        for target in header.group(1).split():
            rule = rules.setdefault(target, ([], []))
            rule[0].extend(prerequisites)
            current.append(rule)
    return rules


def _makefile(text: str, path: str, root: str) -> Reading:
    folder = posixpath.dirname(path)
    variables: dict[str, str | None] = {}
    rules: list[tuple[str, list[tuple[str, int]]]] = []  # (first target, recipe lines)
    oneshell = False
    conditional = 0
    in_define = False
    lines = text.split("\n")
    number = 0
    while number < len(lines):
        start = number
        line = lines[number]
        number += 1
        if line.startswith("\t") and rules and not in_define:
            while line.endswith("\\") and number < len(lines):
                continuation = lines[number]
                line += "\n" + (continuation[1:] if continuation.startswith("\t") else continuation)
                number += 1
            rules[-1][1].append((line[1:], start + 1))
            continue
        while line.endswith("\\") and number < len(lines):
            line = line[:-1] + " " + lines[number].strip()
            number += 1
        stripped = line.split("#", 1)[0].strip() if "#" in line and "\\#" not in line else line.strip()
        if in_define:
            if stripped == "endef":
                in_define = False
            continue
        if not stripped:
            continue
        if stripped.startswith("define "):
            in_define = True
            name = stripped.split()[1] if len(stripped.split()) > 1 else ""
            variables[name] = None
            continue
        if _CONDITIONAL.match(stripped):
            conditional += 1
            continue
        if stripped == "endif":
            conditional = max(0, conditional - 1)
            continue
        if stripped.startswith("else"):
            continue
        if stripped.startswith(("include ", "-include ", "sinclude ")):
            variables = dict.fromkeys(variables)  # an included file may assign any of them
            continue
        if stripped.startswith(".ONESHELL"):
            oneshell = True
            continue
        assignment = _ASSIGNMENT.match(stripped)
        if assignment and ":" not in stripped[: assignment.start(2)].replace("::", ""):
            name, operator, value = assignment.group(1), assignment.group(2), assignment.group(3).strip()
            if conditional or operator == "!=":
                variables[name] = None
            elif operator == "?=":
                variables.setdefault(name, value)
            elif operator == "+=":
                earlier = variables.get(name, "")
                variables[name] = None if earlier is None else (earlier + " " + value).strip()
            else:
                variables[name] = value
            continue
        if ":" in stripped and not stripped.startswith("\t"):
            targets, _, rest = stripped.partition(":")
            first = targets.split()[0] if targets.split() else ""
            rules.append((first, []))
            if ";" in rest:  # target: deps ; recipe
                rules[-1][1].append((rest.split(";", 1)[1].strip(), start + 1))
    reading = Reading()
    for target, recipe in rules:
        pieces = [(_make_expand(line.lstrip(" @-+"), variables, folder, target), n) for line, n in recipe]
        scripts = [pieces] if oneshell else [[piece] for piece in pieces]
        for group in scripts:
            if not group:
                continue
            items = [(text, tuple(range(n, n + text.count("\n") + 1))) for text, n in group]
            script, script_lines = _joined(items)
            reading.scripts.append(Script(script, script_lines, (folder,)))
    return reading


def _make_expand(text: str, variables: Mapping[str, str | None], folder: str, target: str, depth: int = 0) -> str:
    """Make's expansion of a recipe line; what cannot be known becomes an unknown variable."""
    if depth > 16:
        return UNKNOWN
    out: list[str] = []
    index, end = 0, len(text)
    while index < end:
        char = text[index]
        if char != "$" or index + 1 >= end:
            out.append(char)
            index += 1
            continue
        nxt = text[index + 1]
        if nxt == "$":
            out.append("$")
            index += 2
            continue
        if nxt in "({":
            close = ")" if nxt == "(" else "}"
            level, position = 1, index + 2
            while position < end and level:
                if text[position] == nxt:
                    level += 1
                elif text[position] == close:
                    level -= 1
                position += 1
            name = text[index + 2 : position - 1]
            index = position
        else:
            name = nxt
            index += 2
        if name == "@":
            out.append(target)
        elif name == "CURDIR":
            out.append(folder)
        elif re.fullmatch(r"[A-Za-z0-9_.-]+", name) and variables.get(name) is not None:
            out.append(_make_expand(variables[name] or "", variables, folder, target, depth + 1))
        else:
            out.append(UNKNOWN)
    return "".join(out)


# -- package.json and shell scripts --------------------------------------------------------------


def _package_json(text: str, path: str, root: str) -> Reading:
    reading = Reading()
    try:
        package = json.loads(text)
    except (ValueError, RecursionError):
        return reading
    scripts = package.get("scripts") if isinstance(package, dict) else None
    if not isinstance(scripts, dict):
        return reading
    folder = posixpath.dirname(path)
    for name, command in scripts.items():
        if not isinstance(command, str):
            continue
        at = text.find(json.dumps(name) + ":")
        if at < 0:
            at = text.find(json.dumps(name))
        line = text.count("\n", 0, max(at, 0)) + 1
        reading.scripts.append(Script(command, (line,), (folder,), {"npm_package_json": path}))
    return reading


def _shell(text: str, path: str, root: str) -> Reading:
    folder = posixpath.dirname(path)
    starts = (root,) if folder == root else (root, folder)  # run from the repository root, or from its folder
    lines = tuple(range(1, text.count("\n") + 2))
    return Reading(scripts=[Script(text, lines, starts, {}, path)])


def _windows(text: str, path: str, root: str) -> Reading:
    """A batch file or PowerShell script, read as the shell script its build lines make:
    they are the same command lines in another syntax (`docker build --file x.Dockerfile
    ..\\backend`). Started from its own folder (a double-click) or the repository's."""
    return _shell(windows_as_shell(text, posixpath.dirname(path), path.lower().endswith(".ps1")), path, root)


_BATCH_COMMENT = re.compile(
    r"^\s*@?\s*(?:rem(?:\s|$)|::|echo\s+(?:off|on)\s*$|setlocal\b|endlocal\b|pause\b|exit\b)", re.I
)
# `start "title" /b cmd /k docker build ...`, `cmd /c ...`, `call ...`, PowerShell's `& docker ...`
_WRAPPERS = re.compile(
    r'^(\s*)@?(?:start\s+(?:"[^"]*"\s+)?(?:/\w+\s+)*)?(?:cmd(?:\.exe)?\s+/[ckCK]\s+)?(?:call\s+|&\s*)?'
)
_BATCH_SET = re.compile(r'^(\s*)set\s+"?([A-Za-z_]\w*)=([^"\n]*)"?\s*$', re.I)
_BATCH_VARIABLE = re.compile(r"%([A-Za-z_]\w*)%")
_POWERSHELL_ENV = re.compile(r"\$env:([A-Za-z_]\w*)", re.I)


def windows_as_shell(text: str, folder: str, powershell: bool) -> str:
    """The POSIX shell reading of a batch or PowerShell script, line for line: comments and
    console switches dropped, ``^`` (or PowerShell's backtick) continuations, ``%NAME%`` and
    ``$env:NAME`` variables, ``%~dp0`` and ``$PSScriptRoot`` (the script's folder), ``cd /d``, the wrappers
    ``start``/``cmd /c``/``call`` that run a command, and backslashes in paths."""
    lines = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not powershell and _BATCH_COMMENT.match(line):
            lines.append("")
            continue
        line = line.replace("%~dp0", folder + "/").replace("$PSScriptRoot", folder).replace("\\", "/")
        line = _POWERSHELL_ENV.sub(r"${\1}", line) if powershell else _BATCH_VARIABLE.sub(r"${\1}", line)
        continuation = "`" if powershell else "^"
        if line.rstrip().endswith(continuation):
            line = line.rstrip()[:-1] + "\\"
        setting = None if powershell else _BATCH_SET.match(line)
        if setting:
            line = f"{setting.group(1)}{setting.group(2)}='{setting.group(3)}'"
        line = _WRAPPERS.sub(r"\1", line, count=1)
        line = re.sub(r"^(\s*)(?:cd|chdir|Set-Location)\s+/d\s+", r"\1cd ", line, flags=re.I)
        line = re.sub(r"^(\s*)(?:chdir|Set-Location)\s+", r"\1cd ", line, flags=re.I)
        lines.append(line)
    return "\n".join(lines)


# -- skaffold -------------------------------------------------------------------------------------

_OTHER_BUILDERS = ("jib", "bazel", "buildpacks", "ko", "custom", "kaniko")


def _skaffold(text: str, path: str, root: str) -> Reading:
    """``build.artifacts`` (and each profile's): ``context`` is relative to the file's
    folder, ``docker.dockerfile`` to the context. Templated values (``{{.TAG}}``) are unknown."""
    reading = Reading()
    folder = posixpath.dirname(path)
    for document in load_yaml(text) or []:
        document = _mapping(document)
        sections = [document.get("build")] + [_mapping(p).get("build") for p in _sequence(document.get("profiles"))]
        for section in sections:
            section = _mapping(section)
            for artifact in _sequence(section.get("artifacts")):
                artifact = _mapping(artifact)
                if any(key in artifact for key in _OTHER_BUILDERS):
                    continue
                docker = _mapping(artifact.get("docker"))
                context = _string(artifact.get("context")) or "."
                dockerfile = _string(docker.get("dockerfile")) or "Dockerfile"
                if "{{" in context or "{{" in dockerfile:
                    continue
                context_path = posixpath.normpath(posixpath.join(folder, context))
                dockerfile_path = posixpath.normpath(posixpath.join(context_path, dockerfile))
                target = _string(docker.get("target"))
                args = tuple(
                    sorted(
                        (str(key), value)
                        for key, value in _mapping(docker.get("buildArgs")).items()
                        if isinstance(value, str) and "{{" not in value
                    )
                )
                platforms = tuple(str(p) for p in _sequence(artifact.get("platforms") or section.get("platforms")))
                command = BuildCommand(
                    "skaffold",
                    context_path,
                    (dockerfile_path,),
                    None if target and "{{" in target else target,
                    args,
                    platforms,
                )
                reading.declared.append(Declared(command, _line(artifact.get("image"), _line(artifact.get("context")))))
    return reading
