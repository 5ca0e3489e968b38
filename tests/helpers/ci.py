"""What a test does when the machine lacks something it needs (an install, a privilege)."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    """True under CI (``CI`` set), where every test must run: nothing may skip there."""
    return bool(os.environ.get("CI"))


def missing_precondition(message: str) -> NoReturn:
    """Fail in CI, which installs and grants everything the suite needs (a skip there would
    hide a broken install step); elsewhere skip, saying what is missing."""
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)
