#!/bin/bash
#
# tls-crl-large.sh: a large CRL (150,000 entries, about 5 MB, made by tests/tools/mkcrl)
# named by a leaf served on ten endpoints (five names on 127.0.0.1 and
# 127.0.0.2): it is fetched once, parsed once and judged for every endpoint
# well within the audit's deadline. Before, it was parsed again for each
# endpoint, walking its entries by index (quadratic), after the deadline's
# timer was off: seconds per endpoint.
# Exit status follows automake: 0 pass, 1 fail, 77 skip.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
MKCRL=$SB_BUILDDIR/tests/tools/mkcrl
[[ -x $MKCRL ]] || { echo "SKIP: $MKCRL not built"; exit 77; }
cv_start tls
p=$SB_DIR/pki
base=http://127.0.0.1:$SBT_HTTP_PORT

sbt_cert crlbig inter -10 80 <<EOF
cn = "certvigil sandbox crlbig"
dns_name = "*.crlbig.example.test"
tls_www_server
signing_key
crl_dist_points = "$base/big.crl"
EOF
# A sanitizer build parses several times slower: a smaller CRL keeps the
# test about the same thing (once per audit, within the deadline) there.
entries=150000
if [[ $(ldd "$SB_CERTVIGIL" 2>/dev/null) == *libasan* ]]; then entries=40000; fi
"$MKCRL" "$p/inter.pem" "$p/inter-key.pem" "$entries" "$SB_DIR/www/big.crl"
size=$(stat -c %s "$SB_DIR/www/big.crl")
sb_knot_set "*.crlbig.example.test" A 127.0.0.1
sb_knot_set "*.crlbig.example.test" A 127.0.0.2
sbt_serve crlbig "127.0.0.1 127.0.0.2" '*.crlbig.example.test' "$p/crlbig-chain.pem" "$p/crlbig-key.pem"
sbt_serve_http
sbt_nginx_restart

sbt_audit big --deadline 5s <<EOF
  - name: crlbig
    global: { baseDomain: crlbig.example.test }
    tls: { mode: provided }
    mcp: { enabled: true }
EOF
sbt_expect_rc "big CRL" 0
sbt_expect crlbig
sbt_expect_json "big CRL ($size bytes): ten endpoints, each judged good" \
	'[.platforms[0].endpoints[] | .crl.status] | length == 10 and (unique == ["good"])'
if ((SBT_MS < 7000)); then sbt_pass "big CRL: the audit took $SBT_MS ms (deadline 5 s, bound 7 s)"; else
	sbt_fail "big CRL: the audit took $SBT_MS ms (deadline 5 s)"; fi
n=$(grep -c 'GET /big.crl ' "$SB_DIR/www-access.log" || true)
if [[ $n == 1 ]]; then sbt_pass "big CRL: fetched once"; else sbt_fail "big CRL: fetched $n times"; fi

cv_finish
