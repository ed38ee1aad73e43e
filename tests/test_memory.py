"""What a run over a large repository holds: each thing once. The figures are in
benchmarks/bench.py (--large); these tests pin the behaviour that keeps them down."""

from __future__ import annotations

import json
from pathlib import Path

from dockerlint.engine import bounded_message
from dockerlint.findings import Severity
from dockerlint.knowledge import load_packages
from dockerlint.model.distributions import required_by_some
from dockerlint.rulebook import load_rules
from dockerlint.workspace import AS_TEXT, Workspace
from tests.conftest import run_lint

SERVICE = """\
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["python", "main.py"]
"""


def test_findings_of_many_services_share_one_message_advice_and_span(repo):
    files = {}
    for name in ("billing", "orders", "search"):
        files[f"services/{name}/Dockerfile"] = SERVICE
        files[f"services/{name}/requirements.txt"] = "requests\n"
        files[f"services/{name}/main.py"] = "import requests\n"
    root = repo(files)
    unpinned = [finding for finding in run_lint(root).findings if finding.code == "REQ003"]
    assert len(unpinned) == 3
    first = unpinned[0]
    assert {finding.path.parent.name for finding in unpinned} == {"billing", "orders", "search"}
    for other in unpinned[1:]:
        assert other.message == first.message and other.message is first.message
        assert other.fix is first.fix and other.span is first.span


def test_a_utf8_file_is_held_once_and_its_bytes_are_still_exact(tmp_path: Path):
    plain = tmp_path / "requirements.txt"
    plain.write_bytes("flask==3.0.3  # café\n".encode())
    windows = tmp_path / "Dockerfile"
    windows.write_bytes(b"\xef\xbb\xbfFROM python:3.12-slim\r\nRUN echo hi\r\n")
    broken = tmp_path / "notes.txt"
    broken.write_bytes(b"caf\xe9\n")
    workspace = Workspace(roots=[tmp_path])
    for path in (plain, windows, broken):
        assert workspace.text(path) is not None
        assert workspace.bytes_read(path) == (True, path.read_bytes())
        assert workspace.read_bytes(path) == path.read_bytes()
    assert workspace._bytes[plain] is AS_TEXT  # not a second copy of the text
    assert workspace._bytes[windows] is not AS_TEXT  # BOM and CRLF: the text is not the bytes
    assert workspace._bytes[broken] is not AS_TEXT


def test_requirements_files_are_held_once_too(tmp_path: Path):
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"numpy==2.1.3\n-r base.txt\n")
    (tmp_path / "base.txt").write_bytes(b"pandas==2.2.3\n")
    workspace = Workspace(roots=[tmp_path])
    names = {requirement.name for requirement in workspace.requirements(path).requirements}
    assert names == {"numpy", "pandas"}
    assert workspace._bytes[path] is AS_TEXT and workspace._bytes[tmp_path / "base.txt"] is AS_TEXT
    assert workspace.bytes_read(path) == (True, b"numpy==2.1.3\n-r base.txt\n")


def test_what_some_distribution_requires_is_answered_without_decoding_a_record():
    index = load_packages()
    required_by_some.cache_clear()
    before = len(index._records)
    found = required_by_some()
    assert "urllib3" in found  # requests requires it
    assert "scipy" in found  # scikit-learn requires it
    assert len(index._records) == before


def test_a_short_message_is_kept_as_it_is_and_a_huge_one_is_capped():
    message = "`requests` sets no version (no `==`, `~=` or upper bound), so each build of the image may install a different `requests`"
    assert bounded_message(message) is message
    huge = "the line `" + "x" * 5_000 + "` " + "y" * 5_000
    assert len(bounded_message(huge)) <= 1_000


def test_a_json_report_comes_out_a_finding_and_an_image_at_a_time(repo):
    from dockerlint.report import ImageInfo, Report, render, render_chunks

    files = {}
    for name in ("billing", "orders", "search", "users"):
        files[f"services/{name}/Dockerfile"] = SERVICE
        files[f"services/{name}/requirements.txt"] = "requests\n"
        files[f"services/{name}/main.py"] = "import requests\n"
    root = repo(files)
    result = run_lint(root)
    report = Report(
        findings=tuple(result.findings),
        notes=(),
        rules=load_rules(),
        files_checked=result.files_checked,
        root=root,
        fail_level=Severity.WARNING,
        source_line=result.workspace.source_line,
        images=tuple(ImageInfo.of(image) for image in result.images),
    )
    chunks = list(render_chunks("json", report))
    document = json.loads("".join(chunks))
    assert "".join(chunks) == render("json", report)
    assert len(document["images"]) == 4 and len(document["findings"]) == len(result.findings)
    # No piece holds more than one image: a monorepo's report is never held whole.
    assert len(chunks) >= len(result.findings) + 4
    assert all(chunk.count('"dockerfile"') <= 1 for chunk in chunks)
