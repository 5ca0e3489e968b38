"""One thin module per command: parse the options, call one function, hand its result to a view.

No decisions and no rendering here: decisions live in the subsystem packages, rendering in
``views``. Typer is imported by these modules and by ``cli`` only.

May import: errors, dirs, ui, views, policy, prompt, tokens, routing, codex, run, local, proxy,
history, doctor, progress, dashboard
"""
