#!/bin/bash
#
# dns01-zones.sh: the dns01.* and caa.* findings, each from a Let's
# Encrypt platform whose DNS is wrong in that one way, on the sandbox's
# DNS world (tests/sandbox/dns.sh).  Exit status: automake's.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start dns
le() {
	# le PROVIDER ZONE: a tls: block for letsencrypt mode
	printf '{ mode: letsencrypt, letsencrypt: { dns01: { provider: %s, dnsZone: %s } } }' "$1" "$2"
}
dn_config <<YAML
  - name: zone-missing
    global: { baseDomain: ai.gw.test }
    tls: $(le cloudflare ai.gw.test)
  - name: zone-outside
    global: { baseDomain: gw.out.test, subdomainSeparator: "-" }
    tls: $(le cloudflare gw.out.test)
  - name: zone-cut
    global: { baseDomain: ai.sub.gw.test }
    tls: { letsencrypt: { dns01: { dnsZone: gw.test } } }
  - name: cname-dangling
    global: { baseDomain: dang.gw.test }
    tls: $(le cloudflare gw.test)
  - name: cname-loop
    global: { baseDomain: loop.gw.test }
    tls: $(le cloudflare gw.test)
  - name: cname-long
    global: { baseDomain: long.gw.test }
    tls: $(le cloudflare gw.test)
  - name: ns-serial
    global: { baseDomain: ai.sec.test }
    tls: $(le cloudflare sec.test)
  - name: ns-lame
    global: { baseDomain: ai.lame.test }
    tls: $(le cloudflare lame.test)
  - name: stale-info
    global: { baseDomain: txt1.gw.test }
    tls: $(le cloudflare gw.test)
  - name: stale-warning
    global: { baseDomain: txt6.gw.test }
    tls: $(le cloudflare gw.test)
  - name: provider
    global: { baseDomain: ai.gw.test }
    tls: $(le route53 gw.test)
  - name: provider-unknown
    global: { baseDomain: ai.gw.test }
    tls: $(le some-dns-host gw.test)
  - name: caa
    global: { baseDomain: caa.gw.test }
    tls: $(le cloudflare gw.test)
YAML

# dns01.zone.missing: ai.gw.test has no SOA; the names live in gw.test.
dn_audit zone-missing
dn_expect_rc 2
dn_expect_findings "dns01.zone.missing critical ai.gw.test -"
dn_expect_message dns01.zone.missing "the name lies in zone gw.test"

# dns01.zone.outside: separator "-" puts the challenge at
# _acme-challenge.out.test, outside the zone gw.out.test the token manages.
dn_audit zone-outside
dn_expect_rc 2
dn_expect_findings "dns01.zone.outside critical _acme-challenge.out.test -"
dn_expect_message dns01.zone.outside "not in dns01.dnsZone gw.out.test"
dn_expect_jq "the challenge's zone is out.test" '.dns.challenge.zone.zone == "out.test"'

# dns01.zone.cut: sub.gw.test is delegated (to the second knotd).
dn_audit zone-cut
dn_expect_rc 2
dn_expect_findings "dns01.zone.cut critical _acme-challenge.ai.sub.gw.test -"
dn_expect_message dns01.zone.cut "sub.gw.test is a delegated zone of its own"
dn_expect_jq "the child zone's server is the second knotd, asked directly" \
	'.dns.challenge.zone.zone == "sub.gw.test" and
	 [.dns.challenge.zone.servers[] | "\(.ns) \(.address) \(.serial)"] == ["ns.sub.gw.test 127.0.0.2 1"]'

# dns01.cname.dangling: a CNAME into a domain that does not exist.
dn_audit cname-dangling
dn_expect_rc 2
dn_expect_findings "dns01.cname.dangling critical _acme-challenge.dang.gw.test -"
dn_expect_message dns01.cname.dangling "no zone exists for _acme-challenge.gone-acme.test"

# ... a CNAME loop, and a chain of 9 links: never followed to the end.
dn_audit cname-loop
dn_expect_rc 2
dn_expect_findings "dns01.cname.dangling critical _acme-challenge.loop.gw.test -"
dn_expect_message dns01.cname.dangling "CNAME loop: _acme-challenge.loop.gw.test -> a.loop.gw.test -> _acme-challenge.loop.gw.test"
dn_audit cname-long
dn_expect_rc 2
dn_expect_findings "dns01.cname.dangling critical _acme-challenge.long.gw.test -"
dn_expect_message dns01.cname.dangling "CNAME chain longer than 8 links"

# dns01.nameservers.inconsistent: serial 1 on one server, 2 on the other ...
dn_audit ns-serial
dn_expect_rc 1
dn_expect_findings "dns01.nameservers.inconsistent warning sec.test -"
dn_expect_message dns01.nameservers.inconsistent "ada.ns.cloudflare.com (127.0.0.1) serial 1, bob.ns.cloudflare.com (127.0.0.2) serial 2"
# ... and a server named in NS that does not serve the zone (REFUSED).
dn_audit ns-lame
dn_expect_rc 1
dn_expect_findings "dns01.nameservers.inconsistent warning bob.ns.cloudflare.com 127.0.0.2"
dn_expect_message dns01.nameservers.inconsistent "answered REFUSED"

# dns01.challenge.stale: 2 leftovers (info), 6 leftovers (warning).
dn_audit stale-info
dn_expect_rc 0
dn_expect_findings "dns01.challenge.stale info _acme-challenge.txt1.gw.test -"
dn_expect_message dns01.challenge.stale "2 records"
dn_audit stale-warning
dn_expect_rc 1
dn_expect_findings "dns01.challenge.stale warning _acme-challenge.txt6.gw.test -"
dn_expect_message dns01.challenge.stale "6 records"

# dns01.provider.mismatch: route53 token, Cloudflare name servers.
dn_audit provider
dn_expect_rc 1
dn_expect_findings "dns01.provider.mismatch warning gw.test -"
dn_expect_message dns01.provider.mismatch "served by ada.ns.cloudflare.com, bob.ns.cloudflare.com, not by route53"
# A provider the table does not know is not judged.
dn_audit provider-unknown
dn_expect_rc 0
dn_expect_findings
# Without the table (a data directory that lacks it) the check says which
# file it tried, instead of a bare "No such file or directory".
mkdir -p "$SB_DIR/data-without-providers"
cp "$SB_SRCDIR/contrib/data/ingress-default-certs.txt" "$SB_DIR/data-without-providers/"
CERTVIGIL_DATA_DIR=$SB_DIR/data-without-providers dn_audit provider
dn_expect_rc 1
dn_expect_findings "check.error warning - -"
dn_expect_message check.error "check dns01.provider could not run: $SB_DIR/data-without-providers/dns-providers.txt: cannot read: No such file or directory"

# caa.forbids-issuer: issue permits letsencrypt.org, but issuewild (which
# governs wildcards, RFC 8659 4.3) names another CA.
dn_audit caa
dn_expect_rc 2
dn_expect_findings "caa.forbids-issuer critical caa.gw.test -"
dn_expect_message caa.forbids-issuer "no issuewild property names letsencrypt.org"
dn_expect_message caa.forbids-issuer 'caa.gw.test. CAA 0 issuewild "letsencrypt.org"'

cv_finish
