"""How scripts/test shares the suite between its two pytest-xdist workers (`--dist loadgroup`):
a file's tests go to one worker together (tests/conftest.py), so its module-scoped servers are
started once, unless its tests name a group of their own here."""

from __future__ import annotations

import pytest

# The tests that run clients/vscode's code under node, and the VS Code end-to-end run, which
# installs that folder's node_modules afresh (npm ci): one worker runs them, one at a time.
VSCODE_FOLDER = pytest.mark.xdist_group("clients/vscode")
