#!/bin/bash
# tests/lint/shellcheck.sh: shellcheck on every shell script that `make check` runs or
# sources (tests/integration, tests/sandbox, tests/lint, the suite runner,
# CI's entry point and install-deps). Skipped (77) without shellcheck.
#
# Each file is checked alone: following the kit's `source` lines (-x, or
# naming all files at once) makes shellcheck 0.9 run for minutes on
# common.sh, which sources every sandbox world. So what needs the other
# files is off, each for a reason:
#   SC1091  not following a sourced file (the reason above)
#   SC2154, SC2034  a variable set or read only in another file (the kit's
#           CV_*, SB_*, DN_*, SBT_* and what the scripts hand back to it)
#   SC2317  "unreachable" functions: they are called through assert_ok,
#           cv_wait_until and traps, which shellcheck cannot see
# and two codes whose patterns the tests use on purpose:
#   SC2016  single-quoted $ in jq filters and awk programs, not shell
#   SC2015  `cond && cv_pass ... || cv_fail ...`: cv_pass always returns 0
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v shellcheck >/dev/null || { echo "SKIP: shellcheck is not installed"; exit 77; }
cd "$top" || exit 99
failures=0
n=0
for f in tests/integration/*.sh tests/sandbox/*.sh tests/lint/*.sh tests/run-suite tests/print-failures \
	.ci/run scripts/install-deps autogen.sh; do
	[[ -f $f ]] || continue
	n=$((n + 1))
	if ! out=$(timeout 60 shellcheck -f gcc -e SC1091,SC2154,SC2034,SC2317,SC2016,SC2015 "$f" 2>&1); then
		echo "FAIL: $f"
		printf '%s\n' "$out" | sed 's/^/    /'
		failures=$((failures + 1))
	fi
done
echo "$n scripts checked, $failures with findings"
exit $((failures > 0))
