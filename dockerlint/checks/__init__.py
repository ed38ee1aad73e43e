"""Checks: plain functions from an image model to findings, registered by code.

A check holds no state and does no I/O of its own: the model has read every file. One
function may report several related codes (DL3002 and SEC001 look at the same USER
state); the engine runs it when any of its codes is selected and drops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dockerlint.findings import Finding

CheckFunction = Callable[..., Iterable[Finding]]

CHECKS: dict[CheckFunction, tuple[str, ...]] = {}
# Codes reported from parse problems (the parsers return them as data).
PROBLEM_CODES: set[str] = set()


def check(*codes: str) -> Callable[[CheckFunction], CheckFunction]:
    def register(function: CheckFunction) -> CheckFunction:
        CHECKS[function] = codes
        return function

    return register


def problem_codes(*codes: str) -> None:
    PROBLEM_CODES.update(codes)


def load_checks() -> dict[CheckFunction, tuple[str, ...]]:
    """Import every module of this package once: each registers its checks."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return CHECKS


def registered_codes() -> set[str]:
    load_checks()
    codes = set(PROBLEM_CODES)
    for function_codes in CHECKS.values():
        codes.update(function_codes)
    return codes
