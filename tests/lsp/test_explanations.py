"""Explanation documents in the user's cache: the newest are kept, the folder never grows
without bound."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

from scopewise import paths
from scopewise.lsp.runs import KEEP_EXPLANATIONS, explanation_path


def test_only_the_newest_explanations_are_kept() -> None:
    folder = paths.cache_dir() / "explanations"
    folder.mkdir(parents=True)
    for n in range(KEEP_EXPLANATIONS + 5):
        doc = folder / f"old-{n:03d}.md"
        doc.write_text(f"explanation {n}\n")
        os.utime(doc, ns=(n * 10**9, n * 10**9))  # old-000 is the oldest
    plan: Any = SimpleNamespace(
        path="shop/pricing.py",
        request=SimpleNamespace(start_line=29),
        scope=SimpleNamespace(end_line=32),
    )
    new = explanation_path(plan)
    new.write_text("the new one\n")
    kept = sorted(p.name for p in folder.glob("*.md"))
    assert len(kept) == KEEP_EXPLANATIONS
    assert new.name in kept and new.name.startswith("shop_pricing.py-L29-32-")
    assert "old-005.md" not in kept and "old-006.md" in kept  # the six oldest went
    assert f"old-{KEEP_EXPLANATIONS + 4:03d}.md" in kept
