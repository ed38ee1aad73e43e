"""The bill of bytes of one image: what each instruction of the final image puts in it,
part by part, each figure with its source and range.

Parts: the base image; system packages (apt, with the closure apt would install and what
the base already holds); Python distributions with their dependency closure (CUDA torch
split into torch, its nvidia-* libraries and triton); model downloads; files copied from
the build context (after the ignore file, measured on disk); caches left in layers; what a
later layer deletes (the bytes stay where they were added); files a ``chmod -R``/``chown -R``
stores again. What nothing sizes is a part with no figure: unknown, never zero.

Python parts are computed from the distributions the image asks for (``PythonSet``), so
that removing one request (an unused package) also removes the dependencies only it
needed: the savings (``savings.py``) change the requests and compute the parts again.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from msgspec import Struct, field

from dockerlint.findings import human_size
from dockerlint.knowledge import load
from dockerlint.model.image import Copy, Image, StageModel, Step
from dockerlint.model.size.figures import (
    DEBIAN_SOURCE,
    Figure,
    base_figure,
    cache_settings,
    debian_bytes,
    debian_known,
    debian_members,
    debian_present,
    model_figure,
    pinned_version,
    python_closure,
    python_package_bytes,
    torch_figures,
    uncertainty,
    unknown_outputs,
)
from dockerlint.regex import glob_match

Anchor = tuple[Path, int]


class Part(Struct, frozen=True):
    """One thing the image holds. ``path``/``line``: where it is written (a requirements
    line, a COPY, a FROM); ``instruction``: the Dockerfile line of the instruction that puts
    it into the final image; ``anchors``: the places findings about it point at."""

    kind: str  # base, system, python, model, copy, cache, other
    what: str
    path: Path
    line: int
    figure: Figure | None
    instruction: int
    anchors: frozenset[Anchor] = frozenset()
    tags: frozenset[str] = frozenset()
    files: tuple[tuple[str, int, str], ...] = ()  # copies: (path in the image, bytes, context path) per file

    @property
    def bytes(self) -> int | None:
        return self.figure.bytes if self.figure else None

    @property
    def source(self) -> str:
        return self.figure.source if self.figure else "unknown"


class Request(Struct, frozen=True):
    """A distribution the image asks pip for, where, and by which instruction."""

    name: str  # canonical
    extras: tuple[str, ...]
    version: str | None
    path: Path
    line: int
    instruction: int
    step: tuple[int, int]  # (stage, step) of the install, for the cache it leaves
    anchors: frozenset[Anchor]
    text: str
    download: bool = False  # installed by a model download (`spacy download`), not asked for
    compiled: bool = True  # by an installer that writes .pyc files (pip; uv only when asked)
    cached: bool = True  # by a command that leaves its download cache in the layer
    column: int = 0  # where on its line it is written (one `pip install` line names several)


class TorchBuild(Struct, frozen=True):
    """torch that comes as PyPI's CUDA build, from the requests that bring it."""

    version: tuple[int, ...] | None
    anchors: frozenset[Anchor]
    path: Path
    line: int
    instruction: int
    step: tuple[int, int]


class PythonSet(Struct):
    """The Python distributions of the final image: the requests in install order, what
    the base image already holds, and whether torch is a CUDA build."""

    requests: list[Request] = field(default_factory=list)
    present: set[str] = field(default_factory=set)  # distributions of the base image
    cuda_torch: TorchBuild | None = None
    cached_steps: set[tuple[int, int]] = field(default_factory=set)  # installs that keep pip's cache
    cache_lines: dict[tuple[int, int], tuple[Path, int, frozenset[Anchor]]] = field(default_factory=dict)
    uv_caches: dict[tuple[int, int], bool] = field(default_factory=dict)  # of those, uv's: linked into the environment?
    poetry_caches: set[tuple[int, int]] = field(default_factory=set)  # of those, Poetry's (its downloads, as pip's)

    def parts(self) -> list[Part]:
        """The Python parts, with the caches of the installs that keep theirs (the same
        requests give the same parts: the fixes ask many times)."""
        key = (
            tuple(self.requests),
            frozenset(self.present),
            self.cuda_torch,
            frozenset(self.cached_steps),
            tuple(sorted(self.cache_lines.items())),
            tuple(sorted(self.uv_caches.items())),
            frozenset(self.poetry_caches),
        )
        return list(_python_parts(key, self))

    def _parts(self) -> list[Part]:
        owners = python_closure([(request.name, request.extras, request.version) for request in self.requests])
        first = {}
        for request in self.requests:
            first.setdefault(request.name, request)
        parts: list[Part] = []
        unknown: dict[str, list[str]] = {}
        cached: dict[tuple[int, int], list[tuple[Figure, float]]] = {}
        ratios = cache_settings()
        for name, owner in owners.items():
            if name in self.present:
                continue
            root = first[owner]
            requested = first.get(name)
            anchors = requested.anchors if requested is not None else root.anchors
            where = requested or root
            version = requested.version if requested is not None else None
            label = f"{name} {version}" if version else name
            if requested is None:
                label += f" (for {owner})"
            if name == "triton" and requested is None:
                continue  # sized with torch's CUDA build; the CPU build does not use it
            if name == "torch":
                for part, ratio in self._torch_parts(where, label, anchors):
                    parts.append(part)
                    if root.cached:
                        cached.setdefault(root.step, []).append((part.figure, ratio))
                continue
            sized = python_package_bytes(name, version, root.compiled)
            if sized is None:
                if requested is not None:
                    parts.append(Part("python", label, where.path, where.line, None, where.instruction, anchors))
                else:
                    unknown.setdefault(owner, []).append(name)
                continue
            figure = Figure(*sized)
            parts.append(Part("python", label, where.path, where.line, figure, where.instruction, anchors))
            if root.cached:
                cached.setdefault(root.step, []).append((figure, ratios["download_ratio"]))
        for owner, names in unknown.items():
            root = first[owner]
            shown = ", ".join(sorted(names)[:4]) + (" …" if len(names) > 4 else "")
            what = f"{len(names)} package{'s' if len(names) != 1 else ''} {owner} needs ({shown})"
            parts.append(Part("python", what, root.path, root.line, None, root.instruction, root.anchors))
        for step in sorted(self.cached_steps):
            figures = cached.get(step, [])
            path, line, anchors = self.cache_lines[step]
            if not figures:
                continue
            if step in self.uv_caches:  # uv's unpacked wheels: linked, or copied once more
                key = "uv_linked_ratio" if self.uv_caches[step] else "uv_copied_ratio"
                size, source = sum(figure.bytes for figure, _ in figures) * ratios[key], f"sizes.toml [caches] {key}"
            else:
                size = sum(figure.bytes * ratio for figure, ratio in figures)
                source = "sizes.toml [caches] download ratios"
            spread = uncertainty("cache")
            figure = Figure(int(size), int(size * (1 - spread)), int(size * (1 + spread)), source)
            label = "uv cache" if step in self.uv_caches else "pip download cache"
            if step in self.poetry_caches:
                label = "poetry download cache"
            parts.append(Part("cache", label, path, line, figure, line, anchors, frozenset({"pip-cache"})))
        return parts

    def _torch_parts(self, where: Request, label: str, anchors: frozenset[Anchor]):
        ratios = cache_settings()
        build = self.cuda_torch
        version = tuple(int(part) for part in where.version.split(".")[:2]) if where.version else None
        if build is None:
            figures = torch_figures(version, cuda=False)
            yield (
                Part("python", label, where.path, where.line, figures["torch"], where.instruction, anchors),
                ratios["torch_download_ratio"],
            )
            return
        figures = torch_figures(version or build.version, cuda=True)
        cuda_anchors = anchors | build.anchors
        tags = frozenset({"torch-cuda"})
        yield (
            Part("python", f"{label} (CUDA build)", where.path, where.line, figures["torch"], where.instruction,
                 cuda_anchors, tags | {"torch"}),
            ratios["torch_download_ratio"],
        )  # fmt: skip
        if "nvidia" in figures:
            yield (
                Part("python", "nvidia-* CUDA libraries (for torch)", where.path, where.line, figures["nvidia"],
                     where.instruction, cuda_anchors, tags),
                ratios["nvidia_download_ratio"],
            )  # fmt: skip
        if "triton" in figures:
            yield (
                Part("python", "triton (for torch)", where.path, where.line, figures["triton"], where.instruction,
                     cuda_anchors, tags),
                ratios["torch_download_ratio"],
            )  # fmt: skip


# Entries are per image (their keys name its files): enough for the fixes of the images at
# hand, not a model of every image a large repository holds.
PARTS_KEPT = 256
_PARTS_CACHE: dict[tuple, tuple[Part, ...]] = {}


def _python_parts(key: tuple, python: PythonSet) -> tuple[Part, ...]:
    """``python.parts`` by the state it is computed from (a bounded, per-process memo of
    pure computations: the same requests always give the same parts)."""
    found = _PARTS_CACHE.get(key)
    if found is None:
        if len(_PARTS_CACHE) > PARTS_KEPT:
            _PARTS_CACHE.clear()
        found = _PARTS_CACHE[key] = tuple(python._parts())
    return found


class Bill(Struct):
    """The parts of one image: ``fixed`` parts and the ``python`` set they are computed from."""

    image: Image
    fixed: list[Part]
    python: PythonSet
    base_ref: str | None = None
    _parts: list[Part] | None = None

    @property
    def parts(self) -> list[Part]:
        """Every part, in instruction order. Computed once: a bill is changed (by a fix)
        only before its parts are first read."""
        if self._parts is None:
            parts = list(self.fixed) + self.python.parts()
            key = lambda part: (part.instruction, part.kind != "base", -(part.bytes or 0), part.what)  # noqa: E731
            self._parts = sorted(parts, key=key)
        return self._parts

    def copy(self) -> Bill:
        """A copy whose parts and requests can be changed without changing this one."""
        python = self.python
        return Bill(
            self.image,
            list(self.fixed),
            PythonSet(
                list(python.requests),
                set(python.present),
                python.cuda_torch,
                set(python.cached_steps),
                dict(python.cache_lines),
                dict(python.uv_caches),
                set(python.poetry_caches),
            ),
            self.base_ref,
        )

    def totals(self) -> tuple[int, int, int, int]:
        """(estimate, low, high, number of unknown parts)."""
        parts = self.parts
        known = [part.figure for part in parts if part.figure is not None]
        return (
            sum(figure.bytes for figure in known),
            sum(figure.low for figure in known),
            sum(figure.high for figure in known),
            sum(1 for part in parts if part.figure is None),
        )

    @property
    def estimate(self) -> int:
        return self.totals()[0]

    def biggest(self, count: int = 3) -> list[Part]:
        known = [part for part in self.parts if part.bytes]
        return sorted(known, key=lambda part: -part.bytes)[:count]


def bill_of_bytes(image: Image, overrides: Overrides | None = None) -> Bill | None:
    """The bill of the final image (computed once per image and set of overrides); None
    without a final stage. ``overrides``: what a fix changes before parts are computed
    (another base image, installs without Recommends)."""
    if image.final is None:
        return None
    overrides = overrides or Overrides()
    return image.memoized(("bill", overrides), lambda: _Builder(image, overrides).build())


class Overrides(Struct, frozen=True):
    """Changes a fix makes that the bill must be built anew for."""

    base: str | None = None  # another base image reference
    base_figure: Figure | None = None  # or another size for the same base
    no_recommends: frozenset[int] = frozenset()  # lines of apt installs without Recommends


# -- building ----------------------------------------------------------------------------------


class _Builder:
    def __init__(self, image: Image, overrides: Overrides) -> None:
        from dockerlint.model.queries import final_chain

        self.image = image
        self.overrides = overrides
        self.dockerfile = image.dockerfile_path
        self.chain = list(reversed(final_chain(image)))
        self.parts: list[Part] = []
        self.python = PythonSet()
        self.system_installed: set[str] = set()
        self.full_base = False
        self.apt_present: frozenset[str] = frozenset()
        self.downloads: list | None = None  # the image's model downloads, read once

    def build(self) -> Bill:
        from dockerlint.model.baseimage import base_image
        from dockerlint.model.image import ImageRef

        root = self.chain[0]
        ref = ImageRef.parse(self.overrides.base) if self.overrides.base else root.base
        facts = base_image(ref)
        self._base(root, ref, facts)
        self._python_present(facts)
        self.full_base = bool(facts and facts.compilers)
        self.apt_present = debian_present(self.full_base) if facts is None or facts.libc != "musl" else frozenset()
        self._torch()
        for stage in self.chain:
            for step in stage.steps:
                self._step(stage, step)
        self._downloads()
        self._late_deletes()
        return Bill(self.image, self.parts, self.python, ref.raw)

    def line(self, step: Step) -> int:
        return step.instruction.span.line

    # -- base ----------------------------------------------------------------------------

    def _base(self, stage: StageModel, ref, facts) -> None:
        figure = self.overrides.base_figure or base_figure(facts)
        line = stage.from_instruction.span.line
        what = f"base image {ref.raw}" if ref.raw else "base image"
        if ref.repository == "scratch":
            figure = Figure(0, 0, 0, "scratch is empty")
        anchors = frozenset({(self.dockerfile, line)})
        self.parts.append(Part("base", what, self.dockerfile, line, figure, line, anchors, frozenset({"base"})))

    def _python_present(self, facts) -> None:
        """Distributions the base image ships: those whose modules it carries (torch on
        pytorch/pytorch, ray on rayproject/ray), with their closure."""
        if facts is None or not facts.carries:
            return
        from dockerlint.model.distributions import module_owners

        owners = module_owners()
        carried = [name for module in facts.carries for name in owners.get(module, ())[:1]]
        self.python.present = set(python_closure([(name, ()) for name in carried]))

    # -- steps ---------------------------------------------------------------------------

    def _step(self, stage: StageModel, step: Step) -> None:
        keyword = step.keyword
        if keyword == "RUN":
            self._system(stage, step)
            self._pip(stage, step)
            self._run_caches(stage, step)
            self._unknown_outputs(stage, step)
            self._rewrites(stage, step)
        elif keyword in ("COPY", "ADD"):
            for copy in stage.copies:
                if copy.step_index == step.index and not copy.mount_only:
                    self._copy(stage, step, copy)

    def _system(self, stage: StageModel, step: Step) -> None:
        from dockerlint.model.layers import installed_packages, removal

        line = self.line(step)
        by_install: dict[int, list] = {}
        for package in installed_packages(step):
            if removal(step, package, package.install.command) is not None:
                continue  # installed and removed in one RUN: nothing stays
            by_install.setdefault(id(package.install), []).append(package)
        for packages in by_install.values():
            install = packages[0].install
            anchors = frozenset({(self.dockerfile, line), (self.dockerfile, install.span.line)})
            anchors |= {(self.dockerfile, package.span.line) for package in packages}
            names = [package.name for package in packages]
            tags = frozenset({f"{install.family}-install"})
            if install.family != "apt":
                what = f"{install.family} packages {', '.join(names[:5])}" + (" …" if len(names) > 5 else "")
                self.parts.append(Part("system", what, self.dockerfile, install.span.line, None, line, anchors, tags))
                continue
            recommends = (
                not install.has("--no-install-recommends") and install.span.line not in self.overrides.no_recommends
            )
            known = [name for name in names if debian_known(name)]
            unknown = [name for name in names if not debian_known(name)]
            for name in known:
                wanted = [m for m in debian_members(name, recommends) if m not in self.apt_present]
                members = [m for m in wanted if m not in self.system_installed]
                self.system_installed.update(members)
                package_line = next(p.span.line for p in packages if p.name == name)
                size = debian_bytes(members)
                extra = (
                    " with its recommends"
                    if recommends and debian_members(name, True) != debian_members(name, False)
                    else ""
                )
                already = "" if members else " (already installed above)" if wanted else " (already in the base image)"
                figure = Figure.of(size, "debian", DEBIAN_SOURCE)
                package_tags = tags | {f"apt:{name}"} | ({"recommends"} if recommends else set())
                self.parts.append(
                    Part("system", f"apt {name}{extra}{already}", self.dockerfile, package_line, figure, line,
                         anchors, frozenset(package_tags))
                )  # fmt: skip
            if unknown:
                what = f"apt {', '.join(unknown[:5])}" + (" …" if len(unknown) > 5 else "")
                self.parts.append(Part("system", what, self.dockerfile, install.span.line, None, line, anchors, tags))

    def _pip(self, stage: StageModel, step: Step) -> None:
        from dockerlint.model.caches import (
            pip_cache_kept,
            poetry_cache_kept,
            uv_command,
            uv_links_cache,
            uv_sync_cache_kept,
        )
        from dockerlint.model.ml import pip_commands

        line = self.line(step)
        kept = [install.command for install in step.installs if pip_cache_kept(step, install)]
        kept += [command for command in step.commands if uv_sync_cache_kept(step, command)]
        kept += [command for command in step.commands if poetry_cache_kept(step, command)]
        caching = {command.span for command in kept}  # only their downloads stay in the layer
        for command in pip_commands(self.image, stage):
            if command.step is not step:
                continue
            for request in command.requests:
                position, kept_here = (stage.index, step.index), command.span in caching
                self._request(request, line, position, command.span.line, command.compiles, kept_here)
        if kept:
            position = (stage.index, step.index)
            self.python.cached_steps.add(position)
            if all(uv_command(command) for command in kept):
                self.python.uv_caches[position] = all(uv_links_cache(step, command) for command in kept)
            elif all(poetry_cache_kept(step, command) for command in kept):
                self.python.poetry_caches.add(position)
            spans = [i.span.line for i in step.installs if i.family == "pip"] or [line]
            anchors = frozenset((self.dockerfile, number) for number in {line, *spans})
            self.python.cache_lines[position] = (self.dockerfile, spans[0], anchors)

    def _request(
        self, request, instruction: int, step: tuple[int, int], command_line: int, compiled: bool, cached: bool
    ) -> None:
        anchors = frozenset({(request.path, request.span.line), (self.dockerfile, command_line)})
        self.python.requests.append(
            Request(
                request.name,
                tuple(request.extras),
                pinned_version(request.specifier),
                request.path,
                request.span.line,
                instruction,
                step,
                anchors,
                request.text,
                compiled=compiled,
                cached=cached,
                column=request.span.column,
            )
        )

    def _torch(self) -> None:
        from dockerlint.model.ml import torch_installs

        for install in torch_installs(self.image):
            if install.replaces is not None:
                self.python.present.discard("torch")
            anchors = frozenset(
                {(request.path, request.span.line) for request in install.requests}
                | {(self.dockerfile, install.command.span.line)}
            )
            step = install.command.step
            self.python.cuda_torch = TorchBuild(
                install.version,
                anchors,
                self.dockerfile,
                install.command.span.line,
                self.line(step),
                (install.command.stage.index, step.index),
            )
            return

    def _run_caches(self, stage: StageModel, step: Step) -> None:
        from dockerlint.model.caches import apk_index_kept, apt_lists_kept

        line = self.line(step)
        caches = load("caches")
        for install in step.installs:
            if install.family == "apt" and install.action == "update" and apt_lists_kept(step, install.command):
                anchors = frozenset({(self.dockerfile, line), (self.dockerfile, install.span.line)})
                figure = Figure.of(caches["apt"]["lists_size"], "cache", "caches.toml [apt] lists_size")
                self.parts.append(
                    Part("cache", "apt package lists", self.dockerfile, install.span.line, figure, line, anchors,
                         frozenset({"apt-lists"}))
                )  # fmt: skip
            if apk_index_kept(step, install):
                anchors = frozenset({(self.dockerfile, line), (self.dockerfile, install.span.line)})
                figure = Figure.of(cache_settings()["apk_index_size"], "cache", "sizes.toml [caches] apk_index_size")
                self.parts.append(
                    Part("cache", "apk package index", self.dockerfile, install.span.line, figure, line, anchors,
                         frozenset({"apk-index"}))
                )  # fmt: skip

    def _unknown_outputs(self, stage: StageModel, step: Step) -> None:
        """Commands whose output no table sizes (a script piped to sh, a git clone, a
        build): one unknown part per RUN. Model downloads are sized apart."""
        from dockerlint.model.ml import downloads

        settings = unknown_outputs()
        programs = set(settings["programs"])
        if self.downloads is None:
            self.downloads = list(downloads(self.image))
        downloading = {d.span.line for d in self.downloads if d.position == (stage.index, step.index)}
        found = []
        for command in step.commands:
            name = command.name.rsplit("/", 1)[-1]
            if name not in programs or command.span.line in downloading:
                continue
            quiet = settings["quiet_options"].get(name, ())
            if any(word in quiet for word in command.argv[1:]):
                continue
            found.append(command)
        if found:
            shown = "`, `".join(" ".join(command.argv[:2])[:40] for command in found[:3])
            anchors = frozenset({(self.dockerfile, self.line(step))})
            what = f"files written by `{shown}`" + (" …" if len(found) > 3 else "")
            self.parts.append(Part("other", what, self.dockerfile, found[0].span.line, None, self.line(step), anchors))

    def _rewrites(self, stage: StageModel, step: Step) -> None:
        """``chown -R``/``chmod -R`` over files an earlier layer added stores them again."""
        from dockerlint.model.layers import recursive_rewrites

        for rewrite in recursive_rewrites(self.image, step):
            files = [
                item
                for part in self.parts
                if part.kind in ("copy", "model") and part.instruction < self.line(step)
                for item in part.files
                if _inside(item[0], rewrite.target)
            ]
            size = sum(item[1] for item in files)
            if not size:
                continue
            anchors = frozenset({(self.dockerfile, rewrite.span.line), (self.dockerfile, self.line(step))})
            figure = Figure.of(size, "context", "measured on disk: the files it rewrites")
            self.parts.append(
                Part("copy", f"files under {rewrite.written} stored again by `{rewrite.command}`", self.dockerfile,
                     rewrite.span.line, figure, self.line(step), anchors, frozenset({"rewrite"}), tuple(files))
            )  # fmt: skip

    # -- copies ----------------------------------------------------------------------------

    def _copy(self, stage: StageModel, step: Step, copy: Copy) -> None:
        line = self.line(step)
        anchors = frozenset({(self.dockerfile, line)})
        if copy.heredoc:
            return
        if copy.from_stage is not None:
            self._copy_from_stage(stage, step, copy, anchors)
            return
        if copy.from_image is not None:
            what = f"files copied from the image {copy.from_image}"
            self.parts.append(Part("copy", what, self.dockerfile, line, None, line, anchors))
            return
        weights = tuple(load("ml")["downloads"]["weight_extensions"])
        for source in copy.sources:
            if "://" in source.value or source.value.startswith("git@"):
                if not _is_model_url(source.value):
                    self.parts.append(
                        Part("copy", f"ADD {source.value[:60]}", self.dockerfile, line, None, line, anchors)
                    )
                continue
            files = self.image.context.glob(source.value)
            if not files:
                continue
            placed = tuple((_image_path(copy, source.value, file.path), file.size, file.path) for file in files)
            model = tuple(item for item in placed if item[0].lower().endswith(weights))
            rest = tuple(item for item in placed if not item[0].lower().endswith(weights))
            label = f"{'ADD' if copy.is_add else 'COPY'} {source.value} → {copy.dest}"
            if rest:
                figure = Figure.of(sum(item[1] for item in rest), "context", "measured on disk (after the ignore file)")
                self.parts.append(
                    Part("copy", label, self.dockerfile, line, figure, line, anchors, frozenset({"context"}), rest)
                )
            if model:
                figure = Figure.of(
                    sum(item[1] for item in model), "context", "measured on disk (after the ignore file)"
                )
                self.parts.append(
                    Part("model", f"weight files in {label}", self.dockerfile, line, figure, line, anchors,
                         frozenset({"context", "weights"}), model)
                )  # fmt: skip

    def _copy_from_stage(self, stage: StageModel, step: Step, copy: Copy, anchors: frozenset[Anchor]) -> None:
        from dockerlint.model.ml import pip_commands

        origin = self.image.stages[copy.from_stage]
        sources = [source.value for source in copy.sources]
        line = self.line(step)
        found = False
        for member in _with_parents(self.image, origin):
            for command in pip_commands(self.image, member):
                if not _carries(self.image, member, command.step, sources):
                    continue
                for request in command.requests:
                    position = (stage.index, step.index)  # a builder's cache stays in the builder
                    self._request(request, line, position, command.span.line, command.compiles, False)
                    found = True
        for member in _with_parents(self.image, origin):
            for other in member.copies:
                if other.from_stage is not None or other.from_image is not None or other.heredoc or other.mount_only:
                    continue
                for source in other.sources:
                    files = self.image.context.glob(source.value) if "://" not in source.value else []
                    placed = [(_image_path(other, source.value, file.path), file.size, file.path) for file in files]
                    carried = [
                        item
                        for item in placed
                        if any(_inside(item[0], posixpath.normpath("/" + s.lstrip("/"))) for s in sources)
                    ]
                    if carried:
                        found = True
                        shown = " ".join(sources)[:60]
                        label = f"COPY --from={origin.name or origin.index} {shown} (from the build context)"
                        figure = Figure.of(sum(item[1] for item in carried), "context", "measured on disk")
                        self.parts.append(
                            Part("copy", label, self.dockerfile, line, figure, line, anchors,
                                 frozenset({"context"}), tuple(carried))
                        )  # fmt: skip
        if not found:
            what = f"files copied from stage {origin.name or origin.index}: {' '.join(sources)[:60]}"
            self.parts.append(Part("copy", what, self.dockerfile, line, None, line, anchors))

    # -- models ------------------------------------------------------------------------------

    def _downloads(self) -> None:
        from dockerlint.model.ml import downloads, ml

        spacy = ml()["spacy_models"]
        if self.downloads is None:
            self.downloads = list(downloads(self.image))
        for download in self.downloads:
            if download.kind == "tokenizer":
                continue
            stage_index, step_index = download.position
            step = self.image.stages[stage_index].steps[step_index]
            line = self.line(step)
            anchors = frozenset({(self.dockerfile, download.span.line), (self.dockerfile, line)})
            figure = model_figure(download.size)
            name = download.model or download.what.strip("`")
            what = f"model {name}" if download.model else f"download: {download.what}"
            self.parts.append(
                Part("model", what, self.dockerfile, download.span.line, figure, line, anchors,
                     frozenset({"download"}))
            )  # fmt: skip
            pipeline = (download.model or "").lower()
            if "spacy" in download.what and pipeline.endswith(spacy["trf_suffix"]):
                self._spacy_trf(download, line, (stage_index, step_index), anchors)

    def _spacy_trf(self, download, line: int, step: tuple[int, int], anchors: frozenset[Anchor]) -> None:
        """A transformer pipeline installs its Python requirements with pip from PyPI:
        torch among them (ml.toml [spacy_models] trf_requires)."""
        from dockerlint.model.ml import ml

        before = {request.name for request in self.python.requests}
        closure = python_closure([(name, ()) for name in before])
        for name in ml()["spacy_models"]["trf_requires"]:
            self.python.requests.append(
                Request(name, (), None, self.dockerfile, download.span.line, line, step, anchors, name, download=True)
            )
        if "torch" not in closure and "torch" not in self.python.present and self.python.cuda_torch is None:
            self.python.cuda_torch = TorchBuild(None, anchors, self.dockerfile, download.span.line, line, step)

    def _late_deletes(self) -> None:
        """Files and packages a later RUN deletes stay in the layer that added them: the
        part keeps its bytes and the deleting line as an anchor (LAY001 points there)."""
        from dockerlint.model.layers import installed_packages, removal, removed_paths

        runs = [step for stage in self.chain for step in stage.steps if step.keyword == "RUN"]
        for index, part in enumerate(self.parts):
            for step in runs:
                if self.line(step) <= part.instruction:
                    continue
                if part.files:
                    for removed in removed_paths(self.image, step):
                        gone = [item for item in part.files if _inside(item[0], removed.target)]
                        if gone:
                            part = _tagged(part, removed.span.line, gone)
                if part.kind == "system":
                    for package in (
                        p for earlier in self._steps_at(part.instruction) for p in installed_packages(earlier)
                    ):
                        if f"apt:{package.name}" in part.tags:
                            remover = removal(step, package)
                            if remover is not None:
                                part = _tagged(part, remover.span.line, ())
            self.parts[index] = part

    def _steps_at(self, line: int) -> list[Step]:
        return [step for stage in self.chain for step in stage.steps if self.line(step) == line]


def _tagged(part: Part, line: int, gone) -> Part:
    """A part a later layer deletes (all of it, or the files ``gone``): the deletion line
    becomes an anchor, and the deleted bytes are remembered in the tags."""
    size = sum(item[1] for item in gone) if gone else (part.bytes or 0)
    tags = set(part.tags) | {"deleted-late", f"deleted:{line}:{size}"}
    anchors = part.anchors | {(part.path, line)}
    note = f" (deleted on line {line}, but still in this layer)"
    what = part.what if note in part.what else part.what + note
    return Part(part.kind, what, part.path, part.line, part.figure, part.instruction, frozenset(anchors),
                frozenset(tags), part.files)  # fmt: skip


def _carries(image: Image, stage: StageModel, step: Step, sources: list[str]) -> bool:
    """Whether copying ``sources`` out of ``stage`` takes what the pip installs of ``step``
    wrote (a venv, a ``--prefix``, ``~/.local``, the system site-packages)."""
    from dockerlint.model.installed_names import _overlaps
    from dockerlint.model.installed_records import location as _location
    from dockerlint.model.requested import _carries_installs

    locations = [_location(install, step) for install in step.installs if install.family == "pip"]
    if any(_overlaps(source, location) for source in sources for location in locations):
        return True
    return not locations and _carries_installs(image, stage, sources)


def _with_parents(image: Image, stage: StageModel) -> list[StageModel]:
    members = []
    current: StageModel | None = stage
    while current is not None and current not in members:
        members.append(current)
        current = image.stages[current.parent] if current.parent is not None else None
    return list(reversed(members))


def _inside(path: str, folder: str) -> bool:
    folder = folder.rstrip("/") or "/"
    return path == folder or path.startswith(folder + "/") or folder == "/"


def _image_path(copy: Copy, source: str, relative: str) -> str:
    """Where a context file lands: under the destination folder, keeping its path below
    the source folder (``COPY src/ /app`` puts src/a.py at /app/a.py)."""
    source_clean = posixpath.normpath(source.lstrip("/")) if source not in (".", "./", "/") else "."
    if source_clean == ".":
        rest = relative
    elif relative == source_clean:
        rest = posixpath.basename(relative) if copy.dest_is_dir else ""
    elif relative.startswith(source_clean + "/"):
        rest = relative[len(source_clean) + 1 :]
    else:  # a glob: the matched entry keeps its name
        rest = (
            relative.split("/")[-1] if "/" not in source_clean else relative[len(posixpath.dirname(source_clean)) + 1 :]
        )
    return posixpath.normpath(posixpath.join(copy.dest, rest)) if rest else copy.dest


def _is_model_url(url: str) -> bool:
    from dockerlint.model.ml import ml

    lowered = url.lower()
    return any(host in lowered for host in ml()["downloads"]["hosts"]) or lowered.split("?")[0].endswith(
        tuple(ml()["downloads"]["weight_extensions"])
    )


def describe(part: Part) -> str:
    size = "unknown" if part.bytes is None else f"~{human_size(part.bytes)}"
    return f"{part.what} ({size})"


def matches(name: str, patterns) -> bool:
    return any(glob_match(name, pattern) for pattern in patterns)
