#!/usr/bin/env bash
# Differential test of CipherChart against @noble/curves (registered with ctest as
# noble_differential; label "noble").
#
#   run.sh PATH/TO/noble_driver
#
# Installs the @noble/curves version pinned in package.json (npm, network needed on first run)
# into a work directory beside the driver, then:
#   1. node check.mjs gen     -> points encoded by noble         (noble_points.txt)
#   2. noble_driver cases     -> random cases + our results      (ours.jsonl)
#      noble_driver decode    -> our decoding of noble's points  (appended to ours.jsonl)
#   3. node check.mjs check   -> recomputes everything with noble and compares byte for byte.
# Environment: NOBLE_SEED (default: random, printed), NOBLE_CASES (per category, default 200),
# NOBLE_WORK_DIR (default: <driver dir>/noble_work).
set -euo pipefail

if [[ $# -ne 1 || ! -x $1 ]]; then
  echo "usage: $0 PATH/TO/noble_driver" >&2
  exit 2
fi
driver=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${NOBLE_WORK_DIR:-$(dirname "$driver")/noble_work}
cases=${NOBLE_CASES:-200}
seed=${NOBLE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}

fail() {
  echo "noble differential: FAILED: $*" >&2
  exit 1
}

command -v node >/dev/null || fail "node not found (node >= 20.19 is needed)"
command -v npm >/dev/null || fail "npm not found"

mkdir -p "$work"
cp "$here/package.json" "$here/check.mjs" "$work/"
cd "$work"

want=$(node -p "require('./package.json').dependencies['@noble/curves']")
have=$(node -p "try { require('./node_modules/@noble/curves/package.json').version } catch { '' }")
if [[ $have != "$want" ]]; then
  echo "installing @noble/curves@$want into $work"
  npm install --no-audit --no-fund --loglevel=error ||
    fail "npm install of @noble/curves@$want failed (no network or registry unreachable?); this test needs it"
  have=$(node -p "require('./node_modules/@noble/curves/package.json').version")
  [[ $have == "$want" ]] || fail "installed @noble/curves is $have, expected $want"
fi
echo "noble: @noble/curves $have ($(node --version)); seed $seed, $cases cases per category"
echo "reproduce: NOBLE_SEED=$seed NOBLE_CASES=$cases bash $here/run.sh $driver"

node check.mjs gen "$seed" "$cases" >noble_points.txt || fail "check.mjs gen failed"
"$driver" cases "$seed" "$cases" >ours.jsonl || fail "noble_driver cases failed"
"$driver" decode <noble_points.txt >>ours.jsonl || fail "noble_driver decode failed"
node check.mjs check "$cases" <ours.jsonl
