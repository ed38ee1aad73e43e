"""How long the language server takes from a keystroke to its diagnostics.

Run by hand, not by pytest (needs the server extra: ``pip install -e '.[server]'``):

    python benchmarks/server_latency.py             # 30 keystrokes per file
    python benchmarks/server_latency.py --quick     # 10

It starts ``dockerlint server`` as an editor does (a subprocess speaking LSP over stdio,
driven by pygls's client), opens a project, waits for the first lint, then types: one
character inserted per ``didChange`` (an incremental change, as editors send), and times
each from sending the change to receiving the ``publishDiagnostics`` of that file for
that document version. Keystrokes are apart by more than the server's pause
(``DEBOUNCE_SECONDS``), so each is linted on its own; a burst of keystrokes 20 ms apart is
timed from its last keystroke. The pause is part of every figure.

Projects: the bundled example (examples/ml-service, copied to a temporary folder) and a
generated repository of 1,000 Python files in one image (benchmarks/bench.py's generator:
the image whose code the DEP rules summarise again at each keystroke in a .py file), and
the same 1,000 files as ten images. Each has its own scan cache, warm after the first lint,
as the server's is after the first minutes; the generated files are an hour old, as the
files of a checkout are (the cache knows a file by its timestamp once it has settled).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

import bench  # noqa: E402
from lsprotocol import types as lsp  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402


class Client(LanguageClient):
    def __init__(self) -> None:
        super().__init__("latency", "1")
        self.published: dict[str, asyncio.Queue] = {}
        self.logs: list[str] = []


async def start(root: Path, cache: Path) -> Client:
    client = Client()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: lsp.PublishDiagnosticsParams) -> None:
        client.published.setdefault(params.uri, asyncio.Queue()).put_nowait((time.perf_counter(), params))

    @client.feature(lsp.WINDOW_LOG_MESSAGE)
    def logged(params: lsp.LogMessageParams) -> None:
        client.logs.append(params.message)

    env = {**os.environ, "DOCKERLINT_CACHE_DIR": str(cache)}
    await client.start_io(sys.executable, "-m", "dockerlint", "server", env=env)
    await client.initialize_async(
        lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(),
            root_uri=root.as_uri(),
            workspace_folders=[lsp.WorkspaceFolder(root.as_uri(), root.name)],
        )
    )
    client.initialized(lsp.InitializedParams())
    started = time.perf_counter()
    while not any("linted everything" in line for line in client.logs):
        await asyncio.sleep(0.01)
    print(f"  first lint of the whole project: {(time.perf_counter() - started) * 1000:.0f} ms")
    return client


async def stop(client: Client) -> None:
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()


async def wait_for(client: Client, uri: str, version: int) -> float:
    queue = client.published.setdefault(uri, asyncio.Queue())
    while True:
        when, params = await asyncio.wait_for(queue.get(), 60)
        if params.version == version:
            return when


async def type_in(client: Client, path: Path, keystrokes: int, burst: int) -> tuple[list[float], list[float]]:
    """Open the file, add a comment line at its end, type into it."""
    uri = path.as_uri()
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    line = len(lines) - 1 if lines[-1] == "" else len(lines)
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri=uri, language_id="plaintext", version=1, text=text))
    )
    version = 1

    def keystroke(column: int, char: str) -> None:
        nonlocal version
        version += 1
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
                [
                    lsp.TextDocumentContentChangePartial(
                        lsp.Range(lsp.Position(line, column), lsp.Position(line, column)), char
                    )
                ],
            )
        )

    keystroke(0, "#\n")  # a new comment line to type into
    await wait_for(client, uri, version)
    line_length = 1
    single = []
    for _ in range(keystrokes):
        await asyncio.sleep(0.1)
        sent = time.perf_counter()
        keystroke(line_length, "x")
        line_length += 1
        single.append((await wait_for(client, uri, version) - sent) * 1000)
    bursts = []
    for _ in range(3):
        await asyncio.sleep(0.2)
        for index in range(burst):
            if index:
                await asyncio.sleep(0.02)
            sent = time.perf_counter()
            keystroke(line_length, "y")
            line_length += 1
        bursts.append((await wait_for(client, uri, version) - sent) * 1000)
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(lsp.TextDocumentIdentifier(uri)))
    return single, bursts


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"median {statistics.median(ordered):.0f} ms, p90 {p90:.0f} ms, max {ordered[-1]:.0f} ms (n={len(ordered)})"


async def measure(name: str, root: Path, files: list[str], keystrokes: int, work: Path) -> None:
    print(f"{name}:")
    client = await start(root, work / f"cache-{root.name}")
    try:
        for relative in files:
            single, bursts = await type_in(client, root / relative, keystrokes, burst=10)
            print(f"  {relative}: keystroke -> diagnostics {summary(single)}; after a burst of 10: {summary(bursts)}")
    finally:
        await stop(client)


def age(root: Path) -> None:
    """Timestamps an hour old: the scan cache knows a file by its timestamp only once it has
    settled (``scan_cache.SETTLED_NS``), as the files of a checkout have."""
    old = time.time() - 3600
    for path in root.rglob("*"):
        os.utime(path, (old, old))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 keystrokes per file instead of 30")
    options = parser.parse_args()
    keystrokes = 10 if options.quick else 30
    work = Path(tempfile.mkdtemp(prefix="dockerlint-latency-"))
    try:
        example = work / "ml-service"
        shutil.copytree(REPO_ROOT / "examples" / "ml-service", example)
        (example / ".git").mkdir()
        one = work / "python-1000"
        bench.generate_import_repository(one, 1_000, 1, bench.SEED)
        (one / ".git").mkdir()
        ten = work / "python-1000-10-images"
        bench.generate_import_repository(ten, 1_000, 10, bench.SEED)
        (ten / ".git").mkdir()
        for tree in (one, ten):  # files of a real checkout were written long before the editor opens them
            age(tree)
        module = sorted(path.relative_to(one).as_posix() for path in one.rglob("module_0007.py"))[0]
        ten_module = sorted(path.relative_to(ten).as_posix() for path in ten.rglob("module_0007.py"))[0]
        example_files = ["Dockerfile", "requirements.txt", "app/main.py"]
        asyncio.run(measure("examples/ml-service", example, example_files, keystrokes, work))
        one_files = ["svc-00/Dockerfile", "svc-00/requirements.txt", module]
        asyncio.run(measure("1,000 Python files, one image", one, one_files, keystrokes, work))
        asyncio.run(measure("1,000 Python files, ten images", ten, [ten_module], keystrokes, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
