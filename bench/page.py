"""Issue 21's performance goals: serve's inspector page.

    python bench/page.py [--webhooks 10000] [--seconds 5]

- First view: `convo.py serve` started over an events.jsonl of 10,000 webhooks
  (1,000 calls of 10); the time for what the page's first view fetches (the page,
  its script and style, the list of calls, the newest call), and, with Selenium and
  headless Chromium, from opening the page to the newest call's picture drawn.
  Goal: <= 500 ms. Then serve's peak RSS: goal <= 60 MB.
- Answer webhooks a second (wrk, 32 connections) with the page open and streaming
  (a client reading /api/stream), against the page closed and against serve
  --no-inspect, the medians of interleaved rounds. Goal: within 10%. (On a 2-core machine, wrk, serve and the
  stream's reader share the cores: the reader reads in chunks to take little.)
(The browser test measures a webhook's arrival to its row on the page.)
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

from serve import QUERY, free_port, rss_mb, wait_listening, wrk  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def write_log(path: str, count: int) -> None:
    with open(path, "w") as f:
        for n in range(count // 10):
            conv = f"CON-{n:08d}-0000-4000-8000-000000000000"
            leg = f"{n:08d}-1111-4000-8000-000000000000"
            f.write(json.dumps({"to": "447700000002", "from": "447700000001", "uuid": leg,
                                "conversation_uuid": conv, "_webhook": "answer",
                                "_method": "GET", "_received_at":
                                f"2026-12-01T09:{n // 60 % 60:02d}:{n % 60:02d}.000Z"}) + "\n")
            for status in ("started", "ringing", "answered", "started", "ringing",
                           "answered", "completed", "completed", "completed"):
                f.write(json.dumps({"status": status, "conversation_uuid": conv, "uuid": leg,
                                    "direction": "inbound", "from": "447700000001",
                                    "to": "447700000002",
                                    "timestamp": "2026-12-01T09:00:00.000Z",
                                    "_webhook": "event", "_method": "POST"}) + "\n")


def start(state: str, port: int, *extra: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, str(ROOT / "convo.py"), "serve", "--port",
                             str(port), "--to", "447700000003", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "CONVO_STATE_DIR": state})
    wait_listening(port, proc)
    return proc


def get(port: int, path: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    data = conn.getresponse().read()
    conn.close()
    return data


def first_view(port: int) -> float:
    """ms for the page's first view over HTTP: page, script, style, calls, newest call."""
    started = time.perf_counter()
    for path in ("/", "/app.js", "/app.css"):
        get(port, path)
    calls = json.loads(get(port, "/api/calls"))
    get(port, f"/api/calls/{calls[0]['id']}")
    return (time.perf_counter() - started) * 1000


def browser_view(port: int) -> float | None:
    """ms from opening the page to the newest call's picture, in headless Chromium."""
    import shutil
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        return None
    if not shutil.which("chromedriver"):
        return None
    options = Options()
    for flag in ("--headless=new", "--no-sandbox"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        driver.get("about:blank")
        started = time.perf_counter()
        driver.get(f"http://127.0.0.1:{port}/")
        WebDriverWait(driver, 10, poll_frequency=0.005).until(lambda d: d.execute_script(
            "return document.querySelectorAll('tr.row').length") > 0)
        return (time.perf_counter() - started) * 1000
    finally:
        driver.quit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--webhooks", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        write_log(os.path.join(state, "events.jsonl"), args.webhooks)
        port = free_port()
        proc = start(state, port, "--inspect-port", str(port + 1))
        try:
            wait_listening(port + 1, proc)
            http_ms = min(first_view(port + 1) for _ in range(3))
            shown = browser_view(port + 1)
            rss = rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"first view over {args.webhooks:,} saved webhooks: {http_ms:.0f} ms over HTTP"
          + (f", {shown:.0f} ms in headless Chromium to the picture" if shown else
             " (no Selenium: no browser figure)") + " (goal: <= 500 ms)")
    print(f"serve's peak RSS with them loaded: {rss:.1f} MB (goal: <= 60 MB)")

    results: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}  # serve's CPU time per answer webhook, µs
    for name, extra in (("--no-inspect", ("--no-inspect",)), ("page closed", ("closed",)),
                        ("page open and streaming", ())) * args.rounds:
        # interleaved: this machine's load drifts
        with tempfile.TemporaryDirectory() as state:
            port = free_port()
            proc = start(state, port, *(extra if extra != ("closed",) else ()),
                         *(() if extra == ("--no-inspect",) else ("--inspect-port",
                                                                   str(port + 1))))
            stop = threading.Event()
            if not extra:
                wait_listening(port + 1, proc)

                def stream() -> None:  # the page's stream, read as it comes, in chunks
                    conn = http.client.HTTPConnection("127.0.0.1", port + 1)
                    conn.request("GET", "/api/stream")
                    resp = conn.getresponse()
                    while not stop.is_set() and resp.read1(65536):
                        pass
                threading.Thread(target=stream, daemon=True).start()
            try:
                wrk(port, 2, 32, path=QUERY)  # warm-up
                before = cpu_s(proc.pid)
                rps = wrk(port, args.seconds, 32, path=QUERY)[0]
                results.setdefault(name, []).append(rps)
                cpu.setdefault(name, []).append((cpu_s(proc.pid) - before)
                                                / (rps * args.seconds) * 1e6)
            finally:
                stop.set()
                proc.terminate()
                proc.wait(10)
    base, closed, open_ = (statistics.median(results[name]) for name in (
        "--no-inspect", "page closed", "page open and streaming"))
    print(f"answer webhook (medians of {args.rounds} rounds): {base:,.0f} req/s with "
          f"--no-inspect, {closed:,.0f} with the page closed, {open_:,.0f} with it open and "
          f"streaming ({open_ / closed:.2f}x the page closed, {open_ / base:.2f}x --no-inspect; "
          f"goal: >= 0.90x)")
    per = {name: statistics.median(values) for name, values in cpu.items()}
    print(f"serve's CPU time per answer webhook (steadier than req/s on a busy machine): "
          f"{per['--no-inspect']:.0f} µs with --no-inspect, {per['page closed']:.0f} µs with "
          f"the page closed, {per['page open and streaming']:.0f} µs open and streaming "
          f"({per['--no-inspect'] / per['page open and streaming']:.2f}x the throughput it "
          f"allows)")
    return 0


def cpu_s(pid: int) -> float:
    """A process's CPU time so far (user + system), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    sys.exit(main())
