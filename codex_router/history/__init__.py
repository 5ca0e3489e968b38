"""The run history of SPEC §7: what a run decided and what happened, never its prompt or secrets."""
