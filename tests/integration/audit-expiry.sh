#!/bin/bash
#
# audit-expiry.sh: the leaf's validity period against the clock at run time
# and the warn_days (default 21) / critical_days (default 7) thresholds.
#   1. expired.example.test (expired 3 days ago): tls.expiry.expired;
#      future.example.test (valid in 10 days): tls.cert.not-yet-valid;
#      soon.example.test (5 days left): tls.expiry.critical; exit 2; the
#      validity dates alone make no tls.chain.untrusted
#   2. warn.example.test (15 days left) alone: tls.expiry.warning, exit 1
#   3. the same with warn_days: 10 (and renew_at: 0.9): no finding, exit 0
#   4. soon.example.test with critical_days: 3: a warning only, exit 1
#   5. ok.example.test (80 days) under `faketime -f +70d`: 10 days left, so
#      tls.expiry.warning, exit 1: the clock is read when the audit runs
# The sandbox's certificates have 90-day lifetimes, so soon and warn (and ok
# 70 days later) are also past their renewal point: tls.renewal.overdue, once
# per certificate (checks/tls-renewal.c; issue 4), folded under the expiry
# finding of the same certificate (caused_by), counted nowhere.  Each problem
# is one finding (JSON format 3) whose `affected` lists every endpoint of the
# certificate: one certificate per platform here (issue 12).

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start sandbox faketime

# --- 1. expired, not yet valid, critical ------------------------------------------------

cv_config critical <<EOF
  - name: expired
    global: { baseDomain: expired.example.test }
  - name: future
    global: { baseDomain: future.example.test }
  - name: soon
    global: { baseDomain: soon.example.test }
EOF
cv_audit critical
assert_exit 2
assert_findings "expired tls.expiry.expired critical api.expired.example.test 127.0.0.1
future tls.cert.not-yet-valid critical api.future.example.test 127.0.0.1
soon tls.expiry.critical critical api.soon.example.test 127.0.0.1
soon tls.renewal.overdue warning api.soon.example.test 127.0.0.1 <-tls.expiry.critical"
assert_summary critical 3 0 0
for p in expired future soon; do
	id=$(jq -r --arg p $p '.platforms[] | select(.name == $p) | .findings[0].id' "$CV_JSON")
	assert_affected $p "$id" "$(cv_pairs "$(cv_names $p.example.test)" 127.0.0.1)"
done
assert_affected soon tls.renewal.overdue "$(cv_pairs "$(cv_names soon.example.test)" 127.0.0.1)"
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
four='api\.@B@, console\.@B@ and 2 more'
assert_messages tls.expiry.expired \
	"^the certificate served by @ADDR@ for ${four//@B@/expired\\.example\\.test} expired (3\\.0|3\\.1) days ago \\($ts\\)$"
assert_messages tls.cert.not-yet-valid \
	"^the certificate served by @ADDR@ for ${four//@B@/future\\.example\\.test} is not valid until $ts \\(in (9\\.9|10\\.0) days\\)"
assert_messages tls.expiry.critical \
	"^the certificate served by @ADDR@ for ${four//@B@/soon\\.example\\.test} expires in (4\\.9|5\\.0) days \\($ts\\), under critical_days \\(7\\)$"
assert_jq "critical: every chain verifies (dates are judged by the expiry checks alone)" \
	'[.platforms[].endpoints[].certificate.verified] | unique' '[true]'
assert_jq "critical: days_left is -3, 100 and 5" \
	'[.platforms[] | [.name, ([.endpoints[].certificate.days_left | . * 10 | round / 10] | unique)]]' \
	'[["expired",[-3]],["future",[100]],["soon",[5]]]'

# --- 2. warning alone ------------------------------------------------------------------

cv_config warn <<EOF
  - name: warn
    global: { baseDomain: warn.example.test }
EOF
cv_audit warn
assert_exit 1
assert_findings "warn tls.expiry.warning warning api.warn.example.test 127.0.0.1
warn tls.renewal.overdue warning api.warn.example.test 127.0.0.1 <-tls.expiry.warning"
assert_summary warning 0 1 0
assert_affected warn tls.expiry.warning "$(cv_pairs "$(cv_names warn.example.test)" 127.0.0.1)"
assert_messages tls.expiry.warning \
	"^the certificate served by @ADDR@ for ${four//@B@/warn\\.example\\.test} expires in (14\\.9|15\\.0) days \\($ts\\), under warn_days \\(21\\)$"

# --- 3. warn_days: 10 --------------------------------------------------------------------

cv_config warn10 <<EOF
  - name: warn
    global: { baseDomain: warn.example.test }
    warn_days: 10
    renew_at: 0.9
EOF
cv_audit warn10
assert_exit 0
assert_findings ""
assert_summary ok 0 0 0

# --- 4. critical_days: 3 -------------------------------------------------------------------

cv_config soon3 <<EOF
  - name: soon
    global: { baseDomain: soon.example.test }
    critical_days: 3
EOF
cv_audit soon3
assert_exit 1
assert_findings "soon tls.expiry.warning warning api.soon.example.test 127.0.0.1
soon tls.renewal.overdue warning api.soon.example.test 127.0.0.1 <-tls.expiry.warning"
assert_summary warning 0 1 0

# --- 5. 70 days later ----------------------------------------------------------------------

cv_config later <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
EOF
CV_JSON=$SB_DIR/later.json
rm -f "$CV_JSON"
cv_run later faketime -f +70d "$SB_CERTVIGIL" audit --config "$CV_CFG" --format json -o "$CV_JSON"
if ! jq -e . "$CV_JSON" >/dev/null 2>&1; then
	cv_fail "later: -o $CV_JSON holds a JSON report"
	cv_finish
fi
assert_exit 1
assert_findings "ok tls.expiry.warning warning api.ok.example.test 127.0.0.1
ok tls.renewal.overdue warning api.ok.example.test 127.0.0.1 <-tls.expiry.warning"
assert_summary warning 0 1 0
assert_affected ok tls.expiry.warning "$(cv_pairs "$(cv_names ok.example.test)" "127.0.0.1 127.0.0.2")"
assert_messages tls.expiry.warning \
	"^the certificate served by 127\\.0\\.0\\.1 and 127\\.0\\.0\\.2 for ${four//@B@/ok\\.example\\.test} expires in (9\\.9|10\\.0) days \\($ts\\), under warn_days \\(21\\)$"
now=$(date -u +%s)
assert_true "later: the report's start time is 70 days ahead" \
	"(.started | fromdateiso8601) - $now | . > 70 * 86400 - 120 and . < 70 * 86400 + 120"

cv_finish
