"""The trust tests drive the real server through the language-server tests' editor
(tests/lsp/lspclient.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "lsp"))
