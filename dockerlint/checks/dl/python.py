"""pip and uv: DL3013 pins, DL3042 the download cache left in the layer."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from msgspec.structs import replace

from dockerlint.checks import check, fixing
from dockerlint.checks.common import finding
from dockerlint.checks.dl.common import (
    after_subcommand,
    commands,
    has_flag,
    positional,
    resolved,
    runs,
    word_list,
)
from dockerlint.findings import Edit, Finding
from dockerlint.knowledge import load
from dockerlint.model import Image, ShellCommand, Step
from dockerlint.model.caches import (
    cache_mounted,
    conda_cache_kept,
    conda_install,
    keeps_cache,
    pip_cache_kept,
    poetry_cache_kept,
    uv_sync,
)
from dockerlint.model.installs import package_manager
from dockerlint.source import Span

# -- DL3013 ------------------------------------------------------------------------------------

_VERSION_SYMBOLS = ("==", ">=", "<=", ">", "<", "!=", "~=")
# pip's VCS schemes (pip's "VCS support" page); `git+https://...@v1.2` is pinned by its ref.
_VCS = (
    "git+file", "git+https", "git+ssh", "git+http", "git+git", "git", "hg+file", "hg+http", "hg+https",
    "hg+ssh", "hg+static-http", "svn", "svn+svn", "svn+http", "svn+https", "svn+ssh", "bzr+http",
    "bzr+https", "bzr+ssh", "bzr+sftp", "bzr+ftp", "bzr+lp",
)  # fmt: skip


@cache
def _pip_value_flags() -> frozenset[str]:
    """Flags of `pip install`/`uv pip install` whose next word is a value, not a package."""
    return frozenset(name.lstrip("-") for name in package_manager("pip")["value_options"])


def _pip_install(command: ShellCommand) -> str | None:
    """How a command installs with pip: "pip install", "python -m pip install",
    "uv pip install"; None when it does not."""
    argv, name = command.argv, command.name
    if name.startswith("pip") and not name.startswith("pipenv") and "install" in argv[1:]:
        return f"{name} install"
    if name.startswith("python") and any(argv[i : i + 3] == ("-m", "pip", "install") for i in range(1, len(argv))):
        return "python -m pip install"
    if name == "uv" and argv[1:2] == ("pip",) and "install" in argv[2:]:
        return "uv pip install"
    return None


def _pinned(spec: str) -> bool:
    vcs = spec.startswith(_VCS)
    return (
        any(symbol in spec for symbol in _VERSION_SYMBOLS)
        or (vcs and "@" in spec)
        or spec.endswith((".whl", ".tar.gz"))
        or (not vcs and "/" in spec)
    )


@check("DL3013")
def pip_pin(image: Image) -> Iterator[Finding]:
    value_flags = _pip_value_flags()
    names = [name for name in image.commands_by_name if name.startswith(("pip", "python")) or name == "uv"]
    for _stage, step, command in commands(image, *names):
        how = _pip_install(command)
        if how is None or has_flag(command, "c", "constraint"):
            continue
        if any(word in ("-r", "--requirement", ".") for word in command.argv[1:]):
            continue  # a requirements file or the project itself says what is installed
        specs = [word for _, word in after_subcommand(positional(command, value_flags), "install")]
        loose = [spec for word in specs for spec in resolved(step, word) or () if not _pinned(spec)]
        if loose:
            yield finding(
                image,
                "DL3013",
                command.span,
                f"`{how}` of {word_list(loose)} without a version: each build may get another release",
                "Pin a version (`pip install flask==3.0.3`), or install from a pinned requirements or "
                "constraints file (`-r requirements.txt`, `-c constraints.txt`).",
            )


# -- DL3042 ------------------------------------------------------------------------------------

_WRAPPERS = ("env", "sudo", "time", "nice", "nohup", "exec")  # may run `uv sync` (installs.wrapper_words)


@check("DL3042")
def pip_cache(image: Image) -> Iterator[Finding]:
    uv = any(name == "uv" or name in _WRAPPERS for name in image.commands_by_name)
    for _stage, step in runs(image, shipped=True):
        for install in step.written_installs:
            if not pip_cache_kept(step, install):
                continue
            tool = "uv" if install.tool == "uv" else "pip"
            flag = "--no-cache" if tool == "uv" else "--no-cache-dir"
            if tool == "uv":
                command = f"uv pip {install.action}"
            else:
                command = "python -m pip install" if install.module_form else "pip install"
            after = "install" if tool == "pip" else install.action
            fix = _cache_fix(image, step, install.command, tool, flag, after)
            yield _cache_finding(image, step, install.span, command, tool, flag, fix)
        for command in step.written_commands if uv else ():
            if not uv_sync(command) or {"--no-cache", "-n"} & set(command.argv):
                continue
            if keeps_cache(step, command, "uv"):
                fix = _cache_fix(image, step, command, "uv", "--no-cache", "sync")
                yield _cache_finding(image, step, command.span, "uv sync", "uv", "--no-cache", fix)
        for command in step.written_commands:
            if poetry_cache_kept(step, command):
                verb = next(word for word in command.argv[1:] if word in ("install", "sync"))
                fix = _cache_fix(image, step, command, "poetry", "--no-cache", verb)
                yield _cache_finding(image, step, command.span, f"poetry {verb}", "poetry", "--no-cache", fix)
            elif conda_cache_kept(step, command):
                program = conda_install(command).split()[0]
                yield finding(
                    image,
                    "DL3042",
                    command.span,
                    f"`{conda_install(command)}` without `{program} clean` in the same RUN keeps the downloaded "
                    "packages (archives and unpacked copies) in this layer's package cache",
                    f"End the RUN with `&& {program} clean --all --yes`, or use "
                    "`RUN --mount=type=cache,target=/opt/conda/pkgs` (the pkgs folder of the root prefix).",
                )


def _cache_finding(image: Image, step: Step, span, command: str, tool: str, flag: str, fix) -> Finding:
    known = load("caches")[tool]
    return finding(
        image,
        "DL3042",
        span,
        f"`{command}` without `{flag}` keeps downloaded packages in this layer's cache",
        f"Add `{flag}`, " + (f"set `ENV {known['env'][0]}=1`, " if known["env"] else "") + "or use "
        f"`RUN --mount=type=cache,target={known['cache_dirs'][0].replace('~', step.home)}`.",
        autofix=fix,
    )


def _cache_fix(image: Image, step: Step, command: ShellCommand, tool: str, flag: str, subcommand: str):
    """The cache mount another RUN of the file already puts at this user's cache, else
    the no-cache flag after the subcommand."""
    mount = _mount_in_use(image, step, tool)
    if mount is not None:
        return fixing.safe(f"Mount the cache as the other RUNs do (`{mount}`)", _add_run_flag(image, step, mount))
    return fixing.flag_after(image, command, subcommand, flag)


def _mount_in_use(image: Image, step: Step, tool: str) -> str | None:
    """The ``--mount=type=cache,...`` flag, as written, of another RUN whose mount keeps
    ``tool``'s cache for a user with this step's home."""
    directories = load("caches")[tool]["cache_dirs"][:1]
    for _stage, other in runs(image, onbuild=False):
        if other is step or other.home != step.home:
            continue
        for flag in other.instruction.flags_named("mount"):
            written = fixing.span_text(image, flag.span)
            alone = replace(other, instruction=replace(other.instruction, flags=(flag,)))
            if written.startswith("--mount=") and "\n" not in written and cache_mounted(alone, directories, other.home):
                return written
    return None


def _add_run_flag(image: Image, step: Step, flag: str) -> Edit | None:
    """Insert ``flag`` as the RUN's first flag."""
    keyword = fixing.keyword_span(image, step.instruction)
    if keyword is None:
        return None
    point = Span(keyword.end_line, keyword.end_column, keyword.end_line, keyword.end_column)
    return Edit(image.dockerfile_path, point, f" {flag}")
