"""Measure what the Python packages of real images weigh on disk and compare it with the
bill of bytes' estimate. Not a test: it downloads from PyPI and takes minutes.

For each image the repositories build, the distributions its pip installs ask for are
installed with pip into a temporary folder, as a Linux x86_64 image with the base image's
Python would get them (3.11 when the base does not say):

    pip install --target DIR --platform manylinux2014_x86_64 --only-binary=:all: \\
        --python-version 3.11 --no-cache-dir -r requirements.txt

and the bytes on disk (every file, as ``du -sb`` counts them) are compared with the sum of
the estimate's Python parts; the folder is deleted afterwards. Per distribution, the sizes
in each ``*.dist-info/RECORD`` say which estimates are furthest off.

    python scripts/measure_python_sizes.py PATH...            # a Markdown table per image
    python scripts/measure_python_sizes.py --torch 2.5.1 ...  # rows for ml.toml [torch.builds]

Images whose installs name another index (PyTorch's CPU index, a private one) or a local
path are skipped: only what PyPI serves is measured. Check free disk space first (a CUDA
torch needs ~6 GB while it is measured).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PIP = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-cache-dir"]
PLATFORM = ["--platform", "manylinux2014_x86_64", "--only-binary=:all:", "--python-version", "3.11"]


def folder_bytes(folder: Path) -> int:
    total = 0
    for directory, _, files in os.walk(folder):
        for name in files:
            total += os.lstat(os.path.join(directory, name)).st_size
    return total


def per_distribution(folder: Path) -> dict[str, int]:
    """Distribution name -> bytes on disk of the files its RECORD lists (the compiled
    ``.pyc`` files pip adds to it too, which carry no size in the record)."""
    sizes = {}
    for info in folder.glob("*.dist-info"):
        record = info / "RECORD"
        if not record.is_file():
            continue
        name = info.name[: -len(".dist-info")].rsplit("-", 1)[0].lower().replace("_", "-")
        total = 0
        with record.open(newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                path = os.path.normpath(os.path.join(folder, row[0])) if row else ""
                if path.startswith(str(folder)) and os.path.isfile(path):
                    total += os.lstat(path).st_size
        sizes[name] = total
    return sizes


def install(lines: list[str], folder: Path, python: str = "3.11") -> tuple[bool, str]:
    requirements = folder.parent / "requirements.txt"
    requirements.write_text("\n".join(lines) + "\n", encoding="utf-8")
    platform = [*PLATFORM[:-1], python]
    command = [*PIP, "--target", str(folder), *platform, "-r", str(requirements)]
    done = subprocess.run(command, capture_output=True, text=True)
    message = "" if done.returncode == 0 else (done.stderr.strip().splitlines() or ["pip failed"])[-1]
    return done.returncode == 0, message


def measure_images(paths: list[Path]) -> None:
    from dockerlint.config import load_config
    from dockerlint.engine import lint
    from dockerlint.findings import human_size
    from dockerlint.model.baseimage import base_image
    from dockerlint.model.ml import pip_commands
    from dockerlint.model.queries import final_chain
    from dockerlint.model.size import bill_of_bytes
    from dockerlint.rulebook import load_rules

    rules = load_rules()
    rows = []
    worst: list[tuple[float, str, int, int]] = []
    for path in paths:
        result = lint([path], load_config(None, rules, default_root=path), rules, cache_dir=None)
        for image in result.images:
            name = f"{path.name}/{image.dockerfile_path.relative_to(path).as_posix()}"
            bill = bill_of_bytes(image)
            if bill is None:
                continue
            python = [part for part in bill.parts if part.kind == "python"]
            requests = bill.python.requests
            if not requests:
                continue
            indexes = [i for stage in image.stages for c in pip_commands(image, stage) for i in c.indexes]
            if indexes or any(r.text.startswith((".", "/", "-")) or "://" in r.text for r in requests):
                rows.append((name, len(requests), None, None, None, "skipped: another index or a local path"))
                continue
            lines = sorted({request.text for request in requests})
            facts = base_image(final_chain(image)[-1].base)
            python_version = facts.python if facts is not None and facts.python else "3.11"
            with tempfile.TemporaryDirectory(prefix="dockerlint-measure-") as temporary:
                folder = Path(temporary) / "site"
                ok, message = install(lines, folder, python_version)
                measured = folder_bytes(folder) if ok else None
                distributions = per_distribution(folder) if ok else {}
            estimated = sum(part.bytes or 0 for part in python)
            unknown = sum(1 for part in python if part.bytes is None)
            rows.append((f"{name} (Python {python_version})", len(requests), estimated, unknown, measured, message))
            for part in python:
                dist = part.what.split(" ", 1)[0]
                if part.bytes and dist in distributions and distributions[dist]:
                    ratio = part.bytes / distributions[dist]
                    worst.append((abs(1 - ratio), dist, part.bytes, distributions[dist]))
    print("| Image | Requests | Estimated (known parts) | Unknown parts | On disk (pip --target) | Estimate / disk |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, count, estimated, unknown, measured, message in rows:
        if measured is None:
            print(f"| `{name}` | {count} | {'' if estimated is None else human_size(estimated)} | | {message} | |")
            continue
        ratio = f"{estimated / measured:.2f}" if measured else ""
        print(f"| `{name}` | {count} | {human_size(estimated)} | {unknown} | {human_size(measured)} | {ratio} |")
    if worst:
        print()
        print("| Distribution | Estimated | On disk | Estimate / disk |")
        print("| --- | ---: | ---: | ---: |")
        seen = set()
        for _, dist, estimated, measured in sorted(worst, reverse=True):
            if dist in seen:
                continue
            seen.add(dist)
            print(f"| {dist} | {human_size(estimated)} | {human_size(measured)} | {estimated / measured:.2f} |")
            if len(seen) >= 15:
                break


def measure_torch(versions: list[str]) -> None:
    """Rows for ml.toml [torch.builds]: torch, the nvidia-* libraries (with cusparselt)
    and triton of PyPI's CUDA build, in bytes."""
    for version in versions:
        with tempfile.TemporaryDirectory(prefix="dockerlint-torch-") as temporary:
            folder = Path(temporary) / "site"
            python = "3.10" if version.startswith("2.1.") else "3.11"
            ok, message = install([f"torch=={version}"], folder, python)
            if not ok:
                print(f"# torch {version}: {message}")
                continue
            parts = {}
            for entry in folder.iterdir():
                parts[entry.name] = folder_bytes(entry) if entry.is_dir() else entry.stat().st_size
            nvidia = parts.get("nvidia", 0) + parts.get("cusparselt", 0)
            minor = ".".join(version.split(".")[:2])
            total = folder_bytes(folder)
            print(f'[torch.builds."{minor}"]  # torch {version}, Python {python}, {total:_} bytes in all')
            print(f"torch = {parts.get('torch', 0):_}\nnvidia = {nvidia:_}\ntriton = {parts.get('triton', 0):_}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="repositories whose images to measure")
    parser.add_argument("--torch", nargs="+", metavar="VERSION", help="measure PyPI's CUDA torch builds instead")
    options = parser.parse_args()
    free = shutil.disk_usage(tempfile.gettempdir()).free
    if free < 10_000_000_000:
        print(f"only {free / 1e9:.1f} GB free in {tempfile.gettempdir()}: a CUDA torch needs ~6 GB", file=sys.stderr)
    if options.torch:
        measure_torch(options.torch)
    else:
        measure_images([path.resolve() for path in options.paths])
    return 0


if __name__ == "__main__":
    sys.exit(main())
