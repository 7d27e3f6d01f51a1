#!/bin/bash
#
# audit-silence.sh: `ignore:` silences known findings until a date. The warn
# platform (a certificate with 15 days left: one tls.expiry.warning affecting
# its 4 names, and tls.renewal.overdue folded under it; issue 12) with
# silences:
#   1. both ids silenced until next year: exit 0, summary 0/0/0, the findings
#      still reported with their reason and end (JSON, text SILENCED lines,
#      JUnit without failures, Prometheus in their own family), and with
#      --state-dir nothing is open in the state
#   2. a name glob that matches only api.*: the other three names still warn
#      (silenced and not silenced endpoints are grouped apart)
#   3. a silence that ended yesterday: it silences nothing and adds
#      finding.silence.expired (warning)
#   4. bad silences stop the audit with exit 3 and FILE:LINE:COL: no until,
#      no reason, an unknown id, a date that is not one, an unknown key

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# shellcheck disable=SC2119 # no argument needed
cv_start sandbox

next_year=$(($(date -u +%Y) + 1))-01-31
yesterday=$(date -u -d yesterday +%Y-%m-%d)

# --- 1. everything silenced -----------------------------------------------------------------

cv_config all <<EOF
  - name: warn
    global: { baseDomain: warn.example.test }
    ignore:
      - { id: tls.expiry.warning, until: "$next_year", reason: "new certificate ordered (ticket 42)" }
      - { id: tls.renewal.overdue, until: "${next_year}T12:00:00Z", reason: "renewal runs by hand" }
EOF
cv_audit all --state-dir "$SB_DIR/state"
assert_exit 0
assert_summary ok 0 0 0
assert_jq "all: the 5 findings are still reported, each silenced with its reason and end" \
	'[.platforms[0].findings[] | [.id, .silenced.reason, .silenced.until]] | unique' \
	"[[\"tls.expiry.warning\",\"new certificate ordered (ticket 42)\",\"${next_year}T00:00:00Z\"],[\"tls.renewal.overdue\",\"renewal runs by hand\",\"${next_year}T12:00:00Z\"]]"
assert_jq "all: 1 + 1 findings (one per problem)" '.platforms[0].findings | length' 2
assert_jq "all: the expiry affects the 4 names" \
	'[.platforms[0].findings[] | select(.id == "tls.expiry.warning") | .affected | length]' '[4]'
assert_jq "all: the platform is in the state with nothing open" \
	'[.platforms[] | select(.name == "warn") | .findings | length]' '[0]' "$SB_DIR/state/state.json"

cv_run all-text "$SB_CERTVIGIL" audit --config "$CV_CFG"
assert_exit 0
assert_eq "all (text): 2 SILENCED lines, no WARNING line" "2 0" \
	"$(grep -c '^  SILENCED tls\.' "$CV_STDOUT") $(grep -c '^  WARNING ' "$CV_STDOUT" || true)"
assert_match "all (text): the verdict is ok" '^Status: ok \(0 critical, 0 warning, 0 info\)' "$(sed -n 2p "$CV_STDOUT")"

cv_run all-junit "$SB_CERTVIGIL" audit --config "$CV_CFG" --format junit
assert_exit 0
assert_match "all (junit): no failure, the silences in system-out" \
	'failures="0".*silenced until '"$next_year"'T00:00:00Z \(new certificate ordered \(ticket 42\)\): warning tls\.expiry\.warning' \
	"$(tr '\n' ' ' <"$CV_STDOUT")"

cv_run all-prom "$SB_CERTVIGIL" audit --config "$CV_CFG" --format prometheus
assert_exit 0
assert_eq "all (prometheus): no certvigil_finding sample, 2 silenced label sets (id x name)" "0 2" \
	"$(grep -c '^certvigil_finding{' "$CV_STDOUT" || true) $(grep -c '^certvigil_finding_silenced_until_seconds{' "$CV_STDOUT")"
if command -v promtool >/dev/null; then
	if promtool check metrics <"$CV_STDOUT" >"$SB_DIR/promtool.out" 2>&1; then
		cv_pass "all (prometheus): promtool check metrics"
	else
		cv_fail "all (prometheus): promtool check metrics: $(cat "$SB_DIR/promtool.out")"
	fi
fi

# --- 2. a name glob ------------------------------------------------------------------------

cv_config glob <<EOF
  - name: warn
    global: { baseDomain: warn.example.test }
    ignore:
      - { id: tls.expiry.warning, name: "API.*", until: "$next_year", reason: "api moves next week" }
EOF
cv_audit glob
assert_exit 1
assert_jq "glob: only api's expiry warning is silenced (case-insensitive glob)" \
	'[.platforms[0].findings[] | select(.id == "tls.expiry.warning") | [.name, (.silenced != null)]] | sort' \
	'[["api.warn.example.test",true],["console.warn.example.test",false]]'
assert_affected warn tls.expiry.warning "$(cv_pairs "$(cv_names warn.example.test)" 127.0.0.1)"
assert_jq "glob: the warning that counts affects the three other names" \
	'[.platforms[0].findings[] | select(.id == "tls.expiry.warning" and .silenced == null) | .affected[].name]' \
	'["console.warn.example.test","grafana.warn.example.test","auth.warn.example.test"]'
assert_summary warning 0 1 0

# --- 3. an expired silence -----------------------------------------------------------------

cv_config expired <<EOF
  - name: warn
    global: { baseDomain: warn.example.test }
    ignore:
      - { id: tls.renewal.overdue, until: "$yesterday", reason: "renewal runs by hand" }
EOF
cv_audit expired --state-dir "$SB_DIR/state"
assert_exit 1
assert_jq "expired: what the silence no longer covers is open in the state again (the expiry warning, the overdue renewal folded under it, and the silence's end)" \
	'[.platforms[] | select(.name == "warn") | .findings[].id] | sort' \
	'["finding.silence.expired","tls.expiry.warning"]' "$SB_DIR/state/state.json"
assert_jq "expired: nothing silenced" '[.platforms[0].findings[] | select(.silenced)] | length' 0
assert_jq "expired: finding.silence.expired says which silence ended" \
	'[.platforms[0].findings[] | select(.id == "finding.silence.expired") | [.severity, (.message | test("tls\\.renewal\\.overdue.*renewal runs by hand.*ended on '"$yesterday"'"))]]' \
	'[["warning",true]]'

# --- 4. bad silences -----------------------------------------------------------------------

bad() { # WHAT ITEM ERE
	cv_config bad <<EOF
  - name: warn
    global: { baseDomain: warn.example.test }
    ignore:
      - $2
EOF
	cv_run "bad-$1" "$SB_CERTVIGIL" audit --config "$CV_CFG"
	assert_exit 3
	assert_match "bad ($1): FILE:LINE:COL and why" "^${CV_CFG//./\\.}:[0-9]+:[0-9]+: .*$3" "$(cat "$CV_STDERR")"
}
bad no-until '{ id: tls.expiry.warning, reason: x }' 'needs id, until and reason'
bad no-reason "{ id: tls.expiry.warning, until: \"$next_year\" }" 'needs id, until and reason'
bad unknown-id "{ id: tls.expiry.warnings, until: \"$next_year\", reason: x }" "unknown finding id 'tls\\.expiry\\.warnings'"
bad bad-date '{ id: tls.expiry.warning, until: "next week", reason: x }' "'next week' is not a date"
bad bad-key "{ id: tls.expiry.warning, until: \"$next_year\", reason: x, owner: me }" "unknown key 'owner'"

cv_finish
