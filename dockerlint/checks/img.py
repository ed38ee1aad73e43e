"""Base images of the final stage: the biggest single choice in an image's size."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dockerlint.checks import check
from dockerlint.checks.common import external_base, finding, from_image_span, image_matches
from dockerlint.findings import Finding, human_size
from dockerlint.knowledge import load
from dockerlint.model import Image, ImageRef


def slim_tag(tag: str | None) -> str:
    """The slim variant of a full python tag: 3.11 -> 3.11-slim, 3.11-bookworm -> 3.11-slim-bookworm."""
    if tag in (None, "latest"):
        return "slim"
    match = re.match(r"^(\d+(?:\.\d+)*)(?:-(.+))?$", tag)
    if match is None:
        return f"{tag}-slim"
    version, variant = match.groups()
    return f"{version}-slim-{variant}" if variant else f"{version}-slim"


def is_full_python(ref: ImageRef) -> bool:
    facts = load("base_images")["python"]
    if ref.repository not in facts["repositories"] and ref.name not in facts["repositories"]:
        return False
    if ref.tag is None and ref.digest:
        return False  # a bare digest does not say which variant it is
    tag = ref.tag or "latest"
    return not any(variant in tag for variant in facts["lean_variants"])


@check("IMG001")
def full_python_base(image: Image) -> Iterator[Finding]:
    final = image.final
    if final is None:
        return
    ref, stage = external_base(image, final)
    if ref.unresolved or not is_full_python(ref):
        return
    facts = load("base_images")["python"]
    slim = f"{ref.name}:{slim_tag(ref.tag)}"
    where = "the final stage" if stage is final else f"the final stage (through {stage.label})"
    yield finding(
        image,
        "IMG001",
        from_image_span(stage),
        f"{where} runs on the full `{ref.raw}` image (~{human_size(facts['full_size'])}, with compilers "
        f"and headers); `{slim}` is ~{human_size(facts['slim_size'])}",
        f"Use `FROM {slim}` for the final stage; if packages need a compiler, build wheels in a "
        f"builder stage on `{ref.raw}` and copy them into the slim stage.",
        facts["full_size"] - facts["slim_size"],
    )


@check("IMG002")
def heavy_framework_base(image: Image) -> Iterator[Finding]:
    final = image.final
    if final is None:
        return
    ref, stage = external_base(image, final)
    if ref.unresolved:
        return
    for framework in load("base_images")["frameworks"]:
        if image_matches(ref, [framework["pattern"]]):
            yield finding(
                image,
                "IMG002",
                from_image_span(stage),
                f"the final stage is built on `{ref.raw}`, which carries {framework['what']} "
                f"(~{human_size(framework['size'])}) whether the service uses it or not",
                "Start from a slim Python image (or `nvidia/cuda:*-runtime` when a GPU is needed) "
                "and install only the packages the service imports.",
                framework["size"],
            )
            return


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
