#!/bin/bash
#
# dns-names.sh: the dns.wildcard.*, dns.address.* and dns.resolvers.*
# findings, each from a platform whose records are wrong in that one way.
# Exit status: automake's.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_require
# The second server's gw.test says the same serial but another address for
# one name: a split view that only asking each source shows.
SBD_GW_EXTRA_B='api.lag A 127.0.0.2'
cv_start dns
dn_config <<YAML
  - name: nowild
    global: { baseDomain: nowild.gw.test }
    tls: { mode: provided }
  - name: gone
    global: { baseDomain: gone.gw.test }
    tls: { mode: provided }
  - name: stale
    global: { baseDomain: stale.gw.test }
    expect_addresses: [127.0.0.1, 127.0.0.2]
    tls: { mode: provided }
  - name: unexpected
    global: { baseDomain: ai.gw.test }
    expect_addresses: [127.0.0.1]
    tls: { mode: provided }
  - name: moved
    global: { baseDomain: ai.gw.test }
    expect_addresses: [192.0.2.10]
    tls: { mode: provided }
  - name: split
    global: { baseDomain: tsplit.gw.test }
    ingress: { tunnel: { enabled: true } }
    tls: { mode: provided }
  - name: lag
    global: { baseDomain: lag.gw.test }
    resolvers: ["127.0.0.1:$SB_DNS_PORT", "127.0.0.2:$SB_DNS_PORT"]
    tls: { mode: provided }
YAML

# dns.wildcard.missing, warning: the names have records, the wildcard not.
dn_audit nowild
dn_expect_rc 1
dn_expect_findings "dns.wildcard.missing warning *.nowild.gw.test -"
dn_expect_message dns.wildcard.missing "create *.nowild.gw.test A"
dn_expect_message dns.wildcard.missing "NXDOMAIN"

# dns.wildcard.missing, critical: nothing resolves; the missing record is why
# each name does not resolve, so their findings are folded under it (issue 12).
dn_audit gone
dn_expect_rc 2
dn_expect_findings "dns.wildcard.missing critical *.gone.gw.test -" \
	"dns.resolve.failed critical api.gone.gw.test - <-dns.wildcard.missing" \
	"dns.resolve.failed critical console.gone.gw.test - <-dns.wildcard.missing" \
	"dns.resolve.failed critical grafana.gone.gw.test - <-dns.wildcard.missing" \
	"dns.resolve.failed critical auth.gone.gw.test - <-dns.wildcard.missing"
dn_expect_jq "gone: only the missing wildcard counts" '[.findings[] | select(.caused_by == null)] | length == 1'

# dns.wildcard.mismatch: console.stale has its own record, elsewhere.
dn_audit stale
dn_expect_rc 1
dn_expect_findings "dns.wildcard.mismatch warning console.stale.gw.test -"
dn_expect_message dns.wildcard.mismatch "console.stale.gw.test resolves to 127.0.0.2 but the wildcard *.stale.gw.test gives 127.0.0.1"

# The same names within expect_addresses: nothing.
dn_audit unexpected
dn_expect_rc 0
dn_expect_findings

# dns.address.unexpected: every name points outside expect_addresses.
dn_audit moved
dn_expect_rc 2
# One address outside expect_addresses is one problem, whatever the names
# pointing there (issue 12): the message lists them.
dn_expect_findings "dns.address.unexpected critical api.ai.gw.test 127.0.0.1"
dn_expect_message dns.address.unexpected "not in expect_addresses (192.0.2.10)"
dn_expect_message dns.address.unexpected "api.ai.gw.test, console.ai.gw.test and 2 more resolves to 127.0.0.1"
dn_expect_jq "dns.address.unexpected affects the four names" \
	'[.findings[0].affected[] | "\(.name) \(.address)"] == ["api.ai.gw.test 127.0.0.1", "console.ai.gw.test 127.0.0.1", "grafana.ai.gw.test 127.0.0.1", "auth.ai.gw.test 127.0.0.1"]'

# dns.address.inconsistent: grafana points elsewhere (tunnel: no wildcard check).
dn_audit split
dn_expect_rc 1
dn_expect_findings "dns.address.inconsistent warning - -"
dn_expect_message dns.address.inconsistent "grafana.tsplit.gw.test -> 127.0.0.2"

# dns.resolvers.disagree: the second resolver and server say 127.0.0.2.
dn_audit lag
dn_expect_rc 1
dn_expect_findings "dns.resolvers.disagree warning api.lag.gw.test -"
dn_expect_message dns.resolvers.disagree "resolver 127.0.0.1:$SB_DNS_PORT says 127.0.0.1"
dn_expect_message dns.resolvers.disagree "resolver 127.0.0.2:$SB_DNS_PORT says 127.0.0.2"
dn_expect_message dns.resolvers.disagree "authoritative bob.ns.cloudflare.com (127.0.0.2) says 127.0.0.2"

cv_finish
