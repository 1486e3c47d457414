"""A menu request measures each context once (lsp/listing.ServerEngine.needs_for): its two
rounds of plans (the entries, then their other tiers) ask for the same measures."""

from __future__ import annotations

from pathlib import Path

import pytest

from scopewise.actions.plan import Actions
from scopewise.analysis import measure
from scopewise.lsp import listing
from scopewise.lsp.capabilities import ClientSupport
from scopewise.settings import load

FILES = {
    ".scopewise.toml": "",
    "pkg/dep.py": "def dep(x):\n    return x\n\n\ndef other(y):\n    return dep(y) * 2\n",
    "pkg/use.py": "from pkg.dep import dep\n\n\ndef user(v):\n    return dep(v) + 1\n",
}


def test_a_menu_measures_each_context_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for rel, text in FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    settings, _ = load(tmp_path)
    engine = listing.ServerEngine(tmp_path, settings.index, use_cache=False)
    engine.index(workers=1)
    actions = Actions(engine, settings)
    menus = listing.Listing(ClientSupport())
    calls: list[bool] = []
    real = measure.measure

    def counted(*args: object, **kwargs: object) -> measure.Needs:
        calls.append(len(args) > 3)  # with the siblings' callers: a change's context
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(measure, "measure", counted)
    uri = (tmp_path / "pkg/dep.py").as_uri()
    with engine.memo():
        target = listing.Target(uri, "pkg/dep.py", 1, 2, None, ())
        titles = [a.title for a in menus.actions_for(actions, target, None)]
    assert any(t.startswith("Explain") for t in titles), titles
    assert sorted(calls) == [False, True], calls  # Explain's context, Refactor's
