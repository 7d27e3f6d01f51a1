#!/bin/bash
#
# dns-dnssec-many.sh: DNSSEC validation for many platforms at once. A knotd
# signs sig.test; 100 platforms live under it, all with its KSK as their
# trust anchor, so every one of them asks the validating resolver.
#   1. one audit of the 100 under `ulimit -n 256`: every answer secure
#      (400), no DNSSEC finding or error, and the JSON report is whole:
#      libunbound forks its worker at the first question and the worker
#      exit()s, flushing its copy of whatever a stdio stream held at the
#      fork; report parts written as platforms finish came out twice.
# Exit status follows automake: 0 pass, 1 fail, 77 skip.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_require knotd kdig
sb_init
N=100
d=$SB_DIR/knot
mkdir -p "$d/run" "$d/db" "$d/zones"
cat >"$d/knot.conf" <<EOF
server:
    rundir: "$d/run"
    listen: 127.0.0.1@$SB_DNS_PORT
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: info
database:
    storage: "$d/db"
template:
  - id: default
    storage: "$d/zones"
    zonefile-sync: -1
    dnssec-signing: on
zone:
  - domain: sig.test
EOF
{
	printf '$ORIGIN sig.test.\n$TTL 3600\n'
	printf '@ SOA ns.sig.test. hostmaster.sig.test. 1 3600 600 86400 3600\n@ NS ns\nns A 127.0.0.1\n'
	for i in $(seq "$N"); do
		printf '*.p%d A 127.0.0.3\n' "$i"
	done
} >"$d/zones/sig.test.zone"
sb__spawn knotd "$d/knotd.log" knotd -c "$d/knot.conf"
signed() { kdig +tcp +timeout=1 +retry=0 @127.0.0.1 -p "$SB_DNS_PORT" sig.test DNSKEY +short | grep -q ' 13 '; }
sb__wait_ready knotd 10000 "$d/knotd.log" signed || {
	cv_fail "knotd signs sig.test"
	cv_finish
}
ta=$SB_DIR/anchor.txt
kdig +tcp @127.0.0.1 -p "$SB_DNS_PORT" sig.test DNSKEY +noall +answer |
	awk '$5 == 257 { $1 = "sig.test."; print }' >"$ta"
[[ $(wc -l <"$ta") == 1 ]] || cv_fail "read the KSK back"

# No TLS is served here: any trust setting will do.
SB_CFG_TRUST=system
platforms() { # platforms N [LINE...]: N platforms, each with the extra lines
	local i n=$1
	shift
	for i in $(seq "$n"); do
		printf '  - name: p%d\n    global: { baseDomain: p%d.sig.test }\n    tls: { mode: provided }\n' "$i" "$i"
		printf '    dnssec: { trust_anchor: %s }\n' "$ta"
		(($# == 0)) || printf '    %s\n' "$@"
	done
}
# every_answer_secure LABEL JSON
every_answer_secure() {
	assert_ok "$1: the report is whole JSON" jq -e 'type == "object"' "$2"
	assert_eq "$1: every answer validates" "secure=$((4 * N))" \
		"$(jq -r '[.platforms[].dns.dnssec.answers[].status] | group_by(.) | map("\(.[0])=\(length)") | join(" ")' \
			"$2" 2>/dev/null)"
	assert_eq "$1: no DNSSEC finding, no DNSSEC error" "0 0" \
		"$(jq -r '"\([.platforms[].findings[] | select(.id | test("dnssec"))] | length)" +
			" \([.platforms[].dns.dnssec | select(.error)] | length)"' "$2" 2>/dev/null)"
}

# --- 1. a hundred platforms, one audit, 256 descriptors -----------------------------
cv_config many < <(platforms "$N")
CV_JSON=$SB_DIR/many.json
# shellcheck disable=SC2016 # expanded by the inner shell
cv_run many bash -c 'ulimit -n 256 && exec "$@"' - "$SB_CERTVIGIL" audit --config "$CV_CFG" --format json -o "$CV_JSON"
assert_ok "the audit runs (exit 0 or 2)" test "$CV_RC" -le 2
every_answer_secure "$N platforms in 256 descriptors" "$CV_JSON"

sb_stop
cv_finish
