"""Issue 3's performance goal: `convo.py get` against the sequential way.

    python bench/get.py [--members 40] [--latency 0.05] [--connect 0.1]

A fake Vonage API on loopback (testdata/fake_vonage.py) adds 50 ms to every
response and 100 ms to every new TCP connection, standing in for a WAN and a
TLS handshake. The conversation has 40 members.

- baseline: fetch the conversation, the member pages, then each member in turn,
  each with a new connection (a plain urlopen loop, as curl would);
- convo.py get, in process (token minting included), at several concurrencies.

Goal: convo.py get takes at most 0.2x the baseline, with identical output
whatever the concurrency.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import use_new_app_key  # noqa: E402

import convo  # noqa: E402
from testdata.fake_vonage import APP_ID, CONV_ID, FakeVonage, many_members  # noqa: E402


def baseline(base: str, token: str) -> int:
    """The tutorial's way, one request after another, a new connection each."""
    def get(path: str):
        req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)
    requests = 1
    get(f"/v1/conversations/{CONV_ID}")
    path: str | None = f"/v1/conversations/{CONV_ID}/members?page_size=100"
    ids = []
    while path:
        page = get(path)
        requests += 1
        ids += [m["id"] for m in page["_embedded"]["members"]]
        nxt = page.get("_links", {}).get("next", {}).get("href")
        path = nxt[nxt.index("/v1/"):] if nxt else None
    for mid in ids:
        get(f"/v1/conversations/{CONV_ID}/members/{mid}")
        requests += 1
    return requests


def run_get(base: str, concurrency: int) -> tuple[float, str]:
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = convo.main(["get", CONV_ID, "--api-url", base, "--concurrency", str(concurrency)])
    elapsed = time.perf_counter() - start
    assert code == 0, code
    return elapsed, out.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=40)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--connect", type=float, default=0.1)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        key = use_new_app_key(tmp)
        token = convo.resolve_credentials(app_id=APP_ID).mint()
        with FakeVonage(key.public_key(), members=many_members(args.members),
                        latency_s=args.latency, connect_latency_s=args.connect) as fake:
            start = time.perf_counter()
            n = baseline(fake.url, token)
            base_s = time.perf_counter() - start
            print(f"baseline (sequential urlopen, {n} requests, {n} connections)  "
                  f"{base_s * 1000:7.0f} ms")
            outputs = set()
            worst = 0.0
            for concurrency in (1, 4, 8, 16):
                before = fake.connections
                elapsed, text = run_get(fake.url, concurrency)
                outputs.add(text)
                if concurrency == convo.DEFAULT_CONCURRENCY:
                    worst = elapsed
                print(f"convo.py get --concurrency {concurrency:<2} "
                      f"({fake.connections - before:2d} connections)          "
                      f"{elapsed * 1000:7.0f} ms  ratio {elapsed / base_s:.3f}x")
    same = len(outputs) == 1
    ratio = worst / base_s
    print(f"default concurrency ({convo.DEFAULT_CONCURRENCY}): ratio {ratio:.3f}x "
          f"(goal <= 0.2x); identical output across concurrencies: {same}")
    ok = ratio <= 0.2 and same
    print("all goals met" if ok else "SOME GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
