"""What fixing each finding saves, computed on the bill of bytes.

Findings are applied to the model one after another, in a fixed order (base image first,
then torch's build, then packages, models, build tools, layers and caches), and each one
saves the difference it makes to the image after the ones before it: two findings about
the same bytes (GPU001 and GPU004 on one torch, IMG001 and STG001 on one base) are never
counted twice, and the estimate after all fixes is the model with every fix applied.

A finding whose code has no effect here, or whose fix the model cannot apply (the bytes
it names are not in the bill), saves nothing and is left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from msgspec import Struct, field
from msgspec.structs import replace

from dockerlint.findings import Finding
from dockerlint.knowledge import load
from dockerlint.model.image import Image, ImageRef
from dockerlint.model.size.bill import Bill, Overrides, Part, bill_of_bytes
from dockerlint.model.size.figures import Figure, cuda_flavour_figure
from dockerlint.regex import glob_match


class Saving(Struct, frozen=True):
    finding: Finding
    bytes: int


class Savings(Struct):
    """The bill before, what each finding saves, and the bill with every fix applied."""

    before: Bill
    savings: list[Saving]
    after: Bill

    @property
    def total(self) -> int:
        return sum(saving.bytes for saving in self.savings)


class _State(Struct, frozen=True):
    overrides: Overrides = field(default_factory=Overrides)
    edits: tuple[tuple[Callable, Finding], ...] = ()


def compute_savings(image: Image, findings: Iterable[Finding]) -> Savings | None:
    """The savings of ``findings`` (the image's own) on its bill; None without a bill."""
    before = bill_of_bytes(image)
    if before is None:
        return None
    wanted = [finding for finding in findings if finding.code in _EFFECTS]
    wanted.sort(key=lambda f: (_ORDER.index(f.code), str(f.path), f.span.line, f.message))
    state = _State()
    current = _evaluate(image, state)
    size = current.estimate
    results: list[Saving] = []
    for finding in wanted:
        changed = _EFFECTS[finding.code](image, state, current, finding)
        if changed is None:
            continue
        after = _evaluate(image, changed)
        after_size = after.estimate
        if after_size >= size:
            continue
        results.append(Saving(finding, size - after_size))
        state, current, size = changed, after, after_size
    return Savings(before, results, current)


def _evaluate(image: Image, state: _State) -> Bill:
    bill = bill_of_bytes(image, state.overrides).copy()
    for edit, finding in state.edits:
        edit(bill, finding)
    return bill


def _edit(function: Callable[[Bill, Finding], None], anchored: bool = True):
    """An effect that edits the bill's parts (applied again on every evaluation).
    ``anchored``: it changes only what the finding points at, so a finding that points at
    nothing in the bill changes nothing (and costs no evaluation)."""

    def effect(image: Image, state: _State, current: Bill, finding: Finding) -> _State | None:
        if anchored and not _points_into(current, finding):
            return None
        return replace(state, edits=(*state.edits, (function, finding)))

    return effect


def _points_into(bill: Bill, finding: Finding) -> bool:
    anchor = _anchor(finding)
    python = bill.python
    return (
        any(anchor in part.anchors for part in bill.parts)
        or any(anchor in request.anchors for request in python.requests)
        or any(anchor in anchors for _, _, anchors in python.cache_lines.values())
        or (python.cuda_torch is not None and anchor in python.cuda_torch.anchors)
        or any(tag.startswith(f"deleted:{finding.span.line}:") for part in bill.fixed for tag in part.tags)
    )


def _anchor(finding: Finding) -> tuple:
    return (finding.path, finding.span.line)


def _at(part: Part, finding: Finding) -> bool:
    return _anchor(finding) in part.anchors


def _drop(bill: Bill, keep: Callable[[Part], bool]) -> None:
    bill.fixed = [part for part in bill.fixed if keep(part)]


# -- the base image ------------------------------------------------------------------------------


def _base_part(bill: Bill) -> Part | None:
    return next((part for part in bill.fixed if part.kind == "base"), None)


def _root_facts(image: Image, state: _State):
    from dockerlint.model.baseimage import base_image
    from dockerlint.model.queries import final_chain

    ref = ImageRef.parse(state.overrides.base) if state.overrides.base else final_chain(image)[-1].base
    return base_image(ref)


def _slim_base(image: Image, state: _State, current: Bill, finding: Finding) -> _State | None:
    """IMG001: the slim variant of the same image."""
    facts = _root_facts(image, state)
    if facts is None or not facts.slim or not _at(_base_part(current), finding):
        return None
    return replace(state, overrides=replace(state.overrides, base=facts.slim, base_figure=None))


def _python_slim(image: Image, state: _State, current: Bill, finding: Finding) -> _State | None:
    """IMG002: python:3.X-slim instead of a framework image the code does not use."""
    facts = _root_facts(image, state)
    if facts is None or not _at(_base_part(current), finding):
        return None
    return replace(
        state, overrides=replace(state.overrides, base=f"python:{facts.python or '3'}-slim", base_figure=None)
    )


def _smaller_base(size: Callable[[object, Part, Finding], Figure | None]):
    """A base that weighs less (a runtime tag, a CUDA base tag, a CPU twin)."""

    def effect(image: Image, state: _State, current: Bill, finding: Finding) -> _State | None:
        part = _base_part(current)
        if part is None or part.figure is None or not _at(part, finding):
            return None
        figure = size(_root_facts(image, state), part, finding)
        if figure is None or figure.bytes >= part.figure.bytes:
            return None
        return replace(state, overrides=replace(state.overrides, base_figure=figure))

    return effect


def _runtime_flavour(facts, part: Part, finding: Finding) -> Figure | None:
    """GPU003: the -runtime tag instead of -devel."""
    flavours = load("ml")["cuda_flavours"]
    if facts is not None and facts.ref.repository.endswith("nvidia/cuda"):
        return cuda_flavour_figure("runtime", "cudnn" in (facts.ref.tag or "").lower())
    return _less(part.figure, flavours["devel_extra_size"], "ml.toml [cuda_flavours] devel_extra_size")


def _cuda_base_flavour(facts, part: Part, finding: Finding) -> Figure | None:
    """GPU004: nvidia/cuda's base tag (the CUDA runtime API only)."""
    return cuda_flavour_figure("base", cudnn=False)


def _cpu_twin(facts, part: Part, finding: Finding) -> Figure | None:
    """GPU006: the same image without its CUDA libraries (what the finding names)."""
    if finding.size_bytes is None:
        return None
    return _less(part.figure, finding.size_bytes, "the CUDA libraries GPU006 names")


def _less(figure: Figure, size: int, source: str) -> Figure:
    remaining = max(figure.bytes - size, 0)
    share = remaining / figure.bytes if figure.bytes else 0
    return Figure(remaining, int(figure.low * share), int(figure.high * share), f"{figure.source}, less {source}")


def _double_cuda(image: Image, state: _State, current: Bill, finding: Finding) -> _State | None:
    """GPU004: a second torch over the base's own is dropped; else the base becomes the
    CUDA base tag (the torch wheels carry the libraries)."""
    build = current.python.cuda_torch
    if build is not None and _anchor(finding) in build.anchors and _replaces_base_torch(image):
        return _edit(_drop_second_torch)(image, state, current, finding)
    return _smaller_base(_cuda_base_flavour)(image, state, current, finding)


def _replaces_base_torch(image: Image) -> bool:
    from dockerlint.model.ml import torch_installs

    return any(install.replaces is not None for install in torch_installs(image))


def _drop_second_torch(bill: Bill, finding: Finding) -> None:
    bill.python.cuda_torch = None
    bill.python.present.add("torch")


# -- Python packages ---------------------------------------------------------------------------


def _cpu_torch(bill: Bill, finding: Finding) -> None:
    """GPU001: torch from the CPU index: its own CPU build, no nvidia-* libraries, no triton."""
    build = bill.python.cuda_torch
    if build is not None and (_anchor(finding) in build.anchors or _torch_anchored(bill, finding)):
        bill.python.cuda_torch = None


def _torch_anchored(bill: Bill, finding: Finding) -> bool:
    return any("torch-cuda" in part.tags and _at(part, finding) for part in bill.python.parts())


def _drop_request(bill: Bill, finding: Finding) -> None:
    """DEP001, DEP003, MDL004: the distribution is not installed (nor what only it needed);
    of a line that names several (`pip install xgboost pandas boto3`), the one at the finding."""
    at_line = [r for r in bill.python.requests if (r.path, r.line) == _anchor(finding)]
    dropped = [r for r in at_line if r.column == finding.span.column] or at_line
    gone = {id(r) for r in dropped}
    bill.python.requests = [r for r in bill.python.requests if id(r) not in gone]


def _lighter_variant(bill: Bill, finding: Finding) -> None:
    """DEP004: the lighter twin (opencv-python-headless, tensorflow-cpu)."""
    from dockerlint.model.distributions import heavy_variants

    variants = {row["name"]: row["lighter"] for row in heavy_variants()}
    bill.python.requests = [
        replace(r, name=variants[r.name], version=None)
        if (r.path, r.line) == _anchor(finding) and r.name in variants
        else r
        for r in bill.python.requests
    ]


def _cpu_variant(bill: Bill, finding: Finding) -> None:
    """GPU002: the CPU twin of a GPU-only distribution, or nothing when it has none."""
    rows = load("ml")["gpu_only"]
    kept = []
    for request in bill.python.requests:
        if (request.path, request.line) == _anchor(finding):
            row = next((row for row in rows if glob_match(request.name, row["pattern"])), None)
            twin = row.get("cpu", "") if row else ""  # nvidia-* wheels and CuPy have no CPU twin
            if re.fullmatch(r"[a-z0-9][a-z0-9._-]*", twin) and twin != request.name:
                request = replace(request, name=twin, version=None, extras=())
            elif row is not None and not row.get("extras"):
                continue  # nvidia-* wheels, cupy: nothing takes their place
            else:
                request = replace(request, extras=())
        kept.append(request)
    bill.python.requests = kept


# -- models --------------------------------------------------------------------------------------


def _drop_download(bill: Bill, finding: Finding) -> None:
    """MDL001: the model is fetched at start-up instead (and what its download installed)."""
    anchor = _anchor(finding)
    _drop(bill, lambda part: not ("download" in part.tags and anchor in part.anchors))
    bill.python.requests = [r for r in bill.python.requests if not (r.download and (r.path, r.line) == anchor)]
    build = bill.python.cuda_torch
    if build is not None and anchor in build.anchors and (build.path, build.line) == anchor:
        bill.python.cuda_torch = None


def _drop_weights(bill: Bill, finding: Finding) -> None:
    """MDL002: the weight files are not copied in."""
    _drop(bill, lambda part: not ("weights" in part.tags and _at(part, finding)))


# -- system packages -----------------------------------------------------------------------------


def _apt_name(part: Part) -> str | None:
    return next((tag[4:] for tag in part.tags if tag.startswith("apt:")), None)


def _drop_system(patterns_of: Callable[[], list[str]], anywhere_before: bool = False):
    def edit(bill: Bill, finding: Finding) -> None:
        patterns = patterns_of()

        def keep(part: Part) -> bool:
            if part.kind != "system":
                return True
            name = _apt_name(part) or ""
            if not any(glob_match(name, pattern) for pattern in patterns):
                return True
            if anywhere_before:
                return part.instruction >= finding.span.line
            return not _at(part, finding)

        _drop(bill, keep)

    return edit


def _build_tools() -> list[str]:
    return load("build_tools")["apt"]["packages"]


def _servers() -> list[str]:
    return [pattern for server in load("build_tools")["servers"] for pattern in server["packages"]]


def _node() -> list[str]:
    return load("build_tools")["node"]["packages"]


def _no_recommends(image: Image, state: _State, current: Bill, finding: Finding) -> _State | None:
    """DL3015: the install without Recommends."""
    parts = [part for part in current.fixed if "recommends" in part.tags and _at(part, finding)]
    if not parts:
        return None
    lines = frozenset({finding.span.line} | {part.line for part in parts})
    return replace(state, overrides=replace(state.overrides, no_recommends=state.overrides.no_recommends | lines))


# -- layers, caches, context ------------------------------------------------------------------------


def _deleted_in_time(bill: Bill, finding: Finding) -> None:
    """LAY001: deleted in the RUN that added it: the bytes a later layer deletes go."""
    line = finding.span.line
    edited = []
    for part in bill.fixed:
        gone = next((int(tag.split(":")[2]) for tag in part.tags if tag.startswith(f"deleted:{line}:")), None)
        if gone is None or part.figure is None:
            edited.append(part)
            continue
        if gone >= part.figure.bytes:
            continue
        edited.append(replace(part, figure=_less(part.figure, gone, "what a later layer deletes")))
    bill.fixed = edited


def _drop_tagged(tag: str):
    def edit(bill: Bill, finding: Finding) -> None:
        _drop(bill, lambda part: not (tag in part.tags and _at(part, finding)))

    return edit


def _no_pip_cache(bill: Bill, finding: Finding) -> None:
    """DL3042: the install keeps no download cache."""
    anchor = _anchor(finding)
    for step, (_, _, anchors) in list(bill.python.cache_lines.items()):
        if anchor in anchors:
            bill.python.cached_steps.discard(step)


def _ignored_files(select: Callable[[Bill, Finding], Callable[[str, int], bool]]):
    """CTX001/CTX002/CTX004: files the ignore file leaves out no longer reach the image."""

    def edit(bill: Bill, finding: Finding) -> None:
        drop = select(bill, finding)
        edited = []
        for part in bill.fixed:
            if "context" not in part.tags or not part.files or part.figure is None:
                edited.append(part)
                continue
            kept = tuple(item for item in part.files if not drop(item[2], item[1]))
            if len(kept) == len(part.files):
                edited.append(part)
                continue
            removed = sum(item[1] for item in part.files) - sum(item[1] for item in kept)
            if kept:
                edited.append(
                    replace(part, figure=_less(part.figure, removed, "files the ignore file leaves out"), files=kept)
                )
        bill.fixed = edited

    return edit


def _unwanted(bill: Bill, finding: Finding) -> Callable[[str, int], bool]:
    from dockerlint.model.buildcontext import unwanted

    paths = [item.path for item in unwanted(bill.image)]
    return lambda path, size: any(path == p or (p.endswith("/") and path.startswith(p)) for p in paths)


def _large_file(bill: Bill, finding: Finding) -> Callable[[str, int], bool]:
    named = re.match(r"`([^`]+)`", finding.message)
    return lambda path, size: named is not None and path == named.group(1)


_EFFECTS: dict[str, Callable] = {
    "IMG002": _python_slim,
    "GPU006": _smaller_base(_cpu_twin),
    "IMG001": _slim_base,
    "GPU003": _smaller_base(_runtime_flavour),
    "GPU004": _double_cuda,
    "GPU001": _edit(_cpu_torch),
    "GPU002": _edit(_cpu_variant),
    "DEP004": _edit(_lighter_variant),
    "DEP001": _edit(_drop_request),
    "DEP003": _edit(_drop_request),
    "MDL004": _edit(_drop_request),
    "MDL001": _edit(_drop_download),
    "MDL002": _edit(_drop_weights),
    "STG004": _edit(_drop_system(_build_tools, anywhere_before=True), anchored=False),
    "STG001": _edit(_drop_system(_build_tools)),
    "STG006": _edit(_drop_system(_servers)),
    "STG007": _edit(_drop_system(_node)),
    "DL3015": _no_recommends,
    "LAY001": _edit(_deleted_in_time),
    "LAY007": _edit(_drop_tagged("rewrite")),
    "CTX002": _edit(_ignored_files(_unwanted), anchored=False),
    "CTX001": _edit(_ignored_files(_unwanted), anchored=False),
    "CTX004": _edit(_ignored_files(_large_file), anchored=False),
    "DL3042": _edit(_no_pip_cache),
    "DL3009": _edit(_drop_tagged("apt-lists")),
    "DL3019": _edit(_drop_tagged("apk-index")),
}
_ORDER = list(_EFFECTS)
