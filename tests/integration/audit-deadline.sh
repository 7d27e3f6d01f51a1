#!/bin/bash
#
# audit-deadline.sh: `deadline` bounds the whole audit of each platform
# (certvigil(8): "What has not finished by then is reported as not resolved
# or not probed").  audit-tarpit.sh covers the deadline cutting handshakes
# short; this covers the rest:
#   1. the deadline reached while DNS queries are pending (a resolver that
#      never answers, timeout 5s, deadline 1s): one audit.deadline.reached
#      says which names were not resolved (issue 12), and each name's
#      dns.resolve.failed, "was not resolved: the audit deadline (1s) was
#      reached first", is folded under it; the run ends after ~1 s; another
#      platform of the same run is unaffected
#   2. a deadline that is not a whole number of seconds (1500ms): the
#      messages state the configured deadline, not a rounded one

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start sandbox perl

# shellcheck disable=SC2119 # no argument needed
if ! cv_listener_start; then
	cv_fail "could not start the silent listener"
	cv_finish
fi

# --- 1. deadline during DNS --------------------------------------------------------

SB_CFG_TIMEOUT=5s cv_config dns <<EOF
  - name: silent
    global: { baseDomain: ok.example.test }
    resolvers: ["127.0.0.1:$CV_LISTEN_PORT"]
  - name: ok
    global: { baseDomain: ok.example.test }
EOF
cv_audit dns --deadline 1s
assert_exit 2
assert_findings "silent audit.deadline.reached critical api.ok.example.test -
$(cv_expect silent dns.resolve.failed critical "$(cv_names ok.example.test)" - | sed 's/$/ <-audit.deadline.reached/')"
assert_summary critical 1 0 0
assert_affected silent audit.deadline.reached "$(cv_pairs "$(cv_names ok.example.test)" -)"
assert_messages audit.deadline.reached "^the audit deadline \\(1s\\) was reached before 4 of 4 name\\(s\\) were resolved \\(api\\.ok\\.example\\.test, console\\.ok\\.example\\.test and 2 more\\): they were not judged; raise deadline"
assert_messages dns.resolve.failed "^@NAME@ \\((api|console|grafana|auth)\\) was not resolved: the audit deadline \\(1s\\) was reached first$"
assert_jq "dns: every name of the silent platform is 'not run', nothing probed" \
	'.platforms[0] | [([.names[].status] | unique), .endpoints]' '[["not run"],[]]'
assert_slower "dns: the run lasted until the 1 s deadline" "$CV_MS" 950
assert_faster "dns: the run ends within ~1 s of the deadline, not after the 5 s timeout" "$CV_MS" 2000
assert_jq "dns: the other platform is healthy" \
	'.platforms[1] | [([.endpoints[] | [.status, .certificate.verified]] | [length, unique]), .findings]' \
	'[[8,[["ok",true]]],[]]'

# --- 2. the deadline as configured in the message -----------------------------------------

cv_config tarpit <<EOF
  - name: tarpit
    global: { baseDomain: tarpit.example.test }
EOF
cv_audit tarpit --timeout 5s --deadline 1500ms
assert_exit 2
assert_findings "tarpit audit.deadline.reached critical api.tarpit.example.test $SB_ADDR_TARPIT
tarpit tls.handshake.failed critical api.tarpit.example.test $SB_ADDR_TARPIT <-audit.deadline.reached"
assert_affected tarpit tls.handshake.failed "$(cv_pairs "$(cv_names tarpit.example.test)" "$SB_ADDR_TARPIT")"
assert_messages audit.deadline.reached "^the audit deadline \\(1\\.5s\\) was reached before 4 of 4 endpoint\\(s\\) were probed "
assert_faster "tarpit: the run ends within ~1 s of the 1.5 s deadline" "$CV_MS" 2500
assert_messages tls.handshake.failed \
	"^TLS handshake with @ADDR@ port $SB_TLS_PORT for @NAME@ failed: handshake did not complete: the audit deadline \\(1\\.5s\\) was reached first \\(the server had not answered\\)$"

cv_finish
