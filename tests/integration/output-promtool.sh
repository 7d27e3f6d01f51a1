#!/bin/bash
#
# output-promtool.sh: the --format prometheus output of a sandbox audit
# (healthy, warning, critical and unreachable platforms, and a label value
# that needs escaping) passes `promtool check metrics`, Prometheus' own
# parser and linter (Debian package prometheus).  Skipped only when
# promtool is not installed.

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start sandbox promtool
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
assert_eq "exit status 2" 2 "$rc"
assert_ok "label values escaped" grep -q 'platform="mixed \\"prod\\" \\\\ eu"' "$SB_DIR/certvigil.prom"
n=$(grep -c '^certvigil_' "$SB_DIR/certvigil.prom")
assert_ok "$n samples (at least 20)" test "$n" -ge 20
if out=$(promtool check metrics <"$SB_DIR/certvigil.prom" 2>&1); then
	cv_pass "promtool check metrics"
else
	cv_fail "promtool check metrics"
fi
[[ -z $out ]] || printf 'promtool says:\n%s\n' "$out"
cv_finish
