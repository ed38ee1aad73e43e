"""URLs as the parsers and the model read them out of Dockerfiles and requirements."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit


def split_url(text: str) -> SplitResult:
    """``urlsplit`` that never raises: a malformed URL (``http://[::1/x``, a bad port)
    reads as one with no host, so rules that look for known hosts simply find none."""
    try:
        return urlsplit(text)
    except ValueError:
        return SplitResult("", "", text, "", "")


def url_host(text: str) -> str:
    """The lower-cased host of a URL, or "" when it has none or cannot be read."""
    try:
        return (split_url(text).hostname or "").lower()
    except ValueError:
        return ""
