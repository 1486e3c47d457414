#!/usr/bin/env bash
# Context quality (ctxbench, jedi oracle) on real projects nobody here wrote.
#   tests/benchmarks/run_ctxbench.sh [PROJECT==VERSION ...]   (default: requests flask)
# Downloads each sdist from the package registry into .bench/, computes the oracle once
# (cached), and runs scopewise's JSON-lines provider at budgets 2000, 4000 and 8000.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${SHARED:-../shared}
BENCH="$SHARED/bench/ctxbench.py"
PY=.venv/bin/python
$PY -m pip install --quiet --disable-pip-version-check -e '.[bench]' 2>&1 | grep -v '^WARNING: Location' || true
export TIKTOKEN_CACHE_DIR="$(cd "$SHARED/bench/tiktoken_cache" && pwd)"
mkdir -p .bench
projects=("$@")
[ ${#projects[@]} -gt 0 ] || projects=(requests==2.32.3 flask==3.0.3)
for spec in "${projects[@]}"; do
  name=${spec%%==*}; version=${spec##*==}
  dir=.bench/$name-$version
  if [ ! -d "$dir" ]; then
    $PY -m pip download --quiet --no-deps --no-binary :all: "$spec" -d .bench 2>&1 | grep -v '^WARNING: Location' || true
    tar -xzf .bench/$name-$version.tar.gz -C .bench
  fi
  [ -f "$dir.targets" ] || $PY "$BENCH" select --repo "$dir" --min-lines 10 --n 30 --seed 0 > "$dir.targets"
  [ -f "$dir.oracle.json" ] || $PY "$BENCH" oracle --repo "$dir" --targets "$dir.targets" --oracle-cache "$dir.oracle.json" --callers
  echo "== $spec"
  $PY "$BENCH" run --repo "$dir" --targets "$dir.targets" --oracle-cache "$dir.oracle.json" --callers \
    --budgets 2000,4000,8000 --provider-cmd "$PWD/.venv/bin/scopewise context --jsonl --root $dir"
done
