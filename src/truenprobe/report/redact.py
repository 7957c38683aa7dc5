"""Keep secrets out of reports: a report is attached to tickets and mailed around.

Two things are redacted: the command line that reproduces a check (``--password P``,
``--password=P``, ``user:pass@`` in URLs, secret-looking ``NAME=value`` assignments),
and any text shown from the evidence (URLs with credentials, Authorization headers,
values under secret-looking keys). The redacted form keeps the shape of the command so
a reader sees where to put their own credential.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from typing import Any

REDACTED = "<redacted>"

# Option and key names that carry a secret; matched on the whole name, any case.
_SECRET_NAME = re.compile(
    r"^(?:.*[-_])?(?:pass|passwd|password|pwd|secret|token|api[-_]?key|key|auth|"
    r"authorization|credentials?|cookie|bearer)$",
    re.IGNORECASE,
)
# Options whose value may be "user:password" (curl style): keep the user, hide the rest.
_USER_OPTIONS = frozenset({"--user", "-u", "--username"})

_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/@\s:]*):[^/@\s]*@")
_QUERY_SECRET = re.compile(
    r"(?P<key>[?&;](?:password|passwd|pass|pwd|token|auth|key|api_key|apikey)=)[^&#\s]*",
    re.IGNORECASE,
)
_AUTH_HEADER = re.compile(r"(?P<key>\b(?:proxy-)?authorization\s*[:=]\s*)[^\r\n]*", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """True for names like ``password``, ``--password``, ``RTSP_PASS``, ``api-key``."""
    return bool(_SECRET_NAME.match(name.lstrip("-")))


def redact_text(text: str) -> str:
    """Credentials inside free text: URL user info, secret query values, auth headers."""
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", text)
    text = _QUERY_SECRET.sub(lambda m: f"{m['key']}{REDACTED}", text)
    return _AUTH_HEADER.sub(lambda m: f"{m['key']}{REDACTED}", text)


def redact_value(key: str, value: Any) -> Any:
    """A JSON-like value with secrets hidden: by key name, and inside every string."""
    if is_secret_name(key) and value not in (None, "", False):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value("", v) for v in value]
    return value


def redact_argv(argv: Sequence[str]) -> list[str]:
    """The command line with every secret replaced by ``<redacted>``."""
    out: list[str] = []
    hide_next = keep_user_next = False
    for arg in argv:
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        if keep_user_next:
            out.append(_user_only(arg))
            keep_user_next = False
            continue
        if arg.startswith("-") and len(arg) > 1:
            name, eq, value = arg.partition("=")
            if is_secret_name(name):
                if eq:
                    out.append(f"{name}={REDACTED}")
                else:
                    out.append(arg)
                    hide_next = True
                continue
            if name in _USER_OPTIONS:
                if eq:
                    out.append(f"{name}={_user_only(value)}")
                else:
                    out.append(arg)
                    keep_user_next = True
                continue
        elif _is_secret_assignment(arg):
            out.append(f"{arg.partition('=')[0]}={REDACTED}")
            continue
        out.append(redact_text(arg))
    return out


def command_line_text(command_line: Sequence[str] | str) -> str:
    """A shell-ready, redacted command line from an argv list or a string."""
    if isinstance(command_line, str):
        try:
            argv = shlex.split(command_line)
        except ValueError:  # unbalanced quotes: redact word by word, keep the text
            argv = command_line.split()
    else:
        argv = list(command_line)
    return shlex.join(redact_argv(argv))


def _user_only(value: str) -> str:
    user, colon, _secret = value.partition(":")
    return f"{user}:{REDACTED}" if colon else redact_text(value)


def _is_secret_assignment(arg: str) -> bool:
    """``RTSP_PASSWORD=x`` before a command (an environment assignment)."""
    name, eq, _value = arg.partition("=")
    return (
        bool(eq)
        and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None
        and (is_secret_name(name))
    )
