"""Issue 5's performance goals: paging 10,000 events, and rendering a webhook log.

    python bench/timeline.py

- 10,000 events on the fake API (test_convo.FakeVonage) with 50 ms latency:
  `get --events` makes at most ceil(10000/100) + 1 = 101 events requests;
- rendering 100,000 webhook events from a file (`show events.jsonl`) takes at
  most 3x the time of just json.loads-ing its lines;
- rendering is linear: 200,000 events take at most 2.2x as long as 100,000.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import convo  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from test_convo import APP_ID, CONV_ID, SEED, FakeVonage  # noqa: E402


def paging() -> bool:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    events = [dict(SEED["events"][i % 8], id=i + 1) for i in range(10_000)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "private.key")
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        path.chmod(0o600)
        os.environ.update(VONAGE_APPLICATION_ID=APP_ID,
                          VONAGE_APPLICATION_PRIVATE_KEY_PATH=str(path), CONVO_STATE_DIR=tmp)
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


def best_of(runs: int, fn) -> float:
    best = math.inf
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def rendering() -> bool:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (100_000, 200_000):
            path = Path(tmp, f"events{n}.jsonl")
            path.write_text(webhook_lines(n))

            def loads_only() -> None:
                with open(path, encoding="utf-8") as f:
                    for line in f:
                        json.loads(line)

            def render() -> None:
                with open(os.devnull, "w") as null:
                    assert convo.cmd_show(convo.build_parser().parse_args(
                        ["show", str(path)]), null) == 0

            results[n] = best_of(3, loads_only), best_of(3, render)
    (l1, r1), (l2, r2) = results[100_000], results[200_000]
    print(f"100,000 webhooks: json.loads {l1:.3f} s, show {r1:.3f} s: {r1 / l1:.2f}x "
          f"(goal <= 3x)")
    print(f"200,000 webhooks: show {r2:.3f} s: {r2 / r1:.2f}x the 100,000 (goal <= 2.2x)")
    return r1 / l1 <= 3 and r2 / r1 <= 2.2


def main() -> int:
    ok = paging()
    ok &= rendering()
    print("all goals met" if ok else "SOME GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
