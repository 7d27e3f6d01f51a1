#!/bin/bash
#
# audit-connect-failed.sh: tls.connect.failed, one critical finding per
# address that refuses the TCP connection.
#   1. refused.example.test: every name resolves to 127.0.0.3, where nothing
#      listens: 4 findings, at once (no waiting for the timeout)
#   2. one name of an otherwise healthy platform resolving to a good address
#      and a refusing one: exactly one finding, for that name and address

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# shellcheck disable=SC2119 # no argument needed
cv_start sandbox

# --- 1. every address refuses ----------------------------------------------------

cv_config refused <<EOF
  - name: refused
    global: { baseDomain: refused.example.test }
EOF
cv_audit refused
assert_exit 2
# One address refusing is one problem, whatever the names it serves (issue 12).
assert_findings "refused tls.connect.failed critical api.refused.example.test $SB_ADDR_REFUSED"
assert_summary critical 1 0 0
assert_affected refused tls.connect.failed "$(cv_pairs "$(cv_names refused.example.test)" "$SB_ADDR_REFUSED")"
assert_messages tls.connect.failed \
	"^cannot connect to @ADDR@ port $SB_TLS_PORT for @NAME@: .*[Cc]onnection refused"
assert_jq "refused: 4 endpoints, status connect-failed, no certificate" \
	'[.platforms[0].endpoints[] | [.address, .port, .status, has("certificate")]] | [length, unique]' \
	"[4,[[\"$SB_ADDR_REFUSED\",$SB_TLS_PORT,\"connect-failed\",false]]]"
assert_faster "refused: a refused connection fails at once, not after the timeout" "$CV_MS" 1500
assert_file_empty "refused: nothing on stderr" "$CV_STDERR"

# --- 2. one bad address among good ones --------------------------------------------

if ! sb_knot_set partial.ok.example.test A 127.0.0.1 || ! sb_knot_set partial.ok.example.test A "$SB_ADDR_REFUSED"; then
	cv_fail "could not add partial.ok.example.test to the zone"
	cv_finish
fi
cv_config partial <<EOF
  - name: partial
    global:
      baseDomain: ok.example.test
      subdomains: { console: partial }
EOF
cv_audit partial
assert_exit 2
# The explicit record overrides the wildcard with other addresses, and the
# names no longer share one address set: both DNS warnings are true here.
assert_findings "partial tls.connect.failed critical partial.ok.example.test $SB_ADDR_REFUSED
partial dns.wildcard.mismatch warning partial.ok.example.test -
partial dns.address.inconsistent warning - -"
assert_summary critical 1 2 0
assert_jq "partial: 8 endpoints, 7 of them served and verified" \
	'[.platforms[0].endpoints[] | [.name, .address, .status, .certificate.verified]] | sort' \
	"$(jq -cn --arg r "$SB_ADDR_REFUSED" '[
		["api.ok.example.test","127.0.0.1","ok",true], ["api.ok.example.test","127.0.0.2","ok",true],
		["auth.ok.example.test","127.0.0.1","ok",true], ["auth.ok.example.test","127.0.0.2","ok",true],
		["grafana.ok.example.test","127.0.0.1","ok",true], ["grafana.ok.example.test","127.0.0.2","ok",true],
		["partial.ok.example.test","127.0.0.1","ok",true], ["partial.ok.example.test",$r,"connect-failed",null]
	] | sort')"

cv_finish
