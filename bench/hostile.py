"""Issue 8's hostile-connection figures for `convo.py serve`, run by hand.

    python bench/hostile.py

1. Memory: serve's RSS at rest, then while 20 connections each send 99 header
   lines of 60 KB (the issue saw 27 -> 146 MiB before the head limits).
2. Lock-out: 128 idle keep-alive connections are opened, then a new caller asks
   for /health; it prints what the caller got and how long it took (before:
   503 for up to 30 s).
Everything stays on 127.0.0.1 and stops by itself.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CONVO_STATE_DIR": tmp}
        proc = subprocess.Popen([sys.executable, str(ROOT / "convo.py"), "serve", "--port", "0",
                                 "--to", "447700000003"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, env=env)
        try:
            port = int(proc.stdout.readline().rsplit(":", 1)[1].split()[0])
            addr = ("127.0.0.1", port)
            rest = rss_mib(proc.pid)
            socks, peak = [], rest
            line = b"X-Pad: " + b"a" * 60_000 + b"\r\n"
            for _ in range(20):
                s = socket.create_connection(addr, timeout=10)
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
            for _ in range(99):
                for s in socks:
                    try:
                        s.sendall(line)
                    except OSError:
                        pass  # refused and closed: the point
                peak = max(peak, rss_mib(proc.pid))
            replies = {s.recv(12) for s in socks}
            for s in socks:
                s.close()
            print(f"memory: {rest:.1f} MiB at rest, {peak:.1f} MiB peak with 20 connections "
                  f"sending 99 x 60 KB header lines; they got {sorted(replies)}")

            idle = []
            for _ in range(128):
                s = socket.create_connection(addr, timeout=10)
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                s.recv(4096)
                idle.append(s)
            start = time.perf_counter()
            with socket.create_connection(addr, timeout=40) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                status = s.recv(4096).split(b"\r\n")[0].decode()
            took = (time.perf_counter() - start) * 1000
            for s in idle:
                s.close()
            print(f"lock-out: with 128 idle keep-alive connections open, a new caller got "
                  f"'{status}' in {took:.1f} ms")
        finally:
            proc.terminate()
            proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
