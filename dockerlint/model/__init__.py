"""The model of each image a repository builds: rules ask it, they never parse text."""

from dockerlint.model.image import Copy, Image, ImageRef, ShellCommand, StageModel, Step, build_image
from dockerlint.model.installs import Argument, Install, RequirementRef

__all__ = [
    "Argument",
    "Copy",
    "Image",
    "ImageRef",
    "Install",
    "RequirementRef",
    "ShellCommand",
    "StageModel",
    "Step",
    "build_image",
]
