"""Issue 10's performance goals: get --watch latency and cost, and calls across 7 hosts.

    python bench/watch.py [--interval 0.5] [--runs 8]

1. Latency: the fake API (testdata/fake_vonage.py) plays the seed's call, revealing
   each of its 8 events at a random moment; `convo.py get --watch` runs as a
   subprocess, and each event's line is timed from the moment the fake revealed it
   to the moment it is read from the pipe; --runs plays (8 events each) give the
   samples. Goals: median <= interval/2 + 100 ms, worst <= interval + 150 ms.
2. Cost: requests the fake receives while nothing happens (goal: at most one per
   interval, two with --legs), and for one change.
3. `calls` on 7 fake hosts at once, each response 50 ms late, against one host
   (goal: at most 1.3x). The fakes run in a child process, so that their work does
   not share a GIL with the client measured; best of 5.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import use_new_app_key  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
import convo  # noqa: E402
from testdata.fake_vonage import CONV_ID, FakeVonage, seed_call_steps  # noqa: E402


def watch_latency(key, interval: float, seed: int) -> list[float]:
    with FakeVonage(key.public_key()) as fake:
        fake.play(seed_call_steps(), step=0)
        proc = subprocess.Popen([sys.executable, str(ROOT / "convo.py"), "get", CONV_ID,
                                 "--watch", "--interval", str(interval), "--api-url", fake.url],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                bufsize=1, env=os.environ)
        revealed: dict[int, float] = {}
        seen: dict[int, float] = {}

        def reader() -> None:
            for line in proc.stdout:
                word = line.split(maxsplit=1)[0] if line.strip() else ""
                if word.isdigit() and int(word) not in seen:
                    seen[int(word)] = time.perf_counter()

        while "Watching:" not in proc.stdout.readline():
            pass
        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        rng = random.Random(seed)
        for event_id in range(1, 9):
            time.sleep(rng.uniform(0.3, 1.7) * interval)  # the fake's own clock: random moments
            fake.advance()
            revealed[event_id] = time.perf_counter()
        time.sleep(interval * 1.5)
        fake.advance()  # hang-up
        proc.wait(30)
        thread.join(5)
    return [(seen[i] - revealed[i]) * 1000 for i in revealed if i in seen]


def wait_for_text(out: io.StringIO, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while text not in out.getvalue():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench/watch.py: no {text!r} within {timeout:g} s")
        time.sleep(0.01)


def watch_cost(key, interval: float, legs: bool) -> tuple[int, float, list[str]]:
    with FakeVonage(key.public_key()) as fake:
        fake.play(seed_call_steps(), step=3)
        args = convo.build_parser().parse_args(
            ["get", CONV_ID, "--watch", "--interval", str(interval), "--api-url", fake.url]
            + (["--legs"] if legs else []))
        out = io.StringIO()
        thread = threading.Thread(target=convo.cmd_get, args=(args, out), daemon=True)
        thread.start()
        wait_for_text(out, "Watching:")
        fake.goto(3)
        idle_s = interval * 5
        time.sleep(idle_s)
        idle = len(fake.requests_since_step())
        fake.advance()  # event 4: a member joins
        wait_for_text(out, "INVITED -> JOINED")  # a StringIO: the ASCII glyphs
        time.sleep(interval * 0.5)
        change = [p.split("?")[0].rsplit("/", 1)[-1] for p in fake.requests_since_step()]
        fake.goto(9)
        thread.join(30)
    return idle, idle_s, change


FAKES = """
import sys, time
sys.path.insert(0, sys.argv[1])
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from testdata.fake_vonage import FakeVonage
key = load_pem_private_key(open(sys.argv[2], "rb").read(), None)
fakes = [FakeVonage(key.public_key(), latency_s=0.05) for _ in range(int(sys.argv[3]))]
for fake in fakes:
    fake.__enter__()
print(" ".join(fake.url for fake in fakes), flush=True)
sys.stdin.read()
"""


def calls_time(key_path: str, hosts: int) -> float:
    fakes = subprocess.Popen([sys.executable, "-c", FAKES, str(ROOT), key_path, str(hosts)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        urls = fakes.stdout.readline().split()
        argv = ["calls", *[a for url in urls for a in ("--api-url", url)]]
        best = float("inf")
        for _ in range(5):
            with contextlib.redirect_stdout(io.StringIO()):
                start = time.perf_counter()
                assert convo.main(argv) == 0
                best = min(best, time.perf_counter() - start)
    finally:
        fakes.stdin.close()
        fakes.wait(10)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--runs", type=int, default=8)
    args = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        key = use_new_app_key(tmp)
        lat = [ms for run in range(args.runs) for ms in watch_latency(key, args.interval, run)]
        median, worst = statistics.median(lat), max(lat)
        goal_median, goal_worst = args.interval * 500 + 100, args.interval * 1000 + 150
        ok &= len(lat) == 8 * args.runs and median <= goal_median and worst <= goal_worst
        print(f"watch latency, interval {args.interval:g} s, {len(lat)} events: median "
              f"{median:.0f} ms (goal <= {goal_median:.0f}), worst {worst:.0f} ms "
              f"(goal <= {goal_worst:.0f})")
        for legs in (False, True):
            idle, idle_s, change = watch_cost(key, args.interval, legs)
            per = idle / (idle_s / args.interval)
            ok &= per <= (2 if legs else 1) + 0.25
            print(f"watch cost{' --legs' if legs else '':7}: {idle} requests in {idle_s:g} s "
                  f"idle = {per:.2f} per interval (goal <= {2 if legs else 1}); "
                  f"one member joining: {', '.join(change)}")
        key_path = os.environ["VONAGE_APPLICATION_PRIVATE_KEY_PATH"]
        one, seven = calls_time(key_path, 1), calls_time(key_path, 7)
        ok &= seven <= 1.3 * one
        print(f"calls, +50 ms per response: 1 host {one * 1000:.0f} ms, 7 hosts "
              f"{seven * 1000:.0f} ms: {seven / one:.2f}x (goal <= 1.3x)")
    print("all goals met" if ok else "SOME GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
