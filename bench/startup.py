"""Issue 2's performance goals: start-up of --help/show, and the cost of `jwt`.

    python bench/startup.py [--runs 30]

Prints, for each goal, the median wall time of each command and the ratio:
- `convo.py --help` and `convo.py show sample_response.json` against
  `python -c "import argparse, json"` (goal: at most 1.6x), and that neither
  imports jwt, cryptography, urllib.request or http.server;
- `convo.py jwt` against a minimal script that signs the same claims with pyjwt
  (goal: at most 1.1x), and against `nexmo jwt:generate` when nexmo-cli is
  found (npm install nexmo-cli; pass --nexmo PATH or put `nexmo` on PATH).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
FORBIDDEN = ("jwt", "cryptography", "urllib.request", "http.server")

MINIMAL_PYJWT = """\
import sys, time, uuid, jwt
key = open(sys.argv[1], "rb").read()
now = int(time.time())
claims = {"application_id": sys.argv[2], "iat": now, "jti": str(uuid.uuid4()), "exp": now + 900}
print(jwt.encode(claims, key, algorithm="RS256"))
"""


def median_ms(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(runs + 2):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                       env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:]) * 1000  # the first two warm the page cache


def imported(cmd_args: list[str]) -> set[str]:
    res = subprocess.run([PY, "-X", "importtime", *cmd_args], capture_output=True, text=True)
    names = {line.split("|")[-1].strip() for line in res.stderr.splitlines()
             if line.startswith("import time:")}
    return {n for n in names if n.split(".")[0] in ("jwt", "cryptography") or n in FORBIDDEN}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--nexmo", default=shutil.which("nexmo") or "/tmp/nexmo/node_modules/.bin/nexmo")
    args = ap.parse_args()
    convo = str(ROOT / "convo.py")
    sample = str(ROOT / "sample_response.json")
    ok = True

    base = median_ms([PY, "-c", "import argparse, json"], args.runs)
    print(f"baseline  python -c 'import argparse, json'   {base:7.1f} ms")
    source = Path(convo).read_text()
    start = time.perf_counter()
    for _ in range(10):
        compile(source, convo, "exec")
    compile_ms = (time.perf_counter() - start) * 100
    print(f"(CPython compiles a script run as `python3 convo.py` on every run, never caching it:"
          f" {compile_ms:.1f} ms for its {source.count(chr(10))} lines)")
    for label, argv in (("--help", [convo, "--help"]), ("show", [convo, "show", sample])):
        ms = median_ms([PY, *argv], args.runs)
        heavy = imported(argv)
        ratio = ms / base
        ok &= ratio <= 1.6 and not heavy
        print(f"convo.py {label:<8}                         {ms:7.1f} ms  "
              f"ratio {ratio:.2f}x (goal <= 1.6x)  heavy imports: {sorted(heavy) or 'none'}")

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp, "private.key")
        key.write_bytes(rsa.generate_private_key(public_exponent=65537, key_size=2048)
                        .private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
        key.chmod(0o600)
        script = Path(tmp, "minimal.py")
        script.write_text(MINIMAL_PYJWT)
        app = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
        minimal = median_ms([PY, str(script), str(key), app], args.runs)
        ours = median_ms([PY, convo, "jwt", "--app-id", app, "--key", str(key)], args.runs)
        ok &= ours / minimal <= 1.1
        print(f"minimal pyjwt script                      {minimal:7.1f} ms")
        print(f"convo.py jwt                              {ours:7.1f} ms  "
              f"ratio {ours / minimal:.2f}x (goal <= 1.1x)")
        if os.path.exists(args.nexmo):
            nexmo = median_ms([args.nexmo, "jwt:generate", str(key), f"application_id={app}"],
                              max(5, args.runs // 3))
            ok &= ours < nexmo
            print(f"nexmo jwt:generate (nexmo-cli)            {nexmo:7.1f} ms  "
                  f"convo.py/nexmo {ours / nexmo:.2f}x (goal < 1x)")
        else:
            print("nexmo jwt:generate: not found (npm install nexmo-cli, or pass --nexmo PATH)")
    print("all goals met" if ok else "SOME GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
