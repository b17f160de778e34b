"""Tests for convo.py: pure functions, then the commands end to end through main([...]).

Everything talks to real things: real keys made here, real files in tmp_path, and
(further down) real HTTP servers on 127.0.0.1 port 0. Nothing mocks urllib or sockets.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import convo

HERE = Path(__file__).resolve().parent
TESTDATA = HERE / "testdata"
APP_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
FIXED_NOW = 1_700_000_000
CONV_ID = "CON-bc643220-2542-499a-892e-c982c4150c06"


# ---------------------------------------------------------------------------
# Keys and files
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


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Run main([...]) and return its exit code, stdout and stderr."""
    code = convo.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def public_pem(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


# ---------------------------------------------------------------------------
# Pure helpers
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


def test_token_expiry_rules():
    assert convo.token_expiry({"iat": 100, "exp": 200}) == (200, "")
    assert convo.token_expiry({"iat": 100})[0] == 100 + 900
    assert convo.token_expiry({"iat": 100, "exp": 100 + 90000})[0] == 100 + 86400
    assert convo.token_expiry({})[0] is None


# ---------------------------------------------------------------------------
# jwt
# ---------------------------------------------------------------------------

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
    monkeypatch.setenv("VONAGE_APPLICATION_ID", "from-env")
    monkeypatch.setenv("VONAGE_APPLICATION_PRIVATE_KEY_PATH", str(key_file))
    code, out, _ = run(capsys, "jwt")
    assert code == 0
    assert jwt.decode(out.strip(), rsa_key.public_key(),
                      algorithms=["RS256"])["application_id"] == "from-env"
    other = tmp_path / "other.key"
    other.write_bytes(_pem(other_rsa_key))
    other.chmod(0o600)
    code, out, _ = run(capsys, "jwt", "--app-id", APP_ID, "--key", str(other))
    assert jwt.decode(out.strip(), other_rsa_key.public_key(),
                      algorithms=["RS256"])["application_id"] == APP_ID


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
    ("public", None, "holds no private key"),
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
])
def test_jwt_bad_arguments(capsys, key_file, argv, needle):
    code, out, err = run(capsys, *argv[:1], "--app-id", APP_ID, "--key", str(key_file),
                         *argv[1:]) if argv[1] != "k.pem" else run(capsys, *argv)
    assert code == 2 and out == "" and needle in err


def _token(key, **claims) -> str:
    base = {"application_id": APP_ID, "iat": int(time.time()), "jti": "x"}
    base.update(claims)
    return jwt.encode(base, key, algorithm="RS256")


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


# ---------------------------------------------------------------------------
# show: every conversation shape
# ---------------------------------------------------------------------------

SAMPLE_TREE = """\
Conversation CON-bc643220-2542-499a-892e-c982c4150c06
  name NAM-1b2c4274-e3f2-494e-89c4-46856ee84a8b · created 2018-10-25 09:26:18 UTC · sequence 8 · ttl 48h
├─ Member MEM-f44c872e-cba9-444f-88ae-0bfa630865a6  JOINED
│    user USR-33a51f4d-d06b-42f6-a525-90d2859ab9f6 · joined 09:26:30.334
│  └─ phone channel 797168e24c19a3c45e74e05b10fef2b5: 447700000001 → 447700000002
│     └─ leg 797168e24c19a3c45e74e05b10fef2b5
└─ Member MEM-25ccda92-839d-4ac6-a7b2-de310224878b  JOINED
     user vapi-user-f59c1ff26c0543fdb6c02fd30617a1c0 (USR-b9948493-…) · invited 09:26:19.385 · joined 09:26:30.270
   └─ phone channel 30cecc87-7ac9-4d03-910a-e9d69558263c: Unknown → 447700000001 · ring timeout 60 s · max length 2 h
      └─ leg 30cecc87-7ac9-4d03-910a-e9d69558263c
1 conversation · 2 members (2 JOINED) · 2 channels (2 phone) · 2 legs
"""


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


def test_style_for_respects_no_color(monkeypatch):
    class Tty:
        encoding = "utf-8"

        def isatty(self):
            return True
    assert convo.style_for(Tty()).color
    monkeypatch.setenv("NO_COLOR", "1")
    assert not convo.style_for(Tty()).color


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
    assert "python convo.py get CON-dd7ca47d-0e2f-4118-adc4-905e96431459" in out


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


# ---------------------------------------------------------------------------
# The command line itself
# ---------------------------------------------------------------------------

def test_help_lists_exit_codes_and_environment(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for needle in ("exit codes:", "130", "VONAGE_APPLICATION_ID", "jwt", "show"):
        assert needle in out


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"convo.py {convo.__version__}"


@pytest.mark.parametrize("argv", [[], ["nope"], ["show"], ["jwt", "--ttl"]])
def test_usage_errors_are_one_line_exit_2(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("convo: error: ") and err.count("\n") == 1
