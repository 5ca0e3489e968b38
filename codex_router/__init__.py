"""codex-route: cost-aware routing in front of the OpenAI Codex CLI.

Importing the package must stay cheap: ``codex-route --help`` is budgeted against
``codex --version`` (docs/development.md, budgets), so nothing heavy is imported here.
"""

from __future__ import annotations

__version__ = "0.1.0"
