"""Base images of the final stage: the biggest single choice in an image's size."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from fnmatch import fnmatchcase

from msgspec.structs import replace

from dockerlint.checks import check
from dockerlint.checks.common import external_base, final_chain, finding, from_image_span
from dockerlint.findings import Finding, Severity, human_size
from dockerlint.knowledge import load
from dockerlint.model import Image
from dockerlint.model.baseimage import base_image
from dockerlint.model.distributions import closure, lookup, module_owners
from dockerlint.model.pyenv import service_venv
from dockerlint.model.queries import development_image
from dockerlint.model.submodules import unread_code


@check("IMG001")
def full_python_base(image: Image) -> Iterator[Finding]:
    final = image.final
    if final is None or development_image(image):
        return  # a test or development image (`--target test`) does not ship
    ref, stage = external_base(image, final)
    facts = base_image(ref)
    if facts is None or not facts.compilers or facts.slim is None:
        return
    if ref.tag is None and ref.digest:
        return  # a bare digest does not say which variant it is
    lean = base_image(type(ref).parse(facts.slim))
    full_size = facts.size or 0
    lean_size = lean.size if lean is not None and lean.size else load_python_slim_size()
    where = "the final stage" if stage is final else f"the final stage (through {stage.label})"
    under = facts.built_on or (None if ref.repository == "python" else f"python:{facts.python or '3'}")
    details = [f"~{human_size(full_size)}"] if full_size else []
    details += [f"built on the full Debian `{under}` image"] if under else []
    details.append("with compilers and headers")
    instead = f"`{facts.slim}` is ~{human_size(lean_size)}" if full_size else f"`{facts.slim}` is the same without them"
    saving = full_size - lean_size if full_size > lean_size else None
    built = built_from_source(image)
    if built:
        # Slim alone fails the build: the saving takes a builder stage, a change of design.
        names = ", ".join(name if " " in name else f"`{name}`" for name in built)
        yield Finding(
            "IMG001",
            image.dockerfile_path,
            from_image_span(stage),
            f"{where} runs on the full `{ref.raw}` image ({', '.join(details)}); {instead}, but {names} "
            f"{'is' if len(built) == 1 else 'are'} built from source here with the full image's compiler and "
            "headers, so moving to it takes a builder stage",
            f"Build the wheels in a builder stage on `{ref.raw}` (`pip wheel --wheel-dir /wheels ...`) and install "
            f"them in a `{facts.slim}` final stage with the shared libraries they link (the run-time apt packages, "
            "not the -dev ones).",
            saving,
            severity=Severity.INFO,
        )
        return
    yield finding(
        image,
        "IMG001",
        from_image_span(stage),
        f"{where} runs on the full `{ref.raw}` image ({', '.join(details)}); {instead}",
        f"Use `FROM {facts.slim}` for the final stage; if packages need a compiler, build wheels in a "
        f"builder stage on `{ref.raw}` and copy them into the slim stage.",
        saving,
        autofix=_slim_fix(image, stage, ref, facts.slim),
    )


_COMPILERS = frozenset({"gcc", "g++", "cc", "c++", "build-base"})  # build-base: Alpine's tool chain


def built_from_source(image: Image) -> list[str]:
    """Distributions the final image installs that pip builds from source against the full
    image's compiler and -dev headers (psycopg2, mysqlclient, mariadb), or the native code
    it compiles (a CMake build of llama-cpp-python), when the image does not install a
    compiler itself: on the slim image that build fails."""
    from dockerlint.model.installed_names import image_installs

    table = load("base_images")["slim_lacks"]
    for stage in final_chain(image):
        for step in stage.steps:
            for install in step.installs:
                if install.family in ("apt", "apk") and install.action in ("install", "add"):
                    for package in install.packages:
                        name = package.value.split("=", 1)[0]
                        if _COMPILERS & {name, *table["packages"].get(name, ())}:  # build-essential: gcc
                            return []
    wanted = set(table["distributions"])
    installs = image_installs(image)
    named = {item.name for item in installs.items}
    # what they require too: django-heroku brings psycopg2, built from source as well
    brought = closure(named, loads=False) | set(installs.locked)
    built = sorted(wanted & (named | brought))
    from dockerlint.model.native_build import compiles_native

    if not built and compiles_native(image):  # `FORCE_CMAKE=1 pip install llama-cpp-python`, `pip wheel`
        built = ["the native code this image compiles"]
    return built


def _slim_fix(image: Image, root, ref, slim: str):
    """``FROM`` the slim image, when no stage outside the final chain builds on that FROM,
    the chain runs none of the programs slim lacks (compilers, curl, git...) unless it
    installs them itself, and installs no distribution that needs the full image's headers;
    native builds need a compiler the chain installs."""
    from dockerlint.checks import fixing
    from dockerlint.checks.common import from_image_span
    from dockerlint.findings import Edit
    from dockerlint.model.distributions import lookup
    from dockerlint.model.ml import pip_commands
    from dockerlint.model.native_build import compiles_native
    from dockerlint.model.queries import final_chain

    if not slim.startswith(ref.name + ":"):
        return None  # another image altogether: its commands, user and defaults differ
    chain = final_chain(image)
    if any(stage.parent == root.index and stage not in chain for stage in image.stages):
        return None
    span = from_image_span(root)
    if fixing.span_text(image, span) != ref.raw:
        return None
    table = load("base_images")["slim_lacks"]
    lacking = set(table["programs"])
    for stage in reversed(chain):
        for command in pip_commands(image, stage):
            # A distribution the index does not know may build from source, with the compiler
            # slim lacks (cld2-cffi); so may what a command substitution names.
            if any(
                request.name in table["distributions"] or not lookup(request.name).known for request in command.requests
            ):
                return None
        for step in stage.steps:
            used = [command.name for command in step.commands]
            for install in step.installs:
                if install.family in ("apt", "apk") and install.action in ("install", "add"):
                    for package in install.packages:
                        name = package.value.split("=", 1)[0]
                        lacking -= {name, *table["packages"].get(name, ())}
                if install.family == "pip" and any(a.value.startswith("git+") for a in install.packages):
                    used.append("git")
                if install.family == "pip" and any("$(" in a.value or "`" in a.value for a in install.packages):
                    return None
            if step.keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
                used += [
                    word.rsplit("/", 1)[-1] for word in step.instruction.json_args or step.instruction.args.split()
                ]
            if lacking & set(used):
                return None
    if compiles_native(image) and {"gcc", "make"} & lacking:
        return None
    return fixing.unsafe(f"Use `{slim}`", Edit(image.dockerfile_path, span, slim))


def load_python_slim_size() -> int:
    """The slim python image's size: the lean variant of every full python-based image."""
    for row in load("base_images")["images"]:
        if row["match"] == ["python"] and row.get("tags") == ["*slim*"]:
            return row["size"]
    return 0


@check("IMG002")
def heavy_framework_base(image: Image) -> Iterator[Finding]:
    """The base carries frameworks (torch, TensorFlow, Ray, Jupyter) that no code in the
    image imports and no command runs. Quiet when the image holds no Python code to judge
    by (a cluster node image whose jobs arrive at run time)."""
    final = image.final
    if final is None:
        return
    ref, stage = external_base(image, final)
    facts = base_image(ref)
    if facts is None or not facts.carries or not facts.what:
        return
    from dockerlint.model.code import image_code

    code = image_code(image, image.local_projects())
    if not any(not file.is_test for file in code.files):
        return
    venv = service_venv(image)
    if venv is None and unread_code(image) is not None:
        return  # code this checkout does not hold (a submodule not fetched, a repository cloned) may import them
    if venv is not None:  # the service's imports resolve in its own venv, never in the base's Python
        unused = list(facts.carries)
    else:
        used = _used_names(image, code)
        used |= {other for name in facts.carries if name in used for other in lookup(name).requires}  # vllm's torch
        used |= _installed_users(image, used)
        unused = [name for name in facts.carries if name not in used]
    if not unused:
        return
    every = len(unused) == len(facts.carries)
    size = facts.size if every else None
    cost = f" (~{human_size(size)}{_devel_note(facts)})" if size else ""
    names = ", ".join(f"`{name}`" for name in unused)
    if venv is not None:
        what = (
            f"which carries {facts.what}{cost}, but the service runs in the virtual environment `{venv}` "
            "(first on PATH), made without `--system-site-packages`: none of it can be imported there"
        )
    elif every:
        what = f"which carries {facts.what}{cost}, and no code in the image imports {names}"
    else:
        what = f"which carries {facts.what}; the code uses some of it, but nothing imports {names}"
    yield finding(
        image,
        "IMG002",
        from_image_span(stage),
        f"the final stage is built on `{ref.raw}`, {what}",
        "Start from a slim Python image (or `nvidia/cuda:*-runtime` when a GPU is needed) "
        "and install only the packages the service imports.",
        size,
    )


def _devel_note(facts) -> str:
    return ", before the CUDA compiler and headers of the devel tag" if facts.devel else ""


def _used_names(image: Image, code) -> set[str]:
    """Top-level modules the code imports or names, and the frameworks whose commands the
    final stage runs."""
    used = {path.split(".", 1)[0] for path in code.imports.run_time}
    used |= set(code.mentions.names)
    words = [word for stage in final_chain(image) for step in stage.steps for word in _instruction_words(step)]
    commands = {posixpath.basename(word) for word in words}
    # `python3 -m vllm.entrypoints.openai.api_server`: a module the start command runs
    used |= {module.split(".", 1)[0] for flag, module in zip(words, words[1:], strict=False) if flag == "-m"}
    table = load("base_images")
    for module, names in table["framework_commands"].items():
        if commands.intersection(names):
            used.add(module)
    for module, users in table["framework_users"].items():
        if used.intersection(users):
            used.add(module)
    # an integration named for the framework (`from langchain_community.llms import VLLM`)
    # imports it when it is called
    named = {part.lower() for path in code.imports.run_time for part in path.split(".")[1:]}
    return used | named | _required_modules(used)


def _installed_users(image: Image, imported: set[str]) -> set[str]:
    """Top-level modules of what an install of the image brings, with the extras it asks,
    when the code imports that install's own modules (`docling[all]`, a meta package whose
    `docling` comes from docling-slim, brings torch through docling-ibm-models)."""
    from dockerlint.model.installed_names import image_installs

    found: set[str] = set()
    for item in image_installs(image).items:
        distribution = lookup(item.name)
        own = set(distribution.modules) or {  # a meta package: the modules of its namesakes it requires
            module for other in distribution.requires if other.startswith(item.name) for module in lookup(other).modules
        }
        if {module.split(".", 1)[0] for module in own} & imported:
            tree = closure({item.name}, {item.name: tuple(item.extras)}, loads=False)
            found |= _top_modules(tree)
    return found


def _required_modules(imported: set[str]) -> set[str]:
    """Top-level modules of what the imported packages require, all the way down
    (byaldi requires torch: code that imports byaldi uses the torch the base carries)."""
    owners = module_owners()
    distributions = {owner for module in imported for owner in owners.get(module, ())}
    if not distributions:
        return set()
    return _top_modules(closure(distributions, loads=False) - distributions)


def _top_modules(names: set[str]) -> set[str]:
    """The top-level modules the distributions provide (`torch`, not `torch.nn`)."""
    return {module.split(".", 1)[0] for name in names for module in lookup(name).modules}


def _instruction_words(step) -> list[str]:
    if step.keyword == "RUN":
        return [word for command in step.commands for word in command.argv[:3]]
    if step.keyword in ("CMD", "ENTRYPOINT"):
        args = step.instruction.json_args
        return list(args) if args is not None else re.findall(r"[^\s\"']+", step.instruction.args)
    return []


@check("IMG005")
def floating_base_tag(image: Image) -> Iterator[Finding]:
    """A tag that names a variant but not the version (``python:alpine``,
    ``python:3-slim``) or a nightly build moves on its own; untagged and ``latest`` are
    DL3006 and DL3007."""
    for stage in image.stages:
        ref = stage.base
        if not stage.reachable:
            continue  # a stage the image never builds (an old `FROM` left above the real one)
        if stage.parent is not None or ref.unresolved or ref.digest or ref.tag in (None, "latest"):
            continue
        facts = base_image(ref)
        if facts is None:
            continue
        moving = next((pattern for pattern in facts.floating_tags if fnmatchcase(ref.tag, pattern)), None)
        if moving is not None:
            rest = ref.tag[len(moving.rstrip("*").rstrip("-_.")) :] if moving.endswith("*") else ""  # "-python3.8"
            what = f"is a moving tag (`{moving}`): it points to a new build as each one comes out"
            instead = f"`{ref.name}:<version>{rest}`"
        elif facts.version_tag and not re.search(facts.version_tag, ref.tag):
            variant = re.sub(r"^\d+(?:-|$)", "", ref.tag)
            what = "names no version, only a variant: it moves to each new release"
            instead = f"`{ref.name}:<version>{'-' + variant if variant else ''}`"
        else:
            continue
        yield finding(
            image,
            "IMG005",
            from_image_span(stage),
            f"`{ref.raw}` {what}, so two builds of the same commit may get different base images",
            f"Name the version you build and test with, for example {instead} (for `python`, major.minor: "
            "`python:3.12-alpine`), and let a bot such as Renovate propose updates.",
        )


@check("IMG004")
def base_not_pinned(image: Image) -> Iterator[Finding]:
    for stage in image.stages:
        ref = stage.base
        if stage.parent is not None or ref.digest or ref.unresolved or ref.repository == "scratch":
            continue
        yield finding(
            image,
            "IMG004",
            from_image_span(stage),
            f"`{ref.raw}` is not pinned by digest: the tag can be moved to a different image",
            f"Pin the digest as well: `{ref.raw}@sha256:<digest>` (see `docker buildx imagetools inspect {ref.raw}`).",
        )


@check("IMG006")
def over_budget(image: Image) -> Iterator[Finding]:
    """The image's estimated size (the bill of bytes) is over the budget the configuration
    sets for its Dockerfile (``[tool.dockerlint.budget]``)."""
    budget = _budget(image)
    final = image.final
    if budget is None or final is None:
        return
    from dockerlint.model.size import bill_of_bytes

    bill = bill_of_bytes(image)
    estimate, low, high, unknown = bill.totals()
    if estimate <= budget:
        return
    biggest = ", ".join(f"{part.what} (~{human_size(part.bytes)})" for part in bill.biggest(3))
    more = f"; {unknown} part{'s' if unknown != 1 else ''} of unknown size come on top" if unknown else ""
    yield finding(
        image,
        "IMG006",
        from_image_span(final),
        f"the image is estimated at ~{human_size(estimate)} ({human_size(low)}–{human_size(high)}), over its "
        f"budget of {human_size(budget)}: the biggest parts are {biggest}{more}",
        "Run `dockerlint size` for the whole bill and what each finding's fix saves; if the size is intended, "
        "raise the budget in `[tool.dockerlint.budget]`.",
        estimate - budget,
    )


def _budget(image: Image) -> int | None:
    """The budget of the first ``budget`` pattern that matches the Dockerfile (a path
    relative to the configuration's folder, or a bare name at any depth)."""
    from dockerlint.config import path_matches
    from dockerlint.paths import real_path

    budgets = image.settings.get("budget") or ()
    root = image.settings.get("root")
    if not budgets or root is None:
        return None
    for candidate, base in ((image.dockerfile_path, root), (real_path(image.dockerfile_path), real_path(root))):
        try:
            relative = candidate.relative_to(base).as_posix()
        except ValueError:
            continue
        for pattern, size in budgets:
            if path_matches(relative, pattern):
                return size
        return None
    return None


# -- IMG007 ------------------------------------------------------------------------------------


@check("IMG007")
def python_outside_requires_python(image: Image) -> Iterator[Finding]:
    """The image installs a project of its build context whose ``requires-python`` (or
    Poetry's `python`) excludes the Python of the stage it is installed in."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from dockerlint.model.project_python import project_pythons
    from dockerlint.model.pyenv import python_release, python_version

    reported = set()
    for found in project_pythons(image):
        wanted = found.pyproject.requires_python
        version = python_version(image, found.stage) if wanted else None
        if version is None or (found.manifest, found.stage.index) in reported:
            continue
        try:
            accepted = SpecifierSet(wanted)
        except InvalidSpecifier:
            continue
        release = python_release(image, found.stage)  # `python:3.9.13`: that release, else any of the minor
        releases = [release] if release else [f"{version}.{patch}" for patch in range(100)]
        if any(accepted.contains(candidate, prereleases=True) for candidate in releases):
            continue
        if found.installer == "uv sync" and _uv_picks_python(found.stage):
            continue  # the Dockerfile chooses uv's interpreter itself
        reported.add((found.manifest, found.stage.index))
        manifest = _shown_path(image, found.manifest)
        other = _closest_minor(accepted, version)
        base = f"`python:{other}-slim`" if other else "a Python the project accepts"
        if found.installer == "uv sync":
            downloads = finding(
                image,
                "IMG007",
                found.span,
                f"`uv sync` cannot use the image's Python {version}: {manifest} requires Python `{wanted}`, "
                "so uv downloads a CPython of its own into the image and the base's interpreter is dead weight "
                "(with `UV_PYTHON_DOWNLOADS=never` the build stops)",
                f"Build on {base}, or widen `requires-python` if the project runs on Python {version}.",
            )
            yield replace(downloads, severity=Severity.WARNING)  # the build works, twice the interpreter
            continue
        yield finding(
            image,
            "IMG007",
            found.span,
            f"`{found.installer}` stops: {manifest} requires Python `{wanted}`, and the image's Python is "
            f"{release or version}",
            f"Build on {base}, or widen the project's Python requirement if it runs on Python {version}.",
        )


def _uv_picks_python(stage) -> bool:
    """Whether the stage names uv's interpreter (`uv python install`, `UV_PYTHON`, `--python`)."""
    for step in stage.steps:
        if "UV_PYTHON" in step.env:
            return True
        for command in step.commands:
            argv = list(command.argv)
            if argv[:3] == ["uv", "python", "install"] or "--python" in argv or "-p" in argv[:3]:
                return True
            if any(word.startswith("--python=") for word in argv):
                return True
    return False


def _closest_minor(accepted, version: str) -> str | None:
    """The published Python minor the specifier accepts that is nearest to ``version``."""

    def distance(minor: str) -> int:
        return abs(int(minor.split(".")[1]) - int(version.split(".")[1]))

    minors = [minor for minor in load("python_layouts")["python_minors"] if accepted.contains(f"{minor}.0")]
    return min(minors, key=distance) if minors else None


def _shown_path(image: Image, path) -> str:
    try:
        return f"`{path.relative_to(image.context_root).as_posix()}`"
    except ValueError:
        return f"`{path.name}`"
