"""Issue 5's performance goals: paging 10,000 events, and rendering a webhook log.

    python bench/timeline.py

- 10,000 events on the fake API (testdata/fake_vonage.py) with 50 ms latency:
  `get --events` makes at most ceil(10000/100) + 1 = 101 events requests;
- rendering 100,000 webhook events from a file (`show events.jsonl`) takes at
  most 3x the time of just json.loads-ing its lines;
- rendering is linear: 200,000 events take at most 2.2x as long as 100,000.
Times are this process's CPU time, best of 7 interleaved runs (wall time shown too).
"""
from __future__ import annotations

import contextlib
import gc
import io
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import use_new_app_key  # noqa: E402

import convo  # noqa: E402
from testdata.fake_vonage import CONV_ID, SEED, FakeVonage  # noqa: E402


def paging() -> bool:
    events = [dict(SEED["events"][i % 8], id=i + 1) for i in range(10_000)]
    with tempfile.TemporaryDirectory() as tmp:
        key = use_new_app_key(tmp)
        with FakeVonage(key.public_key(), events=events, latency_s=0.05) as fake:
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()) as out:
                code = convo.main(["get", CONV_ID, "--api-url", fake.url, "--events", "--json"])
            elapsed = time.perf_counter() - start
            n = len(fake.paths(f"/v1/conversations/{CONV_ID}/events"))
    got = len(json.loads(out.getvalue())["events"])
    limit = math.ceil(10_000 / 100) + 1
    print(f"get --events, 10,000 events at 50 ms latency: {n} events requests "
          f"(goal <= {limit}), {got} events, {elapsed:.1f} s, exit {code}")
    return code == 0 and got == 10_000 and n <= limit


def webhook_lines(n: int) -> str:
    rows = (SEED_DIR / "seed_events.jsonl").read_text().splitlines()
    return "\n".join(rows[i % len(rows)] for i in range(n)) + "\n"


SEED_DIR = ROOT / "testdata"


def best_of(runs: int, fns: dict[str, object]) -> dict[str, tuple[float, float]]:
    """Run each function `runs` times, interleaved; best CPU and wall time of each.

    CPU time (this process's) is the figure the goals are checked on: this is a
    shared two-core machine, and wall time swings by 15% from run to run.
    """
    best = {name: (math.inf, math.inf) for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            gc.collect()
            cpu, wall = time.process_time(), time.perf_counter()
            fn()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            best[name] = (min(best[name][0], cpu), min(best[name][1], wall))
    return best


def rendering() -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        fns = {}
        for n in (100_000, 200_000):
            path = Path(tmp, f"events{n}.jsonl")
            path.write_text(webhook_lines(n))

            def loads_only(path: Path = path) -> None:
                with open(path, encoding="utf-8") as f:
                    for line in f:
                        json.loads(line)

            def render(path: Path = path) -> None:
                with open(os.devnull, "w") as null:
                    assert convo.cmd_show(convo.build_parser().parse_args(
                        ["show", str(path)]), null) == 0

            fns[f"loads {n}"], fns[f"show {n}"] = loads_only, render
        best = best_of(7, fns)
    (l1, l1w), (r1, r1w) = best["loads 100000"], best["show 100000"]
    r2, r2w = best["show 200000"]
    print(f"100,000 webhooks: json.loads {l1:.3f} s, show {r1:.3f} s CPU: {r1 / l1:.2f}x "
          f"(goal <= 3x); wall {l1w:.3f} s and {r1w:.3f} s: {r1w / l1w:.2f}x")
    print(f"200,000 webhooks: show {r2:.3f} s CPU: {r2 / r1:.2f}x the 100,000 (goal <= 2.2x); "
          f"wall {r2w:.3f} s: {r2w / r1w:.2f}x")
    return r1 / l1 <= 3 and r2 / r1 <= 2.2


def main() -> int:
    ok = paging()
    ok &= rendering()
    print("all goals met" if ok else "SOME GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
