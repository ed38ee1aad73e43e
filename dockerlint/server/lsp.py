"""The language server: the protocol side (pygls), over ``Project``.

Diagnostics come from the editor's buffers: every open document is handed to the engine
as the overlay. A change is linted after a short pause (``DEBOUNCE_SECONDS``); changes
that arrive meanwhile, or while a lint runs, are linted together next. Lints run one at
a time in a worker thread, so hovers and code actions are answered meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from dockerlint import __version__
from dockerlint.discover import SKIP_DIRS, is_compose_name, is_dockerfile_name
from dockerlint.findings import Applicability, Edit, Finding, Severity, human_size
from dockerlint.paths import real_path
from dockerlint.server.project import Outcome, Project
from dockerlint.server.suppress import ignore_in_file, ignore_on_line, kind_of
from dockerlint.source import Span

DEBOUNCE_SECONDS = 0.03  # typing bursts closer than this are linted once
SOURCE = "dockerlint"
FIX_ALL = f"{lsp.CodeActionKind.SourceFixAll.value}.dockerlint"
_SEVERITY = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.INFO: lsp.DiagnosticSeverity.Information,
}
# Files whose change, made outside the editor, is linted (the rest cannot change a finding).
WATCHED = "**/{Dockerfile,Dockerfile.*,*.Dockerfile,*.dockerfile,Containerfile,*.dockerignore,.dockerignore,"\
          "*.txt,*.in,*.toml,*.py,*.ipynb,*.yml,*.yaml}"  # fmt: skip

log = logging.getLogger(__name__)


class DockerlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("dockerlint", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        from dockerlint.rulebook import load_rules

        self.rules = load_rules()
        self.projects: dict[Path, Project] = {}
        self.uris: dict[Path, str] = {}  # open documents: real path -> the URI the client uses
        self.linted: dict[Path, int | None] = {}  # open documents: the version the diagnostics describe
        self.pending: dict[Path, set[Path] | None] = {}  # project folder -> changed paths (None: all)
        self.timer: asyncio.TimerHandle | None = None
        self.busy = False
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dockerlint-lint")

    # -- projects and documents -----------------------------------------------------------
    def add_folder(self, folder: Path) -> Project:
        folder = real_path(folder)
        if folder not in self.projects:
            self.projects[folder] = Project(folder, self.rules, _cache_dir)
            self.report_config_error(self.projects[folder])
        return self.projects[folder]

    def project_for(self, path: Path) -> Project:
        """The project of the innermost workspace folder holding the file; a file outside
        every folder gets one of its own (its repository, found as the CLI finds it)."""
        best = None
        for project in self.projects.values():
            if project.contains(path) and (best is None or len(str(project.folder)) > len(str(best.folder))):
                best = project
        if best is not None:
            return best
        from dockerlint.config import Config
        from dockerlint.engine import project_root

        project = self.add_folder(project_root([path], Config(root=path.parent)))
        self.schedule(project, None)
        return project

    def documents(self) -> dict[Path, object]:
        return {real_path(Path(to_fs_path(uri))): doc for uri, doc in self.workspace.text_documents.items()
                if to_fs_path(uri)}  # fmt: skip

    def snapshot(self) -> tuple[dict[Path, bytes], dict[Path, int | None], dict[Path, str]]:
        """The open documents as the engine will read them, with their versions."""
        overlay, versions, texts = {}, {}, {}
        for path, doc in self.documents().items():
            texts[path] = doc.source
            overlay[path] = doc.source.encode("utf-8", "surrogatepass")
            versions[path] = doc.version
        return overlay, versions, texts

    # -- linting ----------------------------------------------------------------------------
    def schedule(self, project: Project, paths: set[Path] | None) -> None:
        """Lint ``paths`` of the project (None: everything) after the pause."""
        current = self.pending.get(project.folder, set())
        self.pending[project.folder] = None if paths is None or current is None else current | paths
        if self.timer is not None:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(DEBOUNCE_SECONDS, self._start)

    def _start(self) -> None:
        self.timer = None
        if not self.busy:
            asyncio.ensure_future(self.run_pending())

    async def run_pending(self) -> None:
        self.busy = True
        try:
            while self.pending:
                folder, paths = next(iter(self.pending.items()))
                del self.pending[folder]
                project = self.projects.get(folder)
                if project is None:
                    continue
                overlay, versions, texts = self.snapshot()
                started = time.perf_counter()
                try:
                    outcome = await asyncio.get_running_loop().run_in_executor(
                        self.executor, _lint, project, paths, overlay
                    )
                except Exception as error:  # noqa: BLE001 - a bug in one lint must not end the session
                    log.exception("lint failed")
                    message = f"dockerlint: internal error: {type(error).__name__}: {error} (please report it)"
                    self.window_show_message(lsp.ShowMessageParams(lsp.MessageType.Error, message))
                    continue
                self.publish(project, outcome, versions, texts)
                what = "everything" if outcome.full else ", ".join(sorted(p.name for p in paths or ()))
                self.window_log_message(lsp.LogMessageParams(lsp.MessageType.Log, (
                    f"dockerlint: linted {what}: {outcome.images} image(s), {len(outcome.files)} file(s) "
                    f"published in {(time.perf_counter() - started) * 1000:.0f} ms")))  # fmt: skip
        finally:
            self.busy = False

    def publish(self, project: Project, outcome: Outcome, versions: dict, texts: dict[Path, str]) -> None:
        for path in sorted(outcome.files):
            text = texts[path] if path in texts else project.text(path)  # open buffers were snapshot
            lines = _lines(text if text is not None else _read(path) or "")
            diagnostics = [self.diagnostic(project, finding, lines) for finding in project.findings(path)]
            if path in versions:
                self.linted[path] = versions[path]
            self.text_document_publish_diagnostics(
                lsp.PublishDiagnosticsParams(uri=self.uri(path), diagnostics=diagnostics, version=versions.get(path))
            )

    def report_config_error(self, project: Project) -> None:
        if project.config_error:
            message = f"dockerlint: {project.config_error} (the last valid configuration is used)"
            self.window_show_message(lsp.ShowMessageParams(lsp.MessageType.Error, message))

    # -- positions ------------------------------------------------------------------------
    def uri(self, path: Path) -> str:
        return self.uris.get(path) or from_fs_path(str(path)) or path.as_uri()

    def lines(self, project: Project, path: Path) -> list[str]:
        """The text positions in ``path`` refer to: the open buffer, else what the lint read."""
        doc = self.documents().get(path)
        if doc is not None:
            return _lines(doc.source)
        text = project.text(path)
        if text is None:
            text = _read(path) or ""
        return _lines(text)

    def range(self, span: Span, lines: list[str]) -> lsp.Range:
        codec = self.workspace.position_codec
        start = codec.position_to_client_units(lines, lsp.Position(max(span.line - 1, 0), max(span.column - 1, 0)))
        end = codec.position_to_client_units(
            lines, lsp.Position(max(span.end_line - 1, 0), max(span.end_column - 1, 0))
        )
        return lsp.Range(start, end)

    def diagnostic(self, project: Project, finding: Finding, lines: list[str]) -> lsp.Diagnostic:
        rule = self.rules.get(finding.code)
        related = [
            lsp.DiagnosticRelatedInformation(
                lsp.Location(self.uri(item.path), self.range(item.span, self.lines(project, item.path))), item.message
            )
            for item in finding.related
        ]
        return lsp.Diagnostic(
            range=self.range(finding.span, lines),
            message=finding.message + (f"\n{finding.fix}" if finding.fix else ""),
            severity=_SEVERITY.get(finding.severity, lsp.DiagnosticSeverity.Warning),
            code=finding.code,
            code_description=lsp.CodeDescription(href=rule.help_uri) if rule else None,
            source=SOURCE,
            related_information=related or None,
        )

    # -- code actions ---------------------------------------------------------------------
    def code_actions(self, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        path = _path(params.text_document.uri)
        if path is None:
            return []
        doc = self.documents().get(path)
        if doc is not None and self.linted.get(path, doc.version) != doc.version:
            return []  # the buffer changed since the lint: its diagnostics are about to change
        project = self.project_for(path)
        lines = self.lines(project, path)
        text = "\n".join(lines)
        only = params.context.only
        wanted = lambda kind: not only or any(kind == k or kind.startswith(f"{k}.") for k in only)  # noqa: E731
        fixable = project.config.fixable_codes(self.rules)
        actions: list[lsp.CodeAction] = []
        findings = project.findings(path)
        if wanted(lsp.CodeActionKind.QuickFix):
            for finding in findings:
                if not _overlaps(self.range(finding.span, lines), params.range):
                    continue
                diagnostic = self.diagnostic(project, finding, lines)
                fix = finding.autofix
                if fix is not None and finding.code in fixable and fix.applicability is not Applicability.DISPLAY_ONLY:
                    edit = self.workspace_edit(project, list(fix.edits))
                    if edit is not None:
                        safe = fix.applicability is Applicability.SAFE
                        actions.append(
                            lsp.CodeAction(
                                title=fix_title(finding),
                                kind=lsp.CodeActionKind.QuickFix,
                                diagnostics=[diagnostic],
                                edit=edit,
                                is_preferred=safe,
                            )
                        )
                for title, edit in (
                    (
                        f"Ignore {finding.code} on this line",
                        ignore_on_line(path, text, finding.code, finding.span.line),
                    ),
                    (f"Ignore {finding.code} in this file", ignore_in_file(path, text, finding.code)),
                ):
                    if edit is not None:
                        workspace_edit = self.workspace_edit(project, [edit])
                        if workspace_edit is not None:
                            actions.append(
                                lsp.CodeAction(
                                    title=title,
                                    kind=lsp.CodeActionKind.QuickFix,
                                    diagnostics=[diagnostic],
                                    edit=workspace_edit,
                                )
                            )
        if only and wanted(FIX_ALL):
            action = self.fix_all(project, findings, fixable)
            if action is not None:
                actions.append(action)
        return actions

    def fix_all(self, project: Project, findings: list[Finding], fixable) -> lsp.CodeAction | None:
        """Every fix ``--fix`` would apply to the file in one round (safe ones, and unsafe
        ones when ``unsafe-fixes`` is on), none overlapping."""
        from dockerlint.fixes import FixSettings, choose, edits_by_file

        chosen = choose(findings, FixSettings(unsafe=project.config.unsafe_fixes, fixable=fixable), lambda path: True)
        if not chosen:
            return None
        edits = [edit for file_edits in edits_by_file(chosen).values() for edit in file_edits]
        edit = self.workspace_edit(project, edits)
        if edit is None:
            return None
        return lsp.CodeAction(title="Fix all dockerlint auto-fixable problems", kind=FIX_ALL, edit=edit)

    def workspace_edit(self, project: Project, edits: list[Edit]) -> lsp.WorkspaceEdit | None:
        """Edits as the client applies them: versioned document edits (the client refuses
        them if the buffer changed meanwhile), a new file created first. None when the
        client cannot apply them."""
        capabilities = self.client_capabilities.workspace
        workspace_edit = capabilities.workspace_edit if capabilities else None
        versioned = bool(workspace_edit and workspace_edit.document_changes)
        can_create = versioned and lsp.ResourceOperationKind.Create in (workspace_edit.resource_operations or ())
        by_path: dict[Path, list[Edit]] = {}
        for edit in edits:
            by_path.setdefault(edit.path, []).append(edit)
        document_changes: list = []
        changes: dict[str, list[lsp.TextEdit]] = {}
        for path, items in sorted(by_path.items()):
            uri = self.uri(path)
            doc = self.documents().get(path)
            text = doc.source if doc is not None else _read(path)
            if text is None:
                if not can_create:
                    return None
                document_changes.append(lsp.CreateFile(uri=uri, options=lsp.CreateFileOptions(ignore_if_exists=True)))
                text = ""
            lines = _lines(text)
            newline = "\r\n" if "\r\n" in text else "\n"
            text_edits = [
                lsp.TextEdit(self.range(item.span, lines), item.content.replace("\n", newline)) for item in items
            ]
            if versioned:
                identifier = lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=doc.version if doc else None)
                document_changes.append(lsp.TextDocumentEdit(text_document=identifier, edits=text_edits))
            else:
                changes[uri] = text_edits
        return lsp.WorkspaceEdit(document_changes=document_changes) if versioned else lsp.WorkspaceEdit(changes=changes)

    # -- hover ----------------------------------------------------------------------------
    def hover(self, params: lsp.HoverParams) -> lsp.Hover | None:
        path = _path(params.text_document.uri)
        if path is None:
            return None
        project = self.project_for(path)
        lines = self.lines(project, path)
        here = [f for f in project.findings(path) if _contains(self.range(f.span, lines), params.position)]
        parts = [self.size_text(project, size) for size in project.sizes_at(path, params.position.line + 1)]
        for finding in here:
            parts.append(self.hover_text(project, path, finding))
        if not parts:
            return None
        return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, "\n\n---\n\n".join(parts)))

    def size_text(self, project: Project, size) -> str:
        """A FROM's hover: the image's estimated size, its range and its biggest parts."""
        title = "Estimated image size"
        if size.target:
            title += f" (target `{size.target}`)"
        text = f"**{title}: ~{human_size(size.estimated)}** ({human_size(size.low)}–{human_size(size.high)})"
        if size.unknown:
            text += f", plus {size.unknown} part{'s' if size.unknown != 1 else ''} of unknown size"
        if size.saved:
            text += f"; after the fixes dockerlint suggests: ~{human_size(size.after)}"
        lines = [text + ".", "", "Biggest parts:"]
        known = sorted((part for part in size.parts if part.bytes), key=lambda part: -part.bytes)[:5]
        for part in known:
            where = _relative(part.path, project.config.root) or part.path.name
            lines.append(f"- {part.what}: {human_size(part.bytes)} (`{where}:{part.line}`)")
        lines.append("\n`dockerlint size` prints the whole bill and what each fix saves.")
        return "\n".join(lines)

    def hover_text(self, project: Project, path: Path, finding: Finding) -> str:
        from dockerlint.docs import rule_markdown

        lines = [f"**{finding.code}**: {finding.message}"]
        if finding.size_bytes:
            lines.append(f"It costs about **{human_size(finding.size_bytes)}** in the image.")
        rule = self.rules.get(finding.code)
        if rule is not None:
            docs = rule_markdown(rule)
            cut = docs.find("\n## Flagged")  # the examples: one click away
            lines += ["", docs[:cut].rstrip() if cut != -1 else docs.rstrip()]
            lines.append(f"\n[Examples and full documentation]({rule.help_uri})")
        if kind_of(path) != "dockerfile":
            relative = _relative(path, project.config.root)
            if relative is not None:
                lines.append(f'\nTo ignore {finding.code} in the whole file: `"{relative}" = ["{finding.code}"]` '
                             "under `[tool.dockerlint.per-file-ignores]`.")  # fmt: skip
        return "\n".join(lines)

    # -- configuration and files changed outside the editor ------------------------------
    def config_changed(self, project: Project) -> None:
        changed = project.load_config()
        self.report_config_error(project)
        if changed:
            self.schedule(project, None)

    def files_changed(self, events: list[lsp.FileEvent]) -> None:
        open_paths = set(self.documents())
        for event in events:
            path = _path(event.uri)
            if path is None or SKIP_DIRS.intersection(path.parts):
                continue  # a virtualenv or node_modules being installed: no image is built from there
            project = self.project_for(path)
            if project.is_config_file(path):  # and maybe a project an image installs, too
                self.config_changed(project)
            if event.type == lsp.FileChangeType.Deleted or (
                event.type == lsp.FileChangeType.Created
                and (is_dockerfile_name(path.name) or is_compose_name(path.name))
            ):
                # An image appeared, or a file went away: which images read it can no longer be asked.
                self.schedule(project, None)
            elif path not in open_paths:  # an open buffer wins over the disk
                self.schedule(project, {path})


def fix_title(finding: Finding) -> str:
    """What the quick fix is called: unsafe fixes say so (they change what gets installed
    or copied, and ``--fix`` alone never applies them)."""
    fix = finding.autofix
    label = "Fix" if fix.applicability is Applicability.SAFE else "Fix (unsafe: review the change)"
    return f"{label} {finding.code}: {fix.message}"


def _lint(project: Project, paths: set[Path] | None, overlay: dict[Path, bytes]) -> Outcome:
    if paths is None:
        return project.lint_all(overlay)
    return project.lint_changed(paths, overlay)


def _cache_dir(root: Path) -> Path | None:
    """As the command line: ``DOCKERLINT_NO_CACHE`` turns the cache off,
    ``DOCKERLINT_CACHE_DIR`` names it, else one folder per project in the user's cache."""
    if os.environ.get("DOCKERLINT_NO_CACHE", "").lower() not in ("", "0", "false", "no", "off"):
        return None
    if os.environ.get("DOCKERLINT_CACHE_DIR"):
        return Path(os.environ["DOCKERLINT_CACHE_DIR"])
    from dockerlint.model.scan_cache import default_cache_dir

    return default_cache_dir(root)


def _path(uri: str) -> Path | None:
    fs_path = to_fs_path(uri)
    return real_path(Path(fs_path)) if fs_path else None


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").split("\n")


def _read(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    from dockerlint.source import decode

    return decode(data)[0]


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


def _before(a: lsp.Position, b: lsp.Position) -> bool:
    return (a.line, a.character) < (b.line, b.character)


def _overlaps(a: lsp.Range, b: lsp.Range) -> bool:
    return not _before(a.end, b.start) and not _before(b.end, a.start)


def _contains(span: lsp.Range, position: lsp.Position) -> bool:
    return not _before(position, span.start) and not _before(span.end, position)


# -- the server and its handlers --------------------------------------------------------------

server = DockerlintServer()


@server.feature(lsp.INITIALIZED)
async def initialized(ls: DockerlintServer, params: lsp.InitializedParams) -> None:
    folders = ls.workspace.folders.values()
    for folder in folders:
        path = _path(folder.uri)
        if path is not None:
            ls.schedule(ls.add_folder(path), None)
    if not folders and ls.workspace.root_path:
        ls.schedule(ls.add_folder(Path(ls.workspace.root_path)), None)
    capabilities = ls.client_capabilities.workspace
    watched = capabilities.did_change_watched_files if capabilities else None
    if watched is not None and watched.dynamic_registration:
        options = lsp.DidChangeWatchedFilesRegistrationOptions([lsp.FileSystemWatcher(glob_pattern=WATCHED)])
        try:
            registration = lsp.Registration("dockerlint-files", lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES, options)
            await ls.client_register_capability_async(lsp.RegistrationParams([registration]))
        except Exception:  # noqa: BLE001 - the client said no: saves still re-lint
            log.info("the client does not watch files for dockerlint")


@server.feature(lsp.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
def folders_changed(ls: DockerlintServer, params: lsp.DidChangeWorkspaceFoldersParams) -> None:
    for folder in params.event.removed:
        path = _path(folder.uri)
        if path is not None:
            ls.projects.pop(path, None)
    for folder in params.event.added:
        path = _path(folder.uri)
        if path is not None:
            ls.schedule(ls.add_folder(path), None)


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: DockerlintServer, params: lsp.DidOpenTextDocumentParams) -> None:
    path = _path(params.text_document.uri)
    if path is None:
        return
    ls.uris[path] = params.text_document.uri
    project = ls.project_for(path)
    if params.text_document.text != _read(path):  # unsaved already (a restored editor session)
        ls.schedule(project, {path})
    else:  # what the last lint said, under the client's own URI
        ls.publish(project, Outcome({path}), {path: params.text_document.version}, {path: params.text_document.text})


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: DockerlintServer, params: lsp.DidChangeTextDocumentParams) -> None:
    path = _path(params.text_document.uri)
    if path is not None:
        ls.schedule(ls.project_for(path), {path})


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: DockerlintServer, params: lsp.DidSaveTextDocumentParams) -> None:
    path = _path(params.text_document.uri)
    if path is not None:
        project = ls.project_for(path)
        if project.is_config_file(path):
            ls.config_changed(project)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: DockerlintServer, params: lsp.DidCloseTextDocumentParams) -> None:
    path = _path(params.text_document.uri)
    if path is None:
        return
    ls.uris.pop(path, None)
    ls.linted.pop(path, None)
    ls.schedule(ls.project_for(path), {path})  # the file on disk is what counts now


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def watched_files_changed(ls: DockerlintServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    ls.files_changed(params.changes)


@server.feature(
    lsp.TEXT_DOCUMENT_CODE_ACTION,
    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=False),
)
def code_action(ls: DockerlintServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    return ls.code_actions(params)


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: DockerlintServer, params: lsp.HoverParams) -> lsp.Hover | None:
    return ls.hover(params)


@server.feature(lsp.SHUTDOWN)
def shutdown(ls: DockerlintServer, params: None) -> None:
    ls.executor.shutdown(wait=False, cancel_futures=True)


def serve() -> None:
    server.start_io()
