"""IMG003: ML wheels on Alpine. pip needs a wheel built for musl; the big ML packages
publish none, so the install fails or compiles for a long time with build tools in the image."""

from __future__ import annotations

from collections.abc import Iterator

from dockerlint.checks import check
from dockerlint.checks.common import external_base
from dockerlint.findings import Finding
from dockerlint.model import Image, ImageRef
from dockerlint.model.ml import ml, pip_commands, pulls_torch


def is_alpine(ref: ImageRef) -> bool:
    settings = ml()["alpine"]
    if ref.unresolved:
        return False
    if ref.repository in settings["repositories"]:
        return True
    return ref.repository == "python" and any(word in (ref.tag or "") for word in settings["tag_words"])


@check("IMG003")
def alpine_ml_wheels(image: Image) -> Iterator[Finding]:
    no_wheels = set(ml()["alpine"]["no_musl_wheels"])
    for stage in image.stages:
        if not stage.reachable:
            continue
        ref, _ = external_base(image, stage)
        if not is_alpine(ref):
            continue
        for command in pip_commands(image, stage):
            for request in command.requests:
                if request.name in no_wheels:
                    what = f"`{request.text}` publishes no musllinux wheels"
                elif pulls_torch(request):
                    what = f"`{request.text}` requires torch, which publishes no musllinux wheels"
                else:
                    continue
                yield Finding(
                    "IMG003",
                    request.path,
                    request.span,
                    f"{what}: on the Alpine (musl) base `{ref.raw}` pip finds nothing to install, "
                    "or compiles from source with compilers in the image",
                    f"Use a glibc base such as `python:3.X-slim` instead of `{ref.raw}`: the manylinux "
                    "wheels install in seconds.",
                )
