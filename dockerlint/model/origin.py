"""Where an image's build context comes from: the configuration, a compose, bake or
skaffold file, a build command found in the repository, or a guess. Reports show it;
rules that would otherwise rest on a guess ask it."""

from __future__ import annotations

from pathlib import Path

from msgspec import Struct

# From the most to the least certain; the JSON report uses these names.
KINDS = ("config", "compose", "bake", "skaffold", "command", "guess")


class BuildOrigin(Struct, frozen=True):
    kind: str  # one of KINDS
    path: Path | None = None  # the file that says so (None for a guess without evidence)
    line: int | None = None
    detail: str = ""  # the command as written, the service, or how the guess was made
    alternatives: tuple[Path, ...] = ()  # a guess: other folders the image could be built from
    # other files that build the same Dockerfile from the same context (another target: CI's
    # `production` beside compose's `development`), so that every such image names them all
    also_by: tuple[Path, ...] = ()

    @property
    def guessed(self) -> bool:
        return self.kind == "guess"
