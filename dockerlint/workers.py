"""Checking the images of a large repository in several processes, one per core.

The engine plans every build first; each worker process (forked, so it starts with the
engine's state: configuration, plan, files read so far) then builds, checks and
summarizes a contiguous run of the images, letting each go as a single process does. It
sends back each check's findings, the images' summaries, what the report needs of the
files it read (``Workspace.changes_since``), what the Dockerfiles' comments suppress, and
the scan-cache entries it used. The engine puts the pieces together in image order and
finishes the run as a single process does, so the report is byte for byte the same.

Only where ``fork`` is safe (Linux and other Unix systems but macOS): a spawned process
would import everything again and need the plan sent over. ``DOCKERLINT_JOBS`` sets the
number of processes (1: one process); by default one per core the process may use, when
the repository has enough images to pay for them.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import TYPE_CHECKING

from dockerlint.errors import InternalError

if TYPE_CHECKING:
    from dockerlint.builds import Build
    from dockerlint.engine import _Checked, _Setup

IMAGES_PER_PROCESS = 64  # with fewer images than this per process, starting one does not pay
CODE_FILES_PER_PROCESS = 2_000  # or with less Python code to scan than this (benchmarks/bench.py)


def jobs_for(requested: int | None, images: int, code_files: int = 0) -> int:
    """How many processes check ``images`` images: ``requested`` (``DOCKERLINT_JOBS``) if
    given, else one per usable core while each gets ``IMAGES_PER_PROCESS`` images or
    ``CODE_FILES_PER_PROCESS`` of the ``code_files`` the cache does not know; always 1
    where processes cannot be forked safely."""
    if requested == 1 or images < 2 or not can_fork():
        return 1
    if requested is not None:
        return max(1, min(requested, images))
    return max(1, min(_cores(), images, max(images // IMAGES_PER_PROCESS, code_files // CODE_FILES_PER_PROCESS)))


def can_fork() -> bool:
    import multiprocessing

    return sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_in_processes(builds: list[Build], setup: _Setup, jobs: int) -> _Checked:
    """``engine._check_images`` over ``builds`` in ``jobs`` processes, with what they learned
    taken into the engine's workspace, suppressions and scan cache."""
    import multiprocessing
    import pickle  # here and in _work: a run in one process never needs it

    from dockerlint.engine import _Checked

    context = multiprocessing.get_context("fork")
    size = -(-len(builds) // jobs)
    chunks = [builds[start : start + size] for start in range(0, len(builds), size)]
    for stream in (sys.stdout, sys.stderr):  # a child must not write what the parent has buffered
        stream.flush()
    # Objects that exist now are never collected in a child: its collector then leaves the
    # parent's pages alone instead of copying them.
    gc.collect()
    gc.freeze()
    started = []
    replies = []
    try:
        for chunk in chunks:
            reading, writing = os.pipe()
            process = context.Process(target=_work, args=(setup, chunk, writing), daemon=True)
            process.start()
            os.close(writing)  # the child holds the only writing end: its end is our end of file
            started.append((process, os.fdopen(reading, "rb")))
        for process, reader in started:
            try:
                # Read as it arrives: a reply of thousands of images is never held whole as
                # bytes beside the objects made of it.
                replies.append(pickle.load(reader))
            except (EOFError, OSError, pickle.UnpicklingError):
                process.join()
                message = f"a worker process ended without its results (exit code {process.exitcode})"
                raise InternalError(None, None, message) from None
            finally:
                reader.close()
            process.join()
    finally:
        gc.unfreeze()
        for process, _ in started:
            if process.is_alive():
                process.kill()
                process.join()
    checked = _Checked([[] for _ in setup.checks])
    for reply in replies:
        if reply[0] == "error":
            _, path, message = reply
            raise InternalError(path, None, message)
    for _, part, changes, learned, scans in replies:
        for mine, theirs in zip(checked.by_check, part.by_check, strict=True):
            mine.extend(theirs)
        checked.revisit += [(len(checked.summaries) + index, build, own) for index, build, own in part.revisit]
        checked.summaries += part.summaries
        checked.reported_files |= part.reported_files
        checked.installed_by.update(part.installed_by)
        checked.installed_entries.update(part.installed_entries)
        checked.development_entries.update(part.development_entries)
        checked.code_holders.update(part.code_holders)
        checked.own_code |= part.own_code
        checked.agreed.update(part.agreed)
        setup.workspace.absorb(changes)
        setup.finish.suppressions.absorb(learned)
        if setup.scan_cache is not None and scans is not None:
            setup.scan_cache.absorb(scans)
    return checked


def _work(setup: _Setup, builds: list[Build], writing: int) -> None:
    """In the worker: check the images, send what the engine needs to finish the run
    (pickled onto the pipe ``writing``)."""
    import pickle

    from dockerlint.engine import _check_images, forget

    try:
        mark = setup.workspace.mark()
        part = _check_images(builds, setup)
        forget(setup)  # what the last images' Dockerfiles suppress is learned
        scans = setup.scan_cache.changes() if setup.scan_cache is not None else None
        reply = ("done", part, setup.workspace.changes_since(mark), setup.finish.suppressions.learned(), scans)
    except InternalError as error:
        reply = ("error", error.path, str(error))
    except BaseException as error:  # noqa: BLE001 - reported by the engine, as in one process
        reply = ("error", None, f"{type(error).__name__}: {error}")
    with os.fdopen(writing, "wb") as writer:
        try:
            data = pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # noqa: BLE001 - a reply that cannot be sent is an error to report
            data = pickle.dumps(("error", None, f"{type(error).__name__}: {error}"))
        writer.write(data)
