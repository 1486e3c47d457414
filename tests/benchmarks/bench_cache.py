"""Prompt-cache reuse: a second action on the same range within the cache lifetime, through
the real SDK against the fake Messages API (which reports cache reads the way the API does
when the prefix matches byte for byte).

    python tests/benchmarks/bench_cache.py [REPO FILE START END]   (default: requests' Session.send)
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_routing import project_dir

from fakeapi import FakeAPI, Reply
from scopewise.actions.plan import ActionRequest, Actions
from scopewise.analysis.engine import Engine
from scopewise.claude.client import ClaudeClient
from scopewise.settings import Settings


async def main() -> None:
    if len(sys.argv) == 5:
        repo, file, start, end = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    else:
        repo = project_dir("requests==2.32.3")
        file, start, end = "src/requests/sessions.py", 673, 750
    engine = Engine(repo)
    engine.index()
    actions = Actions(engine, Settings())
    with FakeAPI() as api:
        client = ClaudeClient(api_key="sk-bench", base_url=api.base_url, max_retries=0)
        api.push(Reply(text="An explanation."), Reply(text='{"summary": "", "edits": []}'))
        for action in ("explain", "refactor"):
            plan = actions.plan(ActionRequest(action, file, start, end, tier="standard"))
            result = await actions.run(plan, client)
            u = result.usage
            total = u.input_tokens + u.cache_read_tokens + u.cache_write_tokens
            print(
                f"{action:<9} input {total:>6,} tokens: cache read {u.cache_read_tokens:,}, "
                f"cache write {u.cache_write_tokens:,}, uncached {u.input_tokens:,} "
                f"-> {u.cache_read_tokens / total:.0%} read from the cache"
            )
        await client.close()


if __name__ == "__main__":
    asyncio.run(main())
