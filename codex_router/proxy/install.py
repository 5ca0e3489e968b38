"""Finding the ``litellm`` executable and checking its version *before* running anything of it.

Order: ``--litellm-bin`` > ``CODEX_ROUTE_LITELLM_BIN`` > ``LITELLM_CLI_PATH`` (the earlier
cost-routing script's name, counted only when it names an existing executable file) > ``litellm``
beside the running Python (what the ``proxy`` extra gives) > ``PATH``.

codex-route is not on the package index, so the install hint is never ``pip install
'codex-route[proxy]'`` (that would install whatever someone registers under the name): it is
:func:`install_command`, a command that works when pasted for the way codex-route was installed.

The version is read (with :mod:`importlib.metadata`, which only reads files) from the
site-packages of the environment the executable belongs to, without starting that environment's
Python: the compromised releases
1.82.7 and 1.82.8 ran their payload from a ``.pth`` file at every interpreter start, so asking
the interpreter would already be too late. Only the pinned :data:`PINNED_VERSION` is accepted;
the known-bad releases and their implant files get a louder refusal.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

from codex_router.errors import ProxyError

PINNED_VERSION = "1.106.2"
#: Releases published by attackers (litellm.md §1): never run, whatever else is said.
COMPROMISED_VERSIONS = frozenset({"1.82.7", "1.82.8", "1.107.0"})
#: Files the compromised releases dropped into site-packages.
IMPLANT_FILES = ("litellm_init.pth", "cook.pth", "cook.py", "remote_code_loader.lock")
#: What the ``proxy`` extra pins (pyproject.toml), for an install outside codex-route's own env.
PROXY_REQUIREMENTS = (f"litellm[proxy]=={PINNED_VERSION}", "prisma==0.15.0")
#: The venv of its own that docs/providers.md suggests for the proxy.
SEPARATE_VENV = "~/.local/share/litellm-venv"


def install_command() -> str:
    """A shell command that installs the pinned proxy, for the way this codex-route was
    installed (:func:`install_command_for` with its ``direct_url.json`` and this Python)."""
    return install_command_for(_direct_url(), sys.executable)


def install_command_for(direct_url: str | None, python: str) -> str:
    """A shell command that installs the pinned proxy, for the way codex-route was installed.

    From a local checkout (``direct_url.json`` names a directory: ``pip install [-e] .``), the
    ``proxy`` extra of that checkout into this Python; from a git URL, the extra at the same
    commit; otherwise (a wheel, or no record of the source) a venv of its own, as
    docs/providers.md describes, with ``CODEX_ROUTE_LITELLM_BIN`` pointing at it. ``direct_url``
    is the text of codex-route's ``direct_url.json`` (PEP 610), ``python`` the interpreter that
    runs codex-route.
    """
    python = shlex.quote(python)
    try:
        origin = json.loads(direct_url) if direct_url else {}
    except ValueError:
        origin = {}
    url = origin.get("url") if isinstance(origin, dict) else None
    if (
        isinstance(url, str)
        and isinstance(origin.get("dir_info"), dict)
        and url.startswith("file://")
    ):
        checkout = Path(unquote(urlsplit(url).path))  # pip percent-encodes the path
        if (checkout / "pyproject.toml").is_file():
            editable = "-e " if origin["dir_info"].get("editable") else ""
            return f"{python} -m pip install {editable}{shlex.quote(f'{checkout}[proxy]')}"
    vcs = origin.get("vcs_info") if isinstance(origin, dict) else None
    if isinstance(url, str) and isinstance(vcs, dict) and vcs.get("vcs") == "git":
        at = f"@{vcs['commit_id']}" if vcs.get("commit_id") else ""
        return f"{python} -m pip install {shlex.quote(f'codex-route[proxy] @ git+{url}{at}')}"
    pins = " ".join(shlex.quote(r) for r in PROXY_REQUIREMENTS)
    return (
        f"python3 -m venv {SEPARATE_VENV} && {SEPARATE_VENV}/bin/pip install {pins} && "
        f"export CODEX_ROUTE_LITELLM_BIN={SEPARATE_VENV}/bin/litellm"
    )


def _direct_url() -> str | None:
    """codex-route's ``direct_url.json`` (how pip installed it), None when there is none."""
    for dist in metadata.distributions(name="codex-route"):
        text = dist.read_text("direct_url.json")
        if text:
            return text
    return None


def install_hint() -> str:
    return (
        f"install the pinned proxy: {install_command()} "
        f"(or point --litellm-bin / CODEX_ROUTE_LITELLM_BIN at a litellm {PINNED_VERSION})"
    )


#: The earlier cost-routing script's variable for the litellm executable.
LEGACY_LITELLM_VAR = "LITELLM_CLI_PATH"


@dataclass(frozen=True)
class LiteLLMInstall:
    """A usable LiteLLM installation and where it was found."""

    bin: Path
    version: str
    site_packages: Path
    source: str  # flag | env | LITELLM_CLI_PATH | python | path


def _candidates(flag: str | None, env: Mapping[str, str]) -> list[tuple[str, str, str]]:
    out = []
    if flag:
        out.append((flag, "flag", "--litellm-bin"))
    from_env = env.get("CODEX_ROUTE_LITELLM_BIN", "").strip()
    if from_env:
        out.append((from_env, "env", "CODEX_ROUTE_LITELLM_BIN"))
    return out


def locate_litellm(flag: str | None, env: Mapping[str, str]) -> tuple[Path, str]:
    """The litellm executable and the layer that named it."""
    for value, source, origin in _candidates(flag, env):
        found = shutil.which(value) if os.sep not in value else value
        if found is None or not Path(found).is_file() or not os.access(found, os.X_OK):
            raise ProxyError(
                f"{origin} names {value!r}, which is not an executable file", hint=install_hint()
            )
        return Path(found).absolute(), source
    legacy = Path(env.get(LEGACY_LITELLM_VAR, "").strip()).expanduser()
    if str(legacy) != "." and legacy.is_file() and os.access(legacy, os.X_OK):
        return legacy.absolute(), LEGACY_LITELLM_VAR
    beside = Path(sys.executable).parent / "litellm"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside, "python"
    found = shutil.which("litellm", path=env.get("PATH"))
    if found:
        return Path(found).absolute(), "path"
    raise ProxyError("LiteLLM is not installed (no litellm executable found)", hint=install_hint())


def _site_packages(bin_path: Path) -> list[Path]:
    root = bin_path.resolve().parent.parent
    found: list[Path] = []
    for pattern in (
        "lib/python3*/site-packages",
        "lib/python3*/dist-packages",
        "local/lib/python3*/site-packages",
        "local/lib/python3*/dist-packages",
        "lib/site-packages",
        "Lib/site-packages",
    ):
        found.extend(p for p in sorted(root.glob(pattern)) if p.is_dir())
    return found


def read_installed_version(bin_path: Path) -> tuple[str, Path]:
    """The litellm version installed beside ``bin_path`` and its site-packages (files only)."""
    versions: dict[str, Path] = {}
    for site in _site_packages(bin_path):
        for dist in metadata.distributions(name="litellm", path=[str(site)]):
            version = dist.version
            if not version:
                raise ProxyError(
                    f"the litellm metadata in {site} has no Version line", hint=install_hint()
                )
            versions[version] = site
    if not versions:
        raise ProxyError(
            f"cannot tell which LiteLLM version {bin_path} runs: no litellm-*.dist-info beside it",
            hint=install_hint(),
        )
    if len(versions) > 1:
        raise ProxyError(
            f"several LiteLLM versions are installed beside {bin_path}: "
            f"{', '.join(sorted(versions))}",
            hint=install_hint(),
        )
    version, site = next(iter(versions.items()))
    return version, site


def check_version(version: str, site: Path) -> None:
    """Refuse compromised releases, implant files, and anything but the pinned version."""
    implants = [name for name in IMPLANT_FILES if (site / name).exists()]
    if version in COMPROMISED_VERSIONS or implants:
        what = f"LiteLLM {version}" + (f" with {', '.join(implants)} in {site}" if implants else "")
        raise ProxyError(
            f"{what} is a compromised release (credential stealer); codex-route will not run it",
            hint="uninstall it now, rotate every key that machine held, and install "
            f"litellm[proxy]=={PINNED_VERSION}",
        )
    if version != PINNED_VERSION:
        raise ProxyError(
            f"LiteLLM {version} is installed; codex-route runs only the pinned {PINNED_VERSION}",
            hint=install_hint(),
        )


def find_litellm(flag: str | None, env: Mapping[str, str]) -> LiteLLMInstall:
    """Locate litellm and check its version; raises :class:`ProxyError` when it cannot be used."""
    bin_path, source = locate_litellm(flag, env)
    version, site = read_installed_version(bin_path)
    check_version(version, site)
    return LiteLLMInstall(bin_path, version, site, source)
