"""FROM and stages: DL3006 untagged, DL3007 latest, DL3024 duplicate stage names, DL3026
registries, DL3029 and DL3065 --platform, DL3063 reserved stage names."""

from __future__ import annotations

from collections.abc import Iterator

from dockerlint.checks import check, fixing
from dockerlint.checks.common import finding, from_image_span
from dockerlint.findings import Finding, Related
from dockerlint.model import Image, ImageRef, StageModel


def _global_arg(image: Image, name: str):
    for instruction in image.dockerfile.instructions:
        if instruction.keyword == "FROM":
            return None
        if instruction.keyword == "ARG" and instruction.args.strip().split("=", 1)[0] == name:
            return instruction
    return None


def _arg_names(text: str) -> list[str]:
    import re

    return re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text)


def _base_images(image: Image) -> Iterator[tuple[StageModel, str, list[Related]]]:
    """The stages built on a registry image with a resolved reference, with how to name
    it in a message and the ARGs that set it."""
    for stage in image.stages:
        ref = stage.base
        if stage.parent is not None or ref.repository == "scratch" or ref.unresolved or ref.digest:
            continue
        via = _arg_names(stage.stage.base)
        related = [
            Related(image.dockerfile_path, arg.span, f"`{arg.args.strip()}` sets the image reference")
            for arg in (_global_arg(image, name) for name in via)
            if arg is not None
        ]
        written = f"`{stage.stage.base}` resolves to `{ref.raw}`" if via else f"`{ref.raw}`"
        yield stage, written, related


@check("DL3006")
def untagged_base(image: Image) -> Iterator[Finding]:
    for stage, written, related in _base_images(image):
        if stage.base.tag is None:
            yield finding(
                image,
                "DL3006",
                from_image_span(stage),
                f"{written} has no tag, so each build may get a different base image",
                f"Pin a tag, for example `{stage.base.name}:<version>`, or a digest.",
                related=related,
                autofix=_pin_suggestion(image, stage),
            )


@check("DL3007")
def latest_base(image: Image) -> Iterator[Finding]:
    for stage, written, related in _base_images(image):
        if stage.base.tag == "latest":
            yield finding(
                image,
                "DL3007",
                from_image_span(stage),
                f"{written} uses the moving `latest` tag, so each build may get a different base image",
                f"Pin a version tag instead of `latest` (for example `{stage.base.name}:<version>`).",
                related=related,
                autofix=_pin_suggestion(image, stage),
            )


def _pin_suggestion(image: Image, stage: StageModel):
    """Shown, never applied: which version to pin is the user's choice."""
    span = from_image_span(stage)
    if fixing.span_text(image, span) != stage.base.raw:
        return None  # set through an ARG: the pin belongs there
    from dockerlint.findings import Edit

    pinned = f"{stage.base.name}:<version>"
    return fixing.display_only(f"Pin a version: `{pinned}`", Edit(image.dockerfile_path, span, pinned))


@check("DL3024")
def duplicate_stage_name(image: Image) -> Iterator[Finding]:
    seen: dict[str, StageModel] = {}
    for stage in image.stages:
        if stage.name is None:
            continue
        if stage.name in seen:
            yield finding(
                image,
                "DL3024",
                stage.from_instruction.span,
                f"the stage name `{stage.name}` is already used on line {seen[stage.name].from_instruction.span.line}: "
                "`--from` and `--target` can reach only one of them",
                "Give every stage its own name.",
            )
        else:
            seen[stage.name] = stage


@check("DL3063")
def reserved_stage_name(image: Image) -> Iterator[Finding]:
    for stage in image.stages:
        if stage.name in ("scratch", "context"):
            yield finding(
                image,
                "DL3063",
                stage.from_instruction.span,
                f"`{stage.name}` as a stage name is confusing: `{stage.name}` already means "
                + ("the empty image" if stage.name == "scratch" else "a named build context")
                + " in FROM and `--from`",
                "Pick another stage name.",
            )


@check("DL3029")
def from_platform(image: Image) -> Iterator[Finding]:
    for stage in image.stages:
        platform = stage.stage.platform
        if platform is not None and "BUILDPLATFORM" not in platform and "TARGETPLATFORM" not in platform:
            yield finding(
                image,
                "DL3029",
                stage.from_instruction.span,
                f"`FROM --platform={platform}` fixes the platform: the image is built for it whatever "
                "platform the build asks for",
                "Drop `--platform` and choose the platform when building (`docker build --platform ...`), "
                "or use `--platform=$BUILDPLATFORM` for a stage that only builds.",
            )


@check("DL3065")
def redundant_target_platform(image: Image) -> Iterator[Finding]:
    for stage in image.stages:
        if stage.stage.platform in ("$TARGETPLATFORM", "${TARGETPLATFORM}"):
            yield finding(
                image,
                "DL3065",
                stage.from_instruction.span,
                "`FROM --platform=$TARGETPLATFORM` says what FROM does anyway",
                "Remove `--platform=$TARGETPLATFORM`.",
            )


# -- DL3026 ------------------------------------------------------------------------------------


def registry(ref: ImageRef) -> str:
    """The registry an image reference names: its first path component when that holds a
    ``.`` or ``:`` or is ``localhost`` (Docker's rule), else Docker Hub."""
    first, slash, _ = ref.name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def trusted(name: str, patterns: list[str]) -> bool:
    """``*`` trusts every registry, ``*.example.com`` a suffix, ``registry.*`` a prefix."""
    for pattern in patterns:
        if pattern == "*":
            return True
        if pattern.startswith("*") and name.endswith(pattern[1:]):
            return True
        if pattern.endswith("*") and name.startswith(pattern[:-1]):
            return True
        if name == pattern:
            return True
    return False


def _untrusted(ref: ImageRef, patterns: list[str]) -> str | None:
    if ref.repository == "scratch" or ref.unresolved:
        return None
    name = registry(ref)
    if name == "docker.io":
        return None if trusted("docker.io", patterns) or trusted("hub.docker.com", patterns) else name
    return None if trusted(name, patterns) else name


@check("DL3026")
def trusted_registries(image: Image) -> Iterator[Finding]:
    patterns = list(image.settings.get("trusted-registries") or ())
    if not patterns:
        return
    message = "`{ref}` comes from `{name}`, which is not a trusted registry"
    fix = "Use an image from a trusted registry ({trusted}), or add the registry to `trusted-registries`."
    listed = ", ".join(f"`{pattern}`" for pattern in patterns)
    for stage in image.stages:
        if stage.parent is None:
            name = _untrusted(stage.base, patterns)
            if name is not None:
                yield finding(
                    image,
                    "DL3026",
                    from_image_span(stage),
                    message.format(ref=stage.base.raw, name=name),
                    fix.format(trusted=listed),
                )
        for copy in stage.copies:
            if copy.from_image is not None and copy.from_stage is None and not copy.mount_only:
                name = _untrusted(ImageRef.parse(copy.from_image), patterns)
                if name is not None:
                    yield finding(
                        image,
                        "DL3026",
                        copy.instruction.span,
                        message.format(ref=copy.from_image, name=name),
                        fix.format(trusted=listed),
                    )
        for step in stage.steps:
            for mount in step.mounts:
                reference = mount.get("from")
                if not reference or image.stage_by_reference(reference, stage.index + 1) is not None:
                    continue
                name = _untrusted(ImageRef.parse(reference), patterns)
                if name is not None:
                    yield finding(
                        image,
                        "DL3026",
                        step.instruction.span,
                        message.format(ref=reference, name=name),
                        fix.format(trusted=listed),
                    )
