"""Issue 20's performance goals: the RTC event webhook.

    python bench/rtc.py [--events 1000] [--conversations 10000] [--seconds 5]

Each part starts `convo.py serve` in a process of its own, its log on a pipe.

- Latency: 1,000 RTC events of one conversation, POSTed one after another over one
  keep-alive connection; for each, the time from sending it to its line in serve's
  log. Goal: median <= 5 ms, p99 <= 20 ms. Beside it, in the same run, `get --watch`
  at its default interval (2 s) against a fake API: the time from an event
  appearing there to its line.
- Throughput: RTC events saved durably (fdatasync before each 204), one
  conversation, 32 keep-alive connections (wrk, with ids unique per request).
  Goal: >= 2,000 a second. And the answer webhook's requests a second (wrk) alone,
  then with RTC events flowing alongside (a steady 200 a second): within 10%.
- Memory: serve's peak RSS after 10,000 conversations of 10 events each, each of
  which ends (its members leave) and is dropped. Goal: <= 60 MB.

Needs wrk (apt-get install wrk).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import use_new_app_key  # noqa: E402
from serve import QUERY, free_port, rss_mb, wait_listening, wrk  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from testdata.fake_vonage import CONV_ID, FakeVonage, seed_call_steps  # noqa: E402

MEMBER = "MEM-f44c872e-cba9-444f-88ae-0bfa630865a6"


def rtc_event(conv: str, ident: int, kind: str = "member:media", member: str = MEMBER) -> dict:
    body = {"member_id": member, "channel": {"type": "phone", "id": f"leg-{conv[4:12]}-{member[4:8]}"}}
    if kind == "member:media":
        body["media"] = {"audio": ident % 2 == 0}
    return {"type": kind, "id": ident, "conversation_id": conv, "from": member,
            "application_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
            "timestamp": "2026-12-01T09:26:19.204Z", "body": body}


def start_serve(state: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "CONVO_STATE_DIR": state}
    proc = subprocess.Popen([sys.executable, str(ROOT / "convo.py"), "serve", "--port",
                             str(port), "--to", "447700000003", "--inspect-port", "0"],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env, bufsize=1)
    wait_listening(port, proc)
    return proc


def latency(count: int) -> tuple[float, float]:
    """(median ms, p99 ms) from an RTC event's POST to its line in serve's log."""
    with tempfile.TemporaryDirectory() as state:
        port = free_port()
        proc = start_serve(state, port)
        seen: dict[int, float] = {}
        arrived = threading.Condition()

        def read() -> None:
            for line in proc.stderr:
                parts = line.split()
                if len(parts) > 4 and parts[1] == "rtc" and parts[3].isdigit():
                    with arrived:
                        seen[int(parts[3])] = time.perf_counter()
                        arrived.notify_all()
        threading.Thread(target=read, daemon=True).start()
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conv = "CON-00000000-0000-4000-8000-00000000aaaa"
        conn.request("POST", "/webhooks/rtc", json.dumps(rtc_event(conv, 1, "member:joined")),
                     {"Content-Type": "application/json"})
        conn.getresponse().read()
        took = []
        for ident in range(2, count + 2):
            body = json.dumps(rtc_event(conv, ident))
            sent = time.perf_counter()
            conn.request("POST", "/webhooks/rtc", body, {"Content-Type": "application/json"})
            conn.getresponse().read()
            with arrived:
                arrived.wait_for(lambda: ident in seen, timeout=5)
            took.append((seen[ident] - sent) * 1000)
        conn.close()
        proc.terminate()
        proc.wait(10)
    took.sort()
    return statistics.median(took), took[int(len(took) * 0.99) - 1]


def watch_latency(samples: int) -> float:
    """Median ms from an event appearing in the fake API to its line under get --watch."""
    with tempfile.TemporaryDirectory() as home:
        key = use_new_app_key(home)
        with FakeVonage(key.public_key()) as fake:
            fake.play(seed_call_steps(), step=1)
            proc = subprocess.Popen([sys.executable, str(ROOT / "convo.py"), "get", CONV_ID,
                                     "--watch", "--api-url", fake.url],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    text=True, bufsize=1)
            for line in proc.stdout:
                if line.startswith("Watching:"):
                    break
            took = []
            for step in range(2, 2 + samples):
                time.sleep(0.37 * step % 2)  # at some point between two polls
                appeared = time.perf_counter()
                fake.goto(step)
                for line in proc.stdout:
                    if line.strip().startswith(f"{step}  "):
                        took.append((time.perf_counter() - appeared) * 1000)
                        break
            proc.kill()
            proc.wait()
    return statistics.median(took)


RTC_LUA = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("base", threads * 10000000)
end
counter = 0
function request()
  counter = counter + 1
  local body = string.format('{"type":"member:media","id":%d,"conversation_id":"CON-00000000-0000-4000-8000-00000000bbbb","from":"MEM-f44c872e-cba9-444f-88ae-0bfa630865a6","application_id":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab","timestamp":"2026-12-01T09:26:19.204Z","body":{"member_id":"MEM-f44c872e-cba9-444f-88ae-0bfa630865a6","media":{"audio":true}}}', base + counter)
  return wrk.format("POST", "/webhooks/rtc", {["Content-Type"] = "application/json"}, body)
end
"""


def throughput(seconds: int) -> tuple[float, float, float]:
    """(RTC events/s saved, answer rps alone, answer rps with RTC alongside)."""
    with tempfile.TemporaryDirectory() as state:
        port = free_port()
        proc = start_serve(state, port)
        threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
        script = os.path.join(state, "rtc.lua")
        Path(script).write_text(RTC_LUA)
        rtc_rps, _ = wrk(port, seconds, 32, path="/webhooks/rtc", script=script)
        alone, _ = wrk(port, seconds, 32, path=QUERY)
        stop = threading.Event()

        def flow() -> None:  # a steady 200 RTC events a second
            conn = http.client.HTTPConnection("127.0.0.1", port)
            ident, start = 50_000_000, time.perf_counter()
            while not stop.is_set():
                ident += 1
                conn.request("POST", "/webhooks/rtc", json.dumps(rtc_event(
                    "CON-00000000-0000-4000-8000-00000000cccc", ident)),
                    {"Content-Type": "application/json"})
                conn.getresponse().read()
                wait = start + (ident - 50_000_000) / 200 - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
        flowing = threading.Thread(target=flow, daemon=True)
        flowing.start()
        alongside, _ = wrk(port, seconds, 32, path=QUERY)
        stop.set()
        flowing.join()
        proc.terminate()
        proc.wait(10)
    return rtc_rps, alone, alongside


def memory(conversations: int) -> float:
    """serve's peak RSS (MB) after `conversations` conversations of 10 events each."""
    with tempfile.TemporaryDirectory() as state:
        port = free_port()
        proc = start_serve(state, port)
        threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
        other = "MEM-25ccda92-839d-4ac6-a7b2-de310224878b"

        def send(first: int, step: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port)
            for n in range(first, conversations, step):
                conv = f"CON-{n:08d}-0000-4000-8000-000000000000"
                events = [rtc_event(conv, 1, "member:joined"),
                          rtc_event(conv, 2, "member:joined", other),
                          *(rtc_event(conv, i) for i in range(3, 9)),
                          rtc_event(conv, 9, "member:left"),
                          rtc_event(conv, 10, "member:left", other)]
                for event in events:
                    conn.request("POST", "/webhooks/rtc", json.dumps(event),
                                 {"Content-Type": "application/json"})
                    conn.getresponse().read()
            conn.close()
        senders = [threading.Thread(target=send, args=(i, 4)) for i in range(4)]
        for t in senders:
            t.start()
        for t in senders:
            t.join()
        rss = rss_mb(proc.pid)
        proc.terminate()
        proc.wait(10)
    return rss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--watch-samples", type=int, default=5)
    args = parser.parse_args()
    median, p99 = latency(args.events)
    print(f"latency: an RTC event's POST -> its line in serve's log: median {median:.2f} ms, "
          f"p99 {p99:.2f} ms over {args.events} events (goal: <= 5 ms, <= 20 ms)")
    watched = watch_latency(args.watch_samples)
    print(f"         beside it, get --watch (every 2 s): an event in the API -> its line: "
          f"median {watched:.0f} ms ({watched / median:.0f}x the push)")
    rtc_rps, alone, alongside = throughput(args.seconds)
    print(f"throughput: {rtc_rps:,.0f} RTC events/s saved durably, one conversation, 32 "
          f"connections (goal: >= 2,000)")
    print(f"            answer webhook: {alone:,.0f} req/s alone, {alongside:,.0f} with 200 RTC "
          f"events/s alongside ({alongside / alone:.2f}x; goal: >= 0.90x)")
    rss = memory(args.conversations)
    print(f"memory: serve's peak RSS after {args.conversations:,} conversations of 10 events: "
          f"{rss:.1f} MB (goal: <= 60 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
