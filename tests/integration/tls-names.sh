#!/bin/bash
#
# tls-names.sh: what a certificate covers and where it is served:
# tls.wildcard.shape (exact names instead of the wildcard: warning; the
# other separator's wildcard: critical), tls.cert.inconsistent (two
# addresses, two certificates), connect_to (audit the origin behind an edge),
# an IDN base domain in A-label form, a SAN with an embedded NUL byte, a
# certificate with 5,000 SANs, and an IPv6 endpoint ([::1]).
# Exit status follows automake: 0 pass, 1 fail, 77 skip.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cv_start tls
p=$SB_DIR/pki

leaf() { # leaf NAME SAN...
	local name=$1 s
	shift
	{
		printf 'cn = "certvigil sandbox %s"\ntls_www_server\nsigning_key\n' "$name"
		for s in "$@"; do printf 'dns_name = "%s"\n' "$s"; done
	} | sbt_cert "$name" inter -10 80
}

leaf exact api.exact.example.test console.exact.example.test grafana.exact.example.test auth.exact.example.test
# Issued for separator ".", the platform uses "-".
leaf sepdot '*.gw.sep.example.test'
leaf cdn '*.cdn.example.test'
leaf idn '*.xn--bcher-kva.example.test'
leaf v6 '*.v6.example.test'
# certtool cannot make these two: our helper encodes the SANs itself.
odd() { # odd NAME < SAN lines
	cat >"$p/$1.sans"
	sbt_key "$p/$1-key.pem"
	"$SB_HOSTILE" mkcert "$p/inter.pem" "$p/inter-key.pem" "$p/$1-key.pem" "$p/$1.pem" "$p/$1.sans"
	cat "$p/$1.pem" "$p/inter.pem" >"$p/$1-chain.pem"
}
{
	printf '*.big.example.test\n'
	for ((i = 1; i < 5000; i++)); do printf 'n%d.big.example.test\n' "$i"; done
} | odd big
# "api.nul.example.test\0.evil.test", and "*.nul.example.test\0" after it.
printf '%s\n' 'api.nul.example.test\0.evil.test' '*.nul.example.test\0' | odd nul

for b in exact sep cdn xn--bcher-kva big; do
	sb_knot_set "*.$b.example.test" A 127.0.0.1
done
sb_knot_set '*.nul.example.test' A 127.0.0.6
sb_knot_set '*.v6.example.test' AAAA ::1
sbt_serve exact 127.0.0.1 '*.exact.example.test' "$p/exact-chain.pem" "$p/exact-key.pem"
sbt_serve sep 127.0.0.1 '*.sep.example.test' "$p/sepdot-chain.pem" "$p/sepdot-key.pem"
# The edge (what DNS points at) serves someone else's certificate; the
# origin on 127.0.0.5 serves the platform's.
sbt_serve cdn-edge 127.0.0.1 '*.cdn.example.test' "$p/wrong-chain.pem" "$p/wrong-key.pem"
sbt_serve cdn-origin 127.0.0.5 '*.cdn.example.test' "$p/cdn-chain.pem" "$p/cdn-key.pem"
sbt_serve idn 127.0.0.1 '*.xn--bcher-kva.example.test' "$p/idn-chain.pem" "$p/idn-key.pem"
sbt_serve big 127.0.0.1 '*.big.example.test' "$p/big-chain.pem" "$p/big-key.pem"
sbt_nginx_restart
sbt_hostile nul 127.0.0.6 tls "$p/nul-chain.pem" "$p/nul-key.pem"
sbt_hostile v6 ::1 tls "$p/v6-chain.pem" "$p/v6-key.pem"

sbt_audit names <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    tls: { mode: provided }
  - name: exact
    global: { baseDomain: exact.example.test }
    tls: { mode: provided }
  - name: sep
    global: { baseDomain: gw.sep.example.test, subdomainSeparator: "-" }
    tls: { mode: provided }
  - name: mixed
    global: { baseDomain: mixed.example.test }
    tls: { mode: provided }
  - name: edge
    global: { baseDomain: cdn.example.test }
    tls: { mode: provided }
  - name: origin
    global: { baseDomain: cdn.example.test }
    tls: { mode: provided }
    connect_to: "127.0.0.5:$SB_TLS_PORT"
  - name: idn
    global: { baseDomain: xn--bcher-kva.example.test }
    tls: { mode: provided }
  - name: nul
    global: { baseDomain: nul.example.test }
    tls: { mode: provided }
  - name: v6
    global: { baseDomain: v6.example.test }
    tls: { mode: provided }
  - name: origin-v6
    global: { baseDomain: cdn.example.test }
    tls: { mode: provided }
    connect_to: "[::1]:$SB_TLS_PORT"
EOF

sbt_expect_rc "name faults" 2
sbt_expect ok
sbt_expect exact "tls.wildcard.shape warning"
sbt_expect_message exact tls.wildcard.shape "covers today's names but is not \\*\\.exact\\.example\\.test"
sbt_expect sep "tls.wildcard.shape critical" "tls.san.mismatch critical"
sbt_expect_message sep tls.wildcard.shape 'is \*\.gw\.sep\.example\.test, the wildcard separator "\." would need; with separator "-" the names need \*\.sep\.example\.test: reissue the certificate for \*\.sep\.example\.test, or set subdomainSeparator if it was meant to be "\."'
# One address still serves last quarter's certificate.
sbt_expect mixed "tls.cert.inconsistent warning" "tls.expiry.critical critical" "tls.renewal.overdue warning"
mixed_new=$(certtool --fingerprint --hash sha256 --infile "$p/mixed.pem" 2>/dev/null)
mixed_old=$(certtool --fingerprint --hash sha256 --infile "$p/mixed-old.pem" 2>/dev/null)
sbt_expect_message mixed tls.cert.inconsistent "serves 2 different certificates: $mixed_new .* served by 127\\.0\\.0\\.1 for api\\.mixed\\.example\\.test.*; $mixed_old .* served by 127\\.0\\.0\\.2"
sbt_expect edge "tls.san.mismatch critical"
sbt_expect origin
sbt_expect_json "origin: the JSON says what was resolved and what was connected to" \
	'[.platforms[] | select(.name == "origin") | .endpoints[] | .resolved_address == "127.0.0.1" and .connected_to == "127.0.0.5"] | all and length == 4'
sbt_expect idn
sbt_expect nul "tls.san.mismatch critical"
sbt_expect_message nul tls.san.mismatch 'api\.nul\.example\.test\\x00\.evil\.test'
sbt_expect v6
sbt_expect_json "v6: the endpoint is [::1]" \
	'[.platforms[] | select(.name == "v6") | .endpoints[] | .address == "::1" and .status == "ok"] | all and length == 4'

# The 5,000-SAN certificate alone: GnuTLS's own import of it in each
# handshake is what costs (~10 ms here, much more under sanitizers), so it
# gets a run of its own rather than slowing the other platforms' probes,
# with a timeout that a sanitizer build also meets.
names_json=$SBT_JSON
SB_CFG_TIMEOUT=10s sbt_audit big <<EOF
  - name: big
    global: { baseDomain: big.example.test }
    tls: { mode: provided }
EOF
sbt_expect_rc "5,000 SANs" 1
sbt_expect big "tls.chain.oversized warning"
sbt_expect_json "big: all 5,000 SANs observed" \
	'.platforms[] | select(.name == "big") | .endpoints[0].certificate.san | length == 5000'
SBT_JSON=$names_json

# connect_to in IPv6 form: the v6 server's certificate is not *.cdn's.
sbt_expect origin-v6 "tls.san.mismatch critical"
sbt_expect_json "origin-v6: connected to ::1" \
	'[.platforms[] | select(.name == "origin-v6") | .endpoints[] | .connected_to == "::1" and .status == "ok"] | all and length == 4'

sb_stop
cv_finish
