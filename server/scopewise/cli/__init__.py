"""The `scopewise` command: `main` parses the arguments and dispatches (index, scope, context,
serve), `actions` runs plan/explain/refactor/fix/usage, `project` the project's own actions
(`actions`, `action NAME`), `terminal` makes model text inert, `diskwrite` writes an
accepted edit all-or-nothing. Reaches Claude only through actions/
(`actions.api` re-exports the client's construction, a run's events and errors, the ledger)."""

from scopewise.cli.main import main

__all__ = ["main"]
