#!/bin/bash
#
# dns-healthy.sh: platforms whose DNS is right get no DNS finding: separator
# ".", separator "-", Cloudflare Tunnel, a challenge delegated by CNAME into
# dnsZone, two resolvers that agree, and a provided-mode platform whose CAA
# policy is only shown in the JSON.  Exit status: automake's.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start dns
dn_config <<YAML
  - name: dot
    global: { baseDomain: ai.gw.test }
    tls: { letsencrypt: { dns01: { provider: cloudflare, dnsZone: gw.test } } }
  - name: dash
    global: { baseDomain: ai.dash.gw.test, subdomainSeparator: "-" }
    tls: { letsencrypt: { dns01: { provider: cloudflare, dnsZone: gw.test } } }
  - name: tunnel
    global: { baseDomain: tun.gw.test }
    ingress: { tunnel: { enabled: true } }
    tls: { letsencrypt: { dns01: { provider: cloudflare, dnsZone: gw.test } } }
  - name: cname-delegation
    global: { baseDomain: gw.cn.test, subdomainSeparator: "-" }
    tls: { letsencrypt: { dns01: { provider: cloudflare, dnsZone: gw.cn.test } } }
  - name: provided-caa
    global: { baseDomain: caa.gw.test }
    tls: { mode: provided }
  - name: two-resolvers
    global: { baseDomain: ai.gw.test }
    resolvers: ["127.0.0.1:$SB_DNS_PORT", "127.0.0.2:$SB_DNS_PORT"]
    expect_addresses: [127.0.0.1]
    tls: { letsencrypt: { dns01: { provider: cloudflare, dnsZone: gw.test } } }
YAML

dn_audit dot
dn_expect_rc 0
dn_expect_findings
dn_expect_jq "the wildcard probe resolved to 127.0.0.1" \
	'.dns.wildcard_probe.status == "ok" and .dns.wildcard_probe.addresses == ["127.0.0.1"]'
dn_expect_jq "the challenge zone is gw.test with both servers at serial 1" \
	'.dns.challenge.zone.zone == "gw.test" and
	 ([.dns.challenge.zone.servers[] | "\(.ns) \(.address) \(.serial) \(.authoritative)"] ==
	  ["ada.ns.cloudflare.com 127.0.0.1 1 true", "bob.ns.cloudflare.com 127.0.0.2 1 true"])'
dn_expect_jq "every name was asked of the resolver and of both authoritative servers" \
	'[.dns.names[] | .answers | length] == [3, 3, 3, 3]'
dn_expect_jq "no CAA record anywhere permits Let's Encrypt" \
	'.dns.caa.found_at == null and .dns.caa.letsencrypt_wildcard_permitted == true'

dn_audit dash
dn_expect_rc 0
dn_expect_findings
dn_expect_jq "the challenge name sits beside the names, under the wildcard's base" \
	'.challenge_name == "_acme-challenge.dash.gw.test" and .dns.challenge.zone.zone == "gw.test"'

dn_audit tunnel
dn_expect_rc 0
dn_expect_findings
dn_expect_jq "the wildcard probe found no wildcard (and the tunnel makes that fine)" \
	'.dns.wildcard_probe.status == "NXDOMAIN"'

# Separator "-" puts the challenge at _acme-challenge.cn.test, outside the
# token's zone gw.cn.test, but a CNAME leads it there: fine.
dn_audit cname-delegation
dn_expect_rc 0
dn_expect_findings
dn_expect_jq "the CNAME leads into gw.cn.test" \
	'.dns.challenge.cname_chain == ["_acme-challenge.gw.cn.test"] and .dns.challenge.zone.zone == "gw.cn.test"'

dn_audit provided-caa
dn_expect_rc 0
dn_expect_findings
dn_expect_jq "the CAA policy is shown: found at caa.gw.test, Let's Encrypt wildcards not permitted" \
	'.dns.caa.found_at == "caa.gw.test" and .dns.caa.letsencrypt_wildcard_permitted == false and
	 ([.dns.caa.records[] | "\(.flags) \(.tag) \(.value)"] | sort ==
	  ["0 issue letsencrypt.org", "0 issuewild pki.example.net"])'
dn_expect_jq "no DNS-01 facts are gathered outside letsencrypt mode" '.dns.challenge == null'

dn_audit two-resolvers
dn_expect_rc 0
dn_expect_findings
dn_expect_jq "each name was asked of both resolvers and both servers" \
	'[.dns.names[] | .answers | length] == [4, 4, 4, 4]'

cv_finish
