#!/bin/bash
# print-failures.sh: tests/print-failures (what tests/run-suite shows of a
# failed run) finds the failed tests by automake's ":test-result:" lines and
# prints their logs, and says nothing for a run without failures.
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
scratch=$(mktemp -d) || exit 99
trap 'rm -rf "$scratch"' EXIT
failures=0
check() { if eval "$2"; then echo "PASS: $1"; else echo "FAIL: $1"; failures=$((failures + 1)); fi; }

mkdir -p "$scratch/tests/unit" "$scratch/tests/integration"
printf ':test-result: PASS\n:global-test-result: PASS\n' >"$scratch/tests/unit/good.trs"
echo "good's log" >"$scratch/tests/unit/good.log"
out=$("$top/tests/print-failures" "$scratch"); rc=$?
check "no failure: exit 1, nothing printed" '[[ $rc == 1 && -z $out ]]'

printf ':test-result: FAIL\n:global-test-result: FAIL\n' >"$scratch/tests/integration/bad.trs"
printf 'line 1\nthe reason it failed\n' >"$scratch/tests/integration/bad.log"
printf ':test-result: ERROR\n' >"$scratch/tests/unit/broken.trs"
echo "broken's log" >"$scratch/tests/unit/broken.log"
out=$("$top/tests/print-failures" "$scratch"); rc=$?
check "failures: exit 0" '[[ $rc == 0 ]]'
check "the FAIL test's log is printed" '[[ $out == *"----- $scratch/tests/integration/bad.log"*"the reason it failed"* ]]'
check "the ERROR test's log is printed" "[[ \$out == *\"broken's log\"* ]]"
check "the passing test's log is not" "[[ \$out != *\"good's log\"* ]]"
exit $((failures > 0))
