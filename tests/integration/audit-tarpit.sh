#!/bin/bash
#
# audit-tarpit.sh: an address that accepts TCP and then says nothing
# (tarpit.example.test, 127.0.0.4) is bounded by `timeout` and `deadline`, and
# does not hold up the other platforms of the run.
#   1. timeout 2s: tls.handshake.failed, one finding for the address
#      affecting its 4 endpoints (issue 12), saying timeout, after ~2 s; the second platform (ok.example.test) is audited fully and is
#      healthy; the whole run takes less than timeout + 2 s
#   2. timeout 5s, --deadline 1s: the run ends after ~1 s; the cut-off
#      endpoints were connected, so they are reported as tls.handshake.failed
#      "handshake did not complete: the audit deadline (1s) was reached
#      first", folded under one audit.deadline.reached that says what was
#      cut short (issue 12); ok.example.test is still healthy

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# shellcheck disable=SC2119 # no argument needed
cv_start sandbox

tarpit_names=$(cv_names tarpit.example.test)

# --- 1. timeout ----------------------------------------------------------------

SB_CFG_TIMEOUT=2s cv_config timeout <<EOF
  - name: tarpit
    global: { baseDomain: tarpit.example.test }
  - name: ok
    global: { baseDomain: ok.example.test }
EOF
cv_audit timeout
assert_exit 2
assert_findings "tarpit tls.handshake.failed critical api.tarpit.example.test $SB_ADDR_TARPIT"
assert_summary critical 1 0 0
assert_affected tarpit tls.handshake.failed "$(cv_pairs "$tarpit_names" "$SB_ADDR_TARPIT")"
assert_messages tls.handshake.failed \
	"^TLS handshake with @ADDR@ port $SB_TLS_PORT for @NAME@ failed: .*within 2(\\.0)?s \\(timeout\\)"
assert_slower "timeout: the handshakes waited for the 2 s timeout" "$CV_MS" 1900
assert_faster "timeout: the run ends within timeout + 2 s" "$CV_MS" 4000
assert_jq "timeout: tarpit endpoints are handshake-failed after about 2 s" \
	'[.platforms[0].endpoints[] | [.status, (.duration_ms >= 1900 and .duration_ms < 3000)]] | [length, unique]' \
	'[4,[["handshake-failed",true]]]'
assert_jq "timeout: ok.example.test is audited fully: 8 verified endpoints, no finding" \
	'.platforms[1] | [.name, ([.endpoints[] | [.status, .certificate.verified]] | [length, unique]), .findings]' \
	'["ok",[8,[["ok",true]]],[]]'
assert_true "timeout: ok.example.test did not wait for the tarpit (its audit took < 1 s)" \
	'.platforms[1].duration_ms < 1000'

# --- 2. deadline -----------------------------------------------------------------

CV_CFG=$SB_DIR/timeout.yaml
cv_audit deadline --timeout 5s --deadline 1s
assert_exit 2
assert_findings "tarpit audit.deadline.reached critical api.tarpit.example.test $SB_ADDR_TARPIT
tarpit tls.handshake.failed critical api.tarpit.example.test $SB_ADDR_TARPIT <-audit.deadline.reached"
assert_summary critical 1 0 0
assert_affected tarpit audit.deadline.reached "$(cv_pairs "$tarpit_names" "$SB_ADDR_TARPIT")"
assert_messages audit.deadline.reached \
	"^the audit deadline \\(1s\\) was reached before 4 of 4 endpoint\\(s\\) were probed \\(@ADDR@ for api\\.tarpit\\.example\\.test, @ADDR@ for console\\.tarpit\\.example\\.test and 2 more\\): they were not judged"
# The connection was up when the deadline struck: it reads as a stalled handshake.
assert_messages tls.handshake.failed \
	"^TLS handshake with @ADDR@ port $SB_TLS_PORT for @NAME@ failed: handshake did not complete: the audit deadline \\(1s\\) was reached first \\(the server had not answered\\)$"
assert_slower "deadline: the run lasted until the 1 s deadline" "$CV_MS" 950
assert_faster "deadline: the run ends within ~1 s of the deadline" "$CV_MS" 2000
assert_jq "deadline: tarpit endpoints are handshake-failed" '[.platforms[0].endpoints[].status] | [length, unique]' \
	'[4,["handshake-failed"]]'
assert_jq "deadline: ok.example.test is still healthy" \
	'.platforms[1] | [([.endpoints[] | [.status, .certificate.verified]] | [length, unique]), .findings]' \
	'[[8,[["ok",true]]],[]]'

cv_finish
