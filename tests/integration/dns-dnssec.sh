#!/bin/bash
#
# dns-dnssec.sh: DNSSEC as a validating resolver (the CA's) sees the
# platform, against a knotd that signs its zones itself:
#   sig.test       signed; trust anchor = its KSK: no finding (the control)
#   a wrong anchor a DNSKEY under sig.test's name that is not its key:
#                  dns.dnssec.bogus for every name, with unbound's reason
#   exp.test       signed with 1-day RRSIGs: dns.dnssec.expiring (and not
#                  with dnssec_warn_days: 0)
#   kid.par.test   signed, but par.test holds a DS for a key kid does not
#                  publish: dns.dnssec.bogus
#   le.sig.test    letsencrypt mode, _acme-challenge CNAME into kid.par.test:
#                  dns01.dnssec.bogus, the names themselves secure
#   dnssec: { enabled: false } and the default root anchor (which this
#   knotd does not serve): nothing judged, and the JSON says why.
# Exit status follows automake: 0 pass, 1 fail, 77 skip.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_require knotd knotc kdig
sb_init
d=$SB_DIR/knot
mkdir -p "$d/run" "$d/db" "$d/zones"

{
	sb_knot_conf_head "$d"
	cat <<EOF
policy:
  - id: short
    rrsig-lifetime: 1d
    rrsig-refresh: 6h
template:
  - id: default
    storage: "$d/zones"
    zonefile-sync: -1
    dnssec-signing: on
zone:
  - domain: sig.test
  - domain: exp.test
    dnssec-policy: short
  - domain: par.test
  - domain: kid.par.test
EOF
} >"$d/knot.conf"
zone() { # zone NAME < records
	{
		printf '$ORIGIN %s.\n$TTL 60\n' "$1"
		printf '@ SOA ns.%s. hostmaster.%s. 1 3600 600 86400 60\n@ NS ns\nns A 127.0.0.1\n' "$1" "$1"
		cat
	} >"$d/zones/$1.zone"
}
zone sig.test <<EOF
*.ok A 127.0.0.3
*.le A 127.0.0.3
_acme-challenge.le CNAME _acme.kid.par.test.
EOF
zone exp.test <<EOF
*.ai A 127.0.0.3
EOF
# A DS for key tag 4711, which kid.par.test does not have.
zone par.test <<EOF
kid NS ns
kid DS 4711 13 2 $(printf '%064d' 7)
EOF
zone kid.par.test <<EOF
*.ai A 127.0.0.3
_acme TXT "token"
EOF

sb__spawn knotd "$d/knotd.log" knotd -c "$d/knot.conf"
# Ready once every zone is served signed: its DNSKEY answers.
signed() {
	local z
	for z in sig.test exp.test par.test kid.par.test; do
		kdig +tcp +timeout=1 +retry=0 @127.0.0.1 -p "$SB_DNS_PORT" "$z" DNSKEY +short | grep -q ' 13 ' || return 1
	done
}
sb__wait_ready knotd 10000 "$d/knotd.log" signed || {
	cv_fail "knotd signs its zones"
	cv_finish
}
ksk() { # the KSK of zone $1, as a trust anchor line, under owner $2 (default: the zone)
	kdig +tcp @127.0.0.1 -p "$SB_DNS_PORT" "$1" DNSKEY +noall +answer |
		awk -v o="${2:-$1}." '$5 == 257 { $1 = o; print }'
}
{ ksk sig.test; ksk exp.test; ksk par.test; } >"$SB_DIR/anchors.txt"
ksk exp.test sig.test >"$SB_DIR/wrong-anchor.txt"
[[ $(wc -l <"$SB_DIR/anchors.txt") == 3 && -s $SB_DIR/wrong-anchor.txt ]] || cv_fail "read the KSKs back"

ta=$SB_DIR/anchors.txt
# No TLS is served here: any trust setting will do.
SB_CFG_TRUST=system
cv_config dnssec <<EOF
  - name: good
    global: { baseDomain: ok.sig.test }
    tls: { mode: provided }
    dnssec: { trust_anchor: $ta }
  - name: wrongta
    global: { baseDomain: ok.sig.test }
    tls: { mode: provided }
    dnssec: { trust_anchor: $SB_DIR/wrong-anchor.txt }
  - name: expiring
    global: { baseDomain: ai.exp.test }
    tls: { mode: provided }
    dnssec: { trust_anchor: $ta }
  - name: expiring-quiet
    global: { baseDomain: ai.exp.test }
    tls: { mode: provided }
    dnssec: { trust_anchor: $ta }
    dnssec_warn_days: 0
  - name: ds
    global: { baseDomain: ai.kid.par.test }
    tls: { mode: provided }
    dnssec: { trust_anchor: $ta }
  - name: le
    global: { baseDomain: le.sig.test }
    tls: { mode: letsencrypt, letsencrypt: { dns01: { dnsZone: sig.test } } }
    dnssec: { trust_anchor: $ta }
  - name: disabled
    global: { baseDomain: ai.kid.par.test }
    tls: { mode: provided }
    dnssec: { trust_anchor: $ta, enabled: false }
  - name: rootanchor
    global: { baseDomain: ai.kid.par.test }
    tls: { mode: provided }
EOF
cv_audit dnssec

# Only the DNSSEC findings: the names point nowhere, so TLS fails too.
dnssec_findings() {
	jq -r '.platforms[] | .name as $p | .findings[] | select(.id | test("dnssec")) |
		"\($p) \(.id) \(.severity) \(.name // "-")"' "$CV_JSON" | sort
}
names() { # names BASE PLATFORM ID SEVERITY
	local s
	for s in api auth console grafana; do
		printf '%s %s %s %s.%s\n' "$2" "$3" "$4" "$s" "$1"
	done
}
expected=$(
	{
		names ok.sig.test wrongta dns.dnssec.bogus critical
		printf 'expiring dns.dnssec.expiring warning -\n'
		names ai.kid.par.test ds dns.dnssec.bogus critical
		printf 'le dns01.dnssec.bogus critical -\n'
	} | sort
)
assert_eq "the DNSSEC findings" "$expected" "$(dnssec_findings)"

assert_jq "good: every answer validated" \
	'[.platforms[] | select(.name == "good") | .dns.dnssec.answers[].status] | unique' '["secure"]'
assert_jq "good: the anchor zone is served" \
	'.platforms[] | select(.name == "good") | [.dns.dnssec.anchor_zone, .dns.dnssec.anchor_served]' '["sig.test",true]'
assert_messages dns.dnssec.bogus 'does not validate under DNSSEC \(trust anchor .*\): validation failure <@NAME@\. A IN>'
assert_true "wrongta: unbound's reason names the anchor" \
	'[.platforms[] | select(.name == "wrongta") | .findings[] | select(.id == "dns.dnssec.bogus") | .message | test("for trust anchor sig\\.test")] | all'
assert_true "ds: unbound's reason names the DS" \
	'[.platforms[] | select(.name == "ds") | .findings[] | select(.id == "dns.dnssec.bogus") | .message | test("DS|key")] | all'
assert_true "expiring: the RRSIG by exp.test expires within a day" \
	'.platforms[] | select(.name == "expiring") | .findings[] | select(.id == "dns.dnssec.expiring") | .message | test("RRSIG by exp\\.test over .* \\(in (0\\.[0-9]|1\\.0) days; 4 needed answer")'
assert_jq "le: the challenge TXT is bogus, names and CAA validate" \
	'[.platforms[] | select(.name == "le") | .dns.dnssec.answers[] | "\(.for) \(.status)"] | unique' \
	'["caa secure","challenge bogus","name secure"]'
assert_true "le: the message says the CA gets SERVFAIL" \
	'.platforms[] | select(.name == "le") | .findings[] | select(.id == "dns01.dnssec.bogus") | .message | test("_acme-challenge\\.le\\.sig\\.test .*Let.s Encrypt gets SERVFAIL")'
assert_jq "disabled: nothing asked" \
	'.platforms[] | select(.name == "disabled") | [.dns.dnssec.enabled, .dns.dnssec.ran]' '[false,false]'
assert_true "rootanchor: the root's keys are not served here, so nothing is judged" \
	'.platforms[] | select(.name == "rootanchor") | .dns.dnssec.anchor_served == false and (.dns.dnssec.error | test("trust anchor.s zone .\\."))'

sb_stop
cv_finish
