#!/bin/bash
#
# audit-dns-failed.sh: dns.resolve.failed, one critical finding per name that
# does not resolve, about the name only (no address), with the reason.
#   1. gone.example.test: all four names are NXDOMAIN; nothing is probed; the
#      missing wildcard record is why, so their findings are folded under
#      dns.wildcard.missing (issue 12)
#   2. a name that exists with a TXT record only (custom label api: txtonly,
#      so txtonly.ok.example.test no longer falls under *.ok): "no A or AAAA",
#      while the platform's other names are audited and healthy
# (Resolver errors and timeouts: audit-dns-errors.sh.)

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# shellcheck disable=SC2119 # no argument needed
cv_start sandbox

# --- 1. NXDOMAIN ---------------------------------------------------------------

cv_config gone <<EOF
  - name: gone
    global: { baseDomain: gone.example.test }
EOF
cv_audit gone
assert_exit 2
# Nothing resolves, not even a random name under the base: the wildcard
# record is missing too (critical, since the expected names fail), which is
# the one problem: the names' findings are folded under it.
assert_findings "$(cv_expect gone dns.resolve.failed critical "$(cv_names gone.example.test)" - |
	sed 's/$/ <-dns.wildcard.missing/')
gone dns.wildcard.missing critical *.gone.example.test -"
assert_summary critical 1 0 0
assert_jq "gone: no finding has an address field" '[.platforms[].findings[] | has("address")] | unique' '[false]'
assert_messages dns.resolve.failed \
	"^@NAME@ \\((api|console|grafana|auth)\\) does not resolve: NXDOMAIN.*\\(asked 127\\.0\\.0\\.1:$SB_DNS_PORT\\)$"
assert_jq "gone: every name has status NXDOMAIN and no address" \
	'[.platforms[0].names[] | [.status, .addresses]] | unique' '[["NXDOMAIN",[]]]'
assert_jq "gone: nothing was probed" '.platforms[0].endpoints' '[]'
assert_file_empty "gone: nothing on stderr" "$CV_STDERR"

# --- 2. a name with no A or AAAA record -------------------------------------------

if ! sb_knot_set txtonly.ok.example.test TXT '"no address here"'; then
	cv_fail "could not add the TXT-only name to the zone"
	cv_finish
fi
cv_config txtonly <<EOF
  - name: txtonly
    global:
      baseDomain: ok.example.test
      subdomains: { api: txtonly }
EOF
cv_audit txtonly
assert_exit 2
assert_findings "txtonly dns.resolve.failed critical txtonly.ok.example.test -"
assert_summary critical 1 0 0
assert_messages dns.resolve.failed \
	"^@NAME@ \\(api\\) does not resolve: .*no A or AAAA record.*\\(asked 127\\.0\\.0\\.1:$SB_DNS_PORT\\)$"
assert_jq "txtonly: the api name has no address, the others resolve" \
	'[.platforms[0].names[] | [.service, .name, (.status != "ok"), (.addresses | sort)]]' \
	'[["api","txtonly.ok.example.test",true,[]],["console","console.ok.example.test",false,["127.0.0.1","127.0.0.2"]],["grafana","grafana.ok.example.test",false,["127.0.0.1","127.0.0.2"]],["auth","auth.ok.example.test",false,["127.0.0.1","127.0.0.2"]]]'
assert_jq "txtonly: the other three names are probed on both addresses, all verified" \
	'[.platforms[0].endpoints[] | [.status, .certificate.verified]] | [length, unique]' '[6,[["ok",true]]]'

cv_finish
