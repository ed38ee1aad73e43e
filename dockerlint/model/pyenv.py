"""Where Python packages land, per stage and per instruction.

pip puts packages in one of a few trees, decided by the command and the build state:
the system site-packages of the stage's Python, the user base (``--user``, ``PIP_USER``,
``PYTHONUSERBASE``), a ``--prefix``/``--root``/``--target`` folder, or a virtualenv (named by
the pip/python path, by ``PATH`` set with ENV, by ``source …/bin/activate``, or for uv by
``VIRTUAL_ENV``/``.venv``). ``pip wheel``/``pip download`` fill a wheel folder. The
multi-stage rules compare these trees with what ``COPY --from`` takes.
"""

from __future__ import annotations

import posixpath
import re

from msgspec import Struct

from dockerlint.knowledge import load
from dockerlint.model.image import Image, ShellCommand, StageModel, Step, env_enabled
from dockerlint.model.installs import Install
from dockerlint.parse.dockerfile import expand
from dockerlint.regex import glob_match
from dockerlint.source import Span

SYSTEM_DIRS = ("/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin", "/sbin")


class Tree(Struct, frozen=True):
    """A folder holding Python packages (or wheels) and the instruction that filled it."""

    path: str  # absolute; may hold a ``python3*`` pattern when the version is unknown
    kind: str  # "system", "user", "prefix", "root", "target", "venv", "wheels"
    stage: int
    step: Step
    span: Span
    how: str  # the command that made it, as a reader would name it: "pip install --user"
    python: str | None  # "3.11", or None when unknown

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def holds_packages(self) -> bool:
        """Importable packages, as opposed to a folder of wheel files."""
        return self.kind != "wheels"


def python_version(image: Image, stage: StageModel) -> str | None:
    """The stage's Python minor version: from a ``python:3.X`` base tag, else from a
    ``python3.X`` package installed by apt/apk; None when unknown."""
    facts = load("python_layouts")
    stages = chain(image, stage)
    root = stages[0]
    if root.base.repository in facts["python_repositories"] and root.base.tag:
        match = re.match(r"(\d+\.\d+)", root.base.tag)
        if match:
            return match.group(1)
    version = None
    for member in stages:
        for install in member.installs():
            if install.family in ("apt", "apk", "rpm") and install.action in ("install", "add"):
                for package in install.packages:
                    match = re.fullmatch(r"python(3\.\d+)(?:[=~].*)?", package.value)
                    if match:
                        version = match.group(1)
    return version


def python_release(image: Image, stage: StageModel) -> str | None:
    """The stage's exact Python release when its ``python:3.X.Y`` base tag names one
    (`python:3.9.13` -> "3.9.13"); None for a tag of a minor (`python:3.9-slim`) or another base."""
    root = chain(image, stage)[0]
    if root.base.repository in load("python_layouts")["python_repositories"] and root.base.tag:
        match = re.match(r"(\d+\.\d+\.\d+)(?![\d.])", root.base.tag)
        if match:
            return match.group(1)
    return None


def libc(image: Image, stage: StageModel) -> str | None:
    """The C library of the stage, "musl" or "glibc", when its base is known; else None."""
    facts = load("python_layouts")
    base = chain(image, stage)[0].base
    if base.unresolved:
        return None
    tag = base.tag or ""
    if "alpine" in tag or any(glob_match(base.repository, pattern) for pattern in facts["musl"]):
        return "musl"
    if base.repository in facts["python_repositories"]:
        return "glibc" if tag and "windows" not in tag and "nanoserver" not in tag else None
    if any(glob_match(base.repository, pattern) for pattern in facts["glibc"]):
        return "glibc"
    return None


def clean_base(image: Image, stage: StageModel) -> bool:
    """The stage is built on a public base that holds no Python tree of its own beyond
    the system site-packages."""
    base = chain(image, stage)[0].base
    patterns = load("python_layouts")["clean_bases"]
    return not base.unresolved and any(glob_match(base.repository, pattern) for pattern in patterns)


def trees(image: Image, stage: StageModel) -> list[Tree]:
    """Every Python tree in the stage, inherited ones (FROM another stage, COPY --from
    of a venv) included, in build order. Worked out once per stage and image: a chain of
    stages each built FROM and copying from the one before doubled the work per stage."""
    return list(image.memoized(("trees", stage.index), lambda: _trees(image, stage)))


def _trees(image: Image, stage: StageModel) -> list[Tree]:
    found: list[Tree] = []
    version = python_version(image, stage)
    for member in chain(image, stage):
        found.extend(_stage_trees(image, member, version, found))
    return found


def _stage_trees(image: Image, stage: StageModel, version: str | None, inherited: list[Tree]) -> list[Tree]:
    made: list[Tree] = []
    copies = {copy.step_index: copy for copy in stage.copies if copy.from_stage is not None}
    for step in stage.steps:
        copy = copies.get(step.index)
        if copy is not None:
            made.extend(_copied_venvs(image, stage, step, copy, version))
        activated: str | None = None
        for command in step.commands:
            activated = _activation(command, step, image) or activated
            venv = _venv_creation(command, step, image)
            if venv is not None:
                made.append(Tree(venv, "venv", stage.index, step, command.span, _how(command), version))
                continue
            sync = _uv_sync(command, step, image)
            if sync is not None:
                made.append(Tree(sync, "venv", stage.index, step, command.span, "uv sync", version))
        for install in step.installs:
            if install.family == "pip":
                tree = _pip_tree(image, stage, step, install, version, [*inherited, *made])
                if tree is not None:
                    made.append(tree)
    return made


def _copied_venvs(image: Image, stage: StageModel, step: Step, copy, version: str | None) -> list[Tree]:
    """A venv copied from another stage is a venv here too (pip can install into it).
    One tree per copy, however many trees of the origin share the path: a chain of
    stages each copying the venv of the one before doubled the trees per stage."""
    origin = image.stages[copy.from_stage]
    venvs = {tree.path for tree in trees(image, origin) if tree.kind == "venv"}
    if any(source_path(source.value) in venvs for source in copy.sources):
        return [Tree(copy.dest, "venv", stage.index, step, copy.instruction.span, "COPY --from", version)]
    return []


def chain(image: Image, stage: StageModel) -> list[StageModel]:
    """The stage and those it is built FROM, base-most first."""
    stages = [stage]
    while stages[-1].parent is not None and image.stages[stages[-1].parent] not in stages:
        stages.append(image.stages[stages[-1].parent])
    return stages[::-1]


def source_path(value: str) -> str:
    """A COPY --from source as an absolute path in that stage (sources start at its root)."""
    return posixpath.normpath("/" + value.lstrip("/")) if value not in ("", ".", "./", "/") else "/"


def _abs(step: Step, value: str) -> str:
    return posixpath.normpath(posixpath.join(step.workdir or "/", value))


def _expand(image: Image, step: Step, value: str) -> str:
    return expand(value, step.env, image.dockerfile.escape)


def _how(command: ShellCommand) -> str:
    return " ".join(word for word in command.argv[:4] if len(word) < 40)


def _python_word(word: str) -> bool:
    name = posixpath.basename(word)
    return name == "python" or bool(re.fullmatch(r"python3(\.\d+)?", name))


def _venv_creation(command: ShellCommand, step: Step, image: Image) -> str | None:
    """``python -m venv DIR``, ``virtualenv DIR``, ``uv venv [DIR]``: the venv folder."""
    argv = command.argv
    if not argv:
        return None
    rest: list[str] | None = None
    if _python_word(argv[0]) and "-m" in argv and argv.index("-m") + 1 < len(argv):
        module = argv[argv.index("-m") + 1]
        if module in ("venv", "virtualenv"):
            rest = list(argv[argv.index("-m") + 2 :])
    elif command.name == "virtualenv":
        rest = list(argv[1:])
    elif command.name == "uv" and len(argv) > 1 and argv[1] == "venv":
        rest = list(argv[2:])
        folders = positional(rest, {"--python", "-p", "--prompt", "--index-url", "--seed-version"})
        return _abs(step, _expand(image, step, folders[0] if folders else ".venv"))
    if rest is None:
        return None
    folders = positional(rest, {"--prompt", "--python", "-p"})
    return _abs(step, _expand(image, step, folders[0])) if folders else None


def isolated_venv(image: Image, stage: StageModel, step: Step, span: Span) -> str | None:
    """The virtual environment the install at ``span`` writes to, when the image made it
    without ``--system-site-packages`` (``python -m venv``, ``virtualenv``, ``uv venv``,
    ``uv sync``'s project environment): the base image's packages are not importable there,
    so whatever the install needs is installed again. None otherwise."""
    found = trees(image, stage)
    target = next((tree for tree in found if tree.step is step and tree.span == span), None)
    if target is None or target.kind != "venv":
        return None
    return target.path if _isolated(found, target.path) else None


def service_venv(image: Image) -> str | None:
    """The virtual environment the final image's PATH puts first (``ENV
    PATH=/opt/venv/bin:$PATH``), when the image made it without ``--system-site-packages``:
    the service runs there and cannot import the base image's packages."""
    final = image.final
    if final is None or not final.steps:
        return None
    first = (final.steps[-1].env.get("PATH") or "").split(":", 1)[0].rstrip("/")
    if not first.endswith("/bin") or first in SYSTEM_DIRS:
        return None
    folder = first[: -len("/bin")]
    return folder if _isolated(trees(image, final), folder) else None


# Where `uv sync` with UV_PROJECT_ENVIRONMENT installs into an interpreter the image already
# has (uv docs, "Project environment path": a system Python's prefix), not a venv it makes.
_INTERPRETER_PREFIXES = ("/usr/local", "/usr", "/opt/conda")


def _isolated(found: list[Tree], path: str) -> bool:
    """Whether the image made the venv at ``path`` without the base's site-packages."""
    for tree in found:
        if tree.kind != "venv" or tree.path != path or tree.how.startswith(("pip", "uv pip", "python -m pip")):
            continue
        if tree.how == "uv sync" and (path in _INTERPRETER_PREFIXES or path.startswith("/opt/conda/envs/")):
            return False  # UV_PROJECT_ENVIRONMENT=/usr/local or /opt/conda: the image's own Python
        made = next((command for command in tree.step.commands if command.span == tree.span), None)
        return made is not None and "--system-site-packages" not in made.argv
    return False


def positional(words: list[str], value_options: set[str]) -> list[str]:
    """The words that are neither options nor the values of ``value_options``."""
    result, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in value_options:
            skip = True
        elif not word.startswith("-"):
            result.append(word)
    return result


def _uv_sync(command: ShellCommand, step: Step, image: Image) -> str | None:
    """``uv sync`` installs the project into UV_PROJECT_ENVIRONMENT or ``.venv``; with
    ``--active``, into the VIRTUAL_ENV the environment names (`VIRTUAL_ENV=/opt/conda`: the
    base image's own environment)."""
    argv = command.argv
    if command.name != "uv" or len(argv) < 2 or argv[1] != "sync":
        return None
    env = {**step.env, **dict(command.command.assignments)}
    if "--active" in argv and env.get("VIRTUAL_ENV"):
        return _abs(step, _expand(image, step, env["VIRTUAL_ENV"]))
    return _abs(step, _expand(image, step, env.get("UV_PROJECT_ENVIRONMENT") or ".venv"))


def _activation(command: ShellCommand, step: Step, image: Image) -> str | None:
    if command.name in ("source", ".") and len(command.argv) > 1:
        script = _abs(step, _expand(image, step, command.argv[1]))
        if script.endswith("/bin/activate"):
            return script[: -len("/bin/activate")]
    return None


def _venv_of_program(word: str, step: Step, image: Image) -> str | None:
    """``/opt/venv/bin/pip`` -> ``/opt/venv``; a program in a system bin folder -> None."""
    path = _expand(image, step, word)
    if "/" not in path:
        return None
    folder = posixpath.dirname(_abs(step, path))
    if folder in SYSTEM_DIRS or not folder.endswith("/bin"):
        return None
    return folder[: -len("/bin")]


def _pip_tree(
    image: Image, stage: StageModel, step: Step, install: Install, version: str | None, known: list[Tree]
) -> Tree | None:
    command = install.command
    env = {**step.env, **dict(command.command.assignments)}
    options = install.options
    how = "uv pip" if install.tool == "uv" else ("python -m pip" if install.module_form else "pip")

    def tree(path: str, kind: str, flag: str = "") -> Tree:
        label = f"{how} {install.action}" + (f" {flag}" if flag else "")
        return Tree(path, kind, stage.index, step, command.span, label, version)

    def value(name: str, env_name: str) -> str | None:
        given = options.get(name)
        if isinstance(given, str):
            return _abs(step, _expand(image, step, given))
        return _abs(step, env[env_name]) if env.get(env_name) else None

    if install.action in ("wheel", "download"):
        folder = value("--wheel-dir", "PIP_WHEEL_DIR") or value("--dest", "PIP_DEST") or step.workdir
        flag = "-w" if install.action == "wheel" else "-d"
        return tree(folder, "wheels", f"{flag} {folder}")
    if install.action not in ("install", "sync"):
        return None
    site = f"python{version or '3*'}"
    target = value("--target", "PIP_TARGET")
    if target:
        return tree(target, "target", f"--target={target}")
    prefix = value("--prefix", "PIP_PREFIX")
    if prefix:
        return tree(prefix, "prefix", f"--prefix={prefix}")
    root = value("--root", "PIP_ROOT")
    if root:
        return tree(root, "root", f"--root={root}")
    if install.tool == "pip" and (options.get("--user") is True or env_enabled(env.get("PIP_USER"))):
        base = env.get("PYTHONUSERBASE") or step.home + "/.local"
        return tree(base, "user", "--user")
    venv = _venv_for(image, step, install, env, known)
    if venv is not None:
        return tree(venv, "venv")
    if install.tool == "uv" and not (options.get("--system") is True or env_enabled(env.get("UV_SYSTEM_PYTHON"))):
        return None  # uv pip without a venv or --system fails; nothing to say about it
    if python_image(image, stage):
        system = f"/usr/local/lib/{site}/site-packages"
    else:
        system = _distribution_site(image, stage, site)
    return tree(system, "system")


def _venv_for(image: Image, step: Step, install: Install, env: dict[str, str], known: list[Tree]) -> str | None:
    argv = install.command.argv
    program = next(
        (word for word in argv if _python_word(word) or posixpath.basename(word).startswith(("pip", "uv"))), ""
    )
    venv = _venv_of_program(program, step, image)
    python = install.options.get("--python")
    if venv is None and isinstance(python, str):
        venv = _venv_of_program(python, step, image)
    if venv is not None:
        return venv
    for command in step.commands:
        if command is install.command:
            break
        activated = _activation(command, step, image)
        if activated:
            venv = activated
    if venv is not None:
        return venv
    venvs = {tree.path for tree in known if tree.kind == "venv"}
    if install.tool == "uv":
        if env.get("VIRTUAL_ENV"):
            return _abs(step, env["VIRTUAL_ENV"])
        local = _abs(step, ".venv")
        return local if local in venvs else None
    if "/" in program:
        return None
    for folder in env.get("PATH", "").split(":"):
        folder = posixpath.normpath(folder) if folder else ""
        if folder in SYSTEM_DIRS:
            return None
        if folder.endswith("/bin") and (folder[:-4] in venvs or folder[:-4] == env.get("VIRTUAL_ENV")):
            return folder[:-4]
    return None


def _distribution_site(image: Image, stage: StageModel, site: str) -> str:
    """Where a system ``pip install`` puts packages for a Python the distribution installed:
    Debian and Ubuntu's pip writes to /usr/local/lib/python3.X/dist-packages, Alpine's to
    /usr/lib/python3.X/site-packages; "" when no distribution Python is installed."""
    for member in chain(image, stage):
        for install in member.installs():
            if install.action not in ("install", "add"):
                continue
            if any(re.fullmatch(r"python3(\.\d+)?(-pip)?([=~].*)?", package.value) for package in install.packages):
                if install.family == "apt":
                    return f"/usr/local/lib/{site}/dist-packages"
                if install.family == "apk":
                    return f"/usr/lib/{site}/site-packages"
    return ""


def python_image(image: Image, stage: StageModel) -> bool:
    """Whether the stage descends from the official python image, whose interpreter is its
    own build in /usr/local: the OS's python3 and its apt packages are another Python."""
    return chain(image, stage)[0].base.repository in load("python_layouts")["python_repositories"]


# -- paths ------------------------------------------------------------------------------------


def related(first: str, second: str) -> bool:
    """One path is the other or lies inside it (either may hold ``*`` patterns)."""
    a = [part for part in first.split("/") if part]
    b = [part for part in second.split("/") if part]
    return all(glob_match(x, y) or glob_match(y, x) for x, y in zip(a, b, strict=False))


def inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def versioned_dir(path: str) -> str | None:
    """The X.Y of a ``lib/pythonX.Y`` segment in a path, if any."""
    match = re.search(r"/lib/python(\d+\.\d+)(/|$)", path)
    return match.group(1) if match else None


def holds(tree: Tree, path: str) -> bool:
    """Whether a COPY of ``path`` takes some of ``tree``: the paths meet, and a
    ``lib/pythonX.Y`` in the copied path names the tree's own Python."""
    if not tree.path:
        return path.startswith("/usr") or path == "/"
    if not related(path, tree.path):
        return False
    wanted = versioned_dir(path)
    return wanted is None or tree.python is None or wanted == tree.python


def mentioned(image: Image, stage: StageModel, path: str) -> Span | None:
    """An instruction of the stage (or a stage it is FROM) that may put something at
    ``path`` outside pip: a COPY to it, a command naming it or a folder inside it,
    a WORKDIR in it, or a program this model does not follow."""
    facts = load("python_layouts")
    for member in chain(image, stage):
        for copy in member.copies:
            if not copy.mount_only and any(related(dest, path) for dest in copied_paths(copy)):
                return copy.instruction.span
        for step in member.runs():
            for command in step.commands:
                if _opaque(command, facts["opaque_programs"]):
                    return command.span
                if command.name in ("mkdir", "pip", "uv") or _venv_creation(command, step, image):
                    continue
                if any(install.command is command for install in step.installs):
                    continue
                if path != "/" and inside(step.workdir, path):
                    return command.span
                for word in command.argv[1:]:
                    word = _expand(image, step, word.split("=", 1)[-1] if word.startswith("-") else word)
                    if word.startswith("/") and inside(word, path):
                        return command.span
    return None


def copied_paths(copy) -> list[str]:
    """Where a COPY/ADD puts each source: a file into a folder lands under its own name;
    a folder's contents (or the whole context) land in the destination itself."""
    paths = []
    for source in copy.sources:
        name = posixpath.basename(source.value.rstrip("/").split("?", 1)[0])
        is_file = copy.dest_is_dir and name not in ("", ".") and "." in name and not source.value.endswith("/")
        paths.append(posixpath.join(copy.dest, name) if is_file else copy.dest)
    return paths


def _opaque(command: ShellCommand, programs: list[str]) -> bool:
    name = command.name
    if name in programs or name.endswith(".sh"):
        return True
    argv = command.argv
    if name in ("sh", "bash") and len(argv) > 1 and not argv[1].startswith("-"):
        return True
    return _python_word(argv[0]) and any(word.endswith(".py") for word in argv[1:2]) if argv else False


def shadowed_by_stdlib(image: Image, modules) -> bool:
    """Whether a distribution of these modules is a backport of standard-library modules
    (asyncio 3.4.3, pathlib, typing, enum34's `enum`) that the image's Python has: its
    standard library comes before site-packages on sys.path, so an import never loads the
    backport. A module the standard library gained after 3.6 (`dataclasses`) counts only on
    a Python known to have it; one it dropped (`imghdr`) never does."""
    import sys

    from dockerlint.model.distributions import stdlib_backports

    tops = {module.split(".", 1)[0] for module in modules}
    if not tops:
        return False
    table = stdlib_backports()
    version = python_version(image, image.final) if image.final is not None else None
    for top in tops:
        if top not in sys.stdlib_module_names or top in table["removed"]:
            return False
        since = table["added"].get(top)
        if since and (version is None or _release(version) < _release(since)):
            return False
    return True


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".")[:2] if part.isdigit())
