"""``dockerlint size --budget-diff REF``: the same images estimated as they are at a git
ref, and how much each one grew since.

The files at REF come from ``git archive REF`` unpacked into a temporary folder: the work
tree, the index and the checked-out branch are never touched. Images are matched by their
Dockerfile's path in the repository and their target; an image that is new since REF
grew from nothing, one that is gone is not shown.
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import tempfile
from pathlib import Path

from msgspec.structs import replace

from dockerlint.config import Config, ConfigError
from dockerlint.findings import human_size


def budget_diff(ref: str, paths: list[Path], config: Config, rules, sizes: list, output_format: str, text: str) -> str:
    """``text`` (the report of the current images) with the growth since ``ref`` added."""
    top = _git_top(paths[0])
    before = _sizes_at(ref, top, paths, config, rules)
    rows = []
    for size in sizes:
        key = (_in_repo(size.dockerfile, top), size.target)
        old = before.get(key)
        rows.append((key[0], size.target, old, size.estimated))
    if output_format == "json":
        document = json.loads(text)
        document["budget_diff"] = {
            "ref": ref,
            "images": [
                {
                    "dockerfile": dockerfile,
                    "target": target,
                    "ref_bytes": old,
                    "bytes": now,
                    "growth_bytes": now - (old or 0),
                }
                for dockerfile, target, old, now in rows
            ],
        }
        return json.dumps(document, indent=2, sort_keys=False) + "\n"
    if output_format == "markdown":
        lines = ["", f"#### Growth since `{ref}`", "", "| Image | At ref | Now | Growth |"]
        lines.append("| --- | ---: | ---: | ---: |")
        for dockerfile, target, old, now in rows:
            name = dockerfile + (f" (target {target})" if target else "")
            lines.append(f"| `{name}` | {_shown(old)} | ~{human_size(now)} | {_growth(old, now)} |")
        return text + "\n".join(lines) + "\n"
    lines = ["", f"growth since {ref}:"]
    width = max((len(dockerfile) for dockerfile, *_ in rows), default=10)
    for dockerfile, target, old, now in rows:
        name = dockerfile + (f" (target {target})" if target else "")
        lines.append(f"  {name:<{width}}  {_shown(old):>9} → ~{human_size(now):<8} {_growth(old, now)}")
    return text + "\n".join(lines) + "\n"


def _shown(size: int | None) -> str:
    return "new" if size is None else f"~{human_size(size)}"


def _growth(old: int | None, now: int) -> str:
    change = now - (old or 0)
    if change == 0:
        return "±0"
    sign = "+" if change > 0 else "−"
    return f"{sign}{human_size(abs(change))}"


def _git_top(path: Path) -> Path:
    folder = path if os.path.isdir(path) else path.absolute().parent
    try:
        done = subprocess.run(
            ["git", "-C", os.fspath(folder), "rev-parse", "--show-toplevel"], capture_output=True, text=True
        )
    except OSError as error:
        raise ConfigError(f"--budget-diff: cannot run git: {error}") from None
    if done.returncode != 0:
        raise ConfigError(f"--budget-diff: {folder} is not inside a git repository")
    return Path(done.stdout.strip()).resolve()


def _in_repo(path: Path, top: Path) -> str:
    try:
        return Path(os.path.realpath(path)).relative_to(top).as_posix()
    except ValueError:
        return path.as_posix()


def _sizes_at(ref: str, top: Path, paths: list[Path], config: Config, rules) -> dict[tuple[str, str | None], int]:
    """(Dockerfile path in the repository, target) -> the estimate at ``ref``."""
    from dockerlint.engine import lint
    from dockerlint.model.size import bill_of_bytes

    with tempfile.TemporaryDirectory(prefix="dockerlint-ref-") as folder:
        tree = Path(folder) / "tree"
        tree.mkdir()
        _unpack(ref, top, tree)
        moved = [tree / _in_repo(path.absolute(), top) for path in paths]
        moved = [path for path in moved if os.path.lexists(path)]
        if not moved:
            return {}
        relocated = replace(config, root=tree / _in_repo(config.root, top), path=None)
        result = lint(moved, relocated, rules, cache_dir=None)
        found = {}
        for image in result.images:
            bill = bill_of_bytes(image)
            if bill is not None:
                found[(_in_repo(image.dockerfile_path, tree.resolve()), image.target)] = bill.estimate
        return found


def _unpack(ref: str, top: Path, tree: Path) -> None:
    """The files of ``ref`` under ``tree``, from ``git archive`` (no checkout)."""
    if ref.startswith("-"):
        raise ConfigError(f"--budget-diff: `{ref}` is not a git reference")
    archive = tree.parent / "ref.tar"
    with open(archive, "wb") as handle:
        done = subprocess.run(
            ["git", "-C", os.fspath(top), "archive", "--format=tar", ref, "--"], stdout=handle, stderr=subprocess.PIPE
        )
    try:
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ConfigError(f"--budget-diff: git archive {ref}: {message[-1] if message else 'failed'}")
        with tarfile.open(archive) as bundle:
            if hasattr(tarfile, "data_filter"):
                bundle.extractall(tree, filter="data")
            else:  # pragma: no cover - Python without extraction filters
                for member in bundle.getmembers():
                    target = (tree / member.name).resolve()
                    if not str(target).startswith(str(tree.resolve())) or member.issym() or member.islnk():
                        continue
                    bundle.extract(member, tree)
    finally:
        archive.unlink(missing_ok=True)
