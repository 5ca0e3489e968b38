"""Masking of secrets pasted into a prompt or piped log, before anything is sent or shown.

The first step of the stream (:mod:`codex_router.prompt.compress`), on by default; the opt-out
is ``--keep-secrets`` or the policy setting ``compression.mask_secrets``. Four rules, each
counted on its own in the compression report (the report names the rule and how many secrets it
masked, never the secret):

* ``secret_env_assignment``: ``NAME=value``, ``NAME: value``, ``export NAME=value`` where NAME
  is a secret's name (``OPENAI_API_KEY``, ``GITHUB_TOKEN``, ``DB_PASSWORD``, ``client_secret``,
  ...): the value becomes ``[masked:secret]``, the name stays. Lower-case names and ``NAME:
  value`` / ``NAME = value`` (as code writes them) need a quoted value or one with a digit, so
  ``api_key: str`` or ``password = get_password()`` stay as they are.
* ``secret_url_credentials``: ``scheme://user:password@host``: the password becomes
  ``[masked:password]``, user and host stay (the pattern is
  :func:`codex_router.redact.url_userinfo_re`, the one display masking uses).
* ``secret_pem_block``: ``-----BEGIN … PRIVATE KEY-----`` … ``-----END …-----``: the whole block
  becomes one line, ``[masked:private-key]``, even when its lines arrive in different batches.
* ``secret_token``: the formats of common keys: OpenAI ``sk-``/``sk-proj-``, Anthropic
  ``sk-ant-``, GitHub ``ghp_``/``gho_``/``ghs_``/``ghu_``/``ghr_``/``github_pat_``, Hugging Face
  ``hf_``, Google ``AIza``, AWS ``AKIA``, Slack ``xox[baprs]-``, JWTs and ``Bearer <token>``,
  each as ``[masked:<kind>]`` (``[masked:openai-key]``, ``[masked:jwt]``, ...).

False positives are kept low: a key body needs its full length and, for ``sk-``, ``gh*_``,
``hf_`` and ``xox*-``, a digit (``sk-learn-compatible-estimator`` stays), no key starts inside a
word, and hashes (40-hex commit ids), UUIDs and ordinary words match none of the formats.

Cost: a batch of lines is scanned once per literal (``str.find``; no lower-casing, which costs
more than all the scans) and only the lines holding one are tested with the patterns, which are
compiled at first use: text without a candidate costs the scans alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from codex_router.redact import url_userinfo_re

from .sections import Scan, lines_matching

RULE_ENV = "secret_env_assignment"
RULE_URL = "secret_url_credentials"
RULE_PEM = "secret_pem_block"
RULE_TOKEN = "secret_token"
RULES = (RULE_ENV, RULE_URL, RULE_PEM, RULE_TOKEN)

PEM_MARKER = "[masked:private-key]"
SECRET_MARKER = "[masked:secret]"
PASSWORD_MARKER = "[masked:password]"

#: ``report(rule, removed_text, marker, lines_removed)``: one call per secret masked (``marker``
#: is what replaced it), and one per whole line a PEM block took away (``marker`` empty).
Report = Callable[[str, str, str, int], None]

# Values that name or hide a secret rather than hold one.
_PLACEHOLDERS = frozenset({"none", "null", "nil", "true", "false", "undefined", "changeme", '""'})


# What a line holding a secret holds (case as written), one ``str.find`` pass over a batch each;
# and the same needles decide, for a line found, which patterns to try on it.
_TOKEN_NEEDLES = ("sk-", "hf_", "AIza", "AKIA", "xox", "eyJ", "earer", "github_pat_")
_ENV_NEEDLES = ("KEY", "key", "TOKEN", "oken", "ECRET", "ecret", "ASSW", "assw")
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


@cache
def _gh_re() -> re.Pattern[str]:
    return re.compile("gh[opsur]_")


@cache
def _scans() -> tuple[Scan, ...]:
    """Everything but URLs, which are candidates only with an ``@`` on their line."""
    return ("-----BEGIN", *_TOKEN_NEEDLES, _gh_re(), *_ENV_NEEDLES)


@cache
def _token_re() -> re.Pattern[str]:
    return re.compile(
        r"(?<![A-Za-z0-9_\-])(?:"
        r"(?P<anthropic>sk-ant-[A-Za-z0-9_\-]{20,})"
        r"|(?P<openai>sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,})"
        r"|(?P<github>gh[opsur]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"
        r"|(?P<huggingface>hf_[A-Za-z0-9]{30,})"
        r"|(?P<google>AIza[0-9A-Za-z_\-]{35})"
        r"|(?P<aws>AKIA[0-9A-Z]{16})"
        r"|(?P<slack>xox[baprs]-[A-Za-z0-9\-]{10,})"
        r"|(?P<jwt>eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})"
        r")(?![A-Za-z0-9_\-])"
    )


_NEEDS_DIGIT = frozenset({"anthropic", "openai", "github", "huggingface", "slack"})
_KIND_LABEL = {
    "anthropic": "anthropic-key",
    "openai": "openai-key",
    "github": "github-token",
    "huggingface": "huggingface-token",
    "google": "google-key",
    "aws": "aws-key",
    "slack": "slack-token",
    "jwt": "jwt",
}


@cache
def _bearer_re() -> re.Pattern[str]:
    return re.compile(r"(?<![A-Za-z0-9_])((?i:bearer)[ \t]+)([A-Za-z0-9._~+/\-]{16,}=*)")


@cache
def _env_hit_re() -> re.Pattern[str]:
    """The end of a secret's name and the ``=``/``:`` after it (the name is read backwards
    from there: a pattern starting with the name would be tried at every position)."""
    return re.compile(r"(?i:key|token|secret|passw(?:or)?d)([\"']?)([ \t]*[=:][ \t]*)")


@cache
def _upper_name_re() -> re.Pattern[str]:
    return re.compile(r"(?:[A-Z0-9]+_)*(?:[A-Z0-9]*(?:PASSWORD|PASSWD|SECRET|TOKEN)|API_?KEY|KEY)")


@cache
def _lower_name_re() -> re.Pattern[str]:
    return re.compile(
        r"(?i)(?:[a-z0-9]+[_\-])*(?:[a-z0-9]*(?:password|passwd|secret)"
        r"|(?:api|access|secret|private)[_\-]?key|(?:access|auth|refresh|api)[_\-]?token)"
    )


@cache
def _value_re() -> re.Pattern[str]:
    return re.compile(r"\"[^\"\n]*\"|'[^'\n]*'|[^\s\"'`,;()\[\]{}<>]+")


@cache
def _pem_begin_re() -> re.Pattern[str]:
    return re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")


@cache
def _pem_end_re() -> re.Pattern[str]:
    return re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")


@cache
def _pem_body_re() -> re.Pattern[str]:
    """A line inside a PEM block: base64 (maybe quoted, indented, or a diff/quote line), a
    header, or blank."""
    return re.compile(
        r"[ \t>#+\-\"']*(?:[A-Za-z0-9+/=]+|(?:Proc-Type|DEK-Info|Comment|Version|Hash): .*)?"
        r"[ \t\"',\\]*\r?"
    )


def _is_placeholder(value: str) -> bool:
    inner = value[1:-1] if value[:1] in "\"'" and value[-1:] == value[:1] else value
    if not inner or inner.startswith(("$", "%", "<", "{", "[masked", "***")):
        return True
    return inner.lower() in _PLACEHOLDERS or not inner.strip("*x.X-_")


class SecretMasker:
    """Masks the secrets of lines given in batches; a PEM block may span batches.

    ``mask_lines`` takes lines without their ``\\n`` and returns the lines to use instead (the
    same list object when nothing was masked); ``finish`` returns what is left of a block the
    input ended in.
    """

    __slots__ = ("report", "pem", "pem_width", "pem_last")

    def __init__(self, report: Report | None = None) -> None:
        self.report = report
        self.pem: str | None = None  # the text before an open block's BEGIN (already masked)
        self.pem_width = 0  # length of the block's first body line
        self.pem_last = False  # a shorter body line was seen: only the END line may follow

    def _note(self, rule: str, removed: str, marker: str, lines: int = 0) -> None:
        if self.report is not None:
            self.report(rule, removed, marker, lines)

    # ------------------------------------------------------------------ batches
    def mask_lines(self, lines: list[str]) -> list[str]:
        if not lines:
            return lines
        text = "\n".join(lines)
        if text.count("\n") == len(lines) - 1:
            found = lines_matching(text, _scans())
            if "@" in text:
                found.update(i for i in lines_matching(text, ("://",)) if "@" in lines[i])
        else:  # a caller's "line" held a newline: find the candidates line by line
            found = {i for i, ln in enumerate(lines) if _candidate(ln)}
        if not found and self.pem is None:
            return lines
        if self.pem is None and not any("-----BEGIN" in lines[i] for i in found):
            changed = lines.copy()  # no block: only the lines found change
            for i in sorted(found):
                changed[i] = self._mask(lines[i])
            return changed
        out: list[str] = []
        append = out.append
        for i, line in enumerate(lines):
            if self.pem is not None and self._pem_line(line, out):
                continue
            if i in found:
                masked = self._line(line)
                if masked is not None:
                    append(masked)
            else:
                append(line)
        return out

    def finish(self) -> list[str]:
        """The marker line of a block the input ended in (no END line), else nothing."""
        if self.pem is None:
            return []
        prefix, self.pem = self.pem, None
        self._note(RULE_PEM, "", PEM_MARKER)
        return [prefix + PEM_MARKER]

    # ------------------------------------------------------------------ PEM blocks
    def _pem_line(self, line: str, out: list[str]) -> bool:
        """A line while a block is open: True when the block took it."""
        prefix = self.pem
        assert prefix is not None
        end = _pem_end_re().search(line)
        if end is not None:
            self.pem = None
            self._note(RULE_PEM, line[: end.end()] + "\n", "", 1)
            self._note(RULE_PEM, "", PEM_MARKER)
            out.append(prefix + PEM_MARKER + self._line_after(line[end.end() :]))
            return True
        stripped = line.strip()
        if not self.pem_last and _pem_body_re().fullmatch(line) is not None:
            if stripped:
                if not self.pem_width:
                    self.pem_width = len(stripped)
                elif len(stripped) < self.pem_width:
                    self.pem_last = True
            self._note(RULE_PEM, line + "\n", "", 1)
            return True
        # not a key line: the block was cut short; it ends here and the line is judged as usual
        self.pem = None
        self._note(RULE_PEM, "", PEM_MARKER)
        out.append(prefix + PEM_MARKER)
        return False

    # ------------------------------------------------------------------ one line
    def _line(self, line: str) -> str | None:
        """``line`` masked; None when it opened a block (its marker line comes at the END)."""
        if "-----BEGIN" in line:
            begin = _pem_begin_re().search(line)
            if begin is not None:
                rest = line[begin.start() :]
                end = _pem_end_re().search(rest)
                if end is not None:  # the whole block on one line (e.g. "\\n" escapes in JSON)
                    self._note(RULE_PEM, rest[: end.end()], PEM_MARKER)
                    return (
                        self._mask(line[: begin.start()])
                        + PEM_MARKER
                        + self._line_after(rest[end.end() :])
                    )
                self._note(RULE_PEM, rest, "")
                self.pem = self._mask(line[: begin.start()])
                self.pem_width = 0
                self.pem_last = False
                return None
        return self._mask(line)

    def _line_after(self, text: str) -> str:
        masked = self._line(text)
        if masked is None:  # a second block opened on the same line: closed by a later line
            return ""
        return masked

    def _mask(self, text: str) -> str:
        """Tokens, URL passwords and secret assignments of one piece of a line."""
        if not text:
            return text
        if "://" in text and "@" in text:
            text = url_userinfo_re().sub(self._url, text)
        if "earer" in text:
            text = _bearer_re().sub(self._bearer, text)
        if any(s in text for s in _TOKEN_NEEDLES) or _gh_re().search(text) is not None:
            text = _token_re().sub(self._token, text)
        if ("=" in text or ":" in text) and any(s in text for s in _ENV_NEEDLES):
            text = self._env(text)
        return text

    def _bearer(self, m: re.Match[str]) -> str:
        token = m.group(2)
        if not any(c.isdigit() for c in token):
            return m.group(0)
        marker = "[masked:bearer-token]"
        self._note(RULE_TOKEN, token, marker)
        return m.group(1) + marker

    def _token(self, m: re.Match[str]) -> str:
        kind = m.lastgroup or "token"
        token = m.group(0)
        if kind in _NEEDS_DIGIT and not any(c.isdigit() for c in token):
            return token
        marker = f"[masked:{_KIND_LABEL.get(kind, kind)}]"
        self._note(RULE_TOKEN, token, marker)
        return marker

    def _url(self, m: re.Match[str]) -> str:
        user, colon, password = m.group(2).partition(":")
        if not colon or not password or password.startswith(("[masked", "***", "$")):
            return m.group(0)
        self._note(RULE_URL, password, PASSWORD_MARKER)
        return f"{m.group(1)}{user}:{PASSWORD_MARKER}@"

    def _env(self, text: str) -> str:
        """``NAME=value`` / ``NAME: value`` with a secret's NAME: the value masked."""
        out: list[str] = []
        pos = 0
        for m in _env_hit_re().finditer(text):
            start = m.start()
            while start > pos and text[start - 1] in _NAME_CHARS:
                start -= 1
            while text[start] == "-":  # "--password=...": the option's dashes are no name
                start += 1
            name = text[start : m.start(1)]
            before = text[start - 1] if start else ""
            if before == "$" or (m.group(1) and before != m.group(1)):
                continue  # "$SECRET_TOKEN=" is no assignment; quotes must pair
            upper = _upper_name_re().fullmatch(name) is not None
            if not upper and _lower_name_re().fullmatch(name) is None:
                continue
            v = _value_re().match(text, m.end())
            if v is None:
                continue
            value = v.group(0)
            if _is_placeholder(value):
                continue
            quoted = value[:1] in "\"'" and len(value) >= 2 and value[-1:] == value[:1]
            # Shell style (an upper-case name, "=" without spaces) is data: any value is a
            # secret. Otherwise (code, YAML, prose) only a quoted value or one with a digit is.
            shell = upper and m.group(2) == "="
            if not shell and not quoted and not any(c.isdigit() for c in value):
                continue
            self._note(RULE_ENV, value[1:-1] if quoted else value, SECRET_MARKER)
            out.append(text[pos : v.start()])
            out.append(value[0] + SECRET_MARKER + value[-1] if quoted else SECRET_MARKER)
            pos = v.end()
        if not out:
            return text
        out.append(text[pos:])
        return "".join(out)


def _candidate(line: str) -> bool:
    return ("://" in line and "@" in line) or any(
        (s in line) if isinstance(s, str) else (s.search(line) is not None) for s in _scans()
    )


def mask_text(text: str) -> tuple[str, dict[str, int]]:
    """``text`` with its secrets masked, and how many each rule masked (rules with none left
    out). Lines end as in ``text``; a PEM block's lines become one."""
    counts: dict[str, int] = {}

    def report(rule: str, removed: str, marker: str, lines: int) -> None:
        if marker:
            counts[rule] = counts.get(rule, 0) + 1

    masker = SecretMasker(report)
    lines = text.split("\n")
    out = masker.mask_lines(lines)
    tail = masker.finish()
    if tail:
        out = [*out, *tail] if out is not lines else [*lines, *tail]
    return "\n".join(out), counts
