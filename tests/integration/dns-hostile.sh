#!/bin/bash
#
# dns-hostile.sh: broken DNS answers (tests/tools/dnshostile on 127.0.0.5)
# never crash or hang the audit; each ends in a finding or an observation
# that says what went wrong.  Exit status: automake's.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

HOSTILE=$SB_BUILDDIR/tests/tools/dnshostile
HADDR=127.0.0.5
cv_require
[[ -x $HOSTILE ]] || {
	printf '%s is not built\n' "$HOSTILE"
	exit 1
}
sb_init
HPORT=$(sb__pick_port "$SB_DNS_PORT")
sb__spawn dnshostile "$SB_DIR/dnshostile.log" "$HOSTILE" "$HADDR" "$HPORT"
if ! sb__wait_ready dnshostile 5000 "$SB_DIR/dnshostile.log" sb__listening dnshostile "$HPORT" "$HADDR"; then
	printf 'dnshostile did not start\n'
	exit 1
fi

KEYWORDS=(servfail refused tc tconly loop chain wrongid wrongname big bigtcp garbage short silent)
platform() {
	# platform NAME BASE MODE
	printf '  - name: %s\n    global: { baseDomain: %s }\n' "$1" "$2"
	printf '    resolvers: ["%s:%s"]\n    dns_port: %s\n' "$HADDR" "$HPORT" "$HPORT"
	printf '    tls: %s\n' "$3"
}
SB_CFG_TRUST=system SB_CFG_TIMEOUT=1s SB_CFG_DEADLINE=20s dn_config < <(
	for k in "${KEYWORDS[@]}"; do
		platform "$k" "$k.h.test" '{ mode: provided }'
	done
	platform le-servfail servfail.h.test '{ letsencrypt: { dns01: { provider: cloudflare, dnsZone: h.test } } }'
	platform deadline silent.h.test '{ mode: provided }'
	printf '    timeout: 10s\n    deadline: 1s\n'
)

failed4() {
	# failed4 BASE: dns.resolve.failed for each of the four names
	local s
	for s in api console grafana auth; do
		printf 'dns.resolve.failed critical %s.%s -\n' "$s" "$1"
	done
}
connect1() {
	# connect1 BASE: one tls.connect.failed for the address its four names
	# share (one problem, issue 12)
	printf 'tls.connect.failed critical api.%s 127.0.0.3\n' "$1"
}

# RCODEs come through as themselves, not as "could not contact".
for k in servfail refused; do
	dn_audit "$k"
	dn_expect_rc 2
	mapfile -t want < <(failed4 "$k.h.test")
	dn_expect_findings "${want[@]}"
	dn_expect_message dns.resolve.failed "${k^^}"
	((DN_MS < 5000)) && dn_pass "$k: done in $DN_MS ms" || dn_fail "$k: took $DN_MS ms"
done

# Truncated over UDP: c-ares asks again over TCP and gets the answer.
dn_audit tc
dn_expect_rc 2
mapfile -t want < <(connect1 tc.h.test)
dn_expect_findings "${want[@]}"
dn_expect_jq "tc: the address's finding affects its four names" '[.findings[0].affected[].name] | length == 4'
dn_expect_jq "the names resolved over TCP" '[.names[] | .addresses == ["127.0.0.3"]] | all'
# ... and a server that truncates but has no working TCP.
dn_audit tconly
dn_expect_rc 2
mapfile -t want < <(failed4 tconly.h.test)
dn_expect_findings "${want[@]}"

# CNAME loop, CNAME chain of 10.
dn_audit loop
dn_expect_rc 2
mapfile -t want < <(failed4 loop.h.test)
dn_expect_findings "${want[@]}"
dn_expect_message dns.resolve.failed "CNAME loop in the answer: api.loop.h.test -> x.api.loop.h.test -> api.loop.h.test"
dn_audit chain
dn_expect_rc 2
mapfile -t want < <(failed4 chain.h.test)
dn_expect_findings "${want[@]}"
dn_expect_message dns.resolve.failed "CNAME chain longer than 8 links"

# Wrong ID, wrong question, garbage, a 5-byte answer, silence: c-ares drops
# answers that do not match the question (RFC 5452 section 9.1), so all of
# these end as a timeout after `timeout`, never a hang.
for k in wrongid wrongname garbage short silent; do
	dn_audit "$k"
	dn_expect_rc 2
	mapfile -t want < <(failed4 "$k.h.test")
	dn_expect_findings "${want[@]}"
	dn_expect_message dns.resolve.failed "timeout"
	((DN_MS < 5000)) && dn_pass "$k: done in $DN_MS ms" || dn_fail "$k: took $DN_MS ms"
done

# Oversize answers (300 records over UDP, 1500 over TCP): kept to 64.
for k in big bigtcp; do
	dn_audit "$k"
	dn_expect_rc 2
	dn_expect_jq "64 addresses kept per name" '[.names[] | .addresses | length] == [64, 64, 64, 64]'
	dn_expect_jq "only connection failures (nothing listens on 127.1.x.y)" \
		'[.findings[] | .id] | unique == ["tls.connect.failed"]'
	dn_expect_jq "the wildcard probe saw the same 64" '.dns.wildcard_probe.addresses | length == 64'
done

# In letsencrypt mode the DNS facts gatherer meets the same SERVFAILs: the
# CAA policy cannot be read (Let's Encrypt would refuse), dnsZone has no SOA.
dn_audit le-servfail
dn_expect_rc 2
mapfile -t want < <(failed4 servfail.h.test)
dn_expect_findings "${want[@]}" "caa.forbids-issuer critical - -" "dns01.zone.missing critical h.test -"
dn_expect_message caa.forbids-issuer "SERVFAIL"
dn_expect_jq "the CNAME question's SERVFAIL is recorded" '.dns.challenge.cname_status == "SERVFAIL"'

# A silent server and a 1 s deadline with a 10 s timeout: the deadline ends it.
dn_audit deadline
dn_expect_rc 2
# What the deadline cut short is one finding; each name's own is folded
# under it (issue 12).
mapfile -t want < <(failed4 silent.h.test | sed 's/$/ <-audit.deadline.reached/')
dn_expect_findings "${want[@]}" "audit.deadline.reached critical api.silent.h.test -"
dn_expect_message audit.deadline.reached "was reached before 4 of 4 name(s) were resolved"
dn_expect_message dns.resolve.failed "the audit deadline (1s) was reached first"
dn_expect_jq "the DNS facts say they were cut short" '.dns.error == "cut short by the audit deadline"'
((DN_MS < 4000)) && dn_pass "deadline: done in $DN_MS ms" || dn_fail "deadline: took $DN_MS ms"

cv_finish
