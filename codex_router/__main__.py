"""``python -m codex_router`` runs the same CLI as the ``codex-route`` script.

May import: entry
"""

from __future__ import annotations

from codex_router.entry import main

if __name__ == "__main__":
    raise SystemExit(main())
