"""Issue 12's performance goals: `send` against `convo.py serve` on loopback.

    python bench/send.py [--runs 20] [--lines 10000]

Starts `convo.py serve` (its log to a file, as when a person runs it), waits for
its "listening" line, then measures:
- a whole call (1 answer + 8 events): the median wall time of `convo.py send URL`
  minus that of `convo.py --version`, which is Python's start-up with convo.py
  compiled (this machine sets PYTHONDONTWRITEBYTECODE=1, so every start compiles
  it). Goal: under 0.2 s beyond start-up. `send`'s own "in X s" is shown too.
- replaying a log of --lines webhooks (the seed's call again and again, each
  with its own conversation ID) at --speed 0: webhooks per second, over the
  replay itself ("in X s") and over the whole command, start-up included.
  Goal: at least 1,000 per second, over one keep-alive connection.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
CONVO = str(ROOT / "convo.py")


def start_serve(state_dir: str, log_path: str) -> tuple[subprocess.Popen, str]:
    """convo.py serve on a free port; returns once it says it listens."""
    env = {**os.environ, "CONVO_STATE_DIR": state_dir, "NO_COLOR": "1"}
    log = open(log_path, "w")
    proc = subprocess.Popen([PY, CONVO, "serve", "--to", "447700000003", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    line = proc.stdout.readline()  # the banner's first line: printed once it listens
    match = re.search(r"listening on (http://\S+)", line)
    if not match:
        proc.kill()
        raise SystemExit(f"serve did not start: {line!r}")
    return proc, match.group(1)


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return took, done.stdout


def reported_s(out: str) -> float:
    """send's own time, from its summary: 'ok: 9 of 9 webhooks passed in 0.02 s'."""
    return float(re.search(r"passed in ([0-9.]+) s", out).group(1))


def write_log(path: str, lines: int) -> None:
    """The seed's call (testdata/seed_events.jsonl) again and again, each time with a
    conversation ID of its own, up to `lines` webhooks."""
    seed = [json.loads(x) for x in (ROOT / "testdata" / "seed_events.jsonl").read_text()
            .splitlines()]
    with open(path, "w") as f:
        written = 0
        while written < lines:
            conv = f"CON-{uuid.uuid4()}"
            for webhook in seed[:lines - written]:
                f.write(json.dumps({**webhook, "conversation_uuid": conv}) + "\n")
                written += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--lines", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "NO_COLOR": "1"}
        proc, url = start_serve(os.path.join(tmp, "state"), os.path.join(tmp, "serve.log"))
        try:
            startup, call, own = [], [], []
            for _ in range(args.runs + 2):  # two warm-up runs, not counted
                startup.append(timed([PY, CONVO, "--version"], env)[0])
                took, out = timed([PY, CONVO, "send", url], env)
                call.append(took)
                own.append(reported_s(out))
            startup, call, own = startup[2:], call[2:], own[2:]
            beyond = statistics.median(call) - statistics.median(startup)
            print(f"a whole call, {args.runs} runs (PYTHONDONTWRITEBYTECODE="
                  f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '')}: each start compiles "
                  f"convo.py):")
            print(f"  convo.py --version      median {statistics.median(startup) * 1000:6.1f} ms")
            print(f"  convo.py send URL       median {statistics.median(call) * 1000:6.1f} ms "
                  f"(send's own 'in': median {statistics.median(own) * 1000:.0f} ms)")
            print(f"  beyond start-up         {beyond * 1000:6.1f} ms   goal < 200 ms: "
                  f"{'met' if beyond < 0.2 else 'NOT met'}")

            log = os.path.join(tmp, "replay.jsonl")
            write_log(log, args.lines)
            took, out = timed([PY, CONVO, "send", url, "--log", log], env)
            passed = int(re.search(r"ok: (\d+) of", out).group(1))
            rate_own = passed / reported_s(out)
            print(f"replay of {passed:,} webhooks at --speed 0:")
            print(f"  the replay ('in')       {reported_s(out):6.2f} s  {rate_own:8,.0f} "
                  f"webhooks/s   goal >= 1,000: {'met' if rate_own >= 1000 else 'NOT met'}")
            print(f"  the whole command       {took:6.2f} s  {passed / took:8,.0f} webhooks/s")
        finally:
            proc.terminate()
            proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
