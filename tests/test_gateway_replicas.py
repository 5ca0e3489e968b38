"""``gateway.replicas`` without processes: the policy check (file:line and the bad key), the
generated deployments (same order as their upstream's own, their own key variable, endpoint and
limits), and what ``proxy start``/``status`` show. Real LiteLLM balancing between replicas is in
tests/test_gateway_replicas_team.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codex_router.dirs import app_dirs
from codex_router.errors import PolicyError
from codex_router.policy.gateway import resolve_gateway
from codex_router.policy.settings import resolve_settings
from codex_router.proxy import state
from codex_router.proxy.config import ProxyConfig
from codex_router.proxy.process import gateway_replicas, gateway_routing, prepare_config
from codex_router.views import proxy as proxy_view

KEY = "sk-proj-" + "q" * 40  # what a key looks like: it must never be echoed

BASE_POLICY = """\
aliases:
  r-main:
    openai_model: gpt-5
    huggingface_model: hf-model
    local_model: qwen-model
    upstreams: [openai, huggingface, qwen]
    fallbacks: []
gateway:
  rpm: 9
"""


def _settings(tmp_path: Path, policy: str) -> Any:
    file = tmp_path / "policy.yaml"
    file.write_text(policy)
    return resolve_settings(
        {}, {}, app_dirs({"CODEX_ROUTE_HOME": str(tmp_path / "h")}), policy_flag=file
    )


def _config(
    tmp_path: Path, replicas_yaml: str, env: dict[str, str], *, gateway: bool = True
) -> tuple[ProxyConfig, dict[str, Any]]:
    settings = _settings(tmp_path, BASE_POLICY + replicas_yaml)
    resolved = resolve_gateway({}, {}, settings.policy)
    replicas = gateway_replicas(resolved) if gateway else None
    config, _provided, _options = prepare_config(settings, env, None, replicas)
    data = config.to_data(gateway_routing(resolved) if gateway else None)
    return config, data


def _entries(data: dict[str, Any], group: str) -> list[tuple[str, int, str, str | None, Any]]:
    """(id, order, api_key, api_base, rpm) of each deployment of ``group``, in config order."""
    return [
        (
            e["model_info"]["id"],
            e["litellm_params"]["order"],
            e["litellm_params"]["api_key"],
            e["litellm_params"].get("api_base"),
            e["litellm_params"].get("rpm"),
        )
        for e in data["model_list"]
        if e["model_name"] == group
    ]


OPENAI_EU = """\
  replicas:
    openai:
      - key_var: OPENAI_API_KEY_EU
        api_base: https://eu.example.com/v1
        rpm: 500
      - key_var: OPENAI_API_KEY_ORG2
        rpm: 0
    qwen:
      - api_base: http://10.0.0.8:11434/v1
"""
ALL_KEYS = {
    "OPENAI_API_KEY": KEY,
    "OPENAI_API_KEY_EU": KEY,
    "OPENAI_API_KEY_ORG2": KEY,
    "HF_TOKEN": KEY,
}
HF = "https://router.huggingface.co/v1"
OLLAMA = "http://127.0.0.1:11434/v1"


@pytest.mark.parametrize(
    ("env", "expected", "skipped"),
    [
        (
            ALL_KEYS,
            [
                ("r-main/1/openai", 1, "os.environ/OPENAI_API_KEY", None, 9),
                (
                    "r-main/1/openai/2",
                    1,
                    "os.environ/OPENAI_API_KEY_EU",
                    "https://eu.example.com/v1",
                    500,
                ),
                # rpm 0: this replica has no limit even though gateway.rpm has one
                ("r-main/1/openai/3", 1, "os.environ/OPENAI_API_KEY_ORG2", None, None),
                ("r-main/2/huggingface", 2, "os.environ/HF_TOKEN", HF, 9),
                ("r-main/3/qwen", 3, "ollama", OLLAMA, 9),
                ("r-main/3/qwen/2", 3, "ollama", "http://10.0.0.8:11434/v1", 9),
            ],
            [],
        ),
        (
            {**ALL_KEYS, "OPENAI_API_KEY_ORG2": " "},
            [
                ("r-main/1/openai", 1, "os.environ/OPENAI_API_KEY", None, 9),
                (
                    "r-main/1/openai/2",
                    1,
                    "os.environ/OPENAI_API_KEY_EU",
                    "https://eu.example.com/v1",
                    500,
                ),
                ("r-main/2/huggingface", 2, "os.environ/HF_TOKEN", HF, 9),
                ("r-main/3/qwen", 3, "ollama", OLLAMA, 9),
                ("r-main/3/qwen/2", 3, "ollama", "http://10.0.0.8:11434/v1", 9),
            ],
            [("openai", 3, "OPENAI_API_KEY_ORG2 not set")],
        ),
        (
            # the upstream's own key missing: its replica alone keeps the upstream's place
            {"OPENAI_API_KEY_EU": KEY},
            [
                (
                    "r-main/1/openai/2",
                    1,
                    "os.environ/OPENAI_API_KEY_EU",
                    "https://eu.example.com/v1",
                    500,
                ),
                ("r-main/2/qwen", 2, "ollama", OLLAMA, 9),
                ("r-main/2/qwen/2", 2, "ollama", "http://10.0.0.8:11434/v1", 9),
            ],
            [
                ("openai", 1, "OPENAI_API_KEY not set"),
                ("openai", 3, "OPENAI_API_KEY_ORG2 not set"),
                ("huggingface", 1, "HF_TOKEN not set"),
            ],
        ),
    ],
    ids=["all-keys", "replica-key-unset", "own-key-unset"],
)
def test_replicas_are_siblings_at_their_upstreams_order(
    tmp_path: Path,
    env: dict[str, str],
    expected: list[tuple[Any, ...]],
    skipped: list[tuple[str, int, str]],
) -> None:
    config, data = _config(tmp_path, OPENAI_EU, env)
    assert _entries(data, "r-main") == expected
    assert [
        (s.upstream, s.replica, s.reason) for s in config.skipped if s.group == "r-main"
    ] == skipped
    assert all(":" not in e["model_info"]["id"] for e in data["model_list"])
    assert KEY not in str(data)


def test_the_local_proxy_ignores_replicas(tmp_path: Path) -> None:
    with_replicas, local = _config(tmp_path, OPENAI_EU, ALL_KEYS, gateway=False)
    (tmp_path / "plain").mkdir()
    _plain, plain = _config(tmp_path / "plain", "", ALL_KEYS, gateway=False)
    assert local == plain
    assert with_replicas.replicas_in_use() == {}


def test_avoid_openai_leaves_out_openai_replicas_too(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "avoid_openai: true\n" + BASE_POLICY + OPENAI_EU)
    replicas = gateway_replicas(resolve_gateway({}, {}, settings.policy))
    config, _p, _o = prepare_config(settings, ALL_KEYS, None, replicas)
    assert not any(d.upstream == "openai" for ds in config.groups.values() for d in ds)
    assert "openai" not in config.replicas_in_use()


def test_key_vars_include_the_replicas_so_the_gateway_environment_keeps_them(
    tmp_path: Path,
) -> None:
    config, _data = _config(tmp_path, OPENAI_EU, ALL_KEYS)
    assert {"OPENAI_API_KEY_EU", "OPENAI_API_KEY_ORG2"} <= config.key_vars


def test_start_and_status_show_each_replica_without_a_key(tmp_path: Path) -> None:
    config, _data = _config(tmp_path, OPENAI_EU, ALL_KEYS)
    in_use = config.replicas_in_use()
    eu = dict(in_use["openai"][0])
    assert "r-main" in eu.pop("aliases")
    assert eu == {
        "replica": 2,
        "key_var": "OPENAI_API_KEY_EU",
        "api_base": "https://eu.example.com/v1",
        "rpm": 500,
    }
    assert "codex-no-openai" not in in_use["openai"][1]["aliases"]
    files = state.proxy_files(app_dirs({"CODEX_ROUTE_HOME": str(tmp_path / "h")}))
    state.ensure_dir(files)
    record = state.ProxyRecord(1, "127.0.0.1", 4000, "c", "l", "b", "1", 0.0, replicas=in_use)
    state.write_record(files, record)
    read = state.read_record(files)
    assert read is not None and read.replicas == in_use
    lines = proxy_view._replica_lines(read.replicas, "  replica   ", " " * 12)
    at = lines.index("            at https://eu.example.com/v1")
    assert lines[at - 1].startswith("  replica   openai/2: OPENAI_API_KEY_EU, rpm 500, ")
    assert lines[at + 1].startswith("  replica   openai/3: OPENAI_API_KEY_ORG2, rpm 0, ")
    assert lines[at + 2] == "            at the openai api_base"
    assert "            at http://10.0.0.8:11434/v1" in lines
    assert all(len(line) <= 80 and KEY not in line for line in lines)


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("replicas_yaml", "line", "message", "hint"),
    [
        (
            "  replicas:\n    opneai:\n      - key_var: K\n",
            12,
            "gateway.replicas: 'opneai' is not one of: openai",
            "did you mean 'openai'",
        ),
        (
            "  replicas:\n    openai:\n      - key_var: OPENAI-KEY-EU\n",
            12,
            "openai entry 1: key_var: not a variable name",
            "",
        ),
        (
            f"  replicas:\n    openai:\n      - key_var: {KEY}\n",
            12,
            "openai entry 1: key_var: not a variable name",
            "",
        ),
        (
            "  replicas:\n    openai:\n      - key_var: K\n      - key_var: K2\n"
            "        api_base: ftp://eu.example.com\n",
            12,
            "openai entry 2: api_base: expected an http:// or https:// URL",
            "",
        ),
        (
            "  replicas:\n    openai:\n      - key_var: K\n        api_bse: https://x.example\n",
            12,
            "openai entry 1: 'api_bse' is not one of: key_var, api_base, rpm, tpm",
            "did you mean 'api_base'",
        ),
        (
            "  replicas:\n    openai:\n      - key_var: K\n        rpm: -5\n",
            12,
            "openai entry 1: rpm: must be at least 0",
            "",
        ),
        (
            "  replicas:\n    openai:\n      - key_var: K\n        tpm: lots\n",
            12,
            "openai entry 1: tpm: expected a whole number",
            "",
        ),
        (
            "  replicas:\n    openai:\n      - api_base: https://x.example\n",
            12,
            "key_var: missing",
            "",
        ),
        ("  replicas:\n    qwen:\n      - key_var: K\n", 12, "qwen entry 1: api_base: missing", ""),
        (
            "  replicas:\n    openai:\n      - key_var: K\n      - key_var: K\n",
            12,
            "openai entry 2: the same key_var and api_base as entry 1",
            "",
        ),
        # the second family's own line, not the first's
        (
            "  replicas:\n    openai:\n      - key_var: K\n    gemini:\n      - key_var: 7G\n",
            14,
            "gemini entry 1: key_var: not a variable name",
            "",
        ),
        (
            "  replicas:\n    openai: {key_var: K}\n",
            11,
            "gateway.replicas.openai: not a mapping here (gateway.replicas is a mapping",
            "",
        ),
        (f"  replicas:\n    openai:\n      - {KEY}\n", 12, "expected a mapping with key_var", ""),
        (f"  replicas: {KEY}\n", 10, "expected a mapping of upstream", ""),
    ],
    ids=[
        "unknown-upstream",
        "bad-variable-name",
        "a-key-instead-of-its-variable",
        "not-http",
        "unknown-field",
        "negative-rpm",
        "bad-tpm",
        "no-key-var",
        "keyless-without-api-base",
        "duplicate",
        "second-family-line",
        "not-a-list",
        "entry-not-a-mapping",
        "not-a-mapping",
    ],
)
def test_a_bad_replica_names_file_line_and_key(
    tmp_path: Path, replicas_yaml: str, line: int, message: str, hint: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        _settings(tmp_path, BASE_POLICY + replicas_yaml)
    shown = str(caught.value)
    assert f"policy.yaml:{line}: gateway.replicas" in shown, shown
    assert message in shown, shown
    assert hint in str(caught.value.hint or ""), caught.value.hint
    assert KEY not in shown and KEY not in str(caught.value.hint)


def test_replicas_carry_their_provenance_and_have_no_variable_form(tmp_path: Path) -> None:
    settings = _settings(tmp_path, BASE_POLICY + OPENAI_EU)
    gateway = resolve_gateway({}, {"CODEX_ROUTE_GATEWAY_REPLICAS": "openai=X"}, settings.policy)
    where = gateway.provenance()["replicas"]
    assert (where["source"], where["line"]) == ("file", 12)
    assert where["value"]["openai"][0]["key_var"] == "OPENAI_API_KEY_EU"
    (tmp_path / "default").mkdir()
    default = resolve_gateway({}, {}, _settings(tmp_path / "default", "{}").policy)
    assert default["replicas"] is None


def test_endpoints_of_the_upstream_are_kept_for_replicas_without_api_base(tmp_path: Path) -> None:
    _config_object, data = _config(
        tmp_path,
        "  replicas:\n    huggingface:\n      - key_var: HF_TOKEN_B\n",
        {"HF_TOKEN": KEY, "HF_TOKEN_B": KEY},
    )
    hf = [e for e in _entries(data, "r-main") if "huggingface" in e[0]]
    assert hf == [
        ("r-main/1/huggingface", 1, "os.environ/HF_TOKEN", HF, 9),
        ("r-main/1/huggingface/2", 1, "os.environ/HF_TOKEN_B", HF, 9),
    ]
