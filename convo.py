#!/usr/bin/env python3
# /// script
# requires-python = ">=3.9"
# dependencies = [
#     "pyjwt>=2.3",
#     "cryptography>=3.4.8",
# ]
# ///
"""See inside a live Vonage voice call: its Conversation, members, channels and legs.

    python3 convo.py serve --to 447700000003                webhooks that connect the call
    python3 convo.py send http://127.0.0.1:3000             a call played against them
    python3 convo.py send URL --log events.jsonl            saved webhooks, sent again
    python3 convo.py jwt --app-id APP_ID --key private.key  an application JWT
    python3 convo.py jwt --inspect TOKEN [--key private.key] why a token fails
    python3 convo.py calls                                  the calls in progress, any region
    python3 convo.py get [ID] [--events] [--legs]           the live conversation, as a tree
    python3 convo.py get --watch                            follow the call until hang-up
    python3 convo.py show sample_response.json              a saved conversation, as a tree
    python3 convo.py show events.jsonl                      the saved webhooks, as a table

Run `python3 convo.py --help` for the environment variables and exit codes.
"""
from __future__ import annotations

import sys

try:
    import argparse
    import functools
    import io
    import json
    import os
    import re
    import stat  # loaded by os already: free
    import time
    from datetime import datetime, timedelta, timezone
except KeyboardInterrupt:  # Ctrl-C while Python starts: one line, as everywhere else
    sys.stderr.write("convo: interrupted\n")
    raise SystemExit(130) from None

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs start-up time
    from typing import Any, Iterable, Iterator, NoReturn, Sequence, TextIO, TypeGuard

# Only cheap standard modules are imported above. These stay lazy, imported by
# the function that needs them, so that `--help` and `show` start fast
# (bench/startup.py checks that neither imports the first four):
#   jwt, cryptography       keys and tokens (jwt, get, serve with signatures)
#   http.server, socket     the webhook server (serve)
#   http.client, ssl        the API client (get)
#   threading, concurrent.futures, urllib.parse, email.utils, hashlib, hmac, ...
__version__ = "0.1.0"

#: How hints name this command: `python3` is there wherever Python 3 is (on Debian and
#: Ubuntu, `python` is not).
PROG = "python3 convo.py"


# ############################################################################
# 1. Core: exit codes, the one error type, text, the terminal, the log, files, state
# ############################################################################

# -- exit codes and the one error type -----------------------------------------

EXIT_OK = 0
EXIT_ERROR = 1          # runtime failure: network, API error, expired token
EXIT_USAGE = 2          # usage error or bad input: arguments, files, keys
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143   # 128 + SIGTERM

#: What every ID in this file is made of: application IDs, conversation IDs (after
#: CON-) and call UUIDs.
UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class Terminated(KeyboardInterrupt):
    """Raised by SIGTERM: every command ends on it as on Ctrl-C, with its own exit code."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated


class ConvoError(Exception):
    """Raised for every failure the user can act on; main() prints it as one line."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR, *,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.status = status  # what the API answered, when it answered with an error


class NotFound(ConvoError):
    """Raised when the API answers 404: the thing asked for is not there. A call's
    conversation is gone once the call ends, and a call lives in one region only, so
    callers catch this one to look elsewhere or to say the call has ended."""

# -- text, time and tables (pure) ----------------------------------------------

def _dict(value: Any) -> dict[str, Any]:
    """Return value if it is a JSON object, else an empty one (any field may be missing)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def is_int(value: Any) -> TypeGuard[int]:
    """True for a JSON integer (json gives bool for true/false, which Python counts as int)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> float | None:
    """Return a JSON number, or a string holding one (Vonage sends "duration":"2")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def copy_json(value: Any) -> Any:
    """A deep copy of decoded JSON (faster than copy.deepcopy, and nothing to import)."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


def _prune(obj: dict[str, Any]) -> dict[str, Any]:
    """Drop keys whose value is None or empty, keeping insertion order."""
    return {k: v for k, v in obj.items() if v not in (None, "", [], {})}


# What a terminal may act on: C0 controls, DEL, C1 controls (U+009B alone starts
# an escape sequence), the bidi overrides and isolates that reorder what is shown,
# and lone surrogates (half an emoji: they cannot even be written as UTF-8).
# (Surrogates are built with chr(): Python 3.13 refuses them in a docstring, and
# source text should not hold what UTF-8 cannot encode.)
_UNSAFE_ABOVE_C0 = f"\x7f-\x9f\u202a-\u202e\u2066-\u2069{chr(0xD800)}-{chr(0xDFFF)}"
_UNSAFE = re.compile(f"[\x00-\x1f{_UNSAFE_ABOVE_C0}]")
_UNSAFE_IN_JSON = re.compile(f"[{_UNSAFE_ABOVE_C0}]")  # json.dumps escapes C0 itself


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: Any, limit: int | None = 300) -> str:
    r"""The one sanitiser: text as a person may see it, cut after `limit` characters.

    Every character that a terminal would act on (see _UNSAFE) is shown escaped,
    as \x1b, \x9b, \u202e or \ud800, so text that strangers control (a webhook, a
    caller's name) can neither drive the terminal nor forge a log line.
    """
    text = text if isinstance(text, str) else str(text)
    if not text.isprintable():  # rare: the fast check is C, the substitution is not
        text = _UNSAFE.sub(_escaped, text)
    return text if limit is None or len(text) <= limit else text[:limit] + "..."


def printable_lines(text: str, *, colours: bool = False) -> str:
    """printable() for text of several lines: each line escaped, the line breaks kept;
    with colours, our own colour codes (SGR, which only set colours) kept too."""
    if colours and "\033[" in text:
        pieces = _ANSI.split(text)
        codes = _ANSI.findall(text)
        return "".join(printable_lines(piece) + code
                       for piece, code in zip(pieces, [*codes, ""]))
    return "\n".join(printable(line, None) for line in text.split("\n"))


def dump_json(value: Any, indent: int | None = 2) -> str:
    r"""JSON for a person or a pipe: UTF-8 text, with what printable() escapes written
    as JSON escapes (\u009b), so the output is valid JSON and safe on a terminal.
    Never NaN or Infinity: loads() lets none in."""
    text = json.dumps(value, indent=indent, ensure_ascii=False, allow_nan=False)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _not_json(text: str) -> Any:
    raise ValueError(f"{text} is not JSON (RFC 8259 has no NaN or Infinity)")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:20]} is too large for a JSON number")
    return value


#: Python's json reads NaN, Infinity and 1e999 (as inf); RFC 8259 §6 has none of them,
#: and what convo.py writes must stay JSON, so its one decoder refuses them.
_DECODER = json.JSONDecoder(parse_constant=_not_json, parse_float=_finite)


#: Python's json messages, in the words of someone who wrote the JSON.
_JSON_PROBLEMS = (("Expecting value", "a value (a string, a number, an object, ...) was "
                                      "expected"),
                  ("Extra data", "more follows the first JSON value"),
                  ("Unterminated string", "a string is not closed"),
                  ("Expecting ',' delimiter", "a comma is missing"),
                  ("Expecting ':' delimiter", "a colon is missing after a key"),
                  ("Expecting property name", "a key must be text in double quotes"),
                  ("Invalid control character", "a control character inside a string"),
                  ("Invalid \\escape", "a backslash escape that JSON does not have"))


def json_problem(e: ValueError) -> str:
    """What follows 'invalid JSON' to say why, in words: ' at line 1, column 1: a value
    (...) was expected', or ': NaN is not JSON (...)'."""
    if isinstance(e, json.JSONDecodeError):
        said = next((words for start, words in _JSON_PROBLEMS if e.msg.startswith(start)),
                    printable(e.msg, 60))
        return f" at line {e.lineno}, column {e.colno}: {said}" if e.doc else f": {said}"
    if isinstance(e, UnicodeDecodeError):
        return f": not UTF-8 text (byte {e.start})"
    return f": {printable(e, 80)}"


def loads(data: str | bytes) -> Any:
    """json.loads for data from outside. Raises ValueError for anything that is not
    JSON: NaN, Infinity, numbers too large for a double and nesting too deep included."""
    try:
        return _DECODER.decode(data if isinstance(data, str) else data.decode("utf-8"))
    except RecursionError:
        raise json.JSONDecodeError("nesting too deep", "", 0) from None


#: The JSON types by their names in JSON Schema, as Python decodes them.
_JSON_TYPES: dict[str, Any] = {"string": str, "number": (int, float), "integer": int,
                               "boolean": bool, "array": list, "object": dict}


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type: 'object', 'array', 'string', ..."""
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return next((name for name, kind in _JSON_TYPES.items() if name != "integer"
                 and isinstance(value, kind)), type(value).__name__)


def _scalar(value: Any) -> str | None:
    """A JSON string or number as printable text; None for anything else or empty."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    return printable(value, None) or None


_ISO_RE = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?\s*(Z|[+-]\d\d:?\d\d)?$")


def parse_time(text: Any) -> datetime | None:
    """Parse an API timestamp ('2018-10-25T09:26:18.999Z', '2020-01-01 12:00:00') as UTC."""
    m = _ISO_RE.match(text.strip()) if isinstance(text, str) else None
    if not m:
        return None
    year, month, day, hour, minute, second, frac, zone = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                      micro, tzinfo=timezone.utc)
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        zone = zone[1:].replace(":", "")
        dt -= sign * timedelta(minutes=int(zone[:2]) * 60 + int(zone[2:]))
    return dt


def format_utc(epoch_or_dt: float | datetime) -> str:
    """Format a time as '2018-10-25 09:26:18 UTC'."""
    dt = (epoch_or_dt if isinstance(epoch_or_dt, datetime)
          else datetime.fromtimestamp(epoch_or_dt, timezone.utc))
    return dt.strftime("%Y-%m-%d %H:%M:%S UTC")


def format_clock(dt: datetime) -> str:
    """Format a time of day with milliseconds: '09:26:30.334'."""
    return dt.strftime("%H:%M:%S.") + f"{dt.microsecond // 1000:03d}"


def format_iso(dt: datetime) -> str:
    """Format a UTC time as the API does: '2018-10-25T09:26:18.991Z'."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def format_span(seconds: float, unit_sep: str = "") -> str:
    """Format a duration in its two largest units: '14m 58s', '48h', '3d 2h', '2y 14d',
    or '60 s' with unit_sep=' '. Hours up to 48, then days, and years past 365 days."""
    seconds = int(abs(seconds))
    parts: list[str] = []
    units = (("y", 365 * 86400), ("d", 86400)) if seconds > 48 * 3600 else ()
    for unit, size in (*units, ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit_sep}{unit}")
            seconds %= size
        elif parts:
            break  # '1h 0m 5s' reads as '1h': two adjacent units at most
        if len(parts) == 2:
            break
    return " ".join(parts)


def format_bytes(size: int) -> str:
    """Format a size as '16 KiB' or '1 MiB'."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift:
            return f"{size / (1 << shift):g} {unit}"
    return f"{size} bytes"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], style: Style,
                 indent: str = "  ") -> Iterator[str]:
    """Left-aligned columns two spaces apart; the last column is not padded."""
    columns = list(zip(*rows)) if rows else [()] * len(headers)
    widths = [max(len(h), max(map(len, col), default=0))
              for h, col in zip(headers[:-1], columns)]
    del columns
    template = indent + "".join(f"{{:<{w}}}  " for w in widths) + "{}"
    fill = template.format
    yield style.paint(fill(*headers).rstrip(), "dim")
    for row in rows:
        yield fill(*row).rstrip()


#: The Voice API's call statuses (GET /v1/calls?status=): in progress, and ended; of
#: those, the ones that say the call failed ("error": a webhook's own, with a reason).
LIVE_STATUSES = ("started", "ringing", "answered")
ENDED_STATUSES = ("completed", "busy", "cancelled", "failed", "rejected", "timeout",
                  "unanswered", "machine")
FAILED_STATUSES = (*(s for s in ENDED_STATUSES if s not in ("completed", "machine")), "error")

_ANSI = re.compile("\033\\[[0-9;]*m")


def _is_id(word: str) -> bool:
    """Whether a word is an ID that may be shortened in the middle: a digit and a letter
    or a dash in it (a UUID, CON-…, a leg), but not a time or a date, not all digits
    (a phone number), and not a URL, a host or a path (made to be copied)."""
    return (any(c.isdigit() for c in word) and not _TIME.search(word)
            and "/" not in word and "." not in word
            and not word.lstrip("+(").rstrip("),:").isdigit()
            and any(c.isalpha() or c == "-" for c in word))


_TIME = re.compile(r"\d\d:\d\d|^\d{4}-\d\d-\d\d")  # a time or a date: never shortened


def wrap_line(line: str, width: int, hang: str | None = None) -> list[str]:
    """A line wrapped at spaces to `width` columns (colours take none); continued
    under `hang`, else under its second column when it has one (two spaces after its
    first word: 'NAME  meaning'), else under its own indent. Words are never cut:
    a URL or a command to copy longer than the line stays whole. (Without textwrap,
    which costs start-up time.)"""
    def size(text: str) -> int:
        return len(_ANSI.sub("", text)) if "\033" in text else len(text)
    if size(line) <= width:
        return [line]
    if hang is None:
        column = re.match(r"(\s*\S.*?\s{2,})(?=\S)", _ANSI.sub("", line))
        indent = len(line) - len(line.lstrip())
        hang = " " * (len(column.group(1)) if column else indent)
        if len(hang) > width // 2:  # a narrow terminal: the second column starts further left
            hang = " " * (indent + 4)
    out: list[str] = []
    current = ""
    for word in re.split(r"(?<=\S) (?=\S)", line):
        if current and size(current) + 1 + size(word) > width and current.strip() != "":
            out.append(current)
            current = hang + word.lstrip()
        else:
            current = f"{current} {word}" if current else word
    return out + [current]


class Style:
    """How output looks: ANSI colours (or none) and box-drawing glyphs (or ASCII)."""

    COLORS = {"bold": "\033[1m", "dim": "\033[2m", "red": "\033[31m", "green": "\033[32m",
              "yellow": "\033[33m", "cyan": "\033[36m"}
    UNICODE = {"tee": "├─ ", "last": "└─ ", "pipe": "│  ", "arrow": "→", "dot": "·",
               "more": "…"}
    ASCII = {"tee": "|- ", "last": "`- ", "pipe": "|  ", "arrow": "->", "dot": "-",
             "more": "..."}

    def __init__(self, *, color: bool = False, unicode: bool = True,
                 width: int | None = None) -> None:
        self.color = color
        self.width = width  # a terminal's columns: lines are shortened to fit; None: never
        glyphs = self.UNICODE if unicode else self.ASCII
        self.tee, self.last, self.pipe = glyphs["tee"], glyphs["last"], glyphs["pipe"]
        self.arrow, self.more = glyphs["arrow"], glyphs["more"]
        self.sep = f" {glyphs['dot']} "

    def fit(self, line: str, width: int | None = None) -> str:
        """Shorten a line to the terminal's width (or `width`) by eliding the middle of
        its longest IDs, so that the tree's glyphs stay in place. Nothing else is ever
        shortened (times, numbers, statuses, a command to copy): when eliding IDs is not
        enough, the terminal wraps what is left. Without a width, the line as it is."""
        width = self.width if width is None else width
        if width is None or len(line) <= width:  # fast: escapes only add length
            return line
        visible = len(_ANSI.sub("", line))
        words = line.split(" ")
        ids = [i for i, word in enumerate(words) if _is_id(_ANSI.sub("", word))]
        for i in sorted(ids, key=lambda i: -len(words[i])):
            if visible <= width:
                break
            word = words[i]
            plain = _ANSI.sub("", word)
            over = visible - width
            room = len(plain) - 9  # keep at least 4 characters at each end, and the mark
            if room <= 0:
                break
            drop = min(over + len(self.more), room)
            keep = (len(word) - drop) // 2
            if "\033" in word[keep:keep + drop]:
                continue  # do not cut through a colour
            words[i] = word[:keep] + self.more + word[keep + drop:]
            visible -= drop - len(self.more)
        return " ".join(words)

    def wrap(self, line: str, hang: str | None = None) -> str:
        """A line of prose wrapped at spaces to the terminal's width (wrap_line), every
        word whole; piped, the line as it is."""
        if self.width is None or len(line) <= self.width:
            return line
        return "\n".join(wrap_line(line, self.width, hang))

    def paint(self, text: str, *names: str) -> str:
        if not self.color or not text:
            return text
        return "".join(self.COLORS[n] for n in names) + text + "\033[0m"

    def status(self, status: str) -> str:
        """A call status, coloured: answered green, failures red, completed dim."""
        color = {"answered": ("green",), "completed": ("dim",)}.get(status) or (
            ("red",) if status in FAILED_STATUSES else ())
        return self.paint(status, *color) if color else status

    def state(self, state: str) -> str:
        color = {"JOINED": "green", "ACTIVE": "green", "INVITED": "yellow",
                 "LEFT": "red", "INACTIVE": "yellow", "DELETED": "red"}.get(state.upper())
        return self.paint(state, "bold", color) if color else self.paint(state, "bold")

# -- the terminal and the log --------------------------------------------------

def _stderr(message: str) -> None:
    """Write a message for a person to stderr, escaped as everything shown is; on a
    terminal, wrapped to its width."""
    text = printable_lines(message)
    width = terminal_width(sys.stderr) if getattr(sys.stderr, "isatty", bool)() else None
    if width:
        text = "\n".join(part for line in text.split("\n")
                         for part in wrap_line(line, width, "  "))
    print(text, file=sys.stderr, flush=True)


def warn(message: str) -> None:
    _stderr(f"convo: warning: {message}")


def style_for(stream: TextIO | io.TextIOBase) -> Style:
    """Pick colours only for a terminal without NO_COLOR, and ASCII if it can't show '├─→'."""
    color = (not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
             and hasattr(stream, "isatty") and stream.isatty())
    try:
        "├─│└→·…“”".encode(getattr(stream, "encoding", None) or "ascii")
        unicode = True
    except (UnicodeEncodeError, LookupError):
        unicode = False
    width = None
    if hasattr(stream, "isatty") and stream.isatty():  # piped output is never shortened
        width = terminal_width(stream)
    return Style(color=bool(color), unicode=unicode, width=width)


def terminal_width(stream: Any = None) -> int | None:
    """A terminal's columns: $COLUMNS when it holds a number (as shells export it), else
    the terminal's own size; None when `stream` (default: stdout) is no terminal."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size((stream or sys.stdout).fileno()).columns or None
    except (OSError, ValueError, AttributeError):
        return None


def write_lines(out: TextIO | io.TextIOBase, lines: Iterable[str], style: Style) -> None:
    """Write lines, each fitted to the terminal (Style.fit); piped, as they are."""
    if style.width is None:  # the common, fast path (bench/timeline.py)
        out.writelines(f"{line}\n" for line in lines)
    else:
        out.writelines(f"{style.fit(line)}\n" for line in lines)


#: The log's clock, '09:26:30.340 ', before every line of the log (setup_logging).
CLOCK_WIDTH = len("09:26:30.340 ")


def setup_logging(*, verbose: bool) -> None:
    """Send the 'convo' logger to the current stderr: INFO, or DEBUG with -v."""
    import logging

    class StderrHandler(logging.StreamHandler):
        """Write to whatever sys.stderr is when a record is logged."""
        stream = property(lambda self: sys.stderr, lambda self, value: None)

    class ClockFormatter(logging.Formatter):
        """'20:34:17.244 message', formatting the clock once a second (serve logs a lot)."""
        second, clock = -1, ""

        def format(self, record: logging.LogRecord) -> str:
            second = int(record.created)
            if second != self.second:
                self.second, self.clock = second, time.strftime("%H:%M:%S",
                                                                time.localtime(second))
            message = printable_lines(record.getMessage(), colours=True)
            text = f"{self.clock}.{int(record.msecs):03d} {message}"
            return text + "\n" + self.formatException(record.exc_info) if record.exc_info \
                else text

    log = logging.getLogger("convo")
    for handler in list(log.handlers):
        log.removeHandler(handler)
    handler = StderrHandler()
    handler.setFormatter(ClockFormatter())
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False


def threading_is_main() -> bool:
    """True in the main thread, the only one that may set signal handlers."""
    import threading
    return threading.current_thread() is threading.main_thread()

# -- input files: what the user names, and what convo.py looks for -------------

MAX_LINE_BYTES = 4 << 20          # one saved webhook: a whole body, escaped, and serve's fields

MAX_CREDENTIALS_BYTES = 1 << 20  # a key, .vonagerc, ~/.vonage/config.json, last_call.json


def _input_error(path: str, e: Exception) -> ConvoError:
    if isinstance(e, FileNotFoundError):
        return ConvoError(f"{path}: no such file", EXIT_USAGE)
    if isinstance(e, IsADirectoryError):
        return ConvoError(f"{path}: is a directory, not a file", EXIT_USAGE)
    if isinstance(e, UnicodeDecodeError):
        return ConvoError(f"{path}: not UTF-8 text (byte {e.start})", EXIT_USAGE)
    return ConvoError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}", EXIT_USAGE)


def _file_kind(mode: int) -> str | None:
    """What a file that is not a regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def open_input(path: str, *, given: bool = True, label: str | None = None) -> Any:
    """Open a file to read, in binary. Raises ConvoError (exit 2) naming `label`.

    Only regular files, so that nothing blocks or never ends: a FIFO in place of a
    credentials or state file would wait forever for a writer, /dev/zero never
    ends. A path the user gave on the command line (given=True) may also be a pipe
    (`--key <(pass show key)`), read once. Other opens never block (O_NONBLOCK,
    cleared once the file is known to be one to read); a named pipe the user gave
    waits for its writer, as the user asked.
    """
    label = label or path
    flags = os.O_RDONLY | getattr(os, "O_NOCTTY", 0)
    try:
        if not (given and stat.S_ISFIFO(os.stat(path).st_mode)):
            flags |= getattr(os, "O_NONBLOCK", 0)  # a pipe the user named may wait for its writer
        fd = os.open(path, flags)
    except OSError as e:
        raise _input_error(label, e) from None
    try:
        mode = os.fstat(fd).st_mode
        kind = _file_kind(mode)
        if kind and not (given and (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode))):
            raise ConvoError(f"{label}: is {kind}, not a regular file", EXIT_USAGE)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bounded(f: Any, limit: int, label: str, why: str) -> bytes:
    """Read a whole file of at most `limit` bytes. Raises ConvoError (exit 2) past it."""
    try:
        data = f.read(limit + 1)
    except OSError as e:
        raise _input_error(label, e) from None
    if len(data) > limit:
        raise ConvoError(f"{label}: over {format_bytes(limit)}, too large for {why}",
                         EXIT_USAGE)
    return data


def _utf8(data: bytes, label: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _input_error(label, e) from None


def _stdin() -> Any:
    """Standard input as bytes (a test's StringIO, encoded)."""
    if sys.stdin is None:
        raise ConvoError("<stdin>: there is no standard input", EXIT_USAGE)
    return getattr(sys.stdin, "buffer", None) or io.BytesIO(sys.stdin.read().encode())


def read_input(path: str, limit: int, why: str) -> str:
    """Read a text file the user named, or standard input for '-', of at most `limit`
    bytes. Raises ConvoError (exit 2)."""
    if path == "-":
        return _utf8(read_bounded(_stdin(), limit, "<stdin>", why), "<stdin>")
    with open_input(path) as f:
        return _utf8(read_bounded(f, limit, path, why), path)


def input_lines(path: str, *, snapshot: bool = False) -> Iterator[str]:
    """Open a file now (raising ConvoError, exit 2, if it cannot be), and return its
    lines, read as they are needed: a webhook log can be large. '-' is standard input.

    Each line may be at most MAX_LINE_BYTES (the largest webhook serve saves). With
    snapshot, only the bytes the file held when it was opened are read: a log that
    a running serve appends to (perhaps because of what we send) has an end.
    """
    if path == "-":
        return _lines_of(_stdin(), "<stdin>", None)
    f = open_input(path)
    info = os.fstat(f.fileno())
    return _lines_of(f, path, info.st_size if snapshot and stat.S_ISREG(info.st_mode) else None)


def _lines_of(f: Any, label: str, size: int | None) -> Iterator[str]:
    left = size
    with f:
        try:
            while left is None or left > 0:
                line = f.readline(MAX_LINE_BYTES + 1 if left is None
                                  else min(MAX_LINE_BYTES + 1, left))
                if not line:
                    return
                if left is not None:
                    left -= len(line)
                if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                    raise ConvoError(f"{label}: a line over {format_bytes(MAX_LINE_BYTES)}, "
                                     f"larger than any webhook serve saves", EXIT_USAGE)
                yield line.decode("utf-8-sig") if line.startswith(b"\xef\xbb\xbf") \
                    else line.decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise _input_error(label, e) from None


def file_identity(path: str) -> str | None:
    """'device:inode' of a regular file, to tell whether two paths are one file."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return f"{info.st_dev}:{info.st_ino}" if stat.S_ISREG(info.st_mode) else None


def read_own_file(path: str, limit: int, why: str) -> str | None:
    """Read a file convo.py looks for on its own (credentials, state): None when there
    is none; a regular file of at most `limit` bytes of UTF-8. Raises ConvoError (exit 2)."""
    try:
        f = open_input(path, given=False)
    except ConvoError:
        if not os.path.lexists(path):
            return None
        raise
    with f:
        return _utf8(read_bounded(f, limit, path, why), path)


def parse_json(text: str, label: str) -> Any:
    """Decode JSON, reporting the line and column of any error. Raises ConvoError (exit 2)."""
    try:
        return loads(text)
    except ValueError as e:
        raise _json_error(label, e) from None


def parse_json_values(text: str, label: str) -> tuple[Any, bool]:
    """Decode the first JSON value in text; also say whether more values follow it
    (JSON lines). Raises ConvoError (exit 2) for text that does not start with one."""
    start = len(text) - len(text.lstrip())
    try:
        value, end = _DECODER.raw_decode(text, start)
    except ValueError as e:
        raise _json_error(label, e) from None
    except RecursionError:
        raise _json_error(label, json.JSONDecodeError("nesting too deep", "", 0)) from None
    return value, bool(text[end:].strip())


def _json_error(label: str, e: ValueError) -> ConvoError:
    return ConvoError(f"{label}: invalid JSON{json_problem(e)}", EXIT_USAGE)

# -- the state directory -------------------------------------------------------

STATE_FILE = "last_call.json"     # the latest call, for `get` without an ID


def state_dir() -> str:
    """$CONVO_STATE_DIR, else $XDG_STATE_HOME/convo, else ~/.local/state/convo."""
    explicit = os.environ.get("CONVO_STATE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "convo")


def check_state_dir(directory: str) -> str:
    """Make the state directory (0700) if it is missing and check that convo.py can use
    it: a directory, not writable by others, writable by us. Raises ConvoError (exit 2)."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        info = os.stat(directory)
        if not stat.S_ISDIR(info.st_mode):
            raise NotADirectoryError(20, "not a directory")
        if info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX:
            raise ConvoError(f"the state directory {directory} is writable by others (mode "
                             f"{info.st_mode & 0o777:04o}), who could replace what convo.py "
                             f"saves there: run chmod 700 {directory}, or set CONVO_STATE_DIR",
                             EXIT_USAGE)
        import threading
        probe = os.path.join(directory, f".probe.{os.getpid()}.{threading.get_ident()}")
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600))
        os.unlink(probe)
    except OSError as e:
        raise ConvoError(f"cannot write the state directory {directory}: "
                         f"{printable(e.strerror or e, 80)}; set CONVO_STATE_DIR to one you "
                         f"can write", EXIT_USAGE) from None
    return directory


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def write_state_file(directory: str, name: str, text: str, *, sync: bool = False) -> None:
    """Replace a state file atomically: write a temporary file (0600, its name unique to
    this process and thread, never through a link), then rename it; with sync, on disk
    before this returns (file and directory). Raises OSError."""
    import threading
    os.makedirs(directory, mode=0o700, exist_ok=True)
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, os.path.join(directory, name))
        if sync:
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


class _locked:
    """An exclusive lock on a lock file (flock), held for the block; none where the
    system has no flock. With wait=False, BlockingIOError when another holds it."""

    def __init__(self, path: str, *, wait: bool = True) -> None:
        self.path, self.fd, self.wait = path, -1, wait

    def __enter__(self) -> None:
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | _NOFOLLOW, 0o600)
        try:
            import fcntl
        except ImportError:
            return
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except OSError:
            os.close(self.fd)
            self.fd = -1
            raise

    def __exit__(self, *exc: Any) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # releases the lock
            self.fd = -1


def write_state(call: dict[str, Any], directory: str | None = None) -> None:
    """Record the latest call, for `get` without an ID. Raises OSError."""
    write_state_file(directory or state_dir(), STATE_FILE, dump_json(call) + "\n")


def read_state(directory: str | None = None) -> dict[str, Any] | None:
    """Return the latest call that serve recorded, or None."""
    path = os.path.join(directory or state_dir(), STATE_FILE)
    try:
        text = read_own_file(path, MAX_CREDENTIALS_BYTES, "the latest call")
        state = loads(text) if text is not None else None
    except ConvoError as e:  # it names the file
        warn(f"ignoring the latest call: {e}")
        return None
    except ValueError as e:
        warn(f"ignoring {path}: {printable(e, 100)}")
        return None
    return state if isinstance(state, dict) else None


# ############################################################################
# 2. Credentials and `jwt`
# ############################################################################

# -- claims, lifetimes and tokens (pure) ---------------------------------------

DEFAULT_TTL_S = 900           # what Vonage's SDKs mint, and the API's default
MIN_TTL_S = 30                # Vonage: exp at least 30 s after iat...
MAX_TTL_S = 24 * 3600         # ...and no token is accepted 24 h after iat
MIN_RSA_BITS = 2048
TIME_CLAIMS = ("iat", "exp", "nbf")

MAX_TOKEN_BYTES = 16 << 10    # a JWT given on the command line or in $JWT

_TTL_RE = re.compile(r"(?:\d+\s*[smhd]\s*)+|\d+")
_TTL_PART = re.compile(r"(\d+)\s*([smhd])")


_TTL_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


_APP_ID_RE = re.compile(UUID_PATTERN, re.IGNORECASE)


def check_app_id(app_id: str, source: str) -> str:
    """Return an application ID if it is a UUID. Raises ConvoError (exit 2) showing one."""
    if not _APP_ID_RE.fullmatch(app_id):
        raise ConvoError(f"{source} '{printable(app_id, 60)}' is not an application ID: it is a "
                         f"UUID such as aaaaaaaa-bbbb-cccc-dddd-0123456789ab (see your "
                         f"application's page in the Vonage dashboard)", EXIT_USAGE)
    return app_id


def parse_ttl(text: str) -> int:
    """Parse '900', '90s', '15m', '1h30m', '24h' or '1d' as seconds, within Vonage's 30 s
    to 24 h.

    Raises ConvoError (exit 2) for anything else.
    """
    text = text.strip().lower()
    if not _TTL_RE.fullmatch(text):
        raise ConvoError(f"--ttl {text!r} is not a duration: use e.g. 900, 90s, 15m, 1h30m, "
                         f"24h or 1d", EXIT_USAGE)
    seconds = int(text) if text.isdigit() else sum(
        int(n) * _TTL_UNITS[unit] for n, unit in _TTL_PART.findall(text))
    if not MIN_TTL_S <= seconds <= MAX_TTL_S:
        raise ConvoError(
            f"--ttl {text} is outside 30s..24h: Vonage wants exp at least 30 s after iat "
            f"and rejects any token more than 24 h after iat", EXIT_USAGE)
    return seconds


def parse_claim_args(items: Iterable[str]) -> dict[str, Any]:
    """Parse NAME=VALUE claims: a value that is valid JSON is decoded, anything else is text.

    Unlike nexmo-cli, iat/exp/nbf must then be whole numbers of seconds.
    """
    claims: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise ConvoError(f"claim {item!r} is not NAME=VALUE (e.g. exp=1700086400)", EXIT_USAGE)
        try:
            value = loads(raw)
        except ValueError:
            value = raw
        claims[name] = value
    for name in TIME_CLAIMS:
        if name in claims:
            value = claims[name]
            if not is_int(value):
                raise ConvoError(f"{name} must be whole seconds since 1970 (e.g. "
                                 f"{name}=1700086400), not {json.dumps(value)}", EXIT_USAGE)
    return claims


def build_claims(app_id: str, *, now: int, ttl_s: int, jti: str,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build a Vonage application token's claims: application_id, iat, jti, exp = iat + ttl.

    Claims in `extra` (the tutorial's name=value form, --sub, --acl) win over the defaults.
    Raises ConvoError (exit 2) when the result would be refused by Vonage.
    """
    claims: dict[str, Any] = {"application_id": app_id, "iat": now, "jti": jti}
    claims.update(extra or {})
    claims.setdefault("exp", claims["iat"] + ttl_s)
    if claims["exp"] <= now:
        raise ConvoError(f"exp is in the past ({format_utc(claims['exp'])}, "
                         f"{format_span(now - claims['exp'])} ago): give a time to come, e.g. "
                         f"exp=$(($(date +%s)+86400)), or leave exp out and use --ttl",
                         EXIT_USAGE)
    life = claims["exp"] - claims["iat"]
    if life < MIN_TTL_S:
        raise ConvoError(f"exp is {life} s after iat; Vonage wants at least {MIN_TTL_S} s",
                         EXIT_USAGE)
    if life > MAX_TTL_S:
        raise ConvoError(f"exp is {format_span(life)} after iat; Vonage rejects any token "
                         f"more than 24 h after iat", EXIT_USAGE)
    return claims


def bearer_token(text: str) -> str:
    """A token as given on the command line or in an Authorization header: 'Bearer ' is optional."""
    scheme, _, rest = text.strip().partition(" ")
    return rest.strip() if scheme.lower() == "bearer" and rest else text.strip()


def _b64decode_json(segment: str) -> Any:
    import base64
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    return loads(raw)


#: A compact JWS (RFC 7515 §7.1): three base64url parts (the signature may be empty).
_JWT_RE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return a JWT's header and claims without checking its signature.

    Raises ConvoError (exit 2) when the text is not a JWT.
    """
    token = bearer_token(token)
    if len(token) > MAX_TOKEN_BYTES or not _JWT_RE.fullmatch(token):
        raise ConvoError("that is not a JWT: expected three base64url parts separated by "
                         "dots, and nothing else (no spaces or line breaks inside)", EXIT_USAGE)
    parts = token.split(".")
    try:
        header, claims = _b64decode_json(parts[0]), _b64decode_json(parts[1])
    except ValueError:
        raise ConvoError("that is not a JWT: expected three base64url parts separated by dots",
                         EXIT_USAGE) from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ConvoError("that is not a JWT: its header and claims must be JSON objects",
                         EXIT_USAGE)
    return header, claims


def token_expiry(claims: dict[str, Any]) -> tuple[int | None, str]:
    """Return when Vonage stops accepting a token, and why, from its exp and iat claims."""
    iat, exp = claims.get("iat"), claims.get("exp")
    iat = iat if is_int(iat) else None
    exp = exp if is_int(exp) else None
    if exp is None:
        if iat is None:
            return None, "no iat and no exp: Vonage rejects such a token"
        return iat + DEFAULT_TTL_S, "no exp: Vonage accepts it for 15 minutes after iat"
    if iat is not None and exp - iat > MAX_TTL_S:
        return iat + MAX_TTL_S, "exp is more than 24 h after iat: Vonage stops at iat + 24 h"
    return exp, ""


def describe_expiry(expires: int | None, now: float) -> tuple[str, bool]:
    """Say in words how long a token has left: 'expires in 14m 58s' or 'EXPIRED 3h 2m ago'."""
    if expires is None:
        return "never accepted", True
    left = expires - now
    if left <= 0:
        return f"EXPIRED {format_span(-left)} ago", True
    return f"expires in {format_span(left)}", False

# -- keys and signatures -------------------------------------------------------

def read_key_file(path: str, *, given: bool) -> tuple[bytes, int]:
    """Read a private key file: its PEM and its mode. A key named on the command line
    may be a pipe (`--key <(…)`); one from the environment or a file must be a file."""
    if not os.path.lexists(path):
        raise ConvoError(f"private key {path}: no such file; pass --key PATH or set "
                         f"VONAGE_APPLICATION_PRIVATE_KEY_PATH", EXIT_USAGE)
    with open_input(path, given=given, label=f"private key {path}") as f:
        mode = os.fstat(f.fileno()).st_mode
        return read_bounded(f, MAX_CREDENTIALS_BYTES, f"private key {path}",
                            "a private key"), mode


def _passphrase(pem: bytes, label: str) -> bytes | None:
    if b"ENCRYPTED" not in pem:
        return None
    secret = os.environ.get("VONAGE_PRIVATE_KEY_PASSPHRASE")
    if secret is None and sys.stdin is not None and sys.stdin.isatty():
        import getpass
        secret = getpass.getpass(f"Passphrase for {label}: ")
    if not secret:
        raise ConvoError(f"private key {label} is encrypted: set VONAGE_PRIVATE_KEY_PASSPHRASE",
                         EXIT_USAGE)
    return secret.encode()


@functools.lru_cache(maxsize=None)
def _rsa_load_options() -> dict[str, bool]:
    """The key is the user's own: skipping OpenSSL's consistency check of its primes
    saves ~80 ms a run (bench/startup.py), and OpenSSL still verifies each CRT
    signature. The argument came with cryptography 39; Debian 12 ships 38."""
    import cryptography
    major = cryptography.__version__.split(".")[0]
    return {"unsafe_skip_rsa_key_validation": True} if major.isdigit() and int(major) >= 39 \
        else {}


def load_private_key(pem: bytes, label: str):
    """Load an RSA private key (PKCS#1 or PKCS#8 PEM, encrypted or not) of 2048+ bits.

    Raises ConvoError (exit 2) naming the problem; no part of the key is ever echoed.
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    private = b"PRIVATE KEY-----" in pem
    instead = ("the private.key Vonage gave you when you created the application: convo.py "
               "signs with the application's private key")
    problem = next((said for wrong, said in (  # what a file that is no such key holds
        (b"-----BEGIN OPENSSH PRIVATE KEY-----" in pem,
         f"private key {label} is in OpenSSH's format, which pyjwt does not read: convert a "
         f"copy to PEM with ssh-keygen -p -m PEM -f COPY, or use {instead}"),
        (b"-----BEGIN" not in pem,
         f"private key {label} is not PEM: expected a '-----BEGIN PRIVATE KEY-----' block"),
        (not private and b"PUBLIC KEY-----" in pem,
         f"{label} is a public key, not a private key: use {instead}"),
        (not private and b"CERTIFICATE-----" in pem,
         f"{label} is a certificate, not a private key: use {instead}"),
        (not private, f"{label} holds no private key: use {instead}")) if wrong), None)
    if problem:
        raise ConvoError(problem, EXIT_USAGE)
    password = _passphrase(pem, label)
    try:
        key = load_pem_private_key(pem, password, **_rsa_load_options())
    except (ValueError, TypeError):
        if password is not None:
            raise ConvoError(f"cannot decrypt private key {label}: wrong passphrase?",
                             EXIT_USAGE) from None
        raise ConvoError(f"private key {label} is not a valid PEM private key",
                         EXIT_USAGE) from None
    except UnsupportedAlgorithm:
        raise ConvoError(f"private key {label} uses an algorithm this machine's OpenSSL "
                         f"does not support", EXIT_USAGE) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        kind = ("an EC" if isinstance(key, ec.EllipticCurvePrivateKey)
                else "a DSA" if isinstance(key, dsa.DSAPrivateKey) else "a non-RSA")
        raise ConvoError(f"private key {label} is {kind} key: Vonage application keys "
                         f"are RSA, {MIN_RSA_BITS} bits or more", EXIT_USAGE)
    if key.key_size < MIN_RSA_BITS:
        raise ConvoError(f"private key {label} is {key.key_size}-bit RSA: use "
                         f"{MIN_RSA_BITS} bits or more", EXIT_USAGE)
    return key


def sign_jwt(claims: dict[str, Any], key) -> str:
    """Sign claims as an RS256 JWT with header {"alg":"RS256","typ":"JWT"}."""
    import jwt
    return jwt.encode(claims, key, algorithm="RS256", headers={"typ": "JWT"})


def verify_signature(token: str, key) -> str | None:
    """Check an RS256 token against a key's public half; return the problem, or None."""
    import jwt
    public = key.public_key() if hasattr(key, "public_key") else key
    try:
        jwt.decode(bearer_token(token), public, algorithms=["RS256"],
                   options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                            "verify_aud": False, "verify_iss": False})
    except jwt.InvalidAlgorithmError:
        return "not RS256: Vonage application tokens must be signed RS256"
    except jwt.InvalidSignatureError:
        return "does not match this key: the token was signed with another private key"
    except jwt.PyJWTError as e:
        return f"cannot be checked: {e}"
    return None

# -- where the credentials come from -------------------------------------------

#: The Vonage CLI's keys, each as `vonage auth set` writes it and as `vonage apps init`
#: does; the CLI reads either (github.com/Vonage/vonage-cli, src/middleware/config.js).
VONAGE_CLI_KEYS = {"app-id": "appId", "private-key": "privateKey", "api-key": "apiKey",
                   "api-secret": "apiSecret"}


class Credentials:
    """The application's credentials for one run, and where each value came from.

    Made only by resolve_credentials(). A key file is read when a token is minted
    or checked, not before; messages name a value's source, never the value.
    """

    def __init__(self, *, app_id: str | None, key_path: str | None, key_pem: str | None,
                 token: str | None, sources: dict[str, str], key_given: bool = False) -> None:
        self.app_id, self.key_path, self.key_pem, self.token = app_id, key_path, key_pem, token
        self.sources = sources  # "app_id", "key", "token" -> where it came from
        self.key_given = key_given  # the key's path was named on the command line
        self._key: Any = None

    @property
    def has_key(self) -> bool:
        return bool(self.key_path or self.key_pem)

    @property
    def key_label(self) -> str:
        """How messages name the key: its path, or where its PEM text came from."""
        return self.key_path or self.sources.get("key", "the private key")

    def require_app_id(self) -> str:
        if not self.app_id or not self.has_key:
            missing = [what for what, there in (
                ("application ID (pass --app-id ID or set VONAGE_APPLICATION_ID)", self.app_id),
                ("private key (pass --key private.key, or set "
                 "VONAGE_APPLICATION_PRIVATE_KEY_PATH or VONAGE_PRIVATE_KEY)", self.has_key))
                if not there]
            raise ConvoError(f"no {' and no '.join(missing)}: the application's token is "
                             f"made with both", EXIT_USAGE)
        return check_app_id(self.app_id, self.sources.get("app_id", "--app-id"))

    def private_key(self):
        """Read and load the private key, once a run: a watch renews its token from it
        long after a `--key <(…)` pipe has been read. Raises ConvoError (exit 2)."""
        if self._key is None:
            self._key = self._load_key()
        return self._key

    def _load_key(self):
        mode = 0
        if self.key_path:
            pem, mode = read_key_file(self.key_path, given=self.key_given)
        elif self.key_pem:
            text = self.key_pem
            if "\\n" in text and "\n" not in text.strip():
                text = text.replace("\\n", "\n")  # a secret pasted with escaped newlines
            pem = text.encode()
        else:
            raise ConvoError("no private key: pass --key private.key, or set "
                             "VONAGE_APPLICATION_PRIVATE_KEY_PATH or VONAGE_PRIVATE_KEY",
                             EXIT_USAGE)
        key = load_private_key(pem, self.key_label)  # what the key is comes first
        if os.name == "posix" and mode & 0o077:
            warn(f"private key {self.key_path} is readable by others (mode "
                 f"{mode & 0o777:04o}); run: chmod 600 {self.key_path}")
        return key

    def mint(self, *, ttl_s: int = DEFAULT_TTL_S, extra: dict[str, Any] | None = None) -> str:
        """A fresh application JWT (the clock and uuid4 are read here)."""
        import uuid
        app_id = self.require_app_id()
        key = self.private_key()
        claims = build_claims(app_id, now=int(time.time()), ttl_s=ttl_s,
                              jti=str(uuid.uuid4()), extra=extra)
        return sign_jwt(claims, key)


def read_vonage_cli_file(*, account: bool = False) -> tuple[str, dict[str, str]] | None:
    """The Vonage CLI's saved credentials (github.com/Vonage/vonage-cli, src/middleware/
    config.js): the first of ./.vonagerc and ~/.vonage/config.json that exists, whole,
    as (path, keys); with `account`, the first that holds an api-key or api-secret
    (`app create` writes a ./.vonagerc with the application's alone). Raises
    ConvoError (exit 2) naming a file that is not a JSON object of text values."""
    for path in (os.path.join(os.getcwd(), ".vonagerc"),
                 os.path.join(os.path.expanduser("~"), ".vonage", "config.json")):
        text = read_own_file(path, MAX_CREDENTIALS_BYTES, "a credentials file")
        if text is None:
            continue
        doc = parse_json(text, path) if text.strip() else None
        expected = ", ".join(VONAGE_CLI_KEYS)
        if not isinstance(doc, dict):
            raise ConvoError(f"{path}: the Vonage CLI's credentials file should be a JSON "
                             f"object with {expected}", EXIT_USAGE)
        keys: dict[str, str] = {}
        for key, camel in VONAGE_CLI_KEYS.items():
            for name in (key, camel):
                if name in doc and not isinstance(doc[name], str):
                    raise ConvoError(f"{path}: {name} must be text, not a JSON "
                                     f"{json_type(doc[name])}", EXIT_USAGE)
            value = doc.get(key) or doc.get(camel)
            if value and value.strip():
                keys[key] = value
        if not keys:
            raise ConvoError(f"{path}: holds none of the keys convo.py reads ({expected}, or "
                             f"appId, privateKey, apiKey, apiSecret)", EXIT_USAGE)
        if account and not keys.keys() & {"api-key", "api-secret"}:
            continue
        return path, keys
    return None


def resolve_credentials(*, app_id: str | None = None, key_path: str | None = None,
                        token: str | None = None, app_id_flag: str = "--app-id",
                        key_flag: str = "--key") -> Credentials:
    """The one place that decides where credentials come from: flags, then the
    environment, then the Vonage CLI's saved file for what is still missing (used
    whole, as the CLI does). -v logs where each came from, never the value.

    A token given with --jwt is used as it is; $JWT only when no flag asks to mint one.
    """
    import logging
    env = os.environ.get
    sources: dict[str, str] = {}
    if app_id is not None and not app_id.strip():
        raise ConvoError(f"{app_id_flag} is empty: give the application ID, or leave "
                         f"{app_id_flag} out to use VONAGE_APPLICATION_ID", EXIT_USAGE)
    if app_id:
        sources["app_id"] = app_id_flag
    elif env("VONAGE_APPLICATION_ID"):
        app_id, sources["app_id"] = env("VONAGE_APPLICATION_ID"), "$VONAGE_APPLICATION_ID"
    key_pem = None
    if key_path:
        sources["key"] = key_flag
    elif env("VONAGE_APPLICATION_PRIVATE_KEY_PATH"):
        key_path = env("VONAGE_APPLICATION_PRIVATE_KEY_PATH")
        sources["key"] = "$VONAGE_APPLICATION_PRIVATE_KEY_PATH"
    elif (env("VONAGE_PRIVATE_KEY") or "").strip():
        key_pem, sources["key"] = env("VONAGE_PRIVATE_KEY"), "$VONAGE_PRIVATE_KEY"
    if token:
        sources["token"] = "--jwt"
    elif not (sources.get("app_id") == app_id_flag or sources.get("key") == key_flag) \
            and env("JWT"):
        token, sources["token"] = env("JWT"), "$JWT"
    if not token and not (app_id and (key_path or key_pem)):
        saved = read_vonage_cli_file()
        if saved:
            path, doc = saved
            if not app_id and doc.get("app-id"):
                app_id, sources["app_id"] = doc["app-id"], f"{path} (app-id)"
            if not (key_path or key_pem) and doc.get("private-key", "").strip():
                key_pem, sources["key"] = doc["private-key"], f"{path} (private-key)"
    app_id = app_id.strip() if app_id else app_id  # a pasted ID often brings a space
    if key_pem and "-----BEGIN" not in key_pem and "\n" not in key_pem.strip() and (
            key_pem.strip().endswith((".key", ".pem")) or "/" in key_pem):
        raise ConvoError(f"{sources['key']} looks like a file's path, not a key: set "
                         f"VONAGE_APPLICATION_PRIVATE_KEY_PATH to the path instead "
                         f"(VONAGE_PRIVATE_KEY holds the PEM text itself)", EXIT_USAGE)
    log = logging.getLogger("convo")
    for what, name in (("application ID", "app_id"), ("private key", "key"),
                       ("token", "token")):
        if name in sources:
            log.debug("%s from %s", what, sources[name])
    return Credentials(app_id=app_id, key_path=key_path, key_pem=key_pem, token=token,
                       sources=sources, key_given=sources.get("key") == key_flag)


TOKEN_MARGIN_S = 60               # a minted token is renewed this long before it expires


class TokenSource:
    """The token for API requests, for as long as a run lasts (a watch may outlast a
    token): one given with --jwt/$JWT is used as it is, with a warning a minute before
    it expires and a clear stop when it has; one minted from the key is minted again
    a minute before it expires. `hint` says what to check if the API rejects it.
    """

    def __init__(self, creds: Credentials) -> None:
        self.creds = creds
        self.source = creds.sources.get("token")
        self.warned = False
        if creds.token:
            self.current = bearer_token(creds.token)
            _, claims = decode_unverified(self.current)
            self.expires, _ = token_expiry(claims)
            app = printable(claims.get("application_id"), 60)
            until = (f"expires at {format_utc(self.expires)}" if self.expires
                     else "has no exp or iat")
            self.hint = (f"Likely cause: the token in {self.source} is for another "
                         f"application (its application_id is {app}), is signed with "
                         f"another key, or has expired (it {until}); check it: "
                         f"{PROG} jwt --inspect TOKEN --key private.key")
            self.token()  # refused at once if it has expired
        else:
            self._mint()
            self.hint = (f"Likely cause: application {creds.app_id} does not own this call, "
                         f"or {creds.key_label} is not that application's private key (or "
                         f"this machine's clock is wrong)")

    def _mint(self) -> None:
        self.current = self.creds.mint()
        self.expires, _ = token_expiry(decode_unverified(self.current)[1])

    def token(self) -> str:
        """The token to send now. Raises ConvoError when a given token has expired."""
        now = time.time()
        if self.source is None:
            if self.expires is not None and now >= self.expires - TOKEN_MARGIN_S:
                self._mint()
        elif self.expires is not None:
            if now >= self.expires:
                raise ConvoError(f"the token in {self.source} expired at "
                                 f"{format_utc(self.expires)} ({format_span(now - self.expires)}"
                                 f" ago): make a new one with `{PROG} jwt`, or drop "
                                 f"{self.source} to let convo.py mint its own")
            if now >= self.expires - TOKEN_MARGIN_S and not self.warned:
                self.warned = True
                warn(f"the token in {self.source} expires in "
                     f"{format_span(self.expires - now)}; convo.py stops then (drop "
                     f"{self.source} to let it mint its own)")
        return self.current

# -- the command ---------------------------------------------------------------

def cmd_jwt(args: argparse.Namespace, out: TextIO) -> int:
    """Print an application JWT, or --inspect one.

    An RS256 token for Vonage's APIs. The tutorial's nexmo-cli form also works:
    jwt private.key application_id=ID exp=1700086400
    """
    if args.inspect is not None:
        return inspect_jwt(args, out)
    if args.json:
        raise ConvoError("--json goes with --inspect TOKEN: a new token is printed as it is",
                         EXIT_USAGE)
    key_path, key_flag = args.key, "--key"
    rest = list(args.claims)
    if rest and "=" not in rest[0]:  # the tutorial's form: jwt private.key name=value ...
        positional = rest.pop(0)
        if key_path:
            raise ConvoError(f"key given twice: --key {key_path} and {positional}", EXIT_USAGE)
        key_path, key_flag = positional, "the key argument"
    extra = parse_claim_args(rest + args.claim)
    for flag, name, value in (("--sub", "sub", args.sub), ("--acl", "acl", args.acl)):
        if value is not None and name in extra:
            raise ConvoError(f"{name} given twice: {flag} and the claim {name}=…: give one",
                             EXIT_USAGE)
    if args.sub:
        extra["sub"] = args.sub
    if args.acl:
        acl = parse_json(args.acl, "--acl")
        if not isinstance(acl, dict):
            raise ConvoError('--acl must be a JSON object, e.g. {"paths":{"/*/users/**":{}}}',
                             EXIT_USAGE)
        extra["acl"] = acl
    claimed = extra.pop("application_id", None)
    app_id, app_id_flag = ((args.app_id, "--app-id") if args.app_id or not claimed
                           else (claimed, "the application_id claim"))
    if app_id is not None and not isinstance(app_id, str):
        raise ConvoError("the application_id claim must be text: the application's ID",
                         EXIT_USAGE)
    creds = resolve_credentials(app_id=app_id, key_path=key_path, app_id_flag=app_id_flag,
                                key_flag=key_flag)
    ttl_s = parse_ttl(args.ttl) if args.ttl else DEFAULT_TTL_S
    print(creds.mint(ttl_s=ttl_s, extra=extra), file=out)
    return EXIT_OK


def inspect_jwt(args: argparse.Namespace, out: TextIO) -> int:
    """Print a token's header, claims, time left and checks; exit 1 if one fails.

    The checks: expiry; with a key (--key or the environment), the signature; with
    an application ID (--app-id, the environment or the Vonage CLI's file), the
    application_id claim, naming where the ID came from.
    """
    token = bearer_token(read_input("-", MAX_TOKEN_BYTES, "a token") if args.inspect == "-"
                         else args.inspect)
    header, claims = decode_unverified(token)
    now = time.time()
    expires, why = token_expiry(claims)
    said, expired = describe_expiry(expires, now)
    checks: dict[str, dict[str, Any]] = {
        "expiry": {"ok": not expired, "detail": said + (f" ({why})" if why else "")}}
    creds = resolve_credentials(app_id=args.app_id, key_path=args.key)
    if creds.has_key:
        problem = verify_signature(token, creds.private_key())
        checks["signature"] = {"ok": problem is None,
                               "detail": f"INVALID: {problem}" if problem
                               else f"valid for {creds.key_label}"}
    else:
        checks["signature"] = {"ok": None,
                               "detail": "not checked: pass --key private.key to verify it"}
    if creds.app_id:
        source = creds.sources["app_id"]
        wanted = check_app_id(creds.app_id, source)
        has = claims.get("application_id")
        checks["application_id"] = {
            "ok": has == wanted,
            "detail": f"matches {wanted} (from {source})" if has == wanted else
            f"MISMATCH: the token is for {printable(has, 60)}, {source} is {wanted}"}
    failed = any(check["ok"] is False for check in checks.values())
    if args.json:
        out.write(dump_json({"header": header, "claims": claims, "expires": expires,
                             "seconds_left": None if expires is None else int(expires - now),
                             "checks": checks}) + "\n")
        return EXIT_ERROR if failed else EXIT_OK
    style = style_for(out)
    pad = " " * 11
    lines = ["header     " + dump_json(header, indent=None),
             "claims     " + dump_json(claims).replace("\n", "\n" + pad)]
    if is_int(claims.get("iat")):
        lines.append(f"issued     {format_utc(claims['iat'])}")
    shown = style.paint(said, "bold", "red" if expired else "green")
    lines.append(f"expires    {format_utc(expires)}  {shown}" if expires
                 else f"expires    {shown}")
    if why:
        lines.append(f"{pad}({why})")
    for name, label in (("signature", "signature  "), ("application_id", "app ID     ")):
        check = checks.get(name)
        if check:
            color = {True: ("green",), False: ("bold", "red"), None: ()}[check["ok"]]
            lines.append(label + style.paint(check["detail"], *color))
    out.write("\n".join(lines) + "\n")
    return EXIT_ERROR if failed else EXIT_OK


# ############################################################################
# 3. Vonage API access: IDs, URLs, errors, retries, the client
# ############################################################################

# -- rules (pure) --------------------------------------------------------------

API_URL = "https://api.nexmo.com"  # the default; a live call is served by its region_url
VONAGE_HOST_SUFFIXES = (".vonage.com", ".nexmo.com")
HTTP_TIMEOUT_S = 10.0         # each request (--timeout)
GET_DEADLINE_S = 90.0         # the whole `get`, retries and waits included
MAX_ATTEMPTS = 3              # for 429 and 5xx
MAX_RETRY_AFTER_S = 60.0      # a longer Retry-After fails at once instead of waiting
BACKOFF_BASE_S = 0.25         # first retry waits 0.125..0.375 s, then doubles
MAX_BODY_BYTES = 10 << 20       # one API response
MAX_ITEMS = 100_000           # items of one list, all its pages together

MAX_PAGES = 1000              # 100,000 items at page_size=100
MAX_REDIRECTS = 5
PAGE_SIZE = 100               # the API's maximum
DEFAULT_CONCURRENCY = 8

WATCH_INTERVAL_S = 2.0            # get --watch polls this often (--interval)
MIN_INTERVAL_S, MAX_INTERVAL_S = 0.5, 60.0

_CONV_ID_RE = re.compile("CON-" + UUID_PATTERN, re.IGNORECASE)


_CALL_UUID_RE = re.compile(UUID_PATTERN.replace("}-", "}-?"), re.IGNORECASE)  # dashes or not


def parse_target(text: str) -> tuple[str, str, str | None]:
    """Read whatever ID a user holds: ('conversation', 'CON-…', None) for a conversation
    ID (its prefix in any case), ('call', uuid, None) for a leg/call UUID with or
    without dashes, and for an API URL of either, the same with the URL's base.

    Raises ConvoError (exit 2) showing the forms it reads.
    """
    text = (text or "").strip()
    parts = split_url(text) if "://" in text else None
    if parts:
        segments = parts.path.rstrip("/").split("/")
        for i, name in enumerate(segments[:-1]):
            if name in ("conversations", "calls") and segments[i - 1:i] == ["v1"]:
                kind, ident, _ = parse_target(segments[i + 1])
                if kind == ("conversation" if name == "conversations" else "call"):
                    base = f"{parts.scheme}://{parts.netloc}" + "/".join(segments[:i - 1])
                    return kind, ident, base
    elif text[:4].upper() == "CON-" and _CONV_ID_RE.fullmatch("CON-" + text[4:]):
        return "conversation", "CON-" + text[4:], None
    elif _CALL_UUID_RE.fullmatch(text):
        return "call", text, None
    raise ConvoError(
        f"'{printable(text, 80)}' is not an ID that get reads: expected CON- and a UUID, "
        f"e.g. CON-bc643220-2542-499a-892e-c982c4150c06, a leg UUID (the uuid of a webhook, "
        f"e.g. 797168e24c19a3c45e74e05b10fef2b5), or an API URL of either", EXIT_USAGE)


def call_uuid_forms(uuid: str) -> list[str]:
    """A call UUID as given, then in lower case with dashes and without."""
    bare = uuid.replace("-", "").lower()
    dashed = f"{bare[:8]}-{bare[8:12]}-{bare[12:16]}-{bare[16:20]}-{bare[20:]}"
    return list(dict.fromkeys((uuid, dashed, bare)))


def split_url(url: Any, base: str | None = None) -> Any:
    """urlsplit() for URLs from anywhere (a link or an NCCO from a peer, an argument):
    the parts, or None for what is not a URL at all ('http://[::1', a port that is not
    a number, not text). With base, url is resolved against it first (a Location)."""
    from urllib.parse import urljoin, urlsplit
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(urljoin(base, url) if base else url)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        return None
    return parts


def host_of(url: str) -> str:
    """'api-eu-3.vonage.com' from 'https://api-eu-3.vonage.com', for messages."""
    parts = split_url(url)
    return printable(parts.netloc if parts and parts.netloc else url, 80)


def origin_of(url: str) -> str:
    """'https://host:port' of a URL."""
    parts = split_url(url)
    return f"{parts.scheme}://{parts.netloc}" if parts else url


def is_vonage_url(url: Any) -> bool:
    """True for an https:// URL on a Vonage host, the only region_url get may trust."""
    parts = split_url(url)
    host = (parts.hostname or "") if parts else ""
    return bool(parts and parts.scheme == "https" and not parts.username
                and parts.port in (None, 443) and host.endswith(VONAGE_HOST_SUFFIXES))


def typed_url(text: str) -> str:
    """A URL as people type one, as httpie reads it: ':3000' is this machine's port 3000
    (127.0.0.1, where serve listens), and without a scheme a host on this machine
    gets http:// and any other https://."""
    text = text.strip()
    if "://" in text or not text:
        return text
    if text.startswith(":"):
        text = "127.0.0.1" + text
    parts = split_url("//" + text)
    host = parts.hostname if parts else None
    if not host or ("." not in host and ":" not in host and host != "localhost"):
        return text  # not a host name ('ngrok'): left for the check to refuse
    return ("http://" if on_this_machine(parts) else "https://") + text


def check_http_url(url: str, source: str, example: str, *, typed: str | None = None) -> str:
    """Return an http(s) URL without its trailing slash. Raises ConvoError (exit 2),
    quoting what the user typed (`typed`, when the URL was made from it)."""
    parts = split_url(url)
    valid = bool(parts and parts.scheme in ("http", "https") and parts.hostname
                 and parts.port != 0)
    if not valid:
        raise ConvoError(f"{source} '{printable(typed or url, 80)}' is not an http(s) URL, "
                         f"e.g. {example}", EXIT_USAGE)
    return url.rstrip("/")


def in_clear_elsewhere(url: str) -> bool:
    """True for plain http:// to another machine, where what is sent (a token, a
    signed webhook) can be read or changed on the way. On this machine (localhost,
    127.0.0.0/8, ::1) plain http:// is fine."""
    parts = split_url(url)
    return bool(parts) and parts.scheme.lower() == "http" and not on_this_machine(parts)


def on_this_machine(parts: Any) -> bool:
    """True for a URL (split) whose host is loopback: localhost, 127.0.0.0/8 or ::1."""
    host = (parts.hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # not '²', which str.isdigit() accepts
        return float(value)
    from email.utils import parsedate_to_datetime
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


def backoff_s(attempt: int, jitter: float) -> float:
    """Exponential backoff with jitter for retry `attempt` (1, 2, ...); jitter is in [0, 1)."""
    return BACKOFF_BASE_S * 2 ** (attempt - 1) * (0.5 + jitter)


def api_problem(body: bytes) -> str:
    """Summarise an error body: RFC 7807's {type,title,detail,instance} with each of
    its invalid_parameters by name (the Applications API), {code,description}, or the
    legacy {error_title}."""
    try:
        doc = loads(body) if body else None
    except ValueError:
        doc = None
    doc = _dict(doc)
    code = _scalar(doc.get("code"))
    detail = next(filter(None, map(_scalar, (doc.get("detail"), doc.get("description"),
                                             doc.get("title"), doc.get("error_title")))), None)
    text = ": ".join(x for x in (code, detail) if x)
    invalid = [f"{_scalar(p.get('name')) or '?'} {_scalar(p.get('reason')) or 'is invalid'}"
               for p in _list(doc.get("invalid_parameters")) if isinstance(p, dict)]
    if invalid:
        text += ": " + "; ".join(invalid)
    return printable(text, 400) if text else ""

# -- the client ----------------------------------------------------------------

def http_connection(origin: tuple, timeout_s: float) -> Any:
    """An http.client connection to (scheme, host, port), not yet connected; https
    verifies certificates and names."""
    import http.client
    scheme, host, port = origin
    if scheme == "https":
        context = _ssl_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
        return http.client.HTTPSConnection(host, port, timeout=timeout_s, context=context)
    return http.client.HTTPConnection(host, port, timeout=timeout_s)


@functools.lru_cache(maxsize=None)
def _ssl_context(cert_file: str | None, cert_dir: str | None) -> Any:
    """One ssl.SSLContext per trust setting (the variables OpenSSL reads), made on
    first use: it is slow to make."""
    import ssl
    return ssl.create_default_context()


def network_problem(where: str, e: BaseException, timeout_s: float, refused_hint: str,
                    timeout_hint: str) -> str:
    """Say in one line why talking to `where` failed (the hints name the flag to check)."""
    import socket
    import ssl
    if isinstance(e, ssl.SSLCertVerificationError):
        return f"TLS certificate of {where} failed verification: {e.verify_message}"
    if isinstance(e, ssl.SSLError):
        return f"TLS error talking to {where}: {e.reason or e}"
    if isinstance(e, socket.gaierror):
        return f"cannot resolve {where}: check the URL and your network"
    if isinstance(e, ConnectionRefusedError):
        return f"cannot connect to {where}: connection refused ({refused_hint})"
    if isinstance(e, (socket.timeout, TimeoutError)):
        return f"{where} did not answer within {timeout_s:g} s ({timeout_hint})"
    if isinstance(e, OSError):
        return f"network error talking to {where}: {printable(e.strerror or e, 100)}"
    return f"{where} sent a malformed HTTP response ({type(e).__name__})"


class Watchdog:
    """Cuts off exchanges that pass their wall-clock deadline. A socket timeout bounds
    each read only, so a peer that drips a byte a second would hold one forever; at
    the deadline the watchdog shuts the connection's socket down, and the read in
    progress ends at once. One thread for the process, started on first use."""

    def __init__(self) -> None:
        import threading
        self._cond = threading.Condition()
        self._armed: dict[int, tuple[float, Any, list[bool]]] = {}
        self._next = 0
        self._thread: Any = None

    def arm(self, conn: Any, deadline: float) -> tuple[int, list[bool]]:
        """Watch an http.client connection until disarm(); the list becomes [True]
        if the deadline (time.monotonic()) cut it off."""
        import threading
        fired: list[bool] = []
        with self._cond:
            self._next += 1
            self._armed[self._next] = (deadline, conn, fired)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="convo-watchdog",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()
            return self._next, fired

    def disarm(self, ticket: tuple[int, list[bool]]) -> None:
        with self._cond:
            self._armed.pop(ticket[0], None)

    def _run(self) -> None:
        import signal
        import socket
        if hasattr(signal, "pthread_sigmask"):
            # Ctrl-C and SIGTERM must reach the main thread: the kernel may hand a signal
            # to any thread that does not block it, and the main thread, blocked in a read,
            # would then not notice it until the read ended (test_ctrl_c_during_send_…).
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        with self._cond:
            while True:
                now = time.monotonic()
                for ident, (deadline, conn, fired) in list(self._armed.items()):
                    if deadline <= now:
                        del self._armed[ident]
                        fired.append(True)
                        try:
                            if conn.sock is not None:
                                conn.sock.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                soonest = min((d for d, _, _ in self._armed.values()), default=None)
                self._cond.wait(None if soonest is None else max(soonest - now, 0.001))


WATCHDOG = Watchdog()


class _StaleConnection(Exception):
    """A pooled keep-alive connection that the server had closed: try a fresh one."""


class ApiClient:
    """Ask one Vonage API origin for JSON, over pooled keep-alive connections.

    Every request has a timeout and the client an overall deadline. 429 and 5xx
    are retried for GET and PUT (Retry-After honoured), never for a POST; the
    credential (an application token, or the account's Basic auth) is sent to the
    base URL's origin only; https is never downgraded; every failure becomes a
    ConvoError. Safe to share between threads: each connection is used by one at a
    time.
    """

    def __init__(self, base_url: str, token: str = "", *, timeout_s: float = HTTP_TIMEOUT_S,
                 deadline_s: float | None = None, auth_hint: str = "",
                 basic: tuple[str, str] | None = None) -> None:
        import logging
        import threading
        from urllib.parse import urlsplit
        parts = urlsplit(base_url)
        self.origin = (parts.scheme, parts.hostname or "", parts.port)
        self.prefix = parts.path.rstrip("/")
        self.token = token
        if basic:  # the account's API key and secret (RFC 7617)
            import base64
            pair = base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode("ascii")
            self.authorization, self.credential = f"Basic {pair}", "API key and secret"
        else:
            self.authorization, self.credential = f"Bearer {token}", "token"
        self.timeout_s = timeout_s
        self.deadline_s = GET_DEADLINE_S if deadline_s is None else deadline_s
        self.deadline = time.monotonic() + self.deadline_s
        self.auth_hint = auth_hint
        self.log = logging.getLogger("convo")
        self._idle: dict[tuple, list[Any]] = {}
        self._busy: set[Any] = set()  # connections with a request on them
        self._lock = threading.Lock()
        self._aborted = threading.Event()

    # -- connections --------------------------------------------------------

    def _acquire(self, origin: tuple) -> tuple[Any, bool]:
        with self._lock:
            idle = self._idle.get(origin)
            if idle:
                return idle.pop(), True
        return http_connection(origin, self.timeout_s), False

    def _release(self, origin: tuple, conn: Any) -> None:
        with self._lock:
            self._idle.setdefault(origin, []).append(conn)

    def close(self) -> None:
        with self._lock:
            for conns in self._idle.values():
                for conn in conns:
                    conn.close()
            self._idle.clear()

    def abort(self) -> None:
        """Stop every request now, from any thread (Ctrl-C): requests on the wire
        fail at once, retry waits end, and no new request starts."""
        import socket
        self._aborted.set()
        with self._lock:
            busy = list(self._busy)
        for conn in busy:
            try:
                if conn.sock is not None:
                    conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.close()

    # -- one exchange -------------------------------------------------------

    def url(self, path: str) -> str:
        scheme, host, port = self.origin
        return f"{scheme}://{host}{f':{port}' if port else ''}{self.prefix}{path}"

    def _exchange(self, origin: tuple, target: str, what: tuple = ("GET", None, None)
                  ) -> tuple[int, Any, bytes]:
        """Send one request (`what`: method, body, its Content-Type) and read the whole
        response; retry once on a stale pooled socket."""
        for fresh_retry in (False, True):
            if self._aborted.is_set():
                raise ConvoError("interrupted", EXIT_INTERRUPTED)
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise self._deadline_error()
            conn, reused = self._acquire(origin)
            with self._lock:
                self._busy.add(conn)
            try:
                return self._send(conn, reused and not fresh_retry, origin, target, left, what)
            except _StaleConnection:
                continue  # the server closed an idle keep-alive connection
            finally:
                with self._lock:
                    self._busy.discard(conn)
        raise AssertionError("unreachable")

    def _send(self, conn: Any, may_be_stale: bool, origin: tuple, target: str,
              left: float, what: tuple) -> tuple[int, Any, bytes]:
        """One request on one connection. Raises _StaleConnection when a reused
        connection turns out to have been closed by the server while idle."""
        conn.timeout = min(self.timeout_s, left)
        if conn.sock is not None:
            conn.sock.settimeout(conn.timeout)
        ticket = WATCHDOG.arm(conn, time.monotonic() + conn.timeout)
        try:
            return self._request(conn, may_be_stale, origin, target, what)
        except (ConvoError, _StaleConnection):
            if ticket[1]:  # cut off at the deadline: a peer that answers too slowly
                conn.close()
                if time.monotonic() >= self.deadline:
                    raise self._deadline_error() from None
                raise ConvoError(network_problem(self._where(origin), TimeoutError(),
                                                 conn.timeout, "", "see --timeout")) from None
            raise
        finally:
            WATCHDOG.disarm(ticket)

    def _request(self, conn: Any, may_be_stale: bool, origin: tuple, target: str,
                 what: tuple) -> tuple[int, Any, bytes]:
        import http.client
        method, data, content_type = what
        headers = {"Accept": "application/json", "User-Agent": f"convo.py/{__version__}"}
        if content_type:
            headers["Content-Type"] = content_type
        if origin == self.origin:  # never hand the credential to another host
            headers["Authorization"] = self.authorization
        try:
            if conn.sock is None:
                conn.connect()
            if self._aborted.is_set():  # abort() may have come while it connected
                conn.close()
                raise ConvoError("interrupted", EXIT_INTERRUPTED)
            conn.request(method, target, body=data, headers=headers)
            resp = conn.getresponse()
            body = self._read_body(resp, origin)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            conn.close()
            if self._aborted.is_set():
                raise ConvoError("interrupted", EXIT_INTERRUPTED) from None
            if may_be_stale:
                raise _StaleConnection from None
            raise ConvoError(f"{self._where(origin)} closed the connection "
                             f"without answering") from None
        except ConvoError:
            conn.close()
            raise
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            if self._aborted.is_set():
                raise ConvoError("interrupted", EXIT_INTERRUPTED) from None
            if isinstance(e, OSError) and time.monotonic() >= self.deadline:
                raise self._deadline_error() from None  # the deadline cut its timeout
            raise ConvoError(network_problem(self._where(origin), e, self.timeout_s,
                                             "check --api-url", "see --timeout")) from None
        if resp.will_close:
            conn.close()
        else:
            self._release(origin, conn)
        return resp.status, resp.headers, body

    def _deadline_error(self) -> ConvoError:
        return ConvoError(f"gave up: no answer within the overall deadline of "
                          f"{self.deadline_s:g} s")

    def _read_body(self, resp: Any, origin: tuple) -> bytes:
        import http.client
        length = resp.getheader("Content-Length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            raise ConvoError(f"{self._where(origin)} sent a response of {int(length)} bytes, "
                             f"over the {MAX_BODY_BYTES >> 20} MiB limit")
        try:
            body = resp.read(MAX_BODY_BYTES + 1)
        except http.client.IncompleteRead as e:
            raise ConvoError(f"{self._where(origin)} sent a truncated response "
                             f"({len(e.partial)} bytes, then the connection ended)") from None
        if len(body) > MAX_BODY_BYTES:
            raise ConvoError(f"{self._where(origin)} sent a response over the "
                             f"{MAX_BODY_BYTES >> 20} MiB limit")
        if resp.length:  # read(amt) returns a short body quietly when the peer hangs up
            raise ConvoError(f"{self._where(origin)} sent a truncated response "
                             f"({len(body)} of {length} bytes, then the connection ended)")
        return body

    def _where(self, origin: tuple) -> str:
        scheme, host, port = origin
        return f"{host}:{port}" if port else host

    # -- GET with redirects and retries --------------------------------------

    def get(self, path: str) -> Any:
        """GET a path under the base URL and return its JSON.

        Raises ConvoError with .status set when the API answers with an error.
        """
        return self.call("GET", path)

    def call(self, method: str, path: str, data: bytes | None = None,
             content_type: str | None = None) -> Any:
        """Send a request to a path under the base URL and return its JSON (None for
        an empty body). Redirects are followed for GET only.

        Raises ConvoError with .status set when the API answers with an error.
        """
        import random
        origin, target = self.origin, self.prefix + path
        what = (method, data, content_type)
        redirects = 0
        attempt = 1
        while True:
            started = time.monotonic()
            status, headers, body = self._exchange(origin, target, what)
            self.log.debug("%s %s://%s%s -> %d (%.0f ms)", method, origin[0],
                           self._where(origin), printable(target, None), status,
                           (time.monotonic() - started) * 1000)
            if status in (301, 302, 303, 307, 308) and headers.get("Location") \
                    and method == "GET":
                redirects += 1
                here = f"{origin[0]}://{self._where(origin)}{target}"
                there = split_url(headers["Location"], here)
                if there is None:
                    raise ConvoError(f"GET {printable(target)}: a redirect to "
                                     f"'{printable(headers['Location'], 80)}', not a URL")
                if origin[0] == "https" and there.scheme != "https":
                    raise ConvoError(f"refusing a redirect from https to {there.scheme}: "
                                     f"{printable(there.geturl(), 100)}")
                if there.scheme not in ("http", "https") or redirects > MAX_REDIRECTS:
                    raise ConvoError(f"too many or unusable redirects for GET {target}")
                origin = (there.scheme, there.hostname or "", there.port)
                target = there.path + (f"?{there.query}" if there.query else "")
                continue
            if (status == 429 or 500 <= status <= 599) and method != "POST":
                wait = parse_retry_after(headers.get("Retry-After"), time.time())
                why = f"HTTP {status}" + (f" ({api_problem(body)})" if api_problem(body) else "")
                if wait is not None and wait > MAX_RETRY_AFTER_S:
                    raise ConvoError(f"GET {printable(target)}: {why}; the API asks to retry "
                                     f"after {wait:.0f} s, over the {MAX_RETRY_AFTER_S:g} s "
                                     f"convo waits: try again later", status=status)
                if attempt >= MAX_ATTEMPTS:
                    raise ConvoError(f"GET {printable(target)}: {why} after {attempt} "
                                     f"attempts: try again later", status=status)
                if wait is None:
                    wait = backoff_s(attempt, random.random())
                if time.monotonic() + wait > self.deadline:
                    raise ConvoError(f"GET {printable(target)}: {why}; no time left to "
                                     f"retry within {self.deadline_s:g} s", status=status)
                self.log.info("GET %s: %s; retrying in %.2f s", printable(target), why, wait)
                if self._aborted.wait(wait):
                    raise ConvoError("interrupted", EXIT_INTERRUPTED)
                attempt += 1
                continue
            if status >= 400:
                raise self._status_error(status, f"{method} {printable(target)}", body)
            if not 200 <= status < 300:
                raise ConvoError(f"{method} {printable(target)}: unexpected HTTP {status}",
                                 status=status)
            if not body.strip() and method != "GET":
                return None
            try:
                return loads(body)
            except ValueError:
                kind = headers.get("Content-Type") or "no Content-Type"
                start = printable(body[:60].decode("utf-8", "replace"), 60)
                raise ConvoError(f"GET {printable(target)}: the API sent non-JSON "
                                 f"({printable(kind, 60)}) starting '{start}'") from None

    def _status_error(self, status: int, request: str, body: bytes) -> ConvoError:
        problem = api_problem(body)
        said = f"HTTP {status}" + (f" {problem}" if problem else "")
        if status in (401, 403):
            return ConvoError(f"the API rejected the {self.credential} ({said}). "
                              f"{self.auth_hint}".strip(), status=status)
        kind = NotFound if status == 404 else ConvoError
        return kind(f"{request}: {said}", status=status)

    def pages(self, path: str, items: Any = lambda page: [page]) -> list[Any]:
        """GET a list and every page after it, following `_links.next` on our own
        origin; return the items that `items(page)` finds in them (by default, the
        pages). At most MAX_PAGES pages and MAX_ITEMS items: an API that pages
        forever is stopped with a warning, not followed until memory runs out.

        A `next` that repeats a page ends the loop (some responses have next == self).
        """

        def local(href: str) -> str:
            """A link as a path on our own origin: only the path and cursor count,
            so the token never follows a link to another host."""
            parts = split_url(href)
            if parts is None:
                raise ConvoError(f"GET {printable(path)}: the API's next link "
                                 f"'{printable(href, 80)}' is not a URL")
            rel = parts.path[len(self.prefix):] if parts.path.startswith(
                self.prefix + "/") else parts.path
            if not rel.startswith("/v1/"):
                rel = "/v1" + rel  # the Voice API's links leave out its version
            return rel + (f"?{parts.query}" if parts.query else "")

        seen: set[str] = set()
        out: list[Any] = []
        while path not in seen:
            if len(seen) >= MAX_PAGES or len(out) >= MAX_ITEMS:
                warn(f"stopped after {len(seen)} pages and {len(out)} items of "
                     f"{printable(path.split('?')[0], 100)}: more than convo.py reads")
                break
            seen.add(path)
            page = self.get(path)
            out.extend(items(page))
            this, nxt = link(page, "self"), link(page, "next")
            if this:
                seen.add(local(this))
            if nxt is None:
                break
            path = local(nxt)
        return out


class ctrl_c_aborts:
    """Within it, Ctrl-C aborts the clients' requests in flight instead of
    raising KeyboardInterrupt in the middle of whatever the main thread runs (inside
    concurrent.futures' locks, it could leave one held and hang the pool); the
    KeyboardInterrupt is raised when the block has ended. Only in the main thread."""

    def __init__(self, *clients: ApiClient) -> None:
        self.clients, self.interrupted = clients, 0
        self.previous: dict[int, Any] = {}

    def _handler(self, signum: int, frame: Any) -> None:
        self.interrupted = self.interrupted or signum
        for client in self.clients:
            client.abort()

    def __enter__(self) -> ctrl_c_aborts:
        import signal
        if threading_is_main():  # SIGTERM too, which ends a command as Ctrl-C does
            self.previous = {sig: signal.signal(sig, self._handler)
                             for sig in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        import signal
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        if self.interrupted:
            raise (Terminated if self.interrupted == signal.SIGTERM else KeyboardInterrupt
                   ) from None


def wait_for(future: Any) -> Any:
    """future.result(), waiting in short slices. The kernel may deliver Ctrl-C's SIGINT
    to any thread, and Python runs the handler only when the main thread runs: a
    main thread blocked with no timeout would not notice it until a request ended
    (test_ctrl_c_ends_get_mid_request, under load)."""
    from concurrent.futures import wait
    while not future.done():
        wait([future], timeout=0.1)
    return future.result()


def check_api_options(args: argparse.Namespace) -> None:
    """The ranges of the API options that calls, get and serve --watch share: --timeout,
    and --interval where the command has it. Raises ConvoError (exit 2)."""
    if not 0 < args.timeout <= GET_DEADLINE_S:
        raise ConvoError(f"--timeout must be more than 0 and at most {GET_DEADLINE_S:g} s",
                         EXIT_USAGE)
    interval = getattr(args, "interval", MIN_INTERVAL_S)
    if not MIN_INTERVAL_S <= interval <= MAX_INTERVAL_S:
        raise ConvoError(f"--interval must be {MIN_INTERVAL_S:g} to {MAX_INTERVAL_S:g} seconds",
                         EXIT_USAGE)


# ############################################################################
# 4. Conversation documents: normalise every shape, then the tree and the timeline
# ############################################################################

# -- normalise (pure) ----------------------------------------------------------

# Three shapes reach us: the legacy beta/v0.1 conversation
# with embedded `members` (member_id, user_id, name), v1 full member objects
# (id, _embedded.user, ...), and a bare v1 conversation without members.
# Everything is normalised to one shape first, so rendering has one input.
_CHANNEL_OPTIONS = ("ring_timeout", "max_length", "cpa", "cpa_time", "preanswer")


_ENDPOINT_KEYS = ("number", "uri", "user", "extension", "id")  # id: viber, messenger


def normalize_endpoint(value: Any) -> dict[str, Any] | None:
    """An endpoint: its type and address. A message channel's `from` may list the types
    it takes, as a list or as its `type` (Vonage's docs show no example: read either)."""
    e = {"type": value} if isinstance(value, list) else _dict(value)
    kind = e.get("type")
    kinds = ", ".join(filter(None, map(_scalar, kind))) if isinstance(kind, list) else None
    out = _prune({"type": kinds or _scalar(kind), "types": kinds,
                  **{k: _scalar(e.get(k)) for k in _ENDPOINT_KEYS}})
    return out or None


def normalize_channel(value: Any) -> dict[str, Any] | None:
    c = _dict(value)
    if not c:
        return None
    legs: list[str] = []
    for leg in [c.get("leg_id"), *_list(c.get("leg_ids"))]:
        leg = _scalar(leg)
        if leg and leg not in legs:
            legs.append(leg)
    out = {"type": _scalar(c.get("type")), "id": _scalar(c.get("id")),
           "from": normalize_endpoint(c.get("from")), "to": normalize_endpoint(c.get("to")),
           "leg_ids": legs}
    out.update({k: c[k] for k in _CHANNEL_OPTIONS
                if isinstance(c.get(k), (int, float, bool))})
    return _prune(out)


def normalize_member(value: Any) -> dict[str, Any]:
    m = _dict(value)
    user = _dict(_dict(m.get("_embedded")).get("user"))
    stamps = _dict(m.get("timestamp"))
    return _prune({
        "id": _scalar(m.get("id")) or _scalar(m.get("member_id")),
        "state": _scalar(m.get("state")),
        "user": _prune({
            "id": _scalar(user.get("id")) or _scalar(m.get("user_id")),
            "name": (_scalar(user.get("name")) or _scalar(m.get("name"))
                     or _scalar(m.get("user_name"))),
            "display_name": _scalar(user.get("display_name")),
        }),
        "timestamp": _prune({k: _scalar(stamps.get(k)) for k in ("invited", "joined", "left")}),
        "invited_by": _scalar(m.get("invited_by")),
        "channel": normalize_channel(m.get("channel")),
        "media": _dict(m.get("media")),
        "initiator": _dict(m.get("initiator")),
        "detail_missing": m.get("_detail_missing") is True or None,
    })


def normalize_conversation(doc: Any) -> dict[str, Any]:
    """Return one shape for a legacy (beta/v0.1) or v1 conversation document.

    `members` is None when the document holds no members list at all.
    """
    d = _dict(doc)
    props = _dict(d.get("properties"))
    members = d.get("members")
    seq = d.get("sequence_number")
    conv = _prune({
        "id": _scalar(d.get("id")) or _scalar(d.get("uuid")),
        "name": _scalar(d.get("name")),
        "display_name": _scalar(d.get("display_name")),
        "state": _scalar(d.get("state")),
        "timestamp": _prune({k: _scalar(_dict(d.get("timestamp")).get(k))
                             for k in ("created", "updated", "destroyed")}),
        "sequence_number": seq if is_int(seq) and seq >= 0 else (
            int(seq) if isinstance(seq, str) and seq.isascii() and seq.isdigit() else None),
        "ttl": _number(props.get("ttl")),
    })
    conv["members"] = ([normalize_member(m) for m in members]
                       if isinstance(members, list) else None)
    for key in ("events", "legs"):  # added by get --events / --legs
        if isinstance(d.get(key), list):
            conv[key] = [x for x in d[key] if isinstance(x, dict)]
    return conv


def members_of(page: Any) -> list[Any]:
    return _list(_dict(_dict(page).get("_embedded")).get("members"))


def events_of(page: Any) -> list[Any]:
    """A page of events: `_embedded` is a list (the spec) or {"events": [...]} (the live API)."""
    embedded = _dict(page).get("_embedded")
    return embedded if isinstance(embedded, list) else _list(_dict(embedded).get("events"))


def legs_of(page: Any) -> list[Any]:
    """A page of the Voice API's calls: each is one leg of a conversation."""
    return _list(_dict(_dict(page).get("_embedded")).get("calls"))


def link(page: Any, name: str) -> str | None:
    """A list page's `_links.<name>.href` ("self", "next"), or None."""
    href = _dict(_dict(_dict(page).get("_links")).get(name)).get("href")
    return href if isinstance(href, str) and href else None

# -- the tree and the timeline (pure) ------------------------------------------

def _endpoint_text(endpoint: dict[str, Any] | None) -> str:
    """An endpoint's address, else the types a message channel takes, else '?'."""
    e = endpoint or {}
    return next((e[k] for k in _ENDPOINT_KEYS if e.get(k)), e.get("types") or "?")


def _party(value: Any) -> str:
    """A number or URI from a webhook's or a call's from/to (text, or an endpoint object)."""
    if isinstance(value, dict):
        return _endpoint_text(normalize_endpoint(value))
    return printable(value, 60) if _scalar(value) else "-"


def _when(stamp: str | None, day: str | None) -> str | None:
    """Show a member's time as '09:26:30.334', with its date when not the conversation's day."""
    dt = parse_time(stamp)
    if dt is None:
        return stamp
    clock = format_clock(dt)
    return clock if dt.strftime("%Y-%m-%d") == day else f"{dt:%Y-%m-%d} {clock}"


def _user_text(user: dict[str, Any], style: Style) -> str | None:
    uid, name, display = user.get("id"), user.get("name"), user.get("display_name")
    label = name or uid
    if label is None:
        return None
    if display and display != label:
        label = f'{label} "{display}"'
    if uid and label != uid:
        label += f" ({uid[:13]}{style.more})"
    return label


def _channel_lines(channel: dict[str, Any], style: Style) -> tuple[str, list[str]]:
    kind = channel.get("type") or "unknown"
    head = f"{kind} channel"
    if channel.get("id"):
        head += f" {channel['id']}"
    head += (f": {_endpoint_text(channel.get('from'))} {style.arrow} "
             f"{_endpoint_text(channel.get('to'))}")
    extras = []
    if isinstance(channel.get("ring_timeout"), (int, float)):  # ms; NCCO's timeout is in s
        extras.append(f"ring timeout {channel['ring_timeout'] / 1000:g} s")
    if isinstance(channel.get("max_length"), (int, float)):
        extras.append(f"max length {format_span(channel['max_length'] / 1000, ' ')}")
    return style.sep.join([head, *extras]), channel.get("leg_ids", [])


def describe_leg(leg: dict[str, Any], style: Style) -> str:
    """A Voice API leg: 'answered · inbound · 447700000001 → 447700000002 · started … · 311 s'."""
    parts = [style.state(printable(leg.get("status") or "?", 20))]
    if _scalar(leg.get("direction")):
        parts.append(printable(leg["direction"], 20))
    parts.append(f"{_party(leg.get('from'))} {style.arrow} {_party(leg.get('to'))}")
    started = parse_time(leg.get("start_time"))
    if started:
        parts.append(f"started {format_clock(started)[:8]}")
    if _number(leg.get("duration")) is not None:
        parts.append(f"{_number(leg['duration']):g} s")
    return style.sep.join(parts)


def render_tree(conv: dict[str, Any], style: Style) -> list[str]:
    """Render a normalised conversation as the tree of members, channels and legs."""
    p = style.paint
    created = parse_time(_dict(conv.get("timestamp")).get("created"))
    day = created.strftime("%Y-%m-%d") if created else None
    title = f"Conversation {p(conv.get('id') or '(no id)', 'bold', 'cyan')}"
    if conv.get("state"):
        title += f"  {style.state(conv['state'])}"
    lines = [title]
    facts = []
    if conv.get("name") and conv["name"] != conv.get("id"):
        facts.append(f"name {conv['name']}")
    if conv.get("display_name"):
        facts.append(f"display name {conv['display_name']}")
    if created:
        facts.append(f"created {format_utc(created)}")
    if "sequence_number" in conv:
        facts.append(f"sequence {conv['sequence_number']}")
    if conv.get("ttl") is not None:
        facts.append(f"ttl {format_span(conv['ttl'])}")
    if facts:
        lines.append("  " + p(style.sep.join(facts), "dim"))

    members = conv.get("members")
    if members is None:
        target = conv.get("id") or f"CON-{style.more}"
        lines.append("This document holds no members: the Conversation API v1 lists them "
                     "separately.")
        lines.append(f"Run `{PROG} get {target}` while the call is live to see them.")
        return lines

    states: dict[str, int] = {}
    kinds: dict[str, int] = {}
    legs = 0
    calls = {c.get("uuid"): c for c in conv.get("legs") or [] if _scalar(c.get("uuid"))}
    shown: set[str] = set()
    for i, member in enumerate(members):
        last = i == len(members) - 1
        branch, cont = (style.last, "   ") if last else (style.tee, style.pipe)
        state = member.get("state") or "UNKNOWN"
        states[state] = states.get(state, 0) + 1
        lines.append(f"{branch}Member {p(member.get('id') or '(no id)', 'bold')}  "
                     f"{style.state(state)}")
        facts = []
        user = _user_text(member.get("user", {}), style)
        if user:
            facts.append(f"user {user}")
        for key in ("invited", "joined", "left"):
            when = _when(member.get("timestamp", {}).get(key), day)
            if when:
                facts.append(f"{key} {when}")
        if facts:
            lines.append(f"{cont}  " + p(style.sep.join(facts), "dim"))
        if member.get("detail_missing"):
            lines.append(f"{cont}  " + p("(left the call before its details could be fetched)",
                                         "yellow"))
        channel = member.get("channel")
        if not channel:
            continue
        kind = channel.get("type") or "unknown"
        kinds[kind] = kinds.get(kind, 0) + 1
        head, leg_ids = _channel_lines(channel, style)
        lines.append(f"{cont}{style.last}{head}")
        if not leg_ids and channel.get("id") in calls:
            leg_ids = [channel["id"]]  # v1 may give the leg only as the channel's id
        for j, leg in enumerate(leg_ids):
            glyph = style.last if j == len(leg_ids) - 1 else style.tee
            call = calls.get(leg)
            lines.append(f"{cont}   {glyph}leg {leg}"
                         + (f"{style.sep}{describe_leg(call, style)}" if call else ""))
            shown.add(leg)
            legs += 1

    def counted(n: int, noun: str, parts: dict[str, int]) -> str:
        text = f"{n} {noun}{'' if n == 1 else 's'}"
        if parts:
            text += " (" + ", ".join(f"{v} {k}" for k, v in parts.items()) + ")"
        return text

    unmatched = [c for uuid, c in calls.items() if uuid not in shown]
    if unmatched:
        lines.append("Legs on no member's channel:")
        lines.extend(f"  leg {printable(c['uuid'], 60)}{style.sep}{describe_leg(c, style)}"
                     for c in unmatched)
    lines.append(style.sep.join([
        "1 conversation", counted(len(members), "member", states),
        counted(sum(kinds.values()), "channel", kinds), counted(legs, "leg", {})]))
    return lines


def describe_conversation_event(event: dict[str, Any], style: Style) -> str:
    """Say what a conversation event means: 'joined via phone 447700000001 → 447700000002'."""
    kind = _scalar(event.get("type")) or "(no type)"
    body = _dict(event.get("body"))
    channel = normalize_channel(body.get("channel")) or {}
    ends = (f"{_endpoint_text(channel.get('from'))} {style.arrow} "
            f"{_endpoint_text(channel.get('to'))}")
    if kind in ("member:joined", "member:invited"):
        return f"{kind[7:]} via {channel.get('type') or 'unknown'} {ends}" if channel else kind[7:]
    if kind == "member:left":
        return "left"
    if kind == "member:media":
        media = _dict(body.get("media"))
        audio = body.get("audio", media.get("audio"))
        settings = _dict(media.get("audio_settings"))
        flags = [k for k in ("muted", "earmuffed") if settings.get(k) is True]
        text = "audio on" if audio is True else "audio off" if audio is False else "media changed"
        return text + (f" ({', '.join(flags)})" if flags else "")
    if kind == "sip:ringing":
        return f"ringing {_endpoint_text(channel.get('to'))}"
    if kind == "sip:answered":
        return f"answered ({printable(body.get('direction') or '?', 20)})"
    if kind == "sip:hangup":
        reason = _dict(body.get("reason"))
        why = ", ".join(printable(x, 60) for x in (reason.get("text"), reason.get("sip_code"))
                        if _scalar(x))
        return "hung up" + (f" ({why})" if why else "")
    if kind in ("sip:status", "leg:status:update"):
        return f"status {printable(body.get('status') or '?', 30)}"
    if kind == "message" and _scalar(body.get("text")):
        return f"text: {printable(body['text'], 60)}"
    # Anything else, shown in a generic form rather than dropped.
    scalars = [f"{printable(k, 30)}={printable(v, 30)}" for k, v in body.items()
               if isinstance(v, (str, int, float, bool)) and k != "channel"]
    return " ".join(scalars[:4]) or "-"


def channel_owner(event: dict[str, Any], members: list[dict[str, Any]]
                  ) -> tuple[str, dict[str, Any] | None]:
    """The channel an event is about (its ID, or '') and the member it belongs to."""
    channel_id = _scalar(_dict(_dict(event.get("body")).get("channel")).get("id")) or ""
    for member in members:
        channel = member.get("channel") or {}
        if channel_id and channel_id in (channel.get("id"), *channel.get("leg_ids", [])):
            return channel_id, member
    return channel_id, None


def unowned_channel(event: dict[str, Any], members: list[dict[str, Any]]) -> bool:
    """Whether an event is on a channel that none of `members` has."""
    channel_id, owner = channel_owner(event, members)
    return bool(channel_id) and owner is None


def event_member(event: dict[str, Any], members: list[dict[str, Any]]
                 ) -> dict[str, Any] | None:
    """The member an event is about: the owner of its channel, else who caused it."""
    owner = channel_owner(event, members)[1]
    if owner:
        return owner
    sender = _scalar(event.get("from"))
    return next((m for m in members if sender and m.get("id") == sender), None)


def timeline_row(event: dict[str, Any], members: list[dict[str, Any]], style: Style
                 ) -> tuple[str, ...]:
    """One event as the timeline shows it: ID, time, member, type, what happened."""
    member = event_member(event, members)
    who = (_dict(member.get("user")).get("name") or member.get("id")) if member else (
        _scalar(event.get("from")) or "-")
    when = parse_time(event.get("timestamp"))
    return (printable(_scalar(event.get("id")) or "-", 12),
            format_clock(when) if when else "-", printable(who, 60),
            printable(_scalar(event.get("type")) or "-", 40),
            describe_conversation_event(event, style))


TIMELINE_HEADERS = ("ID", "TIME", "MEMBER", "TYPE", "WHAT")


def render_timeline(conv: dict[str, Any], style: Style) -> list[str]:
    """The conversation's events as a table: ID, time, member, type, what happened."""
    members = conv.get("members") or []
    rows = [timeline_row(e, members, style) for e in conv.get("events") or []
            if isinstance(e, dict)]
    title = f"Events ({len(rows)})" if rows else "Events: none"
    return [style.paint(title, "bold"), *format_table(TIMELINE_HEADERS, rows, style)
            ] if rows else [title]


def render_document(conv: dict[str, Any], style: Style) -> list[str]:
    """The tree, and below it the event timeline when the document has events."""
    lines = render_tree(conv, style)
    if "events" in conv:
        lines += ["", *render_timeline(conv, style)]
    return lines


def short_id(text: Any, style: Style, keep: int = 8) -> str:
    """A long ID shortened for a log line: 'CON-bc643220…', '30cecc87…'."""
    text = printable(text, None)
    head = 4 + keep if text[:4] in ("CON-", "MEM-", "USR-") else keep
    return text if len(text) <= head + 1 else text[:head] + style.more

# -- a conversation from its events alone (pure) -------------------------------

#: What a leg's status is after an event of these types (the others that speak of a
#: leg say it in body.status: sip:status, rtc:status, leg:status:update).
_LEG_STATUS_BY_TYPE = {"sip:ringing": "ringing", "rtc:ringing": "ringing",
                       "sip:answered": "answered", "rtc:answered": "answered",
                       "sip:hangup": "completed", "rtc:hangup": "completed",
                       "sip:machine": "machine", "sip:amd_machine": "machine"}
_MEMBER_STATE_BY_TYPE = {"member:invited": "INVITED", "member:joined": "JOINED",
                         "member:left": "LEFT"}


def event_conversation_id(event: dict[str, Any]) -> str | None:
    """The conversation an RTC event belongs to: conversation_id, else cid."""
    return _scalar(event.get("conversation_id")) or _scalar(event.get("cid"))


def odd_event(event: Any) -> str | None:
    """Why an event cannot go into a tree (it is still saved and shown), or None."""
    if not isinstance(event, dict):
        return "not a JSON object"
    if not event_conversation_id(event):
        return "no conversation_id"
    if not _scalar(event.get("type")):
        return "no type"
    if not is_int(event.get("id")):
        return "no integer id"
    if "body" in event and not isinstance(event["body"], dict):
        return "its body is not an object"
    return None


class EventConversation:
    """A conversation built from its events alone, as the RTC event webhook pushes
    them (serve), the events API lists them (get --watch) or a log keeps them (show):
    members by member ID (body.member_id, else the channel's owner, else `from`),
    each with its channel and legs (leg_ids or legs[] in member:* bodies), a leg's
    status (leg:status:update, sip:*, rtc:*), media (member:media), and the end
    (every member left, or conversation:deleted).

    Events come out of order and twice: a repeated id is applied once, and each
    thing an event sets (a member's state, user, channel or media, a leg's status)
    is kept from the event with the highest id that set it, so a late event lands in
    its place whatever the order, in constant time (bench/rtc.py: 32 connections
    deliver out of order all the time). add() returns what changed, as the watch
    says it."""

    def __init__(self, conv_id: str) -> None:
        self.id = conv_id
        self.events: dict[int, dict[str, Any]] = {}
        self.members: dict[str, dict[str, Any]] = {}
        self.legs: dict[str, dict[str, Any]] = {}
        self.deleted = False
        self._set_by: dict[tuple[str, str], int] = {}  # (member or leg, field) -> event id
        self._first: dict[str, int] = {}  # member or leg -> the lowest id naming it: its place

    @property
    def ended(self) -> bool:
        return self.deleted or bool(self.members) and all(
            m.get("state") == "LEFT" for m in self.members.values())

    def add(self, event: dict[str, Any]) -> list[tuple[str, Any, Any]] | None:
        """Apply one event (odd_event() must be None for it); None for an id seen
        before, else the changes: ('member'|'leg', before or None, after)."""
        ident = event["id"]
        if ident in self.events:
            return None
        self.events[ident] = event
        return self._apply(event, ident)

    def _newer(self, owner: str, field: str, ident: int) -> bool:
        """Whether event `ident` is the latest yet to set this field (it then has)."""
        key = (owner, field)
        if self._set_by.get(key, 0) > ident:
            return False
        self._set_by[key] = ident
        return True

    def _member(self, event: dict[str, Any], body: dict[str, Any], ident: int
                ) -> dict[str, Any] | None:
        member_id = _scalar(body.get("member_id"))
        if not member_id:
            owner = channel_owner(event, list(self.members.values()))[1]
            if owner:
                return owner
            member_id = _scalar(event.get("from"))
            known = self.members.get(member_id or "")
            user = _scalar(_dict(body.get("user")).get("id"))
            if known and user and _dict(known.get("user")).get("id") not in (None, user):
                member_id = user  # `from` is who caused it; this is another's join
        if not member_id:
            return None
        self._first[member_id] = min(self._first.get(member_id, ident), ident)
        return self.members.setdefault(member_id, {"id": member_id})

    def _apply(self, event: dict[str, Any], ident: int) -> list[tuple[str, Any, Any]]:
        kind = event.get("type") or ""
        body = _dict(event.get("body"))
        changes: list[tuple[str, Any, Any]] = []
        if kind == "conversation:deleted":
            self.deleted = True
        member = self._member(event, body, ident) if kind.startswith("member:") else None
        if member is not None:
            mid = member["id"]
            old = dict(member) if len(member) > 1 else None
            state = _MEMBER_STATE_BY_TYPE.get(kind)
            if state and self._newer(mid, "state", ident):
                member["state"] = state
            user = _dict(body.get("user"))
            if user and self._newer(mid, "user", ident):
                member["user"] = _prune({"id": _scalar(user.get("id")),
                                         "name": _scalar(user.get("name"))})
            channel = normalize_channel(body.get("channel"))
            if channel and self._newer(mid, "channel", ident):
                member["channel"] = channel
            for leg in _list(_dict(body.get("channel")).get("legs")):
                leg_id = _scalar(_dict(leg).get("leg_id"))
                if leg_id:
                    changes += self._leg(leg_id, _scalar(_dict(leg).get("status")), None,
                                         channel, ident)
            stamp = _scalar(_dict(body.get("timestamp")).get(state.lower())) if state else None
            if stamp:
                member.setdefault("timestamp", {})[state.lower()] = stamp
            if kind == "member:media" and self._newer(mid, "media", ident):
                member["media"] = _dict(body.get("media")) or {"audio": body.get("audio")}
            if old is None or old.get("state") != member.get("state"):
                changes.append(("member", old, dict(member)))
        leg_id = _scalar(body.get("leg_id")) if kind == "leg:status:update" else (
            _scalar(_dict(body.get("channel")).get("id")))
        status = _LEG_STATUS_BY_TYPE.get(kind) or (
            _scalar(body.get("status")) if kind in ("sip:status", "rtc:status",
                                                    "leg:status:update") else None)
        if leg_id and (status or kind.startswith(("sip:", "rtc:"))):
            changes += self._leg(leg_id, status, _scalar(body.get("direction")),
                                 normalize_channel(body.get("channel")), ident)
        return changes

    def _leg(self, leg_id: str, status: str | None, direction: str | None,
             channel: dict[str, Any] | None, ident: int) -> list[tuple[str, Any, Any]]:
        leg = self.legs.setdefault(leg_id, {"uuid": leg_id})
        self._first[leg_id] = min(self._first.get(leg_id, ident), ident)
        old = dict(leg) if "status" in leg else None
        if status and self._newer(leg_id, "status", ident):
            leg["status"] = status
        if direction:
            leg.setdefault("direction", direction)
        for end in ("from", "to"):
            number = _dict(_dict(channel).get(end)).get("number")
            if number and end not in leg:
                leg[end] = {"type": "phone", "number": number}
        return [("leg", old, dict(leg))] if "status" in leg and (
            old is None or old.get("status") != leg["status"]) else []

    def document(self) -> dict[str, Any]:
        """The conversation in the API's field names, as normalize_conversation makes
        them: state ACTIVE or ENDED, its members, its legs (as the Voice API's calls)
        and its events in id order."""
        place = self._first.get
        return {"id": self.id, "state": "ENDED" if self.ended else "ACTIVE",
                "members": [copy_json(m) for m in sorted(self.members.values(),
                                                          key=lambda m: place(m["id"], 0))],
                "legs": [dict(leg) for leg in sorted(self.legs.values(),
                                                     key=lambda leg: place(leg["uuid"], 0))],
                "events": [self.events[k] for k in sorted(self.events)]}


def build_conversations(events: Iterable[Any]) -> tuple[dict[str, EventConversation],
                                                         list[tuple[Any, str]]]:
    """Conversations from their events alone, in order of first appearance, and the
    odd events that cannot go into one, with why."""
    conversations: dict[str, EventConversation] = {}
    odd: list[tuple[Any, str]] = []
    for event in events:
        why = odd_event(event)
        if why:
            odd.append((event, why))
            continue
        conv_id = event_conversation_id(event) or ""
        built = conversations.get(conv_id)
        if built is None:
            built = conversations[conv_id] = EventConversation(conv_id)
        built.add(event)
    return conversations, odd

# -- fetching one --------------------------------------------------------------

def fetch_conversation(client: ApiClient, conv_id: str, *,
                       concurrency: int = DEFAULT_CONCURRENCY, events: bool = False,
                       legs: bool = False, conv: Any = None) -> dict[str, Any]:
    """Assemble a v1 conversation with `members` set to the full member objects.

    The conversation (unless it was fetched already: `conv`), the member list and
    (when asked) the events and the Voice API legs are fetched at once, then every
    member's detail in a bounded pool; the order of members is the API's, whatever
    the pool.
    """
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import quote
    base = f"/v1/conversations/{quote(conv_id, safe='')}"

    def detail(entry: Any) -> Any:
        mid = _scalar(_dict(entry).get("id"))
        if not mid:
            return entry
        try:
            return client.get(f"{base}/members/{quote(mid, safe='')}")
        except NotFound:
            return {**_dict(entry), "_detail_missing": True}  # it left between list and detail

    def listed(path: str, items: Any) -> list[Any]:
        return client.pages(path, items)

    def result(future: Any) -> Any:
        try:
            return wait_for(future)
        except NotFound:  # on any of these: the conversation is gone
            raise not_found(conv_id, client) from None

    pool = ThreadPoolExecutor(max_workers=concurrency)
    with ctrl_c_aborts(client):
        try:
            conv_f = pool.submit(client.get, base) if conv is None else None
            members_f = pool.submit(listed, f"{base}/members?page_size={PAGE_SIZE}", members_of)
            extra = {}
            if events:
                extra["events"] = pool.submit(listed, f"{base}/events?page_size={PAGE_SIZE}",
                                              events_of)
            if legs:
                extra["legs"] = pool.submit(
                    listed, f"/v1/calls?conversation_uuid={quote(conv_id, safe='')}"
                            f"&page_size={PAGE_SIZE}", legs_of)
            conv = result(conv_f) if conv_f else conv
            if not isinstance(conv, dict):
                raise ConvoError(f"GET {base}: expected a JSON object, got a JSON "
                                 f"{json_type(conv)}")
            if not isinstance(conv.get("members"), list):  # legacy documents embed them
                details = [pool.submit(detail, entry) for entry in result(members_f)]
                conv = {**conv, "members": [wait_for(f) for f in details]}
            for key, future in extra.items():
                conv[key] = result(future)
            return conv
        except BaseException:
            client.abort()  # Ctrl-C or a failure: the requests still running end now
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def not_found(conv_id: str, client: ApiClient) -> NotFound:
    where = client.url("")
    return NotFound(
        f"conversation {conv_id} not found at {where}: a call's conversation disappears "
        f"when the call ends, and a call lives in one region; try --api-url with the "
        f"region_url that serve logged", status=404)


# ############################################################################
# 5. Hosts and regions: where a conversation or call lives
# ############################################################################

REGIONAL_URLS = ("https://api-us-3.vonage.com", "https://api-us-4.vonage.com",
                 "https://api-eu-3.vonage.com", "https://api-eu-4.vonage.com",
                 "https://api-ap-3.vonage.com", "https://api-ap-4.vonage.com")

REGIONS_FILE = "regions.json"     # which host had which conversation or call


def read_regions() -> dict[str, Any]:
    """The hosts where get found conversations and calls before, by ID."""
    try:
        text = read_own_file(os.path.join(state_dir(), REGIONS_FILE), MAX_CREDENTIALS_BYTES,
                             "the regions file")
        return _dict(loads(text)) if text else {}
    except (ConvoError, ValueError):
        return {}


def remember_region(ident: str, host: str) -> None:
    """Remember where an ID was found (the 100 latest), so the next get asks there first.
    Another convo.py may be doing the same: the file is read, changed and replaced
    under a lock, so neither loses the other's entries."""
    directory = state_dir()
    try:
        check_state_dir(directory)
        with _locked(os.path.join(directory, f".{REGIONS_FILE}.lock")):
            regions = {k: v for k, v in read_regions().items() if k != ident}
            regions[ident] = host
            write_state_file(directory, REGIONS_FILE,
                             dump_json(dict(list(regions.items())[-100:])) + "\n")
    except (OSError, ConvoError) as e:
        warn(f"could not remember the region in {directory}: {printable(e, 160)}")


def explicit_hosts(urls: Sequence[str] | None) -> list[str]:
    """The API hosts the user named: --api-url, any number of times, else
    $VONAGE_API_URL (comma-separated); [] when none was named. Plain http:// is
    refused (exit 2) except on loopback: the token would travel in clear text."""
    named = [(url, "--api-url") for url in urls or ()] or [
        (url.strip(), "VONAGE_API_URL")
        for url in os.environ.get("VONAGE_API_URL", "").split(",") if url.strip()]
    hosts = []
    for typed, source in named:
        url = check_http_url(typed_url(typed), source, "https://api-eu-3.vonage.com",
                             typed=typed)
        if in_clear_elsewhere(url):
            raise ConvoError(f"{source} {printable(typed, 80)}: plain http:// would send the "
                             f"token in clear text; use https:// (http:// is for 127.0.0.1 "
                             f"and localhost only)", EXIT_USAGE)
        hosts.append(url)
    return hosts


def candidate_hosts(api_urls: Sequence[str] | None, state: dict[str, Any] | None,
                    ident: str | None) -> tuple[list[str], bool]:
    """Where to look for a conversation or call, best first, and whether the user named
    the hosts. Named hosts are used as given. Otherwise: the host remembered for this
    ID, else the region_url that serve recorded for it, else api.nexmo.com; then the
    other Vonage hosts, which are asked only if the first answers 404."""
    named = explicit_hosts(api_urls)
    if named:
        return named, True
    first = API_URL
    remembered = read_regions().get(ident or "")
    region = _dict(state).get("region_url")
    if is_vonage_url(remembered):
        first = str(remembered).rstrip("/")
    elif region and ident and _dict(state).get("conversation_uuid") == ident:
        if is_vonage_url(region):
            first = region.rstrip("/")
        else:
            # An unsigned webhook can plant any region_url; following it would hand
            # our token to whoever planted it.
            warn(f"ignoring the recorded region_url '{printable(region, 80)}': not an https:// "
                 f"URL on a Vonage host; using {API_URL}")
    return [first, *(url for url in (API_URL, *REGIONAL_URLS) if url != first)], False


def search_hosts(hosts: Sequence[str], path: str, tokens: TokenSource, *,
                 timeout_s: float) -> tuple[str, Any] | None:
    """GET path on every host at once. Returns the first host, in the order given, that
    has it, with its answer; None when every host answers 404. Raises the first other
    error when no host has it."""
    from concurrent.futures import ThreadPoolExecutor

    clients = [ApiClient(host, tokens.token(), timeout_s=timeout_s, auth_hint=tokens.hint)
               for host in hosts]
    try:
        with ctrl_c_aborts(*clients), \
                ThreadPoolExecutor(max_workers=len(hosts)) as pool:
            futures = [pool.submit(client.get, path) for client in clients]
            errors = []
            for host, future in zip(hosts, futures):
                try:
                    found = host, wait_for(future)
                except NotFound:
                    continue
                except ConvoError as e:
                    errors.append(e)
                    continue
                for client in clients:
                    client.abort()  # the hosts still answering are not waited for
                return found
    finally:
        for client in clients:
            client.close()
    if errors:
        raise errors[0]
    return None


def locate(hosts: Sequence[str], named: bool, path: str, tokens: TokenSource, *,
           timeout_s: float, first: Any = None, then: Any = None) -> tuple[str, Any] | None:
    """Which host has `path`, and what it answered: the first host alone, then (when it
    answers 404) all the others at once; named hosts are all asked at once. None when
    none has it. `first(host)` asks the first host instead of a GET of `path` (to
    fetch more at once), and `then(host, answer)` makes what a search found the same."""
    if not named or len(hosts) == 1:
        if first is None:
            found = search_hosts(hosts[:1], path, tokens, timeout_s=timeout_s)
        else:
            try:
                found = hosts[0], first(hosts[0])
            except NotFound:
                if len(hosts) == 1:
                    raise  # first's own account of it is the one to give
                found = None
        if found or len(hosts) == 1:
            return found
        hosts = hosts[1:]
    found = search_hosts(hosts, path, tokens, timeout_s=timeout_s)
    return (found[0], then(*found)) if found and then else found


def fetch_anywhere(conv_id: str, hosts: list[str], named: bool, tokens: TokenSource, *,
                   timeout_s: float, concurrency: int = DEFAULT_CONCURRENCY,
                   events: bool = False, legs: bool = False) -> tuple[dict[str, Any], str]:
    """Fetch a conversation from the host that has it (locate), and return that host
    too: the whole conversation from the first host, and when that one answers 404,
    the host that a search finds gives the rest. The host found is said, and
    remembered unless the user named it. Raises NotFound if no host has it."""
    def fetch(host: str, conv: Any = None) -> dict[str, Any]:
        client = ApiClient(host, tokens.token(), timeout_s=timeout_s, auth_hint=tokens.hint)
        try:
            return fetch_conversation(client, conv_id, concurrency=concurrency, events=events,
                                      legs=legs, conv=conv)
        finally:
            client.close()

    def found_elsewhere(host: str, conv: Any) -> dict[str, Any]:
        _stderr(f"convo: found in {host_of(host)}")
        if not named:
            remember_region(conv_id, host)
        return fetch(host, conv)

    located = locate(hosts, named, f"/v1/conversations/{conv_id}", tokens,
                     timeout_s=timeout_s, first=fetch, then=found_elsewhere)
    if located is None:
        raise NotFound(f"conversation {conv_id} not found at any of "
                       f"{', '.join(map(host_of, hosts))}: a call's conversation "
                       f"disappears when the call ends", status=404)
    host, doc = located
    return doc, host


# ############################################################################
# 6. `calls`: the calls in progress
# ############################################################################

RECENT_S = 3600                   # calls --all: calls that started in the last hour


def group_calls(calls: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Voice API calls grouped by conversation, newest conversation first, and its legs
    in the order they started."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for call in calls:
        conv = call.get("conversation_uuid")
        groups.setdefault(conv if isinstance(conv, str) and conv else "(no conversation)",
                          []).append(call)

    def started(call: dict[str, Any]) -> float:
        when = parse_time(call.get("start_time"))
        return when.timestamp() if when else 0.0

    for legs in groups.values():
        legs.sort(key=started)
    return dict(sorted(groups.items(), key=lambda item: -max(map(started, item[1]))))


def render_calls(groups: dict[str, list[dict[str, Any]]], hosts: dict[str, str], now: float,
                 style: Style, *, recent: bool = False) -> list[str]:
    """The calls list: per conversation its ID, then a line per leg: UUID, direction,
    from → to, status, how long ago it started, and the host that listed it. With
    recent, the list holds the calls of the last hour too."""
    if not groups:
        return ["No call in progress, and none in the last hour." if recent
                else "No call in progress."]
    lines: list[str] = []
    for conv, legs in groups.items():
        lines.append(f"{style.paint(printable(conv, 80), 'bold', 'cyan')}")
        rows = []
        for leg in legs:
            started = parse_time(leg.get("start_time"))
            ago = f"{format_span(now - started.timestamp())} ago" if started else "-"
            status = printable(leg.get("status") or "?", 20)
            if status in ENDED_STATUSES:
                status += " (ended)"
            rows.append((printable(leg.get("uuid") or "-", 40),
                         printable(leg.get("direction") or "-", 10),
                         f"{_party(leg.get('from'))} {style.arrow} {_party(leg.get('to'))}",
                         status, ago, host_of(hosts.get(leg.get("uuid") or "", "-"))))
        lines.extend(format_table(("LEG", "DIRECTION", f"FROM {style.arrow} TO", "STATUS",
                                   "STARTED", "LISTED BY"), rows, style))
        lines.append("")
    count = sum(map(len, groups.values()))
    noun = "conversation" if len(groups) == 1 else "conversations"
    lines.append(f"{count} leg{'' if count == 1 else 's'} in {len(groups)} {noun}; next: "
                 f"{PROG} get {printable(next(iter(groups)), 80)}")
    return lines


def list_calls(hosts: Sequence[str], tokens: TokenSource, *, timeout_s: float,
               recent_s: float | None = None) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The application's calls in progress (and with recent_s, those that started in the
    last recent_s seconds) on every host at once, merged by call UUID. Returns the
    calls and the host that listed each, a regional host preferred over api.nexmo.com.

    A host that fails is named in a warning; only when every host fails is it an error.
    """
    from concurrent.futures import ThreadPoolExecutor
    # (the status a query asks for, or None for any; the query)
    queries: list[tuple[str | None, str]] = [
        (status, f"/v1/calls?status={status}&page_size={PAGE_SIZE}") for status in LIVE_STATUSES]
    if recent_s:
        since = datetime.fromtimestamp(time.time() - recent_s, timezone.utc)
        queries.append((None, f"/v1/calls?date_start={since:%Y-%m-%dT%H:%M:%SZ}"
                              f"&page_size={PAGE_SIZE}"))
    clients = {host: ApiClient(host, tokens.token(), timeout_s=timeout_s, auth_hint=tokens.hint)
               for host in hosts}
    jobs = [(host, status, query) for host in hosts for status, query in queries]
    try:
        with ctrl_c_aborts(*clients.values()), \
                ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            futures = [pool.submit(clients[host].pages, query, legs_of)
                       for host, _, query in jobs]
            calls: dict[str, dict[str, Any]] = {}
            listed_by: dict[str, str] = {}
            failed: dict[str, ConvoError] = {}
            for (host, asked, _), future in zip(jobs, futures):
                try:
                    listed = wait_for(future)
                except NotFound:
                    continue
                except ConvoError as e:
                    failed.setdefault(host, e)
                    continue
                # The API's filtering is not trusted: a call must be what was asked for,
                # and name its conversation.
                for call in (c for c in listed if isinstance(c, dict)
                             and (asked is None or c.get("status") == asked)
                             and isinstance(c.get("conversation_uuid"), str)
                             and _CONV_ID_RE.fullmatch(c["conversation_uuid"])):
                    uuid = _scalar(call.get("uuid"))
                    if uuid and (uuid not in calls or listed_by[uuid] == API_URL):
                        calls[uuid], listed_by[uuid] = call, host
    finally:
        for client in clients.values():
            client.close()
    if failed and len(failed) == len(hosts):
        raise next(iter(failed.values()))
    for host, error in failed.items():
        warn(f"{host_of(host)}: {error}")
    return list(calls.values()), listed_by


def cmd_calls(args: argparse.Namespace, out: TextIO) -> int:
    """List the application's calls in progress, by conversation.

    From the Voice API of api.nexmo.com and the six regional hosts at once (or of
    the hosts named with --api-url), newest first, with the command to look inside.
    """
    check_api_options(args)
    tokens = TokenSource(resolve_credentials(app_id=args.app_id, key_path=args.key,
                                             token=args.jwt))
    hosts, _ = candidate_hosts(args.api_url, None, None)
    calls, listed_by = list_calls(hosts, tokens, timeout_s=args.timeout,
                                  recent_s=RECENT_S if args.all else None)
    groups = group_calls(calls)
    if args.json:
        out.write(dump_json(groups) + "\n")
    else:
        style = style_for(out)
        write_lines(out, render_calls(groups, listed_by, time.time(), style, recent=args.all),
                    style)
    return EXIT_OK


# ############################################################################
# 7. Watching a call: `get --watch` and `serve --watch`
# ############################################################################

# -- the lines (pure) ----------------------------------------------------------

def watch_event_line(event: dict[str, Any], members: list[dict[str, Any]],
                     style: Style) -> str:
    """A new event while watching: the timeline's columns, at fixed widths."""
    ident, when, who, kind, what = timeline_row(event, members, style)
    if len(who) > 28:
        who = who[:28 - len(style.more)] + style.more
    return f"{ident:>4}  {when:<12}  {who:<28}  {kind:<16}  {what}"


def member_change_line(old: dict[str, Any] | None, new: dict[str, Any], style: Style
                       ) -> str | None:
    """A member's change of state, from normalised members: 'MEM-f44c872e… INVITED → JOINED'."""
    state = new.get("state") or "UNKNOWN"
    if old is None:
        channel = new.get("channel") or {}
        via = (f" via {channel.get('type') or 'unknown'} {_endpoint_text(channel.get('to'))}"
               if channel else "")
        return f"{short_id(new.get('id'), style)} new, {state}{via}"
    before = old.get("state") or "UNKNOWN"
    return (f"{short_id(new.get('id'), style)} {before} {style.arrow} {state}"
            if before != state else None)


def call_leg_line(old: dict[str, Any] | None, new: dict[str, Any], style: Style
                  ) -> str | None:
    """A Voice API leg whose status changed: 'leg 30cecc87… ringing → answered'."""
    status = printable(new.get("status") or "?", 20)
    if old is None:
        return f"leg {short_id(new.get('uuid'), style)} {status}"
    before = printable(old.get("status") or "?", 20)
    return (f"leg {short_id(new.get('uuid'), style)} {before} {style.arrow} {status}"
            if before != status else None)


def watch_summary(style: Style, *, reason: str, seconds: float, members: int, legs: int,
                  events: int, missed: bool = False) -> str:
    """The last line of a watch: 'hung up · watched 1m 12s · 2 members · 2 legs · 8 events',
    and with missed, that events may have come after the last poll that saw them."""
    def n(count: int, noun: str) -> str:
        return f"{count} {noun}{'' if count == 1 else 's'}"
    return style.sep.join([reason, f"watched {format_span(seconds)}", n(members, "member"),
                           n(legs, "leg"), n(events, "event")] + (
        ["events between the last poll and the hang-up may be missing (the API forgets a "
         "conversation when its call ends)"] if missed else []))


def ended_conversation(doc: dict[str, Any]) -> dict[str, Any]:
    """A conversation as it stands once the API has forgotten it (its call has ended):
    state ENDED, and every member that was in it LEFT. As far as is known: what the
    last poll saw is all there is."""
    members = [{**m, "state": "LEFT"} if isinstance(m, dict) and str(m.get("state", "")
               ).upper() in ("JOINED", "INVITED") else m for m in _list(doc.get("members"))]
    return {**doc, "state": "ENDED", "members": members}

# -- following -----------------------------------------------------------------

class CallWatch:
    """Follow a conversation until it ends, as records with the API's fields untouched:
    {"type": "snapshot"} first, then "event" and "change" records as they happen (and
    "retrying", once, when the API stops answering), and "end" last.

    Each poll asks for the events after the last one seen (one request while
    nothing happens, one more for the legs with legs=True); a member:* event
    re-lists the members, and only a new member's details are fetched. 429 and
    5xx slow it down; a network error that lasts longer than 3 × timeout ends it.
    """

    def __init__(self, client: ApiClient, conv_id: str, tokens: TokenSource,
                 doc: dict[str, Any], *, legs: bool = False,
                 interval_s: float = WATCH_INTERVAL_S, timeout_s: float = HTTP_TIMEOUT_S,
                 stop: Any = None, clock: Any = time.monotonic, sleep: Any = None) -> None:
        """`clock` says what time it is (seconds); `sleep(seconds)` waits, and says
        whether to stop (by default: until `stop`, a threading.Event, is set). A test
        gives a clock that sleeping moves on at once."""
        import threading
        self.client, self.conv_id, self.tokens = client, conv_id, tokens
        self.doc = {**doc, "events": [e for e in _list(doc.get("events"))
                                      if isinstance(e, dict)]}
        self.follow_legs, self.interval_s, self.timeout_s = legs, interval_s, timeout_s
        self.stop = stop or threading.Event()
        self.clock, self.sleep = clock, sleep or self.stop.wait
        self.started = clock()
        self.base = f"/v1/conversations/{conv_id}"
        self.members = [normalize_member(m) for m in _list(doc.get("members"))]
        self.legs = {c["uuid"]: c for c in _list(doc.get("legs"))
                     if isinstance(c, dict) and _scalar(c.get("uuid"))}
        ids = [e.get("id") for e in self.doc["events"] if is_int(e.get("id"))]
        self.last_id = max(ids, default=0)
        self.built = EventConversation(conv_id)  # the legs, as its events tell them
        for event in self.doc["events"]:
            pushed = {**event, "conversation_id": conv_id}
            if not odd_event(pushed):
                self.built.add(pushed)

    def summary(self, reason: str) -> dict[str, Any]:
        return {"reason": reason, "seconds": round(self.clock() - self.started, 3),
                "members": len(self.members), "legs": len(self.legs) or len(
                    {leg for m in self.members for leg in (m.get("channel") or {}).get(
                        "leg_ids", [])}), "events": len(self.doc["events"])}

    def records(self) -> Iterator[dict[str, Any]]:
        yield {"type": "snapshot", "conversation": self.doc}
        delay, failing_since = self.interval_s, None
        next_poll = self.clock()
        while True:
            # A fixed schedule, not interval + request time (bench/watch.py: latency).
            next_poll = max(next_poll + delay, self.clock())
            if self.sleep(next_poll - self.clock()):
                return
            delay = self.interval_s
            self.client.token = self.tokens.token()
            self.client.deadline = time.monotonic() + self.client.deadline_s
            changes: list[dict[str, Any]] = []
            try:
                for change in self._poll():
                    changes.append(change)
            except NotFound:  # the conversation is gone: the call has ended
                yield from changes  # what came before is not lost
                yield self._end("hung up")
                return
            except ConvoError as e:
                yield from changes  # what came before the failure is not lost
                if e.status == 429 or (e.status or 0) >= 500:
                    delay = min(MAX_INTERVAL_S, max(self.interval_s, 1.0) * 4)
                    self.client.log.info("watch: %s; slowing down to every %g s", e, delay)
                    continue
                if e.status is not None:
                    raise
                if failing_since is None:  # said once, not at every poll of the outage
                    failing_since = self.clock()
                    yield {"type": "retrying", "reason": str(e)}
                if self.clock() - failing_since > 3 * self.timeout_s:
                    raise ConvoError(f"lost the API for over {3 * self.timeout_s:g} s: {e}"
                                     ) from None
                continue
            failing_since = None
            yield from changes
            if self.follow_legs and self.legs and all(
                    leg.get("status") in ENDED_STATUSES for leg in self.legs.values()):
                yield self._end("every leg ended")
                return

    def _end(self, reason: str) -> dict[str, Any]:
        summary = self.summary(reason)
        if reason == "hung up":  # the conversation is gone: say how it ended, as far as known
            if self.follow_legs:
                try:
                    list(self._leg_changes())  # the Voice API keeps a call after it ends
                except ConvoError:
                    pass
            self.doc = ended_conversation(self.doc)
            self.members = [normalize_member(m) for m in _list(self.doc.get("members"))]
            summary["missed"] = True
        if self.follow_legs:
            self.doc["legs"] = list(self.legs.values())
        return {"type": "end", "conversation": self.doc, "summary": summary}

    def _poll(self) -> Iterator[dict[str, Any]]:
        client = self.client
        new = [e for e in client.pages(f"{self.base}/events?start_id={self.last_id + 1}"
                                       f"&page_size={PAGE_SIZE}", events_of)
               if isinstance(e, dict)]
        new = [e for e in new if not is_int(e.get("id")) or e["id"] > self.last_id]
        # The members are asked for after a member:* event, or an event on a channel
        # no known member has (a member invited with no event of its own), and before
        # the events are shown, so that each is put down to the member `get --events`
        # names; what changed in the members is said after the events that tell of it.
        members_changed = any((_scalar(e.get("type")) or "").startswith("member:")
                              or unowned_channel(e, self.members) for e in new)
        changes = list(self._member_changes()) if members_changed else []
        for event in new:
            if is_int(event.get("id")):
                self.last_id = max(self.last_id, event["id"])
            self.doc["events"].append(event)
            yield {"type": "event", "event": event}
            # Without --legs, the events are all there is to say of the legs: what they
            # change, as serve says it of pushed events (the same EventConversation).
            pushed = {**event, "conversation_id": self.conv_id}
            if self.follow_legs or odd_event(pushed):
                continue
            for kind, old, new in self.built.add(pushed) or ():
                if kind == "leg":
                    yield {"type": "change", "leg": new, "from": (old or {}).get("status"),
                           "to": new.get("status"), "event_id": event.get("id")}
        yield from changes
        if self.follow_legs:
            yield from self._leg_changes()

    def _member_changes(self) -> Iterator[dict[str, Any]]:
        from urllib.parse import quote
        listed = [m for m in self.client.pages(f"{self.base}/members?page_size={PAGE_SIZE}",
                                               members_of) if isinstance(m, dict)]
        known = {m.get("id"): i for i, m in enumerate(self.members)}
        raw = _list(self.doc.get("members"))
        for entry in listed:
            mid = _scalar(entry.get("id"))
            if not mid:
                continue
            if mid not in known:
                detail = self.client.get(f"{self.base}/members/{quote(mid, safe='')}")
                member = normalize_member(detail)
                self.members.append(member)
                raw.append(detail)
                yield {"type": "change", "member": detail, "from": None,
                       "to": _dict(detail).get("state")}
                continue
            old = self.members[known[mid]]
            state = _scalar(entry.get("state"))
            if state and state != old.get("state"):
                # Only what changed is fetched again: this member's details.
                detail = self.client.get(f"{self.base}/members/{quote(mid, safe='')}")
                self.members[known[mid]] = normalize_member(detail)
                raw = [detail if _dict(m).get("id") == mid else m for m in raw]
                yield {"type": "change", "member": detail, "from": old.get("state"),
                       "to": _dict(detail).get("state")}
        self.doc["members"] = raw

    def _leg_changes(self) -> Iterator[dict[str, Any]]:
        from urllib.parse import quote
        calls = [c for c in self.client.pages(
            f"/v1/calls?conversation_uuid={quote(self.conv_id, safe='')}&page_size={PAGE_SIZE}",
            legs_of) if isinstance(c, dict) and _scalar(c.get("uuid"))
            and c.get("conversation_uuid") in (None, self.conv_id)]
        for call in calls:
            old = self.legs.get(call["uuid"])
            self.legs[call["uuid"]] = call
            if old is None or old.get("status") != call.get("status"):
                yield {"type": "change", "leg": call,
                       "from": old.get("status") if old else None, "to": call.get("status")}


def print_watch(watch: CallWatch, out: TextIO | io.TextIOBase, *, as_json: bool,
                tag: str = "", style: Style | None = None) -> int:
    """Print a watch's records as they come, line by line (text or JSON lines); on
    Ctrl-C, the summary so far."""
    style = style or style_for(out)

    def emit(lines: Iterable[str]) -> None:
        write_lines(out, (f"{tag}{line}" for line in lines), style)
        out.flush()

    try:
        for record in watch.records():
            if as_json:
                emit([dump_json(record, indent=None)])
            else:
                emit(watch_lines(record, watch, style))
    except KeyboardInterrupt:
        summary = watch.summary("interrupted")
        emit([dump_json({"type": "end", "summary": summary}, indent=None)] if as_json
             else ["", watch_summary(style, **summary)])
        raise
    return EXIT_OK


def watch_lines(record: dict[str, Any], watch: CallWatch, style: Style) -> list[str]:
    """The text of one watch record."""
    kind = record["type"]
    if kind == "snapshot":
        return [*render_document(normalize_conversation(record["conversation"]), style), "",
                style.paint(f"Watching: a line per change, every {watch.interval_s:g} s "
                            f"(Ctrl-C stops)", "dim")]
    if kind == "event":
        return [watch_event_line(record["event"], watch.members, style)]
    if kind == "retrying":
        return [style.paint(f"retrying: {record['reason']} (for up to "
                            f"{format_span(3 * watch.timeout_s, ' ')})", "yellow")]
    if kind == "change":
        if "member" in record:
            member = normalize_member(record["member"])
            old = None if record["from"] is None else {"state": record["from"]}
            line = member_change_line(old, member, style)
        else:
            old = None if record["from"] is None else {"status": record["from"]}
            line = call_leg_line(old, record["leg"], style)
        return [f"      {style.arrow} {line}"] if line else []
    summary = record["summary"]
    return ["", *render_tree(normalize_conversation(record["conversation"]), style), "",
            style.paint(watch_summary(style, **summary), "bold")]


def call_follower(args: argparse.Namespace, stop: Any) -> tuple[Any, Any]:
    """For serve --watch: a function that follows a new call in serve's log, as get
    --watch does, each line tagged with a short form of its conversation ID; and one
    that ends that polling once the call's RTC events come (the push wins). Raises
    ConvoError (exit 2) when the credentials it needs are missing."""
    import logging
    import threading
    creds = resolve_credentials(app_id=args.app_id, key_path=args.key, token=args.jwt)
    missing = [] if creds.token else [what for what, there in (
        ("an application ID (--app-id or VONAGE_APPLICATION_ID)", creds.app_id),
        ("a private key (--key, VONAGE_APPLICATION_PRIVATE_KEY_PATH or VONAGE_PRIVATE_KEY)",
         creds.has_key)) if not there]
    if missing:
        raise ConvoError(f"--watch follows each call through the API and needs "
                         f"{' and '.join(missing)}", EXIT_USAGE)
    tokens = TokenSource(creds)
    explicit_hosts(args.api_url)  # checked now: a bad --api-url stops serve before it starts
    log = logging.getLogger("convo")
    style = style_for(sys.stderr)  # the log's
    if style.width:
        style.width -= CLOCK_WIDTH  # the log's clock comes first

    class LogLines(io.TextIOBase):
        """A stream whose lines go to serve's log."""

        def write(self, text: str) -> int:
            for line in text.rstrip("\n").split("\n"):
                log.info("%s", line)
            return len(text)

    watches: dict[str, Any] = {}  # conversation -> its watch's stop
    pushed: set[str] = set()
    lock = threading.Lock()

    def follow(conv: str, params: dict[str, Any]) -> None:
        tag = f"[{conv[4:12]}] "
        recorded = {"conversation_uuid": conv, "region_url": params.get("region_url")}
        mine = threading.Event()
        with lock:
            if conv in pushed:
                return  # its RTC events came first: serve's log follows them
            watches[conv] = mine
        try:
            hosts, named = candidate_hosts(args.api_url, recorded, conv)
            doc, host = fetch_anywhere(conv, hosts, named, tokens, timeout_s=args.timeout,
                                       events=True, legs=args.legs)
            client = ApiClient(host, tokens.token(), timeout_s=args.timeout,
                               auth_hint=tokens.hint)
            try:
                watch = CallWatch(client, conv, tokens, doc, legs=args.legs,
                                  interval_s=args.interval, timeout_s=args.timeout, stop=mine)
                print_watch(watch, LogLines(), as_json=False, tag=tag, style=style)
            finally:
                client.close()
        except ConvoError as e:
            log.warning("%swatch ended: %s", tag, e)
        finally:
            with lock:
                watches.pop(conv, None)

    def on_rtc(conv: str) -> None:
        with lock:
            pushed.add(conv)
            mine = watches.get(conv)
        if mine is not None and not mine.is_set():
            log.info("[%s] its RTC events are coming: no more polling, serve's log follows "
                     "them", conv[4:12])
            mine.set()

    def stop_all() -> None:
        stop.wait()
        with lock:
            for mine in watches.values():
                mine.set()

    threading.Thread(target=stop_all, daemon=True).start()
    return (lambda conv, params: threading.Thread(target=follow, args=(conv, params),
                                                  daemon=True).start()), on_rtc


# ############################################################################
# 8. `get`: one conversation, by any ID, in any region
# ############################################################################

def cmd_get(args: argparse.Namespace, out: TextIO, *, clock: Any = time.monotonic,
            sleep: Any = None) -> int:
    """Fetch a live conversation and print its tree.

    The conversation, its members, each member's channel and legs, from the
    Conversation API v1 (and with --legs, the Voice API). It takes any ID you
    hold: a conversation ID, a leg UUID from a webhook, or an API URL; with
    none, the call that serve recorded, else the one call in progress. It looks
    in every region; --watch follows the call until it ends.
    """
    if not 1 <= args.concurrency <= 64:
        raise ConvoError("--concurrency must be 1 to 64", EXIT_USAGE)
    check_api_options(args)
    if args.watch and args.json and args.events:
        raise ConvoError("--watch --json already streams every event: drop --events",
                         EXIT_USAGE)
    target = parse_target(args.target) if args.target else None
    if target and target[2] and not is_vonage_url(target[2]) \
            and target[2].rstrip("/") not in explicit_hosts(args.api_url):
        raise ConvoError(f"{host_of(target[2])} is not a Vonage host: convo.py sends the "
                         f"token only to https:// Vonage hosts and to the hosts named with "
                         f"--api-url", EXIT_USAGE)
    tokens = TokenSource(resolve_credentials(app_id=args.app_id, key_path=args.key,
                                             token=args.jwt))
    conv_id, hosts, named = resolve_target(target, read_state(), tokens, out,
                                           api_urls=args.api_url, timeout_s=args.timeout)
    doc, host = fetch_anywhere(conv_id, hosts, named, tokens, timeout_s=args.timeout,
                               concurrency=args.concurrency, events=args.events or args.watch,
                               legs=args.legs)
    if args.watch:
        client = ApiClient(host, tokens.token(), timeout_s=args.timeout, auth_hint=tokens.hint)
        try:
            watch = CallWatch(client, conv_id, tokens, doc, legs=args.legs,
                              interval_s=args.interval, timeout_s=args.timeout, clock=clock,
                              sleep=sleep)
            return print_watch(watch, out, as_json=args.json)
        finally:
            client.close()
    if args.json:
        out.write(dump_json(doc) + "\n")
    else:
        style = style_for(out)
        write_lines(out, render_document(normalize_conversation(doc), style), style)
    return EXIT_OK


def resolve_target(target: tuple[str, str, str | None] | None, state: dict[str, Any] | None,
                   tokens: TokenSource, out: TextIO, *, api_urls: Sequence[str] | None,
                   timeout_s: float) -> tuple[str, list[str], bool]:
    """Turn the ID given (parsed by parse_target), or none, into a conversation ID and
    the hosts to ask for it, saying on stderr what it resolved. Raises ConvoError
    (exit 2) when several calls are in progress and the user must pick one (they
    are listed on `out`), and NotFound when the ID is nowhere."""
    if target:
        kind, ident, base = target
        if base:
            hosts, named = [base.rstrip("/")], True
        else:
            hosts, named = candidate_hosts(api_urls, state, ident)
        if kind == "conversation":
            return ident, hosts, named
        for form in call_uuid_forms(ident):
            located = locate(hosts, named, f"/v1/calls/{form}", tokens, timeout_s=timeout_s)
            if located:
                host, call = located
                conv = _scalar(_dict(call).get("conversation_uuid"))
                if not conv or not _CONV_ID_RE.fullmatch(conv):
                    raise ConvoError(f"the API's call {printable(form, 60)} has no "
                                     f"conversation_uuid")
                if not named:  # the user's own hosts need no remembering
                    remember_region(ident, host)
                    remember_region(conv, host)
                _stderr(f"convo: leg {printable(ident, 60)} is in conversation {conv}"
                        + (f" (found in {host_of(host)})" if host != hosts[0] else ""))
                return conv, [host], True
        raise NotFound(f"no call {printable(ident, 60)} at {', '.join(map(host_of, hosts))}: "
                       f"a call can be looked up while it lasts and shortly after", status=404)
    recorded = _scalar(_dict(state).get("conversation_uuid"))
    if recorded and _CONV_ID_RE.fullmatch(recorded):
        hosts, named = candidate_hosts(api_urls, state, recorded)
        located = locate(hosts, named, f"/v1/conversations/{recorded}", tokens,
                         timeout_s=timeout_s)
        if located:  # the host that has it is the one to ask: no second search
            _stderr(f"convo: using the latest call that serve recorded: {recorded} "
                    f"(at {printable(_dict(state).get('time'), 40)})")
            return recorded, [located[0]], True
    hosts, named = candidate_hosts(api_urls, None, None)
    calls, listed_by = list_calls(hosts, tokens, timeout_s=timeout_s)
    groups = group_calls(calls)
    if not groups:
        raise ConvoError("no call in progress: call your Vonage number, then run get again, "
                         f"or pass an ID ({PROG} get CON-<uuid>)")
    if len(groups) > 1:
        style = style_for(out)
        write_lines(out, render_calls(groups, listed_by, time.time(), style), style)
        raise ConvoError(f"{len(groups)} conversations are in progress: pick one, "
                         f"e.g. {PROG} get {next(iter(groups))}", EXIT_USAGE)
    conv, legs = next(iter(groups.items()))
    host = listed_by[legs[0]["uuid"]]
    _stderr(f"convo: the call in progress: {printable(conv, 80)} (in {host_of(host)})")
    return conv, [host], True


# ############################################################################
# 9. `app`: the application, its numbers, and pointing it at serve
# ############################################################################

#: The account's APIs (developer.vonage.com: Application API v2, Numbers API); both
#: take the account's API key and secret (Basic auth), never the application's JWT.
APPLICATIONS_URL = "https://api.nexmo.com"
NUMBERS_URL = "https://rest.nexmo.com"
#: The webhooks serve answers: (capability, webhook) -> serve's path for it.
SERVE_WEBHOOKS = {("voice", "answer_url"): "/webhooks/answer",
                  ("voice", "event_url"): "/webhooks/event",
                  ("rtc", "event_url"): "/webhooks/rtc"}
#: The method a webhook gets when the application had none (Vonage's defaults).
DEFAULT_METHODS = {"answer_url": "GET", "event_url": "POST"}
#: The application as it was before serve --configure changed it, kept in the state
#: directory until it is put back; and the lock that a running configure holds.
SAVED_APP_FILE = "application-before-configure.json"
CONFIGURE_LOCK = ".configure.lock"
#: serve's webhook paths, by the kind of webhook (webhook_kind) each takes.
WEBHOOK_PATHS = {path: path.rsplit("/", 1)[1] for path in SERVE_WEBHOOKS.values()}
#: Webhook URLs for `app create` without --public-url, until serve --configure sets them.
PLACEHOLDER_ORIGIN = "https://example.invalid"

# -- what an application says (pure) -------------------------------------------

def public_origin(url: str) -> tuple[str, str | None]:
    """--public-url: the tunnel's origin, which forwards to serve's root; and a note
    when a whole webhook URL or a trailing slash was reduced to it. Raises
    ConvoError (exit 2) for any other path, scheme or form."""
    from urllib.parse import urlsplit
    url = url.strip()
    checked = check_http_url(typed_url(url), "--public-url", "https://abc123.ngrok.app",
                             typed=url)
    parts = urlsplit(checked)
    origin = origin_of(checked)
    path = parts.path.rstrip("/")
    if parts.query or parts.fragment or parts.username or path not in (
            "", *SERVE_WEBHOOKS.values()):
        raise ConvoError(f"--public-url '{printable(url, 80)}': give the tunnel's own URL, "
                         f"e.g. https://abc123.ngrok.app (it forwards to serve's root, "
                         f"and serve adds the webhook paths)", EXIT_USAGE)
    if url.rstrip("/") != url or path:
        return origin, f"--public-url reduced to {origin}: serve adds the webhook paths"
    return origin, None


def app_webhook(app: Any, capability: str, name: str) -> dict[str, Any]:
    """One webhook of an application ({address, http_method, …}), or {}."""
    capabilities = _dict(_dict(app).get("capabilities"))
    return _dict(_dict(_dict(capabilities.get(capability)).get("webhooks")).get(name))


def webhook_addresses(app: Any) -> dict[str, str | None]:
    """The addresses of the webhooks serve answers, by 'capability webhook'."""
    return {f"{cap} {name}": _scalar(app_webhook(app, cap, name).get("address"))
            for cap, name in SERVE_WEBHOOKS}


def put_body(app: dict[str, Any]) -> dict[str, Any]:
    """What a PUT of this application sends: all of it as the API gave it, but its
    id and links, and its keys reduced to the public key (echoed: a PUT without it
    may rotate the key). PUT replaces the whole application: leave nothing out."""
    body = {k: copy_json(v) for k, v in app.items() if k not in ("id", "_links")}
    keys = _dict(app.get("keys"))
    if keys.get("public_key"):
        body["keys"] = {"public_key": keys["public_key"]}
    return body


def configured_app(app: dict[str, Any], origin: str, *, rtc: bool
                   ) -> tuple[dict[str, Any], list[tuple[str, str | None, str]]]:
    """The PUT body that points the application's webhooks at `origin` (the voice
    answer and event URLs; the rtc event URL when it has rtc, or with `rtc`), and the
    changes as (webhook, old address, new address). Nothing else changes: methods,
    timeouts under whichever name the API used, signed_callbacks, region, the other
    capabilities, name and key stay as they were."""
    body = put_body(app)
    capabilities = body.setdefault("capabilities", {})
    changes = []
    for (cap, name), path in SERVE_WEBHOOKS.items():
        if cap == "rtc" and "rtc" not in capabilities and not rtc:
            continue
        webhooks = capabilities.setdefault(cap, {}).setdefault("webhooks", {})
        hook = webhooks.setdefault(name, {})
        old, new = _scalar(hook.get("address")), origin + path
        hook["address"] = new
        hook.setdefault("http_method", DEFAULT_METHODS[name])
        changes.append((f"{cap} {name}", old, new))
    return body, changes


def app_problems(app: dict[str, Any], numbers: list[dict[str, Any]]) -> list[str]:
    """What will keep calls to this application from working, in words (the URLs
    are not probed: `send URL` does that)."""
    from urllib.parse import urlsplit
    problems = []
    if "voice" not in _dict(app.get("capabilities")):
        problems.append("it has no voice capability: Vonage sends its calls nowhere (serve "
                        "--configure adds it)")
    else:
        hosts = {}
        for name in ("answer_url", "event_url"):
            address = _scalar(app_webhook(app, "voice", name).get("address"))
            label = name.replace("_url", " URL")
            if not address:
                problems.append(f"it has no {label}")
            elif not address.startswith("https://"):
                problems.append(f"its {label} is not https:// ({printable(address, 100)}): "
                                f"give Vonage your tunnel's https URL")
            if address:
                hosts[label] = urlsplit(address).netloc
        if len(set(hosts.values())) > 1:
            problems.append(f"its answer and event URLs are on different hosts "
                            f"({', '.join(map(printable, hosts.values()))}): point both at "
                            f"one server")
    if not numbers:
        problems.append(f"no number is linked to it: calls reach it only through one (run: "
                        f"{PROG} app link NUMBER)")
    return problems


def json_text(value: Any) -> str:
    """A JSON value as JSON writes it: true, not Python's True."""
    return value if isinstance(value, str) else dump_json(value)


def _timeouts(hook: dict[str, Any]) -> str:
    connect = hook.get("connect_timeout", hook.get("connection_timeout"))
    socket = hook.get("socket_timeout")
    said = [f"{what} {printable(value, 10)} ms" for what, value in (("connect", connect),
                                                                   ("socket", socket))
            if value is not None]
    return f"  ({', '.join(said)})" if said else ""


def render_app(app: dict[str, Any], numbers: list[dict[str, Any]], style: Style) -> list[str]:
    """The application as `app` shows it: its webhooks, settings, other capabilities,
    numbers, and what will keep calls from working."""
    capabilities = _dict(app.get("capabilities"))
    lines = [f"Application {style.paint(printable(app.get('name') or '-', 80), 'bold')}  "
             f"{printable(app.get('id') or '-', 40)}"]
    for cap, names in (("voice", ("answer_url", "fallback_answer_url", "event_url")),
                       ("rtc", ("event_url",))):
        if cap not in capabilities:
            continue
        for name in names:
            hook = app_webhook(app, cap, name)
            if hook:
                label = f"{cap} {name.replace('_url', '').replace('_', ' ')} URL"
                lines.append(f"  {label:<24}{printable(hook.get('http_method') or '-', 8):<5}"
                             f"{printable(hook.get('address') or '-', None)}{_timeouts(hook)}")
        settings = _dict(capabilities.get(cap))
        said = [f"{what} {printable(json_text(settings[key]), 40)}{unit}"
                for key, what, unit in (("signed_callbacks", "signed callbacks", ""),
                                        ("region", "region", ""),
                                        ("conversations_ttl", "conversations kept", " h"),
                                        ("leg_persistence_time", "legs kept", " days"))
                if key in settings]
        if said:
            lines.append(f"  {cap + ' settings':<24}{', '.join(said)}")
    others = sorted(set(capabilities) - {"voice", "rtc"})
    if others:
        lines.append(f"  {'other capabilities':<24}{', '.join(map(printable, others))}")
    linked = [f"{printable(n.get('msisdn'), 20)} ({printable(n.get('country') or '?', 4)})"
              for n in numbers]
    lines.append(f"  {'numbers':<24}{', '.join(linked) if linked else 'none linked'}")
    lines.extend(f"{style.paint('problem', 'yellow')}: {p}" for p in app_problems(app, numbers))
    return lines


def number_app(number: dict[str, Any]) -> str | None:
    """The application a number is linked to: app_id, else an 'app' voice callback."""
    return _scalar(number.get("app_id")) or (
        _scalar(number.get("voiceCallbackValue"))
        if number.get("voiceCallbackType") == "app" else None)


def check_account_url(url: str, flag: str = "--api-url") -> str:
    """A base URL the account's API key and secret may go to: https to a Vonage host,
    or this machine (a fake, in tests). Raises ConvoError (exit 2)."""
    checked = check_http_url(typed_url(url), flag, "https://api.nexmo.com", typed=url)
    parts = split_url(checked)
    if not (on_this_machine(parts) or (parts.scheme == "https" and (
            parts.hostname or "").endswith(VONAGE_HOST_SUFFIXES))):
        raise ConvoError(f"{flag} '{printable(url, 80)}': the account's API key and secret "
                         f"go only to Vonage's hosts over https (e.g. https://api.nexmo.com)",
                         EXIT_USAGE)
    return checked

# -- the account and its APIs --------------------------------------------------

class Account:
    """The account's API key and secret, and clients for the Applications and
    Numbers APIs that send them. Made by account(); the secret is never shown."""

    def __init__(self, key: str, secret: str, sources: str, api_url: str | None,
                 timeout_s: float) -> None:
        self.key, self._secret, self.sources = key, secret, sources
        hint = f"Check the API key and secret (from {sources}): the dashboard's API settings"
        make = functools.partial(ApiClient, basic=(key, secret), timeout_s=timeout_s,
                                 auth_hint=hint)
        given = check_account_url(api_url) if api_url else None
        self.apps = make(given or APPLICATIONS_URL)
        self.numbers = make(given or NUMBERS_URL)

    def close(self) -> None:
        self.apps.close()
        self.numbers.close()

    def application(self, app_id: str) -> dict[str, Any]:
        from urllib.parse import quote
        try:
            doc = self.apps.get(f"/v2/applications/{quote(app_id, safe='')}")
        except NotFound:
            raise NotFound(f"no application {app_id} in this account: check the ID, and "
                           f"that the API key is of the account that owns it") from None
        if not isinstance(doc, dict):
            raise ConvoError(f"the Applications API sent a JSON {json_type(doc)}, not an "
                             f"application")
        return doc

    def put(self, app_id: str, body: dict[str, Any]) -> dict[str, Any]:
        from urllib.parse import quote
        return self.apps.call("PUT", f"/v2/applications/{quote(app_id, safe='')}",
                              dump_json(body).encode(), "application/json")

    def linked_numbers(self, app_id: str) -> list[dict[str, Any]]:
        from urllib.parse import quote
        page = self.numbers.get(f"/account/numbers?application_id={quote(app_id)}&size=100")
        return [n for n in _list(_dict(page).get("numbers")) if isinstance(n, dict)]

    def number(self, msisdn: str) -> dict[str, Any]:
        """One of the account's numbers (its country comes from there)."""
        page = self.numbers.get(f"/account/numbers?pattern={msisdn}&size=100")
        for number in _list(_dict(page).get("numbers")):
            if isinstance(number, dict) and number.get("msisdn") == msisdn:
                return number
        raise ConvoError(f"{msisdn} is not one of this account's numbers: check it (E.164 "
                         f"digits) and the API key, or buy one in the dashboard", EXIT_ERROR)

    def update_number(self, number: dict[str, Any], app_id: str | None) -> None:
        """Link a number to an application, or unlink it (no app_id). The reply's
        error-code is checked: the Numbers API can say no in an HTTP 200."""
        from urllib.parse import urlencode
        form = {"country": number.get("country") or "", "msisdn": number.get("msisdn") or ""}
        if app_id:
            form["app_id"] = app_id
        reply = _dict(self.numbers.call("POST", "/number/update", urlencode(form).encode(),
                                        "application/x-www-form-urlencoded"))
        if str(reply.get("error-code")) != "200":
            raise ConvoError(f"the Numbers API refused the change of {form['msisdn']}: "
                             f"{printable(reply.get('error-code-label') or reply, 200)} "
                             f"(error-code {printable(reply.get('error-code'), 10)})")


def account(args: argparse.Namespace) -> Account:
    """The account's API key and secret: --api-key and --api-secret, else
    $VONAGE_API_KEY and $VONAGE_API_SECRET, else the Vonage CLI's file. Raises
    ConvoError (exit 2) naming every source when either is missing."""
    import logging
    env = os.environ.get
    found: dict[str, tuple[str, str]] = {}
    for name, flag, variable in (("api-key", "--api-key", "VONAGE_API_KEY"),
                                 ("api-secret", "--api-secret", "VONAGE_API_SECRET")):
        value = getattr(args, name.replace("-", "_"), None)
        if value:
            found[name] = (value, flag)
        elif env(variable):
            found[name] = (env(variable) or "", f"${variable}")
    if len(found) < 2:
        saved = read_vonage_cli_file(account=True)
        if saved:
            path, keys = saved
            for name in ("api-key", "api-secret"):
                if name not in found and keys.get(name):
                    found[name] = (keys[name], f"{path} ({name})")
    missing = [name for name in ("api-key", "api-secret") if name not in found]
    if missing:
        raise ConvoError(f"no account {' and no '.join(m.replace('-', ' ') for m in missing)}: "
                         f"the Applications and Numbers APIs take the account's, from the "
                         f"dashboard's API settings: set VONAGE_API_KEY and VONAGE_API_SECRET "
                         f"(or pass --api-key and --api-secret, or run vonage auth set)",
                         EXIT_USAGE)
    sources = " and ".join(dict.fromkeys(source for _, source in found.values()))
    logging.getLogger("convo").debug("API key and secret from %s", sources)
    api_url = getattr(args, "api_url", None)
    if isinstance(api_url, list):  # serve's --api-url is the Conversation API's, for --watch;
        local = [u for u in api_url if split_url(typed_url(u)) is not None
                 and on_this_machine(split_url(typed_url(u)))]
        api_url = local[0] if local else None  # a fake here stands in for the account's too
    return Account(found["api-key"][0].strip(), found["api-secret"][0].strip(), sources,
                   api_url, getattr(args, "timeout", HTTP_TIMEOUT_S))


def application_id(args: argparse.Namespace) -> str:
    """The application's ID from its usual sources (--app-id, $VONAGE_APPLICATION_ID,
    the Vonage CLI's file); its key is not needed. Raises ConvoError (exit 2)."""
    creds = resolve_credentials(app_id=args.app_id)
    if not creds.app_id:
        raise ConvoError(f"no application ID: pass --app-id ID or set VONAGE_APPLICATION_ID "
                         f"(or make one: {PROG} app create NAME)", EXIT_USAGE)
    return check_app_id(creds.app_id, creds.sources.get("app_id", "--app-id"))

# -- the saved application: serve --configure's promise to put it back ---------

class SavedApp:
    """The application as it was before serve --configure pointed it here, saved whole
    (0600, synced) before anything changes, and put back when serve stops; or by the
    next configure or `app restore` when serve could not (kill -9, a power cut).

    The lock says a configure is running: while one is, its saved copy is never
    restored or overwritten by another."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.path = os.path.join(directory, SAVED_APP_FILE)
        self._lock: _locked | None = None

    def hold(self) -> None:
        """Take the lock for this run. Raises ConvoError when another holds it."""
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        lock = _locked(os.path.join(self.directory, CONFIGURE_LOCK), wait=False)
        try:
            lock.__enter__()
        except BlockingIOError:
            raise ConvoError("another serve --configure is running with this state directory: "
                             "it puts the application back when it stops; stop it first",
                             EXIT_ERROR) from None
        self._lock = lock

    def release(self) -> None:
        if self._lock:
            self._lock.__exit__()
            self._lock = None

    def load(self) -> dict[str, Any] | None:
        text = read_own_file(self.path, MAX_DOCUMENT_BYTES, "the saved application")
        if text is None:
            return None
        doc = parse_json(text, self.path)
        if not isinstance(doc, dict) or not isinstance(doc.get("original"), dict):
            raise ConvoError(f"{self.path}: not an application saved by serve --configure; "
                             f"look at it, then remove it", EXIT_USAGE)
        return doc

    def save(self, app_id: str, original: dict[str, Any], configured: dict[str, Any]) -> None:
        write_state_file(self.directory, SAVED_APP_FILE, dump_json(
            {"app_id": app_id, "saved_at": format_utc(time.time()), "original": original,
             "configured": webhook_addresses(configured)}) + "\n", sync=True)

    def remove(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def restore(self, acct: Account, saved: dict[str, Any]) -> str:
        """Put the saved application back if its webhooks are still the ones serve
        set (else leave them: someone changed them since), then forget the copy.
        Returns what was done, in words. Raises ConvoError, keeping the copy."""
        app_id = saved.get("app_id") or _dict(saved["original"]).get("id") or ""
        original = saved["original"]
        now = webhook_addresses(acct.application(app_id))
        if now != saved.get("configured"):
            self.remove()
            changed = ", ".join(f"{k} {printable(v or '(none)', None)}" for k, v in now.items()
                                if v != _dict(saved.get("configured")).get(k))
            return (f"left application {app_id} as it is: its webhooks were changed since "
                    f"serve set them ({changed})")
        acct.put(app_id, put_body(original))
        self.remove()
        back = ", ".join(f"{k} {printable(v, None)}" for k, v in
                         webhook_addresses(original).items() if v)
        return f"put application {app_id} back as it was: {back or 'no webhooks'}"


def configure(acct: Account, app_id: str, origin: str, saved: SavedApp, *, rtc: bool
              ) -> tuple[str, list[tuple[str, str | None, str]], str | None]:
    """serve --configure: put back what a serve that died left, save the application
    whole, then point its webhooks at `origin` (GET, PUT). Returns its name, the
    changes, and what was put back first (or None). A failed PUT leaves the
    application as it was and raises ConvoError."""
    before = None
    pending = saved.load()
    if pending:
        before = saved.restore(acct, pending)
    app = acct.application(app_id)
    body, changes = configured_app(app, origin, rtc=rtc)
    try:
        saved.save(app_id, app, body)
    except OSError as e:
        raise ConvoError(f"could not save application {app_id} before changing it "
                         f"({printable(e.strerror or e, 80)} in {saved.directory}): nothing "
                         f"was changed") from None
    try:
        acct.put(app_id, body)
    except ConvoError as e:
        saved.remove()  # nothing changed: nothing to put back
        raise ConvoError(f"could not point application {app_id} at {origin}: {e}",
                         e.exit_code) from None
    return printable(app.get("name") or app_id, 80), changes, before

# -- .vonagerc and the key file ------------------------------------------------

def merged_vonagerc(text: str | None, app_id: str, key_pem: str) -> str:
    """./.vonagerc with the new application's ID and key, as the Vonage CLI's `apps
    init` writes them (the key's PEM text), merged into what the file holds: the
    api-key and api-secret, and any other key, are kept, in the file's own spelling."""
    doc = loads(text) if text and text.strip() else {}
    if not isinstance(doc, dict):
        raise ConvoError("./.vonagerc is not a JSON object: fix or move it, then run this "
                         "again", EXIT_USAGE)
    for key, value in (("app-id", app_id), ("private-key", key_pem)):
        camel = VONAGE_CLI_KEYS[key]
        doc[camel if camel in doc and key not in doc else key] = value
    return json.dumps(doc, indent=2) + "\n"


def create_application(acct: Account, name: str, origin: str) -> dict[str, Any]:
    """POST a new application with the voice and rtc capabilities, its webhooks at
    `origin`; Vonage makes the key pair and returns the private key this once."""
    capabilities = {
        "voice": {"webhooks": {
            "answer_url": {"address": origin + SERVE_WEBHOOKS["voice", "answer_url"],
                           "http_method": "GET"},
            "event_url": {"address": origin + SERVE_WEBHOOKS["voice", "event_url"],
                          "http_method": "POST"}}},
        "rtc": {"webhooks": {"event_url": {"address": origin + SERVE_WEBHOOKS["rtc", "event_url"],
                                           "http_method": "POST"}}}}
    doc = acct.apps.call("POST", "/v2/applications", dump_json(
        {"name": name, "capabilities": capabilities}).encode(), "application/json")
    if not (isinstance(doc, dict) and _scalar(doc.get("id"))
            and _scalar(_dict(doc.get("keys")).get("private_key"))):
        raise ConvoError("the Applications API's reply to the create has no id or no private "
                         "key: look in the dashboard for the application, and delete it")
    return doc


def write_new_file(path: str, text: str) -> None:
    """Write a new file, 0600, never over an existing one or through a link."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())

# -- the command ---------------------------------------------------------------

def ask_yes(question: str) -> bool:
    """Ask on the terminal; False when there is none."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    sys.stderr.write(f"{printable(question, None)} [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def cmd_app(args: argparse.Namespace, out: TextIO) -> int:
    """Show the application, create one, link a number, or put it back.

    app: its webhooks, settings, capabilities and numbers, and what will keep
    calls from working. app create NAME: a new application (voice and rtc) with
    its key in ./private.key and its ID in ./.vonagerc. app link NUMBER, app
    unlink NUMBER: the number's calls go to the application, or no longer.
    app restore: put back what serve --configure changed, when serve could not.
    Takes the account's API key and secret, not the application's key.
    """
    action, value = args.action or "show", (args.value or "").strip()
    if (action in ("create", "link", "unlink")) != bool(value):
        raise ConvoError({"create": f"give the new application's name: {PROG} app create "
                                    f"'Conversation App'",
                          "link": f"give the number: {PROG} app link 447700900000",
                          "unlink": f"give the number: {PROG} app unlink 447700900000"}.get(
            action, f"app {action} takes no value"), EXIT_USAGE)
    if args.public_url and action != "create":
        raise ConvoError("--public-url goes with app create (serve --configure has its own)",
                         EXIT_USAGE)
    check_api_options(args)
    acct = account(args)
    style = style_for(out)
    try:
        if action == "create":
            return app_create(acct, value, args, out)
        if action == "restore":
            return app_restore(acct, out)
        app_id = application_id(args)
        if action == "show":
            app = acct.application(app_id)
            numbers = acct.linked_numbers(app_id)
            if args.json:
                out.write(dump_json({"application": app, "numbers": numbers}, indent=2) + "\n")
            else:
                write_lines(out, render_app(app, numbers, style), style)
            return EXIT_OK
        return app_link(acct, app_id, check_number(value, f"app {action}"), action, args.yes,
                        out)
    finally:
        acct.close()


def app_create(acct: Account, name: str, args: argparse.Namespace, out: TextIO) -> int:
    key_path = args.key_file or "private.key"
    if os.path.lexists(key_path):
        raise ConvoError(f"{key_path} exists and is never overwritten: move it, or give "
                         f"another path with --key-file (nothing was created)", EXIT_USAGE)
    rc_text = read_own_file(os.path.join(os.getcwd(), ".vonagerc"), MAX_CREDENTIALS_BYTES,
                            "a credentials file")
    merged_vonagerc(rc_text, "", "")  # a file that cannot be merged stops us now
    kept = " (merged: what it held is kept)" if rc_text else ""
    hidden = os.path.join(os.path.expanduser("~"), ".vonage", "config.json")
    if rc_text is None and os.path.exists(hidden):
        kept = (f" (the Vonage CLI now reads it instead of {hidden}; convo.py still finds "
                f"the account's keys there)")
    origin = public_origin(args.public_url)[0] if args.public_url else PLACEHOLDER_ORIGIN
    doc = create_application(acct, name, origin)
    app_id, pem = doc["id"], doc["keys"]["private_key"]
    try:
        write_new_file(key_path, pem)
    except OSError as e:
        raise ConvoError(f"created application {app_id}, but its private key could not be "
                         f"written to {key_path} ({printable(e.strerror or e, 80)}) and "
                         f"Vonage keeps no copy: delete the application in the dashboard and "
                         f"create it again") from None
    try:
        write_state_file(os.getcwd(), ".vonagerc", merged_vonagerc(rc_text, app_id, pem),
                         sync=True)
    except OSError as e:
        raise ConvoError(f"created application {app_id} (its key is in {key_path}), but "
                         f"./.vonagerc could not be written ({printable(e.strerror or e, 80)}): "
                         f"set VONAGE_APPLICATION_ID={app_id} and "
                         f"VONAGE_APPLICATION_PRIVATE_KEY_PATH={key_path}") from None
    out.write(f"Created application {printable(name, 80)}  {app_id}\n"
              f"  private key  {key_path} (0600: Vonage keeps no copy)\n"
              f"  .vonagerc    its ID and key{kept}: the next commands need nothing else\n")
    if origin == PLACEHOLDER_ORIGIN:
        out.write(f"  webhooks     placeholders at {PLACEHOLDER_ORIGIN}: serve --configure "
                  f"sets them\n")
    out.write(f"next:\n  {PROG} app link NUMBER\n"
              f"  {PROG} serve --configure --public-url https://YOUR-TUNNEL --to PHONE\n")
    return EXIT_OK


def app_link(acct: Account, app_id: str, msisdn: str, action: str, yes: bool,
             out: TextIO) -> int:
    number = acct.number(msisdn)
    linked = number_app(number)
    if action == "unlink" and linked != app_id:
        out.write(f"{msisdn} is not linked to application {app_id}"
                  + (f" (it is linked to {printable(linked, 40)})" if linked else "")
                  + ": nothing to do\n")
        return EXIT_OK
    if action == "link" and linked == app_id:
        out.write(f"{msisdn} is already linked to application {app_id}\n")
        return EXIT_OK
    if action == "link" and linked and not yes:
        question = (f"{msisdn} is linked to application {printable(linked, 40)}: link it to "
                    f"{app_id} instead?")
        if not ask_yes(question):
            raise ConvoError(f"{msisdn} is linked to application {printable(linked, 40)}: "
                             f"give --yes to move it to {app_id} (nothing was changed)",
                             EXIT_USAGE)
    acct.update_number(number, app_id if action == "link" else None)
    out.write(f"{msisdn} ({printable(number.get('country') or '?', 4)}) "
              + (f"linked to application {app_id}" if action == "link"
                 else f"no longer linked to application {app_id}") + "\n")
    return EXIT_OK


def app_restore(acct: Account, out: TextIO) -> int:
    saved = SavedApp(state_dir())
    saved.hold()
    try:
        pending = saved.load()
        if pending is None:
            out.write("Nothing to put back: no serve --configure left an application changed\n")
            return EXIT_OK
        out.write(saved.restore(acct, pending) + "\n")
        return EXIT_OK
    finally:
        saved.release()


# ############################################################################
# 10. Webhooks, as serve, send and show read them, and as convo.py sends one
# ############################################################################

# -- what they hold (pure) -----------------------------------------------------

#: send --log names the file it replays (file_identity) in this header; a serve that
#: writes to that very file answers "own-log" in it.
REPLAY_HEADER = "Convo-Replay-Of"
#: How send's User-Agent ends: serve labels such a call "(played by send)", gives no
#: `get` hint for it and does not record it as the latest call.
SEND_AGENT_MARK = " (send)"

#: Headers that carry a secret (a signed webhook's token, Basic auth, a cookie).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


def shown_header(name: str, value: str) -> str:
    """A header's value as it may be shown: a secret's kept to its scheme,
    'Bearer …(redacted)'."""
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme = value.split(" ", 1)[0] if " " in value.strip() else ""
    return f"{scheme} …(redacted)".lstrip()


_NUMBER_RE = re.compile(r"[1-9]\d{6,14}")  # E.164 digits, as Vonage's SDKs check them


def check_number(text: str, flag: str) -> str:
    """Return an E.164 number without its '+'. Raises ConvoError (exit 2) showing the form."""
    number = re.sub(r"[\s().-]", "", text or "").removeprefix("+")  # '+44 7700 900003'

    if not _NUMBER_RE.fullmatch(number):
        raise ConvoError(f"{flag} '{printable(text, 40)}' is not a phone number: use E.164 "
                         f"digits without '+', e.g. 447700000003", EXIT_USAGE)
    return number


def build_answer_ncco(to: str, from_: str | None = None) -> list[dict[str, Any]]:
    """The tutorial's NCCO: connect the inbound call to a second phone."""
    action: dict[str, Any] = {"action": "connect"}
    if from_:
        action["from"] = from_
    action["endpoint"] = [{"type": "phone", "number": to}]
    return [action]


def webhook_params(method: str, body: bytes, query: str) -> tuple[dict[str, Any], str | None]:
    """Return a webhook's fields (JSON body for POST, query for GET) and any problem."""
    from urllib.parse import parse_qsl
    if method != "POST":
        return dict(parse_qsl(query, keep_blank_values=True)), None
    if not body.strip():
        return {}, "empty body"
    try:
        doc = loads(body)
    except ValueError as e:
        return {}, f"invalid JSON{json_problem(e)}"
    if not isinstance(doc, dict):
        return {}, f"expected a JSON object, got a JSON {json_type(doc)}"
    return doc, None


def payload_hash(method: str, body: bytes, query: str) -> str:
    """SHA-256 hex of what a signed webhook's payload_hash covers.

    POST: the raw body. GET has no body; we hash its query parameters as compact
    JSON in the order received (Vonage does not document this case).
    """
    import hashlib
    if method == "POST":
        return hashlib.sha256(body).hexdigest()
    params, _ = webhook_params(method, body, query)
    return hashlib.sha256(json.dumps(params, separators=(",", ":")).encode()).hexdigest()


def webhook_claims(*, body_hash: str, api_key: str, app_id: str | None, now: float,
                   jti: str) -> dict[str, Any]:
    """The claims Vonage signs a webhook with, for an HS256 JWT (developer.vonage.com:
    Getting started, Webhooks, "Decoding signed webhooks")."""
    claims = {"iat": int(now), "jti": jti, "iss": "Vonage", "payload_hash": body_hash,
              "api_key": api_key}
    if app_id:
        claims["application_id"] = app_id
    return claims


#: How old (and how far ahead, for a clock a little fast) a signed webhook's iat may
#: be; Vonage's docs ("Decoding signed webhooks") say to refuse tokens over 5 minutes.
WEBHOOK_MAX_AGE_S = 300
WEBHOOK_MAX_SKEW_S = 60


def check_webhook_claims(claims: dict[str, Any], *, body_hash: str, now: float,
                         api_key: str | None, app_id: str | None) -> str | None:
    """Check a signed webhook's verified claims; return the reason to refuse it, or None."""
    import hmac
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, (int, float)):
        return "iat is not a number"
    if now - iat > WEBHOOK_MAX_AGE_S:
        return f"iat is {now - iat:.0f} s old (over {WEBHOOK_MAX_AGE_S // 60} minutes)"
    if iat - now > WEBHOOK_MAX_SKEW_S:
        return f"iat is {iat - now:.0f} s in the future (over {WEBHOOK_MAX_SKEW_S} s)"
    if not hmac.compare_digest(str(claims.get("payload_hash", "")).lower(), body_hash):
        return "payload_hash does not match the body"
    if api_key and not hmac.compare_digest(str(claims.get("api_key", "")), api_key):
        return "api_key does not match --api-key"
    if app_id and not hmac.compare_digest(str(claims.get("application_id", "")), app_id):
        return "application_id does not match this application"
    return None


class ReplayGuard:
    """Remember the jti of every signed webhook for as long as its token could be
    accepted (check_webhook_claims), to refuse replays."""

    def __init__(self, window_s: float = WEBHOOK_MAX_AGE_S + WEBHOOK_MAX_SKEW_S) -> None:
        import threading
        from collections import OrderedDict
        self.window_s = window_s
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, jti: str, now: float) -> bool:
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now - self.window_s:
                self._seen.popitem(last=False)
            if jti in self._seen:
                return False
            self._seen[jti] = now
            return True


class OneConversation:
    """--conversation: a conversation ID, or its start as serve's log shows it
    ('bc643220'). Called with a conversation ID, says whether it is the one meant;
    raises ConvoError (exit 2) when the start fits two. Raises ConvoError (exit 2)
    for text that is neither."""

    def __init__(self, text: str) -> None:
        typed = (text or "").strip()
        for mark in ("…", "..."):  # as serve's log shows it: 'bc643220…'
            typed = typed[:-len(mark)] if typed.endswith(mark) else typed
        core = (typed[4:] if typed[:4].upper() == "CON-" else typed).lower()
        self.exact = "CON-" + core if _CONV_ID_RE.fullmatch("CON-" + core) else None
        if not self.exact and not re.fullmatch(r"[0-9a-f][0-9a-f-]{3,35}", core):
            raise ConvoError(f"'{printable(text, 80)}' is not a conversation ID: expected CON- "
                             f"and a UUID, e.g. CON-bc643220-2542-499a-892e-c982c4150c06, or "
                             f"its start as serve's log shows it, e.g. bc643220", EXIT_USAGE)
        self.typed, self.prefix, self.found = typed, core, self.exact

    def __call__(self, conv: str) -> bool:
        if self.exact:
            return conv == self.exact
        if not conv[4:].startswith(self.prefix) or not conv.startswith("CON-"):
            return False
        if self.found and self.found != conv:
            raise ConvoError(f"--conversation {printable(self.typed, 40)} fits {self.found} and "
                             f"{conv}: give more of it", EXIT_USAGE)
        self.found = conv
        return True

    def __str__(self) -> str:
        return self.found or printable(self.typed, 80)


def conversation_of(webhook: dict[str, Any]) -> str:
    """The conversation a webhook belongs to: the key that groups and filters webhooks."""
    conv = webhook.get("conversation_uuid") or event_conversation_id(webhook)
    return conv if isinstance(conv, str) and conv else "(no conversation_uuid)"


def webhook_kind(webhook: dict[str, Any]) -> str:
    """'answer', 'event' or 'rtc': what serve recorded (_webhook), else what the fields
    say. An answer webhook has neither a status nor a timestamp; every event has one;
    an RTC event names its conversation conversation_id, not conversation_uuid."""
    kind = webhook.get("_webhook")
    if kind in ("answer", "event", "rtc"):
        return kind
    if "conversation_uuid" not in webhook and event_conversation_id(webhook):
        return "rtc"  # an RTC event: its conversation is conversation_id (or cid)
    return "answer" if "status" not in webhook and "timestamp" not in webhook else "event"


def webhook_status(webhook: dict[str, Any]) -> Any:
    """What a webhook says happened: its status, else what kind of webhook it is."""
    return webhook.get("status") or (
        "(answer)" if webhook_kind(webhook) == "answer"
        else "error" if webhook.get("reason") else "(no status)")


def is_webhook(doc: dict[str, Any]) -> bool:
    return "members" not in doc and any(k in doc for k in ("status", "_webhook",
                                                          "conversation_uuid", "cid",
                                                          "conversation_id"))


def iter_json_lines(lines: Iterable[str], label: str, skipped: list[str]
                    ) -> Iterator[dict[str, Any]]:
    """Decode JSON lines one by one, adding a warning to `skipped` for each bad line."""
    # Speed (bench/timeline.py): the decoder itself, not loads(), whose rule this repeats.
    json_loads = _DECODER.decode
    for number, line in enumerate(lines, 1):
        try:
            value = json_loads(line)
        except RecursionError:
            skipped.append(f"{label}:{number}: skipped: invalid JSON (nesting too deep)")
            continue
        except ValueError as e:
            if line.strip():
                skipped.append(f"{label}:{number}: skipped: invalid JSON{json_problem(e)}")
            continue
        if isinstance(value, dict):
            yield value
        else:
            skipped.append(f"{label}:{number}: skipped: not a JSON object")

# -- signing -------------------------------------------------------------------

def webhook_credentials(args: argparse.Namespace) -> tuple[str | None, str | None, str | None]:
    """What signed webhooks are checked (serve) or signed (send) with: the signature
    secret, the account's API key and the application ID, each from its flag, else
    from the environment. Raises ConvoError (exit 2) for an application ID that is
    not one."""
    env = os.environ.get
    app_id = (args.app_id or env("VONAGE_APPLICATION_ID") or "").strip()
    if app_id:
        check_app_id(app_id, "--app-id" if args.app_id else "$VONAGE_APPLICATION_ID")
    return (args.signature_secret or env("VONAGE_SIGNATURE_SECRET") or None,
            args.api_key or env("VONAGE_API_KEY") or None, app_id or None)


def allow_short_secrets() -> None:
    """Silence pyjwt's warning (2.10 and later) about HS256 secrets under 32 bytes: the
    signature secret is the account's, set on Vonage's side, and the warning would
    print a source line into serve's log and send's output."""
    import warnings
    warnings.filterwarnings("ignore", message="The HMAC key is", category=UserWarning)


def sign_webhook(claims: dict[str, Any], secret: str) -> str:
    """Sign a webhook's claims as Vonage does: an HS256 JWT with the signature secret."""
    import jwt
    allow_short_secrets()
    return jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "JWT"})

# -- sending one, as Vonage does -----------------------------------------------

def webhook_request(method: str, url: str, fields: dict[str, Any]) -> tuple[str, bytes]:
    """A webhook as Vonage sends it: GET with the fields in the query, or POST with
    them as a JSON body. Returns (URL, body)."""
    from urllib.parse import urlencode
    if method == "GET":
        query = urlencode({k: v if isinstance(v, str) else json.dumps(v)
                           for k, v in fields.items()})
        return f"{url}{'&' if '?' in url else '?'}{query}", b""
    return url, json.dumps(fields, separators=(",", ":")).encode()


def webhook_headers(method: str, url: str, body: bytes, *, secret: str | None,
                    api_key: str = "", app_id: str | None = None) -> dict[str, str]:
    """The headers of a webhook that convo.py sends (send, and the inspector's
    replay): marked as send's, JSON for a POST as Vonage's are, and, with the
    signature secret, a fresh HS256 token over its payload, as Vonage signs them."""
    import uuid
    from urllib.parse import urlsplit
    headers = {"User-Agent": f"convo.py/{__version__}{SEND_AGENT_MARK}"}
    if body:
        headers["Content-Type"] = "application/json"
    if secret:
        claims = webhook_claims(body_hash=payload_hash(method, body, urlsplit(url).query),
                                api_key=api_key, app_id=app_id, now=time.time(),
                                jti=str(uuid.uuid4()))
        headers["Authorization"] = f"Bearer {sign_webhook(claims, secret)}"
    return headers

# -- their lines and table (pure) ----------------------------------------------

def call_tag(webhook: dict[str, Any], style: Style) -> str:
    """A webhook's call in short: 'bc643220…/797168e2…' (conversation/leg), or what
    exists. (`send --conversation` takes the first part as it is shown.)"""
    conv = _scalar(webhook.get("conversation_uuid")) or ""
    leg = _scalar(webhook.get("uuid")) or _scalar(webhook.get("call_uuid")) or ""
    return "/".join(short_id(x, style) for x in (conv[4:] if conv.startswith("CON-") else conv,
                                                 leg) if x)


def _ends(webhook: dict[str, Any], style: Style) -> str:
    """'447700000001 → 447700000002', or whichever end is known, or nothing."""
    ends = [_party(webhook.get(k)) if _scalar(webhook.get(k)) or isinstance(
        webhook.get(k), dict) else "" for k in ("from", "to")]
    if not ends[0]:
        ends[0] = printable(webhook.get("from_user") or "", 60)
    return f" {style.arrow} ".join(ends) if all(ends) else "".join(ends)


#: The kinds of line in serve's log, padded to one width so that its columns line up.
LOG_KINDS = ("answer", "event", "rtc")
_KIND_WIDTH = max(map(len, LOG_KINDS))


def log_line(kind: str, *parts: str) -> str:
    """One line of serve's log, after the clock: its kind, then the parts that are not
    empty, two spaces apart. Every line serve logs for a webhook is made here."""
    return "  ".join([kind.ljust(_KIND_WIDTH), *(p for p in parts if p)])


def answer_webhook_line(params: dict[str, Any], style: Style) -> str:
    """One log line for an answer webhook: its call, from → to and region."""
    region = host_of(str(params.get("region_url"))) if _scalar(params.get("region_url")) else ""
    return log_line("answer", call_tag(params, style), _ends(params, style), region)


#: An event's fields worth a note beside its status, in the order they are said.
NOTE_FIELDS = ("duration", "price", "detail", "reason", "disconnected_by", "sip_code")


def event_notes(event: dict[str, Any]) -> str:
    """What to say beyond the status: duration and price on completed, and any detail."""
    notes = []
    for key in NOTE_FIELDS:
        value = event.get(key)
        if value not in (None, ""):
            text = printable(value, 20 if key in ("duration", "price") else 80)
            notes.append(f"{key.replace('_', ' ')} {text}" + (" s" if key == "duration" else ""))
    return ", ".join(notes)


def webhook_event_line(event: dict[str, Any], style: Style) -> str:
    """One log line for an event webhook: its call, direction, from → to, status and
    notes, whole; a missing field is left out."""
    status = printable(webhook_status(event), 40)
    direction = printable(event.get("direction") or "", 20)
    head = log_line("event", call_tag(event, style), direction and direction.ljust(len("outbound")),
                    _ends(event, style))
    notes = event_notes(event)
    return f"{head}  {style.status(status)}" + (f"  ({notes})" if notes else "")


_NOTE_KEYS = frozenset(NOTE_FIELDS)


def webhook_row(event: dict[str, Any], more: str = "…") -> tuple[str, ...]:
    """One row of the call-status table: timestamp, leg (its start, then `more`),
    direction, from, to, status, notes."""
    get = event.get
    answer = webhook_kind(event) == "answer"
    leg = get("uuid") or get("call_uuid") or "-"
    row = (get("timestamp") or get("_received_at") or "-",
           leg[:8] + more if isinstance(leg, str) and len(leg) > 9 else leg,
           get("direction") or "-",
           get("from") or "-", get("to") or "-", get("status") or webhook_status(event))
    # Speed (bench/timeline.py): nearly every cell is short plain text, so one check
    # in C for the whole row; a TypeError means a number or an object in a cell.
    try:
        plain = "".join(row).isprintable() and max(map(len, row)) <= 60
    except TypeError:
        plain = False
    if not plain:
        row = (printable(row[0], 40), printable(row[1], 12), printable(row[2], 20),
               _party(row[3]), _party(row[4]), printable(row[5], 30))
    notes = ("answer webhook: the NCCO was sent" if answer
             else "" if _NOTE_KEYS.isdisjoint(event) else event_notes(event))
    return (*row, notes)


def group_webhooks(events: Iterable[dict[str, Any]], only: Any = None, more: str = "…"
                   ) -> dict[str, list[tuple[str, ...]]]:
    """Turn webhooks into table rows, grouped by conversation in order of appearance;
    `more` is the style's mark for a shortened ID."""
    groups: dict[str, list[tuple[str, ...]]] = {}
    for event in events:
        key = conversation_of(event)
        if only and not only(key):
            continue
        rows = groups.get(key)
        if rows is None:
            rows = groups[key] = []
        rows.append(webhook_row(event, more))
    return groups


def render_webhook_log(groups: dict[str, list[tuple[str, ...]]], style: Style
                       ) -> Iterator[str]:
    """The event webhook's call-status table, grouped by conversation (as the seed shows it)."""
    for i, (conv, rows) in enumerate(groups.items()):
        if i:
            yield ""
        noun = "webhook" if len(rows) == 1 else "webhooks"
        yield (f"Conversation {style.paint(printable(conv, 80), 'bold', 'cyan')}  "
               f"({len(rows)} {noun})")
        yield from format_table(("TIMESTAMP", "LEG", "DIRECTION", "FROM", "TO", "STATUS",
                                 "NOTES"), rows, style)


# ############################################################################
# 11. `serve`: the answer and event webhooks
# ############################################################################

# -- limits and routes ---------------------------------------------------------

SERVE_IDLE_TIMEOUT_S = 30.0       # a keep-alive connection with no request is closed
SERVE_REQUEST_DEADLINE_S = 10.0   # a whole request, from its first byte (408 after)
SERVE_MAX_CONNECTIONS = 128       # open at once; also the listen backlog
SERVE_MAX_BODY_BYTES = 1 << 20    # 413 over this

SERVE_GRACE_S = 4.5               # on SIGTERM, for requests in flight
MAX_REQUEST_LINE = 8 << 10        # 414 over this (RFC 9112 suggests at least 8000)
MAX_FIELD_LINE = 8 << 10          # one header line; 431 over this
MAX_FIELDS = 100                  # header lines in one request; 431 over this
MAX_HEADER_BLOCK = 64 << 10       # request line and headers together; 431 over this
EVENTS_FILE = "events.jsonl"      # every webhook received, one JSON line each

#: path -> the methods it answers
ROUTES = {**{path: ("GET", "POST") for path in WEBHOOK_PATHS}, "/health": ("GET", "HEAD")}

def route_hint(path: str) -> str:
    """What a request to an unknown path most likely meant."""
    lower = path.lower()
    for path, name in WEBHOOK_PATHS.items():
        if name in lower:
            return f"the {name} URL should end in {path}"
    return "serve answers /webhooks/answer, /webhooks/event, /webhooks/rtc and /health"


# -- HTTP/1.1, read strictly (pure) --------------------------------------------

# Two parts. HTTP/1.1 plumbing: reading requests within limits and deadlines,
# keep-alive, the connection cap, graceful stop. Then routes and storage: what
# serve does with a request, and the two files it writes.

# The request head is parsed strictly, by RFC 9112 and RFC 9110: anything a
# proxy in front of serve might read differently (a bare CR, a space before a
# colon, two Content-Lengths that disagree) is refused, never guessed at.
_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"  # RFC 9110 §5.6.2
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") ([\x21-\x7e]+) HTTP/([0-9])\.([0-9])")
_FIELD_LINE = re.compile(rb"(" + _TOKEN + rb"):([\t\x20-\x7e\x80-\xff]*)")  # §5.5: no CTLs
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(:[0-9]*)?")
_ABSOLUTE_FORM = re.compile(r"https?://[^/?#]*([/?][^#]*)?", re.IGNORECASE)


class RequestHead:
    """A parsed request line and header fields (names lower-cased, values in order)."""

    def __init__(self, method: str, path: str, version: str,
                 fields: dict[str, list[str]]) -> None:
        self.method, self.path, self.version, self.fields = method, path, version, fields

    def field(self, name: str) -> str:
        """A field's value, its repeats joined with commas as RFC 9110 §5.3 allows."""
        return ", ".join(self.fields.get(name, ()))

    def field_tokens(self, name: str) -> list[str]:
        return [t.strip(" \t").lower() for t in self.field(name).split(",") if t.strip(" \t")]

    @property
    def keep_alive(self) -> bool:
        tokens = self.field_tokens("connection")
        return "close" not in tokens if self.version == "HTTP/1.1" else "keep-alive" in tokens


class Refusal(Exception):
    """Raised for a request that serve refuses: `status` is what it answers."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_request_line(line: bytes) -> RequestHead:
    """Parse a request line (its line ending removed) into a head with no fields yet.

    Raises ConvoError with .status 400 or 505 for anything RFC 9112 does not allow.
    """
    match = _REQUEST_LINE.fullmatch(line)
    if not match:
        raise Refusal(400, f"bad request line '{printable(line[:80].decode('latin-1'))}'")
    method, target, major, minor = (g.decode("ascii") for g in match.groups())
    if major != "1":
        raise Refusal(505, f"HTTP/{major}.{minor} is not supported: use HTTP/1.1")
    if target.startswith("/"):  # origin-form
        path = target
    else:  # absolute-form, as a proxy sends it (RFC 9112 §3.2.2)
        absolute = _ABSOLUTE_FORM.fullmatch(target)
        if not absolute:
            raise Refusal(400, f"unsupported request target '{printable(target, 80)}'")
        path = absolute.group(1) or "/"
        path = path if path.startswith("/") else "/" + path
    return RequestHead(method, path, "HTTP/1.0" if minor == "0" else "HTTP/1.1", {})


def add_field_line(head: RequestHead, line: bytes) -> None:
    """Add one header line (its line ending removed). Raises Refusal (400)."""
    match = _FIELD_LINE.fullmatch(line)
    if not match:  # obs-fold, a space before the colon, a control character...
        raise Refusal(400, "malformed header line")
    name, value = match.groups()
    head.fields.setdefault(name.decode("ascii").lower(), []).append(
        value.strip(b" \t").decode("latin-1"))


def check_request_head(head: RequestHead) -> None:
    """The rules on a whole head. Raises Refusal (400)."""
    hosts = head.fields.get("host", [])
    if len(hosts) > 1 or (head.version == "HTTP/1.1" and not hosts):
        raise Refusal(400, "an HTTP/1.1 request carries exactly one Host header")
    if hosts and not _HOST.fullmatch(hosts[0]):
        raise Refusal(400, "invalid Host header")
    if len(head.fields.get("authorization", ())) > 1:
        raise Refusal(400, "more than one Authorization header")


def body_length(head: RequestHead, limit: int) -> int:
    """How many body bytes follow the head. Raises Refusal (4xx or 501) for
    framing that is refused: Transfer-Encoding, or a Content-Length that is not
    1*DIGIT, disagrees with another, or is over `limit`."""
    if "transfer-encoding" in head.fields:
        chunked = "chunked" in head.field_tokens("transfer-encoding")
        raise Refusal(411 if chunked else 501, "chunked bodies are refused: send a "
                      "Content-Length (as Vonage does)")
    values = [v.strip(" \t") for v in head.field("content-length").split(",")] \
        if "content-length" in head.fields else []
    if not values:
        return 0
    if not all(v.isascii() and v.isdigit() for v in values):
        raise Refusal(400, "invalid Content-Length")
    if len(set(values)) > 1:
        raise Refusal(400, "conflicting Content-Length values")
    if len(values[0].lstrip("0")) > len(str(limit)) or int(values[0]) > limit:
        raise Refusal(413, f"body over {limit} bytes")
    return int(values[0])

# -- the server ----------------------------------------------------------------

class _Connection(io.RawIOBase):
    """One client connection: the socket under its handler's rfile, and what the
    server needs to know of it.

    Between requests it waits up to the idle timeout, in short slices, so that
    it closes itself when the server stops or evicts it (only when nothing is
    waiting: a request that has arrived is always served). Once a request's
    first byte arrives, all of it must come within the request deadline.
    """

    SLICE_S = 0.25

    def __init__(self, sock: Any, server: Any) -> None:
        import select
        import socket
        super().__init__()
        self.sock, self.server, self.config = sock, server, server.config
        self.deadline: float | None = None
        # When it last had no request in progress: since it was accepted, or since its
        # last reply was written (the client may send again at once); None while a
        # request is being read or answered.
        self.idle_since: float | None = time.monotonic()
        self.evicted = False
        self._select, self.timeout_error = select.select, socket.timeout  # once, not per read

    def await_request(self) -> None:
        self.deadline = None

    def readinto(self, buf: Any) -> int:
        if self.deadline is None:
            return self._first_bytes(buf)
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.timeout_error("request deadline passed")
        self.sock.settimeout(min(left, self.config.idle_timeout_s))
        return self.sock.recv_into(buf)

    def _first_bytes(self, buf: Any) -> int:
        """Wait for a request; 0 (end of file) on idle timeout, eviction or stop."""
        idle_until = time.monotonic() + self.config.idle_timeout_s
        while True:
            # Only this thread reads this socket, so "nothing is waiting" stays true
            # until it returns.
            if (self.server.stopping or self.evicted) and not self._select(
                    [self.sock], [], [], 0)[0]:
                return 0
            left = idle_until - time.monotonic()
            if left <= 0:
                return 0
            self.sock.settimeout(min(left, self.SLICE_S))
            try:
                n = self.sock.recv_into(buf)
            except self.timeout_error:
                continue
            if n:
                self.idle_since = None
                self.deadline = time.monotonic() + self.config.request_deadline_s
            return n

    def readable(self) -> bool:
        return True


def make_server(host: str, port: int, config: ServeConfig) -> Any:
    """Bind the webhook server (not started: call serve_forever, then stop)."""
    return _server_class()((host, port), config=config)


def _server_class() -> Any:
    """Define the server's classes on first use, so that only `serve` imports
    http.server (bench/startup.py keeps `--help` and `show` free of it)."""
    import threading
    from email.utils import formatdate
    from http import HTTPStatus
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class WebhookHandler(BaseHTTPRequestHandler):
        """HTTP/1.1 keep-alive requests, read within limits and handed to the routes."""

        protocol_version = "HTTP/1.1"
        server: WebhookServer

        def setup(self) -> None:
            super().setup()
            self.rfile.close()  # replaced: an open makefile() would keep the socket alive
            self.conn = self.server.connection(self.request)
            self.rfile = io.BufferedReader(self.conn)

        def handle_one_request(self) -> None:
            self.conn.await_request()
            self.close_connection = True
            self.command, self.path = "", ""
            try:
                head = self.read_head()
                if head is None:
                    return  # the client closed, or the connection was idle too long
                self.close_connection = not head.keep_alive or self.server.stopping
                size = body_length(head, self.server.config.max_body_bytes)
                if size and head.version == "HTTP/1.1" and \
                        head.field_tokens("expect") == ["100-continue"]:
                    self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = self.rfile.read(size) if size else b""
                if len(body) < size:
                    self.close_connection = True  # the client went away mid-body
                    return
            except Refusal as e:
                self.server.routes.refused(self.command, self.path, e.status, str(e))
                return self.send_error(e.status, str(e))
            except self.conn.timeout_error:
                self.server.routes.refused(self.command, self.path, 408, "request took too "
                                           "long: the whole request must come within "
                                           f"{self.server.config.request_deadline_s:g} s")
                return self.send_error(HTTPStatus.REQUEST_TIMEOUT, "request took too long")
            except ConnectionError:
                self.close_connection = True
                return
            path, _, query = head.path.partition("?")
            started = time.monotonic()
            status, payload, headers = self.server.routes.handle(
                head.method, path, query, body, authorization=head.field("authorization"),
                client=self.client_address[0], replay_of=head.field(REPLAY_HEADER.lower()),
                played=head.field("user-agent").endswith(SEND_AGENT_MARK))
            if self.server.stopping:
                self.close_connection = True
            exchanged = self.server.config.on_exchange
            if exchanged:  # the inspector's page, before the reply: a client that has
                # its reply finds the webhook there. What it needs, as it is (bench/page.py).
                payload = payload if isinstance(payload, bytes) else (
                    b"" if payload is None else json.dumps(payload).encode())
                exchanged(head.method, path, query, head.fields, body, status, headers,
                          payload, (time.monotonic() - started) * 1000)
            try:
                self.reply(status, payload, headers=headers)
            except ConnectionError:
                self.close_connection = True

        def read_head(self) -> RequestHead | None:
            """Read and parse the request line and header lines, each as it arrives;
            lines end in CRLF or a bare LF. None if the connection ends before a
            request starts.

            Raises Refusal (400, 414, 431 or 505) at the first problem.
            """
            head: RequestHead | None = None
            budget, count = MAX_HEADER_BLOCK, 0
            while True:
                limit = MAX_FIELD_LINE if head else MAX_REQUEST_LINE
                want = min(limit, budget) + 2  # room for the CRLF
                raw = self.rfile.readline(want)
                budget -= len(raw)
                if not raw.endswith(b"\n"):
                    if not raw and head is None:
                        return None
                    if len(raw) < want:
                        raise Refusal(400, "the request ended early")
                    if want <= limit:
                        raise Refusal(431, f"request head over {MAX_HEADER_BLOCK} bytes")
                    raise Refusal(431 if head else 414, "header line too long" if head
                                     else "request line too long")
                line = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
                if not line:
                    if head:
                        check_request_head(head)
                        return head
                    continue  # RFC 9112 §2.2: empty lines before a request are ignored
                if head is None:
                    head = parse_request_line(line)
                    self.command, self.path = head.method, head.path
                    continue
                count += 1
                if count > MAX_FIELDS:
                    raise Refusal(431, f"more than {MAX_FIELDS} header lines")
                add_field_line(head, line)

        def send_error(self, code: int, message: str | None = None,
                       explain: str | None = None) -> None:
            """Every error has a JSON body, and closes the connection (its framing is
            suspect)."""
            self.close_connection = True
            try:
                self.reply(code, {"error": message or HTTPStatus(code).phrase})
            except OSError:
                pass

        def reply(self, code: int, body: Any = None, *,
                  headers: dict[str, str] | None = None) -> None:
            """Log the request, then write the whole response in one send."""
            data = body if isinstance(body, bytes) else (
                b"" if body is None else json.dumps(body).encode())
            lines = [f"HTTP/1.1 {code} {HTTPStatus(code).phrase}", "Server: convo",
                     f"Date: {self.server.http_date()}", f"Content-Length: {len(data)}"]
            if data:
                lines.append("Content-Type: application/json")
            lines.extend(f"{k}: {v}" for k, v in (headers or {}).items())
            if self.close_connection:
                lines.append("Connection: close")
            if self.server.verbose:
                self.server.log.debug("%s %s %s -> %d", self.client_address[0],
                                      self.command or "-", printable(self.path or "-", None),
                                      code)
            head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
            if not self.close_connection:
                self.conn.idle_since = time.monotonic()  # before the client can see the reply
            self.wfile.write(head + (b"" if self.command == "HEAD" else data))

    class WebhookServer(ThreadingHTTPServer):
        """A threading HTTP server with a cap on busy connections and a graceful stop."""

        daemon_threads = True
        request_queue_size = SERVE_MAX_CONNECTIONS   # the listen backlog
        allow_reuse_address = True

        def __init__(self, address: tuple[str, int], *, config: ServeConfig) -> None:
            import logging
            self.config = config
            self.log = logging.getLogger("convo")
            self.verbose = self.log.isEnabledFor(logging.DEBUG)
            self.stopping = False
            self._connections: dict[Any, _Connection] = {}
            self._lock = threading.Lock()
            self._date = (0, "")
            self.routes = WebhookRoutes(config)
            self.events_path = self.routes.events_path
            try:
                super().__init__(address, WebhookHandler)
            except BaseException:
                self.routes.close()
                raise

        def http_date(self) -> str:
            """The Date header. Speed (bench/serve.py): formatted once a second."""
            now = int(time.time())
            if self._date[0] != now:
                self._date = (now, formatdate(now, usegmt=True))
            return self._date[1]

        def process_request(self, request: Any, client_address: Any) -> None:
            """Admit a connection: at the cap, the longest-idle keep-alive connection
            makes way for it; only when every connection is busy is it refused."""
            conn = _Connection(request, self)
            with self._lock:
                open_ = [c for c in self._connections.values() if not c.evicted]
                admit = len(open_) < self.config.max_connections
                if not admit:
                    idle = [c for c in open_ if c.idle_since is not None]
                    if idle:
                        min(idle, key=lambda c: c.idle_since or 0.0).evicted = True
                        admit = True
                if admit:
                    self._connections[request] = conn
            if not admit:
                body = b'{"error":"too many connections"}'
                try:
                    request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nServer: convo\r\n"
                                    b"Content-Type: application/json\r\nContent-Length: "
                                    + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
                                    + body)
                except OSError:
                    pass
                self.shutdown_request(request)
                return
            try:
                super().process_request(request, client_address)
            except BaseException:
                self._forget(request)
                raise

        def connection(self, request: Any) -> _Connection:
            with self._lock:
                return self._connections[request]

        def process_request_thread(self, request: Any, client_address: Any) -> None:
            try:
                super().process_request_thread(request, client_address)
            finally:
                self._forget(request)

        def _forget(self, request: Any) -> None:
            with self._lock:
                self._connections.pop(request, None)

        def handle_error(self, request: Any, client_address: Any) -> None:
            """A request that failed unexpectedly: one line in the log, no traceback."""
            error = sys.exc_info()[1]
            self.log.error("request from %s failed: %s: %s", client_address[0],
                           type(error).__name__, printable(error, 200))

        def stop(self, grace_s: float = SERVE_GRACE_S) -> int:
            """Stop accepting, and let requests in flight finish; idle connections close
            themselves within a fraction of a second.

            Returns how many connections were still open when the grace period ended.
            """
            self.stopping = True
            self.shutdown()
            self.server_close()
            deadline = time.monotonic() + grace_s
            while True:
                with self._lock:
                    left = len(self._connections)
                if not left or time.monotonic() >= deadline:
                    break
                time.sleep(0.02)
            self.routes.close()
            return left

    return WebhookServer

# -- storage: events.jsonl -----------------------------------------------------

class EventLog:
    """events.jsonl, written so that a 2xx means saved: each webhook is one whole line,
    appended with one write(2) to a descriptor opened O_APPEND (no buffer that could
    write a failed line later) and on disk (fdatasync) before append() returns.

    A write that fails or is short is cut back to the last whole line, so the file
    never holds a torn line that the next one would be glued to. A file whose last
    line was torn (by a crash) gets a newline first. Before each write the path is
    checked: if the file was deleted or rotated away, a new one is opened there (the
    state directory made again if need be) and the log says so.
    """

    def __init__(self, path: str, log: Any) -> None:
        import threading
        self.path, self.log = path, log
        self._lock = threading.Lock()       # held to write
        self._sync_lock = threading.Lock()  # held to sync
        self._written = self._synced = 0    # lines written, lines known to be on disk
        self._fd = -1
        try:
            self._open()
        except OSError as e:
            raise ConvoError(f"cannot write {path}: {printable(e.strerror or e, 80)}; set "
                             f"CONVO_STATE_DIR to a directory you can write", EXIT_USAGE) from None

    def _open(self) -> None:
        """Open (or create, 0600) the file to append. Raises ConvoError (exit 2) for a
        path that is not a regular file, OSError when it cannot be opened."""
        # O_RDWR, not O_WRONLY: the last byte is read to see whether a line was torn.
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(self.path, flags, 0o600)
        except OSError as e:
            # ENXIO: a FIFO nobody reads; ELOOP: a symbolic link; EISDIR: a directory
            kind = {6: "a FIFO (named pipe)", 40: "a symbolic link", 21: "a directory"}.get(
                e.errno or 0)
            if kind:
                raise ConvoError(f"{self.path}: is {kind}, not a regular file: remove it, or "
                                 f"set CONVO_STATE_DIR", EXIT_USAGE) from None
            raise
        info = os.fstat(fd)
        kind = _file_kind(info.st_mode)
        if kind:
            os.close(fd)
            raise ConvoError(f"{self.path}: is {kind}, not a regular file: remove it, or "
                             f"set CONVO_STATE_DIR", EXIT_USAGE)
        self._fd, self._id = fd, (info.st_dev, info.st_ino)
        self.identity = f"{info.st_dev}:{info.st_ino}"  # as file_identity() gives it
        self._torn = info.st_size > 0 and os.pread(fd, 1, info.st_size - 1) != b"\n"

    def _check(self) -> None:
        """Reopen the file if its path no longer names the one held open."""
        try:
            info = os.stat(self.path)
            if (info.st_dev, info.st_ino) == self._id:
                return
            why = "was replaced (rotated?)"
        except FileNotFoundError:
            why = "was deleted or moved"
        with self._sync_lock:  # no sync runs on a descriptor being closed
            self._sync(self._fd)  # what went to the old file (if it is still there) is kept
            self._synced = self._written
            os.close(self._fd)
            self._fd = -1
            os.makedirs(os.path.dirname(self.path) or ".", mode=0o700, exist_ok=True)
            self._open()
        self.log.warning("%s %s: saving to a new file there", self.path, why)

    def append(self, line: bytes) -> None:
        """Append one line (ending in a newline), on disk when this returns. Raises
        OSError, with the file as it was before."""
        with self._lock:
            if self._fd < 0:
                self._open()
            self._check()
            data = b"\n" + line if self._torn else line
            end = os.fstat(self._fd).st_size
            try:
                if os.write(self._fd, data) != len(data):
                    raise OSError(28, "No space left on device (a short write)")
            except OSError:
                try:
                    os.ftruncate(self._fd, end)
                except OSError:
                    pass
                raise
            self._torn = False
            self._written += 1
            mine = self._written
        # Group commit (bench/serve.py): one sync covers every line written before it, so
        # the requests that wrote while another synced share the next sync. (Lock order:
        # _lock, then _sync_lock, never the other way; a reopen holds both, so while a
        # sync runs, every line not yet synced is in the file held open.)
        with self._sync_lock:
            if self._synced >= mine:
                return
            upto = self._written
            self._sync(self._fd)
            self._synced = max(self._synced, upto)

    @staticmethod
    def _sync(fd: int) -> None:
        os.fdatasync(fd) if hasattr(os, "fdatasync") else os.fsync(fd)

    def close(self) -> None:
        with self._lock, self._sync_lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

# -- what serve does with each request -----------------------------------------

class ServeConfig:
    """What the webhook server needs, gathered once by cmd_serve (or a test)."""

    def __init__(self, *, to: str, from_: str | None = None, state_dir: str,
                 signature_secret: str | None = None, api_key: str | None = None,
                 app_id: str | None = None, idle_timeout_s: float = SERVE_IDLE_TIMEOUT_S,
                 request_deadline_s: float = SERVE_REQUEST_DEADLINE_S,
                 max_connections: int = SERVE_MAX_CONNECTIONS,
                 max_body_bytes: int = SERVE_MAX_BODY_BYTES, style: Style | None = None,
                 on_call: Any = None, on_rtc: Any = None) -> None:
        self.to, self.from_ = to, from_
        self.state_dir = state_dir
        self.signature_secret, self.api_key, self.app_id = signature_secret, api_key, app_id
        self.idle_timeout_s, self.request_deadline_s = idle_timeout_s, request_deadline_s
        self.max_connections, self.max_body_bytes = max_connections, max_body_bytes
        self.style = style or Style()
        self.on_call = on_call  # called with (conversation ID, answer fields) per new call
        self.on_rtc = on_rtc  # called with a conversation ID when its first RTC event comes
        self.on_exchange: Any = None  # called with each webhook answered (the inspector)
        self.ncco_bytes = json.dumps(build_answer_ncco(to, from_), separators=(",", ":")).encode()


#: What serve's log adds when it refuses a signed RTC event: that RTC events are
#: signed as voice webhooks are is likely but not documented.
RTC_SIGNING_DOUBT = (". (Vonage documents signed voice webhooks, not signed RTC events: if "
                     "voice webhooks pass and every RTC event is refused, the rtc capability "
                     "may not sign them; turn its signed_callbacks off or serve without "
                     "--signature-secret)")
#: How many conversations serve follows by their RTC events at once, and remembers
#: as ended (a late duplicate after the end is not a new conversation).
MAX_LIVE_CONVERSATIONS = 1000
MAX_ENDED_REMEMBERED = 10_000


class LiveConversations:
    """The conversations serve hears of through RTC events, each built from them as
    they come (EventConversation): a line per event as a watch prints it, tagged
    with its call, the changes it made, and at the end the final tree and a
    summary; then the conversation is dropped (it stays on disk). Thread-safe."""

    def __init__(self, style: Style, on_push: Any = None) -> None:
        import collections
        import threading
        self.style, self.on_push = style, on_push
        self.live: dict[str, EventConversation] = {}
        self.ended: collections.OrderedDict[str, None] = collections.OrderedDict()
        self.lock = threading.Lock()
        self._warned_full = False

    def push(self, event: Any) -> list[str]:
        """Take one RTC event; return the log lines it makes."""
        why = odd_event(event)
        if why:
            shown = printable(dump_json(event, indent=None), 200)
            return [log_line("rtc", f"odd event ({why}), saved and skipped: {shown}")]
        conv_id = event_conversation_id(event) or ""
        tag = short_id(conv_id[4:] if conv_id.startswith("CON-") else conv_id, self.style)
        with self.lock:
            if conv_id in self.ended:
                return [log_line("rtc", tag, f"event {event['id']} "
                                 f"({printable(event.get('type'), 40)}) after the end: saved")]
            built = self.live.get(conv_id)
            if built is None:
                if len(self.live) >= MAX_LIVE_CONVERSATIONS:
                    if not self._warned_full:
                        self._warned_full = True
                        return [log_line("rtc", f"warning: {MAX_LIVE_CONVERSATIONS} "
                                         f"conversations in progress, more than serve follows "
                                         f"at once: their events are saved, not followed")]
                    return []
                built = self.live[conv_id] = EventConversation(conv_id)
                if self.on_push:
                    self.on_push(conv_id)
            changes = built.add(event)
            if changes is None:
                return [log_line("rtc", tag, f"event {event['id']} again: saved, applied once")]
            members = list(built.members.values())
            lines = [log_line("rtc", tag, watch_event_line(event, members, self.style))]
            for kind, old, new in changes:
                said = (member_change_line(old, new, self.style) if kind == "member"
                        else call_leg_line(old, new, self.style))
                if said:
                    lines.append(log_line("", tag, f"{self.style.arrow} {said}"))
            if built.ended:
                del self.live[conv_id]
                self.ended[conv_id] = None
                if len(self.ended) > MAX_ENDED_REMEMBERED:
                    self.ended.popitem(last=False)
                lines.extend(self.final(built, tag))
            return lines

    def final(self, built: EventConversation, tag: str) -> list[str]:
        """The tree at the end, and the summary, as a watch ends."""
        doc = built.document()
        times = [t for t in (parse_time(e.get("timestamp")) for e in doc["events"]) if t]
        seconds = (max(times) - min(times)).total_seconds() if times else 0.0
        reason = "conversation deleted" if built.deleted else "every member left"
        return [*(f"{' ' * (_KIND_WIDTH + 2)}{line}" for line in
                  render_tree(normalize_conversation(doc), self.style)),
                log_line("", tag, watch_summary(self.style, reason=reason, seconds=seconds,
                                                members=len(doc["members"]),
                                                legs=len(doc["legs"]),
                                                events=len(doc["events"])))]


class WebhookRoutes:
    """What serve does with each request, and the files it writes: every webhook
    to events.jsonl, the latest call to last_call.json. Safe across threads."""

    def __init__(self, config: ServeConfig) -> None:
        import logging
        self.config = config
        self.log = logging.getLogger("convo")
        self.replays = ReplayGuard()
        self._last_call: tuple[Any, ...] = ()
        self._calls_seen: set[str] = set()
        self._told_own_log = False
        check_state_dir(config.state_dir)
        self.live = LiveConversations(config.style, on_push=config.on_rtc)
        self.events = EventLog(os.path.join(config.state_dir, EVENTS_FILE), self.log)
        self.events_path = self.events.path

    def close(self) -> None:
        self.events.close()

    def handle(self, method: str, path: str, query: str, body: bytes, *,
               authorization: str, client: str, replay_of: str = "", played: bool = False
               ) -> tuple[int, Any, dict[str, str] | None]:
        """Answer one request: (status, body as bytes or a JSON value or None, headers).
        `played`: the request comes from convo.py send, not from Vonage."""
        status, payload, headers = self.route(method, path, query, body,
                                              authorization=authorization, client=client,
                                              played=played)
        if replay_of and replay_of == self.events.identity:
            # send --log is replaying the very file we append to: tell it (it reads a
            # snapshot, so this ends), and say so here once.
            if not self._told_own_log:
                self._told_own_log = True
                self.log.info("send is replaying %s, the log serve writes to: it sends the "
                              "lines the file held when it started, and the replayed "
                              "webhooks are saved again", self.events_path)
            headers = {**(headers or {}), REPLAY_HEADER: "own-log"}
        return status, payload, headers

    def refused(self, method: str, path: str, status: int, reason: str) -> None:
        """One log line for a request serve refused, with why: 'POST /webhooks/event
        → 411: chunked bodies are refused: send a Content-Length'."""
        self.log.info("%s %s %s %d: %s", method or "-", printable(path or "-", 80),
                      self.config.style.arrow, status, reason)

    def route(self, method: str, path: str, query: str, body: bytes, *,
              authorization: str, client: str, played: bool = False
              ) -> tuple[int, Any, dict[str, str] | None]:
        if path.endswith("/") and path.rstrip("/") in ROUTES:
            path = path.rstrip("/")  # as pasted from the dashboard: /webhooks/answer/
        methods = ROUTES.get(path)
        if methods is None:
            self.refused(method, path, 404, route_hint(path))
            return 404, {"error": "not found", "paths": list(ROUTES)}, None
        if method not in methods:
            self.refused(method, path, 405, f"{path} answers {' and '.join(methods)}")
            return 405, {"error": "method not allowed"}, {"Allow": ", ".join(methods)}
        if path == "/health":
            return 200, b'{"status":"ok"}', None
        if self.config.signature_secret:
            problem = self.signature_problem(method, body, query, authorization)
            if problem:
                self.log.warning(
                    "refused %s %s from %s: %s. Vonage sees 401%s. Usual causes: signed "
                    "webhooks not enabled for the application, another account's signature "
                    "secret, or this machine's clock off by minutes%s", method, path, client,
                    problem, ", and the call fails" if path == "/webhooks/answer" else "",
                    RTC_SIGNING_DOUBT if path == "/webhooks/rtc" else "")
                return 401, b'{"error":"unauthorized"}', None
        if path == "/webhooks/answer":
            return self.answer(method, body, query, played=played)
        if path == "/webhooks/rtc":
            return self.rtc(method, body, query)
        return self.event(method, body, query)

    def signature_problem(self, method: str, body: bytes, query: str,
                          authorization: str) -> str | None:
        import jwt
        allow_short_secrets()
        config = self.config
        if not authorization.startswith("Bearer "):
            return "no Authorization: Bearer token"
        try:
            claims = jwt.decode(bearer_token(authorization), config.signature_secret or "",
                                algorithms=["HS256"],
                                options={"require": ["iat", "jti", "payload_hash"],
                                         "verify_iat": False, "verify_aud": False})
        except jwt.MissingRequiredClaimError as e:
            return f"the token has no {e.claim} claim"
        except jwt.InvalidSignatureError:
            return "bad signature (is --signature-secret right?)"
        except jwt.PyJWTError as e:
            return f"bad token: {printable(e, 80)}"
        now = time.time()
        problem = check_webhook_claims(claims, body_hash=payload_hash(method, body, query),
                                       now=now, api_key=config.api_key, app_id=config.app_id)
        if problem:
            return problem
        if not self.replays.first_time(str(claims["jti"]), now):
            return "jti seen before: a replay"
        return None

    def answer(self, method: str, body: bytes, query: str, *, played: bool = False
               ) -> tuple[int, Any, dict[str, str] | None]:
        params, problem = webhook_params(method, body, query)
        conv = params.get("conversation_uuid")
        if problem or not isinstance(conv, str) or not _CONV_ID_RE.fullmatch(conv):
            what = problem or "no valid conversation_uuid"
            self.log.warning("%s", log_line("answer", f"malformed request ({what}); sent the "
                                                      f"NCCO anyway"))
            saved = params if not problem else {"_raw": body[:4096].decode("utf-8", "replace")}
        elif played:  # a call that send made up: the API has never heard of it
            saved = params
            self.log.info("%s  (played by send)", answer_webhook_line(params, self.config.style))
        else:
            saved = params
            self.log.info("%s\n%snext: %s get %s", answer_webhook_line(params, self.config.style),
                          " " * CLOCK_WIDTH, PROG, conv)
            self.save_last_call(conv, params)
            if self.config.on_call and conv not in self._calls_seen:
                self._calls_seen.add(conv)
                self.config.on_call(conv, params)
        try:
            self.save_webhook("answer", method, saved)
        except OSError as e:
            # Vonage does not retry an answer webhook that fails: the call must connect.
            self.log.error("could not save the answer webhook (%s): the NCCO was sent "
                           "anyway, so the call connects, but this request is not in %s",
                           printable(e.strerror or e, 80), self.events_path)
        return 200, self.config.ncco_bytes, None

    def event(self, method: str, body: bytes, query: str
              ) -> tuple[int, Any, dict[str, str] | None]:
        params, refused = self.saved_event("event", method, body, query)
        if refused:
            return refused
        style = self.config.style  # on a terminal, IDs are shortened to fit; piped, never
        line = webhook_event_line(params, style)
        self.log.info("%s", style.fit(line, style.width and style.width - CLOCK_WIDTH))
        return 204, None, None

    def rtc(self, method: str, body: bytes, query: str
            ) -> tuple[int, Any, dict[str, str] | None]:
        """An RTC event: saved as event webhooks are, then put into its conversation,
        whose changes (and end) serve's log says as a watch does."""
        params, refused = self.saved_event("rtc", method, body, query)
        if refused:
            return refused
        for line in self.live.push(params):
            self.log.info("%s", line)
        return 204, None, None

    def saved_event(self, kind: str, method: str, body: bytes, query: str
                    ) -> tuple[dict[str, Any], tuple[int, Any, None] | None]:
        """An event webhook's or RTC event's fields, saved before the caller's 2xx; or
        the refusal to answer instead: 400 (not readable), 503 (not saved, so Vonage
        sends it again)."""
        params, problem = webhook_params(method, body, query)
        if problem:
            self.log.warning("%s", log_line(kind, f"refused: {problem}"))
            return params, (400, {"error": problem}, None)
        if kind == "rtc" and method == "GET" and isinstance(params.get("body"), str):
            try:  # a GET carries the body as JSON text in the query
                params["body"] = loads(params["body"])
            except ValueError:
                pass
        try:
            self.save_webhook(kind, method, params)
        except OSError as e:
            self.log.error("could not save an %s (%s): answered 503, so Vonage sends it "
                           "again", "RTC event" if kind == "rtc" else "event",
                           printable(e.strerror or e, 80))
            return params, (503, {"error": "could not save the event"}, None)
        return params, None

    def save_webhook(self, kind: str, method: str, payload: dict[str, Any]) -> None:
        """Save one webhook in events.jsonl, on disk before the caller replies: its
        fields, then which webhook it was, how it came and when. Raises OSError."""
        line = dump_json({**payload, "_webhook": kind, "_method": method,
                          "_received_at": format_iso(datetime.now(timezone.utc))}, indent=None)
        self.events.append((line + "\n").encode())

    def save_last_call(self, conv: str, params: dict[str, Any]) -> None:
        """Record the latest call in last_call.json, unless it is the call recorded last
        (Vonage may ask twice for the same leg's NCCO)."""
        call = (conv, params.get("uuid"), params.get("region_url"))
        if call == self._last_call:
            return
        try:
            write_state({"conversation_uuid": conv, "region_url": call[2], "uuid": call[1],
                         "time": format_iso(datetime.now(timezone.utc))},
                        self.config.state_dir)
            self._last_call = call
        except OSError as e:
            self.log.warning("could not record the call in %s: %s", self.config.state_dir,
                             printable(e, 120))

# -- the inspector: a local page of every call serve has seen ------------------

# A second listener, on 127.0.0.1 only (never the webhook port, which a tunnel
# exposes): the page, its style and script, and a JSON API beside it. What came
# from outside is only ever inserted as text (textContent), and the page loads
# nothing from another origin (Content-Security-Policy: default-src 'self').

INSPECTOR_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>convo.py serve</title>
<link rel="stylesheet" href="/app.css">
</head>
<body>
<header>
  <h1>convo.py serve</h1>
  <input id="search" type="search" placeholder="Search: a number, an ID, a status"
         aria-label="Search the calls">
  <span id="live">connecting</span>
</header>
<main>
  <nav id="calls" aria-label="Calls"></nav>
  <section id="call">
    <p class="empty">No call yet: call your Vonage number, or play one with
    <code>python3 convo.py send :PORT --rtc</code>.</p>
  </section>
</main>
<script src="/app.js"></script>
</body>
</html>
"""

INSPECTOR_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d232a; background: #f6f7f9; }
header { display: flex; gap: 1em; align-items: center; padding: .5em 1em; background: #1d232a;
         color: #fff; }
h1 { font-size: 1em; margin: 0; }
#search { flex: 1; max-width: 30em; padding: .3em .5em; }
#live.on { color: #7ee08a; } #live.off { color: #f28b82; }
main { display: grid; grid-template-columns: minmax(14em, 22em) 1fr; min-height: 90vh; }
nav { border-right: 1px solid #d5d9de; overflow-y: auto; }
nav button { display: grid; width: 100%; text-align: left; border: 0; border-bottom: 1px solid
             #e3e6ea; background: none; padding: .5em .8em; cursor: pointer; font: inherit; }
nav button.on { background: #e3ecfa; }
nav .more { padding: .5em .8em; margin: 0; }
.id, .when, .dim { color: #68717c; font-size: .85em; font-family: ui-monospace, monospace; }
section { padding: 1em; overflow-x: auto; }
.picture { display: flex; flex-direction: column; gap: .6em; margin-bottom: 1.2em; }
.box { border: 1px solid #b9c0c8; border-radius: 6px; padding: .5em .7em; background: #fff; }
.conv { border-width: 2px; }
.members { display: flex; gap: 1em; flex-wrap: wrap; }
.member { flex: 1; min-width: 16em; }
.channel { margin: .4em 0 0 1em; border-style: dashed; }
.leg { margin: .3em 0 0 1em; font-family: ui-monospace, monospace; font-size: .9em; }
.badge { display: inline-block; padding: 0 .4em; border-radius: 4px; background: #e3e6ea;
         font-size: .85em; margin-left: .4em; }
.s-answered, .s-JOINED, .s-ACTIVE { background: #c8f0cf; }
.s-ringing, .s-started, .s-INVITED { background: #fbeebc; }
.s-completed, .s-LEFT, .s-ENDED { background: #dde1e6; }
.s-failed, .s-busy, .s-rejected, .s-timeout, .s-cancelled, .s-unanswered { background: #f8c9c4; }
table { border-collapse: collapse; width: 100%; background: #fff; }
td, th { text-align: left; padding: .25em .5em; border-bottom: 1px solid #e3e6ea;
         vertical-align: top; }
tr.row { cursor: pointer; } tr.row:hover { background: #f0f4fa; }
pre { white-space: pre-wrap; word-break: break-all; margin: .3em 0; background: #f6f7f9;
      padding: .4em; }
.detail h4 { margin: .5em 0 .2em; }
"""

INSPECTOR_JS = r"""
"use strict";
// Everything shown here came from outside: it is only ever set as text.
const $ = (id) => document.getElementById(id);
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function badge(status) {
  const safe = String(status || "?").replace(/[^A-Za-z]/g, "");
  return el("span", "badge s-" + safe, status || "?");
}
async function getJSON(url, options) {
  const reply = await fetch(url, options);
  if (!reply.ok) throw new Error(url + ": HTTP " + reply.status);
  return reply.json();
}

const SHOWN_CALLS = 200;  // the newest; the search finds the others
let calls = [];
let selected = null;
const opened = new Map();  // the webhooks whose details are open -> what was said of them

function showCalls() {
  const query = $("search").value.trim().toLowerCase();
  const nav = $("calls");
  nav.replaceChildren();
  let shown = 0, more = 0;
  for (const call of calls) {
    const text = [call.id, call.from, call.to, call.status].join(" ").toLowerCase();
    if (query && !text.includes(query)) continue;
    if (shown === SHOWN_CALLS) { more++; continue; }
    shown++;
    const button = el("button", call.id === selected ? "on" : "");
    button.dataset.id = call.id;
    const who = el("span", "who", (call.from || "?") + " \u2192 " + (call.to || "?"));
    who.append(badge(call.status));
    button.append(who, el("span", "id", call.id), el("span", "when", call.last));
    button.addEventListener("click", () => select(call.id));
    nav.append(button);
  }
  if (more) nav.append(el("p", "dim more", more + " more: search to find them"));
}

async function loadCalls() {
  calls = await getJSON("/api/calls");
  showCalls();
  if (!selected && calls.length) await select(calls[0].id);
}

async function select(id) {
  selected = id;
  showCalls();
  const call = await getJSON("/api/calls/" + encodeURIComponent(id));
  if (selected === id) await showCall(call);
}

function legBox(leg) {
  const box = el("div", "leg", "leg " + leg.uuid);
  box.dataset.leg = leg.uuid;
  box.append(badge(leg.status));
  if (leg.direction) box.append(el("span", "dim", " " + leg.direction));
  return box;
}

function ends(channel) {
  const number = (end) => (end && (end.number || end.uri || end.user || end.id)) || "?";
  return number(channel.from) + " \u2192 " + number(channel.to);
}

function flow(conv) {
  // The call as it was forwarded: the caller, the number called, then whom it reached.
  const channels = (conv.members || []).map((m) => m.channel).filter(Boolean);
  const legs = conv.legs || [];
  const first = channels[0] || legs.find((leg) => leg.direction === "inbound");
  if (!first) return null;
  const number = (end) => (end && (end.number || end.uri || end.user || end.id)) || "?";
  const stops = [number(first.from), number(first.to)];
  for (const other of channels.slice(1).concat(
      channels.length ? [] : legs.filter((leg) => leg.direction === "outbound"))) {
    stops.push(number(other.to));
  }
  return el("div", "dim flow", stops.join(" \u2192 "));
}

function picture(conv) {
  const legs = new Map((conv.legs || []).map((leg) => [leg.uuid, leg]));
  const shown = new Set();
  const root = el("div", "picture");
  const head = el("div", "box conv", "Conversation " + conv.id);
  head.append(badge(conv.state));
  const forwarded = flow(conv);
  if (forwarded) head.append(forwarded);
  root.append(head);
  const members = el("div", "members");
  for (const member of conv.members || []) {
    const box = el("div", "box member");
    box.dataset.member = member.id;
    const title = el("div", "", "Member " + member.id);
    title.append(badge(member.state));
    box.append(title);
    const user = member.user && (member.user.name || member.user.id);
    if (user) box.append(el("div", "dim", "user " + user));
    const channel = member.channel;
    if (channel) {
      const cbox = el("div", "box channel", (channel.type || "unknown") + " channel " +
                      ends(channel));
      for (const id of channel.leg_ids || [channel.id]) {
        if (!id) continue;
        shown.add(id);
        cbox.append(legBox(legs.get(id) || {uuid: id}));
      }
      box.append(cbox);
    }
    members.append(box);
  }
  for (const leg of legs.values()) {
    if (shown.has(leg.uuid)) continue;
    const box = el("div", "box member", "Leg on no member's channel");
    const cbox = el("div", "box channel", (leg.type || "phone") + " " + ends(leg));
    cbox.append(legBox(leg));
    box.append(cbox);
    members.append(box);
  }
  root.append(members);
  return root;
}

function timeline(rows) {
  const table = el("table", "timeline");
  const head = el("tr");
  for (const name of ["time", "webhook", "what", "reply", "took"]) head.append(el("th", "", name));
  table.append(head);
  for (const row of rows) {
    const tr = el("tr", "row");
    tr.dataset.index = row.index;
    tr.append(el("td", "dim", (row.time || "").slice(11, 23)), el("td", "", row.kind),
              el("td", "", row.what),
              el("td", "", row.status || "-"),
              el("td", "dim", row.took_ms === null ? "-" : row.took_ms + " ms"));
    tr.addEventListener("click", () => toggle(row.index, tr));
    table.append(tr);
  }
  return table;
}

async function showCall(call) {
  const root = $("call");
  const table = timeline(call.timeline);
  root.replaceChildren(picture(call.conversation), el("h3", "", "Timeline"), table);
  for (const tr of table.querySelectorAll("tr.row")) {  // what was open stays open
    if (opened.has(Number(tr.dataset.index))) await detail(Number(tr.dataset.index), tr);
  }
}

function block(title, lines, body) {
  const part = el("div", "");
  part.append(el("h4", "", title));
  part.append(el("pre", "", lines.join("\n")));
  if (body) {
    let text = body;
    try { text = JSON.stringify(JSON.parse(body), null, 2); } catch (e) { /* as it is */ }
    part.append(el("pre", "body", text));
  }
  return part;
}

async function toggle(index, tr) {
  const next = tr.nextElementSibling;
  if (next && next.classList.contains("detail")) {
    next.remove();
    opened.delete(index);
    return;
  }
  opened.set(index, "");
  await detail(index, tr);
}

async function detail(index, tr) {
  const d = await getJSON("/api/webhooks/" + index);
  const row = el("tr", "detail");
  row.dataset.index = index;
  const cell = el("td");
  cell.colSpan = 5;
  const target = d.request.path + (d.request.query ? "?" + d.request.query : "");
  cell.append(block("Request: " + d.request.method + " " + target,
                    d.request.headers.map(([k, v]) => k + ": " + v), d.request.body));
  if (d.reply) {
    cell.append(block("Reply: " + d.reply.status + " (" + d.took_ms + " ms)",
                      d.reply.headers.map(([k, v]) => k + ": " + v), d.reply.body));
  } else {
    cell.append(el("p", "dim", "Saved by an earlier run: its reply was not kept."));
  }
  const button = el("button", "replay", "Replay");
  const said = el("span", "dim said", opened.get(index) || "");
  button.addEventListener("click", async () => {
    const result = await getJSON("/api/replay", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({index: index})});
    opened.set(index, " sent again: HTTP " + result.status);
    // The new webhook may have redrawn the call meanwhile: say it where it is shown now.
    for (const shown of document.querySelectorAll(`tr.detail[data-index="${index}"] .said`)) {
      shown.textContent = opened.get(index);
    }
  });
  cell.append(button, said);
  row.append(cell);
  tr.after(row);
}

function connect() {
  const stream = new EventSource("/api/stream");
  stream.onopen = () => { $("live").textContent = "live"; $("live").className = "on"; };
  stream.onerror = () => { $("live").textContent = "reconnecting"; $("live").className = "off"; };
  stream.onmessage = (message) => {
    const record = JSON.parse(message.data);
    if (!selected) selected = record.conversation;
    refresh();
  };
}

// Webhooks come in bursts: one refresh at a time, and one more if any came meanwhile.
let refreshing = false;
let again = false;
async function refresh() {
  if (refreshing) { again = true; return; }
  refreshing = true;
  try {
    do {
      again = false;
      await loadCalls();
      if (selected) await select(selected);
    } while (again);
  } finally {
    refreshing = false;
  }
}

$("search").addEventListener("input", showCalls);
loadCalls().then(connect, connect);
"""

#: How many webhooks the inspector keeps (this run's and those read from events.jsonl).
MAX_INSPECTED = 10_000
#: How much of the end of events.jsonl the inspector reads at start (bytes).
INSPECT_TAIL_BYTES = 32 << 20
#: How long the page's stream gathers webhooks before it sends them (seconds).
STREAM_BATCH_S = 0.02
#: What every inspector response carries: nothing from elsewhere, nothing inline.
INSPECTOR_HEADERS = {"Content-Security-Policy": "default-src 'self'",
                     "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
                     "Referrer-Policy": "no-referrer"}


class Exchange:
    """One webhook as serve saw it: the request as it came and the reply it gave (or,
    for one read from an earlier run's events.jsonl, its fields alone)."""

    __slots__ = ("index", "method", "path", "query", "headers", "body", "status",
                 "reply_headers", "reply_body", "took_ms", "at", "_received", "_fields")

    def __init__(self, index: int, method: str, path: str, query: str,
                 headers: tuple[tuple[str, str], ...], body: bytes, *, at: float = 0.0,
                 received: str | None = None, status: int | None = None,
                 reply_headers: tuple[tuple[str, str], ...] = (), reply_body: bytes = b"",
                 took_ms: float | None = None, fields: dict[str, Any] | None = None) -> None:
        self.index, self.method, self.path, self.query = index, method, path, query
        self.headers, self.body, self.at, self._received = headers, body, at, received
        self.status, self.reply_headers, self.reply_body = status, reply_headers, reply_body
        self.took_ms, self._fields = took_ms, fields

    @property
    def received(self) -> str:
        """When it came, as the API writes times (formatted when first asked)."""
        if self._received is None:
            self._received = format_iso(datetime.fromtimestamp(self.at, timezone.utc))
        return self._received

    @property
    def fields(self) -> dict[str, Any]:
        """The webhook's fields (parsed when first asked: the answer stays fast)."""
        if self._fields is None:
            params, _ = webhook_params(self.method, self.body, self.query)
            self._fields = params if isinstance(params, dict) else {}
        return self._fields

    @property
    def kind(self) -> str:
        return WEBHOOK_PATHS.get(self.path.rstrip("/"), "event")

    @property
    def conversation(self) -> str:
        return conversation_of(self.fields)

    def summary(self) -> dict[str, Any]:
        fields = self.fields
        kind = self.kind
        what = (f"{_scalar(fields.get('type')) or '?'} (id {_scalar(fields.get('id')) or '?'})"
                if kind == "rtc" else "answer: the NCCO" if kind == "answer" else
                f"{_scalar(fields.get('status')) or '?'} · {_scalar(fields.get('direction')) or ''}")
        return {"index": self.index, "kind": kind, "conversation": self.conversation,
                "time": self.received, "what": what, "status": self.status,
                "took_ms": None if self.took_ms is None else round(self.took_ms, 1)}

    def detail(self) -> dict[str, Any]:
        def text(data: bytes) -> str:
            return data.decode("utf-8", "replace")
        shown = [(k, shown_header(k, v)) for k, v in self.headers]
        request = {"method": self.method, "path": self.path, "query": self.query,
                   "headers": shown, "body": text(self.body) if self.body else (
                       "" if self.status is not None else dump_json(self.fields))}
        replied = [*self.reply_headers] + (
            [("Content-Type", "application/json")] if self.reply_body else [])
        reply = None if self.status is None else {
            "status": self.status, "headers": [(k, shown_header(k, v)) for k, v in replied],
            "body": text(self.reply_body)}
        return {**self.summary(), "request": request, "reply": reply}


class Inspector:
    """What the page shows: every webhook serve has seen, this run's as exchanges and
    earlier runs' from events.jsonl, by conversation; and the stream of new ones for
    the pages open. Thread-safe; bounded (MAX_INSPECTED)."""

    def __init__(self, events_path: str) -> None:
        import collections
        import threading
        self.records: collections.deque[Exchange] = collections.deque(maxlen=MAX_INSPECTED)
        self.lock = threading.Lock()
        self.closed = threading.Event()  # serve is stopping: the streams end
        self.count = 0
        # By conversation, brought up to date when the page asks (_catch_up), so that
        # neither a webhook nor a page's refresh reads every record (bench/page.py).
        self._calls: dict[str, dict[str, Any]] = {}
        self._by_call: dict[str, list[Exchange]] = {}
        self._indexed = 0
        self._load(events_path)

    def _load(self, path: str) -> None:
        """Earlier runs' webhooks, from the end of events.jsonl (what it kept: fields):
        its last INSPECT_TAIL_BYTES at most, so that a long log does not delay serve."""
        try:
            f = open_input(path, given=False)
        except ConvoError:
            return  # no log yet, or one that cannot be read: this run's calls only
        size = os.fstat(f.fileno()).st_size
        if size > INSPECT_TAIL_BYTES:
            f.seek(size - INSPECT_TAIL_BYTES)
            f.readline()  # the rest of a line cut in two
        try:
            for doc in iter_json_lines(_lines_of(f, path, INSPECT_TAIL_BYTES), path, []):
                kind = webhook_kind(doc)
                fields = {k: v for k, v in doc.items() if not k.startswith("_")}
                method = doc.get("_method") if doc.get("_method") in ("GET", "POST") else "POST"
                self._add(Exchange(self.count, method, f"/webhooks/{kind}", "", (), b"",
                                   received=_scalar(doc.get("_received_at")) or "",
                                   fields=fields))
        except ConvoError:
            pass  # a line that cannot be read ends what the page shows of earlier runs

    def _add(self, record: Exchange) -> None:
        self.records.append(record)
        self.count += 1

    def exchanged(self, method: str, path: str, query: str, headers: dict[str, list[str]],
                  body: bytes, status: int, reply_headers: dict[str, str] | None,
                  reply_body: bytes, took_ms: float) -> None:
        """One webhook answered (serve's handler calls this after its reply). Speed
        (bench/page.py): kept as it came; what the page shows is worked out when asked."""
        if path.rstrip("/") not in WEBHOOK_PATHS:
            return
        at = time.time()
        # Tuples of strings, which the garbage collector stops tracking: thousands of
        # records kept as dicts of lists made every collection slower (bench/page.py).
        pairs = tuple((k, v) for k, values in headers.items() for v in values)
        replied = tuple(reply_headers.items()) if reply_headers else ()
        with self.lock:
            self._add(Exchange(self.count, method, path, query, pairs, body, at=at,
                               status=status, reply_headers=replied, reply_body=reply_body,
                               took_ms=took_ms))

    def since(self, index: int) -> list[Exchange]:
        """The records from `index` on (the streams look every STREAM_BATCH_S: nothing
        on the webhook's path signals them, bench/page.py)."""
        import itertools
        with self.lock:
            new = min(self.count - index, len(self.records))
            if new <= 0:
                return []
            return list(itertools.islice(reversed(self.records), new))[::-1]  # the end's

    def close(self) -> None:
        """End every stream (serve is stopping)."""
        self.closed.set()

    def find(self, index: int) -> Exchange | None:
        with self.lock:
            first = self.records[0].index if self.records else 0
            if 0 <= index - first < len(self.records):
                return self.records[index - first]
        return None

    def _catch_up(self) -> None:
        """Index the records added since last asked (with the lock held)."""
        if not self.records:
            return
        first = self.records[0].index
        if first > self._indexed or sum(map(len, self._by_call.values())) > 2 * MAX_INSPECTED:
            self._calls, self._by_call, self._indexed = {}, {}, first  # some were dropped
        for i in range(self._indexed - first, len(self.records)):
            record = self.records[i]
            fields = record.fields
            conv = record.conversation
            self._by_call.setdefault(conv, []).append(record)
            call = self._calls.setdefault(conv, {"id": conv, "from": None, "to": None,
                                                 "status": "started",
                                                 "first": record.received, "webhooks": 0})
            call["webhooks"] += 1
            call["last"], call["latest"] = record.received, record.index
            if record.kind == "answer":
                call["from"], call["to"] = _scalar(fields.get("from")), _scalar(fields.get("to"))
            elif record.kind == "event" and _scalar(fields.get("status")):
                call["status"] = fields["status"]
                if fields.get("direction") == "inbound" and not call["from"]:
                    call["from"], call["to"] = (_scalar(fields.get("from")),
                                                _scalar(fields.get("to")))
        self._indexed = self.count

    def calls(self) -> list[dict[str, Any]]:
        """Every call, newest first: its ID, numbers, last status and times."""
        with self.lock:
            self._catch_up()
            calls = [dict(call) for call in self._calls.values()]
        return sorted(calls, key=lambda c: (c["last"] or "", c["latest"]), reverse=True)

    def call(self, conv: str) -> dict[str, Any] | None:
        """One call: the conversation as its RTC events build it (else its legs, from
        its voice webhooks), and its timeline."""
        with self.lock:
            self._catch_up()
            records = list(self._by_call.get(conv, ()))
        if not records:
            return None
        built = EventConversation(conv)
        legs: dict[str, dict[str, Any]] = {}
        for record in records:
            fields = record.fields
            if record.kind == "rtc" and not odd_event(fields):
                built.add(fields)
            elif record.kind == "event" and _scalar(fields.get("uuid")):
                leg = legs.setdefault(fields["uuid"], {"uuid": fields["uuid"]})
                leg.update({k: fields[k] for k in ("status", "direction") if fields.get(k)})
                for end in ("from", "to"):
                    if _scalar(fields.get(end)):
                        leg[end] = {"type": "phone", "number": fields[end]}
        doc = built.document() if built.events else {"id": conv, "state": None,
                                                     "members": [], "legs": []}
        known = {leg["uuid"] for leg in doc["legs"]}
        doc["legs"] += [leg for uuid, leg in legs.items() if uuid not in known]
        if doc["state"] is None:
            doc["state"] = "ENDED" if legs and all(
                leg.get("status") in ENDED_STATUSES for leg in legs.values()) else "ACTIVE"
        doc.pop("events", None)
        return {"conversation": doc, "timeline": [r.summary() for r in records]}

    def webhooks(self, conv: str | None) -> list[dict[str, Any]]:
        with self.lock:
            self._catch_up()
            records = list(self.records) if conv is None else list(self._by_call.get(conv, ()))
        return [r.detail() for r in records]


def inspector_allowed(host: str, port: int) -> set[str]:
    """The Host values the inspector answers (DNS rebinding: a page elsewhere that
    makes its name point at 127.0.0.1 sends its own name, refused)."""
    return {f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"}


def make_inspector(port: int, inspector: Inspector, config: ServeConfig,
                   webhook_port: int) -> Any:
    """The inspector's listener on 127.0.0.1 (not started: call serve_forever)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, unquote, urlsplit

    class InspectorHandler(BaseHTTPRequestHandler):
        server_version = "convo"

        def log_message(self, *args: Any) -> None:
            pass  # serve's log is for webhooks

        def send(self, status: int, body: bytes | str, kind: str = "application/json") -> None:
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            for name, value in INSPECTOR_HEADERS.items():
                self.send_header(name, value)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def json(self, value: Any, status: int = 200) -> None:
            self.send(status, dump_json(value, indent=None))

        def allowed(self) -> bool:
            if self.headers.get("Host", "") not in self.server.allowed:
                self.json({"error": "this page answers only to localhost, 127.0.0.1 or "
                                    "[::1] with its port"}, 403)
                return False
            return True

        def do_GET(self) -> None:
            if not self.allowed():
                return
            parts = urlsplit(self.path)
            path = parts.path
            if path == "/":
                return self.send(200, INSPECTOR_HTML.replace(
                    "PORT", str(webhook_port)), "text/html; charset=utf-8")
            if path == "/app.js":
                return self.send(200, INSPECTOR_JS, "text/javascript; charset=utf-8")
            if path == "/app.css":
                return self.send(200, INSPECTOR_CSS, "text/css; charset=utf-8")
            if path == "/favicon.ico":
                return self.send(204, b"", "image/x-icon")
            if path == "/api/calls":
                return self.json(inspector.calls())
            if path.startswith("/api/calls/"):
                call = inspector.call(unquote(path[len("/api/calls/"):]))
                return self.json(call) if call else self.json({"error": "no such call"}, 404)
            if path == "/api/webhooks":
                conv = parse_qs(parts.query).get("conversation", [None])[0]
                return self.json(inspector.webhooks(conv))
            if path.startswith("/api/webhooks/") and path[14:].isdigit():
                found = inspector.find(int(path[14:]))
                return self.json(found.detail()) if found else self.json(
                    {"error": "no such webhook"}, 404)
            if path == "/api/stream":
                return self.stream()
            self.json({"error": "not found"}, 404)

        def stream(self) -> None:
            """Server-Sent Events: a message per webhook, as it is answered. Speed
            (bench/page.py): it looks for new ones every STREAM_BATCH_S and sends them
            in one write; a signal from each webhook's thread cost serve a quarter of
            its answers a second under load."""
            seen = inspector.count
            quiet_since = time.monotonic()
            try:
                self.send_response(200)
                for name, value in INSPECTOR_HEADERS.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.wfile.write(b": convo.py\n\n")
                self.wfile.flush()
                while not inspector.closed.wait(STREAM_BATCH_S):
                    batch = inspector.since(seen)
                    if batch:
                        seen = batch[-1].index + 1
                        quiet_since = time.monotonic()
                        self.wfile.write("".join(
                            f"data: {dump_json(r.summary(), indent=None)}\n\n"
                            for r in batch).encode())
                    elif time.monotonic() - quiet_since > 15:
                        quiet_since = time.monotonic()
                        self.wfile.write(b": keep-alive\n\n")  # a comment keeps it open
                    else:
                        continue
                    self.wfile.flush()
            except OSError:
                return  # the page went away

        def do_POST(self) -> None:
            if not self.allowed():
                return
            origin = self.headers.get("Origin", "")
            if origin not in {f"http://{host}" for host in self.server.allowed}:
                return self.json({"error": "a POST must come from this page (its Origin)"},
                                 403)
            if self.path != "/api/replay":
                return self.json({"error": "not found"}, 404)
            try:
                length = int(self.headers.get("Content-Length") or 0)
                index = loads(self.rfile.read(min(length, 4096))).get("index")
            except (ValueError, AttributeError):
                index = None
            found = inspector.find(index) if is_int(index) else None
            if found is None:
                return self.json({"error": "give the index of a webhook: {\"index\": 3}"}, 400)
            self.json({"status": replay_exchange(found, webhook_port, config)})

    class InspectorServer(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = InspectorServer(("127.0.0.1", port), InspectorHandler)
    server.allowed = inspector_allowed("127.0.0.1", server.server_address[1])
    return server


def replay_exchange(record: Exchange, port: int, config: ServeConfig) -> int:
    """Send one saved webhook again to serve's own webhook port, as send --log does
    (marked as send's, signed afresh when serve checks signatures); its status."""
    import http.client
    target, body = webhook_request(record.method, record.path, record.fields)
    headers = webhook_headers(record.method, target, body, secret=config.signature_secret,
                              api_key=config.api_key or "", app_id=config.app_id)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(record.method, target, body=body or None, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        conn.close()


# -- the command ---------------------------------------------------------------

def cmd_serve(args: argparse.Namespace, out: TextIO) -> int:
    """Serve the answer, event and RTC webhooks, and a page that shows each call.

    The answer webhook connects each inbound call to --to and shows its
    conversation ID; the event webhook shows the call's status timeline; the
    RTC event webhook shows its conversation as it happens, to its end. Everything
    received is saved in the state directory. The inspector, on 127.0.0.1, draws
    each call live. With --configure, the application points here until serve
    stops. Ctrl-C or SIGTERM stops.
    """
    import signal
    import threading
    config, port, public = serve_config(args)
    stop = threading.Event()
    if args.watch:
        check_api_options(args)
        config.on_call, config.on_rtc = call_follower(args, stop)
    acct = saved = None
    if args.configure:
        if not public:
            raise ConvoError("--configure points the application at your tunnel: give its "
                             "URL with --public-url", EXIT_USAGE)
        check_api_options(args)
        app_id = application_id(args)
        acct, saved = account(args), SavedApp(config.state_dir)
        saved.hold()  # before anything is read or saved: one configure at a time
    elif args.rtc or args.api_secret:
        raise ConvoError(f"--{'rtc' if args.rtc else 'api-secret'} goes with --configure",
                         EXIT_USAGE)
    # Handlers first: a signal that arrives once anything is printed must stop us gracefully.
    previous = {sig: signal.signal(sig, lambda signum, frame: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        configured = None
        if acct and saved:
            configured = configure(acct, app_id, public, saved, rtc=args.rtc)
            if configured[2]:
                _stderr(f"convo: note: a serve --configure before this one did not finish: "
                        f"{configured[2]}")
        try:
            server = make_server(args.host, port, config)
        except OSError as e:
            raise ConvoError(f"cannot listen on {args.host}:{port}: "
                             f"{printable(e.strerror or e, 80)}; pick another --port or --host"
                             ) from None
        host, port = server.server_address[:2]
        inspecting = None
        if not args.no_inspect:
            inspecting = start_inspector(args, port, server.events_path, config)
        banner = serve_banner(config, host, port, public, server.events_path,
                              configured and configured[:2],
                              inspecting and inspecting[0].server_address[1])
        style = style_for(out)
        out.write("".join(f"{style.wrap(line, None if line[0] == ' ' else '  ')}\n"
                          for line in banner))
        out.flush()
        if not config.signature_secret:
            warn("webhooks are not verified: anyone who finds the URL can post to it; set "
                 "--signature-secret or VONAGE_SIGNATURE_SECRET")
        if host in ("0.0.0.0", "::"):
            warn(f"listening on all interfaces ({host}): anyone on your network can reach it")
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                  daemon=True)
        thread.start()
        try:
            while not stop.wait(1.0):
                pass
        finally:
            stop.set()  # ends the watches of serve --watch too
            if inspecting:
                inspecting[1].close()  # its streams end, then its listener
                inspecting[0].shutdown()
                inspecting[0].server_close()
            busy = server.stop()
            thread.join()
    finally:
        try:
            if acct and saved:
                put_back(acct, saved)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    if busy:
        warn(f"stopped with {busy} request(s) still in flight")
    out.write("convo serve: stopped\n")
    return EXIT_OK


def start_inspector(args: argparse.Namespace, port: int, events_path: str,
                    config: ServeConfig) -> tuple[Any, Inspector]:
    """The inspector's listener, started: on --inspect-port, else the webhook port + 1
    (a free one when serve's own was picked for it). Raises ConvoError (exit 2)."""
    import threading
    asked = args.port if args.port is not None else int(os.environ.get("PORT") or 3000)
    wanted = args.inspect_port if args.inspect_port is not None else (port + 1 if asked else 0)
    if not 0 <= wanted <= 65535 or wanted == port:
        raise ConvoError(f"--inspect-port {wanted}: give another port than the webhooks' "
                         f"(0 picks a free one)", EXIT_USAGE)
    inspector = Inspector(events_path)
    try:
        listener = make_inspector(wanted, inspector, config, port)
    except OSError as e:
        raise ConvoError(f"cannot listen on 127.0.0.1:{wanted} for the inspector: "
                         f"{printable(e.strerror or e, 80)}; pick another --inspect-port, or "
                         f"--no-inspect", EXIT_USAGE) from None
    config.on_exchange = inspector.exchanged
    threading.Thread(target=listener.serve_forever, kwargs={"poll_interval": 0.1},
                     daemon=True).start()
    return listener, inspector


def put_back(acct: Account, saved: SavedApp) -> None:
    """When serve stops: put the application back as --configure found it, or say why
    not and how to (the saved copy stays for `app restore`)."""
    try:
        pending = saved.load()
        if pending:
            _stderr(f"convo serve: {saved.restore(acct, pending)}")
    except ConvoError as e:
        warn(f"could not put the application back ({e}); it is saved in {saved.path}: "
             f"run {PROG} app restore")
    finally:
        saved.release()
        acct.close()


def serve_config(args: argparse.Namespace) -> tuple[ServeConfig, int, str]:
    """serve's flags and environment, checked: the config, the port and the public URL."""
    env = os.environ.get
    to_text = args.to or env("TO_NUMBER")
    if not to_text:
        raise ConvoError("no number to connect calls to: pass --to NUMBER (E.164 digits, e.g. "
                         "447700000003) or set TO_NUMBER", EXIT_USAGE)
    to = check_number(to_text, "--to")
    from_text = args.from_ or env("VONAGE_NUMBER")
    from_ = check_number(from_text, "--from") if from_text else None
    port_text = str(args.port) if args.port is not None else env("PORT", "3000")
    if not port_text.isdecimal() or not port_text.isascii() or int(port_text) > 65535:
        raise ConvoError(f"port '{printable(port_text, 20)}' is not a port number (0 to 65535)",
                         EXIT_USAGE)
    public = ""
    if args.public_url:
        public, note = public_origin(args.public_url)
        if note:
            _stderr(f"convo: note: {note}")
    secret, api_key, app_id = webhook_credentials(args)
    config = ServeConfig(to=to, from_=from_, state_dir=state_dir(), signature_secret=secret,
                         api_key=api_key, app_id=app_id, style=style_for(sys.stderr))
    return config, int(port_text), public


def serve_banner(config: ServeConfig, host: str, port: int, public: str,
                 events_path: str, configured: tuple[str, list] | None = None,
                 inspect_port: int | None = None) -> list[str]:
    """What serve prints once it listens: where to point Vonage (or, with --configure,
    what it changed in the application, from what to what), and what it does."""
    local = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    base = public or local
    if configured:
        name, changes = configured
        where = [f"              set in application {name} until serve stops:",
                 *(f"                {what}: {printable(old or '(none)', None)} "
                   f"{config.style.arrow} {new}" for what, old, new in changes)]
    elif public:
        where = ["              paste these into your Vonage application's voice capability "
                 "(the rtc URL into its rtc capability), or let --configure do it"]
    else:
        where = ["              expose them with a tunnel (e.g. ngrok http "
                 f"{port}) and pass its URL as --public-url"]
    return [f"convo serve: listening on {local} (Ctrl-C stops)",
            f"  answer URL  {base}/webhooks/answer",
            f"  event URL   {base}/webhooks/event",
            f"  rtc URL     {base}/webhooks/rtc",
            *where,
            f"  connects    incoming calls to {config.to}"
            + (f" (caller ID {config.from_})" if config.from_ else ""),
            f"  saves to    {events_path}; the latest call in "
            f"{os.path.join(config.state_dir, STATE_FILE)}",
            *([f"  inspector   http://127.0.0.1:{inspect_port}/ (this machine only: open it "
               f"in a browser)"] if inspect_port else []),
            "  signatures  " + ("verified (HS256, with the signature secret)"
                                if config.signature_secret else "NOT verified")]


# ############################################################################
# 12. `send`: a call played as Vonage plays it
# ############################################################################

# -- the NCCO's rules (pure) ---------------------------------------------------

SEED_CALLER = "447700000001"      # the seed's call: its caller...
SEED_NUMBER = "447700000002"      # ...and the Vonage number it called
SEED_REGION_URL = "https://api-eu-1.vonage.com"
SEED_APP_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"  # send --rtc's application_id by default
ANSWER_TIMEOUT_S = 5.0            # Vonage's answer webhook budget (webhook reference)
EVENT_TIMEOUT_S = 10.0            # the event webhook's
SEND_MAX_REPLY = 1 << 20          # bytes of a reply that send reads
MAX_REPLAY_WAIT_S = 24 * 3600     # send --log --speed: a longer wait is an error
QUIET_WAIT_S = 3.0                # ...and a longer one than this is announced

# For `send`: the webhooks a real inbound call brings (Vonage's Voice API webhook
# reference: the answer and event webhooks), in order, and the rules Vonage applies
# to each reply (the same page, and Vonage's support article "What happens if the
# NCCO download request fails"). Nothing here does I/O;
# the clock and the IDs come in as arguments.

#: JSON types by the names the NCCO schema uses.
#: The NCCO actions send knows: action -> (required fields, other fields), each
#: field with its JSON type ("a|b": either). Required fields and types are those
#: of Vonage's NCCO schema (github.com/Nexmo/api-specification, ncco-schema.json;
#: notify, which the schema lacks, from the SDKs); the other fields are the schema's
#: and the current SDKs'.
NCCO_ACTIONS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "connect": ({"endpoint": "array"},
                {"from": "string", "randomFromNumber": "boolean", "eventType": "string",
                 "timeout": "number", "limit": "number", "machineDetection": "string",
                 "advancedMachineDetection": "object", "eventUrl": "array",
                 "eventMethod": "string", "ringbackTone": "string"}),
    "talk": ({"text": "string"},
             {"bargeIn": "boolean", "loop": "integer", "level": "number", "language": "string",
              "style": "integer", "premium": "boolean", "voiceName": "string"}),
    "stream": ({"streamUrl": "array"},
               {"level": "number", "bargeIn": "boolean", "loop": "number"}),
    "input": ({}, {"type": "array", "dtmf": "object", "speech": "object", "eventUrl": "array",
                   "eventMethod": "string", "mode": "string", "timeOut": "number",
                   "maxDigits": "number", "submitOnHash": "boolean"}),
    "record": ({}, {"format": "string", "split": "string", "channels": "integer",
                    "endOnSilence": "integer", "endOnKey": "string", "timeOut": "integer",
                    "beepStart": "boolean", "eventUrl": "array", "eventMethod": "string",
                    "transcription": "object"}),
    "conversation": ({"name": "string"},
                     {"musicOnHoldUrl": "array|string", "startOnEnter": "boolean",
                      "endOnExit": "boolean", "record": "boolean", "canSpeak": "array",
                      "canHear": "array", "mute": "boolean", "eventUrl": "array",
                      "eventMethod": "string"}),
    "notify": ({"payload": "object", "eventUrl": "array"}, {"eventMethod": "string"}),
}

#: connect's endpoint types, as NCCO_ACTIONS; the field named first is what it calls.
NCCO_ENDPOINTS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "phone": ({"number": "string"},
              {"dtmfAnswer": "string", "onAnswer": "object", "shaken": "string"}),
    "app": ({"user": "string"}, {}),
    "websocket": ({"uri": "string"}, {"content-type": "string", "headers": "object"}),
    "sip": ({"uri": "string"}, {"headers": "object", "standardHeaders": "object"}),
    "vbc": ({"extension": "string"}, {}),
}


def _has_type(value: Any, names: str) -> bool:
    """True if value is of one of the JSON types 'a|b' (true and false are no numbers)."""
    kinds = names.split("|")
    if isinstance(value, bool):
        return "boolean" in kinds
    return any(isinstance(value, _JSON_TYPES[kind]) for kind in kinds)


def _check_fields(obj: dict[str, Any], rules: tuple[dict[str, str], dict[str, str]],
                  where: str, errors: list[str], warnings: list[str], skip: str) -> None:
    required, optional = rules
    errors.extend(f"{where}: the required field {name} is missing"
                  for name in required if name not in obj)
    for name, value in obj.items():
        if name == skip:
            continue
        kind = required.get(name) or optional.get(name)
        if kind is None:
            warnings.append(f"{where}: unknown field {printable(name, 40)!r}")
        elif not _has_type(value, kind):
            errors.append(f"{where}: {name} must be a JSON {kind.replace('|', ' or ')}, "
                          f"not a {json_type(value)}")


def check_ncco(ncco: Any) -> tuple[list[str], list[str]]:
    """Check an NCCO as Vonage reads one: (errors, warnings). An error (not an array,
    an unknown action, a missing required field, a wrong type) makes Vonage refuse
    the NCCO; a warning is an unknown field."""
    if not isinstance(ncco, list):
        return [f"the NCCO is a JSON {json_type(ncco)}, not an array of actions"], []
    if not ncco:
        return ["the NCCO is an empty array: the call has nothing to do"], []
    errors: list[str] = []
    warnings: list[str] = []
    for i, action in enumerate(ncco, 1):
        if not isinstance(action, dict):
            errors.append(f"action {i} is a JSON {json_type(action)}, not an object")
            continue
        name = action.get("action")
        if name not in NCCO_ACTIONS:
            errors.append(f"action {i}: " + ("no 'action' field" if name is None else
                          f"unknown action {printable(name, 40)!r} (known: "
                          f"{', '.join(NCCO_ACTIONS)})"))
            continue
        where = f"action {i} ({name})"
        _check_fields(action, NCCO_ACTIONS[name], where, errors, warnings, "action")
        endpoints = action.get("endpoint")
        if name != "connect" or not isinstance(endpoints, list):
            continue
        if not endpoints:
            errors.append(f"{where}: endpoint is empty: connect needs one endpoint")
        elif len(endpoints) > 1:
            warnings.append(f"{where}: {len(endpoints)} endpoints; Vonage takes one")
        for j, endpoint in enumerate(endpoints, 1):
            there = f"{where} endpoint {j}"
            kind = endpoint.get("type") if isinstance(endpoint, dict) else None
            if not isinstance(endpoint, dict):
                errors.append(f"{there} is a JSON {json_type(endpoint)}, not an object")
            elif kind not in NCCO_ENDPOINTS:
                errors.append(f"{there}: " + ("no 'type' field" if kind is None else
                              f"unknown type {printable(kind, 40)!r} (known: "
                              f"{', '.join(NCCO_ENDPOINTS)})"))
            else:
                _check_fields(endpoint, NCCO_ENDPOINTS[kind], there, errors, warnings, "type")
    return errors, warnings


def connected_leg(ncco: list[Any]) -> dict[str, Any] | None:
    """What an NCCO's first connect action calls: the outbound leg's to and from, and
    where its events go (the connect's own eventUrl, if it names one); None if the
    NCCO connects nothing. Call it on an NCCO that check_ncco passed."""
    for action in ncco:
        if action.get("action") != "connect":
            continue
        endpoint = action["endpoint"][0]
        called = next(iter(NCCO_ENDPOINTS[endpoint["type"]][0]))
        urls = action.get("eventUrl")
        return {"to": endpoint[called], "from": action.get("from") or "Unknown",
                "type": endpoint["type"],
                "event_url": urls[0] if urls and isinstance(urls[0], str) else None,
                "event_method": str(action.get("eventMethod") or "POST").upper()}
    return None


def describe_ncco(ncco: list[Any], style: Style) -> str:
    """An NCCO in short: 'talk, connect → phone 447700000003'."""
    leg = connected_leg(ncco)
    names = [printable(a.get("action"), 20) for a in ncco]
    return ", ".join(names) + (f" {style.arrow} {leg['type']} {printable(leg['to'], 60)}"
                               if leg else "")

# -- the call's webhooks and the verdicts (pure) -------------------------------

def wire_lines(method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes,
               reply: Reply) -> str:
    """What send -v logs of one exchange: the request (method, URL, headers, body),
    then the reply (status, time, headers, body, the NCCO for an answer webhook),
    secrets redacted and every line escaped (a body stays on its line)."""
    def block(pairs: Iterable[tuple[str, str]], data: bytes) -> list[str]:
        lines = [f"    {printable(k, 80)}: {printable(shown_header(k, v), None)}"
                 for k, v in pairs]
        if data:
            lines.append("    " + printable(data.decode("utf-8", "replace"), None))
        return lines
    took = f"({reply.elapsed_s * 1000:.0f} ms)"
    answer = [f"  <- {reply.status} {took}"] if reply.status else [
        f"  <- no reply {took}: {reply.problem}"]
    return "\n".join([f"  -> {method} {printable(url, None)}", *block(headers, body),
                      *answer, *block(reply.headers, reply.body)])


def foreign_event_url(url: str, answer_url: str) -> str | None:
    """Why send must not follow an NCCO's eventUrl, or None. The NCCO comes from the
    server under test, so its eventUrl goes only where that server is: the answer
    URL's own origin, or loopback when the answer URL is itself on this machine."""
    there, here = split_url(url), split_url(answer_url)
    if not there or not here:
        return None  # check_send_url says what is wrong with it
    origin = (there.scheme, there.hostname, there.port)
    if origin == (here.scheme, here.hostname, here.port) or (
            on_this_machine(here) and on_this_machine(there)):
        return None
    return (f"the NCCO's eventUrl '{printable(url, 80)}' is on another server than the one "
            f"send tests ({host_of(answer_url)}): send sends nothing elsewhere")


def check_send_url(url: str, flag: str, *, insecure: bool, typed: str | None = None
                   ) -> str | None:
    """Why send must not send to this URL, or None: it is not http(s), or it is plain
    http:// to another machine without --insecure. Messages quote `typed`, if given."""
    try:
        check_http_url(url, flag, "http://127.0.0.1:3000", typed=typed)
    except ConvoError as e:
        return str(e)
    if in_clear_elsewhere(url) and not insecure:
        return (f"{flag} '{printable(typed or url, 80)}' is plain http:// to another machine: "
                f"use https://, or --insecure if you mean it")
    return None


def answer_request(*, from_: str, to: str, conv: str, leg: str, region_url: str
                   ) -> dict[str, Any]:
    """The answer webhook's fields for an inbound phone call (the webhook reference)."""
    return {"to": to, "from": from_, "uuid": leg, "conversation_uuid": conv,
            "region_url": region_url, "endpoint_type": "phone"}


#: Per-leg values of the seed's call: the rate and network of each leg's events.
SEED_LEG_RATES = {"inbound": ("0.00450000", "23410"), "outbound": ("0.01270000", "23420")}


def call_steps(connects: bool) -> list[tuple[str, str]]:
    """The event webhooks of a call, in order, as (leg, status): the inbound leg's
    started, ringing and answered, the outbound leg's if the NCCO connects, then
    completed for each."""
    legs = ("inbound", "outbound") if connects else ("inbound",)
    return [(leg, status) for leg in legs for status in LIVE_STATUSES] + [
        (leg, "completed") for leg in legs]


def call_rtc_events(inbound: dict[str, Any], outbound: dict[str, Any] | None, *,
                    app_id: str) -> dict[Any, list[dict[str, Any]]]:
    """The call's conversation events as the RTC event webhook pushes them, by the
    voice step they follow: seed 004's eight (its members joining, their legs ringing
    and answered, their audio on), then hang-up's (each leg completed, each member
    leaving). Ids, timestamps and member IDs are filled in as they are sent."""
    import uuid

    def channel(leg: dict[str, Any]) -> dict[str, Any]:
        return {"type": "phone", "id": leg["uuid"], "leg_ids": [leg["uuid"]],
                "from": {"type": "phone", "number": leg["from"]},
                "to": {"type": "phone", "number": leg["to"]}}

    def member(leg: dict[str, Any], name: str | None = None) -> dict[str, Any]:
        user = {"id": f"USR-{uuid.uuid4()}", **({"name": name} if name else {})}
        return {"member_id": f"MEM-{uuid.uuid4()}", "user": user, "channel": channel(leg)}

    def event(kind: str, who: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        return {"type": kind, "from": who["member_id"], "conversation_id":
                inbound["conversation_uuid"], "application_id": app_id, "body": body}

    def media(who: dict[str, Any]) -> dict[str, Any]:
        return {"member_id": who["member_id"], "audio": True, "channel": who["channel"],
                "media": {"audio": True, "audio_settings": {"enabled": True, "muted": False,
                                                            "earmuffed": False}}}

    def status(who: dict[str, Any], leg: dict[str, Any], direction: str) -> dict[str, Any]:
        return event("leg:status:update", who, {"leg_id": leg["uuid"], "type": "phone",
                                                "direction": direction, "status": "completed"})

    a = member(inbound)
    steps: dict[Any, list[dict[str, Any]]] = {
        "answer": [event("member:joined", a, a)],
        ("inbound", "completed"): [status(a, inbound, "inbound"),
                                   event("member:left", a, a)]}
    answered_a = [event("sip:answered", a, {"channel": a["channel"], "direction": "inbound"}),
                  event("member:joined", a, a), event("member:media", a, media(a))]
    if outbound is None:
        steps["inbound", "answered"] = answered_a
        return steps
    b = member(outbound, f"vapi-user-{uuid.uuid4().hex}")
    steps["outbound", "ringing"] = [event("sip:ringing", a, {"channel": b["channel"]})]
    steps["outbound", "answered"] = [
        event("sip:answered", a, {"channel": b["channel"], "direction": "outbound"}),
        event("member:joined", a, b), event("member:media", b, media(b)), *answered_a]
    steps["outbound", "completed"] = [status(b, outbound, "outbound"),
                                      event("member:left", b, b)]
    return steps


def stamped_rtc(event: dict[str, Any], ident: int, now: float) -> dict[str, Any]:
    """An RTC event as it is sent: its id in the conversation and the time, in its
    body's timestamps too (joined, left)."""
    when = format_iso(datetime.fromtimestamp(now, timezone.utc))
    body = dict(event["body"])
    state = {"member:joined": "joined", "member:left": "left"}.get(event["type"])
    if state:
        body["timestamp"] = {state: when}
    return {**event, "id": ident, "timestamp": when, "body": body}


def call_event(leg: dict[str, Any], status: str, *, now: float, answered_at: float | None
               ) -> dict[str, Any]:
    """One event webhook of a played call, with Vonage's fields and their string types
    (the webhook reference). `leg` holds from, to, uuid, conversation_uuid and direction."""
    stamp = format_iso(datetime.fromtimestamp(now, timezone.utc))
    event = {**leg, "status": status, "timestamp": stamp}
    rate, network = SEED_LEG_RATES[leg["direction"]]
    if status in ("answered", "completed"):
        start = format_iso(datetime.fromtimestamp(answered_at or now, timezone.utc))
        event.update(start_time=start)
    if status == "completed":
        duration = max(int(now - (answered_at or now)), 0)
        event.update(end_time=stamp, duration=str(duration), rate=rate,
                     price=f"{float(rate) * duration / 60:.8f}", network=network)
    elif status == "answered":
        event.update(rate=rate, network=network)
    return event


class Reply:
    """What a webhook server answered, as `send` saw it: the status (0 when it did not
    answer), the headers it judges by, the body (at most SEND_MAX_REPLY bytes) and the
    time taken; or the problem, when the exchange itself failed, and whether Vonage
    would try again after it (a timeout, a connection closed or reset)."""

    def __init__(self, *, status: int = 0, content_type: str | None = None,
                 location: str | None = None, body: bytes = b"", elapsed_s: float = 0.0,
                 problem: str | None = None, transient: bool = False,
                 headers: Sequence[tuple[str, str]] = ()) -> None:
        self.status, self.content_type, self.location = status, content_type, location
        self.headers = headers  # all of them, for -v
        self.body, self.elapsed_s = body, elapsed_s
        self.problem, self.transient = problem, transient


def _status_problem(reply: Reply, expected: str) -> str:
    """Why a status that is not the expected one fails."""
    status = reply.status
    if 300 <= status < 400:
        where = f" to {printable(reply.location, 100)}" if reply.location else ""
        return (f"HTTP {status}: a redirect{where}; send does not follow redirects: give "
                f"Vonage the final URL")
    hint = {401: " (refused: if it checks signatures, sign with its secret and api key: "
                 "--signature-secret, --api-key)",
            403: " (refused)", 404: " (is the path right?)",
            405: " (does it take this method?)"}.get(status, "")
    return f"HTTP {status}, expected {expected}{hint}"


#: NCCO actions whose own webhooks send does not play: action -> what is not called.
UNPLAYED = {"input": "its eventUrl (the caller's input)", "notify": "its eventUrl",
            "record": "its eventUrl (the recording)", "stream": "nothing: its audio is not "
            "fetched either"}


def unplayed(ncco: list[Any]) -> list[str]:
    """One note per action of an NCCO that send did not exercise, so that no flow it
    did not run is reported as simply ok."""
    notes = []
    for i, action in enumerate(ncco, 1):
        name = _dict(action).get("action")
        if name in UNPLAYED:
            notes.append(f"action {i} ({name}): {UNPLAYED[name]} was not called (send does "
                         f"not play {name} yet)")
    return notes


def judge_answer(reply: Reply, budget_s: float) -> tuple[list[str], list[str], Any]:
    """Judge an answer webhook's reply as Vonage does (the webhook reference): (errors,
    warnings, the NCCO when it is one). Any error fails the call."""
    fails = "Vonage will not retry and the call fails"
    retries = "Vonage tries once more, then the call fails"
    if reply.problem:
        return [f"{reply.problem}: {retries if reply.transient else fails}"], [], None
    if reply.elapsed_s > budget_s:
        return [f"the NCCO took {reply.elapsed_s:.2f} s, over the {budget_s:g} s answer "
                f"budget (--answer-timeout): {retries}"], [], None
    if reply.status != 200:
        return [f"{_status_problem(reply, '200 with the NCCO')}: "
                f"{retries if reply.status in (429, 503, 504) else fails}"], [], None
    media = (reply.content_type or "").split(";")[0].strip().lower()
    if media != "application/json":
        served = f"as {printable(media, 60)}" if media else "with no Content-Type"
        return [f"the NCCO is served {served}: {fails} (send Content-Type: "
                f"application/json)"], [], None
    try:
        ncco = loads(reply.body)
    except ValueError as e:
        return [f"the reply is not JSON ({printable(e, 80)}): {fails}"], [], None
    errors, warnings = check_ncco(ncco)
    if errors:
        errors = [f"{e}: Vonage refuses the NCCO and the call fails" for e in errors]
        return errors, warnings, None
    return [], warnings, ncco


def judge_event(reply: Reply, budget_s: float) -> list[str]:
    """Judge an event webhook's reply: any 2xx from 200 to 205 within the budget."""
    if reply.problem:
        return [reply.problem]
    if reply.elapsed_s > budget_s:
        return [f"took {reply.elapsed_s:.2f} s, over the {budget_s:g} s event budget "
                f"(--event-timeout)"]
    if not 200 <= reply.status <= 205:
        return [_status_problem(reply, "2xx (200 to 205)")]
    return []


def step_line(number: int, label: str, method: str, url: str, reply: Reply, passed: bool,
              note: str, style: Style, width: int = 10) -> str:
    """One line per webhook sent: what (in `width` columns), where, the status, the
    time and the verdict."""
    parts = split_url(url)
    path = printable(parts.path if parts and parts.path else "/", 40)
    status = str(reply.status) if reply.status else "---"
    verdict = style.paint("ok", "green") if passed else style.paint("FAIL", "bold", "red")
    ms = f"{reply.elapsed_s * 1000:.0f} ms"
    count = f"{number:>3}  " if number < 1000 else f"{number:>4} "  # the same width to 9999
    return (f"{count}{printable(label, max(width, 12)):<{width}} {method:<4} {path:<18} {status}  "
            f"{ms:>7}  {verdict}" + (f"  {note}" if note else ""))


def replay_request(webhook: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """How to send a saved webhook again: (kind, method, fields). The kind is
    webhook_kind()'s; the method what serve recorded (_method), else GET for an
    answer and POST for an event."""
    kind = webhook_kind(webhook)
    method = webhook.get("_method")
    if method not in ("GET", "POST"):
        method = "GET" if kind == "answer" else "POST"
    return kind, method, {k: v for k, v in webhook.items()
                          if k not in ("_webhook", "_received_at", "_method")}


def replayable(lines: Iterable[str], label: str, only: Any, skipped: list[str]
               ) -> Iterator[dict[str, Any]]:
    """The Voice webhooks in JSON lines, of conversation `only` if given; a warning
    for each line skipped is added to `skipped`."""
    others = 0
    for doc in iter_json_lines(lines, label, skipped):
        if not is_webhook(doc):
            others += 1
        elif not only or only(conversation_of(doc)):
            yield doc
    if others:
        skipped.append(f"{label}: skipped {others} JSON object{'s' if others > 1 else ''} "
                       f"that {'are' if others > 1 else 'is'} no Voice webhook")


def replay_time(webhook: dict[str, Any]) -> float | None:
    """When a saved webhook first came: serve's _received_at, else its timestamp."""
    when = parse_time(webhook.get("_received_at")) or parse_time(webhook.get("timestamp"))
    return when.timestamp() if when else None

# -- sending -------------------------------------------------------------------

class WebhookSender:
    """Send webhooks to any server as Vonage does: over one keep-alive connection per
    origin, signed when given a secret, redirects never followed, each reply timed
    and read up to SEND_MAX_REPLY bytes. A failed exchange is a Reply with a problem,
    never an exception."""

    def __init__(self, *, secret: str | None = None, api_key: str = "",
                 app_id: str | None = None, replaying: str | None = None) -> None:
        self.secret, self.api_key, self.app_id = secret, api_key, app_id
        self.replaying = replaying  # the replayed log's identity (file_identity)
        self.own_log = False  # serve said that log is the one it writes to
        self._conns: dict[tuple, Any] = {}
        import logging
        self.log = logging.getLogger("convo")
        self.verbose = self.log.isEnabledFor(logging.DEBUG)  # -v: the exchanges, logged

    def close(self) -> None:
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()

    def send(self, method: str, url: str, fields: dict[str, Any], timeout_s: float
             ) -> tuple[str, Reply]:
        """Send one webhook's fields; return the URL it went to and the reply."""
        sent, body = webhook_request(method, url, fields)
        headers = webhook_headers(method, sent, body, secret=self.secret,
                                  api_key=self.api_key, app_id=self.app_id)
        if self.replaying:
            headers[REPLAY_HEADER] = self.replaying
        reply = self.exchange(method, sent, body, headers, timeout_s)
        if self.verbose:
            self.log.debug("%s", wire_lines(method, sent, headers.items(), body, reply))
        return sent, reply

    def exchange(self, method: str, url: str, body: bytes, headers: dict[str, str],
                 timeout_s: float) -> Reply:
        """One request and its reply, within timeout_s from the first byte sent."""
        import http.client
        import socket
        from urllib.parse import urlsplit
        parts = urlsplit(url)
        origin = (parts.scheme, parts.hostname or "", parts.port)
        where = f"{origin[1]}:{origin[2]}" if origin[2] else origin[1]
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        started = time.monotonic()
        for retry in (False, True):
            conn = self._conns.pop(origin, None)
            reused = conn is not None
            if conn is None:
                conn = http_connection(origin, timeout_s)
            left = max(timeout_s - (time.monotonic() - started), 0.001)
            conn.timeout = left
            if conn.sock is not None:
                conn.sock.settimeout(left)
            ticket = WATCHDOG.arm(conn, started + timeout_s)
            try:
                conn.request(method, target, body=body, headers=headers)
                resp = conn.getresponse()
                data, problem = self._read(resp)
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                took = time.monotonic() - started
                if ticket[1] or isinstance(e, (socket.timeout, TimeoutError)):
                    # (ticket[1]: the watchdog cut off a reply that came too slowly)
                    return Reply(problem=f"no reply within {timeout_s:g} s", transient=True,
                                 elapsed_s=took)
                if isinstance(e, (ConnectionResetError, BrokenPipeError,
                                  http.client.RemoteDisconnected)):
                    if reused and not retry:
                        continue  # the server had closed the idle keep-alive connection
                    return Reply(problem=f"{where} closed the connection without answering",
                                 transient=True, elapsed_s=took)
                return Reply(problem=network_problem(where, e, timeout_s, "is the server "
                                                     "running?", "see the timeouts"),
                             elapsed_s=took)
            finally:
                WATCHDOG.disarm(ticket)
            if problem or resp.will_close:
                conn.close()
            else:
                self._conns[origin] = conn
            self.own_log = self.own_log or resp.getheader(REPLAY_HEADER) == "own-log"
            return Reply(status=resp.status, content_type=resp.getheader("Content-Type"),
                         location=resp.getheader("Location"), body=data, problem=problem,
                         elapsed_s=time.monotonic() - started, headers=resp.getheaders())
        raise AssertionError("unreachable")

    @staticmethod
    def _read(resp: Any) -> tuple[bytes, str | None]:
        """The reply's body, unless it is over SEND_MAX_REPLY bytes: then the problem."""
        too_big = f"the reply is over {SEND_MAX_REPLY >> 20} MiB"
        length = resp.getheader("Content-Length")
        if length and length.isdigit() and int(length) > SEND_MAX_REPLY:
            return b"", too_big
        data = resp.read(SEND_MAX_REPLY + 1)
        return (b"", too_big) if len(data) > SEND_MAX_REPLY else (data, None)


class Step:
    """One webhook sent by `send`, judged: what was sent where, the reply, the errors
    (any fails the step), the warnings, and a note for its line."""

    def __init__(self, label: str, method: str, url: str, reply: Reply, errors: list[str],
                 warnings: list[str] | None = None, note: str = "",
                 notes: list[str] | None = None) -> None:
        self.label, self.method, self.url, self.reply = label, method, url, reply
        self.errors, self.warnings, self.note = errors, warnings or [], note
        self.notes = notes or []  # what was not exercised, and other things to know


def play_call(sender: WebhookSender, answer_url: str, event_url: str, *, conv: str,
              method: str, from_: str, to: str, answer_timeout_s: float,
              event_timeout_s: float, insecure: bool, style: Style,
              rtc_url: str | None = None) -> Iterator[Step]:
    """Play one inbound call in conversation `conv`: the answer webhook, then, if its
    NCCO passed, the call's event webhooks (call_steps), each as it happens; with
    rtc_url, its conversation events too, where a real call has them."""
    import uuid
    inbound = {"from": from_, "to": to, "uuid": str(uuid.uuid4()), "conversation_uuid": conv,
               "direction": "inbound"}
    fields = answer_request(from_=from_, to=to, conv=conv, leg=inbound["uuid"],
                            region_url=SEED_REGION_URL)
    sent, reply = sender.send(method, answer_url, fields, answer_timeout_s)
    errors, warnings, ncco = judge_answer(reply, answer_timeout_s)
    yield Step("answer", method, sent, reply, errors, warnings,
               describe_ncco(ncco, style) if ncco is not None else "",
               unplayed(ncco) if ncco is not None else [])
    if errors:
        return
    legs = {"inbound": (inbound, event_url, "POST")}
    called = connected_leg(ncco)
    outbound = None
    if called:
        outbound = {"from": called["from"], "to": called["to"], "uuid": str(uuid.uuid4()),
                    "conversation_uuid": conv, "direction": "outbound"}
        how = called["event_method"] if called["event_method"] in ("GET", "POST") else "POST"
        legs["outbound"] = (outbound, called["event_url"] or event_url, how)
    rtc = call_rtc_events(inbound, outbound, app_id=sender.app_id or SEED_APP_ID
                          ) if rtc_url else {}
    numbered = iter(range(1, 1000))

    def conversation_events(after: Any) -> Iterator[Step]:
        for event in rtc.get(after, ()):
            stamped = stamped_rtc(event, next(numbered), time.time())
            sent, reply = sender.send("POST", rtc_url or "", stamped, event_timeout_s)
            yield Step(stamped["type"], "POST", sent, reply,
                       judge_event(reply, event_timeout_s), note=f"id {stamped['id']}")
    yield from conversation_events("answer")
    answered: dict[str, float] = {}
    for direction, status in call_steps(called is not None):
        leg, url, how = legs[direction]
        now = time.time()
        if status == "answered":
            answered[direction] = now
        event = call_event(leg, status, now=now, answered_at=answered.get(direction))
        refused = check_send_url(url, "the NCCO's eventUrl", insecure=insecure) or \
            foreign_event_url(url, answer_url)
        if refused:
            yield Step(status, how, url, Reply(), [f"not sent: {refused}"], note=direction)
            continue
        sent, reply = sender.send(how, url, event, event_timeout_s)
        yield Step(status, how, sent, reply, judge_event(reply, event_timeout_s),
                   note=direction)
        yield from conversation_events((direction, status))


def replay_log(sender: WebhookSender, webhooks: Iterable[dict[str, Any]], answer_url: str,
               event_url: str, *, speed: float, answer_timeout_s: float,
               event_timeout_s: float, style: Style, say: Any = lambda text: None,
               rtc_url: str = "") -> Iterator[Step]:
    """Send saved webhooks again, in order, judged as in a call. With a speed, keep
    their original spacing divided by it; at 0, send each as soon as the last is done."""
    first: float | None = None
    start = time.monotonic()
    for webhook in webhooks:
        kind, method, fields = replay_request(webhook)
        when = replay_time(webhook) if speed else None
        if when is not None:
            first = when if first is None else first
            wait = start + (when - first) / speed - time.monotonic()
            if wait > MAX_REPLAY_WAIT_S:
                raise ConvoError(f"at --speed {speed:g}, the next webhook would be sent in "
                                 f"{format_span(wait)}: give a higher --speed (0 sends each "
                                 f"at once)", EXIT_USAGE)
            if wait > QUIET_WAIT_S:
                say(f"next webhook in {format_span(wait, ' ')} (at --speed {speed:g})")
            if wait > 0:
                time.sleep(wait)
        if kind == "answer":
            sent, reply = sender.send(method, answer_url, fields, answer_timeout_s)
            errors, warnings, ncco = judge_answer(reply, answer_timeout_s)
            yield Step("answer", method, sent, reply, errors, warnings,
                       describe_ncco(ncco, style) if ncco is not None else "",
                       unplayed(ncco) if ncco is not None else [])
        elif kind == "rtc":
            sent, reply = sender.send(method, rtc_url, fields, event_timeout_s)
            yield Step(printable(fields.get("type") or "rtc", 20), method, sent, reply,
                       judge_event(reply, event_timeout_s),
                       note=f"id {printable(fields.get('id'), 20)}")
        else:
            sent, reply = sender.send(method, event_url, fields, event_timeout_s)
            yield Step(str(webhook_status(fields)), method, sent, reply,
                       judge_event(reply, event_timeout_s),
                       note=printable(fields.get("direction") or "", 20))

# -- the command ---------------------------------------------------------------

def cmd_send(args: argparse.Namespace, out: TextIO) -> int:
    """Play a call against your webhook server as Vonage would: no phone needed.

    The answer webhook first, its reply judged as Vonage judges an NCCO; then
    the call's event webhooks, each reply judged and timed. Exit 1 if the
    server got anything wrong. With --log, send saved webhooks again instead.
    """
    import uuid
    base, answer_url, event_url = send_urls(args)
    rtc_url = f"{base or origin_of(event_url)}/webhooks/rtc"
    if args.rtc and args.log:
        raise ConvoError("--rtc plays a new call's conversation events; --log sends the "
                         "saved ones (RTC events included) as they are", EXIT_USAGE)
    sender = send_signer(args)
    style = style_for(out)
    target = printable(base or f"{answer_url} and {event_url}", 160)
    signed = f"signed as api_key {printable(sender.api_key, 40)}" if sender.secret \
        else "unsigned"
    label = "<stdin>" if args.log == "-" else args.log
    only = OneConversation(args.conversation) if args.conversation else None
    skipped: list[str] = []
    if args.log:
        if args.from_ or args.to or args.method:
            raise ConvoError("--from, --to and --method shape a new call; --log sends the "
                             "saved webhooks as they are", EXIT_USAGE)
        lines = input_lines(args.log, snapshot=True)
        sender.replaying = file_identity(args.log)
        webhooks = replayable(lines, label, only, skipped)
        pace = f"at {args.speed:g}x the original pace" if args.speed else "at once"
        out.write(style.wrap(f"convo send: {printable(label, 80)} to {target}, {pace}, "
                             f"{signed}", "  ") + "\n")
        steps = replay_log(sender, webhooks, answer_url, event_url, speed=args.speed,
                           answer_timeout_s=args.answer_timeout,
                           event_timeout_s=args.event_timeout, style=style, rtc_url=rtc_url,
                           say=lambda text: (out.write(style.wrap(f"       {text}") + "\n"),
                                             out.flush()))
    else:
        if args.conversation or args.speed:
            raise ConvoError("--conversation and --speed go with --log", EXIT_USAGE)
        from_ = check_number(args.from_ or SEED_CALLER, "--from")
        to = check_number(args.to or SEED_NUMBER, "--to")
        conv = f"CON-{uuid.uuid4()}"
        out.write(style.wrap(f"convo send: a call from {from_} to {to} ({conv}) to {target}, "
                             f"{signed}", "  ") + "\n")
        steps = play_call(sender, answer_url, event_url, conv=conv, method=args.method or "GET",
                          from_=from_, to=to, answer_timeout_s=args.answer_timeout,
                          event_timeout_s=args.event_timeout, insecure=args.insecure,
                          style=style, rtc_url=rtc_url if args.rtc else None)
    try:
        code = report_steps(steps, out, style, replay=bool(args.log),
                            width=17 if args.rtc or args.log else 10)
    finally:
        sender.close()
    if args.log:
        if sender.own_log:
            _stderr(f"convo: note: {printable(label, 80)} is the log this server writes to: "
                    f"send replayed the lines it held when send started, not the ones "
                    f"saved as it sent them")
        for message in skipped:
            warn(message)
        if code is None:
            raise ConvoError(f"{label}: no webhooks to send" + (f" of {only}" if only else ""),
                             EXIT_USAGE)
    return code or EXIT_OK


def send_urls(args: argparse.Namespace) -> tuple[str, str, str]:
    """send's base URL (or ''), answer URL and event URL, from URL or --answer-url
    and --event-url, checked with its other options. Raises ConvoError (exit 2)."""
    typed = (args.url or "").strip()
    base = typed_url(typed).rstrip("/")
    for name in ("/webhooks/answer", "/webhooks/event"):
        if base.endswith(name):  # a whole webhook URL, given as the base
            base = base[:-len(name)]
            _stderr(f"convo: note: URL reduced to {printable(base, 80)}: send adds the "
                    f"webhook paths")
    if not base and not (args.answer_url and args.event_url):
        raise ConvoError("give your webhook server's URL, e.g. send http://127.0.0.1:3000 "
                         "(or both --answer-url and --event-url)", EXIT_USAGE)
    urls = (typed_url(args.answer_url) if args.answer_url else f"{base}/webhooks/answer",
            typed_url(args.event_url) if args.event_url else f"{base}/webhooks/event")
    for url, flag, given in zip(urls, ("--answer-url" if args.answer_url else "URL",
                                       "--event-url" if args.event_url else "URL"),
                                (args.answer_url, args.event_url)):
        problem = check_send_url(url, flag, insecure=args.insecure, typed=given or typed)
        if problem:
            raise ConvoError(problem, EXIT_USAGE)
    for value, flag in ((args.answer_timeout, "--answer-timeout"),
                        (args.event_timeout, "--event-timeout")):
        if not 0 < value <= 300:
            raise ConvoError(f"{flag} {value:g}: give seconds above 0, at most 300", EXIT_USAGE)
    if args.answer_timeout > ANSWER_TIMEOUT_S:
        _stderr(f"convo: note: Vonage itself gives up on the answer webhook after "
                f"{ANSWER_TIMEOUT_S:g} s; --answer-timeout {args.answer_timeout:g} lets send "
                f"wait longer than a real call would")
    if not 0 <= args.speed < float("inf"):
        raise ConvoError(f"--speed {args.speed:g}: 0 sends at once, 1 keeps the original "
                         f"pace, 2 is twice as fast", EXIT_USAGE)
    return base, *urls


def send_signer(args: argparse.Namespace) -> WebhookSender:
    """A sender that signs as Vonage does when there is a signature secret. Raises
    ConvoError (exit 2) when signing lacks the api_key Vonage puts in every token."""
    secret, api_key, app_id = webhook_credentials(args)
    if secret and not api_key:
        raise ConvoError("signing needs your account's API key, which Vonage puts in every "
                         "token: pass --api-key or set VONAGE_API_KEY", EXIT_USAGE)
    return WebhookSender(secret=secret, api_key=api_key or "", app_id=app_id)


def report_steps(steps: Iterable[Step], out: TextIO, style: Style, *, replay: bool,
                 width: int = 10) -> int | None:
    """Print a line per step as it is done, its problems under it, then the summary.
    Return the exit code: 0 when every step passed, 1 otherwise, None for no step.
    Ctrl-C prints the summary of what was done, then stops (exit 130)."""
    started = time.monotonic()
    count = failed = warned = unexercised = 0
    answer_failed = False
    try:
        for count, step in enumerate(steps, 1):
            line = step_line(count, step.label, step.method, step.url, step.reply,
                             not step.errors, step.note, style, width)
            if style.width and step.note and len(_ANSI.sub("", line)) > style.width:
                # too wide for the terminal: the note under the line, the columns kept
                line = step_line(count, step.label, step.method, step.url, step.reply,
                                 not step.errors, "", style, width) + "\n" + style.wrap(
                                     f"       {step.note}", " " * 7)
            out.write(line + "\n")
            for level, colour, messages in (("error", "red", step.errors),
                                            ("warning", "yellow", step.warnings),
                                            ("note", "cyan", step.notes)):
                for message in messages:
                    out.write(style.wrap(f"       {style.paint(level, colour)}: {message}",
                                         " " * 9) + "\n")
            failed += bool(step.errors)
            warned += len(step.warnings)
            unexercised += sum(1 for n in step.notes if "was not called" in n)
            answer_failed = answer_failed or bool(step.errors and step.label == "answer")
    except KeyboardInterrupt:
        out.write(f"interrupted after {count} webhook{'' if count == 1 else 's'}\n")
        raise
    if not count:
        return None
    took = f"in {time.monotonic() - started:.2f} s"
    warnings = f", {warned} warning{'' if warned == 1 else 's'}" if warned else ""
    if unexercised:
        warnings += (f"; {unexercised} action{'' if unexercised == 1 else 's'} of the NCCO "
                     f"not exercised (see the notes)")
    if not failed:
        out.write(f"{style.paint('ok', 'green')}: {count} of {count} webhooks passed "
                  f"{took}{warnings}\n")
        return EXIT_OK
    why = ("; the call fails at the answer webhook, so no event was sent"
           if answer_failed and not replay else "")
    out.write(f"{style.paint('FAILED', 'bold', 'red')}: {failed} of {count} webhooks failed "
              f"{took}{warnings}{why}\n")
    return EXIT_ERROR


# ############################################################################
# 13. `show`: a saved conversation or webhook log
# ############################################################################

MAX_DOCUMENT_BYTES = 64 << 20  # a document for show: a conversation with 100,000 events fits


def cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    """Print a saved conversation, or a saved webhook log.

    A conversation (a legacy beta/v0.1 document such as sample_response.json,
    or the output of get --json) as its tree; saved webhooks (serve's
    events.jsonl) as the call-status table. With no FILE, serve's events.jsonl.
    """
    if args.file is None:
        args.file = os.path.join(state_dir(), EVENTS_FILE)
        if not os.path.exists(args.file):
            raise ConvoError(f"{args.file}: no such file: serve saves every webhook there; "
                             f"or give a FILE to show", EXIT_USAGE)
    label = "<stdin>" if args.file == "-" else args.file
    if args.file.endswith((".jsonl", ".ndjson")):  # a webhook log: stream it
        return _show_webhook_lines(input_lines(args.file), label, args, out)
    text = read_input(args.file, MAX_DOCUMENT_BYTES, "a conversation document (larger than "
                      "any the API serves; JSON lines of webhooks have no such limit)")
    if not text.strip():
        raise ConvoError(f"{label}: is empty; expected a conversation JSON document or "
                         f"JSON lines of webhooks", EXIT_USAGE)
    doc, more = parse_json_values(text, label)
    if more:  # more than one JSON value: JSON lines
        return _show_webhook_lines(text.splitlines(), label, args, out)
    if isinstance(doc, list) and not any(isinstance(x, dict) for x in doc):
        raise ConvoError(f"{label}: expected a JSON object (a conversation) or webhooks, "
                         f"found a JSON list without objects", EXIT_USAGE)
    if isinstance(doc, list) or (isinstance(doc, dict) and is_webhook(doc)):
        return show_webhooks((x for x in (doc if isinstance(doc, list) else [doc])
                              if isinstance(x, dict)), args, out)
    if args.conversation:
        raise ConvoError("--conversation filters a webhook log (JSON lines), not a "
                         "conversation document", EXIT_USAGE)
    if not isinstance(doc, dict):
        raise ConvoError(f"{label}: expected a JSON object (a conversation), "
                         f"found a JSON {json_type(doc)}", EXIT_USAGE)
    if doc and not doc.keys() & {"id", "uuid", "name", "members", "state", "timestamp"}:
        raise ConvoError(f"{label}: neither a conversation nor webhooks ({looks_like(doc)}): "
                         f"show reads a conversation (the output of get --json, or the "
                         f"tutorial's sample_response.json) or webhooks (serve's "
                         f"events.jsonl)", EXIT_USAGE)
    conv = normalize_conversation(doc)
    if args.json:
        out.write(dump_json(conv) + "\n")
    else:
        style = style_for(out)
        write_lines(out, render_document(conv, style), style)
    return EXIT_OK


def looks_like(doc: dict[str, Any]) -> str:
    """What a JSON object that show does not read seems to be, for its error."""
    embedded = _dict(doc.get("_embedded"))
    if "calls" in embedded:
        return "it looks like the Voice API's list of calls: try get with one of them"
    if "conversations" in embedded:
        return "it looks like a list of conversations"
    if "keys" in doc and "capabilities" in doc:
        return "it looks like an application"
    if "title" in doc and ("detail" in doc or "type" in doc):
        return "it looks like an API error"
    keys = ", ".join(printable(k, 30) for k in list(doc)[:5])
    return f"an object with {keys}" + (", ..." if len(doc) > 5 else "")


def _show_webhook_lines(lines: Iterable[str], label: str, args: argparse.Namespace,
                        out: TextIO) -> int:
    skipped: list[str] = []
    code = show_webhooks(iter_json_lines(lines, label, skipped), args, out)
    for message in skipped:
        warn(message)
    return code


def voice_only(webhooks: Iterable[dict[str, Any]], rtc: list[dict[str, Any]]
               ) -> Iterator[dict[str, Any]]:
    """The voice webhooks of a log; its RTC events are put in `rtc` instead."""
    for webhook in webhooks:
        if webhook_kind(webhook) == "rtc":
            rtc.append(webhook)
        else:
            yield webhook


def built_from(rtc: list[dict[str, Any]], only: Any) -> dict[str, EventConversation]:
    """The conversations that RTC events of a log build (those of `only`), warning of
    the events that cannot go into one."""
    events = [{k: v for k, v in e.items() if not k.startswith("_")} for e in rtc]
    built, odd = build_conversations(e for e in events
                                     if not only or only(event_conversation_id(e) or ""))
    if odd:
        whys = sorted({why for _, why in odd})
        warn(f"{len(odd)} RTC event{'s' if len(odd) > 1 else ''} could not go into a "
             f"conversation ({', '.join(whys)}): left out of the trees")
    return built


def show_webhooks(webhooks: Iterable[dict[str, Any]], args: argparse.Namespace,
                  out: TextIO) -> int:
    """Print saved webhooks as the call-status table, grouped by conversation; for a
    conversation with RTC events, first the tree they build and its events: what the
    API forgets after hang-up."""
    only = OneConversation(args.conversation) if args.conversation else None
    rtc: list[dict[str, Any]] = []
    if args.json:
        saved: dict[str, list[Any]] = {}
        for w in voice_only(webhooks, rtc):
            key = conversation_of(w)
            if not only or only(key):
                saved.setdefault(key, []).append(w)
        built = built_from(rtc, only)
        keys = list(dict.fromkeys([*built, *saved]))
        out.write(dump_json([{"conversation_uuid": k, "webhooks": saved.get(k, []),
                              **({"conversation": built[k].document()} if k in built else {})}
                             for k in keys]) + "\n")
        return EXIT_OK
    import gc
    # Speed (bench/timeline.py): rows are tuples of strings, with no cycles to
    # collect, and the collector would otherwise rescan every surviving row again
    # and again (superlinear time).
    style = style_for(out)
    enabled = gc.isenabled()
    gc.disable()
    try:
        groups = group_webhooks(voice_only(webhooks, rtc), only, style.more)
    finally:
        if enabled:
            gc.enable()
    built = built_from(rtc, only) if rtc else {}
    if not groups and not built:
        out.write("No webhooks" + (f" for {only}" if only else "") + ".\n")
    elif not built:
        write_lines(out, render_webhook_log(groups, style), style)
    else:
        write_lines(out, render_saved_calls(built, groups, style), style)
    return EXIT_OK


def render_saved_calls(built: dict[str, EventConversation],
                       groups: dict[str, list[tuple[str, ...]]], style: Style
                       ) -> Iterator[str]:
    """Each conversation of a log: the tree its RTC events build and its events
    (Events (N)), then its voice webhooks' table."""
    for i, conv in enumerate(dict.fromkeys([*built, *groups])):
        if i:
            yield ""
        if conv in built:
            doc = normalize_conversation(built[conv].document())
            yield from render_tree(doc, style)
            yield ""
            yield from render_timeline(doc, style)
        if conv in groups:
            if conv in built:
                yield ""
            yield from render_webhook_log({conv: groups[conv]}, style)


# ############################################################################
# 14. The command line
# ############################################################################

#: What convo.py reads from the environment, a row each: name | the commands that read
#: it | meaning. `--help`, each command's --help and README.md's table come from here
#: (a test checks the README).
ENVIRONMENT_TABLE = """
VONAGE_APPLICATION_ID | app jwt calls get serve send | the application ID (--app-id wins): get and calls mint tokens for it, serve checks signed webhooks against it, send signs them with it
VONAGE_APPLICATION_PRIVATE_KEY_PATH | jwt calls get serve | the private key file (--key wins); serve reads it for --watch
VONAGE_PRIVATE_KEY | jwt calls get serve | the private key's PEM text itself, for CI secrets (\\n escapes are accepted)
VONAGE_PRIVATE_KEY_PASSPHRASE | jwt calls get serve | the passphrase of an encrypted key; without it, convo.py asks on a terminal
TO_NUMBER | serve | the number calls are connected to (--to wins)
VONAGE_NUMBER | serve | the caller ID for the connected leg (--from wins)
PORT | serve | the port (--port wins; default 3000)
VONAGE_SIGNATURE_SECRET | serve send | serve verifies signed webhooks with it, send signs them (--signature-secret wins)
VONAGE_API_KEY | app serve send | the account's API key (--api-key wins): app and serve --configure use it with the secret; signed webhooks carry it
VONAGE_API_SECRET | app serve | the account's API secret, for the Applications and Numbers APIs (--api-secret wins)
JWT | calls get serve | a token to use as it is (--jwt wins); serve uses it for --watch
VONAGE_API_URL | calls get serve | API base URLs, comma-separated (--api-url wins); serve asks them for --watch
CONVO_STATE_DIR | app serve get | where events.jsonl, the last call, the regions and the application saved by serve --configure are kept (default $XDG_STATE_HOME/convo, else ~/.local/state/convo)
NO_COLOR | jwt serve send calls get show | never colour the output
./.vonagerc, then ~/.vonage/config.json | app jwt calls get serve | the Vonage CLI's saved credentials (app-id, private-key, api-key, api-secret): the first that exists fills in what flags and variables left out (the account's keys: the first that holds them); app create writes ./.vonagerc
"""
#: The same, as (name, the commands that read it, meaning) rows.
ENVIRONMENT = tuple(tuple(cell.strip() for cell in row.split(" | "))
                    for row in ENVIRONMENT_TABLE.strip().splitlines())

EXIT_HELP = """\
exit codes:
  0    success
  1    runtime failure: network, API error, expired or badly signed token
  2    usage error or bad input: arguments, files, keys
  130  interrupted (Ctrl-C): what was done is printed, files are left whole
  143  terminated (SIGTERM): the same as Ctrl-C
  serve stops on Ctrl-C or SIGTERM with 0, once the requests in flight are answered
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, sized to the terminal without shutil (which argparse
    imports to do it); descriptions and epilogs keep their lines, each wrapped to fit."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=max((terminal_width() or 80) - 2, 40))

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(indent + wrapped for line in text.splitlines()
                         for wrapped in wrap_line(line, width))


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: 'convo: error: ...' and exit 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        _stderr(f"convo: error: {message} (see: python3 {self.prog} --help)")
        raise SystemExit(EXIT_USAGE)


def environment_help(command: str | None = None) -> str:
    """The --help epilog: the environment variables `command` reads (all of them for
    None), then the exit codes."""
    rows = [(name, meaning) for name, commands, meaning in ENVIRONMENT
            if command is None or command in commands.split()]
    width = max(len(name) for name, _ in rows) + 2
    lines = ["environment:", *(f"  {name:<{width}}{meaning}" for name, meaning in rows)]
    return "\n".join(lines) + "\n\n" + EXIT_HELP  # wrapped to the terminal by _Formatter


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="convo.py", description=__doc__.split("\n")[0],
                     epilog=environment_help())
    # The global flags, accepted before or after the command (SUPPRESS: a command's
    # parser sets them only when they are given there).
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    parser.add_argument("--debug", action="store_true",
                        help="show a traceback instead of a one-line error")
    anywhere = _Parser(add_help=False)
    anywhere.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                          help="log what happens")
    anywhere.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                          help="show a traceback instead of a one-line error")
    parser.add_argument("--version", action="version", version=f"convo.py {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # The application's credentials, for every command that mints or checks a token.
    credentials = _Parser(add_help=False)
    credentials.add_argument("--app-id", metavar="ID",
                             help="application ID (default: $VONAGE_APPLICATION_ID)")
    credentials.add_argument("--key", metavar="PATH", help="the application's private key "
                             "file (default: $VONAGE_APPLICATION_PRIVATE_KEY_PATH)")

    def command(name: str, func: Any, *parents: _Parser) -> Any:
        """Add a subcommand, its help taken from func's docstring; return its add_argument."""
        summary = func.__doc__.split("\n")[0]
        p = sub.add_parser(name, help=summary[0].lower() + summary[1:].rstrip("."),
                           description="\n".join(map(str.strip, func.__doc__.splitlines())),
                           parents=[anywhere, *parents], epilog=environment_help(name))
        p.set_defaults(func=func)
        return p.add_argument

    # Where the API is and how to reach it, for the commands that call it.
    api = _Parser(add_help=False)
    api.add_argument("--api-url", metavar="URL", action="append",
                     help="API base URL; give it several times to search them all (default: "
                          "$VONAGE_API_URL, else api.nexmo.com and the six regional hosts)")
    api.add_argument("--jwt", metavar="TOKEN", help="use this token (default: $JWT, or mint "
                     "one)")
    api.add_argument("--timeout", type=float, default=HTTP_TIMEOUT_S, metavar="SECONDS",
                     help="for each request (default: %(default)g)")

    # How often a watch asks, for get --watch and serve --watch.
    watching = _Parser(add_help=False)
    watching.add_argument("--interval", type=float, default=WATCH_INTERVAL_S,
                          metavar="SECONDS", help=f"with --watch, how often to ask (default: "
                          f"%(default)g; {MIN_INTERVAL_S:g} to {MAX_INTERVAL_S:g})")

    opt = command("serve", cmd_serve, credentials, api, watching)
    opt("--to", metavar="NUMBER", help="connect calls to this number, E.164 digits "
        "(default: $TO_NUMBER)")
    opt("--from", dest="from_", metavar="NUMBER",
        help="caller ID for the connected leg: your Vonage number (default: $VONAGE_NUMBER)")
    opt("--port", type=int, metavar="PORT", help="default: $PORT or 3000")
    opt("--host", default="127.0.0.1", help="interface to bind (default: %(default)s)")
    opt("--signature-secret", metavar="SECRET",
        help="verify signed webhooks (default: $VONAGE_SIGNATURE_SECRET)")
    opt("--api-key", metavar="KEY", help="the account's API key: signed webhooks must carry "
        "it, and --configure uses it (default: $VONAGE_API_KEY)")
    opt("--public-url", metavar="URL", help="your tunnel's URL, to print the webhook URLs "
        "(and, with --configure, to point the application at)")
    opt("--configure", action="store_true",
        help="point the application's webhooks at --public-url while serve runs, and put "
             "them back when it stops (needs the account's API key and secret)")
    opt("--api-secret", metavar="SECRET", help="with --configure: the account's API secret "
        "(default: $VONAGE_API_SECRET)")
    opt("--rtc", action="store_true", help="with --configure: set the rtc event URL too, "
        "adding the capability")
    opt("-w", "--watch", action="store_true",
        help="follow each call it answers through the API, in its log, as get --watch does")
    opt("--legs", action="store_true", help="with --watch, follow the Voice API legs too")
    opt("--inspect-port", type=int, metavar="PORT", help="the inspector's page, on "
        "127.0.0.1 (default: the webhook port + 1; 0 picks a free one)")
    opt("--no-inspect", action="store_true", help="no inspector page")

    opt = command("send", cmd_send)
    opt("url", nargs="?", metavar="URL", help="your webhook server, e.g. http://127.0.0.1:3000: "
        "send adds /webhooks/answer and /webhooks/event")
    opt("--answer-url", metavar="URL", help="the answer webhook's URL (default: URL/webhooks/"
        "answer)")
    opt("--event-url", metavar="URL", help="the event webhook's URL (default: URL/webhooks/"
        "event)")
    opt("--method", type=str.upper, choices=("GET", "POST"),
        help="how the answer webhook is sent (default: GET, as Vonage's default)")
    opt("--from", dest="from_", metavar="NUMBER",
        help=f"the caller, E.164 digits (default: {SEED_CALLER}, as in the seed's call)")
    opt("--to", metavar="NUMBER", help=f"the number called: your Vonage number (default: "
        f"{SEED_NUMBER})")
    opt("--answer-timeout", type=float, default=ANSWER_TIMEOUT_S, metavar="SECONDS",
        help="the NCCO must come within this (default: %(default)g, as Vonage's)")
    opt("--event-timeout", type=float, default=EVENT_TIMEOUT_S, metavar="SECONDS",
        help="each event's reply must come within this (default: %(default)g, as Vonage's)")
    opt("--signature-secret", metavar="SECRET",
        help="sign every webhook as Vonage does (default: $VONAGE_SIGNATURE_SECRET)")
    opt("--api-key", metavar="KEY", help="your account's API key, for the api_key claim "
        "(default: $VONAGE_API_KEY)")
    opt("--app-id", metavar="ID", help="the application_id claim (default: "
        "$VONAGE_APPLICATION_ID)")
    opt("--insecure", action="store_true",
        help="allow plain http:// to a host other than this machine")
    opt("--rtc", action="store_true", help="also play the call's conversation events to "
        "URL/webhooks/rtc, as the rtc capability's event URL gets them")
    opt("--log", metavar="FILE", help="send these saved webhooks again instead (serve's "
        "events.jsonl, any JSON lines of Voice webhooks and RTC events, or - for standard "
        "input)")
    opt("--conversation", metavar="CON-ID", help="with --log: only this conversation's")
    opt("--speed", type=float, default=0.0, metavar="X",
        help="with --log: 1 keeps the original spacing, 2 halves it, 0 sends at once "
             "(default: 0)")

    opt = command("app", cmd_app)
    opt("action", nargs="?", choices=("create", "link", "unlink", "restore"), metavar="ACTION",
        help="create NAME, link NUMBER, unlink NUMBER or restore (none: show the "
             "application)")
    opt("value", nargs="?", metavar="NAME|NUMBER", help="the new application's name, or "
        "the number, E.164 digits")
    opt("--app-id", metavar="ID", help="application ID (default: $VONAGE_APPLICATION_ID)")
    opt("--api-key", metavar="KEY", help="the account's API key (default: $VONAGE_API_KEY)")
    opt("--api-secret", metavar="SECRET", help="the account's API secret (default: "
        "$VONAGE_API_SECRET)")
    opt("--api-url", metavar="URL", help=f"the Applications and Numbers APIs' base URL "
        f"(default: {APPLICATIONS_URL} and {NUMBERS_URL})")
    opt("--timeout", type=float, default=HTTP_TIMEOUT_S, metavar="SECONDS",
        help="for each request (default: %(default)g)")
    opt("--public-url", metavar="URL", help="with create: your tunnel's URL, for the "
        "webhooks (default: placeholders, which serve --configure sets)")
    opt("--key-file", metavar="PATH", help="with create: where the private key is written "
        "(default: ./private.key; never over an existing file)")
    opt("-y", "--yes", action="store_true", help="with link: take a number from another "
        "application without asking")
    opt("--json", action="store_true", help="print the API's application and numbers as "
        "they came")

    opt = command("jwt", cmd_jwt, credentials)
    opt("claims", nargs="*", metavar="[KEY] NAME=VALUE",
        help="nexmo-cli style: a key file, then claims (JSON values are decoded)")
    opt("--ttl", metavar="TIME", help="lifetime: 900, 90s, 15m, 24h, 1d (default: 15m)")
    opt("--sub", metavar="NAME", help="the 'sub' claim: a Client SDK user name")
    opt("--acl", metavar="JSON", help='the \'acl\' claim, e.g. {"paths":{"/*/users/**":{}}}')
    opt("--claim", action="append", default=[], metavar="NAME=VALUE", help="any other claim")
    opt("--inspect", metavar="TOKEN",
        help="show a token's header, claims and expiry ('-' reads stdin); with --key, "
             "verify its signature; with an application ID (--app-id, "
             "$VONAGE_APPLICATION_ID or the Vonage CLI's file), its application_id")
    opt("--json", action="store_true", help="with --inspect: one JSON object")

    opt = command("calls", cmd_calls, credentials, api)
    opt("--all", action="store_true", help="also the calls that ended in the last hour")
    opt("--json", action="store_true",
        help="print the Voice API's calls, grouped as {conversation_uuid: [calls]}")

    opt = command("get", cmd_get, credentials, api, watching)
    opt("target", nargs="?", metavar="ID",
        help="CON-<uuid>, a leg UUID (the uuid of a webhook), or an API URL of either "
             "(default: the call serve recorded, else the one call in progress)")
    opt("--json", action="store_true",
        help="print the v1 conversation with its full members, as the API sent them "
             "(with --watch: JSON lines)")
    opt("--concurrency", type=int, default=DEFAULT_CONCURRENCY, metavar="N",
        help="member details fetched at once (default: %(default)s)")
    opt("--events", action="store_true", help="also print the conversation's event timeline")
    opt("--legs", action="store_true", help="also show each leg's status from the Voice API")
    opt("-w", "--watch", action="store_true",
        help="follow the call until it ends: a line per new event or change")

    opt = command("show", cmd_show)
    opt("file", metavar="FILE", nargs="?", help="a JSON file, JSON lines of webhooks (such as "
        "serve's events.jsonl, the default), or - for standard input")
    opt("--json", action="store_true", help="print the normalised document")
    opt("--conversation", metavar="CON-ID",
        help="with a webhook log: only this conversation's webhooks")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    import signal
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    previous = None
    try:
        try:
            args, extras = build_parser().parse_known_args(argv)
        except SystemExit as e:  # --help, --version and usage errors
            return e.code if isinstance(e.code, int) else EXIT_USAGE
        if extras:  # a flag the command does not know: point to that command's help
            _stderr(f"convo: error: unrecognized arguments: {' '.join(extras)} (see: {PROG} "
                    f"{args.command} --help)")
            return EXIT_USAGE
        debug = args.debug
        if args.command != "serve" and \
                threading_is_main():  # serve stops gracefully on SIGTERM by itself
            previous = signal.signal(signal.SIGTERM, _terminate)
        if args.verbose or args.command != "show":  # show logs nothing and must start fast
            setup_logging(verbose=args.verbose)
        return args.func(args, sys.stdout)
    except ConvoError as e:
        if debug:
            raise
        _stderr(f"convo: error: {e}")
        return e.exit_code
    except KeyboardInterrupt as e:
        if debug:
            raise
        terminated = isinstance(e, Terminated)
        _stderr("convo: terminated" if terminated else "convo: interrupted")
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    except MemoryError:
        if debug:
            raise
        _stderr("convo: error: out of memory")
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, as CPython's tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
