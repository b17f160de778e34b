"""Tests for convo.py: pure functions, then the commands end to end through main([...]).

Everything talks to real things: real keys made here, real files in tmp_path, and
(further down) real HTTP servers on 127.0.0.1 port 0. Nothing mocks urllib or sockets.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import queue
import re
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import convo
from testdata.fake_vonage import (API_KEY as ACCOUNT_KEY, API_SECRET as ACCOUNT_SECRET,
                                  APP_ID, CONV_ID, LINK_HOST, POLL_S, SEED, FakeAccount,
                                  FakeVonage, many_members, problem_body, seed_call_steps)

HERE = Path(__file__).resolve().parent
TESTDATA = HERE / "testdata"
FIXED_NOW = 1_700_000_000


# ---------------------------------------------------------------------------
# Fixtures and helpers used throughout: keys, a clean environment, main(), pipes, small servers
# ---------------------------------------------------------------------------

def _pem(key, fmt=serialization.PrivateFormat.PKCS8, password: bytes | None = None) -> bytes:
    enc = (serialization.BestAvailableEncryption(password) if password
           else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, fmt, enc)


@pytest.fixture(scope="session")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def key_file(tmp_path, rsa_key) -> Path:
    path = tmp_path / "private.key"
    path.write_bytes(_pem(rsa_key))
    path.chmod(0o600)
    return path


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """Every test starts with none of convo's environment variables set."""
    for name in list(os.environ):
        if name.startswith(("VONAGE_", "CONVO_", "XDG_STATE")) or name in (
                "JWT", "NO_COLOR", "TO_NUMBER", "PORT"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CONVO_STATE_DIR", str(tmp_path / "state"))
    # A developer's own ~/.vonage or ./.vonagerc must never reach a test.
    (tmp_path / "home").mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path / "cwd")


@pytest.fixture
def api(rsa_key):
    with FakeVonage(rsa_key.public_key()) as fake:
        yield fake


@pytest.fixture
def creds(monkeypatch, key_file):
    """Let get mint tokens for APP_ID with the test key, from the environment."""
    monkeypatch.setenv("VONAGE_APPLICATION_ID", APP_ID)
    monkeypatch.setenv("VONAGE_APPLICATION_PRIVATE_KEY_PATH", str(key_file))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Run main([...]) and return its exit code, stdout and stderr."""
    code = convo.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def convo_command(*argv: str) -> list[str]:
    """The command that runs convo.py in a child process with Ctrl-C as a terminal gives
    it: a test run started in the background (cmd &, nohup) passes SIGINT on ignored,
    and Python then never raises KeyboardInterrupt."""
    start = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler);"
             " sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")
    return [sys.executable, "-c", start, str(HERE / "convo.py"), *argv]


def public_pem(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


class Lines(io.TextIOBase):
    """A stream that a test reads line by line as another thread writes it."""

    encoding = "utf-8"

    def __init__(self) -> None:
        super().__init__()
        self.queue: queue.Queue[str] = queue.Queue()
        self.partial = ""
        self.seen: list[str] = []

    def write(self, text: str) -> int:
        self.partial += text
        *lines, self.partial = self.partial.split("\n")
        for line in lines:
            self.queue.put(line)
        return len(text)

    def expect(self, needle: str, timeout: float = 10) -> list[str]:
        """Read lines until one holds needle, within timeout seconds; return them."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            line = self.queue.get(timeout=max(deadline - time.monotonic(), 0.001))
            got.append(line)
            self.seen.append(line)
            if needle in line:
                return got


def pipe_lines(stream) -> Lines:
    """Read a subprocess's pipe in a thread, so that a test waits for a line with a
    deadline (Lines.expect) instead of blocking on readline forever."""
    lines = Lines()
    threading.Thread(target=lambda: [lines.write(line) for line in stream],
                     daemon=True).start()
    return lines


class Utf8Out(io.StringIO):
    """Captured output, as from a UTF-8 terminal that is not a terminal."""
    encoding = "utf-8"


def on_a_terminal(argv: list[str], env: dict, *, until: bytes, stream: str = "stdout",
                  send=None, columns: int | None = None) -> bytes:
    """Run convo.py with stdout or stderr on a pseudo-terminal (of `columns`, with
    COLUMNS unset, when given); return what it wrote there, up to and including
    `until` (the process is stopped then)."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    master, slave = pty.openpty()
    if columns:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        env = {**env, "COLUMNS": ""}
    environment = {**os.environ, **env}
    if columns:
        environment.pop("COLUMNS", None)
    proc = subprocess.Popen([sys.executable, str(HERE / "convo.py"), *argv],
                            stdout=slave if stream == "stdout" else subprocess.PIPE,
                            stderr=slave if stream == "stderr" else subprocess.PIPE,
                            env=environment)
    os.close(slave)
    got = b""
    try:
        if send:
            send(proc)
        deadline = time.monotonic() + 10
        while until not in got and time.monotonic() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                try:
                    got += os.read(master, 65536)
                except OSError:  # the process ended and closed the terminal
                    break
    finally:
        proc.terminate()
        proc.wait(10)
        os.close(master)
    assert until in got, got[-300:]
    return got


class ScriptedHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _reply(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append((self.command, self.path, dict(self.headers), body))
        self.server.peers.add(self.client_address[1])
        route = self.server.routes.get(self.path.split("?")[0], (404, "text/plain", b"no"))
        status, ctype, data, *extra = route(self) if callable(route) else route
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for name, value in (extra[0] if extra else {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _reply

    def log_message(self, *args):
        pass


class ScriptedServer(http.server.ThreadingHTTPServer):
    """A webhook server that answers each path as scripted: (status, Content-Type,
    body, extra headers) or a function of the request giving one. It records every
    request; anything not scripted is a 404."""

    daemon_threads = True

    def __init__(self, routes: dict):
        self.routes = routes
        self.received: list[tuple[str, str, dict, bytes]] = []
        self.peers: set[int] = set()  # the client ports: one per connection
        self.waiting = threading.Event()  # set when a slow route starts to wait
        self.release = threading.Event()  # what a slow route waits for
        super().__init__(("127.0.0.1", 0), ScriptedHandler)

    def handle_error(self, request, client_address):
        pass  # a slow reply written after send gave up: expected


@contextlib.contextmanager
def scripted(routes: dict):
    server = ScriptedServer(routes)
    thread = threading.Thread(target=server.serve_forever, args=(POLL_S,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join()


def url_of(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


JSON = "application/json"
TALK = json.dumps([{"action": "talk", "text": "hello"}]).encode()
NO_CONTENT = (204, None, b"")


def slowly(handler):
    handler.server.waiting.set()
    handler.server.release.wait(10)  # set when the test ends, long after send gave up
    return 200, JSON, TALK


SEED_TREE = """\
Conversation CON-bc643220-2542-499a-892e-c982c4150c06  ACTIVE
  name NAM-1b2c4274-e3f2-494e-89c4-46856ee84a8b · created 2018-10-25 09:26:18 UTC · sequence 8 · ttl 48h
├─ Member MEM-f44c872e-cba9-444f-88ae-0bfa630865a6  JOINED
│    user USR-33a51f4d-d06b-42f6-a525-90d2859ab9f6 · joined 09:26:30.334
│  └─ phone channel 797168e24c19a3c45e74e05b10fef2b5: 447700000001 → 447700000002
│     └─ leg 797168e24c19a3c45e74e05b10fef2b5
└─ Member MEM-25ccda92-839d-4ac6-a7b2-de310224878b  JOINED
     user vapi-user-f59c1ff26c0543fdb6c02fd30617a1c0 (USR-b9948493-…) · invited 09:26:19.385 · joined 09:26:30.270
   └─ phone channel 30cecc87-7ac9-4d03-910a-e9d69558263c: Unknown → 447700000003 · ring timeout 60 s · max length 2 h
      └─ leg 30cecc87-7ac9-4d03-910a-e9d69558263c
1 conversation · 2 members (2 JOINED) · 2 channels (2 phone) · 2 legs
"""


# ---------------------------------------------------------------------------
# Core: text, time, the terminal, input files, the state directory
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("seconds,text", [
    (898, "14m 58s"), (172800, "48h"), (10925, "3h 2m"), (3605, "1h"), (0, "0s"),
    (59, "59s"), (60, "1m"),
])
def test_format_span(seconds, text):
    assert convo.format_span(seconds) == text


@pytest.mark.parametrize("text,iso", [
    ("2018-10-25T09:26:18.999Z", "2018-10-25T09:26:18.999000+00:00"),
    ("2020-01-01T14:00:00.00Z", "2020-01-01T14:00:00+00:00"),
    ("2020-01-01 12:00:00", "2020-01-01T12:00:00+00:00"),
    ("2020-01-01T12:00:00+01:30", "2020-01-01T10:30:00+00:00"),
])
def test_parse_time(text, iso):
    assert convo.parse_time(text).isoformat() == iso


@pytest.mark.parametrize("value", ["yesterday", "2020-13-01T00:00:00Z", 17, None, {}])
def test_parse_time_rejects(value):
    assert convo.parse_time(value) is None


def test_style_for_respects_no_color(monkeypatch):
    class Tty:
        encoding = "utf-8"

        def isatty(self):
            return True
    assert convo.style_for(Tty()).color
    monkeypatch.setenv("NO_COLOR", "1")
    assert not convo.style_for(Tty()).color


def test_error_messages_are_escaped(capsys):
    code, _, err = run(capsys, "get", "CON-\x9b2J\u202e")
    assert code == 2 and "\x9b" not in err and "\u202e" not in err and "\\x9b2J\\u202e" in err


def test_convo_compiles_with_warnings_as_errors_and_holds_no_surrogates():
    """Python 3.13 refuses a lone surrogate in a docstring; a new SyntaxWarning (an
    invalid escape) would be an error in some later Python."""
    source = (HERE / "convo.py").read_text(encoding="utf-8")
    check = subprocess.run([sys.executable, "-W", "error", "-c",
                            "import sys; compile(sys.stdin.read(), 'convo.py', 'exec')"],
                           input=source, text=True, capture_output=True, timeout=30)
    assert check.returncode == 0, check.stderr
    import ast
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert not any(0xD800 <= ord(c) <= 0xDFFF for c in node.value), node.lineno


def test_inputs_that_never_end_are_refused_or_bounded(capsys, monkeypatch, tmp_path, creds):
    for argv in (["show", "/dev/zero"], ["send", "http://127.0.0.1:1", "--log", "/dev/zero"]):
        assert run(capsys, *argv) == (2, "", "convo: error: /dev/zero: is a device, not a "
                                              "regular file\n")
    with open("/dev/zero") as zero:
        monkeypatch.setattr(sys, "stdin", zero)
        assert run(capsys, "jwt", "--inspect", "-") == (
            2, "", "convo: error: <stdin>: over 16 KiB, too large for a token\n")
    state = tmp_path / "state"
    state.mkdir()
    (state / "last_call.json").symlink_to("/dev/zero")
    code, _, err = run(capsys, "get", "--api-url", "http://127.0.0.1:1", "--timeout", "1")
    assert code == 1 and "ignoring the latest call: " in err and "is a device" in err


@pytest.mark.parametrize("where", ["vonagerc", "config", "key-variable", "last-call"])
def test_a_fifo_in_place_of_a_file_convo_looks_for_is_refused(capsys, tmp_path, where,
                                                             monkeypatch, key_file):
    fifo = {"vonagerc": tmp_path / "cwd" / ".vonagerc",
            "config": tmp_path / "home" / ".vonage" / "config.json",
            "key-variable": tmp_path / "key.fifo",
            "last-call": tmp_path / "state" / "last_call.json"}[where]
    fifo.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)
    if where == "key-variable":
        monkeypatch.setenv("VONAGE_APPLICATION_PRIVATE_KEY_PATH", str(fifo))
    if where == "last-call":
        monkeypatch.setenv("VONAGE_APPLICATION_PRIVATE_KEY_PATH", str(key_file))
        monkeypatch.setenv("VONAGE_APPLICATION_ID", APP_ID)
        code, _, err = run(capsys, "get", "--api-url", "http://127.0.0.1:1", "--timeout", "1")
        assert f"ignoring the latest call: {fifo}: is a FIFO (named pipe), not a regular " \
            "file" in err
        return
    code, out, err = run(capsys, "jwt", "--app-id", APP_ID)
    assert code == 2 and f"{fifo}: is a FIFO (named pipe), not a regular file" in err


def test_state_files_are_private_and_regions_survive_concurrent_writers(tmp_path):
    state = tmp_path / "state"
    convo.write_state({"conversation_uuid": CONV_ID}, str(state))
    assert (state / "last_call.json").stat().st_mode & 0o777 == 0o600
    writers = [threading.Thread(target=lambda n=n: [convo.remember_region(
        f"CON-{n}-{i}", "https://api-eu-3.vonage.com") for i in range(15)]) for n in range(3)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    remembered = json.loads((state / "regions.json").read_text())
    assert len(remembered) == 45
    assert (state / "regions.json").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in state.iterdir() if p.name.startswith(".regions.json.")] == \
        [".regions.json.lock"]


def test_out_of_memory_is_one_line(tmp_path):
    resource = pytest.importorskip("resource")
    doc = tmp_path / "big.json"
    doc.write_text("[" + ",".join(['{"id":1}'] * 1_500_000) + "]")

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (200 << 20, 200 << 20))
    done = subprocess.run([sys.executable, str(HERE / "convo.py"), "show", str(doc)],
                          capture_output=True, text=True, timeout=60, preexec_fn=limit)
    assert done.returncode == 1 and done.stderr == "convo: error: out of memory\n", done.stderr


# ---------------------------------------------------------------------------
# Credentials and jwt
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("text,seconds", [
    ("900", 900), ("90s", 90), ("15m", 900), ("24h", 86400), ("1d", 86400), ("30", 30),
    (" 2H ", 7200),
])
def test_parse_ttl_accepts(text, seconds):
    assert convo.parse_ttl(text) == seconds


@pytest.mark.parametrize("text,needle", [
    ("29s", "outside 30s..24h"), ("25h", "24 h after iat"), ("2d", "outside"),
    ("0", "outside"), ("15 minutes", "not a duration"), ("-5m", "not a duration"),
    ("", "not a duration"),
])
def test_parse_ttl_refuses(text, needle):
    with pytest.raises(convo.ConvoError) as exc:
        convo.parse_ttl(text)
    assert needle in str(exc.value) and exc.value.exit_code == 2


def test_build_claims_defaults():
    claims = convo.build_claims(APP_ID, now=FIXED_NOW, ttl_s=900, jti="jti-1")
    assert claims == {"application_id": APP_ID, "iat": FIXED_NOW, "jti": "jti-1",
                      "exp": FIXED_NOW + 900}


def test_build_claims_extra_wins_and_limits():
    claims = convo.build_claims(APP_ID, now=FIXED_NOW, ttl_s=900, jti="j",
                                extra={"exp": FIXED_NOW + 86400, "sub": "alice"})
    assert claims["exp"] == FIXED_NOW + 86400 and claims["sub"] == "alice"
    with pytest.raises(convo.ConvoError, match="24 h after iat"):
        convo.build_claims(APP_ID, now=FIXED_NOW, ttl_s=900, jti="j",
                           extra={"exp": FIXED_NOW + 86401})
    with pytest.raises(convo.ConvoError, match="at least 30 s"):
        convo.build_claims(APP_ID, now=FIXED_NOW, ttl_s=900, jti="j",
                           extra={"exp": FIXED_NOW + 5})
    with pytest.raises(convo.ConvoError, match=r"exp is in the past \(2023-11-14 22:13:15 UTC, "
                                               r"5s ago\)"):
        convo.build_claims(APP_ID, now=FIXED_NOW, ttl_s=900, jti="j",
                           extra={"exp": FIXED_NOW - 5})


def test_parse_claim_args_decodes_json_and_keeps_text():
    claims = convo.parse_claim_args([
        "application_id=abc", "exp=1700086400", 'acl={"paths":{"/*/users/**":{}}}',
        "sub=alice", "flag=true", "note=a=b"])
    assert claims == {"application_id": "abc", "exp": 1700086400,
                      "acl": {"paths": {"/*/users/**": {}}}, "sub": "alice", "flag": True,
                      "note": "a=b"}


@pytest.mark.parametrize("arg", ["iat=now", "exp=1.5", "nbf=true", 'exp="17"', "iat="])
def test_parse_claim_args_time_claims_must_be_integers(arg):
    with pytest.raises(convo.ConvoError) as exc:
        convo.parse_claim_args([arg])
    assert "whole seconds" in str(exc.value) and exc.value.exit_code == 2


def test_parse_claim_args_rejects_non_pairs():
    with pytest.raises(convo.ConvoError, match="NAME=VALUE"):
        convo.parse_claim_args(["=value"])


def test_token_expiry_rules():
    assert convo.token_expiry({"iat": 100, "exp": 200}) == (200, "")
    assert convo.token_expiry({"iat": 100})[0] == 100 + 900
    assert convo.token_expiry({"iat": 100, "exp": 100 + 90000})[0] == 100 + 86400
    assert convo.token_expiry({})[0] is None

def test_jwt_round_trip_rs256(capsys, key_file, rsa_key):
    code, out, err = run(capsys, "jwt", "--app-id", APP_ID, "--key", str(key_file))
    assert code == 0 and err == ""
    token = out.strip()
    assert out == token + "\n"
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT"}
    claims = jwt.decode(token, rsa_key.public_key(), algorithms=["RS256"])
    assert claims["application_id"] == APP_ID
    assert claims["exp"] - claims["iat"] == 900
    assert abs(claims["iat"] - time.time()) < 60
    assert len(claims["jti"]) == 36
    # The public PEM used as an HS256 secret must not verify (algorithm confusion).
    with pytest.raises(jwt.PyJWTError):
        jwt.decode(token, public_pem(rsa_key), algorithms=["HS256"])


def test_jwt_fresh_jti_each_time(capsys, key_file):
    tokens = [run(capsys, "jwt", "--app-id", APP_ID, "--key", str(key_file))[1]
              for _ in range(2)]
    jtis = {jwt.decode(t.strip(), options={"verify_signature": False})["jti"] for t in tokens}
    assert len(jtis) == 2


def test_jwt_flags_ttl_sub_acl_claim(capsys, key_file, rsa_key):
    code, out, _ = run(capsys, "jwt", "--app-id", APP_ID, "--key", str(key_file), "--ttl",
                       "24h", "--sub", "alice", "--acl", '{"paths":{"/*/users/**":{}}}',
                       "--claim", "nbf=1700000000", "--claim", "region=eu")
    assert code == 0
    claims = jwt.decode(out.strip(), rsa_key.public_key(), algorithms=["RS256"],
                        options={"verify_nbf": False})
    assert claims["exp"] - claims["iat"] == 86400
    assert claims["sub"] == "alice" and claims["acl"] == {"paths": {"/*/users/**": {}}}
    assert claims["nbf"] == 1700000000 and claims["region"] == "eu"


def test_jwt_tutorial_form(capsys, key_file, rsa_key):
    exp = int(time.time()) + 86400 - 5
    code, out, err = run(capsys, "jwt", str(key_file), f"application_id={APP_ID}",
                         f"exp={exp}", "sub=alice", 'acl={"paths":{"/*/sessions/**":{}}}')
    assert code == 0, err
    claims = jwt.decode(out.strip(), rsa_key.public_key(), algorithms=["RS256"])
    assert claims["application_id"] == APP_ID and claims["exp"] == exp
    assert claims["sub"] == "alice" and claims["acl"] == {"paths": {"/*/sessions/**": {}}}


def test_jwt_tutorial_iat_is_checked(capsys, key_file):
    code, out, err = run(capsys, "jwt", str(key_file), f"application_id={APP_ID}",
                         "iat=1700000000.5")
    assert code == 2 and out == ""
    assert err == ("convo: error: iat must be whole seconds since 1970 "
                   "(e.g. iat=1700086400), not 1700000000.5\n")


def test_jwt_environment_defaults_and_flags_win(capsys, monkeypatch, key_file, tmp_path,
                                                rsa_key, other_rsa_key):
    from_env = "bbbbbbbb-0000-4000-8000-00000000e0e0"
    monkeypatch.setenv("VONAGE_APPLICATION_ID", from_env)
    monkeypatch.setenv("VONAGE_APPLICATION_PRIVATE_KEY_PATH", str(key_file))
    code, out, _ = run(capsys, "jwt")
    assert code == 0
    assert jwt.decode(out.strip(), rsa_key.public_key(),
                      algorithms=["RS256"])["application_id"] == from_env
    other = tmp_path / "other.key"
    other.write_bytes(_pem(other_rsa_key))
    other.chmod(0o600)
    code, out, _ = run(capsys, "jwt", "--app-id", APP_ID, "--key", str(other))
    assert jwt.decode(out.strip(), other_rsa_key.public_key(),
                      algorithms=["RS256"])["application_id"] == APP_ID


def _vonage_cli_file(path: Path, **keys) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(keys))


def test_jwt_reads_the_vonage_cli_files_first_one_whole(capsys, rsa_key, tmp_path):
    pem = _pem(rsa_key).decode()
    home_file = tmp_path / "home" / ".vonage" / "config.json"
    _vonage_cli_file(home_file, **{"app-id": APP_ID, "private-key": pem, "api-key": "k"})
    code, out, err = run(capsys, "-v", "jwt")
    assert code == 0 and jwt.decode(out.strip(), rsa_key.public_key(),
                                    algorithms=["RS256"])["application_id"] == APP_ID
    assert f"application ID from {home_file} (app-id)" in err
    assert f"private key from {home_file} (private-key)" in err
    assert "BEGIN" not in err and APP_ID not in err  # where, never what
    # ./.vonagerc comes first and is used whole: its missing key is not taken from ~
    _vonage_cli_file(Path(".vonagerc"), **{"app-id": "bbbbbbbb-bbbb-cccc-dddd-0123456789ab"})
    code, _, err = run(capsys, "jwt")
    assert code == 2 and "no private key" in err


def test_flags_and_variables_win_over_the_vonage_cli_file(capsys, monkeypatch, rsa_key,
                                                          key_file, tmp_path):
    other = "bbbbbbbb-bbbb-cccc-dddd-0123456789ab"
    _vonage_cli_file(Path(".vonagerc"), **{"app-id": other, "private-key": _pem(rsa_key).decode()})
    monkeypatch.setenv("VONAGE_APPLICATION_ID", APP_ID)
    code, out, _ = run(capsys, "jwt")
    assert code == 0 and jwt.decode(out.strip(), options={"verify_signature": False})[
        "application_id"] == APP_ID
    code, out, _ = run(capsys, "jwt", "--app-id", other, "--key", str(key_file))
    assert code == 0


@pytest.mark.parametrize("content,needle", [
    ("{not json", "invalid JSON at line 1"),
    ("[1, 2]", "should be a JSON object with app-id, private-key"),
    ('{"app-id": 42}', "app-id must be text, not a JSON number"),
])
def test_a_bad_vonage_cli_file_is_named(capsys, content, needle):
    Path(".vonagerc").write_text(content)
    code, _, err = run(capsys, "jwt")
    assert code == 2 and ".vonagerc" in err and needle in err and "Traceback" not in err


def test_credentials_as_people_hold_them(capsys, monkeypatch, rsa_key, tmp_path, key_file):
    pem = _pem(rsa_key).decode()
    # the Vonage CLI's other spelling (vonage apps init writes appId and privateKey)
    _vonage_cli_file(Path(".vonagerc"), appId=APP_ID, privateKey=pem)
    code, out, _ = run(capsys, "jwt")
    assert code == 0 and jwt.decode(out.strip(), rsa_key.public_key(),
                                    algorithms=["RS256"])["application_id"] == APP_ID
    _vonage_cli_file(Path(".vonagerc"), name="my app")
    code, _, err = run(capsys, "jwt")
    assert code == 2 and ".vonagerc: holds none of the keys convo.py reads (app-id, " \
        "private-key, api-key, api-secret, or appId, privateKey, apiKey, apiSecret)" in err
    Path(".vonagerc").unlink()
    # an application ID pasted with spaces around it
    code, out, _ = run(capsys, "jwt", "--app-id", f" {APP_ID} ", "--key", str(key_file))
    assert code == 0
    # nothing at all: one error names both
    code, _, err = run(capsys, "jwt")
    assert code == 2 and err.count("\n") == 1
    assert "no application ID (pass --app-id ID" in err and "and no private key (pass --key" in err
    # a path where the PEM text belongs
    monkeypatch.setenv("VONAGE_PRIVATE_KEY", str(key_file))
    code, _, err = run(capsys, "jwt", "--app-id", APP_ID)
    assert code == 2 and "$VONAGE_PRIVATE_KEY looks like a file's path" in err
    assert "set VONAGE_APPLICATION_PRIVATE_KEY_PATH to the path" in err
    monkeypatch.delenv("VONAGE_PRIVATE_KEY")
    # an OpenSSH key
    openssh = tmp_path / "id_rsa"
    openssh.write_bytes(rsa_key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.OpenSSH,
                                              serialization.NoEncryption()))
    code, _, err = run(capsys, "jwt", "--app-id", APP_ID, "--key", str(openssh))
    assert code == 2 and "OpenSSH's format" in err and "ssh-keygen -p -m PEM" in err
    code, _, err = run(capsys, "jwt", "--app-id", "", "--key", str(key_file))
    assert code == 2 and "--app-id is empty" in err


def test_inspect_checks_the_application_id_wherever_it_comes_from(capsys, monkeypatch,
                                                                 rsa_key):
    token = _token(rsa_key, exp=int(time.time()) + 600)  # for APP_ID
    other = "bbbbbbbb-bbbb-cccc-dddd-0123456789ab"
    monkeypatch.setenv("VONAGE_APPLICATION_ID", other)
    code, out, _ = run(capsys, "jwt", "--inspect", token)
    assert code == 1 and f"MISMATCH: the token is for {APP_ID}, $VONAGE_APPLICATION_ID is " \
        f"{other}" in out
    monkeypatch.delenv("VONAGE_APPLICATION_ID")
    _vonage_cli_file(Path(".vonagerc"), **{"app-id": APP_ID})
    code, out, _ = run(capsys, "jwt", "--inspect", token)
    assert code == 0 and f"matches {APP_ID} (from " in out and ".vonagerc (app-id))" in out
    code, _, err = run(capsys, "jwt", "--inspect", token, "--app-id", "")
    assert code == 2 and "--app-id is empty" in err


def test_jwt_key_from_pem_environment_variable(capsys, monkeypatch, rsa_key):
    pem = _pem(rsa_key, serialization.PrivateFormat.TraditionalOpenSSL).decode()
    monkeypatch.setenv("VONAGE_PRIVATE_KEY", pem.replace("\n", "\\n"))  # as CI secrets do
    code, out, err = run(capsys, "jwt", "--app-id", APP_ID)
    assert code == 0, err
    jwt.decode(out.strip(), rsa_key.public_key(), algorithms=["RS256"])


def test_jwt_accepts_pkcs1_and_encrypted_keys(capsys, monkeypatch, tmp_path, rsa_key):
    pkcs1 = tmp_path / "pkcs1.key"
    pkcs1.write_bytes(_pem(rsa_key, serialization.PrivateFormat.TraditionalOpenSSL))
    pkcs1.chmod(0o600)
    assert b"BEGIN RSA PRIVATE KEY" in pkcs1.read_bytes()
    assert run(capsys, "jwt", "--app-id", APP_ID, "--key", str(pkcs1))[0] == 0
    for fmt in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL):
        enc = tmp_path / "enc.key"
        enc.write_bytes(_pem(rsa_key, fmt, b"s3cret-pass"))
        enc.chmod(0o600)
        monkeypatch.setenv("VONAGE_PRIVATE_KEY_PASSPHRASE", "s3cret-pass")
        code, out, err = run(capsys, "jwt", "--app-id", APP_ID, "--key", str(enc))
        assert code == 0, err
        jwt.decode(out.strip(), rsa_key.public_key(), algorithms=["RS256"])


def _key_errors(tmp_path, rsa_key):
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    eckey = ec.generate_private_key(ec.SECP256R1())
    files = {
        "not-pem": b"this is not a key\n",
        "public": public_pem(rsa_key),
        "encrypted": _pem(rsa_key, password=b"right-pass"),
        "small": _pem(small),
        "ec": _pem(eckey),
        "garbled": b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    }
    paths = {}
    for name, data in files.items():
        path = tmp_path / f"{name}.key"
        path.write_bytes(data)
        path.chmod(0o600)
        paths[name] = str(path)
    return paths


@pytest.mark.parametrize("case,passphrase,needle", [
    ("missing", None, "no such file; pass --key PATH"),
    ("not-pem", None, "is not PEM"),
    ("public", None, "is a public key, not a private key"),
    ("encrypted", None, "is encrypted: set VONAGE_PRIVATE_KEY_PASSPHRASE"),
    ("encrypted", "wrong-pass", "wrong passphrase"),
    ("small", None, "is 1024-bit RSA: use 2048 bits or more"),
    ("ec", None, "is an EC key: Vonage application keys are RSA"),
    ("garbled", None, "is not a valid PEM private key"),
])
def test_jwt_key_errors(capsys, monkeypatch, tmp_path, rsa_key, case, passphrase, needle):
    paths = _key_errors(tmp_path, rsa_key)
    path = paths.get(case, str(tmp_path / "missing.key"))
    if passphrase:
        monkeypatch.setenv("VONAGE_PRIVATE_KEY_PASSPHRASE", passphrase)
    code, out, err = run(capsys, "jwt", "--app-id", APP_ID, "--key", path)
    assert (code, out) == (2, "")
    assert err.startswith("convo: error: ") and needle in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "AAAA" not in err and "MII" not in err  # no key material, ever


def test_jwt_key_error_debug_shows_traceback(tmp_path, rsa_key):
    with pytest.raises(convo.ConvoError):
        convo.main(["--debug", "jwt", "--app-id", APP_ID, "--key", str(tmp_path / "none")])


def test_jwt_missing_app_id_and_key(capsys, key_file):
    code, _, err = run(capsys, "jwt", "--key", str(key_file))
    assert code == 2 and "pass --app-id ID or set VONAGE_APPLICATION_ID" in err
    code, _, err = run(capsys, "jwt", "--app-id", APP_ID)
    assert code == 2 and "no private key" in err


@pytest.mark.parametrize("app_id,source", [("APP_ID", "--app-id"), ("1234", "--app-id")])
def test_jwt_app_id_must_be_a_uuid(capsys, key_file, app_id, source):
    code, out, err = run(capsys, "jwt", "--app-id", app_id, "--key", str(key_file))
    assert (code, out) == (2, "")
    assert f"{source} '{app_id}' is not an application ID: it is a UUID such as" in err


def test_jwt_exp_in_the_past_says_so(capsys, key_file):
    code, _, err = run(capsys, "jwt", str(key_file), f"application_id={APP_ID}",
                       f"exp={int(time.time()) - 3600}")
    assert code == 2 and "exp is in the past (" in err and "1h ago" in err


def test_a_public_key_or_certificate_is_named_before_any_permission_warning(
        capsys, tmp_path, rsa_key):
    path = tmp_path / "public.pem"
    path.write_bytes(public_pem(rsa_key))
    path.chmod(0o644)
    code, _, err = run(capsys, "jwt", "--app-id", APP_ID, "--key", str(path))
    assert code == 2 and "warning" not in err
    assert err.startswith(f"convo: error: {path} is a public key, not a private key")


def test_jwt_permission_warning(capsys, key_file, rsa_key):
    key_file.chmod(0o644)
    code, out, err = run(capsys, "jwt", "--app-id", APP_ID, "--key", str(key_file))
    assert code == 0
    jwt.decode(out.strip(), rsa_key.public_key(), algorithms=["RS256"])
    assert err == (f"convo: warning: private key {key_file} is readable by others "
                   f"(mode 0644); run: chmod 600 {key_file}\n")


@pytest.mark.parametrize("argv,needle", [
    (["jwt", "--ttl", "25h"], "24 h after iat"),
    (["jwt", "--acl", "[1]"], "--acl must be a JSON object"),
    (["jwt", "--acl", "{bad"], "--acl: invalid JSON at line 1, column 2"),
    (["jwt", "k.pem", "exp"], "not NAME=VALUE"),
    (["jwt", "--json"], "--json goes with --inspect TOKEN"),
])
def test_jwt_bad_arguments(capsys, key_file, argv, needle):
    code, out, err = run(capsys, *argv[:1], "--app-id", APP_ID, "--key", str(key_file),
                         *argv[1:]) if argv[1] != "k.pem" else run(capsys, *argv)
    assert code == 2 and out == "" and needle in err


def test_a_key_named_on_the_command_line_may_be_a_pipe_read_once(capsys, rsa_key):
    """`--key <(…)`: read once, and kept for every token minted after."""
    r, w = os.pipe()
    os.write(w, _pem(rsa_key))
    os.close(w)
    try:
        creds = convo.resolve_credentials(app_id=APP_ID, key_path=f"/dev/fd/{r}")
        first, second = creds.mint(), creds.mint()
    finally:
        os.close(r)
    assert first != second
    for token in (first, second):
        assert jwt.decode(token, rsa_key.public_key(), algorithms=["RS256"])["application_id"] \
            == APP_ID


def _token(key, **claims) -> str:
    base = {"application_id": APP_ID, "iat": int(time.time()), "jti": "x"}
    base.update(claims)
    return jwt.encode(base, key, algorithm="RS256")


def test_inspect_checks_the_application_id_and_speaks_json(capsys, rsa_key, key_file):
    token = _token(rsa_key, exp=int(time.time()) + 600)
    other = "bbbbbbbb-0000-4000-8000-00000000e0e0"
    code, out, _ = run(capsys, "jwt", "--inspect", token, "--app-id", other)
    assert code == 1 and f"MISMATCH: the token is for {APP_ID}, --app-id is {other}" in out
    code, out, _ = run(capsys, "jwt", "--inspect", token, "--app-id", APP_ID, "--key",
                       str(key_file), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["claims"]["application_id"] == APP_ID
    assert doc["header"]["alg"] == "RS256" and 500 < doc["seconds_left"] <= 600
    assert {name: check["ok"] for name, check in doc["checks"].items()} == {
        "expiry": True, "signature": True, "application_id": True}
    code, out, _ = run(capsys, "jwt", "--inspect", token, "--json")
    assert code == 0 and json.loads(out)["checks"]["signature"]["ok"] is None  # not checked


def test_inspect_valid_token(capsys, key_file, rsa_key):
    token = _token(rsa_key, exp=int(time.time()) + 898)
    code, out, err = run(capsys, "jwt", "--inspect", token, "--key", str(key_file))
    assert code == 0, err
    assert '"alg": "RS256"' in out and f'"application_id": "{APP_ID}"' in out
    assert "expires in 14m 5" in out and "valid for" in out
    assert token not in out + err


def test_inspect_expired_token(capsys, rsa_key):
    now = int(time.time())
    token = _token(rsa_key, iat=now - 4 * 3600, exp=now - (3 * 3600 + 2 * 60 + 5))
    code, out, _ = run(capsys, "jwt", "--inspect", token)
    assert code == 1 and "EXPIRED 3h 2m ago" in out
    assert "not checked: pass --key" in out


def test_inspect_wrong_key(capsys, key_file, other_rsa_key):
    token = _token(other_rsa_key, exp=int(time.time()) + 600)
    code, out, _ = run(capsys, "jwt", "--inspect", token, "--key", str(key_file))
    assert code == 1 and "INVALID: does not match this key" in out


def test_inspect_hs256_token_fails_signature(capsys, key_file):
    token = jwt.encode({"iat": int(time.time()), "exp": int(time.time()) + 600}, "secret" * 6,
                       algorithm="HS256")
    code, out, _ = run(capsys, "jwt", "--inspect", token, "--key", str(key_file))
    assert code == 1 and "not RS256" in out


def test_inspect_reads_stdin_and_bearer_prefix(capsys, monkeypatch, rsa_key):
    import io
    token = _token(rsa_key, exp=int(time.time()) + 600)
    monkeypatch.setattr("sys.stdin", io.StringIO(f"Bearer {token}\n"))
    code, out, _ = run(capsys, "jwt", "--inspect", "-")
    assert code == 0 and "expires in 9m" in out


def test_inspect_no_exp_uses_vonage_default(capsys, rsa_key):
    code, out, _ = run(capsys, "jwt", "--inspect", _token(rsa_key))
    assert code == 0 and "no exp: Vonage accepts it for 15 minutes" in out


@pytest.mark.parametrize("token", ["abc", "a.b", "!!.??.xx", "eyJhIjoxfQ.WzFd.sig"])
def test_inspect_not_a_jwt(capsys, token):
    code, out, err = run(capsys, "jwt", "--inspect", token)
    assert code == 2 and out == "" and "that is not a JWT" in err


@pytest.mark.parametrize("token", ["eyJh.eyJi.c2ln\nX-Evil: 1", "eyJh .eyJi.sig",
                                   "Bearer eyJh.eyJi.sig extra"])
def test_a_token_with_a_line_break_or_space_is_not_a_jwt_and_never_echoed(capsys, token,
                                                                          monkeypatch):
    for argv in (["get", CONV_ID, "--jwt", token], ["calls", "--jwt", token]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and "that is not a JWT" in err and "eyJ" not in err + out
    monkeypatch.setenv("JWT", token)
    code, _, err = run(capsys, "calls")
    assert code == 2 and "eyJ" not in err


def test_token_source_renews_minted_tokens_and_stops_given_ones(capsys, creds, rsa_key):
    tokens = convo.TokenSource(convo.resolve_credentials())
    first = tokens.token()
    tokens.expires = time.time() + 30  # within a minute of expiring: minted again
    assert tokens.token() != first and tokens.expires > time.time() + 800
    soon = _token(rsa_key, application_id=APP_ID, iat=int(time.time()),
                  exp=int(time.time()) + 40)
    given = convo.TokenSource(convo.resolve_credentials(token=soon))
    assert given.token() == soon and "expires in 3" in capsys.readouterr().err
    given.expires = time.time() - 1
    with pytest.raises(convo.ConvoError, match="the token in --jwt expired"):
        given.token()


# ---------------------------------------------------------------------------
# Vonage API access: the client against the fake Vonage API
# ---------------------------------------------------------------------------

def test_pages_stop_when_next_repeats_and_at_the_cap(api, monkeypatch):
    client = convo.ApiClient(api.url, "unused")
    looping = {"page_size": 10, "_embedded": [], "_links": {
        "self": {"href": f"{LINK_HOST}/v1/x?page_size=10"},
        "next": {"href": f"{LINK_HOST}/v1/x?page_size=10"}}}
    api.script("/v1/x", (200, looping), (200, looping))
    assert len(client.pages("/v1/x?page_size=100")) == 1  # next == self: no second fetch
    endless = [(200, {"_links": {"next": {"href": f"/v1/y?cursor={i}"}}}) for i in range(10)]
    api.script("/v1/y", *endless)
    monkeypatch.setattr(convo, "MAX_PAGES", 4)
    assert len(client.pages("/v1/y")) == 4


def test_get_refuses_an_expired_jwt_before_any_request(capsys, api, rsa_key):
    now = int(time.time())
    token = _token(rsa_key, iat=now - 7200, exp=now - 3600)
    code, out, err = run(capsys, "get", CONV_ID, "--api-url", api.url, "--jwt", token)
    assert code == 1 and out == "" and "expired at" in err and "1h ago" in err
    assert api.requests == [] and token not in err


def test_get_uses_the_jwt_environment_variable(capsys, monkeypatch, api, rsa_key):
    monkeypatch.setenv("JWT", _token(rsa_key, exp=int(time.time()) + 600))
    code, out, _ = run(capsys, "get", CONV_ID, "--api-url", api.url)
    assert code == 0 and out == SEED_TREE


def test_get_401_names_the_likely_cause(capsys, monkeypatch, api, other_rsa_key, tmp_path):
    wrong = tmp_path / "wrong.key"
    wrong.write_bytes(_pem(other_rsa_key))
    wrong.chmod(0o600)
    code, out, err = run(capsys, "get", CONV_ID, "--api-url", api.url, "--app-id", APP_ID,
                         "--key", str(wrong))
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert "the API rejected the token (HTTP 401 system:error:invalid-token: You did not" in err
    assert f"application {APP_ID} does not own this call, or {wrong} is not" in err


def test_get_401_with_a_given_token_says_when_it_expires(capsys, api, other_rsa_key):
    exp = int(time.time()) + 600
    code, _, err = run(capsys, "get", CONV_ID, "--api-url", api.url, "--jwt",
                       _token(other_rsa_key, exp=exp))
    assert code == 1 and "is signed with another key, or has expired (it expires at" in err
    assert convo.format_utc(exp) in err


def test_get_403_and_legacy_error_body(capsys, api, creds):
    api.script(f"/v1/conversations/{CONV_ID}", (403, {"code": "conversation:error:permission-denied",
                                                    "description": "expired JWT, invalid application."}))
    code, _, err = run(capsys, "get", CONV_ID, "--api-url", api.url)
    assert code == 1
    assert "HTTP 403 conversation:error:permission-denied: expired JWT, invalid application." in err


def test_get_404_explains_ended_calls_and_regions(capsys, api, creds):
    other = "CON-00000000-0000-4000-8000-000000000000"
    code, out, err = run(capsys, "get", other, "--api-url", api.url)
    assert (code, out) == (1, "")
    assert f"conversation {other} not found at {api.url}" in err
    assert "disappears when the call ends" in err and "--api-url with the region_url" in err


def test_get_retries_429_honouring_retry_after(capsys, api, creds):
    path = f"/v1/conversations/{CONV_ID}"
    past = "Wed, 21 Oct 2015 07:28:00 GMT"
    api.script(path + "/members/", (429, b"", {"Retry-After": "0"}),
               (429, b"", {"Retry-After": past}))
    code, out, err = run(capsys, "get", CONV_ID, "--api-url", api.url, "--concurrency", "1")
    assert code == 0 and out == SEED_TREE
    assert "HTTP 429; retrying in 0.00 s" in err


def test_get_fails_at_once_on_a_long_retry_after(capsys, api, creds):
    api.script(f"/v1/conversations/{CONV_ID}", (429, b"", {"Retry-After": "120"}))
    code, _, err = run(capsys, "get", CONV_ID, "--api-url", api.url)
    assert code == 1 and "retry after 120 s, over the 60 s convo waits" in err
    assert len(api.paths(f"/v1/conversations/{CONV_ID}")) - len(
        api.paths(f"/v1/conversations/{CONV_ID}/")) == 1


def test_get_gives_up_on_5xx_after_three_attempts(capsys, api, creds, monkeypatch):
    monkeypatch.setattr(convo, "BACKOFF_BASE_S", 0.001)
    path = f"/v1/conversations/{CONV_ID}"
    boom = (503, problem_body(500, "system:error:internal-error", "Something went wrong."))
    api.script(path, boom, boom, boom)
    code, _, err = run(capsys, "get", CONV_ID, "--api-url", api.url)
    assert code == 1
    assert "HTTP 503 (system:error:internal-error: Something went wrong.) after 3 attempts" in err
    assert api.paths().count(path) == 3


def test_get_does_not_retry_400(capsys, api, creds):
    path = f"/v1/conversations/{CONV_ID}"
    api.script(path, (400, problem_body(400, "http:error:validation-fail",
                                        "Input validation failure.")))
    code, _, err = run(capsys, "get", CONV_ID, "--api-url", api.url)
    assert code == 1 and "HTTP 400 http:error:validation-fail" in err
    assert api.paths().count(path) == 1


def test_backoff_is_exponential_with_jitter():
    assert convo.backoff_s(1, 0.0) == convo.BACKOFF_BASE_S * 0.5
    assert convo.backoff_s(2, 0.0) == convo.BACKOFF_BASE_S
    assert convo.backoff_s(3, 0.999) < convo.BACKOFF_BASE_S * 4 * 1.5


@pytest.mark.parametrize("value,seconds", [
    ("0", 0), ("7", 7), ("Sat, 21 Nov 2026 20:00:10 GMT", 10), ("soon", None), (None, None)])
def test_parse_retry_after(value, seconds):
    now = 1795291200.0  # 2026-11-21 20:00:00 UTC
    assert convo.parse_retry_after(value, now) == seconds


def test_get_bad_bodies(capsys, api, creds):
    path = f"/v1/conversations/{CONV_ID}"
    api.script(path, (200, b"<html>gateway</html>", {"Content-Type": "text/html"}))
    code, _, err = run(capsys, "get", CONV_ID, "--api-url", api.url)
    assert code == 1 and "sent non-JSON (text/html) starting '<html>gateway</html>'" in err
    api.script(path, ("truncate",))
    code, _, err = run(capsys, "get", CONV_ID, "--api-url", api.url)
    assert code == 1 and "truncated response" in err
    api.script(path, (200, b"", {"Content-Length": str(11 << 20)}))
    code, _, err = run(capsys, "get", CONV_ID, "--api-url", api.url)
    assert code == 1 and "over the 10 MiB limit" in err


def test_get_deeply_nested_api_response_is_bad_json(capsys, api, creds):
    api.script(f"/v1/conversations/{CONV_ID}",
               (200, b"[" * 100_000, {"Content-Type": "application/json"}))
    code, _, err = run(capsys, "get", CONV_ID, "--api-url", api.url)
    assert code == 1 and "sent non-JSON" in err and "Traceback" not in err


def test_get_body_over_the_limit_without_content_length(api):
    big = b"[" + b"0," * (5 << 20) + b"0]"
    api.script("/v1/big", (200, big, {"Content-Length": str(len(big))}))
    client = convo.ApiClient(api.url, "t")
    with pytest.raises(convo.ConvoError, match="over the 10 MiB limit"):
        client.get("/v1/big")


def test_redirect_to_another_host_drops_the_token(rsa_key, api):
    with FakeVonage(rsa_key.public_key()) as other:
        other.script("/moved", (200, {"ok": True}))
        api.script("/v1/old", (302, b"", {"Location": f"{other.url}/moved"}))
        client = convo.ApiClient(api.url, "secret-token")
        assert client.get("/v1/old") == {"ok": True}
        assert other.requests == [("/moved", False)]


def test_network_failures_are_one_line(capsys, creds):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = run(capsys, "get", CONV_ID, "--api-url", f"http://127.0.0.1:{port}")
    assert code == 1 and err == (f"convo: error: cannot connect to 127.0.0.1:{port}: "
                                 f"connection refused (check --api-url)\n")
    code, _, err = run(capsys, "get", CONV_ID, "--api-url", "https://no-such-host.invalid")
    assert code == 1 and "cannot resolve no-such-host.invalid" in err


def test_timeout_and_deadline(capsys, rsa_key, creds):
    with FakeVonage(rsa_key.public_key(), latency_s=0.5) as slow:
        code, _, err = run(capsys, "get", CONV_ID, "--api-url", slow.url, "--timeout", "0.1")
        assert code == 1 and "did not answer within 0.1 s (see --timeout)" in err
        client = convo.ApiClient(slow.url, "t", deadline_s=0.2)
        slow.script("/v1/z", *[(200, {"_links": {"next": {"href": f"/v1/z?{i}"}}})
                               for i in range(5)])
        with pytest.raises(convo.ConvoError, match="overall deadline of 0.2 s"):
            client.pages("/v1/z")


def _tls_context(tmp_path):
    """A self-signed certificate for 127.0.0.1, and a server context using it."""
    import datetime as dt
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "tls.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(_pem(key))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_file, key_file)
    return ctx, cert_file


def test_tls_is_verified_and_never_downgraded(capsys, monkeypatch, rsa_key, creds, tmp_path):
    ctx, cert_file = _tls_context(tmp_path)
    with FakeVonage(rsa_key.public_key(), tls=ctx) as secure, \
            FakeVonage(rsa_key.public_key()) as plain:
        code, _, err = run(capsys, "get", CONV_ID, "--api-url", secure.url)
        assert code == 1 and "TLS certificate of 127.0.0.1" in err
        assert "failed verification" in err
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # now trust the test certificate
        code, out, _ = run(capsys, "get", CONV_ID, "--api-url", secure.url)
        assert code == 0 and out == SEED_TREE
        secure.script(f"/v1/conversations/{CONV_ID}",
                      (301, b"", {"Location": f"{plain.url}/v1/conversations/{CONV_ID}"}))
        code, _, err = run(capsys, "get", CONV_ID, "--api-url", secure.url)
        assert code == 1 and "refusing a redirect from https to http" in err
        assert plain.requests == []


@pytest.mark.parametrize("url,trusted", [
    ("https://api-eu-3.vonage.com", True), ("https://api-us-1.nexmo.com", True),
    ("http://api-eu-3.vonage.com", False), ("https://evil.example.com", False),
    ("https://vonage.com.evil.example", False), ("https://x@api.vonage.com", False),
    ("https://api.vonage.com:8443", False), ("https://evilvonage.com", False), (None, False),
])
def test_is_vonage_url(url, trusted):
    assert convo.is_vonage_url(url) is trusted


@pytest.mark.parametrize("url", ["http://api.nexmo.com", "http://api.example.invalid:8080"])
def test_plain_http_to_another_machine_is_refused(capsys, creds, url, monkeypatch):
    code, _, err = run(capsys, "get", CONV_ID, "--api-url", url)
    assert code == 2 and "plain http:// would send the token in clear text" in err
    monkeypatch.setenv("VONAGE_API_URL", url)
    code, _, err = run(capsys, "calls")
    assert code == 2 and "VONAGE_API_URL" in err


def test_ctrl_c_ends_get_mid_request(tmp_path, key_file):
    """A server that accepts and never answers: Ctrl-C must not wait for --timeout."""
    listener = socket.create_server(("127.0.0.1", 0))
    asked = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
            if conn.recv(4096):
                asked.set()

    threading.Thread(target=accept, daemon=True).start()
    env = {**os.environ, "VONAGE_APPLICATION_ID": APP_ID, "CONVO_STATE_DIR": str(tmp_path),
           "VONAGE_APPLICATION_PRIVATE_KEY_PATH": str(key_file)}
    proc = subprocess.Popen(
        convo_command("get", CONV_ID, "--timeout", "30",
                      "--api-url", f"http://127.0.0.1:{listener.getsockname()[1]}"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert asked.wait(20), "get never sent its request"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=5)  # the old get waited out its 30 s timeout
    finally:
        proc.kill()
        listener.close()
        for conn in held:
            conn.close()
    assert proc.returncode == 130 and err == "convo: interrupted\n" and out == ""


def test_get_never_prints_the_token(capsys, api, rsa_key):
    token = _token(rsa_key, exp=int(time.time()) + 600)
    api.script(f"/v1/conversations/{CONV_ID}/members/", (500, b""))
    for flags in ([], ["-v"]):
        code, out, err = run(capsys, *flags, "get", CONV_ID, "--api-url", api.url, "--jwt", token)
        assert code == 0 and token not in out + err
    # -v logs each request with its host, without headers
    assert f"GET {api.url}/v1/conversations/{CONV_ID} -> 200" in err
    with pytest.raises(convo.ConvoError) as exc:
        convo.main(["--debug", "get", CONV_ID, "--api-url", api.url, "--jwt", token + "x"])
    assert token not in str(exc.value)


class _DripHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _drip(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        data = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 99999\r\n\r\n["
        ends = time.monotonic() + 20
        for byte in data + b" " * 99999:
            if time.monotonic() > ends:
                return
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.05)

    do_GET = do_POST = _drip

    def log_message(self, *args):
        pass


class Dripper(http.server.ThreadingHTTPServer):
    """A peer that answers a byte at a time, a byte every 0.05 s, and gives up after 20 s
    (so a test of a broken deadline fails instead of hanging)."""
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _DripHandler)


@pytest.fixture
def dripper():
    server = Dripper()
    thread = threading.Thread(target=server.serve_forever, args=(POLL_S,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("argv", [["get", CONV_ID], ["calls"], ["get", CONV_ID, "--watch"]])
def test_a_peer_that_drips_bytes_is_cut_off_at_the_deadline(capsys, creds, dripper, argv):
    code, out, err = run(capsys, *argv, "--api-url", dripper, "--timeout", "0.2")
    assert code == 1 and "did not answer within 0.2 s (see --timeout)" in err, err
    assert err.count("\n") == 1 or argv[0] == "calls"


def test_hostile_api_answers_are_one_line_errors(capsys, api, creds, monkeypatch):
    assert convo.parse_retry_after("²", 0.0) is None
    api.script(f"/v1/conversations/{CONV_ID}/members",
               (200, {"_embedded": {"members": []}, "_links": {"next": {"href": "http://[::1/x"}}}))
    code, _, err = run(capsys, "get", CONV_ID, "--api-url", api.url)
    assert code == 1 and "the API's next link 'http://[::1/x' is not a URL" in err
    api.script("/v1/x", *[(200, {"_embedded": {"items": list(range(100))},
                                 "_links": {"next": {"href": f"/v1/x?cursor={i}"}}})
                          for i in range(10)])
    monkeypatch.setattr(convo, "MAX_ITEMS", 250)
    client = convo.ApiClient(api.url, "t")
    assert len(client.pages("/v1/x", lambda page: page["_embedded"]["items"])) == 300
    assert "stopped after 3 pages and 300 items of /v1/x" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# Conversation documents: every shape, the tree and the timeline
# ---------------------------------------------------------------------------

#: The tutorial's sample_response.json is the seed's call but for two things: it has no
#: state, and the connected leg went to 447700000001.
SAMPLE_TREE = SEED_TREE.replace("  ACTIVE\n", "\n", 1).replace(
    "Unknown → 447700000003", "Unknown → 447700000001")
assert SAMPLE_TREE != SEED_TREE


def test_show_sample_response_legacy_shape(capsys):
    code, out, err = run(capsys, "show", str(HERE / "sample_response.json"))
    assert (code, err) == (0, "")
    assert out == SAMPLE_TREE


def test_show_ascii_fallback():
    conv = convo.normalize_conversation(json.loads((HERE / "sample_response.json").read_text()))
    lines = convo.render_tree(conv, convo.Style(unicode=False))
    assert lines[2] == "|- Member MEM-f44c872e-cba9-444f-88ae-0bfa630865a6  JOINED"
    assert lines[4] == "|  `- phone channel 797168e24c19a3c45e74e05b10fef2b5: 447700000001 -> 447700000002"
    assert all(line.isascii() for line in lines[:6])


def test_show_colour_only_when_asked():
    conv = convo.normalize_conversation(json.loads((HERE / "sample_response.json").read_text()))
    plain = "\n".join(convo.render_tree(conv, convo.Style()))
    coloured = "\n".join(convo.render_tree(conv, convo.Style(color=True)))
    assert "\033[" not in plain and "\033[32m" in coloured


def test_show_v1_conversation_with_full_members(capsys):
    code, out, err = run(capsys, "show", str(TESTDATA / "v1_conversation_members.json"))
    assert code == 0, err
    assert out.splitlines()[0] == ("Conversation CON-d66d47de-5bcb-4300-94f0-0c9d4b948e9a  "
                                   "ACTIVE")
    assert "├─ Member MEM-63f61863-4a51-4f6b-86e1-46edebio0391  JOINED" in out
    assert 'user my_user_name "My User Name" (USR-82e028d9-…)' in out
    assert "phone channel: ? → 447700900000" in out
    assert "app channel: ? → alice" in out
    assert "sip channel: ? → sip:bob@example.com" in out
    assert ("websocket channel 6c1a6c1a-0000-4000-8000-000000000001: ? → "
            "wss://example.com/socket") in out
    assert "4 members (3 JOINED, 1 LEFT)" in out
    assert "4 channels (1 phone, 1 app, 1 sip, 1 websocket) · 1 leg" in out
    assert "left 2023-12-07 00:00:01.000" in out


def test_show_bare_v1_conversation_suggests_get(capsys):
    code, out, _ = run(capsys, "show", str(TESTDATA / "v1_conversation_bare.json"))
    assert code == 0
    assert "holds no members" in out
    assert "python3 convo.py get CON-dd7ca47d-0e2f-4118-adc4-905e96431459" in out


@pytest.mark.parametrize("doc", [
    {}, {"members": "nope"}, {"members": [None, 3, {"channel": []}]},
    {"uuid": 5, "timestamp": "x", "properties": [], "members": [{"timestamp": {"joined": 9}}]},
    {"id": "CON-x", "members": [{"channel": {"type": "phone", "from": "x", "leg_ids": "y"}}]},
])
def test_show_survives_missing_and_odd_fields(capsys, tmp_path, doc):
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(doc))
    code, out, err = run(capsys, "show", str(path))
    assert code == 0 and err == "" and out.startswith("Conversation ")


def test_show_json_is_normalised_and_stable(capsys):
    code, out, _ = run(capsys, "show", "--json", str(HERE / "sample_response.json"))
    assert code == 0
    doc = json.loads(out)
    assert doc["id"] == CONV_ID and doc["ttl"] == 172800
    assert doc["members"][1]["user"] == {"id": "USR-b9948493-be4a-4b36-bb4d-c96bcc2af85b",
                                         "name": "vapi-user-f59c1ff26c0543fdb6c02fd30617a1c0"}
    assert doc["members"][1]["channel"]["leg_ids"] == ["30cecc87-7ac9-4d03-910a-e9d69558263c"]
    assert out == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    assert run(capsys, "show", "--json", str(HERE / "sample_response.json"))[1] == out


def test_unknown_events_are_shown_generically():
    conv = convo.normalize_conversation({"id": CONV_ID, "members": [], "events": [
        {"id": 9, "type": "custom:thing", "from": "MEM-x", "timestamp": "2018-10-25T09:26:19Z",
         "body": {"level": 3, "ok": True, "nested": {"no": 1}}},
        {"id": 10, "type": "sip:hangup", "body": {"reason": {"text": "normal", "sip_code": 200}}},
        {"id": 11}]})
    lines = "\n".join(convo.render_timeline(conv, convo.Style()))
    assert "custom:thing  level=3 ok=True" in lines and "MEM-x" in lines
    assert "hung up (normal, 200)" in lines and "(no type)" not in lines.split("\n")[1]
    assert lines.count("\n") == 4  # a title, a header and three rows: nothing dropped


def test_message_endpoints_are_shown_not_question_marks(capsys, tmp_path):
    path = tmp_path / "messages.json"
    path.write_text(json.dumps({"id": CONV_ID, "members": [
        {"id": "MEM-1", "state": "JOINED", "channel": {
            "type": "messenger", "from": {"type": "messenger", "id": "10152"},
            "to": {"type": "viber", "id": "20263"}}},
        {"id": "MEM-2", "state": "JOINED", "channel": {
            "type": "app", "from": {"type": ["phone", "sms"]},
            "to": {"type": "app", "user": "alice"}}},
        {"id": "MEM-3", "state": "JOINED", "channel": {
            "type": "sms", "from": ["sms", "mms"],
            "to": {"type": "sms", "number": "447700000004"}}}]}))
    code, out, _ = run(capsys, "show", str(path))
    assert code == 0 and "?" not in out
    assert "messenger channel: 10152 → 20263" in out
    assert "app channel: phone, sms → alice" in out
    assert "sms channel: sms, mms → 447700000004" in out


def test_on_a_narrow_terminal_ids_are_shortened_not_wrapped(tmp_path):
    argv = ["show", str(HERE / "sample_response.json")]
    env = {"TERM": "xterm", "COLUMNS": "60", "NO_COLOR": ""}
    shown = on_a_terminal(argv, env, until=b"2 channels").decode()
    plain = re.sub("\x1b\\[[0-9;]*m", "", shown).replace("\r", "").splitlines()
    # IDs shortened in the middle; a line too long even then keeps its times and numbers
    # (and the summary its counts): the terminal wraps it
    assert all(len(line) <= 60 for line in plain if re.search(r"\w{8}-\w{4}-", line))
    assert "CON-bc643220-2542-499a-892e-c982c4150c06" in shown and "…" in shown
    assert "\x1b[" in shown  # a terminal, and NO_COLOR empty: colour
    assert any(line.startswith("│  └─ phone channel 79716") for line in plain)  # glyphs kept
    quiet = on_a_terminal(argv, {**env, "NO_COLOR": "1"}, until=b"2 channels").decode()
    assert "\x1b[" not in quiet
    piped = subprocess.run([sys.executable, str(HERE / "convo.py"), *argv], text=True,
                           capture_output=True, env={**os.environ, **env}).stdout
    assert piped == SAMPLE_TREE  # piped output is never shortened


UNSAFE = "\x9b31m\u202etxt.exe\u2067\x7f\ud800"
UNSAFE_ESCAPED = "\\x9b31m\\u202etxt.exe\\u2067\\x7f\\ud800"

CON_HOSTILE = "CON-" + UNSAFE


def _hostile_document(tmp_path) -> Path:
    doc = {"id": CON_HOSTILE, "members": [{"id": "MEM-" + UNSAFE, "state": "JOINED",
           "_embedded": {"user": {"name": UNSAFE, "display_name": "\ud83d half an emoji"}},
           "channel": {"type": "phone", "to": {"number": UNSAFE}}}],
           "events": [{"id": 1, "type": "custom:" + UNSAFE, "from": UNSAFE,
                       "body": {UNSAFE: UNSAFE}}]}
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(doc))  # ASCII, with \\u escapes: surrogates are valid JSON
    return path


def test_show_escapes_control_characters_from_documents(capsys, tmp_path):
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps({"id": "CON-\x1b[31mX", "members": [
        {"id": "MEM-\x1b]0;pwned\x07", "channel": {"type": "phone",
                                                   "to": {"number": "\x1b[2J"}}}]}))
    code, out, _ = run(capsys, "show", str(path))
    assert code == 0 and "\x1b" not in out and "\x07" not in out
    assert "Conversation CON-\\x1b[31mX" in out and "MEM-\\x1b]0;pwned\\x07" in out


def test_show_escapes_c1_bidi_del_and_lone_surrogates_everywhere(capsys, tmp_path):
    code, out, err = run(capsys, "show", str(_hostile_document(tmp_path)))
    assert code == 0 and err == ""
    for char in "\x9b\u202e\u2067\x7f\ud800\ud83d":
        assert char not in out
    assert out.count(UNSAFE_ESCAPED) >= 5  # id, member, user, number, event type, body key
    assert "\\ud83d half an emoji" in out
    out.encode("utf-8")  # writable to any UTF-8 terminal


def test_json_output_is_valid_utf8_json_with_unsafe_code_points_escaped(capsys, tmp_path):
    code, out, _ = run(capsys, "show", "--json", str(_hostile_document(tmp_path)))
    assert code == 0
    for char in "\x9b\u202e\u2067\x7f\ud800\ud83d":
        assert char not in out
    out.encode("utf-8")
    assert json.loads(out)["id"] == "CON-" + UNSAFE_ESCAPED  # the normalised, shown form


def seed_rtc_events(conv: str = CONV_ID) -> list[dict]:
    """The conversation events send --rtc plays for one call (seed 004's eight, then
    hang-up's), in order, as the RTC event webhook carries them."""
    inbound = {"uuid": "797168e2-4c19-4a3c-85e7-4e05b10fef2b", "from": "447700000001",
               "to": "447700000002", "conversation_uuid": conv}
    outbound = {"uuid": "30cecc87-7ac9-4d03-910a-e9d69558263c", "from": "Unknown",
                "to": "447700000003", "conversation_uuid": conv}
    steps = convo.call_rtc_events(inbound, outbound, app_id=APP_ID)
    order = ["answer", ("outbound", "ringing"), ("outbound", "answered"),
             ("inbound", "completed"), ("outbound", "completed")]
    events = [e for key in order for e in steps[key]]
    return [convo.stamped_rtc(e, i, FIXED_NOW + i) for i, e in enumerate(events, 1)]


def test_a_conversation_is_built_from_its_events_in_any_order_and_once():
    import random
    events = seed_rtc_events()
    assert len(events) == 12 and [e["id"] for e in events] == list(range(1, 13))
    in_order = convo.EventConversation(CONV_ID)
    for event in events:
        in_order.add(event)
    doc = in_order.document()
    assert doc["state"] == "ENDED" and in_order.ended
    assert [m["state"] for m in doc["members"]] == ["LEFT", "LEFT"]
    assert {leg["uuid"]: leg["status"] for leg in doc["legs"]} == {
        "797168e2-4c19-4a3c-85e7-4e05b10fef2b": "completed",
        "30cecc87-7ac9-4d03-910a-e9d69558263c": "completed"}
    assert [m["channel"]["leg_ids"] for m in doc["members"]] == [
        ["797168e2-4c19-4a3c-85e7-4e05b10fef2b"], ["30cecc87-7ac9-4d03-910a-e9d69558263c"]]
    shuffled = events + events[3:7]  # retries
    random.Random(4).shuffle(shuffled)
    built, odd = convo.build_conversations(shuffled)
    assert odd == [] and list(built) == [CONV_ID]
    assert built[CONV_ID].document() == doc  # the same, whatever the order, each id once
    # a late event lands in its place: the member is JOINED until its member:left comes
    late = convo.EventConversation(CONV_ID)
    for event in events[:9] + events[10:]:
        late.add(event)
    assert not late.ended
    changes = late.add(events[9])  # member:left of the first member, late
    assert late.ended and ("member" in [kind for kind, _, _ in changes])


def test_odd_events_never_break_the_tree():
    events = seed_rtc_events()
    odd = [{"type": "member:joined", "id": 99},  # no conversation
           {**events[0], "id": "7"}, {**events[0], "id": 13, "body": ["x"]}, "text",
           {**events[0], "id": 14, "type": "custom:hello\x1b[2J"},
           {**events[1], "id": 15, "type": "member:left", "body": {"member_id": "MEM-never"}}]
    built, skipped = convo.build_conversations(events[:8] + odd)
    assert [why for _, why in skipped] == ["no conversation_id", "no integer id",
                                           "its body is not an object", "not a JSON object"]
    doc = built[CONV_ID].document()
    assert [m["state"] for m in doc["members"]][:2] == ["JOINED", "JOINED"]
    lines = convo.render_tree(convo.normalize_conversation(doc), convo.Style())
    assert "\x1b" not in "\n".join(lines) and "MEM-never" in "\n".join(lines)


# ---------------------------------------------------------------------------
# Hosts and regions
# ---------------------------------------------------------------------------

def test_candidate_hosts_order(capsys, monkeypatch):
    import argparse
    args = argparse.Namespace(api_url=None)
    state = {"conversation_uuid": CONV_ID, "region_url": "https://api-eu-3.vonage.com/"}

    def first(state, conv_id):
        return convo.candidate_hosts(args.api_url, state, conv_id)[0][0]

    assert first(state, CONV_ID) == "https://api-eu-3.vonage.com"
    assert first(state, "CON-other") == convo.API_URL
    monkeypatch.setenv("VONAGE_API_URL", "http://127.0.0.1:9")
    assert first(state, CONV_ID) == "http://127.0.0.1:9"
    args.api_url = ["http://localhost:8"]
    assert first(state, CONV_ID) == "http://localhost:8"
    monkeypatch.delenv("VONAGE_API_URL")
    args.api_url = None
    planted = {"conversation_uuid": CONV_ID, "region_url": "http://attacker.example"}
    assert first(planted, CONV_ID) == convo.API_URL
    assert "ignoring the recorded region_url 'http://attacker.example'" in capsys.readouterr().err
    hosts, named = convo.candidate_hosts(args.api_url, state, CONV_ID)
    assert not named and len(hosts) == 7 and set(hosts) == {convo.API_URL, *convo.REGIONAL_URLS}
    monkeypatch.setenv("VONAGE_API_URL", "http://127.0.0.1:9, http://127.0.0.1:10")
    assert convo.candidate_hosts(args.api_url, state, CONV_ID) == (
        ["http://127.0.0.1:9", "http://127.0.0.1:10"], True)


LEG_IN, LEG_OUT = "797168e24c19a3c45e74e05b10fef2b5", "30cecc87-7ac9-4d03-910a-e9d69558263c"
NO_CONV = "CON-00000000-0000-4000-8000-000000000000"


@pytest.fixture
def regions(rsa_key):
    """Two fake regions: 'us' has no call, 'eu' has the seed's call."""
    with FakeVonage(rsa_key.public_key(), conversation={"id": NO_CONV}, members=[], events=[],
                    calls=[]) as us, FakeVonage(rsa_key.public_key()) as eu:
        yield us, eu


@pytest.mark.parametrize("leg", [LEG_IN, LEG_OUT, LEG_OUT.replace("-", ""), LEG_OUT.upper()])
def test_get_by_leg_uuid_in_any_region(capsys, creds, regions, leg):
    us, eu = regions
    code, out, err = run(capsys, "get", leg, "--api-url", us.url, "--api-url", eu.url)
    assert code == 0 and out == SEED_TREE
    assert f"is in conversation {CONV_ID} (found in 127.0.0.1:{eu.url.rsplit(':', 1)[1]})" in err


def test_get_by_conversation_id_in_any_case_and_region(capsys, creds, regions):
    us, eu = regions
    code, out, err = run(capsys, "get", "con-" + CONV_ID[4:], "--api-url", us.url,
                         "--api-url", eu.url)
    assert code == 0 and out == SEED_TREE and "found in 127.0.0.1:" in err
    assert us.paths(f"/v1/conversations/{CONV_ID}")  # it asked the other region too


def test_get_by_api_url(capsys, creds, regions):
    us, eu = regions
    code, out, _ = run(capsys, "get", f"{eu.url}/v1/conversations/{CONV_ID}",
                       "--api-url", eu.url)
    assert code == 0 and out == SEED_TREE
    code, out, _ = run(capsys, "get", f"{eu.url}/v1/calls/{LEG_OUT}", "--api-url", eu.url)
    assert code == 0 and out == SEED_TREE


def test_get_refuses_a_url_on_a_host_that_is_not_vonage_without_sending_the_token(
        capsys, creds, regions):
    us, eu = regions
    code, out, err = run(capsys, "get", f"{eu.url}/v1/conversations/{CONV_ID}")
    assert code == 2 and out == "" and "is not a Vonage host" in err
    assert eu.paths() == []
    code, _, err = run(capsys, "get", f"https://api.example.com/v1/calls/{LEG_OUT}")
    assert code == 2 and "api.example.com is not a Vonage host" in err


def test_get_remembers_where_it_found_an_id(capsys, creds, regions, monkeypatch):
    """Through main(): the first get asks api.nexmo.com ('us' here, which answers 404),
    then the other regions, and finds it in 'eu'; the next get asks 'eu' first, and
    only 'eu'. (The fakes stand in for Vonage's hosts: the list of hosts, and the rule
    that trusts them, are pointed at the two fakes.)"""
    us, eu = regions
    monkeypatch.setattr(convo, "API_URL", us.url)
    monkeypatch.setattr(convo, "REGIONAL_URLS", (eu.url,))
    monkeypatch.setattr(convo, "is_vonage_url", lambda url: url in (us.url, eu.url))
    code, out, err = run(capsys, "get", CONV_ID)
    assert code == 0 and out == SEED_TREE and "found in 127.0.0.1" in err
    assert us.paths(f"/v1/conversations/{CONV_ID}")  # asked first, answered 404
    assert eu.paths(f"/v1/conversations/{CONV_ID}")
    asked_us = len(us.requests)
    code, out, err = run(capsys, "get", CONV_ID)
    assert code == 0 and out == SEED_TREE and "found in" not in err
    assert len(us.requests) == asked_us  # eu was asked first, and had it


def test_a_remembered_host_is_trusted_only_if_it_is_vonage_s(tmp_path):
    convo.remember_region(CONV_ID, "https://api-eu-3.vonage.com")
    convo.remember_region("CON-x", "http://planted.example")
    assert convo.candidate_hosts(None, None, CONV_ID)[0][0] == "https://api-eu-3.vonage.com"
    assert convo.candidate_hosts(None, None, "CON-x")[0][0] == convo.API_URL  # never trusted


# ---------------------------------------------------------------------------
# calls
# ---------------------------------------------------------------------------

def test_calls_lists_live_calls_across_regions(capsys, creds, regions):
    us, eu = regions
    code, out, err = run(capsys, "calls", "--api-url", us.url, "--api-url", eu.url)
    assert code == 0 and err == ""
    assert out.splitlines()[0] == CONV_ID
    for needle in (LEG_IN, LEG_OUT, "inbound", "outbound", "447700000001 → 447700000002",
                   "answered", eu.url.split("//")[1], f"next: python3 convo.py get {CONV_ID}",
                   "2 legs in 1 conversation"):
        assert needle in out
    assert us.paths("/v1/calls") and eu.paths("/v1/calls")  # both asked
    assert all("status=" in p for p in eu.paths("/v1/calls"))


def test_calls_json_and_none(capsys, creds, regions):
    us, eu = regions
    code, out, _ = run(capsys, "calls", "--api-url", us.url, "--api-url", eu.url, "--json")
    assert code == 0 and json.loads(out) == {CONV_ID: SEED["calls"]}
    code, out, _ = run(capsys, "calls", "--api-url", us.url)
    assert code == 0 and out == "No call in progress.\n"


def test_calls_all_adds_the_calls_that_ended_in_the_last_hour(capsys, creds, rsa_key):
    recent = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() - 600))
    ended = dict(SEED["calls"][0], status="completed", start_time=recent)
    with FakeVonage(rsa_key.public_key(), calls=[ended]) as fake:
        code, out, _ = run(capsys, "calls", "--api-url", fake.url)
        assert code == 0 and out == "No call in progress.\n"
        code, out, _ = run(capsys, "calls", "--api-url", fake.url, "--all")
        # 10 minutes ago, give or take the seconds the test itself took
        assert code == 0 and "completed (ended)" in out and re.search(r" 10m( \d+s)? ago", out)


def test_calls_one_region_failing_is_a_warning(capsys, creds, regions):
    us, eu = regions
    us.script("/v1/calls", *[(400, problem_body(400, "http:error:validation-fail", "No."))] * 3)
    code, out, err = run(capsys, "calls", "--api-url", us.url, "--api-url", eu.url)
    assert code == 0 and CONV_ID in out and "warning: 127.0.0.1:" in err


def test_a_call_listing_is_filtered_on_our_side(capsys, rsa_key, creds):
    calls = [{**SEED["calls"][0], "conversation_uuid": None},
             {**SEED["calls"][0], "uuid": "aaaa", "status": "completed"}]
    with FakeVonage(rsa_key.public_key(), calls=calls) as fake:
        code, out, err = run(capsys, "get", "--api-url", fake.url)
    assert code == 1 and "(no conversation)" not in out + err and "no call in progress" in err


# ---------------------------------------------------------------------------
# Watching: get --watch and serve --watch
# ---------------------------------------------------------------------------

class WatchClock:
    """A watch's clock in a test: each sleep moves it on at once, then runs
    on_tick(n) before the n-th poll, the test's way to move the fake's call on, on
    the watch's own schedule. No test waits for an interval to pass."""

    def __init__(self, on_tick=lambda n: None, most: int = 100) -> None:
        self.now, self.ticks, self.on_tick, self.most = 1000.0, 0, on_tick, most
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> bool:
        self.slept.append(seconds)
        self.now += max(seconds, 0.0)
        self.ticks += 1
        self.on_tick(self.ticks)
        return self.ticks > self.most  # a watch that never ends is stopped here


def watch(clock: WatchClock, *argv: str) -> tuple[object, str]:
    """Run `get --watch ...` as main would, on the test's clock: (exit code or the
    ConvoError, the output)."""
    args = convo.build_parser().parse_args(["get", "--watch", *argv])
    out = Utf8Out()
    try:
        result: object = convo.cmd_get(args, out, clock=clock, sleep=clock.sleep)
    except convo.ConvoError as e:
        result = e
    return result, out.getvalue()


def test_get_interval_and_watch_options_are_checked(capsys, creds):
    for argv, needle in ((["--watch", "--interval", "0.1"], "--interval must be 0.5 to 60"),
                         (["--watch", "--interval", "61"], "--interval must be 0.5 to 60"),
                         (["--watch", "--json", "--events"], "drop --events")):
        code, _, err = run(capsys, "get", CONV_ID, *argv)
        assert code == 2 and needle in err


def test_watch_follows_the_seed_call_until_hang_up(creds, rsa_key):
    with FakeVonage(rsa_key.public_key()) as fake:
        fake.play(seed_call_steps(), step=3)
        asked = {}  # step -> what the poll at that step asked for

        def tick(n):
            asked[fake.step] = [p.split("?")[0] for p in fake.requests_since_step()]
            fake.advance()  # 4: member B joined, ... 9: hang-up, the conversation is gone
        result, out = watch(WatchClock(tick), CONV_ID, "--api-url", fake.url)
    before, after = out.split("Watching:")
    assert "Member MEM-25ccda92-839d-4ac6-a7b2-de310224878b  INVITED" in before
    lines = [line.strip() for line in after.splitlines()]
    joined = next(i for i, line in enumerate(lines) if line.startswith("4  "))
    assert lines[joined].split()[:3] == ["4", "09:26:30.273", "vapi-user-f59c1ff26c0543fdb…"]
    assert lines[joined + 1] == "→ MEM-25ccda92… INVITED → JOINED"
    # a change costs only what changed: the events, then the member list
    assert asked[4][:2] == [f"/v1/conversations/{CONV_ID}/events",
                            f"/v1/conversations/{CONV_ID}/members"]
    for step in (5, 6, 7, 8):
        assert any(line.startswith(f"{step}  09:26:30") for line in lines)
    assert "→ leg 797168e2… answered" in lines  # event 6
    assert result == 0
    assert lines[-1].startswith("hung up · watched ") and "2 members · 2 legs · 8 events · " \
        "events between the last poll and the hang-up may be missing" in lines[-1]
    # the final tree is the end, not the last poll's picture of a live call
    final = after[after.rindex("Conversation CON-"):]
    assert final.startswith(f"Conversation {CONV_ID}  ENDED")
    assert "JOINED" not in final and final.count("  LEFT") == 2


def test_watch_and_events_name_the_same_member_for_every_event(capsys, creds, rsa_key):
    with FakeVonage(rsa_key.public_key()) as fake:
        code, table, _ = run(capsys, "get", CONV_ID, "--api-url", fake.url, "--events")
        fake.play(seed_call_steps(), step=0)
        result, out = watch(WatchClock(lambda n: fake.advance()), CONV_ID, "--api-url",
                            fake.url)
    assert code == 0 and result == 0
    timeline = table[table.index("Events (8)"):].splitlines()[2:]
    events = {line.split()[0]: line.split()[2] for line in timeline}
    watched = {}
    for line in out.split("Watching:")[1].splitlines():
        words = line.split()
        if len(words) > 2 and words[0] in events and words[1].startswith("09:26"):
            watched[words[0]] = words[2]
    assert sorted(watched) == sorted(events)
    for ident, who in events.items():
        shown = watched[ident]
        assert shown == who or (shown.endswith("…") and who.startswith(shown[:-1])), ident


def test_watch_costs_one_request_per_interval_while_nothing_happens(creds, rsa_key):
    with FakeVonage(rsa_key.public_key()) as fake:
        fake.play(seed_call_steps(), step=8)
        per_interval = []

        def tick(n):
            if n > 1:
                per_interval.append([p.split("?")[0] for p in fake.requests_since_step()])
            fake.goto(9 if n == 6 else 8)  # count from here; then hang up
        result, out = watch(WatchClock(tick), CONV_ID, "--api-url", fake.url)
    assert result == 0 and " · watched " in out
    assert per_interval == [[f"/v1/conversations/{CONV_ID}/events"]] * 5


def test_watch_legs_follows_the_voice_api_and_json_lines(creds, rsa_key):
    with FakeVonage(rsa_key.public_key()) as fake:
        fake.play(seed_call_steps(), step=1)
        # the outbound leg appears, ringing; then it is answered; then hang-up
        result, out = watch(WatchClock(lambda n: fake.goto({1: 2, 2: 3}.get(n, 9))),
                            CONV_ID, "--api-url", fake.url, "--legs", "--json")
    records = [json.loads(line) for line in out.splitlines()]
    assert [c["status"] for c in records[0]["conversation"]["legs"]] == ["ringing"]
    changes = [r for r in records if r["type"] == "change" and "leg" in r]
    assert changes[0]["leg"]["uuid"] == LEG_OUT and changes[0]["to"] == "ringing"
    assert (changes[1]["from"], changes[1]["to"]) == ("ringing", "answered")
    assert result == 0 and records[-1]["summary"]["reason"] == "hung up"
    end = records[-1]["conversation"]  # the end as far as known: the legs completed
    assert end["state"] == "ENDED" and {leg["status"] for leg in end["legs"]} == {"completed"}
    assert records[-1]["summary"]["missed"] is True
    assert {r["type"] for r in records} == {"snapshot", "event", "change", "end"}


def test_watch_slows_down_on_503_and_goes_on(creds, rsa_key):
    with FakeVonage(rsa_key.public_key()) as fake:
        fake.play(seed_call_steps(), step=7)

        def tick(n):
            if n == 1:
                fake.script(f"/v1/conversations/{CONV_ID}/events",
                            *[(503, {"title": "busy"}, {"Retry-After": "0"})] * 3)
                fake.advance()
            if n == 6:
                fake.advance()  # hang-up
        clock = WatchClock(tick)
        result, out = watch(clock, CONV_ID, "--api-url", fake.url, "--interval", "0.5")
    assert result == 0 and "8  09:26:30" in out and " · watched " in out
    assert clock.slept[:3] == [0.5, 4.0, 0.5]  # 4 s after a poll that got 503s, then 0.5


def test_watch_ends_when_the_api_is_lost(creds, rsa_key):
    fake = FakeVonage(rsa_key.public_key())
    with fake:
        fake.play(seed_call_steps(), step=8)

        def tick(n):
            if n == 1:
                fake.server.shutdown()  # then every connection is refused
                fake.server.server_close()
        result, out = watch(WatchClock(tick), CONV_ID, "--api-url", fake.url, "--timeout",
                            "0.2", "--interval", "0.5")
    assert isinstance(result, convo.ConvoError) and "lost the API for over 0.6 s" in str(result)
    # no silent wait: one line says it is retrying, and why
    assert out.count("retrying: ") == 1 and "connection refused" in out


def test_odd_items_in_an_events_page_never_break_get_or_a_watch(capsys, rsa_key, creds):
    with FakeVonage(rsa_key.public_key()) as fake:
        fake.play(seed_call_steps(), step=8)
        fake.script(f"/v1/conversations/{CONV_ID}/events",
                    (200, {"_embedded": {"events": [1, "x", None, []]}, "_links": {}}))
        code, out, err = run(capsys, "get", CONV_ID, "--events", "--api-url", fake.url)
        assert code == 0 and "Traceback" not in err
        fake.script(f"/v1/conversations/{CONV_ID}/events",
                    (200, [1, "x", None, {"id": 99, "type": "odd"}]))
        result, out = watch(WatchClock(lambda n: n == 2 and fake.advance()), CONV_ID,
                            "--api-url", fake.url)
        assert result == 0 and "hung up" in out


#: Ctrl-C, and SIGTERM, which ends a command as Ctrl-C does: (signal, exit code, last words).
STOPS = [pytest.param(signal.SIGINT, 130, "convo: interrupted\n", id="ctrl-c"),
         pytest.param(signal.SIGTERM, 143, "convo: terminated\n", id="sigterm")]


@pytest.mark.parametrize("sig,code,words", STOPS)
def test_ctrl_c_ends_a_watch_with_its_summary(tmp_path, key_file, rsa_key, sig, code, words):
    with FakeVonage(rsa_key.public_key()) as fake:
        fake.play(seed_call_steps(), step=8)
        env = {**os.environ, "VONAGE_APPLICATION_ID": APP_ID, "CONVO_STATE_DIR": str(tmp_path),
               "VONAGE_APPLICATION_PRIVATE_KEY_PATH": str(key_file)}
        proc = subprocess.Popen(convo_command("get", CONV_ID, "--watch", "--api-url", fake.url),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
        try:
            out = pipe_lines(proc.stdout)
            out.expect("Watching:")
            proc.send_signal(sig)
            summary = out.expect(" watched ")[-1]
            proc.wait(timeout=5)
            err = proc.stderr.read()
        finally:
            proc.kill()
    assert proc.returncode == code and summary.startswith("interrupted · watched ")
    assert err.endswith(words)


# ---------------------------------------------------------------------------
# get
# ---------------------------------------------------------------------------

def test_get_prints_the_tree(capsys, api, creds):
    code, out, err = run(capsys, "get", CONV_ID, "--api-url", api.url)
    assert (code, err) == (0, "")
    assert out == SEED_TREE
    assert set(api.paths()) == {  # fetched concurrently: the set is what counts
        f"/v1/conversations/{CONV_ID}", f"/v1/conversations/{CONV_ID}/members?page_size=100",
        *(f"/v1/conversations/{CONV_ID}/members/{m['id']}" for m in SEED["members"])}


def test_get_json_then_show_gives_the_same_tree(capsys, api, creds, tmp_path):
    code, out, _ = run(capsys, "get", CONV_ID, "--api-url", api.url, "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["id"] == CONV_ID and doc["members"] == SEED["members"]  # field names untouched
    copy = tmp_path / "saved.json"
    copy.write_text(out)
    assert run(capsys, "show", str(copy)) == (0, SEED_TREE, "")


def test_get_follows_member_pages_on_its_own_origin(capsys, rsa_key, creds):
    with FakeVonage(rsa_key.public_key(), members=many_members(7), page_limit=3) as fake:
        code, out, err = run(capsys, "get", CONV_ID, "--api-url", fake.url)
    assert code == 0, err
    assert "7 members (7 JOINED)" in out
    assert len(fake.paths(f"/v1/conversations/{CONV_ID}/members?")) == 3
    assert all(sent for _, sent in fake.requests)  # the next links named api.nexmo.com


def test_get_output_is_identical_whatever_the_concurrency(capsys, rsa_key, creds):
    outs = set()
    with FakeVonage(rsa_key.public_key(), members=many_members(20), page_limit=6) as fake:
        for n in ("1", "3", "16"):
            code, out, _ = run(capsys, "get", CONV_ID, "--api-url", fake.url, "--concurrency", n)
            assert code == 0
            outs.add(out)
    assert len(outs) == 1 and "user19" in outs.pop()


def test_get_uses_embedded_legacy_members(capsys, rsa_key, creds):
    legacy = json.loads((HERE / "sample_response.json").read_text())
    with FakeVonage(rsa_key.public_key(), conversation=legacy) as fake:
        fake.conversation["id"] = CONV_ID  # the fake routes on id
        code, out, _ = run(capsys, "get", CONV_ID, "--api-url", fake.url)
    assert code == 0 and out == SAMPLE_TREE
    assert not fake.paths(f"/v1/conversations/{CONV_ID}/members/")


def test_get_member_gone_between_list_and_detail(capsys, api, creds):
    api.script(f"/v1/conversations/{CONV_ID}/members/{SEED['members'][1]['id']}",
               (404, problem_body(404, "conversation:error:member-not-found", "gone")))
    code, out, _ = run(capsys, "get", CONV_ID, "--api-url", api.url)
    assert code == 0
    assert "left the call before its details could be fetched" in out
    assert "2 members (2 JOINED) · 1 channel (1 phone)" in out


@pytest.mark.parametrize("bad", ["CON-123", "bc643220-2542-499a-892e-c982c4150c0",
                                 "CON-bc643220-2542-499a-892e-c982c4150c06/../x", "CON-\x1b[31m",
                                 "https://api.nexmo.com/v2/calls/x"])
def test_get_rejects_bad_ids(capsys, creds, bad):
    code, out, err = run(capsys, "get", bad)
    assert code == 2 and out == ""
    assert "expected CON- and a UUID, e.g. CON-bc643220" in err and "\x1b" not in err


def test_get_without_id_uses_the_state_file_or_asks(capsys, api, creds, tmp_path):
    api.calls = []  # nothing recorded, and no call in progress
    code, _, err = run(capsys, "get", "--api-url", api.url)
    assert code == 1 and "no call in progress" in err
    api.calls = copy.deepcopy(SEED["calls"])
    convo.write_state({"conversation_uuid": CONV_ID, "region_url": "https://api-eu-1.vonage.com",
                       "uuid": "797168e24c19a3c45e74e05b10fef2b5", "time": "2018-10-25T09:26:19Z"})
    code, out, err = run(capsys, "get", "--api-url", api.url)
    assert code == 0 and out == SEED_TREE
    assert f"using the latest call that serve recorded: {CONV_ID}" in err


def test_get_without_id_picks_the_one_call_in_progress_or_asks(capsys, creds, regions):
    us, eu = regions
    code, out, err = run(capsys, "get", "--api-url", us.url, "--api-url", eu.url)
    assert code == 0 and out == SEED_TREE and f"the call in progress: {CONV_ID}" in err
    other = dict(SEED["calls"][0], uuid="aaaaaaaa-0000-4000-8000-000000000001",
                 conversation_uuid=NO_CONV)
    us.calls = [other]
    code, out, err = run(capsys, "get", "--api-url", us.url, "--api-url", eu.url)
    assert code == 2 and CONV_ID in out and NO_CONV in out
    assert "2 conversations are in progress: pick one" in err


def test_get_survives_half_an_emoji_in_a_display_name(capsys, rsa_key, creds):
    members = copy.deepcopy(SEED["members"])
    members[0]["_embedded"]["user"]["display_name"] = "Ann \ud83d"
    with FakeVonage(rsa_key.public_key(), members=members) as fake:
        code, out, _ = run(capsys, "get", CONV_ID, "--api-url", fake.url)
        assert code == 0 and '"Ann \\ud83d"' in out
        code, out, _ = run(capsys, "get", CONV_ID, "--api-url", fake.url, "--json")
        assert code == 0 and "\\ud83d" in out and "\ud83d" not in out
        assert json.loads(out)["members"][0]["_embedded"]["user"]["display_name"] == "Ann \ud83d"


SEED_EVENTS = """\
Events (8)
  ID  TIME          MEMBER                                      TYPE           WHAT
  1   09:26:19.207  USR-33a51f4d-d06b-42f6-a525-90d2859ab9f6    member:joined  joined via phone 447700000001 → 447700000002
  2   09:26:24.384  vapi-user-f59c1ff26c0543fdb6c02fd30617a1c0  sip:ringing    ringing 447700000003
  3   09:26:30.277  vapi-user-f59c1ff26c0543fdb6c02fd30617a1c0  sip:answered   answered (outbound)
  4   09:26:30.273  vapi-user-f59c1ff26c0543fdb6c02fd30617a1c0  member:joined  joined via phone Unknown → 447700000003
  5   09:26:30.274  vapi-user-f59c1ff26c0543fdb6c02fd30617a1c0  member:media   audio on
  6   09:26:30.340  USR-33a51f4d-d06b-42f6-a525-90d2859ab9f6    sip:answered   answered (inbound)
  7   09:26:30.337  USR-33a51f4d-d06b-42f6-a525-90d2859ab9f6    member:joined  joined via phone 447700000001 → 447700000002
  8   09:26:30.337  USR-33a51f4d-d06b-42f6-a525-90d2859ab9f6    member:media   audio on
"""


@pytest.mark.parametrize("wrapped", [False, True])
def test_get_events_prints_the_seed_timeline(capsys, rsa_key, creds, wrapped):
    with FakeVonage(rsa_key.public_key(), events_wrapped=wrapped) as fake:
        code, out, err = run(capsys, "get", CONV_ID, "--api-url", fake.url, "--events")
    assert code == 0, err
    assert out == SEED_TREE + "\n" + SEED_EVENTS
    assert f"/v1/conversations/{CONV_ID}/events?page_size=100" in fake.paths()


def test_get_legs_under_their_channels_and_unmatched_apart(capsys, rsa_key, creds):
    stray = dict(SEED["calls"][0], uuid="aaaaaaaa-0000-4000-8000-000000000009", status="failed")
    with FakeVonage(rsa_key.public_key(), calls=[*SEED["calls"], stray]) as fake:
        code, out, _ = run(capsys, "get", CONV_ID, "--api-url", fake.url, "--legs")
    assert code == 0
    assert ("│     └─ leg 797168e24c19a3c45e74e05b10fef2b5 · answered · inbound · "
            "447700000001 → 447700000002 · started 09:26:18") in out
    assert "└─ leg 30cecc87-7ac9-4d03-910a-e9d69558263c · answered · outbound" in out
    assert ("Legs on no member's channel:\n  leg aaaaaaaa-0000-4000-8000-000000000009 · failed"
            in out)
    assert f"/v1/calls?conversation_uuid={CONV_ID}&page_size=100" in fake.paths()


def test_get_events_and_legs_json_then_show(capsys, rsa_key, creds, tmp_path):
    many = [dict(SEED["events"][i % 8], id=i + 1) for i in range(250)]
    with FakeVonage(rsa_key.public_key(), events=many, page_limit=100) as fake:
        code, out, _ = run(capsys, "get", CONV_ID, "--api-url", fake.url, "--events", "--legs",
                           "--json")
        code2, tree, _ = run(capsys, "get", CONV_ID, "--api-url", fake.url, "--events",
                             "--legs")
    assert code == code2 == 0
    doc = json.loads(out)
    assert len(doc["events"]) == 250 and doc["legs"] == SEED["calls"]
    assert len(fake.paths(f"/v1/conversations/{CONV_ID}/events")) == 2 * 3  # ceil(250/100)
    saved_file = tmp_path / "saved.json"
    saved_file.write_text(out)
    assert run(capsys, "show", str(saved_file))[1] == tree


# ---------------------------------------------------------------------------
# app: the application and its numbers, against a fake Applications and Numbers API
# ---------------------------------------------------------------------------

@pytest.fixture
def account(monkeypatch):
    """A fake account (Basic auth checked), its key and secret in the environment."""
    monkeypatch.setenv("VONAGE_API_KEY", ACCOUNT_KEY)
    monkeypatch.setenv("VONAGE_API_SECRET", ACCOUNT_SECRET)
    monkeypatch.setenv("VONAGE_APPLICATION_ID", APP_ID)
    with FakeAccount() as fake:
        yield fake


def app_json(fake, app_id=APP_ID) -> str:
    """The application as the fake API holds it, as JSON text."""
    with fake.lock:
        return json.dumps(fake.apps[app_id])


def test_app_shows_its_webhooks_numbers_and_what_will_keep_calls_from_working(capsys, account):
    code, out, err = run(capsys, "app", "--api-url", account.url)
    assert code == 0, err
    assert out.startswith(f"Application My Server Demo  {APP_ID}\n")
    assert ("  voice answer URL        GET  http://example.ngrok.app/webhooks/answer  "
            "(connect 1000 ms, socket 5000 ms)") in out
    assert "signed callbacks true, conversations kept 48 h, legs kept 7 days" in out
    assert "problem: its answer URL is not https://" in out
    assert "problem: no number is linked to it" in out and "app link NUMBER" in out
    assert account.sent() == ["GET /v2/applications/" + APP_ID,
                              f"GET /account/numbers?application_id={APP_ID}&size=100"]
    code, out, _ = run(capsys, "app", "--json", "--api-url", account.url)
    assert code == 0 and json.loads(out) == {"application": json.loads(app_json(account)),
                                             "numbers": []}
    assert ACCOUNT_SECRET not in out


def test_app_errors_are_one_line_each(capsys, account, monkeypatch):
    monkeypatch.setenv("VONAGE_API_SECRET", "wrong")
    code, _, err = run(capsys, "app", "--api-url", account.url)
    assert code == 1 and "rejected the API key and secret (HTTP 401" in err
    assert "from $VONAGE_API_KEY and $VONAGE_API_SECRET" in err and "wrong" not in err
    monkeypatch.setenv("VONAGE_API_SECRET", ACCOUNT_SECRET)
    code, _, err = run(capsys, "app", "--api-url", account.url, "--app-id",
                       "aaaaaaaa-bbbb-cccc-dddd-000000000000")
    assert code == 1 and "no application aaaaaaaa-bbbb-cccc-dddd-000000000000" in err
    monkeypatch.delenv("VONAGE_API_SECRET")
    code, _, err = run(capsys, "app", "--api-url", account.url)
    assert code == 2 and "no account api secret" in err and "VONAGE_API_SECRET" in err
    code, _, err = run(capsys, "app", "--api-url", "http://example.com", "--api-secret", "x")
    assert code == 2 and "go only to Vonage's hosts over https" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_app_reads_the_account_from_the_vonage_cli_file_in_either_spelling(
        capsys, account, monkeypatch):
    monkeypatch.delenv("VONAGE_API_KEY")
    monkeypatch.delenv("VONAGE_API_SECRET")
    for keys in ({"api-key": ACCOUNT_KEY, "api-secret": ACCOUNT_SECRET},
                 {"apiKey": ACCOUNT_KEY, "apiSecret": ACCOUNT_SECRET}):
        Path(".vonagerc").write_text(json.dumps(keys))
        code, _, err = run(capsys, "-v", "app", "--api-url", account.url)
        assert code == 0, err
        assert "API key and secret from " in err and ".vonagerc (api-key)" in err
        assert ACCOUNT_SECRET not in err


def test_app_create_writes_the_key_and_merges_vonagerc(capsys, account, monkeypatch):
    monkeypatch.delenv("VONAGE_APPLICATION_ID")
    Path(".vonagerc").write_text(json.dumps({"api-key": ACCOUNT_KEY, "api-secret":
                                             ACCOUNT_SECRET, "other": 1}))
    code, out, err = run(capsys, "app", "create", "Conversation App", "--api-url", account.url,
                         "--public-url", "https://abc123.ngrok.app")
    assert code == 0, err
    app_id = re.search(r"Created application Conversation App  (\S+)", out).group(1)
    created = json.loads(app_json(account, app_id))
    voice = created["capabilities"]["voice"]["webhooks"]
    assert voice["answer_url"] == {"address": "https://abc123.ngrok.app/webhooks/answer",
                                   "http_method": "GET"}
    assert voice["event_url"]["address"] == "https://abc123.ngrok.app/webhooks/event"
    assert created["capabilities"]["rtc"]["webhooks"]["event_url"]["address"] == \
        "https://abc123.ngrok.app/webhooks/rtc"
    key = Path("private.key")
    assert key.stat().st_mode & 0o777 == 0o600 and "PRIVATE KEY" in key.read_text()
    rc = json.loads(Path(".vonagerc").read_text())
    assert rc["api-key"] == ACCOUNT_KEY and rc["api-secret"] == ACCOUNT_SECRET
    assert rc["other"] == 1 and rc["app-id"] == app_id
    assert rc["private-key"] == key.read_text()
    assert Path(".vonagerc").stat().st_mode & 0o777 == 0o600
    assert "app link NUMBER" in out and "serve --configure" in out
    assert "PRIVATE KEY" not in out + err
    # the next command needs nothing else: the key and the ID are found in ./.vonagerc
    monkeypatch.delenv("VONAGE_API_KEY")
    monkeypatch.delenv("VONAGE_API_SECRET")
    code, out, _ = run(capsys, "jwt")
    assert code == 0 and jwt.decode(out.strip(), options={"verify_signature": False})[
        "application_id"] == app_id
    # an existing key file is never overwritten, and nothing is created
    before = len(account.apps)
    code, _, err = run(capsys, "app", "create", "Another", "--api-url", account.url)
    assert code == 2 and "private.key exists" in err and "--key-file" in err
    assert len(account.apps) == before


def test_app_create_never_saves_the_account_keys_and_still_finds_them(
        capsys, account, monkeypatch):
    for name in ("VONAGE_API_KEY", "VONAGE_API_SECRET", "VONAGE_APPLICATION_ID"):
        monkeypatch.delenv(name)
    home = Path(os.environ["HOME"]) / ".vonage"
    home.mkdir()
    (home / "config.json").write_text(json.dumps({"api-key": ACCOUNT_KEY,
                                                  "api-secret": ACCOUNT_SECRET}))
    code, out, err = run(capsys, "app", "create", "Demo", "--api-url", account.url)
    assert code == 0, err
    assert "convo.py still finds the account's keys there" in out
    assert ACCOUNT_SECRET not in out + err + Path(".vonagerc").read_text()
    code, out, err = run(capsys, "app", "--api-url", account.url)  # needs nothing else
    assert code == 0 and out.startswith("Application Demo"), err


def test_app_create_without_a_url_sets_placeholders(capsys, account):
    code, out, _ = run(capsys, "app", "create", "Demo", "--api-url", account.url,
                       "--key-file", "demo.key")
    assert code == 0 and "placeholders" in out and "serve --configure sets them" in out
    assert Path("demo.key").exists()


def test_app_link_and_unlink_check_the_number_and_the_reply(capsys, account):
    taken = "447007000000"  # linked to another application in the fixture
    code, _, err = run(capsys, "app", "link", taken, "--api-url", account.url)
    assert code == 2 and "is linked to application 29f769u7" in err and "--yes" in err
    assert account.sent("POST") == []  # never taken silently
    code, out, _ = run(capsys, "app", "link", "+44 7007 000000", "--api-url", account.url,
                       "--yes")
    assert code == 0 and f"{taken} (GB) linked to application {APP_ID}" in out
    form = account.requests[-1][2].decode()
    assert form == f"country=GB&msisdn={taken}&app_id={APP_ID}"
    code, out, _ = run(capsys, "app", "--api-url", account.url)
    assert f"numbers                 {taken} (GB)" in out and "no number is linked" not in out
    code, out, _ = run(capsys, "app", "link", taken, "--api-url", account.url)
    assert code == 0 and "already linked" in out
    code, out, _ = run(capsys, "app", "unlink", taken, "--api-url", account.url)
    assert code == 0 and "no longer linked" in out
    code, _, err = run(capsys, "app", "link", "447700900999", "--api-url", account.url)
    assert code == 1 and "is not one of this account's numbers" in err
    # HTTP 200 can carry a failure
    account.script("POST", "/number/update", 200, {"error-code": "420",
                                                   "error-code-label": "Numbers limit"})
    code, _, err = run(capsys, "app", "link", "3400000000", "--api-url", account.url)
    assert code == 1 and "refused the change of 3400000000: Numbers limit (error-code 420)" \
        in err


def test_app_retries_as_get_does_and_reads_every_error_form(capsys, account):
    account.script("GET", "/v2/applications/", 503, {"title": "Service Unavailable"})
    code, out, err = run(capsys, "app", "--api-url", account.url)
    assert code == 0 and out.startswith("Application My Server Demo"), err
    assert len(account.sent("GET", "/v2/applications/")) == 2  # the 503, then again
    account.script("GET", "/v2/applications/", 401, {"type": "UNAUTHORIZED",
                                                     "error_title": "Unauthorized"})
    code, _, err = run(capsys, "app", "--api-url", account.url)
    assert code == 1 and "(HTTP 401 Unauthorized)" in err


def test_app_link_asks_on_a_terminal(account):
    import pty
    import select
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, str(HERE / "convo.py"), "app", "link",
                             "447007000000", "--api-url", account.url],
                            stdin=slave, stdout=slave, stderr=slave, env=dict(os.environ))
    os.close(slave)
    got = b""
    try:
        while b"[y/N]" not in got and select.select([master], [], [], 10)[0]:
            got += os.read(master, 4096)
        assert b"is linked to application 29f769u7" in got and b"instead? [y/N]" in got
        assert account.sent("POST") == []
        os.write(master, b"y\n")
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        os.close(master)
    assert account.numbers[1]["app_id"] == APP_ID


def serve_configured(*extra: str, url: str, env: dict) -> subprocess.Popen:
    """`serve --configure` in a process of its own; returns once its banner is out."""
    proc = subprocess.Popen([sys.executable, str(HERE / "convo.py"), "serve", "--port", "0",
                             "--to", "447700000003", "--configure", "--public-url",
                             "https://abc123.ngrok.app", "--api-url", url, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env})
    proc.banner = ""
    for line in proc.stdout:
        proc.banner += line
        if line.startswith("  signatures"):
            break
    return proc


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_configure_points_the_application_here_then_puts_it_back_exactly(
        account, stop):
    original = app_json(account)
    proc = serve_configured(url=account.url, env={})
    try:
        assert "set in application My Server Demo until serve stops:" in proc.banner
        assert ("voice answer_url: http://example.ngrok.app/webhooks/answer → "
                "https://abc123.ngrok.app/webhooks/answer") in proc.banner
        now = json.loads(app_json(account))
        hooks = now["capabilities"]["voice"]["webhooks"]
        assert hooks["answer_url"]["address"] == "https://abc123.ngrok.app/webhooks/answer"
        assert hooks["event_url"]["address"] == "https://abc123.ngrok.app/webhooks/event"
        assert hooks["event_url"]["socket_timeout"] == 10000  # the rest as it was
        was = json.loads(original)
        assert now["keys"] == was["keys"] and now["name"] == was["name"]
        assert now["capabilities"]["voice"]["signed_callbacks"] is True
        assert "rtc" not in now["capabilities"]
        saved = Path(os.environ["CONVO_STATE_DIR"]) / "application-before-configure.json"
        assert saved.stat().st_mode & 0o777 == 0o600
        assert json.loads(saved.read_text())["original"] == was
        assert account.sent() == [f"GET /v2/applications/{APP_ID}",
                                  f"PUT /v2/applications/{APP_ID}"]  # two requests, no more
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert app_json(account) == original  # byte for byte
    assert f"put application {APP_ID} back as it was" in err and not saved.exists()
    assert account.sent()[2:] == [f"GET /v2/applications/{APP_ID}",
                                  f"PUT /v2/applications/{APP_ID}"]
    assert ACCOUNT_SECRET not in proc.banner + out + err


def test_serve_configure_after_a_kill_puts_the_application_back_first(account, capsys):
    original = app_json(account)
    proc = serve_configured(url=account.url, env={})
    proc.kill()  # kill -9: no restore could run
    proc.communicate(timeout=10)
    assert "abc123" in app_json(account)
    saved = Path(os.environ["CONVO_STATE_DIR"]) / "application-before-configure.json"
    assert saved.exists()
    again = serve_configured("--rtc", url=account.url, env={})
    try:
        # the second configure saved the application as it was at first, not the
        # first configure's version, and set the rtc event URL too
        assert json.loads(saved.read_text())["original"] == json.loads(original)
        assert json.loads(app_json(account))["capabilities"]["rtc"]["webhooks"][
            "event_url"]["address"] == "https://abc123.ngrok.app/webhooks/rtc"
        again.send_signal(signal.SIGTERM)
        _, err = again.communicate(timeout=10)
    finally:
        again.kill()
    assert "did not finish: put application" in err
    assert app_json(account) == original
    # app restore, with nothing left to restore, says so
    code, out, _ = run(capsys, "app", "restore", "--api-url", account.url)
    assert code == 0 and "Nothing to put back" in out


def test_app_restore_puts_back_what_a_dead_serve_left(account, capsys):
    original = app_json(account)
    proc = serve_configured(url=account.url, env={})
    proc.kill()
    proc.communicate(timeout=10)
    code, out, err = run(capsys, "app", "restore", "--api-url", account.url)
    assert code == 0, err
    assert f"put application {APP_ID} back as it was: voice answer_url " \
           f"http://example.ngrok.app/webhooks/answer" in out
    assert app_json(account) == original


def test_serve_configure_leaves_what_someone_changed_meanwhile(account):
    proc = serve_configured(url=account.url, env={})
    try:
        with account.lock:  # someone points the answer URL elsewhere in the dashboard
            account.apps[APP_ID]["capabilities"]["voice"]["webhooks"]["answer_url"][
                "address"] = "https://elsewhere.example/answer"
        changed = app_json(account)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "left application" in err and "changed since serve set them" in err
    assert "https://elsewhere.example/answer" in err
    assert app_json(account) == changed
    assert not (Path(os.environ["CONVO_STATE_DIR"]) / "application-before-configure.json"
                ).exists()


def test_one_serve_configure_at_a_time(account, capsys):
    held = convo.SavedApp(os.environ["CONVO_STATE_DIR"])
    held.hold()
    try:
        code, out, err = run(capsys, "serve", "--port", "0", "--to", "447700000003",
                             "--configure", "--public-url", "https://abc123.ngrok.app",
                             "--api-url", account.url)
    finally:
        held.release()
    assert code == 1 and "another serve --configure is running" in err and out == ""
    assert account.sent() == []  # nothing read, nothing changed


def test_serve_configure_with_a_failed_put_does_not_start(account, capsys):
    original = app_json(account)
    bad = json.loads((TESTDATA / "application_bad_request.json").read_text())
    account.script("PUT", "/v2/applications/", 400, bad)
    code, out, err = run(capsys, "serve", "--port", "0", "--to", "447700000003", "--configure",
                         "--public-url", "https://abc123.ngrok.app", "--api-url", account.url)
    assert code == 1 and "listening" not in out
    assert ("could not point application" in err and
            "capabilities.voice.webhooks.answer_url.http_method must be one of: GET, POST" in err)
    assert len(err.strip().splitlines()) == 1
    assert app_json(account) == original
    assert not (Path(os.environ["CONVO_STATE_DIR"]) / "application-before-configure.json"
                ).exists()
    code, _, err = run(capsys, "serve", "--to", "447700000003", "--configure")
    assert code == 2 and "give its URL with --public-url" in err


# ---------------------------------------------------------------------------
# Webhooks, as serve, send and show read them, and as convo.py sends one
# ---------------------------------------------------------------------------

def test_check_number_strips_plus():
    assert convo.check_number("+447700000003", "--to") == "447700000003"


def test_replay_request_reads_what_serve_recorded():
    assert convo.replay_request({"status": "started", "_webhook": "event", "_method": "GET",
                                 "_received_at": "x"}) == ("event", "GET", {"status": "started"})
    assert convo.replay_request({"to": "1", "uuid": "u"}) == ("answer", "GET", {"to": "1",
                                                                                "uuid": "u"})
    assert convo.replay_request({"recording_url": "r", "timestamp": "t"})[:2] == ("event",
                                                                                 "POST")


def test_call_steps_and_events_carry_vonage_types():
    assert len(convo.call_steps(True)) == 8 and len(convo.call_steps(False)) == 4
    leg = {"from": "1", "to": "2", "uuid": "u", "conversation_uuid": CONV_ID,
           "direction": "inbound"}
    event = convo.call_event(leg, "completed", now=FIXED_NOW + 125.5, answered_at=FIXED_NOW)
    assert (event["duration"], event["rate"], event["price"]) == ("125", "0.00450000",
                                                                  "0.00937500")
    assert event["timestamp"] == event["end_time"] == "2023-11-14T22:15:25.500Z"
    assert "duration" not in convo.call_event(leg, "ringing", now=FIXED_NOW, answered_at=None)


# ---------------------------------------------------------------------------
# serve: a real server on 127.0.0.1:0, driven through real sockets
# ---------------------------------------------------------------------------

SECRET = "s1gnature-secret-for-tests-0123456789"
ANSWER_QUERY = {"to": "447700000002", "from": "447700000001",
                "uuid": "797168e24c19a3c45e74e05b10fef2b5", "conversation_uuid": CONV_ID,
                "region_url": "https://api-eu-1.vonage.com", "endpoint_type": "phone"}


@contextlib.contextmanager
def serving(state_dir: Path, **options):
    """convo's webhook server in a thread, connecting calls to 447700000003."""
    config = convo.ServeConfig(to="447700000003", state_dir=str(state_dir),
                               **{"idle_timeout_s": 5.0, "request_deadline_s": 0.25, **options})
    server = convo.make_server("127.0.0.1", 0, config)
    thread = threading.Thread(target=server.serve_forever, args=(POLL_S,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        left = server.stop(grace_s=1.0)
        thread.join()
    assert left == 0, "a connection was left behind"


@pytest.fixture
def webhook(request, tmp_path, capsys):
    """Start convo's webhook server; the test's marker `serve_config` adds config options."""
    marker = request.node.get_closest_marker("serve_config")
    convo.setup_logging(verbose=True)  # to this test's captured stderr
    with serving(tmp_path / "state", **(marker.kwargs if marker else {})) as server:
        yield server


def http_request(server, method: str, path: str, body=None, headers=None, conn=None):
    """One request over http.client; returns (status, headers, body bytes)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection(*server.server_address[:2], timeout=5)
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    conn.request(method, path, body=data, headers=headers or {})
    resp = conn.getresponse()
    result = resp.status, resp.headers, resp.read()
    if own:
        conn.close()
    return result


def raw(server, data: bytes) -> bytes:
    """Send raw bytes, then read until the server closes the connection."""
    with socket.create_connection(server.server_address[:2], timeout=5) as s:
        s.sendall(data)
        chunks = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
        raise AssertionError("the server never closed the connection")


def saved(server) -> list[dict]:
    path = Path(server.events_path)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def ncco_validator():
    import jsonschema
    schema = json.loads((TESTDATA / "ncco-schema.json").read_text())
    return jsonschema.Draft4Validator(schema)


def _serve_process(tmp_path, *args: str) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "CONVO_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.Popen([sys.executable, str(HERE / "convo.py"), "serve", "--port", "0",
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    first = proc.stdout.readline()  # the banner: serve is listening once it is printed
    port = int(first.rsplit(":", 1)[1].split()[0])
    return proc, port


def test_serve_answer_get_returns_a_valid_ncco_and_records_the_call(webhook, capsys):
    status, headers, body = http_request(webhook, "GET", "/webhooks/answer?" + urlencode(ANSWER_QUERY))
    assert status == 200 and headers["Content-Type"] == "application/json"
    ncco = json.loads(body)
    assert ncco == [{"action": "connect", "endpoint": [{"type": "phone", "number": "447700000003"}]}]
    ncco_validator().validate(ncco)
    state = convo.read_state(webhook.config.state_dir)
    assert state["conversation_uuid"] == CONV_ID and state["uuid"] == ANSWER_QUERY["uuid"]
    assert state["region_url"] == "https://api-eu-1.vonage.com" and state["time"].endswith("Z")
    assert saved(webhook)[0]["conversation_uuid"] == CONV_ID
    assert saved(webhook)[0]["_webhook"] == "answer"
    err = capsys.readouterr().err
    assert " answer  bc643220…/797168e2…  447700000001 → 447700000002  api-eu-1.vonage.com\n" in err
    assert f"next: python3 convo.py get {CONV_ID}" in err


def test_serve_answer_post_json_with_from(tmp_path, rsa_key):
    config = convo.ServeConfig(to="447700000003", from_="447700000002",
                               state_dir=str(tmp_path / "s"))
    assert json.loads(config.ncco_bytes) == [{"action": "connect", "from": "447700000002",
                                        "endpoint": [{"type": "phone", "number": "447700000003"}]}]
    ncco_validator().validate(json.loads(config.ncco_bytes))


def test_serve_answer_post_json(webhook):
    status, _, body = http_request(webhook, "POST", "/webhooks/answer", ANSWER_QUERY,
                              {"Content-Type": "application/json"})
    assert status == 200 and json.loads(body)[0]["action"] == "connect"
    assert convo.read_state(webhook.config.state_dir)["conversation_uuid"] == CONV_ID


@pytest.mark.parametrize("method,path,body", [
    ("POST", "/webhooks/answer", b"{not json"),
    ("POST", "/webhooks/answer", b""),
    ("GET", "/webhooks/answer?from=447700000001", None),
    ("GET", "/webhooks/answer?conversation_uuid=CON-nope", None),
])
def test_serve_malformed_answer_still_connects_the_call(webhook, capsys, method, path, body):
    status, _, data = http_request(webhook, method, path, body)
    assert status == 200 and json.loads(data)[0]["action"] == "connect"
    assert "malformed request" in capsys.readouterr().err
    assert convo.read_state(webhook.config.state_dir) is None
    assert saved(webhook)[0]["_webhook"] == "answer"  # what came in is kept


def test_serve_http_1_0_closes_and_expect_100_continue(webhook):
    reply = raw(webhook, b"GET /health HTTP/1.0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200 ") and b"Connection: close" in reply
    body = b'{"status":"started"}'
    reply = raw(webhook, b"POST /webhooks/event HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                         b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert reply.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 ")


def test_serve_keep_alive_serves_many_requests_on_one_connection(webhook):
    conn = http.client.HTTPConnection(*webhook.server_address[:2], timeout=5)
    for _ in range(3):
        status, headers, _ = http_request(webhook, "GET", "/health", conn=conn)
        assert status == 200 and "close" not in headers.get("Connection", "")
    conn.close()


def test_serve_event_post_is_saved_before_204_and_logged(webhook, capsys):
    event = json.loads((TESTDATA / "seed_events.jsonl").read_text().splitlines()[-2])
    for key in ("_webhook", "_received_at"):
        event.pop(key, None)
    status, _, body = http_request(webhook, "POST", "/webhooks/event", event,
                              {"Content-Type": "application/json"})
    assert (status, body) == (204, b"")
    line = saved(webhook)[0]
    assert line["status"] == "completed" and line["_webhook"] == "event"
    err = capsys.readouterr().err
    # the direction padded to 'outbound', so that the numbers line up under each other
    assert " event   bc643220…/797168e2…  inbound   447700000001 → 447700000002  completed  " \
           "(duration 311 s, price 0.02332500, disconnected by user)\n" in err


def test_serve_event_get_with_query(webhook):
    status, _, _ = http_request(webhook, "GET", "/webhooks/event?status=ringing&uuid=x&"
                                           f"conversation_uuid={CONV_ID}")
    assert status == 204 and saved(webhook)[0]["status"] == "ringing"


@pytest.mark.parametrize("body", [b"{bad", b"[1,2]", b""])
def test_serve_bad_event_json_gets_400_never_5xx(webhook, body):
    status, _, data = http_request(webhook, "POST", "/webhooks/event", body)
    assert status == 400 and "error" in json.loads(data)
    assert saved(webhook) == []


@pytest.mark.parametrize("body", [b'{"status": NaN}', b'{"status": "started", "n": Infinity}',
                                  b'{"status": "started", "duration": 1e999}'])
def test_serve_refuses_bodies_that_are_not_json(webhook, body):
    status, _, reply = http_request(webhook, "POST", "/webhooks/event", body,
                               {"Content-Type": "application/json"})
    assert status == 400 and "invalid JSON" in json.loads(reply)["error"]
    assert saved(webhook) == []


def test_serve_routes_methods_and_headers(webhook):
    status, headers, body = http_request(webhook, "GET", "/health")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    assert headers["Server"] == "convo" and "Python" not in str(headers)
    status, _, body = http_request(webhook, "GET", "/nope")
    assert status == 404 and json.loads(body)["error"] == "not found"
    status, headers, body = http_request(webhook, "DELETE", "/webhooks/event")
    assert status == 405 and headers["Allow"] == "GET, POST" and json.loads(body)


@pytest.mark.parametrize("data,status", [
    (b"HELLO\r\n\r\n", 400),
    (b"GET / HTTP/9.9\r\n\r\n", 505),
    (b"POST /webhooks/event HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
    (b"POST /webhooks/event HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
    (b"POST /webhooks/event HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
     400),
    (b"POST /webhooks/event HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
     411),
    (b"POST /webhooks/event HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    (b"POST /webhooks/event HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n", 413),
    (b"GET /health HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 70000 + b"\r\n\r\n", 431),
    (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * 101 + b"\r\n", 431),
    (b"GET /health HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n", 400),
    (b"GET /health HTTP/1.1\r\nHost: x\r\nX: y\r\n folded\r\n\r\n", 400),
    (b"GET /health HTTP/1.1 extra\r\n\r\n", 400),
])
def test_serve_malformed_http_gets_4xx_and_the_server_stays_up(webhook, data, status):
    reply = raw(webhook, data)
    assert reply.startswith(f"HTTP/1.1 {status} ".encode()) or reply.startswith(
        f"HTTP/1.0 {status} ".encode()), reply[:80]
    assert b"Content-Type: application/json" in reply and reply.rstrip().endswith(b"}")
    assert http_request(webhook, "GET", "/health")[0] == 200


EVENT = b"POST /webhooks/event HTTP/1.1\r\nHost: x\r\n"


# Each is a request a strict HTTP/1.1 parser must refuse (RFC 9112, RFC 9110), sent as
# raw bytes: the reply, that nothing was saved, no traceback, and the server goes on.
@pytest.mark.parametrize("data,status", [
    # Content-Length is 1*DIGIT in ASCII, and several values must agree
    (EVENT + "Content-Length: ²\r\n\r\n{}".encode(), 400),
    (EVENT + b"Content-Length: 2\xa0\r\n\r\n{}", 400),
    (EVENT + b"Content-Length: +2\r\n\r\n{}", 400),
    (EVENT + b"Content-Length: 2, 3\r\n\r\n{}", 400),
    (EVENT + b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n{}", 413),
    # a bare CR anywhere in the head: the way requests are smuggled past a proxy
    (EVENT + b"X-A: 1\rContent-Length: 5\r\n\r\n{}", 400),
    (b"GET /health\r HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET /health HTTP/1.1\r\nHost: x\r\n\r\r\n", 400),
    # field values: VCHAR, obs-text, SP and HTAB only
    (b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
    (b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x07b\r\n\r\n", 400),
    (b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n", 400),
    (b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x0cb\r\n\r\n", 400),
    (b"GET /health HTTP/1.1\r\nHost: x\r\nX-A:\x0b1\r\n\r\n", 400),
    # field names are tokens, with no space before the colon
    (b"GET /health HTTP/1.1\r\nHost: x\r\nX A: 1\r\n\r\n", 400),
    (b"GET /health HTTP/1.1\r\nHost: x\r\nX\x01A: 1\r\n\r\n", 400),
    ("GET /health HTTP/1.1\r\nHost: x\r\nXé: 1\r\n\r\n".encode(), 400),
    (b"GET /health HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    (b"GET /health HTTP/1.1\r\nHost: x\r\n: 1\r\n\r\n", 400),
    # the request line is split on SP only, and the method is a token
    (b"GET\xa0/health HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("GET\u2003/health HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 400),
    (b"GET\t/health HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET  /health HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"G(T /health HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET health HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET /health HTTP/1.10\r\nHost: x\r\n\r\n", 400),
    # exactly one valid Host in HTTP/1.1
    (b"GET /health HTTP/1.1\r\n\r\n", 400),
    (b"GET /health HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400),
    (b"GET /health HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
    (b"GET /health HTTP/1.1\r\nHost: x/y\r\n\r\n", 400),
    # limits on the head as a whole
    (b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
    (b"GET /health HTTP/1.1\r\nHost: x\r\n" + (b"X-A: " + b"a" * 4000 + b"\r\n") * 20
     + b"\r\n", 431),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: 1", 408),  # stopped mid-head, and waits
])
def test_serve_strict_parser_refuses(webhook, capsys, data, status):
    reply = raw(webhook, data)
    assert reply.startswith(f"HTTP/1.1 {status} ".encode()), reply[:120]
    assert b"Connection: close" in reply and reply.rstrip().endswith(b"}")
    assert saved(webhook) == []
    assert http_request(webhook, "GET", "/health")[0] == 200
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("data", [
    b"GET /health HTTP/1.1\nHost: x\n\n",  # bare LF line endings
    b"\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n",  # an empty line before the request
    b"GET /health HTTP/1.0\r\n\r\n",  # HTTP/1.0 needs no Host
    b"GET http://127.0.0.1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",  # absolute-form
    b"GET /health HTTP/1.1\r\nHost: [::1]:3000\r\nX-A:\t padded \t\r\nX-B:\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: x\r\nX-Latin: caf\xe9\r\n\r\n",  # obs-text in a value
])
def test_serve_strict_parser_accepts_what_rfc_9112_allows(webhook, data):
    with socket.create_connection(webhook.server_address[:2], timeout=5) as s:
        s.sendall(data)
        assert s.recv(4096).startswith(b"HTTP/1.1 200 ")


def test_serve_repeated_identical_content_length_is_one_body(webhook):
    body = b'{"status":"ringing"}'
    n = str(len(body)).encode()
    reply = raw(webhook, EVENT + b"Content-Length: " + n + b"\r\nContent-Length: " + n
                + b", " + n + b"\r\nConnection: close\r\n\r\n" + body)
    assert reply.startswith(b"HTTP/1.1 204 ")
    assert [w["status"] for w in saved(webhook)] == ["ringing"]


def test_serve_absolute_form_target_is_routed_by_its_path(webhook):
    body = b'{"status":"answered"}'
    reply = raw(webhook, b"POST http://example.com/webhooks/event HTTP/1.1\r\nHost: x\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
    assert reply.startswith(b"HTTP/1.1 204 ") and saved(webhook)[0]["status"] == "answered"


def test_serve_a_head_over_the_limit_is_refused_before_it_is_read_whole(webhook):
    """20 connections each sending 99 header lines of 60 KB (issue 8) hold little:
    each is refused at its first long line, before the rest is sent."""
    socks = [socket.create_connection(webhook.server_address[:2], timeout=5)
             for _ in range(20)]
    try:
        for s in socks:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 60000 + b"\r\n")
        for s in socks:
            assert s.recv(4096).startswith(b"HTTP/1.1 431 ")
    finally:
        for s in socks:
            s.close()


def test_serve_trickling_client_is_cut_off(webhook):
    started = time.monotonic()
    with socket.create_connection(webhook.server_address[:2], timeout=5) as s:
        reply = b""
        for byte in b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n":
            try:
                s.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.05)  # the trickle itself, not synchronisation
            s.setblocking(False)
            try:
                reply += s.recv(4096)
            except BlockingIOError:
                pass
            s.setblocking(True)
            if reply:
                break
    assert reply.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < 2.0  # the deadline is 0.25 s, not 35 bytes x 0.05 s


def _keep_alive(webhook) -> socket.socket:
    """A connection that has had one request answered and now waits, idle."""
    s = socket.create_connection(webhook.server_address[:2], timeout=5)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert s.recv(4096).startswith(b"HTTP/1.1 200 ")
    return s


def _busy(webhook) -> socket.socket:
    """A connection with a request in progress: '100 Continue' proves the server has it."""
    s = socket.create_connection(webhook.server_address[:2], timeout=5)
    s.sendall(b"POST /webhooks/event HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
              b"Content-Length: 2\r\n\r\n")
    assert s.recv(4096) == b"HTTP/1.1 100 Continue\r\n\r\n"
    return s


@pytest.mark.serve_config(max_connections=2)
def test_serve_connection_cap_closes_the_longest_idle_connection(webhook):
    oldest, newer = _keep_alive(webhook), _keep_alive(webhook)
    try:
        reply = raw(webhook, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 200 ")
        assert oldest.recv(4096) == b""  # it made way for the new caller
        newer.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert newer.recv(4096).startswith(b"HTTP/1.1 200 ")
    finally:
        oldest.close()
        newer.close()


@pytest.mark.serve_config(max_connections=2, request_deadline_s=5.0)
def test_serve_connection_cap_refuses_only_when_every_connection_is_busy(webhook):
    held = [_busy(webhook), _busy(webhook)]
    try:
        reply = raw(webhook, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 503 ") and b"too many connections" in reply
        for s in held:  # the busy ones are served all the same
            s.sendall(b"{}")
            assert s.recv(4096).startswith(b"HTTP/1.1 204 ")
    finally:
        for s in held:
            s.close()


@pytest.mark.parametrize("path,hint", [
    ("/answer", "GET /answer → 404: the answer URL should end in /webhooks/answer"),
    ("/webhooks/events", "the event URL should end in /webhooks/event"),
    ("/", "serve answers /webhooks/answer, /webhooks/event, /webhooks/rtc and /health"),
])
def test_serve_an_unknown_path_is_logged_with_a_hint(webhook, capsys, path, hint):
    convo.setup_logging(verbose=False)  # at normal verbosity
    assert http_request(webhook, "GET", path)[0] == 404
    assert hint in capsys.readouterr().err


def test_serve_logs_every_refusal_with_its_reason(webhook, capsys):
    raw(webhook, b"POST /webhooks/event HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    raw(webhook, b"PUT /webhooks/event HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                 b"Connection: close\r\n\r\n")
    raw(webhook, b"GET /health HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n")
    err = capsys.readouterr().err
    assert "POST /webhooks/event → 411: chunked bodies are refused: send a Content-Length" in err
    assert "PUT /webhooks/event → 405: /webhooks/event answers GET and POST" in err
    assert "GET /health → 400: an HTTP/1.1 request carries exactly one Host header" in err


def test_serve_keeps_what_matters_in_its_log_and_lines_up_its_columns(tmp_path, capsys):
    """Piped, a line is never cut: a completed call's duration, price and reason stay.
    Missing fields are left out, and inbound and outbound lines line up."""
    convo.setup_logging(verbose=False)  # normal verbosity: -v would show everything
    with serving(tmp_path / "state") as server:
        http_request(server, "POST", "/webhooks/event", {"status": "completed", "detail": "x" * 300})
        http_request(server, "POST", "/webhooks/event", {"status": "ringing"})
        for direction, caller in (("inbound", "447700000001"), ("outbound", "Unknown")):
            http_request(server, "POST", "/webhooks/event", {
                "status": "answered", "direction": direction, "from": caller,
                "to": "447700000002", "conversation_uuid": CONV_ID, "uuid": "797168e2"})
    lines = capsys.readouterr().err.splitlines()
    assert len(lines[0]) > 100 and lines[0].endswith(f"(detail {'x' * 80}...)")  # text from
    # outside is kept to 80 characters, and the line is not cut to fit 100 columns
    assert lines[1].endswith(" event   ringing") and " - " not in lines[1]
    assert lines[2].index("447700000001") == lines[3].index("Unknown")


@pytest.mark.parametrize("no_color", ["", "1"])
def test_serve_colours_statuses_only_on_a_terminal(tmp_path, no_color):
    def send_events(proc) -> None:
        port = int(proc.stdout.readline().rsplit(b":", 1)[1].split()[0])
        server = type("Address", (), {"server_address": ("127.0.0.1", port)})
        for status in ("answered", "busy", "completed"):
            assert http_request(server, "POST", "/webhooks/event",
                           {"status": status, "uuid": "x"})[0] == 204

    log = on_a_terminal(["serve", "--port", "0", "--to", "447700000003"],
                        {"TERM": "xterm", "COLUMNS": "120", "NO_COLOR": no_color,
                         "CONVO_STATE_DIR": str(tmp_path)},
                        until=b"completed", stream="stderr", send=send_events)
    colours = [b"\x1b[32manswered", b"\x1b[31mbusy", b"\x1b[2mcompleted"]
    assert all(c in log for c in colours) == (not no_color)
    assert (b"\x1b[" in log) == (not no_color)


def test_serve_control_characters_are_escaped_in_logs(webhook, capsys):
    query = dict(ANSWER_QUERY, **{"from": "\x1b[31mevil\nFAKE LOG LINE"})
    http_request(webhook, "GET", "/webhooks/answer?" + urlencode(query))
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b[31mevil\\x0aFAKE LOG LINE" in err


DEEP = b"[" * 100_000


def test_serve_deeply_nested_webhooks_are_bad_json_not_a_crash(webhook, capsys):
    status, _, body = http_request(webhook, "POST", "/webhooks/event", DEEP)
    assert status == 400 and b"nesting too deep" in body
    status, _, body = http_request(webhook, "POST", "/webhooks/answer", DEEP)
    assert status == 200 and json.loads(body)[0]["action"] == "connect"  # calls still connect
    err = capsys.readouterr().err
    assert "Traceback" not in err and "nesting too deep" in err
    assert [w["_webhook"] for w in saved(webhook)] == ["answer"]  # the event was refused


def test_serve_a_lone_surrogate_is_stored_and_answered_like_any_webhook(webhook, capsys):
    body = b'{"status":"ringing","from":"\\ud800","to":"447700000002","uuid":"x"}'
    status, _, _ = http_request(webhook, "POST", "/webhooks/event", body)
    assert status == 204
    line = Path(webhook.events_path).read_text(encoding="utf-8").splitlines()[0]
    assert "\\ud800" in line and json.loads(line)["from"] == "\ud800"
    err = capsys.readouterr().err
    assert "Traceback" not in err and "\\ud800" in err
    query = urlencode(dict(ANSWER_QUERY, **{"from": "\ud83d"}), errors="surrogatepass")
    assert http_request(webhook, "GET", "/webhooks/answer?" + query)[0] == 200


def test_serve_every_unsafe_character_is_escaped_in_the_log(webhook, capsys):
    hostile = "\x9b2J\u202eevil\u2066\x7f\x85"
    body = json.dumps({"status": hostile, "from": hostile, "to": "1", hostile: 1}).encode()
    assert http_request(webhook, "POST", "/webhooks/event", body)[0] == 204
    err = capsys.readouterr().err
    for char in "\x9b\u202e\u2066\x7f\x85":
        assert char not in err
    assert "\\x9b2J\\u202eevil\\u2066\\x7f\\x85" in err


def signed(body: bytes = b"", *, method="POST", query="", secret=SECRET, **claims) -> dict:
    payload = {"iat": int(time.time()), "jti": os.urandom(8).hex(), "iss": "Vonage",
               "api_key": "abcd1234", "application_id": APP_ID,
               "payload_hash": convo.payload_hash(method, body, query)}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return {"Authorization": "Bearer " + jwt.encode(payload, secret, algorithm="HS256"),
            "Content-Type": "application/json"}


def payload_hash_example() -> str:
    return convo.payload_hash("GET", b"", "a=1&b=2")


@pytest.mark.serve_config(signature_secret=SECRET, api_key="abcd1234", app_id=APP_ID)
def test_serve_signed_webhooks_are_accepted(webhook):
    body = json.dumps({"status": "started", "conversation_uuid": CONV_ID}).encode()
    assert http_request(webhook, "POST", "/webhooks/event", body, signed(body))[0] == 204
    query = urlencode(ANSWER_QUERY)
    headers = signed(method="GET", query=query)
    assert http_request(webhook, "GET", "/webhooks/answer?" + query, None, headers)[0] == 200
    assert len(saved(webhook)) == 2
    assert payload_hash_example() == hashlib.sha256(b'{"a":"1","b":"2"}').hexdigest()


BODY = json.dumps({"status": "answered", "conversation_uuid": CONV_ID}).encode()


# Each case builds its headers when it runs: iat is the time of the test, not of collection.
@pytest.mark.parametrize("make_headers,reason", [
    (lambda: {}, "no Authorization: Bearer token"),
    (lambda: signed(BODY, secret="another-secret-another-secret-12345"), "bad signature"),
    (lambda: signed(BODY, payload_hash=None), "no payload_hash claim"),
    (lambda: signed(BODY, jti=None), "no jti claim"),
    (lambda: signed(BODY, iat=None), "no iat claim"),
    (lambda: signed(BODY, iat=int(time.time()) - 301), "over 5 minutes"),
    (lambda: signed(BODY, iat=int(time.time()) + 120), "in the future"),
    (lambda: signed(b"{}"), "payload_hash does not match"),
    (lambda: signed(BODY, api_key="other"), "api_key does not match"),
    (lambda: signed(BODY, application_id="other-app"), "application_id does not match"),
    (lambda: {"Authorization": "Bearer " + jwt.encode(
        {"iat": int(time.time()), "jti": "x", "payload_hash": "x"}, "k" * 64,
        algorithm="HS512")}, "bad token"),
])
@pytest.mark.serve_config(signature_secret=SECRET, api_key="abcd1234", app_id=APP_ID)
def test_serve_signature_failures_get_the_same_401(webhook, capsys, make_headers, reason):
    headers = make_headers()
    status, _, body = http_request(webhook, "POST", "/webhooks/event", BODY, headers)
    assert (status, body) == (401, b'{"error":"unauthorized"}')
    err = capsys.readouterr().err
    assert reason in err and SECRET not in err
    assert "Vonage sees 401. Usual causes: signed webhooks not enabled for the application" in err
    assert saved(webhook) == [] and convo.read_state(webhook.config.state_dir) is None


@pytest.mark.serve_config(signature_secret=SECRET)
def test_serve_replayed_jti_is_refused(webhook, capsys):
    headers = signed(BODY)
    assert http_request(webhook, "POST", "/webhooks/event", BODY, headers)[0] == 204
    assert http_request(webhook, "POST", "/webhooks/event", BODY, headers)[0] == 401
    assert "jti seen before" in capsys.readouterr().err
    assert len(saved(webhook)) == 1


def test_serve_checks_signed_webhooks_against_app_id_given_as_a_flag(tmp_path, capsys):
    """serve --app-id was once read only from $VONAGE_APPLICATION_ID."""
    other = "bbbbbbbb-bbbb-cccc-dddd-0123456789ab"
    args = convo.build_parser().parse_args(["serve", "--to", "447700000003", "--app-id", APP_ID,
                                            "--signature-secret", SECRET])
    config, _, _ = convo.serve_config(args)
    assert config.app_id == APP_ID
    convo.setup_logging(verbose=False)
    with serving(tmp_path / "state", signature_secret=config.signature_secret,
                 app_id=config.app_id) as server:
        url = url_of(server)
        code, out, err = run(capsys, "send", url, "--signature-secret", SECRET, "--api-key",
                             "abcd1234", "--app-id", other)
        assert code == 1 and "HTTP 401" in out
        assert "application_id does not match this application" in err
        code, out, _ = run(capsys, "send", url, "--signature-secret", SECRET, "--api-key",
                           "abcd1234", "--app-id", APP_ID)
        assert code == 0, out


def test_serve_replay_guard_remembers_as_long_as_a_token_is_accepted():
    """A token whose iat is a minute ahead is accepted for 6 minutes after it is first
    seen: the guard's window is never shorter than that."""
    guard = convo.ReplayGuard()
    assert guard.window_s == convo.WEBHOOK_MAX_AGE_S + convo.WEBHOOK_MAX_SKEW_S
    assert guard.first_time("a", 1000.0) and not guard.first_time("a", 1200.0)
    iat = 1000.0 + convo.WEBHOOK_MAX_SKEW_S
    last_accepted = iat + convo.WEBHOOK_MAX_AGE_S
    assert convo.check_webhook_claims({"iat": iat, "payload_hash": "h"}, body_hash="h",
                                      now=last_accepted, api_key=None, app_id=None) is None
    assert not guard.first_time("a", last_accepted)
    assert guard.first_time("a", last_accepted + 1)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_gracefully_on_a_signal_right_after_start(tmp_path, sig):
    proc, _ = _serve_process(tmp_path, "--to", "447700000003")
    proc.send_signal(sig)  # at once: the banner was printed, so the handlers are in
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and out.rstrip().endswith("convo serve: stopped")
    assert "Traceback" not in err


def test_serve_warns_when_binding_all_interfaces(tmp_path):
    proc, _ = _serve_process(tmp_path, "--to", "447700000003", "--host", "0.0.0.0")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "listening on all interfaces (0.0.0.0): anyone on your network can reach it" in err
    assert "webhooks are not verified" in err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_shutdown_finishes_requests_in_flight(tmp_path, sig):
    proc, port = _serve_process(tmp_path, "--to", "447700000003")
    idle = socket.create_connection(("127.0.0.1", port), timeout=5)
    busy = socket.create_connection(("127.0.0.1", port), timeout=5)
    for s in (idle, busy):  # one whole request each: both are accepted and kept alive
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200 ")
    body = b'{"status":"ringing"}'
    busy.sendall(b"POST /webhooks/event HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(body))
    # "100 Continue" proves the server has this request in hand: now it is in flight.
    assert busy.recv(4096) == b"HTTP/1.1 100 Continue\r\n\r\n"
    started = time.monotonic()
    proc.send_signal(sig)
    busy.sendall(body)
    reply = busy.recv(4096)
    out, err = proc.communicate(timeout=10)
    assert reply.startswith(b"HTTP/1.1 204 ")
    assert proc.returncode == 0 and time.monotonic() - started < 5
    assert out.rstrip().endswith("convo serve: stopped") and "Traceback" not in err
    assert idle.recv(1) == b""  # the idle keep-alive connection was closed
    idle.close()
    busy.close()
    lines = (tmp_path / "state" / "events.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["status"] == "ringing"


@pytest.mark.parametrize("given,origin,noted", [
    ("https://abc123.ngrok.app", "https://abc123.ngrok.app", False),
    ("https://abc123.ngrok.app/", "https://abc123.ngrok.app", True),
    ("https://abc123.ngrok.app/webhooks/answer", "https://abc123.ngrok.app", True),
    ("https://abc123.ngrok.app:8443/webhooks/event/", "https://abc123.ngrok.app:8443", True),
    ("abc123.ngrok.app", "https://abc123.ngrok.app", False),  # as people type it
])
def test_serve_public_url_is_reduced_to_its_origin(given, origin, noted):
    assert convo.public_origin(given)[0] == origin
    assert (convo.public_origin(given)[1] is not None) == noted


@pytest.mark.parametrize("given", ["https://abc123.ngrok.app/answer", "ftp://abc123.ngrok.app",
                                   "https://abc123.ngrok.app/?x=1", "ngrok"])
def test_serve_public_url_with_another_path_scheme_or_form_exits_2(capsys, given):
    code, _, err = run(capsys, "serve", "--to", "447700000003", "--public-url", given)
    assert code == 2 and "--public-url" in err


@pytest.mark.parametrize("argv,env,needle", [
    (["serve"], {}, "no number to connect calls to: pass --to NUMBER"),
    (["serve", "--to", "07700 900000"], {}, "is not a phone number: use E.164 digits"),
    (["serve", "--to", "447700000003", "--from", "abc"], {}, "--from 'abc' is not a phone"),
    (["serve"], {"TO_NUMBER": "447700000003", "PORT": "http"}, "is not a port number"),
    (["serve", "--to", "447700000003", "--public-url", "ngrok"], {}, "is not an http(s) URL"),
])
def test_serve_usage_errors(capsys, monkeypatch, argv, env, needle):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and needle in err and err.count("\n") == 1


def test_serve_port_in_use(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        code, _, err = run(capsys, "serve", "--to", "447700000003", "--port",
                           str(s.getsockname()[1]))
    assert code == 1 and "cannot listen on 127.0.0.1:" in err and "pick another --port" in err


def _events_line(**fields) -> str:
    return json.dumps({"conversation_uuid": CONV_ID, "uuid": "797168e24c19a3c45e74e05b10fef2b5",
                       "timestamp": "2018-10-25T09:26:19.000Z", "_webhook": "event",
                       "_method": "POST", **fields}) + "\n"


def test_serve_reopens_the_events_file_when_it_is_deleted_rotated_or_its_directory_removed(
        webhook, capsys):
    path = Path(webhook.events_path)
    post = lambda status: http_request(webhook, "POST", "/webhooks/event",
                                  {"status": status, "conversation_uuid": CONV_ID})[0]
    assert post("started") == 204
    path.unlink()
    assert post("ringing") == 204
    assert [w["status"] for w in saved(webhook)] == ["ringing"]
    path.rename(path.with_name("events.jsonl.1"))
    assert post("answered") == 204
    assert [w["status"] for w in saved(webhook)] == ["answered"]
    path.rename(path.with_name("events.jsonl.2"))  # as logrotate does with `create`
    path.write_text("")
    assert post("answered") == 204
    assert [w["status"] for w in saved(webhook)] == ["answered"]
    import shutil
    shutil.rmtree(path.parent)
    assert post("completed") == 204
    assert [w["status"] for w in saved(webhook)] == ["completed"]
    err = capsys.readouterr().err
    assert err.count("was deleted or moved: saving to a new file there") == 3
    assert err.count("was replaced (rotated?): saving to a new file there") == 1
    assert (path.stat().st_mode & 0o777) == 0o600


def test_serve_starts_a_new_line_after_a_torn_one(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / "events.jsonl").write_text(_events_line(status="started") + '{"status": "ring')
    with serving(state) as server:
        assert http_request(server, "POST", "/webhooks/event",
                       {"status": "answered", "conversation_uuid": CONV_ID})[0] == 204
    lines = (state / "events.jsonl").read_text().splitlines()
    assert lines[1] == '{"status": "ring' and json.loads(lines[2])["status"] == "answered"


@contextlib.contextmanager
def small_filesystem(tmp_path, size="64k"):
    """A real, small tmpfs (root only): ENOSPC for real."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                           str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(directory: Path) -> Path:
    """Fill a file system until a write fails; return the filler to delete later."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"x" * 4096)
        except OSError:
            pass
        try:
            while True:
                f.write(b"x")
        except OSError:
            pass
    return filler


def test_serve_on_a_full_disk_answers_503_and_never_tears_a_line(tmp_path, capsys):
    with small_filesystem(tmp_path) as disk:
        convo.setup_logging(verbose=False)
        with serving(disk) as server:
            # Each webhook over a page (4 KiB), so that none fits in the last one's.
            event = lambda status: http_request(server, "POST", "/webhooks/event", {
                "status": status, "conversation_uuid": CONV_ID, "pad": "y" * 5000})[0]
            assert event("started") == 204
            filler = fill(disk)
            assert event("ringing") == 503  # Vonage retries it
            status, _, ncco = http_request(server, "GET", "/webhooks/answer?" + urlencode(
                {**ANSWER_QUERY, "pad": "y" * 5000}))
            assert status == 200 and json.loads(ncco)[0]["action"] == "connect"
            filler.unlink()
            assert event("answered") == 204
            lines = (disk / "events.jsonl").read_text().splitlines()
        assert [json.loads(line)["status"] for line in lines] == ["started", "answered"]
    err = capsys.readouterr().err
    assert re.search(r"could not save an event \(No space left on device( \(a short write\))?\): "
                     r"answered 503, so Vonage sends it again", err)
    assert re.search(r"could not save the answer webhook \(No space left on device[^)]*\)+: "
                     r"the NCCO was sent anyway, so the call connects", err)


def test_serve_sigterm_to_serve_on_a_full_disk_is_one_line_and_exit_0(tmp_path):
    with small_filesystem(tmp_path) as disk:
        proc = subprocess.Popen([sys.executable, str(HERE / "convo.py"), "serve", "--port", "0",
                                 "--to", "447700000003"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "CONVO_STATE_DIR": str(disk)})
        try:
            port = int(proc.stdout.readline().rsplit(":", 1)[1].split()[0])
            fill(disk)
            server = type("Address", (), {"server_address": ("127.0.0.1", port)})
            assert http_request(server, "POST", "/webhooks/event", {"status": "started"})[0] == 503
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=10)
        finally:
            proc.kill()
    assert proc.returncode == 0 and out.endswith("convo serve: stopped\n")
    assert "Traceback" not in err


@pytest.mark.parametrize("case", ["under-a-file", "others-write", "events-fifo", "events-dir"])
def test_serve_names_a_state_directory_it_cannot_use_before_binding(tmp_path, capsys, case):
    state = tmp_path / "state"
    if case == "under-a-file":
        (tmp_path / "file").write_text("")
        state = tmp_path / "file" / "state"
    else:
        state.mkdir()
    if case == "others-write":
        state.chmod(0o777)
    if case == "events-fifo":
        os.mkfifo(state / "events.jsonl")
    if case == "events-dir":
        (state / "events.jsonl").mkdir()
    os.environ["CONVO_STATE_DIR"] = str(state)  # clean_env restores it
    code, out, err = run(capsys, "serve", "--to", "447700000003", "--port", "0")
    assert code == 2 and out == "" and "--port" not in err
    assert err.count("\n") == 1 and "set CONVO_STATE_DIR" in err
    assert {"under-a-file": "cannot write the state directory",
            "others-write": "is writable by others (mode 0777)",
            "events-fifo": "events.jsonl: is a FIFO (named pipe), not a regular file",
            "events-dir": "events.jsonl: is a directory, not a regular file"}[case] in err


def test_serve_watch_follows_each_call_it_answers(tmp_path, key_file, rsa_key):
    with FakeVonage(rsa_key.public_key()) as fake:
        fake.play(seed_call_steps(), step=8)
        env = {**os.environ, "VONAGE_APPLICATION_ID": APP_ID,
               "VONAGE_APPLICATION_PRIVATE_KEY_PATH": str(key_file),
               "CONVO_STATE_DIR": str(tmp_path / "state")}
        proc = subprocess.Popen([sys.executable, str(HERE / "convo.py"), "serve", "--port", "0",
                                 "--to", "447700000003", "--watch", "--interval", "0.5",
                                 "--api-url", fake.url], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
        try:
            port = int(proc.stdout.readline().rsplit(":", 1)[1].split()[0])
            log = pipe_lines(proc.stderr)
            server = type("Address", (), {"server_address": ("127.0.0.1", port)})
            status, _, _ = http_request(server, "GET", "/webhooks/answer?" + urlencode(ANSWER_QUERY))
            assert status == 200
            tagged = [line for line in log.expect("[bc643220] Watching:") if "[bc643220] " in line]
            assert any("Member MEM-f44c872e-cba9-444f-88ae-0bfa630865a6" in line
                       for line in tagged)
            fake.advance()  # hang-up
            assert "[bc643220] hung up · watched " in log.expect(" watched ")[-1]
            # a second call whose RTC events come: the push wins, its polling stops
            other = "CON-00000000-0000-4000-8000-000000000002"
            fake.play([{**step, "conversation": dict(SEED["conversation"], id=other)}
                       for step in seed_call_steps()[:9]], step=8)
            http_request(server, "GET", "/webhooks/answer?" + urlencode(
                {**ANSWER_QUERY, "conversation_uuid": other}))
            log.expect("[00000000] Watching:")
            post_rtc(server, seed_rtc_events(other)[:1])
            assert "its RTC events are coming: no more polling" in log.expect(
                "no more polling")[-1]
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
        finally:
            proc.kill()
    assert proc.returncode == 0


def test_serve_watch_without_credentials_exits_2(capsys):
    code, _, err = run(capsys, "serve", "--to", "447700000003", "--watch")
    assert code == 2 and "needs an application ID (--app-id or VONAGE_APPLICATION_ID) and a " \
        "private key" in err


def post_rtc(server, events, conn=None):
    for event in events:
        status, _, _ = http_request(server, "POST", "/webhooks/rtc", event, conn=conn)
        assert status == 204


def test_serve_rtc_events_are_saved_and_logged_as_a_watch_ends_with_the_tree(webhook, capsys):
    events = seed_rtc_events()
    conn = http.client.HTTPConnection(*webhook.server_address[:2], timeout=5)
    try:
        post_rtc(webhook, events[:3] + events[2:3] + events[3:], conn)  # one twice, kept-alive
    finally:
        conn.close()
    err = capsys.readouterr().err
    got = saved(webhook)
    assert len(got) == 13 and all(w["_webhook"] == "rtc" for w in got)  # each saved
    assert "rtc     bc643220…     1  " in err and "member:joined" in err
    assert "→ MEM-" in err and " new, JOINED via phone 447700000002" in err
    assert "event 3 again: saved, applied once" in err
    assert "→ leg 30cecc87… ringing → answered" in err
    assert f"Conversation {CONV_ID}  ENDED" in err and err.count("  LEFT") == 2
    assert "every member left · watched 11s · 2 members · 2 legs · 12 events" in err
    assert webhook.routes.live.live == {}  # dropped once ended; it stays on disk


def test_serve_rtc_in_any_order_with_voice_webhooks_then_show_after_it_stopped(
        tmp_path, capsys):
    import random
    events = seed_rtc_events()
    leg = json.loads((TESTDATA / "rtc_leg_status_update.json").read_text())
    leg.update(conversation_id=CONV_ID, id=20)  # the fixture's shape, in this call
    mixed = events + events[4:6] + [leg]
    random.Random(7).shuffle(mixed)
    voice = [json.loads(line) for line in (TESTDATA / "seed_events.jsonl").read_text(
        ).splitlines()]
    convo.setup_logging(verbose=False)
    with serving(tmp_path / "state") as server:
        for i, event in enumerate(mixed):
            post_rtc(server, [event])
            if i < len(voice):
                webhook = {k: v for k, v in voice[i].items() if not k.startswith("_")}
                http_request(server, "POST", "/webhooks/event", webhook)
        path = server.events_path
    capsys.readouterr()
    code, out, err = run(capsys, "show", path)
    assert code == 0, err
    tree, rest = out.split("\nEvents (13)\n")
    assert tree.startswith(f"Conversation {CONV_ID}  ENDED") and tree.count("Member MEM-") == 2
    assert tree.count("phone channel") == 2 and tree.count("leg ") == 3  # and the fixture's
    assert "2 members (2 LEFT)" in tree
    timeline, table = rest.split("\n\n")
    assert [line.split()[0] for line in timeline.splitlines()[1:]] == [
        *map(str, range(1, 13)), "20"]  # in id order, each once
    assert f"Conversation {CONV_ID}  (9 webhooks)" in table
    code, out, _ = run(capsys, "show", "--json", path)
    built = json.loads(out)[0]["conversation"]
    assert built["state"] == "ENDED" and len(built["members"]) == 2 and len(built["events"]) == 13


def test_serve_rtc_follows_a_bounded_number_of_conversations(monkeypatch):
    monkeypatch.setattr(convo, "MAX_LIVE_CONVERSATIONS", 2)
    live = convo.LiveConversations(convo.Style())
    calls = [seed_rtc_events(f"CON-00000000-0000-4000-8000-00000000000{n}") for n in range(4)]
    for n, events in enumerate(calls):
        said = live.push(events[0])
        if n == 2:
            assert "2 conversations in progress, more than serve follows" in said[0]
    assert len(live.live) == 2  # the others are saved, not followed
    for event in calls[0][1:]:
        live.push(event)
    assert len(live.live) == 1  # the one that ended is dropped


def test_serve_rtc_odd_and_signed_events(tmp_path, capsys):
    convo.setup_logging(verbose=False)
    with serving(tmp_path / "state") as server:
        for odd in ({"type": "member:joined", "id": 1, "body": {}},
                    {"conversation_id": CONV_ID, "type": "x", "id": "1", "note": "\x1b[31m"}):
            status, _, _ = http_request(server, "POST", "/webhooks/rtc", odd)
            assert status == 204
        status, _, _ = http_request(server, "GET", "/webhooks/rtc?" + urlencode(
            {"conversation_id": CONV_ID, "type": "member:joined", "id": "x"}))
        assert status == 204
        assert len(saved(server)) == 3
    err = capsys.readouterr().err
    assert err.count("odd event") == 3 and "no conversation_id" in err
    assert "\x1b" not in err and "\\u001b[31m" in err
    with serving(tmp_path / "signed", signature_secret=SECRET) as server:
        status, _, _ = http_request(server, "POST", "/webhooks/rtc", seed_rtc_events()[0])
    assert status == 401
    err = capsys.readouterr().err
    assert "Vonage documents signed voice webhooks, not signed RTC events" in err


@contextlib.contextmanager
def serve_inspected(tmp_path, *extra: str):
    """`convo.py serve` in a process of its own, with its inspector on a free port:
    yields (the process, the webhook server's address, the inspector's URL)."""
    proc = subprocess.Popen([sys.executable, str(HERE / "convo.py"), "serve", "--port", "0",
                             "--to", "447700000003", *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "CONVO_STATE_DIR": str(tmp_path / "state")})
    try:
        banner = ""
        for line in proc.stdout:
            banner += line
            if line.startswith("  signatures"):
                break
        port = int(re.search(r"listening on http://127\.0\.0\.1:(\d+)", banner).group(1))
        found = re.search(r"inspector   (http://127\.0\.0\.1:\d+/)", banner)
        server = type("Address", (), {"server_address": ("127.0.0.1", port)})
        yield proc, server, found and found.group(1), banner
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        finally:
            proc.kill()


def inspector_get(url: str, path: str, headers=None) -> tuple[int, dict, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_serve_inspector_api_and_its_refusals(tmp_path, capsys):
    with serve_inspected(tmp_path) as (proc, server, url, banner):
        assert url and "(this machine only" in banner
        code, _, err = run(capsys, "send", url_of(server), "--rtc")
        assert code == 0, err
        hostile = "<img src=x onerror=alert(1)>"
        http_request(server, "GET", "/webhooks/answer?" + urlencode(
            {**ANSWER_QUERY, "from": hostile,
             "conversation_uuid": "CON-00000000-0000-4000-8000-000000000009"}))
        status, headers, body = inspector_get(url, "/api/calls")
        assert status == 200 and headers["Content-Security-Policy"] == "default-src 'self'"
        calls = json.loads(body)
        assert calls[0]["from"] == hostile  # newest first, as text
        conv = calls[1]["id"]
        status, _, body = inspector_get(url, f"/api/calls/{conv}")
        call = json.loads(body)
        assert call["conversation"]["state"] == "ENDED"
        assert [m["state"] for m in call["conversation"]["members"]] == ["LEFT", "LEFT"]
        assert len(call["timeline"]) == 21
        answer = call["timeline"][0]
        status, _, body = inspector_get(url, f"/api/webhooks/{answer['index']}")
        detail = json.loads(body)
        assert detail["request"]["method"] == "GET" and detail["reply"]["status"] == 200
        assert json.loads(detail["reply"]["body"])[0]["action"] == "connect"  # the NCCO
        status, _, body = inspector_get(url, f"/api/webhooks?conversation={conv}")
        assert len(json.loads(body)) == 21
        # DNS rebinding: another name for this machine is refused; so is a POST from
        # another page, and the page is never on the webhook port
        assert inspector_get(url, "/", {"Host": "evil.example:80"})[0] == 403
        port = urlsplit(url).port
        for origin in ("", "http://evil.example"):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("POST", "/api/replay", json.dumps({"index": 0}),
                         {"Origin": origin} if origin else {})
            assert conn.getresponse().status == 403
            conn.close()
        assert http_request(server, "GET", "/")[0] == 404
        assert http_request(server, "GET", "/api/calls")[0] == 404
        # the page's script inserts what came from outside as text only
        script = inspector_get(url, "/app.js")[2].decode()
        assert "innerHTML" not in script and "textContent" in script
    with serve_inspected(tmp_path, "--no-inspect") as (proc, server, url, banner):
        assert url is None and "  inspector   " not in banner


def test_serve_inspector_reads_earlier_calls_from_events_jsonl(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / "events.jsonl").write_text((TESTDATA / "seed_events.jsonl").read_text())
    with serve_inspected(tmp_path) as (proc, server, url, banner):
        calls = json.loads(inspector_get(url, "/api/calls")[2])
        assert [c["id"] for c in calls] == [CONV_ID] and calls[0]["webhooks"] == 9
        call = json.loads(inspector_get(url, f"/api/calls/{CONV_ID}")[2])
        assert {leg["status"] for leg in call["conversation"]["legs"]} == {"completed"}
        detail = json.loads(inspector_get(url, "/api/webhooks/0")[2])
        assert detail["reply"] is None and '"status": "started"' in detail["request"]["body"]


def test_serve_inspector_reads_only_the_end_of_a_long_log(tmp_path, monkeypatch):
    monkeypatch.setattr(convo, "INSPECT_TAIL_BYTES", 4096)
    log = tmp_path / "events.jsonl"
    lines = [_events_line(status="ringing", conversation_uuid=f"CON-00000000-0000-4000-8000-"
                          f"{n:012d}") for n in range(100)]
    log.write_text("".join(lines))
    inspector = convo.Inspector(str(log))
    calls = [c["id"] for c in inspector.calls()]
    assert 0 < len(calls) < 100 and calls[0].endswith("000000000099")  # the newest, whole
    assert all(c.startswith("CON-") and len(c) == 40 for c in calls)


def browser():
    """Headless Chromium through Selenium, or a skip that says why."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("no browser test: Selenium is not installed (pip install selenium)")
    driver_path = shutil.which("chromedriver")
    if not (shutil.which("chromium") and driver_path):
        pytest.skip("no browser test: headless Chromium is not installed "
                    "(apt install chromium chromium-driver)")
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--window-size=1280,900",
                 "--disable-dev-shm-usage"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver_path), options=options)


PAGE_STATE = """
const text = (selector) => (document.querySelector(selector) || {}).innerText || "";
return {live: text("#live"), rows: document.querySelectorAll("tr.row").length,
        conv: text(".conv"), flow: text(".flow"), detail: text("tr.detail"),
        calls: text("#calls"), images: document.querySelectorAll("img").length,
        selected: (document.querySelector("nav button.on") || {dataset: {}}).dataset.id,
        members: [...document.querySelectorAll(".member")].map((m) => ({
            text: m.innerText, legs: [...m.querySelectorAll(".leg")].map((l) => l.innerText)})),
        seen: window.rowsSeen || [], notReloaded: window.notReloaded === true};
"""


def test_serve_inspector_in_a_real_browser_shows_the_call_live(tmp_path, capsys):
    driver = browser()  # or a skip that says why
    from selenium.webdriver.support.ui import WebDriverWait

    def until(check):
        """Wait for the page to be so, reading it all at once (it re-renders live)."""
        return WebDriverWait(driver, 10).until(
            lambda d: (lambda state: state if check(state) else None)(
                d.execute_script(PAGE_STATE)))
    try:
        with serve_inspected(tmp_path) as (proc, server, url, banner):
            driver.get(url)
            until(lambda s: s["live"] == "live")
            driver.execute_script("window.notReloaded = true;")
            code, _, err = run(capsys, "send", url_of(server), "--rtc")
            assert code == 0, err
            # the picture fills in, with no reload: two members, their channels and legs
            state = until(lambda s: s["rows"] == 21 and "ENDED" in s["conv"] and
                          len(s["members"]) == 2 and
                          all("LEFT" in m["text"] for m in s["members"]))
            assert state["notReloaded"]
            assert all("phone channel" in m["text"] for m in state["members"])
            assert [len(m["legs"]) for m in state["members"]] == [1, 1]
            assert all("completed" in m["legs"][0] for m in state["members"])
            assert state["flow"] == "447700000001 → 447700000002 → 447700000003"
            driver.save_screenshot(str(tmp_path / "inspector.png"))
            shot = os.environ.get("CONVO_INSPECTOR_SCREENSHOT")
            if shot:  # for a person to look at (the closing note describes one)
                driver.save_screenshot(shot)
            # open the answer webhook: the request, and the NCCO serve replied
            driver.execute_script('document.querySelector("tr.row").click();')
            state = until(lambda s: "Reply: 200" in s["detail"])
            assert "Request: GET /webhooks/answer?" in state["detail"]
            assert '"action": "connect"' in state["detail"]
            # replay it: a new row, and the open detail says what happened
            driver.execute_script('document.querySelector("tr.detail button.replay").click();')
            until(lambda s: s["rows"] == 22 and "sent again: HTTP 200" in s["detail"])
            # a webhook arriving -> its row: measured (printed, never asserted)
            driver.execute_script("""
                window.rowsSeen = [];
                new MutationObserver(() => window.rowsSeen.push(
                    [document.querySelectorAll('tr.row').length, Date.now()])
                ).observe(document.getElementById('call'), {childList: true, subtree: true});
            """)
            took = []
            for n in range(10):
                before = 22 + n
                sent = time.time() * 1000
                http_request(server, "POST", "/webhooks/event", {
                    "status": "completed", "conversation_uuid": state["selected"],
                    "direction": "inbound", "uuid": f"aaaaaaaa-0000-4000-8000-{n:012d}",
                    "timestamp": "2026-12-01T00:00:00.000Z"})
                seen = until(lambda s: [t for count, t in s["seen"] if count > before])
                took.append([t for count, t in seen["seen"] if count > before][0] - sent)
            print(f"inspector: a webhook -> its row, median {statistics.median(took):.0f} ms")
            # what a stranger sends is text on the page, never HTML
            hostile = "<img src=x onerror=alert(1)>"
            http_request(server, "GET", "/webhooks/answer?" + urlencode(
                {**ANSWER_QUERY, "from": hostile,
                 "conversation_uuid": "CON-00000000-0000-4000-8000-000000000009"}))
            state = until(lambda s: hostile in s["calls"])
            assert state["images"] == 0
            assert not [entry for entry in driver.get_log("browser")
                        if entry["level"] == "SEVERE"]
    finally:
        driver.quit()


# ---------------------------------------------------------------------------
# send: a call played against convo serve and against servers that get one thing wrong
# ---------------------------------------------------------------------------

def without_receipt(webhooks: list[dict]) -> list[dict]:
    return [{k: v for k, v in w.items() if k != "_received_at"} for w in webhooks]


STEP = re.compile(r"^ +(\d+)  (\S+) +(GET|POST) +(\S+) +(\d+|---) +\d+ ms  (ok|FAIL)", re.M)


def test_send_plays_the_seed_call_against_serve(webhook, capsys):
    code, out, err = run(capsys, "send", url_of(webhook))
    assert code == 0, out + err
    steps = STEP.findall(out)
    assert [(s[1], s[2], s[3], s[4], s[5]) for s in steps] == [
        ("answer", "GET", "/webhooks/answer", "200", "ok")] + [
        (status, "POST", "/webhooks/event", "204", "ok") for status in (
            "started", "ringing", "answered", "started", "ringing", "answered",
            "completed", "completed")]
    assert "connect → phone 447700000003" in out
    assert out.splitlines()[-1].startswith("ok: 9 of 9 webhooks passed in ")
    got = saved(webhook)
    conv = got[0]["conversation_uuid"]
    assert f"({conv})" in out.splitlines()[0] and {w["conversation_uuid"] for w in got} == {conv}
    answer, *events = got
    assert answer["_method"] == "GET" and answer["endpoint_type"] == "phone"
    assert (answer["from"], answer["to"]) == ("447700000001", "447700000002")
    assert answer["region_url"] == "https://api-eu-1.vonage.com"
    # a call that send made up is not the latest real call, and gets no `get` hint
    assert convo.read_state(webhook.config.state_dir) is None
    assert f"{conv[4:12]}…/" in err and "(played by send)" in err and "next:" not in err
    outbound = [e for e in events if e["direction"] == "outbound"]
    assert {(e["from"], e["to"]) for e in outbound} == {("Unknown", "447700000003")}
    assert len({e["uuid"] for e in events}) == 2
    for completed in (e for e in events if e["status"] == "completed"):
        assert all(isinstance(completed[k], str) for k in ("duration", "rate", "price"))
        assert set(completed) >= {"start_time", "end_time", "network", "timestamp"}
    # The same table show prints from the log, call in order.
    code, out, _ = run(capsys, "show", webhook.events_path)
    assert code == 0 and "(9 webhooks)" in out


def test_each_send_is_a_fresh_call(webhook, capsys):
    for _ in range(2):
        assert run(capsys, "send", url_of(webhook), "--from", "+15551234567")[0] == 0
    got = saved(webhook)
    assert len({w["conversation_uuid"] for w in got}) == 2
    assert got[0]["from"] == "15551234567"


@pytest.mark.serve_config(signature_secret=SECRET, api_key="abcd1234", app_id=APP_ID)
@pytest.mark.parametrize("method", ["GET", "post"])
def test_signed_send_passes_serve_verification(webhook, capsys, monkeypatch, method):
    monkeypatch.setenv("VONAGE_SIGNATURE_SECRET", SECRET)
    code, out, err = run(capsys, "send", url_of(webhook), "--method", method,
                         "--api-key", "abcd1234", "--app-id", APP_ID, "-v")
    assert code == 0, out + err
    assert "signed as api_key abcd1234" in out and "refused" not in err
    assert SECRET not in out + err
    assert saved(webhook)[0]["_method"] == method.upper()


@pytest.mark.serve_config(signature_secret=SECRET, api_key="abcd1234")
@pytest.mark.parametrize("argv", [
    [],                                                          # unsigned
    ["--signature-secret", "another-secret-another-secret-1234", "--api-key", "abcd1234"],
    ["--signature-secret", SECRET, "--api-key", "wxyz9876"],
])
def test_send_refused_by_serve_fails_the_call(webhook, capsys, argv):
    code, out, err = run(capsys, "send", url_of(webhook), *argv)
    assert code == 1
    assert STEP.findall(out) == [("1", "answer", "GET", "/webhooks/answer", "401", "FAIL")]
    assert "error: HTTP 401, expected 200 with the NCCO (refused: if it checks signatures" in out
    assert "1 of 1 webhooks failed" in out and "no event was sent" in out
    assert SECRET not in out + err and saved(webhook) == []


# Each server gets one thing wrong; the NCCO is talk-only unless the case says otherwise.
@pytest.mark.parametrize("answer,event,argv,needle,steps", [
    pytest.param(None, NO_CONTENT, [], "error: HTTP 404, expected 200 with the NCCO (is the "
                 "path right?): Vonage will not retry and the call fails", 1, id="answer-404"),
    pytest.param((200, "text/html; charset=utf-8", TALK), NO_CONTENT, [],
                 "error: the NCCO is served as text/html: Vonage will not retry and the call "
                 "fails (send Content-Type: application/json)", 1, id="html"),
    pytest.param(slowly, NO_CONTENT, ["--answer-timeout", "0.2"],
                 "error: no reply within 0.2 s: Vonage tries once more, then the call fails",
                 1, id="slow-ncco"),
    pytest.param((200, JSON, b'{"action": "talk", "text": "hello"}'), NO_CONTENT, [],
                 "error: the NCCO is a JSON object, not an array of actions: Vonage refuses "
                 "the NCCO and the call fails", 1, id="object"),
    pytest.param((200, JSON, b'[{"action": "dance"}]'), NO_CONTENT, [],
                 "error: action 1: unknown action 'dance' (known: connect, talk, stream, input, "
                 "record, conversation, notify)", 1, id="unknown-action"),
    pytest.param((200, JSON, b'[{"action": "connect", "from": "447700000002"}]'), NO_CONTENT,
                 [], "error: action 1 (connect): the required field endpoint is missing", 1,
                 id="connect-without-endpoint"),
    pytest.param((200, JSON, b'[{"action": "connect", "endpoint": []}]'), NO_CONTENT, [],
                 "error: action 1 (connect): endpoint is empty", 1, id="connect-empty"),
    pytest.param((200, JSON, TALK), (500, JSON, b'{"error":"oops"}'), [],
                 "error: HTTP 500, expected 2xx (200 to 205)", 5, id="event-500"),
    pytest.param((302, "text/html", b"", {"Location": "/elsewhere"}), NO_CONTENT, [],
                 "error: HTTP 302: a redirect to /elsewhere; send does not follow redirects",
                 1, id="redirect"),
    pytest.param(lambda h: (401, JSON, b"{}") if "Authorization" in h.headers else
                 (200, JSON, TALK), NO_CONTENT,
                 ["--signature-secret", SECRET, "--api-key", "abcd1234"],
                 "error: HTTP 401, expected 200 with the NCCO (refused: if it checks "
                 "signatures", 1, id="refuses-signed"),
    pytest.param((200, JSON, b"x" * ((1 << 20) + 1)), NO_CONTENT, [],
                 "error: the reply is over 1 MiB: Vonage will not retry", 1, id="huge"),
])
def test_send_against_a_server_that_gets_one_thing_wrong(capsys, answer, event, argv, needle,
                                                         steps):
    routes = {"/webhooks/event": event, "/elsewhere": (200, JSON, TALK)}
    if answer is not None:
        routes["/webhooks/answer"] = answer
    with scripted(routes) as server:
        code, out, err = run(capsys, "send", url_of(server), *argv)
    assert code == 1, out + err
    assert needle in out
    assert len(STEP.findall(out)) == steps and "FAIL" in out
    assert "FAILED: " in out.splitlines()[-1]
    assert not any(path == "/elsewhere" for _, path, _, _ in server.received)
    assert "Traceback" not in err


def test_send_warns_of_unknown_fields_and_follows_the_ncco(capsys):
    ncco = [{"action": "talk", "text": "hi", "voice": "Amy"},
            {"action": "connect", "from": "447700000002", "eventUrl": [],
             "endpoint": [{"type": "app", "user": "alice"}]}]
    with scripted({"/webhooks/answer": (200, JSON, json.dumps(ncco).encode()),
                   "/webhooks/event": NO_CONTENT}) as server:
        code, out, _ = run(capsys, "send", url_of(server))
    assert code == 0
    assert "warning: action 1 (talk): unknown field 'voice'" in out
    assert "talk, connect → app alice" in out and "9 webhooks passed" in out
    assert "1 warning" in out.splitlines()[-1]
    outbound = [json.loads(body) for method, path, _, body in server.received
                if method == "POST" and b'"outbound"' in body]
    assert {(e["from"], e["to"]) for e in outbound} == {("447700000002", "alice")}


def test_send_follows_the_connect_event_url(capsys):
    with scripted({"/webhooks/event": NO_CONTENT, "/leg-events": NO_CONTENT}) as server:
        ncco = [{"action": "connect", "eventUrl": [f"{url_of(server)}/leg-events"],
                 "eventMethod": "GET", "endpoint": [{"type": "phone", "number": "447700000003"}]}]
        server.routes["/webhooks/answer"] = (200, JSON, json.dumps(ncco).encode())
        code, out, _ = run(capsys, "send", url_of(server))
    assert code == 0, out
    legs = [(method, path.split("?")[0]) for method, path, _, _ in server.received[1:]]
    assert legs.count(("GET", "/leg-events")) == 4 and legs.count(("POST", "/webhooks/event")) == 4


def test_send_follows_an_ncco_event_url_only_to_the_server_it_tests(capsys):
    ncco = [{"action": "connect", "eventUrl": ["https://hooks.example.invalid/ev"],
             "endpoint": [{"type": "phone", "number": "447700000003"}]}]
    bad = [{"action": "connect", "eventUrl": ["http://[::1"],
            "endpoint": [{"type": "phone", "number": "447700000003"}]}]
    for answer, needle in ((ncco, "is on another server than the one send tests"),
                           (bad, "'http://[::1' is not an http(s) URL")):
        with scripted({"/webhooks/answer": (200, JSON, json.dumps(answer).encode()),
                       "/webhooks/event": NO_CONTENT}) as server:
            code, out, _ = run(capsys, "send", url_of(server))
        assert code == 1 and "not sent: the NCCO's eventUrl" in out and needle in out
        assert out.count("not sent:") == 4  # the outbound leg's four events


@pytest.mark.parametrize("sig,code,words", STOPS)
def test_ctrl_c_during_send_keeps_what_was_done(tmp_path, sig, code, words):
    """SIGINT (or SIGTERM) while send waits for an event's reply: the steps done stay
    printed, then exit 130 (143), with no traceback."""
    with scripted({"/webhooks/answer": (200, JSON, TALK), "/webhooks/event": slowly}) as server:
        proc = subprocess.Popen(convo_command("send", url_of(server)), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "NO_COLOR": "1"})
        try:
            assert server.waiting.wait(10), "send never sent an event"
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=10)
        finally:
            proc.kill()
    assert proc.returncode == code and err == words
    assert STEP.findall(out)[0][1:] == ("answer", "GET", "/webhooks/answer", "200", "ok")
    assert out.endswith("interrupted after 1 webhook\n")


def test_send_says_what_it_did_not_exercise(capsys):
    ncco = [{"action": "talk", "text": "press 1"},
            {"action": "input", "type": ["dtmf"], "eventUrl": ["https://example.invalid/in"]},
            {"action": "notify", "payload": {}, "eventUrl": ["https://example.invalid/n"]}]
    with scripted({"/webhooks/answer": (200, JSON, json.dumps(ncco).encode()),
                   "/webhooks/event": NO_CONTENT}) as server:
        code, out, _ = run(capsys, "send", url_of(server))
    assert code == 0
    assert "note: action 2 (input): its eventUrl (the caller's input) was not called (send " \
        "does not play input yet)" in out
    assert "note: action 3 (notify): its eventUrl was not called" in out
    assert out.splitlines()[-1].endswith("; 2 actions of the NCCO not exercised (see the notes)")


def test_send_never_waits_in_silence(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(convo, "QUIET_WAIT_S", 0.05)  # a long wait, made short for the test
    log = tmp_path / "spaced.jsonl"
    log.write_text(_events_line(status="started", timestamp="2018-10-25T09:26:19.000Z")
                   + _events_line(status="ringing", timestamp="2018-10-25T09:26:19.100Z"))
    with scripted({"/webhooks/event": NO_CONTENT}) as server:
        code, out, err = run(capsys, "send", url_of(server), "--log", str(log), "--speed", "1")
        assert code == 0 and "next webhook in 0 s (at --speed 1)" in out
        code, _, err = run(capsys, "send", url_of(server), "--answer-timeout", "100")
    assert "Vonage itself gives up on the answer webhook after 5 s" in err


def test_send_says_when_nothing_listens(capsys):
    with socket.socket() as s:  # bound, never listening: connections are refused
        s.bind(("127.0.0.1", 0))
        code, out, err = run(capsys, "send", f"http://127.0.0.1:{s.getsockname()[1]}")
    assert code == 1 and "connection refused (is the server running?)" in out
    assert "Traceback" not in err


def test_send_cuts_off_a_dripping_answer_at_its_budget(capsys, dripper):
    code, out, _ = run(capsys, "send", dripper, "--answer-timeout", "0.2")
    assert code == 1 and "error: no reply within 0.2 s: Vonage tries once more" in out


def test_urls_the_way_people_type_them(capsys, webhook, tmp_path):
    port = webhook.server_address[1]
    for typed, meant in ((f":{port}", "127.0.0.1"), (f"localhost:{port}", "localhost"),
                         (f"127.0.0.1:{port}", "127.0.0.1")):
        code, out, _ = run(capsys, "send", typed)
        assert code == 0 and f"to http://{meant}:{port}," in out, out
    assert convo.explicit_hosts(["api.nexmo.com"]) == ["https://api.nexmo.com"]
    assert convo.explicit_hosts([f"127.0.0.1:{port}"]) == [f"http://127.0.0.1:{port}"]
    code, _, err = run(capsys, "send", "localhost:abc")
    assert code == 2 and "URL 'localhost:abc' is not an http(s) URL" in err
    # a webhook path pasted with a trailing slash is the same path
    status, _, _ = http_request(webhook, "POST", "/webhooks/event/",
                                {"status": "ringing", "conversation_uuid": CONV_ID})
    assert status == 204
    # the start of a conversation ID, as serve's log shows it
    log = Path(webhook.events_path)
    for typed in (CONV_ID[4:12], CONV_ID[4:12] + "…"):  # copied with its mark, too
        code, out, _ = run(capsys, "show", str(log), "--conversation", typed)
        assert code == 0 and f"Conversation {CONV_ID}" in out
        assert out.count("Conversation ") == 1
    other = tmp_path / "two.jsonl"
    other.write_text(_events_line(status="started") + _events_line(
        status="started", conversation_uuid=CONV_ID[:-1] + "7"))
    code, _, err = run(capsys, "send", url_of(webhook), "--log", str(other),
                       "--conversation", CONV_ID[4:12])
    assert code == 2 and "fits CON-bc643220-" in err and "give more of it" in err
    assert convo.check_number("+44 7700 900003", "--to") == "447700900003"


@pytest.mark.parametrize("argv,needle", [
    ([], "give your webhook server's URL"),
    (["ftp://127.0.0.1"], "is not an http(s) URL"),
    (["http://example.com"], "plain http:// to another machine: use https://, or --insecure"),
    (["http://127.0.0.1:1", "--event-url", "http://hooks.example.invalid/e"], "--event-url"),
    (["http://127.0.0.1:1", "--speed", "2"], "--conversation and --speed go with --log"),
    (["http://127.0.0.1:1", "--answer-timeout", "0"], "--answer-timeout 0: give seconds"),
    (["http://127.0.0.1:1", "--from", "alice"], "--from 'alice' is not a phone number"),
    (["http://127.0.0.1:1", "--signature-secret", SECRET], "signing needs your account's API key"),
    (["http://127.0.0.1:1", "--log", "missing.jsonl"], "missing.jsonl: no such file"),
    (["http://127.0.0.1:1", "--log", "x.jsonl", "--to", "447700000002"], "--log sends the saved"),
    (["http://127.0.0.1:1", "--log", "x.jsonl", "--conversation", "CON-x"],
     "'CON-x' is not a conversation ID"),
    (["http://127.0.0.1:1", "--log", "x.jsonl", "--speed", "-1"], "--speed -1"),
])
def test_send_refuses_bad_arguments(capsys, argv, needle):
    code, out, err = run(capsys, "send", *argv)
    assert code == 2 and needle in err and out == ""
    assert SECRET not in err


def test_send_replays_a_serve_log_into_a_second_serve(webhook, capsys, tmp_path):
    assert run(capsys, "send", url_of(webhook))[0] == 0
    assert run(capsys, "send", url_of(webhook), "--method", "POST")[0] == 0
    first = saved(webhook)
    with serving(tmp_path / "second", signature_secret=SECRET, api_key="abcd1234") as second:
        code, out, err = run(capsys, "send", url_of(second), "--log", webhook.events_path,
                             "--signature-secret", SECRET, "--api-key", "abcd1234")
        assert code == 0, out + err
        assert without_receipt(saved(second)) == without_receipt(first)
        assert "18 of 18 webhooks passed" in out
        conv = first[-1]["conversation_uuid"]
        code, out, _ = run(capsys, "send", url_of(second), "--log", webhook.events_path,
                           "--conversation", conv, "--speed", "1000",
                           "--signature-secret", SECRET, "--api-key", "abcd1234")
        assert code == 0 and "9 of 9 webhooks passed" in out
        assert [w["_method"] for w in saved(second)[18:]] == ["POST"] * 9


def test_send_replays_any_voice_webhook_lines(capsys, tmp_path):
    """The seed's table (no _method), a line that is not JSON, and one that is no webhook."""
    log = tmp_path / "log.jsonl"
    log.write_text((TESTDATA / "seed_events.jsonl").read_text() + "not json\n{\"a\": 1}\n")
    with scripted({"/webhooks/answer": (200, JSON, TALK),
                   "/webhooks/event": NO_CONTENT}) as server:
        code, out, err = run(capsys, "send", url_of(server), "--log", str(log))
    assert code == 0, out + err
    methods = [(m, p.split("?")[0]) for m, p, _, _ in server.received]
    assert methods[2] == ("GET", "/webhooks/answer") and methods.count(
        ("POST", "/webhooks/event")) == 8
    assert "log.jsonl:10: skipped: invalid JSON" in err
    assert "log.jsonl: skipped 1 JSON object that is no Voice webhook" in err
    assert len(server.peers) == 1  # one keep-alive connection for the whole log
    sent = [json.loads(body) for _, _, _, body in server.received if body]
    assert all("_webhook" not in w and "_received_at" not in w for w in sent)
    assert sent[-1] == json.loads((TESTDATA / "seed_events.jsonl").read_text().splitlines()[-1])


def test_show_and_send_log_agree_on_what_an_answer_webhook_is(capsys, tmp_path):
    """A saved answer webhook without serve's _webhook field (no status, no timestamp):
    show once called it "(no status)" while send --log replayed it as an answer."""
    log = tmp_path / "hooks.jsonl"
    log.write_text(json.dumps({k: v for k, v in ANSWER_QUERY.items()}) + "\n")
    code, out, _ = run(capsys, "show", str(log))
    assert code == 0 and "(answer)" in out and "answer webhook: the NCCO was sent" in out
    assert "(no status)" not in out
    with scripted({"/webhooks/answer": (200, JSON, TALK)}) as server:
        code, out, _ = run(capsys, "send", url_of(server), "--log", str(log))
    assert code == 0 and [(m, p.split("?")[0]) for m, p, _, _ in server.received] == [
        ("GET", "/webhooks/answer")]


def test_send_with_an_empty_log_says_so(capsys, tmp_path):
    log = tmp_path / "empty.jsonl"
    log.write_text("")
    code, _, err = run(capsys, "send", "http://127.0.0.1:1", "--log", str(log))
    assert code == 2 and "empty.jsonl: no webhooks to send" in err


def test_send_log_of_the_file_serve_writes_replays_a_snapshot(webhook, capsys):
    """The README's replay aimed at the running serve: 9 lines are sent once, and both
    sides say that the log is serve's own."""
    Path(webhook.events_path).write_text("".join(_events_line(status=s) for s in (
        "started", "ringing", "answered", "started", "ringing", "answered", "completed",
        "completed", "completed")))
    capsys.readouterr()
    code, out, err = run(capsys, "send", url_of(webhook), "--log", webhook.events_path)
    assert code == 0, out + err
    assert len(STEP.findall(out)) == 9
    assert len(saved(webhook)) == 18
    assert "is the log this server writes to: send replayed the lines it held" in err
    assert "send is replaying " in err and "the log serve writes to" in err


@pytest.mark.serve_config(signature_secret=SECRET, api_key="abcd1234")
def test_send_verbose_shows_each_exchange_with_its_secrets_redacted(webhook, capsys):
    secret = SECRET
    capsys.readouterr()
    code, out, err = run(capsys, "-v", "send", url_of(webhook), "--signature-secret", secret,
                         "--api-key", "abcd1234")
    assert code == 0, out + err
    sent = err[err.index("  -> GET "):]
    assert sent.splitlines()[0].startswith(f"  -> GET {url_of(webhook)}/webhooks/answer?to=")
    assert "    Authorization: Bearer …(redacted)" in sent
    assert '  <- 200 (' in sent and "    Content-Type: application/json" in sent
    assert '    [{"action":"connect","endpoint":[{"type":"phone","number":"447700000003"}]}]' \
        in sent  # the NCCO serve returned
    assert f"  -> POST {url_of(webhook)}/webhooks/event" in sent and "  <- 204 (" in sent
    assert '"status":"completed"' in sent
    # serve's own -v line (the fixture's serve logs with -v): the whole request, never cut
    assert re.search(r"127\.0\.0\.1 GET /webhooks/answer\?to=\S+endpoint_type=phone -> 200\n",
                     err)
    token = re.search(r"Bearer (\S+)", err)
    assert secret not in out + err and (token is None or token.group(1) == "…(redacted)")


def test_send_rtc_plays_the_conversation_against_serve(webhook, capsys):
    code, out, err = run(capsys, "send", url_of(webhook), "--rtc")
    assert code == 0, out + err
    rows = STEP.findall(out)
    kinds = [row[1] for row in rows]
    assert len(rows) == 21 and kinds[:3] == ["answer", "member:joined", "started"]
    assert kinds.count("member:joined") == 3 and kinds.count("member:left") == 2
    assert all(row[3] == "/webhooks/rtc" for row in rows if ":" in row[1])
    assert out.splitlines()[-1].startswith("ok: 21 of 21 webhooks passed")
    rtc = [w for w in saved(webhook) if w["_webhook"] == "rtc"]
    conv = saved(webhook)[0]["conversation_uuid"]
    assert [w["id"] for w in rtc] == list(range(1, 13))
    assert {w["conversation_id"] for w in rtc} == {conv}
    assert {w["application_id"] for w in rtc} == {convo.SEED_APP_ID}
    assert f"Conversation {conv}  ENDED" in err and "12 events" in err
    # and --log sends the saved RTC events again, as they were
    capsys.readouterr()
    code, out, err = run(capsys, "send", url_of(webhook), "--log", webhook.events_path)
    assert code == 0 and len(STEP.findall(out)) == 21, out + err
    assert "after the end: saved" in capsys.readouterr().err + err


def test_send_numbering_keeps_its_columns_past_999(capsys, tmp_path):
    log = tmp_path / "events.jsonl"
    log.write_text(_events_line(status="started") * 1001)
    with scripted({"/webhooks/event": NO_CONTENT}) as server:
        code, out, err = run(capsys, "send", url_of(server), "--log", str(log))
    assert code == 0, err
    rows = out.splitlines()[1:-1]
    assert len(rows) == 1001 and rows[999].startswith("1000 started ")
    assert len({row.index("POST") for row in rows}) == 1


def test_hostile_urls_and_logs_are_one_line_errors(capsys, tmp_path):
    code, _, err = run(capsys, "get", f"https://[::1/v1/conversations/{CONV_ID}")
    assert code == 2 and "is not an ID that get reads" in err
    log = tmp_path / "events.jsonl"
    log.write_text(_events_line(status="started", timestamp="1900-01-01T00:00:00.000Z")
                   + _events_line(status="ringing", timestamp="2100-01-01T00:00:00.000Z"))
    with scripted({"/webhooks/event": NO_CONTENT}) as server:
        for speed in ("1", "1e-12"):
            code, out, err = run(capsys, "send", url_of(server), "--log", str(log),
                                 "--speed", speed)
            assert code == 2 and "the next webhook would be sent in" in err
            assert "give a higher --speed" in err and "Traceback" not in err


# The hand-written NCCO rules, against the schema Vonage published for the actions
# they share: every NCCO here is judged the same way by both.
@pytest.mark.parametrize("ncco", [
    [{"action": "talk", "text": "hi", "bargeIn": True, "loop": 2}],
    [{"action": "talk"}],
    [{"action": "talk", "text": 5}],
    [{"action": "talk", "text": "hi", "bargeIn": "yes"}],
    [{"action": "stream", "streamUrl": ["https://example.com/a.mp3"]}],
    [{"action": "stream"}],
    [{"action": "stream", "streamUrl": "https://example.com/a.mp3"}],
    [{"action": "conversation", "name": "room"}],
    [{"action": "conversation"}],
    [{"action": "connect", "endpoint": [{"type": "phone", "number": "447700000003"}]}],
    [{"action": "connect", "endpoint": [{"type": "phone"}]}],
    [{"action": "connect", "endpoint": [{"type": "sip", "uri": "sip:a@example.com"}]}],
    [{"action": "connect", "endpoint": [{"type": "websocket"}]}],
    [{"action": "connect", "endpoint": [{"number": "447700000003"}]}],
    [{"action": "connect", "endpoint": "447700000003"}],
    [{"action": "record"}, {"action": "input", "submitOnHash": True}],
    [{"action": "record", "beepStart": 1}],
    [{"action": "launch"}],
    [{"text": "hi"}],
    [],
    {"action": "talk", "text": "hi"},
])
def test_ncco_rules_agree_with_the_schema(ncco):
    errors, _ = convo.check_ncco(ncco)
    assert bool(errors) == (not ncco_validator().is_valid(ncco)), errors


@pytest.mark.parametrize("ncco,errors,warnings", [
    ([{"action": "notify", "payload": {"step": "1"}, "eventUrl": ["https://e.example/n"]}], 0, 0),
    ([{"action": "notify", "payload": "step"}], 2, 0),
    ([{"action": "connect", "endpoint": [{"type": "app", "user": "alice"}]}], 0, 0),
    ([{"action": "connect", "endpoint": [{"type": "vbc"}]}], 1, 0),
    ([{"action": "connect", "endpoint": [{"type": "fax", "number": "1"}]}], 1, 0),
    ([{"action": "connect", "endpoint": [{"type": "phone", "number": "1", "x": 1},
                                         {"type": "app", "user": "a"}]}], 0, 2),
    ([{"action": "conversation", "name": "r", "musicOnHoldUrl": ["https://e.example/m"]}], 0, 0),
    ([{"action": "talk", "text": "hi", "loop": 1.5}], 1, 0),
    (["talk"], 1, 0),
])
def test_ncco_rules_beyond_the_schema(ncco, errors, warnings):
    found, warned = convo.check_ncco(ncco)
    assert (len(found), len(warned)) == (errors, warnings), (found, warned)


# ---------------------------------------------------------------------------
# show
# ---------------------------------------------------------------------------

def test_show_stdin(capsys, monkeypatch):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO((HERE / "sample_response.json").read_text()))
    code, out, _ = run(capsys, "show", "-")
    assert code == 0 and out == SAMPLE_TREE


@pytest.mark.parametrize("content,needle", [
    ('{\n  "id": "CON-1",\n  "members": [,]\n}', "invalid JSON at line 3, column 15"),
    ("", "is empty"),
    ("[1, 2]", "expected a JSON object"),
])
def test_show_bad_documents(capsys, tmp_path, content, needle):
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, out, err = run(capsys, "show", str(path))
    assert (code, out) == (2, "")
    assert needle in err and err.count("\n") == 1


def test_show_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "show", str(tmp_path / "nope.json"))
    assert code == 2 and err == f"convo: error: {tmp_path / 'nope.json'}: no such file\n"


def test_show_says_what_it_reads_for_a_document_it_does_not(capsys, tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"foo": 1}')
    code, out, err = run(capsys, "show", str(path))
    assert code == 2 and out == ""
    assert "neither a conversation nor webhooks (an object with foo): show reads a " \
        "conversation" in err
    path.write_text(json.dumps({"_embedded": {"calls": []}, "count": 0}))
    code, _, err = run(capsys, "show", str(path))
    assert code == 2 and "it looks like the Voice API's list of calls" in err


def test_show_with_no_file_shows_what_serve_saved(capsys, tmp_path):
    code, _, err = run(capsys, "show")
    assert code == 2 and "events.jsonl: no such file: serve saves every webhook there" in err
    with serving(tmp_path / "state") as server:  # the state directory of clean_env
        http_request(server, "POST", "/webhooks/event", {"status": "ringing",
                                                        "conversation_uuid": CONV_ID})
    code, out, _ = run(capsys, "show")
    assert code == 0 and "ringing" in out and CONV_ID in out


def test_show_of_deeply_nested_json_is_bad_json(capsys, tmp_path):
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 100_000)
    code, _, err = run(capsys, "show", str(path))
    assert code == 2 and err.startswith(f"convo: error: {path}: invalid JSON")
    assert "nesting too deep" in err and "Traceback" not in err
    lines = tmp_path / "deep.jsonl"
    lines.write_bytes(b"[" * 100_000 + b'\n{"conversation_uuid":"' + CONV_ID.encode()
                      + b'","status":"ringing"}\n')
    code, out, err = run(capsys, "show", str(lines))
    assert code == 0 and "ringing" in out and "deep.jsonl:1: skipped: invalid JSON" in err


SEED_WEBHOOKS = """\
Conversation CON-bc643220-2542-499a-892e-c982c4150c06  (9 webhooks)
  TIMESTAMP                 LEG        DIRECTION  FROM          TO            STATUS     NOTES
  2018-10-25T09:26:18.991Z  797168e2…  inbound    447700000001  447700000002  started
  2018-10-25T09:26:18.991Z  797168e2…  inbound    447700000001  447700000002  ringing
  2018-10-25T09:26:19.827Z  797168e2…  -          447700000001  447700000002  (answer)   answer webhook: the NCCO was sent
  2018-10-25T09:26:24.384Z  30cecc87…  outbound   Unknown       447700000003  started
  2018-10-25T09:26:24.384Z  30cecc87…  outbound   Unknown       447700000003  ringing
  2018-10-25T09:26:30.277Z  30cecc87…  outbound   Unknown       447700000003  answered
  2018-10-25T09:26:30.340Z  797168e2…  inbound    447700000001  447700000002  answered
  2018-10-25T09:31:30.179Z  797168e2…  inbound    447700000001  447700000002  completed  duration 311 s, price 0.02332500, disconnected by user
  2018-10-25T09:31:30.179Z  30cecc87…  outbound   Unknown       447700000003  completed  duration 300 s, price 0.06350000, disconnected by platform
"""


def test_show_webhook_log_renders_the_seed_table(capsys):
    code, out, err = run(capsys, "show", str(TESTDATA / "seed_events.jsonl"))
    assert (code, err) == (0, "")
    assert out == SEED_WEBHOOKS


def test_show_webhook_log_groups_filters_and_skips_bad_lines(capsys, monkeypatch, tmp_path):
    import io
    other = "CON-00000000-0000-4000-8000-000000000001"
    lines = (TESTDATA / "seed_events.jsonl").read_text().splitlines()
    lines[1] = '{"status": "ringing", '  # cut short
    lines.insert(4, "[1, 2]")
    lines.append(json.dumps({"conversation_uuid": other, "status": "teleported",
                             "timestamp": "2026-01-01T00:00:00.000Z",
                             "from": {"type": "phone", "number": "15550100"}, "to": "15550101"}))
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = run(capsys, "show", str(path))
    assert code == 0
    assert f"{path}:2: skipped: invalid JSON" in err and f"{path}:5: skipped: not a JSON object" in err
    assert "(8 webhooks)" in out and f"Conversation {other}  (1 webhook)" in out
    assert "-    -          15550100  15550101  teleported" in out  # unknown statuses shown
    code, out, _ = run(capsys, "show", str(path), "--conversation", other)
    assert code == 0 and CONV_ID not in out and "teleported" in out
    monkeypatch.setattr("sys.stdin", io.StringIO(path.read_text()))
    code, out, _ = run(capsys, "show", "-", "--json")
    assert code == 0 and [g["conversation_uuid"] for g in json.loads(out)] == [CONV_ID, other]


def test_show_saved_events_jsonl_from_serve(webhook, capsys):
    http_request(webhook, "GET", "/webhooks/answer?" + urlencode(ANSWER_QUERY))
    http_request(webhook, "POST", "/webhooks/event", {"status": "started", "direction": "inbound",
                                                 "conversation_uuid": CONV_ID,
                                                 "timestamp": "2018-10-25T09:26:18.991Z",
                                                 "from": "447700000001", "to": "447700000002"})
    capsys.readouterr()
    code, out, _ = run(capsys, "show", webhook.events_path)
    assert code == 0 and "(2 webhooks)" in out and "(answer)" in out and "started" in out


def test_webhook_table_escapes_everything_a_stranger_sent(capsys, tmp_path):
    log = tmp_path / "events.jsonl"
    log.write_text(json.dumps({"conversation_uuid": CONV_ID, "status": UNSAFE,
                               "from": UNSAFE, "to": "447700000002",
                               "timestamp": UNSAFE, "detail": UNSAFE}) + "\n")
    code, out, _ = run(capsys, "show", str(log))
    assert code == 0 and "\x9b" not in out and "\u202e" not in out and UNSAFE_ESCAPED in out
    code, out, _ = run(capsys, "show", "--json", str(log))
    assert code == 0 and "\x9b" not in out and json.loads(out)[0]["webhooks"][0]["from"] == UNSAFE


def test_show_webhook_log_errors_while_streaming(capsys, tmp_path):
    code, _, err = run(capsys, "show", str(tmp_path / "none.jsonl"))
    assert code == 2 and err == f"convo: error: {tmp_path / 'none.jsonl'}: no such file\n"
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"status": "started"}\n{"status": "ringing"}\n{"from": "\xff\xfe"}\n')
    code, out, err = run(capsys, "show", str(bad))
    assert code == 2 and out == "" and "not UTF-8 text" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_nothing_convo_prints_as_json_holds_nan(capsys, tmp_path):
    log = tmp_path / "events.jsonl"
    log.write_text('{"status": "started", "conversation_uuid": "%s", "x": NaN}\n' % CONV_ID
                   + _events_line(status="ringing"))
    code, out, err = run(capsys, "show", str(log), "--json")
    assert code == 0 and "NaN" not in out and json.loads(out)
    assert "skipped: invalid JSON" in err


# ---------------------------------------------------------------------------
# The command line: help, flags, exit codes, signals
# ---------------------------------------------------------------------------

class AsciiOut(io.StringIO):
    """Captured output, as from a stream that takes ASCII only."""
    encoding = "ascii"


def ascii_run(*argv: str, env: dict | None = None, **popen) -> subprocess.Popen:
    """convo.py in a child whose standard streams take ASCII only."""
    return subprocess.Popen([sys.executable, str(HERE / "convo.py"), *argv], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONIOENCODING": "ascii", "NO_COLOR": "1",
                                 **(env or {})}, **popen)


def assert_ascii(text: str) -> None:
    assert text.isascii() and "\\u2" not in text and "\\xe2" not in text, text


def test_every_command_falls_back_to_ascii(tmp_path, key_file, rsa_key, monkeypatch):
    """The tree, calls, the watch, send's table and serve's log, on streams that take
    ASCII only: no UnicodeEncodeError, no escapes, `->` and `...` instead."""
    env = {"VONAGE_APPLICATION_ID": APP_ID, "VONAGE_APPLICATION_PRIVATE_KEY_PATH": str(key_file),
           "CONVO_STATE_DIR": str(tmp_path / "state")}
    outputs = []
    with FakeVonage(rsa_key.public_key()) as fake:
        fake.play(seed_call_steps(), step=8)
        for argv in (["show", str(HERE / "sample_response.json")],
                     ["calls", "--api-url", fake.url]):
            out, err = ascii_run(*argv, env=env).communicate(timeout=30)
            outputs.append(out)
            assert_ascii(out + err)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        watched = AsciiOut()
        args = convo.build_parser().parse_args(["get", CONV_ID, "--watch", "--api-url",
                                                fake.url])
        clock = WatchClock(lambda n: fake.advance())  # hang-up
        assert convo.cmd_get(args, watched, clock=clock, sleep=clock.sleep) == 0
        assert_ascii(watched.getvalue())
        assert "hung up - watched " in watched.getvalue()
    assert "`- leg 30cecc87-7ac9-4d03-910a-e9d69558263c" in outputs[0]
    assert "447700000001 -> 447700000002" in outputs[1]
    serve = ascii_run("serve", "--port", "0", "--to", "447700000003", env=env)
    try:
        port = int(serve.stdout.readline().rsplit(":", 1)[1].split()[0])
        sent, err = ascii_run("send", f"http://127.0.0.1:{port}").communicate(timeout=30)
        assert_ascii(sent + err)
        assert "connect -> phone 447700000003" in sent
        address = type("Address", (), {"server_address": ("127.0.0.1", port)})
        assert http_request(address, "GET", "/answer")[0] == 404
    finally:
        serve.terminate()
        _, log = serve.communicate(timeout=10)
    assert_ascii(log)
    assert "GET /answer -> 404" in log and "447700000001 -> 447700000002" in log


def test_the_fake_api_can_be_run_by_hand(capsys, monkeypatch):
    """python3 testdata/fake_vonage.py: it says how to point convo.py at it, and moves
    the call on at a signal (Enter, on a terminal)."""
    proc = subprocess.Popen([sys.executable, str(TESTDATA / "fake_vonage.py")], text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        said = pipe_lines(proc.stdout)
        told = "\n".join(said.expect("to move the call on"))
        for name in ("VONAGE_APPLICATION_ID", "VONAGE_APPLICATION_PRIVATE_KEY_PATH",
                     "VONAGE_API_URL"):
            monkeypatch.setenv(name, re.search(rf"export {name}=(\S+)", told).group(1))
        code, out, _ = run(capsys, "get", CONV_ID)
        assert code == 0 and "Member MEM-f44c872e" in out and "MEM-25ccda92" not in out
        proc.send_signal(signal.SIGUSR1)
        said.expect("step 2: 2 events")
        code, out, _ = run(capsys, "get", CONV_ID)
        assert code == 0 and "Member MEM-25ccda92-839d-4ac6-a7b2-de310224878b  INVITED" in out
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        os.unlink(os.environ["VONAGE_APPLICATION_PRIVATE_KEY_PATH"])


def fit(lines: list[str], columns: int) -> bool:
    """Whether each line fits in `columns`, but for a word too long to fit anywhere
    (a path or a URL: never cut)."""
    return all(len(line) <= columns or len(max(line.split(), key=len)) > columns // 2
               for line in lines)


def visible(data: bytes) -> list[str]:
    """The lines a terminal shows, without colours."""
    return [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in
            data.decode().replace("\r", "").split("\n")]


@pytest.mark.parametrize("columns", [60, 120])
def test_narrow_and_wide_terminals(tmp_path, columns, webhook):
    """On a real pseudo-terminal of 60 and of 120 columns, COLUMNS unset: the tree and
    --help fit; times, numbers and statuses are never shortened; serve's log keeps a
    completed call's duration and price, and its hint whole."""
    env = {"NO_COLOR": "1", "CONVO_STATE_DIR": str(tmp_path / "state")}
    tree = visible(on_a_terminal(["show", str(HERE / "sample_response.json")], env,
                                 until=b"2 legs", columns=columns))
    # IDs are shortened in the middle; what is left of a line too long even then wraps
    assert ("  name NAM-…" in "\n".join(tree)) == (columns == 60)
    if columns == 120:
        assert "\n".join(tree).strip() == SAMPLE_TREE.strip()  # it all fits: nothing shortened
    assert any("447700000001 → 447700000002" in line for line in tree)
    assert any("09:26:30.334" in line for line in tree)
    assert any("JOINED" in line for line in tree)
    if columns == 60:
        helped = visible(on_a_terminal(["--help"], env, until=b"130", columns=columns))
        assert max(map(len, helped)) <= columns and any(len(line) > 50 for line in helped)

    def call(proc):
        port = None
        deadline = time.monotonic() + 10
        while port is None and time.monotonic() < deadline:
            line = proc.stdout.readline().decode()
            found = re.search(r"listening on http://127.0.0.1:(\d+)", line)
            port = found and int(found.group(1))
        server = type("Address", (), {"server_address": ("127.0.0.1", port)})
        http_request(server, "GET", "/webhooks/answer?" + urlencode(ANSWER_QUERY))
        event = json.loads((TESTDATA / "seed_events.jsonl").read_text().splitlines()[-2])
        http_request(server, "POST", "/webhooks/event", event)
    log = visible(on_a_terminal(["serve", "--port", "0", "--to", "447700000003"], env,
                                until=b"disconnected by user", stream="stderr", send=call,
                                columns=columns))
    assert any(f"next: python3 convo.py get {CONV_ID}" in line for line in log)
    assert any("duration 311 s, price 0.02332500" in line for line in log)
    # messages wrap to fit: not the log's lines, whose IDs alone may be shortened,
    # nor a command to copy, which the terminal wraps whole
    said = [line for line in log if not re.match(r"\d\d:\d\d:\d\d|\s+next: ", line)]
    assert any(line.startswith("convo: warning: ") for line in said)
    assert fit(said, columns)
    public = "https://abc123.ngrok-free.app"
    banner = visible(on_a_terminal(["serve", "--port", "0", "--to", "447700000003",
                                    "--public-url", public], env, until=b"signatures",
                                   columns=columns))
    assert fit(banner, columns)
    assert f"  answer URL  {public}/webhooks/answer" in banner  # whole, to be pasted
    assert any(re.search(r"listening on http://127\.0\.0\.1:\d+ ", line) for line in banner)
    # send's table: every column kept, the note under its line when there is no room
    table = visible(on_a_terminal(["send", url_of(webhook)], env, until=b"webhooks passed",
                                  columns=columns))
    assert fit(table, columns)
    rows = [line for line in table if re.match(r" +\d+  \w", line)]
    assert len(rows) == 9 and len({line.index(" ms ") for line in rows}) == 1
    assert any("connect → phone 447700000003" in line for line in table)
    assert ("connect" in rows[0]) == (columns == 120)


def test_help_lists_exit_codes_and_environment(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for needle in ("exit codes:", "130", "VONAGE_APPLICATION_ID", "jwt", "show"):
        assert needle in out


def readme_examples() -> list[str]:
    """Every command line of the README's shell blocks that runs convo.py."""
    readme = (HERE / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    return [line.split("  # ")[0].strip() for block in blocks for line in block.splitlines()
            if line.lstrip().startswith("python3 convo.py ")]


def test_readme_examples_run_as_written(capsys, monkeypatch, tmp_path, key_file):
    """Each example parses as written; those that need no server or account (jwt,
    show) run, after the set-up the README states (a key file, the variables)."""
    import shlex
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sample_response.json").write_text((HERE / "sample_response.json").read_text())
    monkeypatch.setenv("VONAGE_APPLICATION_ID", APP_ID)
    monkeypatch.setenv("VONAGE_APPLICATION_PRIVATE_KEY_PATH", str(key_file))
    monkeypatch.setenv("HOME", str(tmp_path))
    for state in (tmp_path / ".local/state/convo", Path(convo.state_dir())):
        state.mkdir(parents=True, exist_ok=True)
        (state / "events.jsonl").write_text((TESTDATA / "seed_events.jsonl").read_text())
    token = convo.main(["jwt"]) == 0 and capsys.readouterr().out.strip()
    values = {"JWT": token, "VONAGE_APPLICATION_ID": APP_ID, "VONAGE_SIGNATURE_SECRET": SECRET}
    examples = readme_examples()
    assert len(examples) > 30
    ran = 0
    for example in examples:
        text = re.sub(r"\$\(\(\$\(date \+%s\)\+(\d+)\)\)",
                      lambda m: str(int(time.time()) + int(m.group(1))), example)
        text = re.sub(r'"\$(\w+)"', lambda m: shlex.quote(values[m.group(1)]), text)
        text = text.replace("CON-…", CONV_ID).replace("~/", f"{tmp_path}/")
        text = text.split(" > ")[0]
        argv = shlex.split(text)[2:]
        try:
            convo.build_parser().parse_args(argv)
        except SystemExit:
            pytest.fail(f"README: {example}: {capsys.readouterr().err}")
        if argv[0] in ("jwt", "show") and "-" not in argv:
            code, out, err = run(capsys, *argv)
            assert code == 0 and out and "error" not in err, f"README: {example}: {err}"
            ran += 1
    assert ran >= 8


def test_readme_environment_table_is_convo_environment():
    """README's table and --help come from one source: convo.ENVIRONMENT."""
    rows = [f"| `{name}` | {', '.join(f'`{c}`' for c in commands.split())} | {meaning} |"
            for name, commands, meaning in convo.ENVIRONMENT]
    readme = (HERE / "README.md").read_text()
    table = readme[readme.index("| variable | read by | meaning |"):].split("\n\n")[0]
    assert table.splitlines()[2:] == rows


def test_each_command_help_lists_only_what_it_reads(capsys):
    _, out, _ = run(capsys, "show", "--help")
    assert "NO_COLOR" in out and "VONAGE_APPLICATION_ID" not in out
    _, out, _ = run(capsys, "serve", "--help")  # serve --watch reads the API's too
    assert "TO_NUMBER" in out and "JWT " in out and "VONAGE_PRIVATE_KEY " in out
    assert "VONAGE_API_URL" in out
    _, out, _ = run(capsys, "send", "--help")
    assert "VONAGE_SIGNATURE_SECRET" in out and "TO_NUMBER" not in out and "--key" not in out


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"convo.py {convo.__version__}"


@pytest.mark.parametrize("argv", [[], ["nope"], ["show"], ["jwt", "--ttl"]])
def test_usage_errors_are_one_line_exit_2(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("convo: error: ") and err.count("\n") == 1


@pytest.mark.parametrize("argv", [["-v", "jwt"], ["jwt", "-v"], ["jwt", "--verbose"]])
def test_global_flags_work_before_or_after_the_command(capsys, key_file, argv):
    code, _, err = run(capsys, *argv, "--app-id", APP_ID, "--key", str(key_file))
    assert code == 0 and "application ID from --app-id" in err


def test_debug_after_the_command_shows_the_traceback(key_file):
    with pytest.raises(convo.ConvoError):
        convo.main(["jwt", "--debug", "--key", str(key_file)])


def test_sigterm_ends_calls_as_ctrl_c_does(tmp_path, key_file):
    """(get --watch and send: their Ctrl-C tests take SIGTERM too.)"""
    env = {**os.environ, "VONAGE_APPLICATION_ID": APP_ID, "CONVO_STATE_DIR": str(tmp_path),
           "VONAGE_APPLICATION_PRIVATE_KEY_PATH": str(key_file), "NO_COLOR": "1"}
    with scripted({"/v1/calls": slowly}) as server:
        proc = subprocess.Popen(convo_command("calls", "--api-url", url_of(server)),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
        try:
            assert server.waiting.wait(10), "calls never asked"
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=10)
        finally:
            proc.kill()
    assert proc.returncode == 143 and err == "convo: terminated\n"


def test_ctrl_c_while_python_imports_convo_is_one_line():
    """A SIGINT that lands while convo.py's imports run (made certain here by an import
    hook that sends it when argparse is imported)."""
    start = ("import os, runpy, signal, sys\n"
             "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
             "class Hook:\n"
             "    def find_spec(self, name, path=None, target=None):\n"
             "        if name == 'argparse':\n"
             "            os.kill(os.getpid(), signal.SIGINT)\n"
             "        return None\n"
             "sys.meta_path.insert(0, Hook())\n"
             "sys.argv = sys.argv[1:]\n"
             "runpy.run_path(sys.argv[0], run_name='__main__')\n")
    done = subprocess.run([sys.executable, "-c", start, str(HERE / "convo.py"), "--version"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 130 and done.stderr == "convo: interrupted\n"
