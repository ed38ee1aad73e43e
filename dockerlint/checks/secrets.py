"""SEC002: secrets that end up in the image, as files or as ARG/ENV values.

Messages name the file or the variable, never the value.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterator
from functools import cache

from dockerlint.checks import check
from dockerlint.checks.common import final_chain, finding
from dockerlint.findings import Finding, Related
from dockerlint.knowledge import load
from dockerlint.model import Image
from dockerlint.model.buildcontext import context_copies, context_path, is_remote
from dockerlint.model.gitignore import gitignored
from dockerlint.model.image import context_source
from dockerlint.parse.dockerfile import Instruction

_SHOWN = 5
_KEY_SNIFF = 65536  # a PEM header sits at the top of the file
# NAME=value (value quoted or not), as ENV and ARG write it.
_PAIR = re.compile(r"""(?<!\S)([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)""")
_SWITCHES = frozenset({"", "0", "1", "true", "false", "yes", "no", "on", "off", "none", "null"})


@check("SEC002")
def secret_in_image(image: Image) -> Iterator[Finding]:
    stages = final_chain(image)
    yield from _secret_files(image, stages)
    yield from _login_folders(image, stages)
    yield from _named_key_files(image, stages)
    for stage in stages:
        for step in stage.steps:
            if step.keyword in ("ENV", "ARG"):
                yield from _secret_values(image, step.instruction)


def _secret_files(image: Image, stages) -> Iterator[Finding]:
    context = image.context
    for _, copy in context_copies(image, stages):
        if copy.mount_only:
            continue
        for source in copy.sources:
            if is_remote(source.value):
                continue
            secrets = [file.path for file in context.glob(source.value) if _secret_file(image, file.path)]
            if not secrets:
                continue
            shown = ", ".join(f"`{path}`" for path in secrets[:_SHOWN])
            if len(secrets) > _SHOWN:
                shown += f" and {len(secrets) - _SHOWN} more"
            yield finding(
                image,
                "SEC002",
                source.span,
                f"`{copy.instruction.keyword} {source.value}` puts secret-looking files into the image: {shown}; "
                "anyone who can pull the image can read them",
                "Exclude them in .dockerignore and pass them at run time (environment, mounted secret), or at "
                "build time with `RUN --mount=type=secret,id=...`.",
            )


def _login_folders(image: Image, stages) -> Iterator[Finding]:
    """A COPY of a command line's login folder (``.azure/``, ``.aws/``, ``.kube/``,
    ``.config/gcloud/``) or into one (``/root/.aws/``). Files the context holds are
    judged by ``_secret_files``; this covers a folder the repository keeps out of git,
    which the build then takes from the building machine."""
    context = image.context
    ignore = image.ignore
    for _, copy in context_copies(image, stages):
        if copy.mount_only:
            continue
        for source in copy.sources:
            if is_remote(source.value):
                continue
            path = context_path(source.value)
            folder = _login_folder(path) if path != "." else None
            held = context.glob(source.value)
            if not held and ignore is not None and ignore.excludes(path):
                continue  # nothing arrives: the build fails (CTX003), no login leaks
            if folder is not None and not held:
                ignored = gitignored(image.workspace, image.context_root / path)
                kept_out = " (.gitignore keeps it out of git)" if ignored is not None else ""
                yield finding(
                    image,
                    "SEC002",
                    source.span,
                    f"`{copy.instruction.keyword} {source.value}` copies the {folder['tool']} login folder "
                    f"`{folder['path']}/`, which the repository does not hold{kept_out}: the build takes whatever "
                    "login the building machine has, and anyone who can pull the image can use its tokens",
                    "Do not copy CLI logins into an image: pass credentials at run time (a mounted secret, "
                    "workload identity, environment) and at build time with `RUN --mount=type=secret,...`.",
                )
                continue
            target = _login_folder(copy.dest.lstrip("/"), anywhere=True)
            lands_as_credential = target is not None and _credential_name(target, copy.dest.rstrip("/"))
            if target is not None and (
                not held or lands_as_credential or any(_credential_name(target, file.path) for file in held)
            ):
                if any(_secret_file(image, file.path) for file in held):
                    continue  # _secret_files names them
                yield finding(
                    image,
                    "SEC002",
                    source.span,
                    f"`{copy.instruction.keyword} {source.value}` puts files into `{copy.dest}`, where the "
                    f"{target['tool']} keeps its login: whatever lands there is a credential anyone who can "
                    "pull the image can use",
                    "Mount the credentials at run time (a secret or a read-only volume) instead of copying them.",
                )


def _login_folder(path: str, anywhere: bool = False) -> dict | None:
    """The login folder ``path`` is (or lies in): at the context root, or at any depth
    for a destination (``root/.aws``, ``home/app/.azure/``)."""
    padded = "/" + path.strip("/") + "/"
    for folder in _secrets()["credential_dirs"]:
        marker = "/" + folder["path"] + "/"
        if padded.startswith(marker) or (anywhere and marker in padded):
            return folder
    return None


def _credential_name(folder: dict, path: str) -> bool:
    return path.rsplit("/", 1)[-1] in folder["files"]


def _named_key_files(image: Image, stages) -> Iterator[Finding]:
    """A credential file the Dockerfile names (``ENV GOOGLE_APPLICATION_CREDENTIALS=…``,
    ``dvc remote modify … gdrive_service_account_json_file_path creds.json``) that a COPY
    from the build context puts at that path."""
    table = _secrets()
    for stage in stages:
        for step in stage.steps:
            if step.keyword == "ENV":
                for name in table["key_file_variables"]:
                    value = step.env.get(name, "")
                    if name in step.instruction.args and value and "$" not in value:
                        yield from _key_file(image, stage, step, value, f"`ENV {name}`", needed=False)
            elif step.keyword == "RUN":
                for command in step.commands:
                    for spec in table["key_file_commands"]:
                        value = _option_value(command.argv, spec)
                        if value is None:
                            continue
                        used = _used_later(stages, step, command, spec)
                        if used:
                            shown = " ".join(spec["argv"])
                            yield from _key_file(image, stage, step, value, f"`{shown}`", needed=True)


def _option_value(argv: tuple[str, ...], spec: dict) -> str | None:
    words = [posixpath.basename(argv[0]), *argv[1:]] if argv else []
    if words[: len(spec["argv"])] != spec["argv"]:
        return None
    rest = words[len(spec["argv"]) :]
    for i, word in enumerate(rest):
        name, has_value, value = word.partition("=")
        if name in spec["options"]:
            if has_value:
                return value or None
            return rest[i + 1] if i + 1 < len(rest) else None
    return None


def _used_later(stages, step, command, spec: dict) -> bool:
    """The credential is used at build: the command itself uses it, or a later command of
    the final image's stages does (``dvc pull`` after ``dvc remote modify``)."""
    users = spec.get("used_by")
    if not users:
        return True
    seen = False
    for stage in reversed(stages):
        for other in stage.steps:
            if other.keyword != "RUN" or (other is not step and not seen):
                continue
            for candidate in other.commands:
                if candidate is command:
                    seen = True
                    continue
                words = [posixpath.basename(candidate.argv[0]), *candidate.argv[1:]] if candidate.argv else []
                if seen and any(words[: len(user)] == user for user in users):
                    return True
    return False


def _key_file(image: Image, stage, step, value: str, named_by: str, needed: bool) -> Iterator[Finding]:
    image_path = posixpath.normpath(posixpath.join(step.workdir or "/", value))
    if any(mount.get("type") == "secret" and mount.get("target") == image_path for mount in step.mounts):
        return
    source = context_source(image, stage, image_path, step.index)
    if source is None:
        return
    try:
        relative = source.relative_to(image.context_root).as_posix()
    except ValueError:
        return
    ignore = image.ignore
    if ignore is not None and ignore.excludes(relative):
        return  # kept out of the build
    present = image.context.sent(relative)
    if not present and not needed:
        return  # may be mounted at run time
    copy = _copy_of(stage, image, image_path, step.index)
    how = f"`{copy.instruction.keyword} {' '.join(s.value for s in copy.sources)}` (line {copy.instruction.span.line})"
    state = "" if present else " (the repository does not hold it: the build takes the one on the building machine)"
    yield finding(
        image,
        "SEC002",
        step.instruction.span,
        f"{named_by} names the credential file `{value}`, which {how} puts into the image from the build "
        f"context{state}: anyone who can pull the image can read the key",
        f"Add `{relative}` to `.dockerignore` and pass the key as a build secret "
        f"(`RUN --mount=type=secret,id=key,target={image_path} …`) or mount it at run time.",
        related=[Related(image.dockerfile_path, copy.instruction.span, "copies the build context here")],
    )


def _copy_of(stage, image: Image, image_path: str, before: int):
    """The last COPY of the build context at or above ``image_path`` (in the stage or
    the ones it is built on)."""
    while stage is not None:
        for copy in reversed(stage.copies):
            if copy.step_index > before or copy.from_stage is not None or copy.from_image or copy.heredoc:
                continue
            if image_path == copy.dest or image_path.startswith(copy.dest.rstrip("/") + "/"):
                return copy
        stage, before = (image.stages[stage.parent], 10**9) if stage.parent is not None else (None, 0)
    return None


def _secret_file(image: Image, path: str) -> bool:
    matcher, folders, files, extensions = _file_rules()
    name = path.rsplit("/", 1)[-1]
    if matcher.fullmatch(name):
        return not (name == ".env" or name.startswith(".env.")) or _env_holds_values(image, path)
    anchored = "/" + path
    if anchored.endswith(files) or any(folder in anchored for folder in folders):
        return True
    if name.endswith(extensions):
        data = image.workspace.read_bytes(image.context.root / path, quiet=True)
        return data is not None and _secrets()["private_key_marker"].encode() in data[:_KEY_SNIFF]
    return False


def _env_holds_values(image: Image, path: str) -> bool:
    """Whether an env file sets a value: one whose every variable is empty (`API_KEY=`, a
    template under any name, `.env.exemple`) holds no secret."""
    data = image.workspace.read_bytes(image.context.root / path, quiet=True, head=_KEY_SNIFF)
    if data is None:
        return True  # unreadable: said as before
    for line in data.decode("utf-8", "replace").splitlines():
        name, equals, value = line.strip().removeprefix("export ").partition("=")
        value = value.strip()
        if equals and name and not name.startswith("#") and value not in ("", '""', "''") and value[0] != "#":
            return True
    return False


@cache
def _file_rules() -> tuple[re.Pattern[str], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """One regex for every secret file name (names, globs, ``.env.*`` but its templates);
    the folders (``/.ssh/``, at any depth) and files (``/.aws/credentials``) whose path
    gives them away, each with a leading ``/`` to be found in ``"/" + path``; and the
    extensions of files that may hold a private key."""
    table = _secrets()
    templates = "|".join(re.escape(name) for name in table["env_templates"])
    alternatives = [re.escape(name) for name in table["names"]]
    alternatives += [fnmatch.translate(pattern) for pattern in table["patterns"]]
    alternatives.append(f"(?!(?:{templates})$){re.escape(table['env_prefix'])}.+")
    logins = [f"{folder['path']}/{name}" for folder in table["credential_dirs"] for name in folder["files"]]
    paths = [*table["paths"], *logins]
    return (
        re.compile("|".join(f"(?:{item})" for item in alternatives), re.S),
        tuple("/" + path for path in paths if path.endswith("/")),
        tuple("/" + path for path in paths if not path.endswith("/")),
        tuple(table["key_extensions"]),
    )


def _secret_values(image: Image, instruction: Instruction) -> Iterator[Finding]:
    for match in _pairs(instruction):
        name, value, start, end = match
        if _value_is_token(value):
            why = "a value in the format of an access token or a URL with a password"
        elif _name_is_secret(name) and _value_is_literal_secret(value, instruction.keyword):
            why = "a secret-looking name with a value" + (" taken from a build argument" if "$" in value else "")
        else:
            continue
        where = (
            "the image config (`docker inspect`)"
            if instruction.keyword == "ENV"
            else "the image history (`docker history`)"
        )
        yield finding(
            image,
            "SEC002",
            instruction.span_of(start, end),
            f"`{instruction.keyword} {name}` has {why}; the value is stored in {where}",
            "Pass secrets at build time with `RUN --mount=type=secret,id=...` and at run time through the "
            "environment or a mounted secret; never through ARG defaults or ENV.",
        )


def _pairs(instruction: Instruction) -> list[tuple[str, str, int, int]]:
    """(name, value as written, start, end of the name) for each NAME=value, and the
    legacy ``ENV NAME value`` form."""
    args = instruction.args
    pairs = [(m.group(1), m.group(2).strip("\"'"), m.start(1), m.end(1)) for m in _PAIR.finditer(args)]
    if not pairs and instruction.keyword == "ENV":
        legacy = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s+(.+)", args, re.S)
        if legacy:
            pairs.append((legacy.group(1), legacy.group(2).strip().strip("\"'"), legacy.start(1), legacy.end(1)))
    return pairs


def _name_is_secret(name: str) -> bool:
    table = load("context")["secret_names"]
    lowered = name.lower()
    if lowered.endswith(tuple(table["not_secret_suffixes"])):
        return False
    words = [word for word in re.split(r"[_\-]+", lowered) if word]
    if any(word in table["words"] for word in words):
        return True
    return any([first, second] in table["pairs"] for first, second in zip(words, words[1:], strict=False))


def _value_is_literal_secret(value: str, keyword: str) -> bool:
    if value.lower() in _SWITCHES or value.startswith(("/", "./", "~")):
        return False  # a switch, or a path to a mounted secret
    if "$" in value:
        return keyword == "ENV"  # ENV copies a build argument into the image config
    return True


def _value_is_token(value: str) -> bool:
    return "$" not in value and any(pattern.search(value) for pattern in _token_patterns())


@cache
def _token_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(pattern) for pattern in load("context")["secret_values"]["patterns"])


@cache
def _secrets() -> dict:
    return load("context")["secrets"]
