"""Hostile inputs: each pathological case timed against the same function on ordinary text.

For every case in ``tests/hardening/hostile_text.py`` (the list the timed tests use), the
function runs on the hostile input and on ordinary prose of the same length (the floor, measured
in the same run); the ratio hostile/benign says how much the attack costs beyond ordinary text.
A linear implementation stays near 1x at any size; a backtracking one grows with the length (the
old patterns: thousands of x). ``--scale`` also runs each case at a quarter of its size, and
the growth column (time at full size / time at a quarter) is ~4 for linear code, ~16 for quadratic.

    HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.bench_hostile_inputs
    .venv/bin/python -m benchmarks.bench_hostile_inputs --only spans --repeat 5 --scale

With ``--fail-ratio R`` the exit status is 1 when a hostile case is slower than R times its floor.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from tests.hardening.hostile_text import CASES, DOCUMENT_CASES, HostileCase


def best_time(run: Callable[[str], object], text: str, *, repeat: int) -> float:
    """The fastest of ``repeat`` runs, in seconds (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run(text)
        best = min(best, time.perf_counter() - started)
    return best


def measure(case: HostileCase, *, size: int, repeat: int) -> tuple[float, float]:
    """(hostile seconds, benign seconds) for ``case`` at ``size`` characters."""
    hostile, benign = case.hostile(size), case.benign(size)
    return best_time(case.run, hostile, repeat=repeat), best_time(case.run, benign, repeat=repeat)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="run only the cases whose name contains this text")
    parser.add_argument("--repeat", type=int, default=3, help="runs per input; the best counts (default 3)")
    parser.add_argument("--scale", action="store_true", help="also time a quarter size: growth ~4 is linear")
    parser.add_argument("--fail-ratio", type=float, default=None, help="exit 1 above this hostile/benign ratio")
    args = parser.parse_args(argv)

    cases = [case for case in [*CASES, *DOCUMENT_CASES] if args.only in case.name]
    header = f"{'case':<58} {'chars':>7} {'hostile ms':>10} {'benign ms':>10} {'ratio':>7}"
    print(header + (f" {'growth':>7}" if args.scale else ""))
    worst = 0.0
    for case in cases:
        hostile_s, benign_s = measure(case, size=case.size, repeat=args.repeat)
        ratio = hostile_s / max(benign_s, 1e-6)
        worst = max(worst, ratio)
        line = f"{case.name:<58} {case.size:>7,} {hostile_s * 1e3:>10.2f} {benign_s * 1e3:>10.2f} {ratio:>6.1f}x"
        if args.scale:
            quarter_s, _ = measure(case, size=case.size // 4, repeat=args.repeat)
            line += f" {hostile_s / max(quarter_s, 1e-6):>6.1f}x"
        print(line, flush=True)
    print(f"worst hostile/benign ratio: {worst:.1f}x over {len(cases)} cases")
    return 1 if args.fail_ratio is not None and worst > args.fail_ratio else 0


if __name__ == "__main__":
    sys.exit(main())
