"""serve's performance goals: the answer webhook against the tutorial's Flask app,
and event webhooks against a baseline commit of convo.py.

    python bench/serve.py [--seconds 10] [--connections 32] [--baseline 7be6d90]

Needs wrk (apt-get install wrk) and flask (pip install flask). Runs, one after
the other on this machine, the tutorial's Flask app (shared/seeds/003, with
TO_NUMBER filled in, logging as it does: pprint of each request and werkzeug's
access log) and `convo.py serve` (its answer line, next-command line, state file
and events.jsonl), each behind wrk at 32 keep-alive connections, both writing
their logs to files. Goals: at least 4x Flask's requests per second, p99 latency
at most half of Flask's, and convo's RSS while serving at most 40 MB.

Then event webhooks (POST, JSON), which serve saves and syncs (fdatasync) before
its 204, against the same at --baseline (default 7be6d90, before every webhook
was synced to disk): the goal is at least half the baseline's requests per second.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERY = ("/webhooks/answer?to=447700000002&from=447700000001"
         "&uuid=797168e24c19a3c45e74e05b10fef2b5"
         "&conversation_uuid=CON-bc643220-2542-499a-892e-c982c4150c06"
         "&region_url=https%3A%2F%2Fapi-eu-1.vonage.com")

# The tutorial's webhook server, as the seed gives it, with TO_NUMBER filled in and the port
# taken from the command line.
FLASK_APP = '''\
import sys
from flask import Flask, request, jsonify
from pprint import pprint

app = Flask(__name__)

ncco = [{
        "action": "connect",
        "endpoint": [{
            "type": 'phone',
            "number": '447700000003'
        }]
}]

@app.route("/webhooks/answer")
def answer_call():
    params = request.args
    pprint(params)
    return jsonify(ncco)

if __name__ == '__main__':
    app.run(port=int(sys.argv[1]))
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listening on {port}")


EVENT = ('{"from":"447700000001","to":"447700000002","uuid":"797168e24c19a3c45e74e05b10fef2b5",'
         '"conversation_uuid":"CON-bc643220-2542-499a-892e-c982c4150c06","status":"ringing",'
         '"direction":"inbound","timestamp":"2018-10-25T09:26:19.000Z"}')
EVENT_LUA = f"""wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{EVENT}'
"""


def wrk(port: int, seconds: int, connections: int, path: str = QUERY,
        script: str | None = None) -> tuple[float, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
           f"http://127.0.0.1:{port}{path}"]
    if script:
        cmd[1:1] = ["-s", script]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    p99_ms = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} errors:\n{out}")
    return rps, p99_ms


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):  # the peak resident set size
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(cmd: list[str], port: int, log_dir: str, name: str, seconds: int,
            connections: int, env: dict[str, str], **request: str) -> tuple[float, float, float]:
    with open(os.path.join(log_dir, f"{name}.log"), "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            wait_listening(port, proc)
            wrk(port, 2, connections, **request)  # warm-up
            rps, p99 = wrk(port, seconds, connections, **request)
            rss = rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)
    return rps, p99, rss


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--baseline", default="7be6d90",
                    help="the commit whose event webhooks are the baseline")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("needs wrk: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp, "app.py")
        app.write_text(FLASK_APP)
        env = {**os.environ, "CONVO_STATE_DIR": os.path.join(tmp, "state"), "NO_COLOR": "1"}
        port = free_port()
        f_rps, f_p99, _ = measure([sys.executable, str(app), str(port)], port, tmp, "flask",
                                  args.seconds, args.connections, env)
        port = free_port()
        c_rps, c_p99, c_rss = measure(
            [sys.executable, str(ROOT / "convo.py"), "serve", "--to", "447700000003",
             "--port", str(port)], port, tmp, "convo", args.seconds, args.connections, env)
        events = sum(1 for _ in open(os.path.join(tmp, "state", "events.jsonl")))
        lua = Path(tmp, "event.lua")
        lua.write_text(EVENT_LUA)
        baseline = Path(tmp, "baseline.py")
        baseline.write_bytes(subprocess.run(["git", "show", f"{args.baseline}:convo.py"],
                                            cwd=ROOT, capture_output=True, check=True).stdout)
        port = free_port()
        b_answer, _, _ = measure(
            [sys.executable, str(baseline), "serve", "--to", "447700000003", "--port", str(port)],
            port, tmp, "baseline", args.seconds, args.connections,
            {**env, "CONVO_STATE_DIR": os.path.join(tmp, "state-baseline-answer")})
        event_rps = {}
        for name, script in (("baseline", baseline), ("convo", ROOT / "convo.py")):
            port = free_port()
            state = os.path.join(tmp, f"state-{name}")
            event_rps[name] = measure(
                [sys.executable, str(script), "serve", "--to", "447700000003", "--port",
                 str(port)], port, tmp, f"{name}-events", args.seconds, args.connections,
                {**env, "CONVO_STATE_DIR": state}, path="/webhooks/event", script=str(lua))
    print(f"flask (tutorial app)  {f_rps:8.0f} req/s  p99 {f_p99:7.2f} ms")
    print(f"convo.py serve        {c_rps:8.0f} req/s  p99 {c_p99:7.2f} ms  "
          f"peak RSS {c_rss:.1f} MB  ({events} answer requests saved)")
    ratio, p99_ratio = c_rps / f_rps, c_p99 / f_p99
    print(f"                      {b_answer:8.0f} req/s at {args.baseline}: now "
          f"{c_rps / b_answer:.2f}x of it")
    print(f"throughput {ratio:.2f}x flask (goal >= 4x); p99 {p99_ratio:.2f}x flask "
          f"(goal <= 0.5x); RSS {c_rss:.1f} MB (goal <= 40 MB)")
    (b_rps, b_p99, _), (e_rps, e_p99, _) = event_rps["baseline"], event_rps["convo"]
    print(f"event webhooks: {args.baseline} {b_rps:8.0f} req/s  p99 {b_p99:7.2f} ms; "
          f"now {e_rps:8.0f} req/s  p99 {e_p99:7.2f} ms (each synced to disk)")
    print(f"event throughput {e_rps / b_rps:.2f}x {args.baseline} (goal >= 0.5x, "
          f"'within 2x')")
    ok = ratio >= 4 and p99_ratio <= 0.5 and c_rss <= 40 and e_rps / b_rps >= 0.5
    print("all goals met" if ok else "SOME GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
