"""One repository open in an editor: its configuration, its scan cache, and the findings
of every image it builds, kept per image so that a change re-lints only the images it
touches. No protocol here: the language server asks, this answers in findings.

Which images a change touches is the engine's answer (``lint`` of the changed files keeps
the images that read or copy them). Each finding is filed under the images that reported
it (``Result.images_of``), a parse problem under the images that read its file (the
Dockerfile, its ignore file, the requirements and pyproject files it installs, its
compose file, the files it copies). A file's diagnostics are the union over the images,
so a requirements file shared by two images keeps what the image that was not re-linted
said about it; a finding whose fix edits a shared line (engine.AGREED) is shown only when
every image that reads the file says it, as a full lint does. A parse problem of a file no
image reads is filed under the file itself.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from msgspec import Struct, field

from dockerlint.config import CONFIG_NAMES, Config, ConfigError, find_config, load_config
from dockerlint.discover import is_compose_name, is_dockerfile_name
from dockerlint.engine import AGREED, Result, _touches, image_files, line_covers, lint, project_root, without_moot
from dockerlint.findings import Finding
from dockerlint.model import Image
from dockerlint.paths import real_path
from dockerlint.rulebook import Rule

ImageKey = tuple[Path, Path, str | None]  # Dockerfile, build context, target


def image_key(image: Image) -> ImageKey:
    return image.dockerfile_path, image.context_root, image.target


class Outcome(Struct):
    """What one lint changed: the files whose diagnostics must be published again."""

    files: set[Path] = field(default_factory=set)
    images: int = 0
    full: bool = False


class Project:
    """A workspace folder's repository. ``lint_all`` and ``lint_changed`` run the engine
    over the editor's unsaved contents (``overlay``) and return the files to publish."""

    def __init__(
        self, folder: Path, rules: Mapping[str, Rule], cache_dir: Callable[[Path], Path | None] | None = None
    ) -> None:
        """``cache_dir``: where to keep the import scans, given the project's root (the
        command line's choice, ``lsp._cache_dir``); None: no cache."""
        self.folder = real_path(folder)
        self.rules = rules
        self.config = Config(root=self.folder)
        self.config_error: str | None = None
        self.root = project_root([self.folder], self.config)
        self.load_config()
        self.scan_cache = None
        directory = cache_dir(self.root) if cache_dir is not None else None
        if directory is not None:
            from dockerlint.model.scan_cache import ScanCache

            self.scan_cache = ScanCache(directory)
        self.by_image: dict[ImageKey, dict[Path, list[Finding]]] = {}
        self.images: dict[ImageKey, Image] = {}  # the model of each image, for the size hover
        self.files_of: dict[ImageKey, set[Path]] = {}  # what each image reads (engine.AGREED findings)
        self.alone: dict[Path, list[Finding]] = {}  # findings of files no image reads
        self.texts: dict[Path, str] = {}  # the text each finding's positions refer to
        # Lints run in a worker thread while the editor's requests read the findings.
        self.lock = threading.Lock()

    # -- configuration ------------------------------------------------------------------
    def load_config(self) -> bool:
        """Read ``[tool.dockerlint]`` / ``.dockerlint.toml`` again, as the CLI finds it.
        Returns whether it changed. An invalid file keeps the last good configuration and
        leaves its error in ``config_error``."""
        try:
            path = find_config(self.folder)
            config = load_config(path, self.rules, default_root=self.folder)
        except ConfigError as error:
            self.config_error = str(error)
            return False
        self.config_error = None
        changed = config != self.config
        self.config = config
        self.root = project_root([self.folder], config)
        return changed

    def is_config_file(self, path: Path) -> bool:
        """A file whose change may change the configuration: the one in use, or one that
        ``find_config`` would find (in the folder or above it)."""
        return path.name in CONFIG_NAMES and (path == self.config.path or _inside(self.folder, path.parent))

    def contains(self, path: Path) -> bool:
        return _inside(path, self.root) or _inside(path, self.folder)

    # -- linting ------------------------------------------------------------------------
    def lint_all(self, overlay: Mapping[Path, bytes | None]) -> Outcome:
        before = self._files_with_findings()
        result = self._lint([self.root], overlay)
        with self.lock:
            self.by_image = {image_key(image): {} for image in result.images}
            self.images = {image_key(image): image for image in result.images}
            self.files_of = {}
            self.alone = {}
            self._file(result, result.images, named=None)
            files = before | self._files_with_findings()
            for image in result.images:
                files |= _image_files(image)
            return Outcome(files, len(result.images), full=True)

    def lint_changed(self, paths: Iterable[Path], overlay: Mapping[Path, bytes | None]) -> Outcome:
        """Re-lint the images that read or copy one of ``paths`` (and the paths
        themselves); a compose file changes which images there are: everything."""
        paths = sorted(set(paths))
        if any(is_compose_name(path.name) for path in paths):
            return self.lint_all(overlay)
        # An excluded Dockerfile builds no image in a full lint: opening it lints nothing.
        linted = [path for path in paths if not (is_dockerfile_name(path.name) and self.config.is_excluded(path))]
        if not linted:
            return Outcome(set(paths))
        result = self._lint(linted, overlay)
        with self.lock:
            return self._replace(result, paths)

    def _replace(self, result: Result, paths: list[Path]) -> Outcome:
        keys = [image_key(image) for image in result.images]
        files: set[Path] = set(paths)
        changed_dockerfiles = {path for path in paths if is_dockerfile_name(path.name)}
        for key in list(self.by_image):
            # Every image of a changed Dockerfile was re-linted: one that did not come back
            # is gone (its build context moved with the COPY sources).
            if key in keys or key[0] in changed_dockerfiles:
                files |= set(self.by_image.pop(key))
                self.images.pop(key, None)
                self.files_of.pop(key, None)
        for path in paths:
            if self.alone.pop(path, None):
                files.add(path)
        for key in keys:
            self.by_image[key] = {}
        self.images.update((image_key(image), image) for image in result.images)
        self._file(result, result.images, named=set(paths))
        for image in result.images:  # every file it reads, and every file it said something about
            files |= _image_files(image) | set(self.by_image[image_key(image)])
        files |= {path for path in paths if path in self.alone}
        return Outcome(files, len(keys))

    def _lint(self, paths: list[Path], overlay: Mapping[Path, bytes | None]) -> Result:
        return lint(
            paths, self.config, self.rules, cache_dir=self.scan_cache, overlay=overlay, root=self.root, agree=False
        )

    def _file(self, result: Result, images: list[Image], named: set[Path] | None) -> None:
        """File each finding under the images whose checks reported it; a parse problem
        under the images that read its file (they all see it). ``named``: the paths of a
        partial lint (None for a full one); a finding of a partial lint that no image
        claims and that is not in a named file is filed under every re-linted image."""
        members = {image_key(image): _image_files(image) for image in images}
        self.files_of.update(members)
        readers: dict[Path, list[ImageKey]] = {}
        for finding in result.findings:
            path = finding.path
            owners = [image_key(image) for image in result.images_of(finding)]
            if not owners:
                if path not in readers:
                    readers[path] = [key for key, files in members.items() if path in files] or [
                        image_key(image) for image in images if _touches(image, {path})
                    ]
                owners = readers[path]
            if not owners and named is not None and path not in named:
                owners = list(members)
            if owners:
                for key in owners:
                    self.by_image[key].setdefault(path, []).append(finding)
            else:
                self.alone.setdefault(path, []).append(finding)
            loaded = result.workspace.cached_text(path) if result.workspace else None
            if loaded is not None:
                self.texts[path] = loaded[0].text

    # -- answers ------------------------------------------------------------------------
    def findings(self, path: Path) -> list[Finding]:
        """The file's findings, once each, in file order; one of engine.AGREED only when
        every image that reads the file says it (as a full lint does)."""
        seen: dict[tuple, Finding] = {}
        with self.lock:
            readers = {key for key, files in self.files_of.items() if path in files}
            said: dict[tuple, set[ImageKey]] = {}
            for key, record in self.by_image.items():
                for finding in record.get(path, ()):
                    if finding.code in AGREED:
                        said.setdefault((finding.code, finding.span.line), set()).add(key)
            for record in (*self.by_image.values(), self.alone):
                for finding in record.get(path, ()):
                    if finding.code in AGREED and not readers <= said[(finding.code, finding.span.line)]:
                        continue
                    seen.setdefault((finding.code, finding.span, finding.message), finding)
        return sorted(without_moot(list(seen.values()), line_covers(self.rules)), key=Finding.sort_key)

    def sizes_at(self, path: Path, line: int) -> list:
        """The bill of bytes (``ImageSize``) of each image whose Dockerfile is ``path`` and
        has a FROM on ``line``, with what its findings' fixes save. Computed when asked."""
        from dockerlint.model.size.summary import image_size

        with self.lock:
            chosen = [
                (key, image)
                for key, image in sorted(self.images.items(), key=lambda item: str(item[0]))
                if key[0] == path and any(stage.from_instruction.span.line == line for stage in image.stages)
            ]
            findings = {key: [f for record in self.by_image.get(key, {}).values() for f in record] for key, _ in chosen}
        sizes = []
        for key, image in chosen:
            size = image_size(image, findings[key])
            if size is not None:
                sizes.append(size)
        return sizes

    def readers(self, path: Path) -> list[ImageKey]:
        """The images whose last lint said something about the file."""
        with self.lock:
            return sorted((key for key, record in self.by_image.items() if path in record), key=str)

    def text(self, path: Path) -> str | None:
        """The text the file's findings were computed from, as the lint decoded it."""
        with self.lock:
            return self.texts.get(path)

    def _files_with_findings(self) -> set[Path]:
        files = set(self.alone)
        for record in self.by_image.values():
            files |= set(record)
        return files


def _image_files(image: Image) -> set[Path]:
    """The files an image reads (``engine.image_files``) and its compose file."""
    files = image_files(image)
    if image.compose_file is not None:
        files = files | {image.compose_file}
    return files


def _inside(path: Path, folder: Path) -> bool:
    text, base = os.fspath(path), os.fspath(folder)
    return text == base or text.startswith(base.rstrip(os.sep) + os.sep)
