"""A fake Vonage API for the tests and the benches: a real HTTP server on 127.0.0.1:0.

It serves the Conversation API v1 and the Voice API's call list as far as convo.py
uses them, and checks every token as Vonage does: RS256, signed by the
application's key, for its application_id. Its data is the seed's call
(testdata/seed_call.json).
"""
from __future__ import annotations

import copy
import json
import ssl
import threading
import time
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt

HERE = Path(__file__).resolve().parent
APP_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
CONV_ID = "CON-bc643220-2542-499a-892e-c982c4150c06"

SEED = json.loads((HERE / "seed_call.json").read_text())
LINK_HOST = "https://api.nexmo.com"  # links name Vonage's host, as the real API's do
#: How often a test server's loop looks for shutdown(): each stop waits for it.
POLL_S = 0.005


def problem_body(status: int, code: str, detail: str) -> dict:
    title = {401: "Unauthorized.", 403: "Forbidden.", 404: "Not found.", 400: "Bad request.",
             500: "Internal Error."}.get(status, "Error.")
    return {"title": title, "type": f"https://developer.nexmo.com/api/conversation#{code}",
            "code": code, "detail": detail, "instance": "00a5916655d650e920ccf0daf40ef4ee"}


class _Fake:
    """A fake API: a real HTTP server on 127.0.0.1 in a thread, from `with` to its end."""

    def serve(self, handler, port: int = 0, tls=None) -> None:
        self.server = _QuietServer(("127.0.0.1", port), partial(handler, fake=self))
        self.server.daemon_threads = True
        if tls:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(POLL_S,),
                                       daemon=True)

    @property
    def url(self) -> str:
        scheme = "https" if isinstance(self.server.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class FakeVonage(_Fake):
    """The Conversation API v1 and the Voice API's call list, as far as convo uses them.

    Tokens must be RS256, signed by the application's key, for its application_id.
    `script(path, *responses)` serves canned responses (status, body, headers)
    first, for failure injection, to that path (or below it, if it ends in '/');
    `latency_s` delays every response and `connect_latency_s` every new connection;
    `play(steps)` plays a call whose state the test moves on with advance().
    """

    def __init__(self, public_key, *, app_id: str = APP_ID, conversation=None, members=None,
                 events=None, calls=None, page_limit: int = 100, events_wrapped: bool = False,
                 latency_s: float = 0.0, connect_latency_s: float = 0.0, tls=None,
                 port: int = 0) -> None:
        self.public_key, self.app_id = public_key, app_id
        self.conversation = copy.deepcopy(SEED["conversation"] if conversation is None
                                          else conversation)
        self.members = copy.deepcopy(SEED["members"] if members is None else members)
        self.events = copy.deepcopy(SEED["events"] if events is None else events)
        self.calls = copy.deepcopy(SEED["calls"] if calls is None else calls)
        self.page_limit, self.events_wrapped = page_limit, events_wrapped
        self.latency_s, self.connect_latency_s = latency_s, connect_latency_s
        self.scripted: list[tuple[str, tuple]] = []
        self.requests: list[tuple[str, bool]] = []  # (path, sent a token)
        self.connections = 0
        self.lock = threading.Lock()
        self.serve(_FakeHandler, port, tls)

    def play(self, steps: list[dict], step: int = 0) -> None:
        """Play a call: each step is a state of it (conversation, members, events,
        calls); advance() moves to the next, the fake's own clock."""
        self.steps = steps
        self.goto(step)

    def goto(self, step: int) -> None:
        with self.lock:
            self.step = step
            state = copy.deepcopy(self.steps[step])
            self.conversation, self.members = state["conversation"], state["members"]
            self.events, self.calls = state["events"], state["calls"]
            self.requests_at_step = len(self.requests)

    def advance(self) -> None:
        self.goto(self.step + 1)

    def requests_since_step(self) -> list[str]:
        with self.lock:
            return [p for p, _ in self.requests[self.requests_at_step:]]

    def script(self, prefix: str, *responses) -> None:
        with self.lock:
            self.scripted.extend((prefix, r) for r in responses)

    def paths(self, prefix: str = "") -> list[str]:
        with self.lock:
            return [p for p, _ in self.requests if p.startswith(prefix)]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # clients here hang up on purpose (timeouts, truncation)


class _FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes

    def __init__(self, *args, fake: FakeVonage, **kwargs):
        self.fake = fake
        super().__init__(*args, **kwargs)

    def setup(self):
        with self.fake.lock:
            self.fake.connections += 1
        if self.fake.connect_latency_s:
            time.sleep(self.fake.connect_latency_s)  # a WAN round trip and TLS handshake
        super().setup()

    def log_message(self, *args):
        pass

    def reply(self, status: int, body=None, headers=None) -> None:
        if self.fake.latency_s:
            time.sleep(self.fake.latency_s)
        data = body if isinstance(body, bytes) else (
            b"" if body is None else json.dumps(body).encode())
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(data)))
        if body is not None and not isinstance(body, bytes):
            self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        fake = self.fake
        url = urlsplit(self.path)
        auth = self.headers.get("Authorization", "")
        with fake.lock:
            fake.requests.append((self.path, bool(auth)))
            scripted = next((i for i, (key, _) in enumerate(fake.scripted)
                             if url.path == key or (key.endswith("/")
                                                    and url.path.startswith(key))), None)
            response = fake.scripted.pop(scripted)[1] if scripted is not None else None
        if response is not None:
            if response[0] == "truncate":
                self.send_response(200)
                self.send_header("Content-Length", "100")
                self.end_headers()
                self.wfile.write(b'{"id": "CON-')
                self.close_connection = True
                return
            return self.reply(*response)
        if not auth.startswith("Bearer "):
            return self.reply(401, problem_body(401, "system:error:missing-token",
                                             "No token provided."))
        try:
            claims = jwt.decode(auth[7:], fake.public_key, algorithms=["RS256"])
        except jwt.ExpiredSignatureError:
            return self.reply(401, problem_body(401, "system:error:expired-token",
                                             "You provided an expired token."))
        except jwt.PyJWTError:
            return self.reply(401, problem_body(401, "system:error:invalid-token",
                                             "You did not provide a valid token. Please "
                                             "provide a valid token."))
        if claims.get("application_id") != fake.app_id:
            return self.reply(401, problem_body(401, "system:error:invalid-token",
                                             "You did not provide a valid token."))
        self.route(url.path, parse_qs(url.query))

    def page(self, items: list, query: dict, key: str | None, path: str) -> dict:
        size = min(int(query.get("page_size", ["10"])[0]), self.fake.page_limit)
        start = int(query.get("cursor", ["0"])[0].lstrip("c") or 0)
        chunk = items[start:start + size]
        links = {"self": {"href": f"{LINK_HOST}{path}?page_size={size}&cursor=c{start}"}}
        if start + size < len(items):
            links["next"] = {"href": f"{LINK_HOST}{path}?page_size={size}&cursor=c{start + size}"}
        embedded = {key: chunk} if key else chunk
        return {"page_size": size, "_embedded": embedded, "_links": links}

    def route(self, path: str, query: dict) -> None:
        fake = self.fake
        conv_id = (fake.conversation or {}).get("id")
        prefix = f"/v1/conversations/{conv_id}"
        if path == "/v1/calls":
            def wanted(call: dict) -> bool:
                for name in ("conversation_uuid", "status"):
                    if name in query and call.get(name) != query[name][0]:
                        return False
                since = query.get("date_start", [""])[0].replace("T", " ").rstrip("Z")
                return call.get("start_time", "") >= since
            return self.reply(200, self.page([c for c in fake.calls if wanted(c)], query,
                                             "calls", path))
        if path.startswith("/v1/calls/"):
            call = next((c for c in fake.calls if c["uuid"] == path[10:]), None)
            if call is None:
                return self.reply(404, problem_body(404, "http:error:not-found",
                                                    "Call does not exist."))
            return self.reply(200, call)
        if fake.conversation is None:
            return self.reply(404, problem_body(404, "conversation:error:not-found",
                                                "Conversation does not exist, or you do not "
                                                "have access."))
        if not path.startswith(prefix):
            return self.reply(404, problem_body(404, "conversation:error:not-found",
                                             "Conversation does not exist, or you do not "
                                             "have access."))
        rest = path[len(prefix):]
        if rest == "":
            return self.reply(200, fake.conversation)
        if rest == "/members":
            lite = [{"id": m["id"], "state": m["state"], "_embedded": m.get("_embedded", {}),
                     "_links": {"href": f"{LINK_HOST}{prefix}/members/{m['id']}"}}
                    for m in fake.members]
            return self.reply(200, self.page(lite, query, "members", path))
        if rest.startswith("/members/"):
            member = next((m for m in fake.members if m["id"] == rest[9:]), None)
            if member is None:
                return self.reply(404, problem_body(404, "conversation:error:member-not-found",
                                                 "Member does not exist, or you do not have "
                                                 "access."))
            return self.reply(200, member)
        if rest == "/events":
            start = int(query.get("start_id", ["0"])[0])
            events = [e for e in fake.events if e["id"] >= start]
            page = self.page(events, query, "events" if fake.events_wrapped else None, path)
            return self.reply(200, page)
        return self.reply(404, problem_body(404, "http:error:not-found", "No such path."))


def many_members(n: int) -> list[dict]:
    base = SEED["members"][0]
    out = []
    for i in range(n):
        m = copy.deepcopy(base)
        m["id"] = f"MEM-00000000-0000-4000-8000-{i:012d}"
        m["_embedded"]["user"] = {"id": f"USR-00000000-0000-4000-8000-{i:012d}",
                                  "name": f"user{i}"}
        m["channel"]["id"] = m["channel"]["leg_ids"][0] = f"leg-{i:04d}"
        out.append(m)
    return out


def seed_call_steps() -> list[dict]:
    """The seed's call, played: step k shows its first k events (0 to 8), with the
    members and legs those events imply; step 9 is after hang-up, when the
    conversation is gone (404) and both legs have completed."""
    inbound, outbound = SEED["calls"][0], SEED["calls"][1]
    member_a, member_b = SEED["members"]
    steps = []
    for k in range(9):
        members = []
        if k >= 1:
            members.append(copy.deepcopy(member_a))
        if k >= 2:
            b = copy.deepcopy(member_b)
            if k < 4:
                b["state"] = "INVITED"
                b["timestamp"].pop("joined", None)
            members.append(b)
        calls = [dict(inbound, status="answered" if k >= 6 else "ringing" if k >= 1
                      else "started")]
        if k >= 2:
            calls.append(dict(outbound, status="answered" if k >= 3 else "ringing"))
        steps.append({"conversation": SEED["conversation"], "members": members,
                      "events": SEED["events"][:k], "calls": calls})
    ended = [dict(c, status="completed", duration="12", end_time="2018-10-25 09:26:42")
             for c in (inbound, outbound)]
    steps.append({"conversation": None, "members": [], "events": [], "calls": ended})
    return steps


API_KEY, API_SECRET = "abcd1234", "Tr0ub4dor-and-3"  # the fake account's
APPLICATION = json.loads((HERE / "application.json").read_text())
NUMBERS = json.loads((HERE / "numbers.json").read_text())["numbers"]


class FakeAccount(_Fake):
    """The Applications API v2 and the Numbers API as far as convo.py uses them, for
    one account: Basic auth with API_KEY and API_SECRET is checked on every request.
    PUT replaces the whole application, as every official client assumes (a
    capability left out is gone, and keys left out are rotated), so a careless PUT
    shows up as lost data. Its data: application.json (as APP_ID) and numbers.json,
    from the Vonage SDKs' test data. `latency_s` delays every response."""

    def __init__(self, *, latency_s: float = 0.0) -> None:
        self.apps = {APP_ID: dict(copy.deepcopy(APPLICATION), id=APP_ID,
                                  _links={"self": {"href": f"/v2/applications/{APP_ID}"}})}
        self.numbers = copy.deepcopy(NUMBERS)
        self.latency_s = latency_s
        self.requests: list[tuple[str, str, bytes]] = []  # (method, path, body)
        self.scripted: list[tuple[str, str, int, object]] = []  # (method, prefix, status, body)
        self.lock = threading.Lock()
        self.serve(_AccountHandler)

    def script(self, method: str, prefix: str, status: int, body=None) -> None:
        """The next request of `method` to a path under `prefix` gets this answer."""
        with self.lock:
            self.scripted.append((method, prefix, status, body))

    def sent(self, method: str = "", prefix: str = "") -> list[str]:
        with self.lock:
            return [f"{m} {p}" for m, p, _ in self.requests
                    if m.startswith(method) and p.startswith(prefix)]


def _invalid(name: str, reason: str) -> dict:
    return {"type": "https://developer.nexmo.com/api-errors/application#payload-validation",
            "title": "Bad Request", "detail": "The request failed due to validation errors",
            "invalid_parameters": [{"name": name, "reason": reason}],
            "instance": "797a8f199c45014ab7b08bfe9cc1c12c"}


def _bad_methods(doc: dict) -> list[str]:
    """The webhooks whose http_method Vonage would refuse (only GET and POST)."""
    bad = []
    for cap, body in (doc.get("capabilities") or {}).items():
        for hook, spec in ((body or {}).get("webhooks") or {}).items():
            if "http_method" in (spec or {}) and spec["http_method"] not in ("GET", "POST"):
                bad.append(f"capabilities.{cap}.webhooks.{hook}.http_method")
    return bad


class _AccountHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def __init__(self, *args, fake: FakeAccount, **kwargs):
        self.fake = fake
        super().__init__(*args, **kwargs)

    def log_message(self, *args):
        pass

    def reply(self, status: int, body=None) -> None:
        if self.fake.latency_s:
            time.sleep(self.fake.latency_s)
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = lambda self: self.handle_request()

    def handle_request(self) -> None:
        import base64
        fake = self.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        with fake.lock:
            fake.requests.append((self.command, self.path, body))
            scripted = next((x for x in fake.scripted if x[0] == self.command
                             and parts.path.startswith(x[1])), None)
            if scripted:
                fake.scripted.remove(scripted)
        expected = "Basic " + base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            return self.reply(401, {"type": "https://developer.nexmo.com/api-errors#unauthorized",
                                    "title": "Invalid credentials supplied",
                                    "detail": "You did not provide correct credentials.",
                                    "instance": "7f0c2a1d"})
        if scripted:
            return self.reply(scripted[2], scripted[3])
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        with fake.lock:
            if path == "/account/numbers" and self.command == "GET":
                return self.numbers(query)
            if path == "/number/update" and self.command == "POST":
                return self.update_number(body)
            if path == "/v2/applications" and self.command == "POST":
                return self.create(body)
            if path.startswith("/v2/applications/"):
                return self.application(path.rsplit("/", 1)[1], body)
        self.reply(404, {"title": "Not Found", "detail": f"no route {path}"})

    def numbers(self, query: dict) -> None:
        found = [n for n in self.fake.numbers
                 if (not query.get("application_id") or n.get("app_id") == query["application_id"])
                 and (not query.get("pattern") or query["pattern"] in n["msisdn"])]
        size, index = int(query.get("size", 10)), int(query.get("index", 1))
        self.reply(200, {"count": len(found),
                         "numbers": found[(index - 1) * size:index * size]})

    def update_number(self, body: bytes) -> None:
        if self.headers.get("Content-Type") != "application/x-www-form-urlencoded":
            return self.reply(200, {"error-code": "420", "error-code-label":
                                    "Invalid parameters: not a form"})
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        number = next((n for n in self.fake.numbers if n["msisdn"] == form.get("msisdn")
                       and n["country"] == form.get("country")), None)
        if number is None:  # a failure in an HTTP 200, as the Numbers API gives it
            return self.reply(200, {"error-code": "420",
                                    "error-code-label": "Invalid parameters: number not found"})
        if form.get("app_id"):
            number["app_id"] = number["voiceCallbackValue"] = form["app_id"]
            number["voiceCallbackType"] = "app"
        else:
            for key in ("app_id", "voiceCallbackType", "voiceCallbackValue"):
                number.pop(key, None)
        self.reply(200, {"error-code": "200", "error-code-label": "success"})

    def checked(self, body: bytes) -> dict | None:
        """The application in a create or update, or None once the error is sent."""
        if self.headers.get("Content-Type") != "application/json":
            self.reply(415, {"title": "Unsupported Media Type",
                             "detail": "Content-Type must be application/json"})
            return None
        try:
            doc = json.loads(body)
        except ValueError:
            self.reply(400, _invalid("body", "must be JSON"))
            return None
        if not isinstance(doc, dict) or not doc.get("name"):
            self.reply(400, _invalid("name", "is required"))
            return None
        bad = _bad_methods(doc)
        if bad:
            self.reply(400, _invalid(bad[0], "must be one of: GET, POST"))
            return None
        return doc

    def create(self, body: bytes) -> None:
        import uuid
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        doc = self.checked(body)
        if doc is None:
            return
        app_id = str(uuid.uuid4())
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
        app = {"id": app_id, "name": doc["name"], "keys": {"public_key": public.decode()},
               "privacy": doc.get("privacy") or {"improve_ai": False},
               "capabilities": doc.get("capabilities") or {},
               "_links": {"self": {"href": f"/v2/applications/{app_id}"}}}
        self.fake.apps[app_id] = app
        self.reply(201, dict(app, keys={"public_key": public.decode(), "private_key": private}))

    def application(self, app_id: str, body: bytes) -> None:
        app = self.fake.apps.get(app_id)
        if app is None:
            return self.reply(404, {"type": "https://developer.nexmo.com/api-errors#not-found",
                                    "title": "Not Found", "detail": f"ID '{app_id}' does not "
                                    f"exist, or you do not have access"})
        if self.command == "GET":
            return self.reply(200, app)
        if self.command == "PUT":
            doc = self.checked(body)
            if doc is None:
                return
            keys = doc.get("keys") or {"public_key": "-----BEGIN PUBLIC KEY-----\nrotated by a "
                                       "PUT without keys\n-----END PUBLIC KEY-----\n"}
            new = {"id": app_id, "name": doc["name"], "keys": keys,
                   "privacy": doc.get("privacy") or {"improve_ai": False},
                   "capabilities": doc.get("capabilities") or {},  # the whole, replaced
                   "_links": app["_links"]}
            self.fake.apps[app_id] = new
            return self.reply(200, new)
        self.reply(405, {"title": "Method Not Allowed"})


def main(argv: list[str] | None = None) -> int:
    """Serve the seed's call by hand, for a contributor trying convo.py without an
    account: python testdata/fake_vonage.py [--key private.key] [--port 8765]."""
    import argparse
    import os
    import signal
    import sys
    import tempfile
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    parser = argparse.ArgumentParser(description=main.__doc__.split("\n")[0])
    parser.add_argument("--key", help="the application's private key (default: a new one, "
                        "written to a temporary file)")
    parser.add_argument("--port", type=int, default=0, help="default: any free port")
    args = parser.parse_args(argv)
    if args.key:
        key_path = args.key
        key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        fd, key_path = tempfile.mkstemp(prefix="fake-vonage-", suffix=".key")
        os.write(fd, key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
        os.close(fd)
    fake = FakeVonage(key.public_key(), port=args.port)
    steps = seed_call_steps()
    fake.play(steps, step=1)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    by_signal = hasattr(signal, "SIGUSR1") and not sys.stdin.isatty()
    if by_signal:  # taken with sigwait, not a handler: a handler that set an Event could
        # deadlock on the Event's own lock, held by the wait it interrupts
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGINT})
    with fake:
        print(f"A fake Vonage API at {fake.url}, playing the seed's call ({CONV_ID}).\n"
              f"Point convo.py at it, in another terminal:\n\n"
              f"  export VONAGE_APPLICATION_ID={APP_ID}\n"
              f"  export VONAGE_APPLICATION_PRIVATE_KEY_PATH={key_path}\n"
              f"  export VONAGE_API_URL={fake.url}\n"
              f"  python3 convo.py calls\n"
              f"  python3 convo.py get {CONV_ID}\n"
              f"  python3 convo.py get --watch\n\n"
              f"Press Enter (or send SIGUSR1 to {os.getpid()}) to move the call on a step; "
              f"Ctrl-C stops.", flush=True)
        try:
            while fake.step < len(steps) - 1:
                if by_signal:  # (sigwait is not interrupted by Ctrl-C: it waits for both)
                    if signal.sigwait({signal.SIGUSR1, signal.SIGINT}) == signal.SIGINT:
                        raise KeyboardInterrupt
                else:
                    sys.stdin.readline()
                fake.advance()
                said = ("hung up: the conversation is gone (404), both legs completed"
                        if fake.step == len(steps) - 1 else
                        f"step {fake.step}: {fake.step} events")
                print(said, flush=True)
            print("The call has ended; Ctrl-C stops the fake.", flush=True)
            if by_signal:
                signal.sigwait({signal.SIGINT})
            else:
                signal.pause() if hasattr(signal, "pause") else input()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main())
