"""Actions: what a request costs and how it runs. `plan` (requests and plans, and `Actions`,
the facade the CLI and the server use), `routing` (the sliding scale), `estimate` (tokens and
dollars of a call), `prompts` (what is asked), `run` (call → check → retry/escalate → result,
with the cap reservations), `edits` (answers become checked edits), `explanation` (the
Markdown document), `model` (the data they share) and `api` (what the layers above may use
of claude/). The only layer that talks to Claude."""
