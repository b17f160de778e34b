"""Issue 19's performance figures: what `serve --configure` costs at start and at exit.

    python bench/configure.py [--latency 0.05] [--runs 5]

A fake Applications API on loopback (testdata/fake_vonage.py) adds 50 ms to every
response. Each run starts `convo.py serve` in a process of its own, times it from
the start to its ready line (the banner's last line), then from SIGINT to its exit;
once plainly (the baseline), once with --configure. Printed: the medians, the
requests --configure made before ready and at exit, and the application after the
run against before it (it must be the same, byte for byte).

Goal: --configure adds exactly two requests before ready (GET, PUT) and two at
exit (GET, PUT): about four responses' latency in all, nothing else.
(PYTHONDONTWRITEBYTECODE=1 on this machine: every start compiles convo.py.)
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from testdata.fake_vonage import API_KEY, API_SECRET, APP_ID, FakeAccount  # noqa: E402


def one_run(fake: FakeAccount, configure: bool, state: str) -> tuple[float, float, int, int]:
    """(start → ready s, SIGINT → exit s, requests before ready, requests at exit)."""
    argv = [sys.executable, str(HERE / "convo.py"), "serve", "--port", "0", "--to",
            "447700000003", "--public-url", "https://abc123.ngrok.app"]
    if configure:
        argv += ["--configure", "--api-url", fake.url]
    env = {**os.environ, "VONAGE_API_KEY": API_KEY, "VONAGE_API_SECRET": API_SECRET,
           "VONAGE_APPLICATION_ID": APP_ID, "CONVO_STATE_DIR": state}
    before = len(fake.requests)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env)
    for line in proc.stdout:
        if line.startswith("  signatures"):
            break
    ready = time.perf_counter() - started
    at_ready = len(fake.requests) - before
    stopped = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    gone = time.perf_counter() - stopped
    return ready, gone, at_ready, len(fake.requests) - before - at_ready


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with FakeAccount(latency_s=args.latency) as fake, tempfile.TemporaryDirectory() as state:
        original = json.dumps(fake.apps[APP_ID])
        results = {}
        for configure in (False, True):
            runs = [one_run(fake, configure, state) for _ in range(args.runs)]
            results[configure] = runs
            ready = statistics.median(r[0] for r in runs) * 1000
            gone = statistics.median(r[1] for r in runs) * 1000
            print(f"{'serve --configure' if configure else 'serve (baseline)':<18} "
                  f"start → ready {ready:6.0f} ms   Ctrl-C → exit {gone:6.0f} ms   "
                  f"requests: {runs[0][2]} before ready, {runs[0][3]} at exit")
        base, conf = results[False], results[True]
        extra_ready = (statistics.median(r[0] for r in conf)
                       - statistics.median(r[0] for r in base)) * 1000
        extra_exit = (statistics.median(r[1] for r in conf)
                      - statistics.median(r[1] for r in base)) * 1000
        print(f"--configure adds {extra_ready:.0f} ms before ready and {extra_exit:.0f} ms at "
              f"exit, with {args.latency * 1000:.0f} ms per response")
        same = json.dumps(fake.apps[APP_ID]) == original
        print(f"the application after {args.runs} runs: "
              f"{'the same, byte for byte' if same else 'CHANGED'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
