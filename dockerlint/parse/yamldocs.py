"""YAML documents as PyYAML node graphs (``yaml.compose``), for the readers that need each
value's line: compose files, CI workflows and other build files."""

from __future__ import annotations


def compose_documents(text: str) -> list:
    """The root node of each non-empty document.

    libyaml, when PyYAML is built with it, reads a file about fifteen times faster than the
    pure-Python parser and builds the same nodes (a plain scalar's style is ``""`` rather
    than None; a collection ends where the next token starts). Whatever it fails on
    (invalid YAML, its nesting limit of 1,000, text that cannot be encoded) is read again by
    the pure-Python parser, which raises the errors the callers report."""
    import yaml

    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return [root for root in yaml.compose_all(text, Loader=fast) if root is not None]
        except Exception:  # noqa: BLE001, S110 - the pure-Python parser says what is wrong
            pass
    return [root for root in yaml.compose_all(text, Loader=yaml.SafeLoader) if root is not None]
