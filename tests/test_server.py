"""``dockerlint server`` end to end: a real LSP client (pytest-lsp) starts the server in
a subprocess and speaks the protocol to it over stdio, on small repositories written
for each test. Unsaved buffers, changes across files, code actions applied as the
editor would apply them, hovers and configuration changes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from lsprotocol import types as lsp

pytest_lsp = pytest.importorskip("pytest_lsp")
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

from tests.conftest import write_tree  # noqa: E402

SERVICE = {
    "Dockerfile": """\
        FROM python:3.12-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY app/ ./app/
        USER nobody
        CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]
        """,
    "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\n",
    "app/__init__.py": "",
    "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
    ".dockerignore": ".git\n",
}
APT = "RUN apt-get update && apt-get install -y --no-install-recommends curl\n"  # DL3009: lists kept
PUBLISH = lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS
TIMEOUT = 30  # seconds: a cold first lint on a loaded machine


@pytest.fixture
def service(tmp_path: Path) -> Path:
    root = write_tree(tmp_path / "service", SERVICE)
    (root / ".git").mkdir()
    return root.resolve()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "dockerlint", "server"]))
async def client(lsp_client: LanguageClient, service: Path):
    @lsp_client.feature(lsp.CLIENT_REGISTER_CAPABILITY)
    def register(params: lsp.RegistrationParams) -> None:
        lsp_client.registrations = [*getattr(lsp_client, "registrations", []), *params.registrations]

    await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=service.as_uri(),
            workspace_folders=[lsp.WorkspaceFolder(uri=service.as_uri(), name="service")],
        )
    )
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def example(tmp_path: Path) -> Path:
    import shutil

    from tests.conftest import REPO_ROOT

    root = tmp_path / "ml-service"
    shutil.copytree(REPO_ROOT / "examples" / "ml-service", root)
    (root / ".git").mkdir()
    return root.resolve()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "dockerlint", "server"]))
async def example_client(lsp_client: LanguageClient, example: Path):
    await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=client_capabilities("neovim"),
            workspace_folders=[lsp.WorkspaceFolder(uri=example.as_uri(), name="ml-service")],
        )
    )
    yield
    await lsp_client.shutdown_session()


# -- helpers: what an editor does ------------------------------------------------------------


class Editor:
    """Open buffers and their versions, as a client keeps them."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client, self.root = client, root
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}

    def uri(self, name: str) -> str:
        return (self.root / name).as_uri()

    def open(self, name: str) -> str:
        uri = self.uri(name)
        text = (self.root / name).read_text(encoding="utf-8")
        self.texts[uri], self.versions[uri] = text, 1
        language = "dockerfile" if name.startswith("Dockerfile") else "plaintext"
        self.client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri=uri, language_id=language, version=1, text=text))
        )
        return uri

    def type(self, name: str, text: str) -> str:
        """Replace the whole (unsaved) buffer, as one keystroke's change."""
        uri = self.uri(name)
        if uri not in self.texts:
            self.open(name)
        self.versions[uri] += 1
        self.texts[uri] = text
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                lsp.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                [lsp.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        return uri

    def apply(self, edit: lsp.WorkspaceEdit) -> None:
        """Apply a workspace edit as an editor does: open buffers change (and the server is
        told), other files are written on disk (and the server is told they changed)."""
        events = []
        for change in edit.document_changes or ():
            if isinstance(change, lsp.CreateFile):
                path = Path(change.uri.removeprefix("file://"))
                if not path.exists():
                    path.write_text("", encoding="utf-8")
                    events.append(lsp.FileEvent(change.uri, lsp.FileChangeType.Created))
                continue
            uri = change.text_document.uri
            if uri in self.texts:
                assert change.text_document.version == self.versions[uri]
                self.type_at(uri, apply_text_edits(self.texts[uri], change.edits))
            else:
                path = Path(uri.removeprefix("file://"))
                path.write_text(apply_text_edits(path.read_text(encoding="utf-8"), change.edits), encoding="utf-8")
                if not any(event.uri == uri for event in events):
                    events.append(lsp.FileEvent(uri, lsp.FileChangeType.Changed))
        if events:
            self.client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(events))

    def type_at(self, uri: str, text: str) -> None:
        name = Path(uri.removeprefix("file://")).relative_to(self.root).as_posix()
        self.type(name, text)


def apply_text_edits(text: str, edits) -> str:
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)

    def offset(position: lsp.Position) -> int:
        if position.line >= len(lines):
            return len(text)
        return offsets[position.line] + position.character  # ASCII files: UTF-16 units are characters

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


async def diagnostics(client: LanguageClient, uri: str, until, timeout: float = TIMEOUT) -> list[lsp.Diagnostic]:
    """The file's diagnostics once ``until(codes)`` holds (codes: [(code, 1-based line)])."""

    def codes():
        return sorted((d.code, d.range.start.line + 1) for d in client.diagnostics.get(uri, ()))

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while uri not in client.diagnostics or not until(codes()):
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f"diagnostics of {uri} never matched; last: {codes()}")
        try:
            await asyncio.wait_for(client.wait_for_notification(PUBLISH), remaining)
        except asyncio.TimeoutError:
            pass
    return list(client.diagnostics[uri])


async def first_lint(client: LanguageClient, timeout: float = TIMEOUT) -> None:
    """Until the server has linted the whole workspace once (it logs each lint)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not any("linted everything" in item.message for item in client.log_messages):
        assert loop.time() < deadline, "the first lint never ended"
        await asyncio.sleep(0.02)


def has(code: str, line: int | None = None):
    return lambda codes: any(c == code and (line is None or n == line) for c, n in codes)


def lacks(code: str):
    return lambda codes: all(c != code for c, _ in codes)


async def actions_at(client: LanguageClient, uri: str, diagnostic: lsp.Diagnostic, only=None) -> list[lsp.CodeAction]:
    return await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri),
            range=diagnostic.range,
            context=lsp.CodeActionContext(diagnostics=[diagnostic], only=only),
        )
    )


def dockerfile_with(*extra: str) -> str:
    lines = textwrap.dedent(SERVICE["Dockerfile"]).splitlines(keepends=True)
    return "".join(lines[:2] + list(extra) + lines[2:])


# -- the tests --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_open_shows_the_findings_of_the_repository(client: LanguageClient, service: Path):
    (service / "Dockerfile").write_text(dockerfile_with(APT), encoding="utf-8")
    editor = Editor(client, service)
    uri = editor.open("Dockerfile")
    found = await diagnostics(client, uri, has("DL3009", 3))
    finding = next(d for d in found if d.code == "DL3009")
    assert finding.source == "dockerlint"
    assert finding.severity == lsp.DiagnosticSeverity.Information  # hadolint level: info
    assert finding.range.start == lsp.Position(2, 4)  # `apt-get update`, 0-based
    assert finding.code_description.href.endswith("/DL3009.md")
    # The import scans went to the project's cache folder, the one the command line uses.
    from dockerlint.model.scan_cache import SCANS_NAME, default_cache_dir

    assert (default_cache_dir(service) / SCANS_NAME).is_file()


@pytest.mark.asyncio
async def test_a_change_is_linted_from_the_unsaved_buffer(client: LanguageClient, service: Path):
    editor = Editor(client, service)
    uri = editor.open("Dockerfile")
    await diagnostics(client, uri, lacks("DL3009"))
    editor.type("Dockerfile", dockerfile_with(APT))
    await diagnostics(client, uri, has("DL3009", 3))
    editor.type("Dockerfile", dockerfile_with(APT.replace("curl", "curl && rm -rf /var/lib/apt/lists/*")))
    await diagnostics(client, uri, lacks("DL3009"))
    assert (service / "Dockerfile").read_text(encoding="utf-8") == textwrap.dedent(SERVICE["Dockerfile"])


@pytest.mark.asyncio
async def test_editing_code_updates_the_requirements_and_the_other_way_round(client: LanguageClient, service: Path):
    editor = Editor(client, service)
    main = editor.open("app/main.py")
    requirements = editor.open("requirements.txt")
    await diagnostics(client, main, lacks("DEP002"))
    # The code imports a package the image does not install: the import line is flagged.
    editor.type("app/main.py", "from fastapi import FastAPI\nimport redis\n\napp = FastAPI()\n")
    await diagnostics(client, main, has("DEP002", 2))
    # Adding it to the (unsaved) requirements clears the Python file's finding...
    editor.type("requirements.txt", "fastapi==0.115.6\nuvicorn==0.32.1\nredis==5.2.1\n")
    await diagnostics(client, main, lacks("DEP002"))
    await diagnostics(client, requirements, lacks("DEP001"))
    # ...and the code no longer importing it flags the requirement as unused.
    editor.type("app/main.py", "from fastapi import FastAPI\n\napp = FastAPI()\n")
    await diagnostics(client, requirements, has("DEP001", 3))
    # The Dockerfile no longer copying the code: the requirement's use is unknown to the image.
    editor.type("Dockerfile", textwrap.dedent(SERVICE["Dockerfile"]).replace("COPY app/ ./app/\n", ""))
    await diagnostics(client, requirements, lacks("DEP001"))


@pytest.mark.asyncio
async def test_files_changed_outside_the_editor(client: LanguageClient, service: Path):
    write_tree(
        service,
        {"app/report.py": "import pandas\n", "requirements.txt": SERVICE["requirements.txt"] + "pandas==2.2.3\n"},
    )
    editor = Editor(client, service)
    requirements = editor.open("requirements.txt")
    await first_lint(client)
    assert await diagnostics(client, requirements, lacks("DEP001")) == []
    (service / "app" / "report.py").unlink()  # a branch switch, say
    event = lsp.FileEvent((service / "app" / "report.py").as_uri(), lsp.FileChangeType.Deleted)
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams([event]))
    await diagnostics(client, requirements, has("DEP001", 3))
    (service / "app" / "jobs.py").write_text("import pandas\n", encoding="utf-8")
    event = lsp.FileEvent((service / "app" / "jobs.py").as_uri(), lsp.FileChangeType.Created)
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams([event]))
    await diagnostics(client, requirements, lacks("DEP001"))


@pytest.mark.asyncio
async def test_a_file_no_image_reads_is_checked_alone(client: LanguageClient, service: Path):
    (service / "requirements-dev.txt").write_text("pytest==8.3.4\n", encoding="utf-8")
    editor = Editor(client, service)
    uri = editor.open("requirements-dev.txt")
    editor.type("requirements-dev.txt", "pytest==8.3.4\n-r missing.txt\n")
    found = await diagnostics(client, uri, lambda codes: len(codes) > 0)
    assert [d.range.start.line for d in found] == [1]
    editor.type("requirements-dev.txt", "pytest==8.3.4\n")
    assert await diagnostics(client, uri, lambda codes: codes == []) == []


@pytest.mark.asyncio
async def test_a_fix_applied_clears_the_finding(client: LanguageClient, service: Path):
    # CTX002: `COPY app/` sends a virtualenv made in it; the fix adds it to the ignore file (open, unsaved).
    write_tree(service, {"app/.venv/pyvenv.cfg": "home = /usr/bin\n", "app/.venv/lib/site.py": "x = 1\n"})
    editor = Editor(client, service)
    uri = editor.open(".dockerignore")
    found = await diagnostics(client, uri, has("CTX002", 1))
    actions = await actions_at(client, uri, next(d for d in found if d.code == "CTX002"))
    fixes = [action for action in actions if action.title.startswith("Fix CTX002")]
    assert [fix.title for fix in fixes] == ["Fix CTX002: Add `**/.venv` to .dockerignore"]
    assert fixes[0].is_preferred and fixes[0].kind == lsp.CodeActionKind.QuickFix
    fix_all = await actions_at(client, uri, next(d for d in found if d.code == "CTX002"), only=["source.fixAll"])
    assert [action.kind for action in fix_all] == ["source.fixAll.dockerlint"]
    assert fix_all[0].edit == fixes[0].edit  # the one fix there is
    editor.apply(fixes[0].edit)
    assert editor.texts[uri] == ".git\n**/.venv\n"
    await diagnostics(client, uri, lacks("CTX002"))


@pytest.mark.asyncio
async def test_a_fix_that_creates_the_ignore_file(client: LanguageClient, service: Path):
    # CTX001: `COPY .` with no ignore file; the fix writes a new .dockerignore.
    (service / ".dockerignore").unlink()
    write_tree(service, {".git/HEAD": "ref: refs/heads/main\n"})
    (service / "Dockerfile").write_text(dockerfile_with("COPY . /src\n"), encoding="utf-8")
    editor = Editor(client, service)
    uri = editor.open("Dockerfile")
    found = await diagnostics(client, uri, has("CTX001", 3))
    actions = await actions_at(client, uri, next(d for d in found if d.code == "CTX001"))
    fix = next(action for action in actions if action.title.startswith("Fix CTX001"))
    assert isinstance(fix.edit.document_changes[0], lsp.CreateFile)
    editor.apply(fix.edit)
    assert ".git" in (service / ".dockerignore").read_text(encoding="utf-8").splitlines()
    await diagnostics(client, uri, lacks("CTX001"))


@pytest.mark.asyncio
async def test_ignore_actions_write_the_comments_the_engine_reads(client: LanguageClient, service: Path):
    editor = Editor(client, service)
    dockerfile = editor.open("Dockerfile")
    main = editor.open("app/main.py")
    editor.type(
        "Dockerfile", dockerfile_with(APT, "RUN apt-get update && apt-get install -y --no-install-recommends git\n")
    )
    found = await diagnostics(client, dockerfile, lambda codes: [c for c in codes if c[0] == "DL3009"] == [
        ("DL3009", 3), ("DL3009", 4)])  # fmt: skip
    first, second = (d for d in found if d.code == "DL3009")
    titles = [action.title for action in await actions_at(client, dockerfile, first)]
    assert "Ignore DL3009 on this line" in titles and "Ignore DL3009 in this file" in titles
    line = next(a for a in await actions_at(client, dockerfile, first) if a.title == "Ignore DL3009 on this line")
    editor.apply(line.edit)
    assert editor.texts[dockerfile].splitlines()[2] == "# dockerlint: ignore=DL3009"
    found = await diagnostics(client, dockerfile, lambda codes: [c for c in codes if c[0] == "DL3009"] == [
        ("DL3009", 5)])  # fmt: skip
    second = next(d for d in found if d.code == "DL3009")
    whole = next(a for a in await actions_at(client, dockerfile, second) if a.title == "Ignore DL3009 in this file")
    editor.apply(whole.edit)
    assert editor.texts[dockerfile].splitlines()[0] == "# dockerlint: ignore-file=DL3009"
    await diagnostics(client, dockerfile, lacks("DL3009"))

    # Python: a noqa comment naming the code at the end of the import line.
    editor.type("app/main.py", "from fastapi import FastAPI\nimport redis\n\napp = FastAPI()\n")
    found = await diagnostics(client, main, has("DEP002", 2))
    actions = await actions_at(client, main, next(d for d in found if d.code == "DEP002"))
    assert [a.title for a in actions] == ["Ignore DEP002 on this line"]  # no file-wide comment in Python
    editor.apply(actions[0].edit)
    assert editor.texts[main].splitlines()[1] == "import redis  # " + "noqa: DEP002"
    await diagnostics(client, main, lacks("DEP002"))


@pytest.mark.asyncio
async def test_no_action_on_a_buffer_changed_since_its_lint(client: LanguageClient, service: Path):
    editor = Editor(client, service)
    uri = editor.open("Dockerfile")
    editor.type("Dockerfile", dockerfile_with(APT))
    found = await diagnostics(client, uri, has("DL3009", 3))
    diagnostic = next(d for d in found if d.code == "DL3009")
    assert await actions_at(client, uri, diagnostic)
    editor.type("Dockerfile", dockerfile_with("# moved down\n", APT))  # asked before the new lint ends
    assert not await actions_at(client, uri, diagnostic)
    await diagnostics(client, uri, has("DL3009", 4))


@pytest.mark.asyncio
async def test_hover_shows_the_rule_and_what_it_costs(client: LanguageClient, service: Path):
    editor = Editor(client, service)
    uri = editor.open("Dockerfile")
    editor.type("Dockerfile", dockerfile_with(APT))
    found = await diagnostics(client, uri, has("DL3009", 3))
    diagnostic = next(d for d in found if d.code == "DL3009")
    hover = await client.text_document_hover_async(
        lsp.HoverParams(lsp.TextDocumentIdentifier(uri), diagnostic.range.start)
    )
    text = hover.contents.value
    assert text.startswith("**DL3009**: `apt-get update` leaves the package lists")
    assert "It costs about **45 MB** in the image." in text
    assert "## Why it matters" in text and "## How to fix" in text
    nothing = await client.text_document_hover_async(
        lsp.HoverParams(lsp.TextDocumentIdentifier(uri), lsp.Position(1, 0))  # WORKDIR: no finding, no size
    )
    assert nothing is None


@pytest.mark.asyncio
async def test_hover_on_from_shows_the_estimated_size_and_biggest_parts(client: LanguageClient, service: Path):
    editor = Editor(client, service)
    uri = editor.open("Dockerfile")
    editor.type("requirements.txt", "fastapi==0.115.6\nuvicorn==0.32.1\ntorch==2.5.1\n")
    editor.type("app/main.py", "import torch\nfrom fastapi import FastAPI\n\napp = FastAPI()\n")
    await diagnostics(client, uri, has("GPU001"))
    hover = await client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(uri), lsp.Position(0, 3)))
    text = hover.contents.value
    # The unsaved buffers count: CUDA torch, which GPU001's fix (CPU torch) takes out again.
    assert text.startswith(
        "**Estimated image size: ~5.5 GB** (4.9 GB–6.1 GB); after the fixes dockerlint suggests: ~1 GB."
    )
    biggest = text.split("Biggest parts:\n", 1)[1].splitlines()
    assert biggest[0] == "- nvidia-* CUDA libraries (for torch): 2.9 GB (`requirements.txt:3`)"
    assert biggest[1].startswith("- torch 2.5.1 (CUDA build): 1.8 GB")
    assert "`dockerlint size`" in text


@pytest.mark.asyncio
async def test_a_changed_configuration_lints_everything_again(client: LanguageClient, service: Path):
    (service / "Dockerfile").write_text(dockerfile_with(APT), encoding="utf-8")
    editor = Editor(client, service)
    uri = editor.open("Dockerfile")
    await diagnostics(client, uri, has("DL3009", 3))
    # The server asked the editor to report changes to the files it reads, the configuration among them.
    watched = [r for r in getattr(client, "registrations", []) if r.method == lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    assert len(watched) == 1 and "toml" in watched[0].register_options["watchers"][0]["globPattern"]
    config = service / "pyproject.toml"
    config.write_text('[project]\nname = "service"\n\n[tool.dockerlint]\nignore = ["DL3009"]\n', encoding="utf-8")
    client.workspace_did_change_watched_files(
        lsp.DidChangeWatchedFilesParams([lsp.FileEvent(config.as_uri(), lsp.FileChangeType.Created)])
    )
    await diagnostics(client, uri, lacks("DL3009"))
    # Saved from the editor: didSave is enough.
    config.write_text('[tool.dockerlint]\nignore = []\nseverity = { DL3009 = "error" }\n', encoding="utf-8")
    client.text_document_did_save(lsp.DidSaveTextDocumentParams(lsp.TextDocumentIdentifier(config.as_uri())))
    found = await diagnostics(client, uri, has("DL3009", 3))
    assert next(d for d in found if d.code == "DL3009").severity == lsp.DiagnosticSeverity.Error
    # An invalid configuration is said, and the last valid one stays in use.
    config.write_text('[tool.dockerlint]\nignore = ["NOPE1"]\n', encoding="utf-8")
    client.text_document_did_save(lsp.DidSaveTextDocumentParams(lsp.TextDocumentIdentifier(config.as_uri())))
    for _ in range(100):
        if client.messages:
            break
        await asyncio.sleep(0.05)
    assert "NOPE1" in client.messages[-1].message and client.messages[-1].type == lsp.MessageType.Error


@pytest.mark.asyncio
async def test_the_bundled_example_shows_what_the_command_line_reports(example_client: LanguageClient, example: Path):
    from dockerlint.config import find_config, load_config
    from dockerlint.engine import lint
    from dockerlint.rulebook import load_rules

    rules = load_rules()
    expected: dict[str, list] = {}
    for finding in lint([example], load_config(find_config(example), rules, default_root=example), rules).findings:
        expected.setdefault(finding.path.as_uri(), []).append((finding.code, finding.span.line))
    assert len(expected) >= 2  # the Dockerfile and its requirements
    for uri, codes in expected.items():
        await diagnostics(example_client, uri, lambda found, codes=codes: found == sorted(codes))


def test_the_server_without_its_extra_says_how_to_install_it():
    code = "import sys; sys.modules['pygls'] = None; from dockerlint.cli import main; main(['server'])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "pip install 'dockerlint[server]'" in done.stderr


def test_the_command_line_never_imports_the_server_libraries(service: Path):
    code = (
        "import sys; from dockerlint.cli import main\n"
        "try:\n    main([sys.argv[1]])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol', 'dockerlint.server')))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(service)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DOCKERLINT_NO_CACHE": "1"})  # fmt: skip
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_fix_titles_say_when_a_fix_is_unsafe():
    from dockerlint.findings import Applicability, Edit, Finding, Fix
    from dockerlint.server.lsp import fix_title
    from dockerlint.source import Span

    def finding(applicability):
        edit = Edit(Path("requirements.txt"), Span(1, 1, 1, 1), "")
        return Finding(
            "X001", Path("requirements.txt"), Span(1, 1, 1, 2), "m", autofix=Fix(applicability, "Do it", (edit,))
        )

    assert fix_title(finding(Applicability.SAFE)) == "Fix X001: Do it"
    assert fix_title(finding(Applicability.UNSAFE)) == "Fix (unsafe: review the change) X001: Do it"
