#!/bin/bash
#
# tls-revoked.sh: tls.revoked from a CRL that the intermediate publishes
# over HTTP on loopback (certtool makes it, nginx serves it).  A CRL that
# cannot be fetched, or whose signature is not the issuer's, is an
# observation in the JSON, not a finding.  A CRL past its nextUpdate is not
# "good": tls.crl.stale.
# Exit status follows automake: 0 pass, 1 fail, 77 skip.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cv_start tls
p=$SB_DIR/pki
base=http://127.0.0.1:$SBT_HTTP_PORT

leaf() { # leaf NAME CRL_URL
	sbt_cert "$1" inter -10 80 <<EOF
cn = "certvigil sandbox $1"
dns_name = "*.$1.example.test"
tls_www_server
signing_key
crl_dist_points = "$2"
EOF
}
leaf revoked "$base/inter.crl"
leaf crlgood "$base/inter.crl"
leaf crlgone "$base/missing.crl"
leaf crlforged "$base/forged.crl"
leaf crlstale "$base/stale.crl"
leaf crlstaleforged "$base/stale-forged.crl"

crl() { # crl OUT CA_NAME CERT...
	local out=$1 ca=$2 c args=()
	shift 2
	printf 'crl_next_update = 7\ncrl_number = 1\n' >"$p/crl.tmpl"
	cat "$@" >"$p/$out.revoked"
	certtool --generate-crl --load-ca-certificate "$p/$ca.pem" --load-ca-privkey "$p/$ca-key.pem" \
		--load-certificate "$p/$out.revoked" --template "$p/crl.tmpl" --outder \
		--outfile "$SB_DIR/www/$out.crl" 2>>"$p/certtool.log"
}
# The intermediate's CRL lists "revoked".  forged.crl lists "crlforged" but
# is signed by another key (the self-signed sandbox certificate's).
crl inter inter "$p/revoked.pem"
crl forged self "$p/crlforged.pem"
# Issued five days ago, due to be replaced three days ago.
printf 'crl_this_update_date = "%s"\ncrl_next_update_date = "%s"\ncrl_number = 2\n' \
	"$(date -u -d '5 days ago' '+%Y-%m-%d %H:%M:%S UTC')" "$(date -u -d '3 days ago' '+%Y-%m-%d %H:%M:%S UTC')" \
	>"$p/stale.tmpl"
certtool --generate-crl --load-ca-certificate "$p/inter.pem" --load-ca-privkey "$p/inter-key.pem" \
	--template "$p/stale.tmpl" --outder --outfile "$SB_DIR/www/stale.crl" 2>>"$p/certtool.log"
# The same dates, signed by another key: stale or not, not believed.
certtool --generate-crl --load-ca-certificate "$p/self.pem" --load-ca-privkey "$p/self-key.pem" \
	--template "$p/stale.tmpl" --outder --outfile "$SB_DIR/www/stale-forged.crl" 2>>"$p/certtool.log"

for b in revoked crlgood crlgone crlforged crlstale crlstaleforged; do
	sb_knot_set "*.$b.example.test" A 127.0.0.1
	sbt_serve "$b" 127.0.0.1 "*.$b.example.test" "$p/$b-chain.pem" "$p/$b-key.pem"
done
sbt_serve_http
sbt_nginx_restart

sbt_audit revoked <<EOF
  - name: revoked
    global: { baseDomain: revoked.example.test }
    tls: { mode: provided }
  - name: crlgood
    global: { baseDomain: crlgood.example.test }
    tls: { mode: provided }
  - name: crlgone
    global: { baseDomain: crlgone.example.test }
    tls: { mode: provided }
  - name: crlforged
    global: { baseDomain: crlforged.example.test }
    tls: { mode: provided }
  - name: crlstale
    global: { baseDomain: crlstale.example.test }
    tls: { mode: provided }
  - name: crlstaleforged
    global: { baseDomain: crlstaleforged.example.test }
    tls: { mode: provided }
EOF

serial=$(sb_cert_serial "$p/revoked.pem")
sbt_expect_rc "a revoked certificate" 2
sbt_expect revoked "tls.revoked critical"
sbt_expect_message revoked tls.revoked "serial $serial, is listed in its CRL $base/inter.crl \\(revoked on [0-9-]+T"
sbt_expect crlgood
sbt_expect_json "crlgood: the CRL was fetched, verified and does not list it" \
	'.platforms[] | select(.name == "crlgood") | .endpoints[0].crl | .status == "good" and .http_status == 200'
sbt_expect crlgone
sbt_expect_json "crlgone: a 404 is an observation" \
	'.platforms[] | select(.name == "crlgone") | .endpoints[0].crl | .status == "unknown" and .http_status == 404 and (.error | test("404"))'
sbt_expect crlforged
sbt_expect_json "crlforged: a CRL signed by someone else is not believed" \
	'.platforms[] | select(.name == "crlforged") | .endpoints[0].crl | .status == "unknown" and (.detail | test("signature does not verify"))'

sbt_expect crlstale "tls.crl.stale warning"
sbt_expect_message crlstale tls.crl.stale "the CRL ${base//./\\.}/stale\\.crl of the certificate served by 127\\.0\\.0\\.1 \\(and 3 other endpoint\\(s\\)\\) is out of date: the CRL was due to be replaced on [0-9-]+T"
sbt_expect_json "crlstale: the CRL's status is stale, not good" \
	'[.platforms[] | select(.name == "crlstale") | .endpoints[].crl.status] | unique == ["stale"]'

sbt_expect crlstaleforged
sbt_expect_json "crlstaleforged: a stale CRL signed by someone else is not believed either" \
	'.platforms[] | select(.name == "crlstaleforged") | .endpoints[0].crl | .status == "unknown" and (.detail | test("signature does not verify"))'

# Each platform's four endpoints share one CRL URL: one fetch per audit at
# most, and none when the other platform's verified copy is already in the
# run's cache (which of the two happens depends on which fetch ends first).
n=$(grep -c 'GET /inter.crl ' "$SB_DIR/www-access.log" || true)
if [[ $n == 1 || $n == 2 ]]; then sbt_pass "inter.crl fetched $n time(s) for two platforms, eight endpoints"; else
	sbt_fail "inter.crl fetched $n times, expected once or twice"; fi

sb_stop
cv_finish
