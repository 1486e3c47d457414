"""The `scopewise` command: `main` parses the arguments and dispatches (index, scope, context,
serve), `actions` runs plan/explain/refactor/fix/usage, `terminal` makes model text inert,
`diskwrite` writes an accepted edit all-or-nothing. Calls Claude only through actions/; of
claude/ it uses the client's construction (`from_settings`), the progress events and errors a
run reports, the ledger's totals and the money format."""

from scopewise.cli.main import main

__all__ = ["main"]
