"""Fuzz dockerlint for a while: ``python scripts/fuzz.py --minutes 30``.

Runs the property of ``tests/test_fuzz.py`` (generated and mutated repositories, linted
in process and through the command line; every report checked; time and memory
bounded) for as long as asked, in batches of ``--batch`` inputs with seeds ``--seed``,
``--seed + 1``, ... so that a run can be repeated. A failing input is not shrunk: it is
saved under ``--out`` (its files, with the traceback beside them) and the run goes on.
An input still running after ``--hang-seconds`` counts as a hang. At the end (and every
minute) it prints its figures: inputs tried, crashes, the slowest input, peak memory.

Reproduce a saved input with ``dockerlint --no-cache --select ALL <out>/crash-N/repo``.
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from hypothesis import HealthCheck, Phase, given, seed, settings, target  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dockerlint.report import FORMATS  # noqa: E402
from tests import test_fuzz  # noqa: E402


class Hang(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` on the way
    hides it."""


@dataclass
class Figures:
    started: float = field(default_factory=time.perf_counter)
    tried: int = 0
    failing: int = 0
    crashes: dict[str, int] = field(default_factory=dict)  # signature -> failing inputs
    slowest: float = 0.0
    slowest_size: int = 0
    peak: int = 0
    peak_size: int = 0
    findings: int = 0

    def lines(self) -> list[str]:
        elapsed = time.perf_counter() - self.started
        lines = [
            f"inputs tried: {self.tried:,} in {elapsed / 60:.1f} min ({self.tried / max(elapsed, 1e-9):.1f}/s)",
            f"crashes: {self.failing} failing inputs, {len(self.crashes)} distinct",
            f"slowest input: {self.slowest:.2f} s of CPU in process ({self.slowest_size:,} bytes)",
            f"peak memory: {self.peak / 1e6:.1f} MB ({self.peak_size:,} bytes of input)",
            f"findings reported: {self.findings:,}",
        ]
        lines += [f"  {count} x {signature}" for signature, count in sorted(self.crashes.items())]
        return lines


def signature(error: BaseException) -> str:
    """What the failure is and where it happened (the innermost dockerlint frame)."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if "/dockerlint/" in frame.filename]
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    first_line = (str(error).splitlines() or [""])[0][:120]
    return f"{type(error).__name__}: {first_line}{where}"


def save(repo: test_fuzz.Repository, folder: Path, note: str) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    test_fuzz.write_repository(repo, folder / "repo")
    (folder / "repository.pickle").write_bytes(pickle.dumps(repo))
    (folder / "README.txt").write_text(note + "\n", encoding="utf-8", errors="replace")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=200, help="inputs per hypothesis run")
    parser.add_argument("--hang-seconds", type=int, default=120)
    parser.add_argument("--out", type=Path, default=Path("fuzz-results"))
    options = parser.parse_args()

    figures = Figures()
    deadline = figures.started + options.minutes * 60
    options.out.mkdir(parents=True, exist_ok=True)
    last_report = [time.perf_counter()]

    def on_alarm(signum, frame):
        raise Hang(f"still running after {options.hang_seconds} s")

    signal.signal(signal.SIGALRM, on_alarm)

    @settings(
        max_examples=options.batch,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate, Phase.target],
        suppress_health_check=list(HealthCheck),
    )
    @given(repo=test_fuzz.repositories(), cli_format=st.sampled_from(FORMATS))
    def one(repo, cli_format):
        if time.perf_counter() > deadline:
            return
        figures.tried += 1
        (options.out / "current.pickle").write_bytes(pickle.dumps(repo))  # survives a hard hang
        signal.alarm(options.hang_seconds)
        started = time.perf_counter()
        try:
            outcome = test_fuzz.check_repository(repo, cli_format)
        except (Exception, Hang) as error:  # noqa: BLE001 - every failure is a finding of the fuzzer
            signal.alarm(0)
            key = signature(error)
            figures.failing += 1
            figures.crashes[key] = figures.crashes.get(key, 0) + 1
            number = list(figures.crashes).index(key) + 1
            if figures.crashes[key] <= 3:  # a few inputs per distinct failure
                folder = options.out / f"crash-{number}-{figures.crashes[key]}"
                note = f"{key}\nformat: {cli_format}\n\n" + "".join(traceback.format_exception(error))
                save(repo, folder, note)
                print(f"crash: {key} -> {folder}", flush=True)
            return
        finally:
            signal.alarm(0)
        elapsed = time.perf_counter() - started
        figures.findings += outcome.findings
        if outcome.cpu_seconds > figures.slowest:
            figures.slowest, figures.slowest_size = outcome.cpu_seconds, repo.size()
            note = (
                f"{outcome.cpu_seconds:.2f} s of CPU ({outcome.wall_seconds:.2f} s) in process, {elapsed:.2f} s in all"
            )
            save(repo, options.out / "slowest", note)
        if outcome.peak_bytes > figures.peak:
            figures.peak, figures.peak_size = outcome.peak_bytes, repo.size()
            save(repo, options.out / "peak-memory", f"{outcome.peak_bytes / 1e6:.1f} MB")
        target(outcome.cpu_seconds, label="CPU seconds")
        target(outcome.peak_bytes / 1e6, label="peak MB")
        if time.perf_counter() - last_report[0] > 60:
            last_report[0] = time.perf_counter()
            print(" | ".join(figures.lines()[:4]), flush=True)

    batch = 0
    while time.perf_counter() < deadline:
        seed(options.seed + batch)(one)()
        batch += 1
    print("\n".join(figures.lines()))
    return 1 if figures.failing else 0


if __name__ == "__main__":
    sys.exit(main())
