"""Secrets pasted into a prompt or piped log are masked before anything is sent or shown
(codex_router/prompt/secrets.py, run by the stream in codex_router/prompt/compress.py).

Every fake secret below is built at run time (``"sk-" + ...``): no key-shaped literal sits in
the source, so secret scanners have nothing to flag.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.entry import main as entry_main
from codex_router.errors import ExitCode
from codex_router.prompt import compress as compress_mod
from codex_router.prompt.compress import compress_chunks, compress_stream, compress_text
from codex_router.prompt.secrets import (
    RULE_ENV,
    RULE_PEM,
    RULE_TOKEN,
    RULE_URL,
    RULES,
    SecretMasker,
    mask_text,
)

runner = CliRunner()

BODY = "a1B2c3D4e5" * 5  # 50 key characters with digits
OPENAI = "sk-" + BODY
OPENAI_PROJ = "sk-proj-" + BODY + "_x-Y"
ANTHROPIC = "sk-ant-api03-" + BODY
GITHUB = "ghp_" + BODY[:36]
GITHUB_PAT = "github_pat_" + BODY + "_" + BODY[:20]
HF = "hf_" + BODY[:34]
GOOGLE = "AIza" + "Sy" + BODY[:33]
AWS = "AKIA" + "IOSFODNN7EXAMPL3"
SLACK = "xoxb-" + "123456789012-" + BODY[:24]
JWT = "eyJ" + "hbGciOiJIUzI1NiJ9" + ".eyJ" + "zdWIiOiIxMjM0NTY3ODkwIn0" + "." + BODY[:43]
PEM_LINES = [
    "-----BEGIN RSA PRIVATE KEY-----",
    *(BODY + BODY[:14] for _ in range(6)),
    "Tw==",
    "-----END RSA PRIVATE KEY-----",
]

# (id, input line, expected output line, rule that masked it)
POSITIVE = [
    ("env_openai", f"OPENAI_API_KEY={OPENAI}", "OPENAI_API_KEY=[masked:openai-key]", RULE_TOKEN),
    ("env_password", "DB_PASSWORD=hunter2", "DB_PASSWORD=[masked:secret]", RULE_ENV),
    ("export", "export MY_SECRET=letmein", "export MY_SECRET=[masked:secret]", RULE_ENV),
    ("env_no_digit", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIKbPxRfiCY", None, RULE_ENV),
    ("yaml_colon", "password: hunter2", "password: [masked:secret]", RULE_ENV),
    ("json", '{"api_key": "abc123xyz"}', '{"api_key": "[masked:secret]"}', RULE_ENV),
    ("quoted_code", 'token = "s3cr3t-value"', None, None),  # a bare "token" is no secret name
    ("code_quoted", 'db.password = "hunter2"', 'db.password = "[masked:secret]"', RULE_ENV),
    (
        "url",
        "DATABASE=postgres://admin:s3cret@db.example.com:5432/app",
        "DATABASE=postgres://admin:[masked:password]@db.example.com:5432/app",
        RULE_URL,
    ),
    (
        "url_https",
        "git clone https://bob:pa55word@git.example.org/x.git",
        "git clone https://bob:[masked:password]@git.example.org/x.git",
        RULE_URL,
    ),
    ("openai", f"key is {OPENAI} ok", "key is [masked:openai-key] ok", RULE_TOKEN),
    ("openai_proj", f"use {OPENAI_PROJ}", "use [masked:openai-key]", RULE_TOKEN),
    ("anthropic", f'x="{ANTHROPIC}"', 'x="[masked:anthropic-key]"', RULE_TOKEN),
    ("github", f"token {GITHUB}", "token [masked:github-token]", RULE_TOKEN),
    ("github_pat", f"{GITHUB_PAT}", "[masked:github-token]", RULE_TOKEN),
    ("huggingface", f"login {HF}", "login [masked:huggingface-token]", RULE_TOKEN),
    ("google", f"?key={GOOGLE}&x=1", None, RULE_TOKEN),
    ("aws", f"aws id {AWS} set", "aws id [masked:aws-key] set", RULE_TOKEN),
    ("slack", f"hook {SLACK}", "hook [masked:slack-token]", RULE_TOKEN),
    ("jwt", f"cookie={JWT};", "cookie=[masked:jwt];", RULE_TOKEN),
    (
        "bearer",
        "Authorization: Bearer abc123def456ghi789jkl",
        "Authorization: Bearer [masked:bearer-token]",
        RULE_TOKEN,
    ),
    (
        "pem_one_line",
        '"key": "-----BEGIN PRIVATE KEY-----\\nMIIE' + BODY + '\\n-----END PRIVATE KEY-----\\n"',
        '"key": "[masked:private-key]\\n"',
        RULE_PEM,
    ),
]

# Lines that hold no secret and must come out as they went in.
NEGATIVE = [
    ("commit", "commit 3f2c1a9b8e7d6c5b4a39281706f5e4d3c2b1a098"),
    ("short_hash", "3f2c1a9 fix the parser (#123)"),
    ("merge", "Merge: 1a2b3c4d 5e6f7a8b"),
    ("uuid", "request id 123e4567-e89b-12d3-a456-426614174000 done"),
    ("sha256", "sha256:" + "0123456789abcdef" * 4),
    ("french", "Le mot de passe est secret : la clé est dans le tiroir, ouvrez-le."),
    ("french_token", "Voici le jeton : abc, et la clé API : voir la doc."),
    ("english", "The API key is stored in the keychain; tokens are refreshed hourly."),
    ("sklearn", "pip install sk-learn-compatible-estimator-wrapper"),
    ("short_sk", "task sk-12345 failed"),
    ("annotation", "def connect(api_key: str, password: Optional[str] = None) -> None:"),
    ("call", "password = get_password()"),
    ("kwarg", "client = OpenAI(api_key=key)"),
    ("env_ref", "OPENAI_API_KEY=$OPENAI_API_KEY"),
    ("env_ref_braces", 'export GITHUB_TOKEN="${GITHUB_TOKEN}"'),
    ("placeholder", "API_KEY=<your-key-here>"),
    ("empty", "OPENAI_API_KEY="),
    ("ssh_user", "ssh://git@github.com/org/repo.git"),
    ("url_user_only", "https://token@example.com/x"),
    ("plain_url", "see https://example.com:8443/a?b=c"),
    ("public_key", "-----BEGIN PUBLIC KEY-----"),
    ("max_tokens", "MAX_TOKENS=4096"),
    ("already", "OPENAI_API_KEY=[masked:openai-key]"),
    ("hexdump", "00000010: 4865 6c6c 6f20 776f 726c 6421 0a00 0000  Hello world!...."),
]


@pytest.mark.parametrize(
    ("line", "expected", "rule"), [c[1:] for c in POSITIVE], ids=[c[0] for c in POSITIVE]
)
def test_each_kind_is_masked_and_counted(line: str, expected: str | None, rule: str) -> None:
    out, counts = mask_text(line)
    if expected is not None:
        assert out == expected
    if rule is None:
        assert out == line and counts == {}
        return
    assert out != line and "[masked:" in out
    assert counts == {rule: 1}
    for secret in ("hunter2", "s3cret", "pa55word", BODY[:20], "letmein", "abc123"):
        assert secret not in out


@pytest.mark.parametrize("line", [c[1] for c in NEGATIVE], ids=[c[0] for c in NEGATIVE])
def test_what_is_no_secret_is_left_alone(line: str) -> None:
    assert mask_text(line) == (line, {})


def test_a_git_log_passes_unchanged_through_compress() -> None:
    log = "".join(
        f"commit {i:040x}\nAuthor: Ann <ann@example.com>\nDate:   Mon Jan 1\n\n    fix {i}\n\n"
        for i in range(
            0x3F2C1A9B8E7D6C5B4A39281706F5E4D3C2B1A000, 0x3F2C1A9B8E7D6C5B4A39281706F5E4D3C2B1A005
        )
    )
    on = compress_text(log)
    off = compress_text(log, mask_secrets=False)
    assert on.text == off.text
    assert all(r.masked == 0 for r in on.rules)


def test_a_pem_block_becomes_one_line_and_its_count() -> None:
    text = "before\n" + "\n".join(PEM_LINES) + "\nafter\n"
    result = compress_text(text, count=len)
    assert result.text.splitlines() == ["before", "[masked:private-key]", "after"]
    rules = {r.name: r for r in result.rules}
    assert rules[RULE_PEM].masked == 1
    assert rules[RULE_PEM].lines_removed == len(PEM_LINES) - 1
    # the block's text (its first line's newline stays, ending the marker line) for the marker
    assert rules[RULE_PEM].tokens_removed == len("\n".join(PEM_LINES)) - len("[masked:private-key]")


def test_a_pem_block_cut_short_ends_at_the_first_line_that_is_no_key() -> None:
    text = "\n".join(PEM_LINES[:3]) + "\nERROR: connection refused\n"
    out = compress_text(text).text.splitlines()
    assert out == ["[masked:private-key]", "ERROR: connection refused"]
    # and a block the input ends in is masked too
    assert compress_text("\n".join(PEM_LINES[:4])).text == "[masked:private-key]\n"


@pytest.mark.parametrize("size", [1, 7, 64, 333])
def test_a_pem_block_split_across_chunks_is_masked(size: int) -> None:
    """compress_chunks (what `compress` does with stdin) cuts lines at any character."""
    text = "log line one\n  " + "\n  ".join(PEM_LINES) + "\nlog line two\n"
    chunks = [text[i : i + size] for i in range(0, len(text), size)]
    for count in (None, len):
        parts: list[str] = []
        report = compress_chunks(chunks, parts.append, count=count)
        assert "".join(parts) == "log line one\n  [masked:private-key]\nlog line two\n"
        assert {r.name: r.masked for r in report.rules}[RULE_PEM] == 1


def test_a_pem_block_across_the_streams_batches_is_masked(monkeypatch) -> None:
    """The stream hands lines over in batches: a block may open in one and close in the next."""
    monkeypatch.setattr(compress_mod, "_LINES_PER_BATCH", 4)
    for lead in range(6):  # the block starts at every offset of a batch
        lines = [f"line {i} of the log\n" for i in range(lead)]
        lines += [ln + "\n" for ln in PEM_LINES] + ["the end\n"]
        for batched in (True, False):
            parts: list[str] = []
            report = compress_stream(lines, parts.append, batched=batched)
            out = "".join(parts)
            assert "[masked:private-key]" in out and BODY not in out, (lead, batched)
            assert {r.name: r.masked for r in report.rules}[RULE_PEM] == 1


def test_the_masker_carries_an_open_block_from_batch_to_batch() -> None:
    masker = SecretMasker()
    assert masker.mask_lines(["a", PEM_LINES[0]]) == ["a"]
    assert masker.mask_lines(PEM_LINES[1:4]) == []
    assert masker.mask_lines([*PEM_LINES[4:], "b"]) == ["[masked:private-key]", "b"]
    assert masker.finish() == []


def test_batched_and_unbatched_give_the_same_output_with_secrets() -> None:
    lines = []
    for i in range(3000):
        lines.append(f"2026-01-01 INFO worker {i % 7} heartbeat ok\n")
        if i % 250 == 0:
            lines.append(f"export API_TOKEN=tok{i}abc{i}\n")
            lines.append(f"fetch https://u{i}:p{i}w@host/x {OPENAI}\n")
        if i == 1500:
            lines += [ln + "\n" for ln in PEM_LINES]
    outs = []
    for batched in (True, False):
        parts: list[str] = []
        report = compress_stream(lines, parts.append, count=len, batched=batched)
        outs.append(("".join(parts), report))
    assert outs[0] == outs[1]
    text, report = outs[0]
    assert BODY not in text and "abc250" not in text and "p250w" not in text
    masked = {r.name: r.masked for r in report.rules}
    assert masked == {RULE_ENV: 12, RULE_URL: 12, RULE_PEM: 1, RULE_TOKEN: 12} | {
        r.name: 0 for r in report.rules if r.name not in RULES
    }


def test_secrets_in_fenced_code_and_diffs_are_masked_too() -> None:
    text = (
        "here:\n```\nexport OPENAI_API_KEY=" + OPENAI + "\n```\n"
        "diff --git a/.env b/.env\n--- a/.env\n+++ b/.env\n@@ -1 +1 @@\n"
        "-DB_PASSWORD=old1\n+DB_PASSWORD=new2\n"
    )
    out = compress_text(text).text
    assert OPENAI not in out and "old1" not in out and "new2" not in out
    assert "+DB_PASSWORD=[masked:secret]" in out


def test_keep_secrets_leaves_the_text_alone() -> None:
    text = f"OPENAI_API_KEY={OPENAI}\n"
    result = compress_text(text, mask_secrets=False)
    assert result.text == text
    assert all(r.masked == 0 for r in result.rules)


# ---------------------------------------------------------------------- the commands
LOG = f"step 1\nexport OPENAI_API_KEY={OPENAI}\nurl https://me:pa55word@h.example/x\nstep 2\n"


def _compress_cli(
    args: list[str], monkeypatch, capsys, env: str | None = None
) -> tuple[int, str, str]:
    """The console script's pipe path (no Typer), as `codex-route compress` runs."""
    import io
    import sys

    if env is not None:
        monkeypatch.setenv("CODEX_ROUTE_MASK_SECRETS", env)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(LOG.encode())))
    code = entry_main(["compress", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_compress_masks_by_default(monkeypatch, capsys) -> None:
    code, out, _ = _compress_cli(["--json"], monkeypatch, capsys)
    assert code == 0
    data = json.loads(out)
    assert OPENAI not in out and "pa55word" not in out
    assert "export OPENAI_API_KEY=[masked:openai-key]" in data["text"]
    masked = {r["name"]: r["masked"] for r in data["rules"]}
    assert masked[RULE_TOKEN] == 1 and masked[RULE_URL] == 1


@pytest.mark.parametrize(("args", "env"), [(["--keep-secrets"], None), ([], "0"), ([], "off")])
def test_compress_opt_out(monkeypatch, capsys, args: list[str], env: str | None) -> None:
    code, out, _ = _compress_cli(["-q", *args], monkeypatch, capsys, env)
    assert code == 0
    assert out == LOG


def test_compress_empty_variable_still_masks(monkeypatch, capsys) -> None:
    code, out, _ = _compress_cli(["-q"], monkeypatch, capsys, "")
    assert code == 0 and OPENAI not in out


def test_compress_bad_variable_is_exit_3(monkeypatch, capsys) -> None:
    code, out, err = _compress_cli(["-q"], monkeypatch, capsys, "maybe")
    assert code == ExitCode.POLICY and out == ""
    assert "CODEX_ROUTE_MASK_SECRETS" in err and "maybe" in err


def test_compress_through_typer_has_the_flag_too() -> None:
    masked = runner.invoke(app, ["compress", "-q"], input=LOG)
    kept = runner.invoke(app, ["compress", "-q", "--keep-secrets"], input=LOG)
    assert masked.exit_code == 0 and kept.exit_code == 0
    assert OPENAI not in masked.stdout and kept.stdout == LOG


def test_compress_report_names_rules_not_secrets() -> None:
    result = runner.invoke(app, ["compress", "--report"], input=LOG)
    assert result.exit_code == 0
    assert "secret_token" in result.stderr and "masked" in result.stderr
    assert OPENAI not in result.stderr + result.stdout


def test_tokens_clean_counts_the_masked_text() -> None:
    masked = runner.invoke(app, ["tokens", "--clean", "--json"], input=LOG)
    kept = runner.invoke(app, ["tokens", "--clean", "--json", "--keep-secrets"], input=LOG)
    assert masked.exit_code == 0 and kept.exit_code == 0
    assert json.loads(masked.stdout)["clean_tokens"] != json.loads(kept.stdout)["clean_tokens"]


def _plan(args: list[str], input: str) -> dict:
    result = runner.invoke(app, ["run", "--dry-run", "--json", *args], input=input)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_run_dry_run_masks_prompt_and_attachment() -> None:
    plan = _plan([f"fix the login, my key is {ANTHROPIC}"], LOG)
    assert plan["secrets_masked"] == {RULE_ENV: 0, RULE_URL: 1, RULE_PEM: 0, RULE_TOKEN: 2}
    assert plan["provenance"]["mask_secrets"] == {
        "value": True,
        "source": "default",
        "origin": "compression.mask_secrets",
        "file": plan["provenance"]["mask_secrets"]["file"],
        "line": plan["provenance"]["mask_secrets"]["line"],
    }
    assert set(RULES) <= set(plan["compression"])  # rule names in the rules map, no secret
    dumped = json.dumps(plan)
    assert ANTHROPIC not in dumped and OPENAI not in dumped and "pa55word" not in dumped


def test_what_codex_gets_is_masked(isolated_env: Path) -> None:
    import os

    from codex_router.dirs import app_dirs
    from codex_router.run.plan import RunRequest, build_plan
    from codex_router.tokens.counter import count_tokens

    request = RunRequest(f"deploy with {GITHUB}", iter(LOG.splitlines(keepends=True)))
    plan = build_plan(request, env=os.environ, dirs=app_dirs(), count=count_tokens)
    assert GITHUB not in plan.codex_input and OPENAI not in plan.codex_input
    assert "pa55word" not in plan.codex_input
    assert "[masked:github-token]" in plan.codex_input


@pytest.mark.parametrize("how", ["flag", "env", "policy"])
def test_run_opt_out(how: str, monkeypatch, tmp_path: Path) -> None:
    args = [f"fix it, key {ANTHROPIC}"]
    if how == "flag":
        args = ["--keep-secrets", *args]
    elif how == "env":
        monkeypatch.setenv("CODEX_ROUTE_MASK_SECRETS", "false")
    else:
        policy = tmp_path / "p.yaml"
        policy.write_text("version: 1\ncompression:\n  mask_secrets: false\n", encoding="utf-8")
        args = ["--policy", str(policy), *args]
    plan = _plan([*args, "--no-stdin"], "")
    assert plan["secrets_masked"] == dict.fromkeys(RULES, 0)
    assert plan["provenance"]["mask_secrets"]["value"] is False
    assert (
        plan["provenance"]["mask_secrets"]["source"]
        == {
            "flag": "flag",
            "env": "env",
            "policy": "file",
        }[how]
    )


def test_run_human_plan_says_what_was_masked() -> None:
    result = runner.invoke(app, ["run", "--dry-run", "--no-stdin", f"use {OPENAI} please"])
    assert result.exit_code == 0, result.stderr
    assert "masked     secret_token 1" in result.stdout
    assert OPENAI not in result.stdout


def test_the_history_record_names_the_rules_never_the_secret(isolated_env: Path) -> None:
    import os

    from codex_router.dirs import app_dirs
    from codex_router.run.execute import dry_run_record
    from codex_router.run.plan import RunRequest, build_plan
    from codex_router.tokens.counter import count_tokens

    request = RunRequest(f"deploy with {GITHUB}", iter(LOG.splitlines(keepends=True)))
    plan = build_plan(request, env=os.environ, dirs=app_dirs(), count=count_tokens)
    record = dry_run_record(plan).to_dict()
    assert set(RULES) <= set(record["rules"])
    dumped = json.dumps(record)
    assert GITHUB not in dumped and OPENAI not in dumped and "pa55word" not in dumped


def test_the_report_signs_a_growth() -> None:
    """A masked short secret can make the text longer: the report says +, not --."""
    result = runner.invoke(app, ["compress", "--report"], input="see https://u:p1@h.example/x\n")
    assert result.exit_code == 0
    first = result.stderr.splitlines()[0]
    assert first.startswith("tokens: ") and "(+" in first and "--" not in first
