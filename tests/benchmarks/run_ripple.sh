#!/usr/bin/env bash
# The ripple (../shared/bench/ripple.py) and ctxbench on real projects with their history.
#   tests/benchmarks/run_ripple.sh GIT_DIR [GIT_DIR ...]
# GIT_DIR: a full clone's git directory (e.g. what the fetch tool brings for psf/requests).
# For each project: its HEAD tree and the oracles (jedi; computed once, cached) go into
# .bench/ripple/NAME.*; then scopewise's JSON-lines provider runs the sites suite at 4k/8k/16k
# (the refactor context: RIPPLE_ACTION=refactor), ctxbench at 4k (the default context) and the
# cochange suite at 4k/8k/16k. Figures print as markdown tables; nothing fails on a figure.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${SHARED:-$PWD/../shared}
PY=$PWD/.venv/bin/python
$PY -m pip install --quiet --disable-pip-version-check -e '.[bench]' 2>&1 | grep -v '^WARNING: Location' || true
export TIKTOKEN_CACHE_DIR="$(cd "$SHARED/bench/tiktoken_cache" && pwd)"
RIPPLE="$PY $SHARED/bench/ripple.py" CTX="$PY $SHARED/bench/ctxbench.py"
OUT=.bench/ripple; mkdir -p "$OUT"
for git in "$@"; do
  git=$(cd "$git" && pwd)
  name=$(basename "$(dirname "$git")"); name=${name#*+}
  repo="$PWD/$OUT/$name"; base="$OUT/$name"
  if [ ! -d "$repo" ]; then mkdir -p "$repo"; git --git-dir="$git" archive HEAD | tar -x -C "$repo"; fi
  [ -s "$base.sites.txt" ] || $RIPPLE select --suite sites --repo "$repo" --n 40 --seed 0 --oracle-cache "$base.sites.json" > "$base.sites.txt"
  [ -s "$base.ctx.txt" ] || $CTX select --repo "$repo" --min-lines 10 --n 30 --seed 0 > "$base.ctx.txt"
  [ -s "$base.ctx.json" ] || $CTX oracle --repo "$repo" --targets "$base.ctx.txt" --oracle-cache "$base.ctx.json" --callers
  [ -s "$base.co.txt" ] || $RIPPLE select --suite cochange --git-dir "$git" --max-commits 40 --max-defs 15 --trees "$base.trees" > "$base.co.txt"
  [ -s "$base.co.json" ] || $RIPPLE oracle --suite cochange --git-dir "$git" --trees "$base.trees" --targets "$base.co.txt" --oracle-cache "$base.co.json"
  provider="$PY -m scopewise.cli context --jsonl"
  echo "== $name: sites (refactor context)"
  RIPPLE_ACTION=refactor $RIPPLE run --suite sites --repo "$repo" --targets "$base.sites.txt" --oracle-cache "$base.sites.json" \
    --provider-cmd "$provider --root $repo" --budgets 4000,8000,16000 | grep -E '^\|'
  echo "== $name: ctxbench (default context)"
  $CTX run --repo "$repo" --targets "$base.ctx.txt" --oracle-cache "$base.ctx.json" --callers \
    --budgets 4000 --provider-cmd "$provider --root $repo" | grep -E '^\|'
  echo "== $name: cochange (refactor context)"
  RIPPLE_ACTION=refactor $RIPPLE run --suite cochange --git-dir "$git" --trees "$base.trees" --targets "$base.co.txt" --oracle-cache "$base.co.json" \
    --provider-cmd "$provider" --restart-every 10 --budgets 4000,8000,16000 | grep -E '^\|'
done
