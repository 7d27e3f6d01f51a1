#!/bin/bash
#
# audit-dns-errors.sh: dns.resolve.failed when the resolver, not the name, is
# the problem.  certvigil(8): "NXDOMAIN, no A/AAAA record, SERVFAIL, REFUSED
# or timeout (the message says which and which resolver was asked)", and
# `timeout` bounds "one DNS query (with its retries)".
#   1. a zone the resolver does not serve: knotd answers REFUSED, and the
#      finding must say REFUSED (not that the resolver could not be reached)
#   2. a resolver that never answers (a silent UDP listener), timeout 2s: the
#      message says timeout, and the names fail within the timeout
#   3. nothing listens at the resolver's address: fails at once, asked
#      address named, and no claim of a timeout

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start sandbox perl

# --- 1. REFUSED ----------------------------------------------------------------

# Outside .test: the sandbox's knotd serves a stand-in test. zone, so only
# another TLD is a zone it does not serve. tls.mode provided keeps the DNS-01
# and CAA lookups (which meet the same REFUSED) out of this scenario.
cv_config refused <<EOF
  - name: elsewhere
    global: { baseDomain: gw.elsewhere.example }
    tls: { mode: provided }
EOF
cv_audit refused
assert_exit 2
assert_findings "$(cv_expect elsewhere dns.resolve.failed critical "$(cv_names gw.elsewhere.example)" -)"
assert_summary critical 4 0 0
refused_answer=$(kdig +tcp +timeout=1 +retry=0 @127.0.0.1 -p "$SB_DNS_PORT" api.gw.elsewhere.example A 2>&1 |
	sed -n 's/.*status: \([A-Z]*\).*/\1/p')
assert_eq "(the sandbox's knotd answers REFUSED for a zone it does not serve)" REFUSED "$refused_answer"
assert_messages dns.resolve.failed \
	"^@NAME@ \\((api|console|grafana|auth)\\) does not resolve: REFUSED.*\\(asked 127\\.0\\.0\\.1:$SB_DNS_PORT\\)$"
assert_jq "refused: every name has status REFUSED" '[.platforms[0].names[].status] | unique' '["REFUSED"]'

# --- 2. a resolver that never answers --------------------------------------------

# shellcheck disable=SC2119 # no argument needed
if ! cv_listener_start; then
	cv_fail "could not start the silent listener"
	cv_finish
fi
SB_CFG_TIMEOUT=2s cv_config silent <<EOF
  - name: silent
    global: { baseDomain: ok.example.test }
    resolvers: ["127.0.0.1:$CV_LISTEN_PORT"]
EOF
cv_audit silent
assert_exit 2
assert_findings "$(cv_expect silent dns.resolve.failed critical "$(cv_names ok.example.test)" -)"
assert_messages dns.resolve.failed \
	"^@NAME@ \\((api|console|grafana|auth)\\) does not resolve: timeout.*\\(asked 127\\.0\\.0\\.1:$CV_LISTEN_PORT\\)$"
assert_jq "silent: every name has status timeout" '[.platforms[0].names[].status] | unique' '["timeout"]'
asked=$(grep -c '^udp' "$CV_LISTEN_LOG" || true)
assert_match "silent: the resolver was asked (A and AAAA per name, got $asked datagrams)" '^([89]|[1-9][0-9]+)$' "$asked"
assert_slower "silent: the queries waited for the timeout" "$CV_MS" 1900
assert_faster "silent: timeout 2s bounds each query with its retries" "$CV_MS" 2500

# --- 3. nothing listens at the resolver's address ------------------------------------

CV_CFG=$SB_DIR/silent.yaml
cv_audit unreachable --resolver "$SB_ADDR_REFUSED:53"
assert_exit 2
assert_findings "$(cv_expect silent dns.resolve.failed critical "$(cv_names ok.example.test)" -)"
assert_messages dns.resolve.failed "^@NAME@ \\(.*\\) does not resolve: .*\\(asked 127\\.0\\.0\\.3:53\\)$"
assert_jq "unreachable: no name claims a timeout" '[.platforms[0].names[].status] | index("timeout")' null
assert_faster "unreachable: a refused resolver fails at once" "$CV_MS" 1500

cv_finish
