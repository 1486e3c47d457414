"""The `scopewise` command: `main` parses the arguments, `actions` runs plan/explain/refactor/fix,
`terminal` makes model text inert, `diskwrite` writes an accepted edit all-or-nothing."""

from scopewise.cli.main import main

__all__ = ["main"]
