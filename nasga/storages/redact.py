"""Passwords never shown: storage URLs and driver messages with every secret replaced by ``***``.

Covers a URL's user-info (``user:pass@``), query-string and libpq keywords (``password=``,
``sslpassword=``, ``token=`` …), percent-encoded forms, and DSN text a driver may echo.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, unquote_plus

# Query-string / libpq keywords whose value is a secret (compared lower-case, percent-decoded).
_SECRET_KEYS = {"password", "passwd", "pwd", "pass", "sslpassword", "secret", "token",
                "access_token", "api_key", "apikey"}
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]*")
_QUERY_PARAM = re.compile(r"([?&;])([^=&#;?]*)=([^&#;]*)")
_DSN_SECRET = re.compile(
    r"(?i)(?<![A-Za-z0-9_%])((?:ssl)?pass(?:word|wd)?|pwd)(\s*[=:]\s*)"
    r"('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s&#;,)'\"]+)")


def userinfo_span(rest: str) -> tuple[int, int] | None:
    """Where the password of ``user:password@host...`` (after ``//``) is: between the first
    ``:`` and the LAST ``@`` of the authority (a password may hold ``@``; a query may too)."""
    first_at = rest.find("@")
    if first_at < 0:
        return None
    q = rest.find("?", first_at)
    head = rest if q < 0 else rest[:q]
    at = head.rfind("@")
    colon = head.find(":", 0, at)
    return None if colon < 0 else (colon + 1, at)


def _redact_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    span = userinfo_span(rest)
    if span is not None:
        rest = rest[:span[0]] + "***" + rest[span[1]:]

    def param(m: re.Match[str]) -> str:
        key = unquote_plus(m.group(2)).strip().lower()
        return f"{m.group(1)}{m.group(2)}=***" if key in _SECRET_KEYS else m.group(0)

    return f"{scheme}://{_QUERY_PARAM.sub(param, rest)}"


def redact(url: str) -> str:
    """``url`` (or any text holding URLs or ``password=...``) with every password as ``***``.

    Handles ``user:pass@host`` (the password runs from the first ``:`` after ``//`` to the last
    ``@`` before the host, so it may hold ``@``), an empty user (``://:pass@host``),
    ``?password=...`` in any case or percent-encoded, and libpq's ``password=...`` keywords.
    """
    if not isinstance(url, str):
        return url
    text = _URL_IN_TEXT.sub(lambda m: _redact_url(m.group(0)), url)
    return _DSN_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


def url_secrets(url: str) -> list[str]:
    """The password substrings of ``url`` (raw and percent-decoded), longest first."""
    found: list[str] = []
    if "://" in url:
        rest = url.split("://", 1)[1]
        span = userinfo_span(rest)
        if span is not None:
            found.append(rest[span[0]:span[1]])
        for m in _QUERY_PARAM.finditer(rest):
            if unquote_plus(m.group(2)).strip().lower() in _SECRET_KEYS:
                found.append(m.group(3))
    found += [unquote_plus(f) for f in found] + [unquote(f) for f in found]
    found += [piece for f in found for piece in f.split("@")]  # a driver splits at an '@'
    return sorted({f for f in found if len(f) >= 3}, key=len, reverse=True)


def scrub(text: str, *urls: str | None) -> str:
    """``text`` with every URL redacted and every password of ``urls`` replaced by ``***``
    (for messages that echo a driver's error, which may quote a mis-parsed URL)."""
    text = redact(text)
    for url in urls:
        if isinstance(url, str):
            for secret in url_secrets(url):
                text = text.replace(secret, "***")
    return text


__all__ = ["redact", "scrub", "url_secrets", "userinfo_span"]
