"""``dockerlint size``: each image's bill of bytes as a table with bars (``text``), as data
(``json``, the schema in docs/size.md), or as Markdown for a pull-request comment or
``$GITHUB_STEP_SUMMARY`` (``markdown``: images before → after, then the top savings).

Paths are shown relative to the current directory; everything taken from scanned files
passes through ``printable``."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import dockerlint
from dockerlint.findings import human_size
from dockerlint.model.size.summary import ImageSize
from dockerlint.report import _relative, printable

SIZE_FORMATS = ("text", "json", "markdown")
BAR = 24  # characters of a full bar
TOP_PARTS = 8
TOP_SAVINGS = 10


def render_size(fmt: str, sizes: Sequence[ImageSize], root: Path, rules: dict | None = None) -> str:
    if fmt == "json":
        return render_size_json(sizes, root)
    if fmt == "markdown":
        return render_size_markdown(sizes, root, rules or {})
    return render_size_text(sizes, root, rules or {})


def _rel(path: Path, root: Path) -> str:
    return _relative(os.fspath(path), os.fspath(root))


def _approx(size: int) -> str:
    return f"~{human_size(size)}"


def _bar(size: int, total: int, width: int = BAR) -> str:
    if total <= 0 or size <= 0:
        return "░" * width
    filled = round(width * min(size, total) / total)
    return "█" * filled + "░" * (width - filled)


def _percent(size: int, total: int) -> str:
    if total <= 0:
        return ""
    share = 100 * size / total
    return f"{share:3.0f} %" if share >= 1 else "  <1 %"


def _where(path: Path, line: int, size: ImageSize, root: Path) -> str:
    """``requirements.txt:7``: relative to the Dockerfile's folder when inside it."""
    folder = os.fspath(size.dockerfile.parent)
    text = os.fspath(path)
    shown = _relative(text, folder) if text.startswith(folder + os.sep) else _rel(path, root)
    return f"{printable(shown)}:{line}"


def _title(size: ImageSize, root: Path) -> str:
    title = printable(_rel(size.dockerfile, root))
    if size.target:
        title += f" (target {printable(size.target)})"
    return title


def _unknown(count: int) -> str:
    return f"{count} part{'s' if count != 1 else ''} of unknown size"


# -- text ------------------------------------------------------------------------------------------


def render_size_text(sizes: Sequence[ImageSize], root: Path, rules: dict) -> str:
    if not sizes:
        return "No images found.\n"
    blocks = [_text_image(size, root, rules) for size in sizes]
    if len(sizes) > 1:
        blocks.append(_text_overview(sizes, root))
    return "\n\n".join(blocks) + "\n"


def _text_image(size: ImageSize, root: Path, rules: dict) -> str:
    lines = [
        f"{_title(size, root)}  (context {printable(_rel(size.context, root))})",
        f"  estimated {_approx(size.estimated)}  (range {human_size(size.low)}–{human_size(size.high)})"
        + (f"  + {_unknown(size.unknown)}" if size.unknown else ""),
    ]
    if size.savings:
        lines.append(
            f"  after the fixes below {_approx(size.after)}  (saves {_approx(size.saved)}, "
            f"{_share(size.saved, size.estimated)})"
        )
    total = max(size.estimated, 1)
    lines += ["", "  by instruction"]
    width = max((len(str(row.line)) for row in size.instructions), default=4)
    for row in size.instructions:
        text = _cut(printable(row.text), 46)
        shown = human_size(row.bytes) if row.bytes else "unknown" if row.unknown else "0 B"
        extra = f"  + {row.unknown} unknown" if row.unknown and row.bytes else ""
        bar = f"{_bar(row.bytes, total)} {_percent(row.bytes, total)}" if row.bytes else ""
        lines.append(f"  {row.line:>{width}}  {text:<46} {shown:>8}  {bar}{extra}")
    known = sorted((part for part in size.parts if part.bytes), key=lambda part: -part.bytes)[:TOP_PARTS]
    if known:
        lines += ["", "  biggest parts"]
        for part in known:
            where = _where(part.path, part.line, size, root)
            lines.append(
                f"  {_cut(printable(part.what), 44):<44} {_cut(where, 28):<28} {human_size(part.bytes):>8}  "
                f"{_bar(part.bytes, total, 12)}"
            )
    unknown = [part for part in size.parts if part.bytes is None]
    if unknown:
        lines += ["", "  unknown size (not counted)"]
        for part in unknown[:TOP_PARTS]:
            where = _where(part.path, part.line, size, root)
            lines.append(f"  {_cut(printable(part.what), 44):<44} {_cut(where, 28)}")
        if len(unknown) > TOP_PARTS:
            lines.append(f"  … and {len(unknown) - TOP_PARTS} more")
    if size.savings:
        lines += ["", "  what fixing each finding saves (fixes applied one after another: no byte counted twice)"]
        for row in sorted(size.savings, key=lambda row: -row.bytes)[:TOP_SAVINGS]:
            where = _where(row.path, row.line, size, root)
            name = _rule_name(rules, row.code)
            lines.append(
                f"  {row.code:<7} {_cut(name, 30):<30} {_cut(where, 28):<28} −{human_size(row.bytes):>7}  "
                f"{_bar(row.bytes, total, 12)}"
            )
        if len(size.savings) > TOP_SAVINGS:
            rest = sum(row.bytes for row in sorted(size.savings, key=lambda row: -row.bytes)[TOP_SAVINGS:])
            lines.append(f"  … and {len(size.savings) - TOP_SAVINGS} more (−{human_size(rest)})")
    return "\n".join(line.rstrip() for line in lines)


def _text_overview(sizes: Sequence[ImageSize], root: Path) -> str:
    total = sum(size.estimated for size in sizes)
    after = sum(size.after for size in sizes)
    lines = [f"{len(sizes)} images: {_approx(total)}, after fixes {_approx(after)}"]
    width = max(len(_title(size, root)) for size in sizes)
    for size in sizes:
        lines.append(f"  {_title(size, root):<{width}}  {_approx(size.estimated):>9} → {_approx(size.after):>9}")
    return "\n".join(lines)


def _share(part: int, total: int) -> str:
    return f"{100 * part / total:.0f} %" if total else "0 %"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _rule_name(rules: dict, code: str) -> str:
    rule = rules.get(code)
    return rule.name if rule is not None else ""


# -- json ------------------------------------------------------------------------------------------


def render_size_json(sizes: Sequence[ImageSize], root: Path) -> str:
    document = {
        "version": dockerlint.__version__,
        "images": [
            {
                "dockerfile": _rel(size.dockerfile, root),
                "context": _rel(size.context, root),
                "target": size.target,
                "estimated_bytes": size.estimated,
                "low_bytes": size.low,
                "high_bytes": size.high,
                "after_fixes_bytes": size.after,
                "parts": [
                    {
                        "kind": part.kind,
                        "what": part.what,
                        "path": _rel(part.path, root),
                        "line": part.line,
                        "bytes": part.bytes,
                        "source": part.source,
                    }
                    for part in size.parts
                ],
                "savings": [
                    {"code": row.code, "path": _rel(row.path, root), "line": row.line, "bytes": row.bytes}
                    for row in size.savings
                ],
            }
            for size in sizes
        ],
    }
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


# -- markdown ----------------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Text for a Markdown table cell: no pipes, no line breaks, no HTML."""
    return printable(text).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def render_size_markdown(sizes: Sequence[ImageSize], root: Path, rules: dict) -> str:
    lines = ["### Image sizes (dockerlint estimate)", ""]
    if not sizes:
        return "\n".join([*lines, "No images found.", ""])
    lines += ["| Image | Now | After fixes | Saved |", "| --- | ---: | ---: | ---: |"]
    for size in sizes:
        now = _approx(size.estimated) + (f" (+{size.unknown} unknown)" if size.unknown else "")
        saved = f"−{human_size(size.saved)} ({_share(size.saved, size.estimated)})" if size.saved else "—"
        lines.append(f"| `{_md(_title(size, root))}` | {now} | {_approx(size.after)} | {saved} |")
    rows = [(size, row) for size in sizes for row in size.savings]
    rows.sort(key=lambda item: -item[1].bytes)
    if rows:
        lines += ["", "#### Top savings", "", "| Saves | Fix | Where | Image |", "| ---: | --- | --- | --- |"]
        for size, row in rows[:TOP_SAVINGS]:
            name = _rule_name(rules, row.code)
            fix = f"{row.code} {name}".strip()
            where = _where(row.path, row.line, size, root)
            lines.append(f"| {human_size(row.bytes)} | {_md(fix)} | `{_md(where)}` | `{_md(_title(size, root))}` |")
        if len(rows) > TOP_SAVINGS:
            lines.append("")
            lines.append(f"… and {len(rows) - TOP_SAVINGS} more savings: run `dockerlint size` for every part.")
    lines += [
        "",
        "<sub>Estimated from the Dockerfiles, requirements and build contexts, before anything is built; "
        "the fixes are applied to the estimate one after another, so no byte is counted twice.</sub>",
        "",
    ]
    return "\n".join(lines)
