"""The bill of bytes: each part of an image with its figure and source, unknown parts
kept apart, savings computed on the model without double counting, the size budget
(IMG006) and the `dockerlint size` command."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from dockerlint.cli import main
from dockerlint.knowledge import load
from dockerlint.model.distributions import lookup
from dockerlint.model.size import bill_of_bytes, compute_savings, python_closure
from dockerlint.model.size.figures import debian_bytes, debian_members, debian_present
from tests.conftest import run_lint, write_tree

SLIM = 150_000_000  # base_images.toml: python:*-slim
FULL = 1_000_000_000  # base_images.toml: python:3.X
TORCH = load("ml")["torch"]["builds"]["2.5"]


def image_of(root: Path, **config):
    result = run_lint(root, **config)
    assert result.images, "no image"
    return result, result.images[0]


def indexed(name: str, version: str | None = None, compiled: bool = True) -> int:
    """The package index's installed size of a distribution (its newest wheel), with the
    .pyc files pip writes unless ``compiled`` is false."""
    return lookup(name, version).installed_bytes(compiled)


def bill_for(root: Path, **config):
    return bill_of_bytes(image_of(root, **config)[1])


def parts(bill, kind: str | None = None) -> dict[str, int | None]:
    return {part.what: part.bytes for part in bill.parts if kind is None or part.kind == kind}


def savings_for(root: Path, **config):
    result, image = image_of(root, **config)
    return compute_savings(image, result.findings)


# -- parts -------------------------------------------------------------------------------------


def test_base_image_and_copied_files_measured_after_the_ignore_file(tmp_path):
    root = write_tree(
        tmp_path,
        {
            "Dockerfile": 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "main.py"]\n',
            ".dockerignore": "data/\n",
            "main.py": "print('hi')\n",
            "data/big.csv": "x" * 5000,
        },
    )
    bill = bill_for(root)
    assert parts(bill, "base") == {"base image python:3.12-slim": SLIM}
    copied = parts(bill, "copy")["COPY . → /app"]
    assert copied == sum(os.path.getsize(root / name) for name in ("Dockerfile", ".dockerignore", "main.py"))
    assert bill.totals()[0] == SLIM + copied
    base = next(part for part in bill.parts if part.kind == "base")
    assert base.source.startswith("base_images.toml") and base.figure.low < SLIM < base.figure.high


def test_an_unknown_base_and_unknown_packages_are_unknown_never_zero(tmp_path):
    root = write_tree(
        tmp_path,
        {
            "Dockerfile": "FROM registry.example.com/team/base:1\nRUN pip install --no-cache-dir acme-internal==1.0\n",
        },
    )
    bill = bill_for(root)
    assert parts(bill) == {"base image registry.example.com/team/base:1": None, "acme-internal 1.0": None}
    estimate, low, high, unknown = bill.totals()
    assert (estimate, low, high, unknown) == (0, 0, 0, 2)


def test_apt_packages_cost_their_closure_minus_what_the_base_holds(tmp_path):
    slim = write_tree(
        tmp_path / "slim",
        {
            "Dockerfile": "FROM python:3.11-slim\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends build-essential curl \\\n"
            "    && rm -rf /var/lib/apt/lists/*\n"
        },
    )
    system = parts(bill_for(slim), "system")
    closure = set(debian_members("build-essential", False))
    assert system["apt build-essential"] == debian_bytes(closure)
    # curl's own closure, less what build-essential already brought in the same RUN
    assert system["apt curl"] == debian_bytes(set(debian_members("curl", False)) - closure)
    assert "apt package lists" not in parts(bill_for(slim))  # removed in the same RUN
    full = write_tree(
        tmp_path / "full",
        {"Dockerfile": "FROM python:3.11\nRUN apt-get update && apt-get install -y --no-install-recommends gcc\n"},
    )
    bill = bill_for(full)
    assert parts(bill, "system") == {"apt gcc (already in the base image)": 0}
    assert parts(bill, "cache") == {"apt package lists": load("caches")["apt"]["lists_size"]}


def test_recommends_are_counted_when_apt_installs_them(tmp_path):
    root = write_tree(tmp_path, {"Dockerfile": "FROM python:3.11-slim\nRUN apt-get install -y gcc\n"})
    assert parts(bill_for(root), "system") == {"apt gcc with its recommends": debian_bytes(debian_members("gcc", True))}


def test_cuda_torch_is_split_into_torch_its_nvidia_libraries_and_triton(tmp_path):
    root = write_tree(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nCOPY requirements.txt .\n"
            "RUN pip install --no-cache-dir -r requirements.txt\n",
            "requirements.txt": "torch==2.5.1\n",
        },
    )
    python = parts(bill_for(root), "python")
    assert python["torch 2.5.1 (CUDA build)"] == TORCH["torch"]
    assert python["nvidia-* CUDA libraries (for torch)"] == TORCH["nvidia"]
    assert python["triton (for torch)"] == TORCH["triton"]
    cpu = write_tree(
        tmp_path / "cpu",
        {
            "Dockerfile": "FROM python:3.11-slim\n"
            "RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.5.1+cpu\n",
        },
    )
    python = parts(bill_for(cpu), "python")
    assert python["torch 2.5.1"] == load("ml")["torch"]["cpu_installed_size"]
    assert not any("nvidia" in what or "triton" in what for what in python)


def test_dependencies_come_with_the_package_that_needs_them(tmp_path):
    root = write_tree(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nRUN pip install --no-cache-dir scikit-learn==1.5.2\n",
        },
    )
    python = parts(bill_for(root), "python")
    assert python["scikit-learn 1.5.2"] == indexed("scikit-learn", "1.5.2")
    assert python["scipy (for scikit-learn)"] == indexed("scipy")
    assert python["numpy (for scikit-learn)"] == indexed("numpy")
    assert python["joblib (for scikit-learn)"] == indexed("joblib")
    assert python["threadpoolctl (for scikit-learn)"] == indexed("threadpoolctl")
    assert "narwhals (for scikit-learn)" not in python  # required from 1.9 on, not by 1.5.2
    assert None not in python.values()


@pytest.mark.parametrize(
    "install, compiled",
    [
        ("pip install --no-cache-dir flask==3.1.0", True),
        ("pip install --no-cache-dir --no-compile flask==3.1.0", False),
        ("uv pip install --system --no-cache flask==3.1.0", False),  # uv compiles only when asked
        ("uv pip install --system --no-cache --compile-bytecode flask==3.1.0", True),
        ("UV_COMPILE_BYTECODE=1 uv pip install --system --no-cache flask==3.1.0", True),
    ],
)
def test_the_bytecode_an_installer_writes_is_counted(tmp_path, install, compiled):
    root = write_tree(tmp_path, {"Dockerfile": f"FROM python:3.11-slim\nRUN {install}\n"})
    python = parts(bill_for(root), "python")
    assert python["flask 3.1.0"] == indexed("flask", "3.1.0", compiled)
    assert python["jinja2 (for flask)"] == indexed("jinja2", compiled=compiled)
    assert lookup("jinja2").py_bytes > 100_000  # pure Python: its .pyc weigh more than the source


def test_the_pip_cache_is_counted_only_where_it_stays(tmp_path):
    kept = write_tree(tmp_path / "kept", {"Dockerfile": "FROM python:3.11-slim\nRUN pip install numpy==2.1.0\n"})
    cache = parts(bill_for(kept), "cache")
    assert cache == {"pip download cache": int(indexed("numpy", "2.1.0") * load("sizes")["caches"]["download_ratio"])}
    for dockerfile in (
        "FROM python:3.11-slim\nRUN pip install --no-cache-dir numpy==2.1.0\n",
        "FROM python:3.11-slim\nENV PIP_NO_CACHE_DIR=1\nRUN pip install numpy==2.1.0\n",
        "FROM python:3.11-slim\nRUN --mount=type=cache,target=/root/.cache/pip pip install numpy==2.1.0\n",
        "FROM python:3.11-slim\nRUN pip install numpy==2.1.0 && pip cache purge\n",
    ):
        root = write_tree(tmp_path / str(abs(hash(dockerfile))), {"Dockerfile": dockerfile})
        assert parts(bill_for(root), "cache") == {}, dockerfile


def test_the_cache_counts_only_what_the_commands_that_keep_it_downloaded(tmp_path):
    """One RUN, two installs: the large one without a cache, gunicorn with one."""
    run = "pip install --no-cache-dir numpy==2.1.0 && pip install gunicorn==23.0.0"
    root = write_tree(tmp_path, {"Dockerfile": f"FROM python:3.11-slim\nRUN {run}\n"})
    ratio = load("sizes")["caches"]["download_ratio"]
    downloaded = indexed("gunicorn", "23.0.0") * ratio + indexed("packaging") * ratio  # gunicorn needs packaging
    assert parts(bill_for(root), "cache") == {"pip download cache": int(downloaded)}


def test_uv_keeps_its_cache_linked_to_what_it_installs_unless_told_to_copy(tmp_path):
    """uv hard-links the wheels it unpacked into its cache: in one layer the cache adds a
    tenth of the installed bytes, not pip's compressed downloads; copying doubles them."""
    ratios = load("sizes")["caches"]
    installed = indexed("numpy", "2.1.0", compiled=False)
    for name, run, ratio in (
        ("linked", "uv pip install --system numpy==2.1.0", ratios["uv_linked_ratio"]),
        ("copied", "uv pip install --system --link-mode=copy numpy==2.1.0", ratios["uv_copied_ratio"]),
        ("copied-env", "UV_LINK_MODE=copy uv pip install --system numpy==2.1.0", ratios["uv_copied_ratio"]),
    ):
        root = write_tree(tmp_path / name, {"Dockerfile": f"FROM python:3.11-slim\nRUN {run}\n"})
        assert parts(bill_for(root), "cache") == {"uv cache": int(installed * ratio)}, run
    assert ratios["uv_linked_ratio"] * 2 < ratios["download_ratio"] < ratios["uv_copied_ratio"]


def test_a_copy_of_the_bill_prices_the_caches_as_the_bill_does(tmp_path):
    """Savings are computed on copies of the bill: a copy that forgot uv's (or Poetry's)
    cache would price it as pip's, and the savings would start from another total."""
    for name, run in (
        ("uv", "uv pip install --system numpy==2.1.0"),
        ("poetry", "pip install --no-cache-dir poetry==1.8.3 && poetry install --no-root"),
    ):
        files = {"Dockerfile": f"FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\n"}
        if name == "poetry":
            files["pyproject.toml"] = '[tool.poetry]\nname = "app"\n\n[tool.poetry.dependencies]\nnumpy = "2.1.0"\n'
        bill = bill_for(write_tree(tmp_path / name, files))
        assert parts(bill, "cache"), run
        copy = bill.copy()
        assert parts(copy, "cache") == parts(bill, "cache") and copy.estimate == bill.estimate, run


def test_a_builder_stage_counts_only_what_the_final_stage_copies(tmp_path):
    root = write_tree(
        tmp_path,
        {
            "Dockerfile": (
                "FROM python:3.11 AS build\n"
                "RUN apt-get update && apt-get install -y --no-install-recommends cmake\n"
                "RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir numpy==2.1.0\n"
                "FROM python:3.11-slim\n"
                "COPY --from=build /opt/venv /opt/venv\n"
            ),
        },
    )
    bill = bill_for(root)
    assert parts(bill, "base") == {"base image python:3.11-slim": SLIM}
    assert parts(bill, "system") == {}  # cmake stays in the builder
    numpy = next(part for part in bill.parts if part.what == "numpy 2.1.0")
    assert numpy.bytes == indexed("numpy", "2.1.0") and numpy.instruction == 5  # counted at the COPY


def test_model_downloads_and_copied_weights(tmp_path):
    root = write_tree(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nRUN pip install --no-cache-dir spacy==3.7.5\n"
            "RUN python -m spacy download en_core_web_md\nCOPY models/ /models/\n",
            "models/encoder.onnx": b"\0" * 3000,
            "models/labels.txt": "a\nb\n",
        },
    )
    bill = bill_for(root)
    assert parts(bill, "model")["model en_core_web_md"] == load("ml")["model_sizes"]["spacy"]["en_core_web_md"]
    assert parts(bill, "model")["weight files in COPY models/ → /models"] == 3000
    assert parts(bill, "copy")["COPY models/ → /models"] == 4


def test_torch_before_1_13_carries_its_cuda_inside_and_before_2_0_needs_no_triton(tmp_path):
    bundled = load("ml")["torch"]["bundled_installed_size"]  # the wheel unpacked, CUDA and all
    for version, expected in (
        ("1.12.0", {"torch 1.12.0 (CUDA build)": bundled}),
        ("1.13.1", {"torch 1.13.1 (CUDA build)", "nvidia-* CUDA libraries (for torch)"}),
    ):
        root = write_tree(
            tmp_path / version, {"Dockerfile": f"FROM python:3.10-slim\nRUN pip install torch=={version}\n"}
        )
        python = {name: size for name, size in parts(bill_for(root), "python").items() if "typing" not in name}
        assert (python if isinstance(expected, dict) else set(python)) == expected, version


def test_a_transformer_spacy_pipeline_brings_cuda_torch(tmp_path):
    root = write_tree(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nRUN pip install --no-cache-dir spacy==3.8.7\n"
            "RUN python -m spacy download en_core_web_trf\n",
        },
    )
    python = parts(bill_for(root), "python")
    assert python["nvidia-* CUDA libraries (for torch)"] is not None
    assert "torch (CUDA build)" in python


def test_files_deleted_by_a_later_layer_stay_and_lay001_saves_them(tmp_path):
    root = write_tree(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nCOPY data.csv /tmp/data.csv\nRUN rm /tmp/data.csv\n",
            "data.csv": b"\1" * 7000,
        },
    )
    result, image = image_of(root)
    bill = bill_of_bytes(image)
    [part] = [part for part in bill.parts if part.kind == "copy"]
    assert part.bytes == 7000 and "deleted on line 3" in part.what
    savings = compute_savings(image, result.findings)
    assert [(s.finding.code, s.bytes) for s in savings.savings] == [("LAY001", 7000)]


# -- savings -----------------------------------------------------------------------------------


def test_savings_add_up_to_the_difference_and_overlaps_count_once(tmp_path):
    """IMG001 and STG001 on one image: the slim base needs build-essential's packages
    (the full image had them), so the two savings together are the difference, once."""
    root = write_tree(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends build-essential \\\n"
            "    && rm -rf /var/lib/apt/lists/*\n"
            'WORKDIR /app\nCOPY app.py .\nCMD ["python", "app.py"]\n',
            "app.py": "print(1)\n",
        },
    )
    savings = savings_for(root)
    by_code = {saving.finding.code: saving.bytes for saving in savings.savings}
    closure = set(debian_members("build-essential", False))
    on_slim = debian_bytes(closure - debian_present(full=False))
    on_full = debian_bytes(closure - debian_present(full=True))  # the meta package itself
    assert 0 < on_full < 100_000 < on_slim
    assert by_code == {"IMG001": FULL - SLIM + on_full - on_slim, "STG001": on_slim}
    assert savings.before.estimate - savings.after.estimate == savings.total == FULL + on_full - SLIM


def test_an_unused_package_of_a_line_that_installs_several_saves_its_own_bytes(tmp_path):
    """`pip install fastapi openpyxl`: DEP001 on openpyxl saves openpyxl (and what only it
    needs), not every package of its line."""
    root = write_tree(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\n"
            "RUN pip install --no-cache-dir fastapi==0.115.6 openpyxl==3.1.5\n"
            'COPY app.py .\nCMD ["python", "app.py"]\n',
            "app.py": "import fastapi\n",
        },
    )
    savings = savings_for(root, select=["DEP001"])
    (saving,) = savings.savings
    only_openpyxl = indexed("openpyxl", "3.1.5") + indexed("et-xmlfile")
    assert saving.finding.code == "DEP001" and saving.bytes == saving.finding.size_bytes == only_openpyxl


def test_cpu_torch_and_double_cuda_on_one_torch_count_once(tmp_path):
    """GPU001 (no GPU: config says so) and GPU004 (a CUDA base too) both point at the
    same torch: what they save together is never more than the image sheds."""
    root = write_tree(
        tmp_path,
        {
            "Dockerfile": "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\nRUN pip install --no-cache-dir torch==2.5.1\n",
        },
    )
    result, image = image_of(root, gpu={"Dockerfile": False})
    codes = {finding.code for finding in result.findings}
    assert {"GPU001", "GPU004"} <= codes
    savings = compute_savings(image, result.findings)
    assert savings.total == savings.before.estimate - savings.after.estimate
    torch_cuda = TORCH["torch"] + TORCH["nvidia"] + TORCH["triton"]
    cpu = load("ml")["torch"]["cpu_installed_size"]
    assert sum(s.bytes for s in savings.savings if s.finding.code in ("GPU001", "GPU004")) <= (
        savings.before.estimate - cpu
    )
    assert savings.before.estimate - savings.after.estimate >= torch_cuda - cpu


def test_unused_package_takes_the_dependencies_only_it_needed(tmp_path):
    root = write_tree(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
            'RUN pip install --no-cache-dir -r requirements.txt\nCOPY app.py .\nCMD ["python", "app.py"]\n',
            "requirements.txt": "scikit-learn==1.5.2\nscipy==1.14.1\nnumpy==2.1.0\n",
            "app.py": "import numpy\nimport scipy\n",
        },
    )
    savings = savings_for(root)
    dep001 = [s for s in savings.savings if s.finding.code == "DEP001"]
    # scipy and numpy stay; scikit-learn goes with joblib and threadpoolctl (and what they need)
    only = set(python_closure([("scikit-learn", (), "1.5.2")])) - set(python_closure([("scipy", ()), ("numpy", ())]))
    assert {"scikit-learn", "joblib", "threadpoolctl"} <= only and not {"scipy", "numpy"} & only
    expected = sum(indexed(name, "1.5.2" if name == "scikit-learn" else None) for name in only)
    assert [(s.finding.span.line, s.bytes) for s in dep001] == [(1, expected)]


def test_the_example_service_sheds_most_of_its_size():
    root = Path(__file__).resolve().parent.parent / "examples" / "ml-service"
    savings = savings_for(root)
    codes = [saving.finding.code for saving in savings.savings]
    assert codes[:2] == ["IMG001", "GPU001"]  # the base first, then torch's build
    assert savings.total == savings.before.estimate - savings.after.estimate
    assert savings.after.estimate < savings.before.estimate / 5


# -- the budget (IMG006) -----------------------------------------------------------------------


BUDGET_SERVICE = {
    "Dockerfile": "FROM python:3.11\nWORKDIR /app\nCOPY requirements.txt .\n"
    'RUN pip install --no-cache-dir -r requirements.txt\nCOPY app.py .\nCMD ["python", "app.py"]\n',
    "requirements.txt": "torch==2.5.1\n",
    "app.py": "import torch\n",
}


def test_an_image_over_its_budget_gets_a_finding_naming_the_estimate_and_biggest_parts(tmp_path):
    root = write_tree(tmp_path, BUDGET_SERVICE)
    result = run_lint(root, select=["IMG006"], budget={"Dockerfile": "2 GB"})
    [finding] = result.findings
    assert (finding.code, finding.span.line) == ("IMG006", 1)
    assert "over its budget of 2 GB" in finding.message
    assert "nvidia-* CUDA libraries (for torch) (~2.9 GB)" in finding.message
    assert "torch 2.5.1 (CUDA build) (~1.8 GB)" in finding.message
    assert "base image python:3.11 (~1 GB)" in finding.message
    assert run_lint(root, select=["IMG006"], budget={"Dockerfile": "8 GB"}).findings == []
    assert run_lint(root, select=["IMG006"], budget={"other/Dockerfile": "1 GB"}).findings == []


def test_the_budget_fails_ci(tmp_path):
    root = write_tree(tmp_path, {**BUDGET_SERVICE, ".dockerlint.toml": '[budget]\n"Dockerfile" = "2 GB"\n'})
    (root / ".git").mkdir()
    result = CliRunner().invoke(main, [str(root), "--select", "IMG006", "--no-cache"])
    assert result.exit_code == 1, result.output
    assert "[IMG006]" in result.output
    (root / ".dockerlint.toml").write_text('[budget]\n"Dockerfile" = "10 GB"\n', encoding="utf-8")
    assert CliRunner().invoke(main, [str(root), "--select", "IMG006", "--no-cache"]).exit_code == 0


@pytest.mark.parametrize("value", ["two gigs", -5, True, "2 XB"])
def test_an_invalid_budget_is_a_configuration_error(tmp_path, value):
    root = write_tree(tmp_path, {**BUDGET_SERVICE})
    (root / ".dockerlint.toml").write_text(f'[budget]\n"Dockerfile" = {json.dumps(value)}\n', encoding="utf-8")
    result = CliRunner().invoke(main, [str(root), "--no-cache"])
    assert result.exit_code == 2
    assert "`budget.Dockerfile`" in result.stderr


# -- dockerlint size ------------------------------------------------------------------------------


def size(*args, cwd: Path):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, ["size", *args])
    finally:
        os.chdir(old)


def test_size_text_reads_at_a_glance(tmp_path):
    root = write_tree(tmp_path, BUDGET_SERVICE)
    result = size(".", cwd=root)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Dockerfile  (context .)"
    assert lines[1].startswith("  estimated ~6.3 GB  (range ")
    assert "by instruction" in result.output and "biggest parts" in result.output
    assert "█" in result.output
    assert "GPU001" in result.output and "IMG001" in result.output
    assert "requirements.txt:1" in result.output


def test_size_json_has_exactly_the_documented_schema(tmp_path):
    root = write_tree(tmp_path, BUDGET_SERVICE)
    data = json.loads(size(".", "-f", "json", cwd=root).output)
    assert set(data) == {"version", "images"}
    [image] = data["images"]
    assert set(image) == {
        "dockerfile", "context", "target", "estimated_bytes", "low_bytes", "high_bytes", "after_fixes_bytes",
        "parts", "savings",
    }  # fmt: skip
    assert (image["dockerfile"], image["context"], image["target"]) == ("Dockerfile", ".", None)
    assert all(set(part) == {"kind", "what", "path", "line", "bytes", "source"} for part in image["parts"])
    assert all(set(row) == {"code", "path", "line", "bytes"} for row in image["savings"])
    assert image["estimated_bytes"] == sum(part["bytes"] or 0 for part in image["parts"])
    assert image["after_fixes_bytes"] == image["estimated_bytes"] - sum(row["bytes"] for row in image["savings"])
    assert {"kind": "base", "what": "base image python:3.11", "path": "Dockerfile", "line": 1} == {
        key: value for key, value in image["parts"][0].items() if key in ("kind", "what", "path", "line")
    }


def test_size_markdown_is_a_table_of_images_then_the_top_savings(tmp_path):
    root = write_tree(tmp_path, BUDGET_SERVICE)
    text = size(".", "-f", "markdown", cwd=root).output
    lines = text.splitlines()
    assert lines[0] == "### Image sizes (dockerlint estimate)"
    assert "| Image | Now | After fixes | Saved |" in lines
    assert "| `Dockerfile` | ~6.3 GB | ~1 GB | −5.3 GB (84 %) |" in lines
    assert "#### Top savings" in lines
    top = lines[lines.index("| Saves | Fix | Where | Image |") + 2]
    assert top == "| 4.5 GB | GPU001 cuda-torch-on-cpu-image | `Dockerfile:4` | `Dockerfile` |"


def test_size_exits_1_when_an_image_is_over_its_budget(tmp_path):
    root = write_tree(tmp_path, {**BUDGET_SERVICE, ".dockerlint.toml": '[budget]\n"Dockerfile" = "2 GB"\n'})
    assert size(".", cwd=root).exit_code == 1


def test_budget_diff_reads_the_ref_with_git_archive_and_leaves_the_work_tree_alone(tmp_path):
    root = write_tree(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nCOPY app.py .\n",
            "app.py": "print(1)\n",
        },
    )

    def git(*args):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=t@example.com", "-c", "user.name=t", "add", ".")
    git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "slim")
    (root / "Dockerfile").write_text("FROM python:3.11\nCOPY app.py .\n", encoding="utf-8")
    status = subprocess.run(["git", "-C", str(root), "status", "--porcelain"], capture_output=True, text=True).stdout
    result = size(".", "--budget-diff", "HEAD", cwd=root)
    assert result.exit_code == 0, result.output
    assert "growth since HEAD:" in result.output
    assert "~150 MB → ~1 GB" in result.output and "+850 MB" in result.output
    data = json.loads(size(".", "-f", "json", "--budget-diff", "HEAD", cwd=root).output)
    assert data["budget_diff"]["images"][0]["growth_bytes"] == FULL - SLIM
    after = subprocess.run(["git", "-C", str(root), "status", "--porcelain"], capture_output=True, text=True).stdout
    assert after == status and (root / "Dockerfile").read_text(encoding="utf-8").startswith("FROM python:3.11\n")
    assert size(".", "--budget-diff", "no-such-ref", cwd=root).exit_code == 2
