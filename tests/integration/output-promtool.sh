#!/bin/bash
#
# output-promtool.sh: the --format prometheus output of a sandbox audit
# (healthy, warning, critical and unreachable platforms, and a label value
# that needs escaping) passes `promtool check metrics`, Prometheus' own
# parser and linter (Debian package prometheus).  Skipped only when
# promtool is not installed.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../sandbox/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../sandbox/lib.sh"

if ! command -v promtool >/dev/null; then
	echo "SKIP: promtool not installed (apt-get install prometheus)"
	exit 77
fi
sb_require_tools || exit 77

sb_up
cfg=$SB_DIR/certvigil.yaml
# The platform name is the operator's: quotes and backslashes must come out
# escaped in label values.
sb_write_config "$cfg" <<'EOF'
  - name: 'mixed "prod" \ eu'
    global: { baseDomain: mixed.example.test }
  - name: warn
    global: { baseDomain: warn.example.test }
  - name: gone
    global: { baseDomain: gone.example.test }
  - name: refused
    global: { baseDomain: refused.example.test }
EOF
rc=0
"$SB_CERTVIGIL" audit --config "$cfg" --format prometheus -o "$SB_DIR/certvigil.prom" || rc=$?
failures=0
if [[ $rc == 2 ]]; then echo "PASS: exit status 2"; else echo "FAIL: exit status $rc, want 2"; failures=1; fi
if grep -q 'platform="mixed \\"prod\\" \\\\ eu"' "$SB_DIR/certvigil.prom"; then
	echo "PASS: label values escaped"
else
	echo "FAIL: label values not escaped"; failures=1
fi
n=$(grep -c '^certvigil_' "$SB_DIR/certvigil.prom")
if ((n >= 20)); then echo "PASS: $n samples"; else echo "FAIL: only $n samples"; failures=1; fi
if out=$(promtool check metrics <"$SB_DIR/certvigil.prom" 2>&1); then
	echo "PASS: promtool check metrics"
else
	printf 'FAIL: promtool check metrics:\n%s\n' "$out"
	failures=1
fi
[[ -z $out ]] || printf 'promtool says:\n%s\n' "$out"
sb_cleanup
exit "$failures"
