#!/bin/bash
#
# tls-fetch-policy.sh: the URLs in a served certificate (AIA caIssuers, CRL
# distribution point) are the server's to choose, so certvigil does not let
# them aim it at internal addresses unless the platform's own PKI is
# internal. Served over HTTP on 127.0.0.1 (nginx; its access log shows every
# request that arrived):
#   1. trust: system (the public store): the AIA URL on loopback is refused,
#      no request reaches the server, and tls.chain.incomplete says why
#   2. the same with fetch_private: true: the request arrives (positive
#      control for 1)
#   3. a private trust bundle (the sandbox's root), the default: fetched; with
#      fetch_private: false: refused
#   4. a CRL is fetched only for a chain that verifies: the same leaf with a
#      CRL URL under trust: system (unverified) makes no request, under the
#      sandbox root (verified) it does
# Exit status follows automake: 0 pass, 1 fail, 77 skip.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cv_start tls
p=$SB_DIR/pki
base=http://127.0.0.1:$SBT_HTTP_PORT
access=$SB_DIR/www-access.log

# A leaf served without its intermediate, whose AIA URL is on loopback.
sbt_cert aia inter -10 80 <<EOF
cn = "certvigil sandbox aia"
dns_name = "*.aia.example.test"
tls_www_server
signing_key
ca_issuers_uri = "$base/inter.der"
EOF
certtool --certificate-info --infile "$p/inter.pem" --outder --outfile "$SB_DIR/www/inter.der" 2>/dev/null
# A leaf with a CRL URL on loopback, served with its chain.
sbt_cert crl inter -10 80 <<EOF
cn = "certvigil sandbox crl"
dns_name = "*.crl.example.test"
tls_www_server
signing_key
crl_dist_points = "$base/inter.crl"
EOF
printf 'crl_next_update = 7\ncrl_number = 1\n' >"$p/crl.tmpl"
certtool --generate-crl --load-ca-certificate "$p/inter.pem" --load-ca-privkey "$p/inter-key.pem" \
	--template "$p/crl.tmpl" --outder --outfile "$SB_DIR/www/inter.crl" 2>>"$p/certtool.log"

for b in aia crl; do
	sb_knot_set "*.$b.example.test" A 127.0.0.1
done
sbt_serve aia 127.0.0.1 '*.aia.example.test' "$p/aia.pem" "$p/aia-key.pem"
sbt_serve crl 127.0.0.1 '*.crl.example.test' "$p/crl-chain.pem" "$p/crl-key.pem"
sbt_serve_http
sbt_nginx_restart

# requests PATH: how many requests for PATH the HTTP server has logged.
requests() { grep -c "GET $1 " "$access" 2>/dev/null || true; }
# audited NAME: the access log is written when a request ends; nginx has
# written it once certvigil has its answer, which is before it exits.

# --- 1. the public store: refused --------------------------------------------------------
n0=$(requests /inter.der)
sbt_audit system <<EOF
  - name: aia
    global: { baseDomain: aia.example.test }
    tls: { mode: provided }
    trust: system
EOF
sbt_expect_rc "system" 2
sbt_expect_message aia tls.chain.incomplete "refused to connect to 127\\.0\\.0\\.1, a loopback address"
sbt_expect_json "system: the refusal is in the AIA observation" \
	'[.platforms[0].endpoints[].aia_ca_issuers.error // "" | test("refused to connect")] | all'
n1=$(requests /inter.der)
if [[ $n1 == "$n0" ]]; then sbt_pass "system: no request reached the server"; else sbt_fail "system: $((n1 - n0)) request(s) reached the server"; fi

# --- 2. fetch_private: true: fetched ----------------------------------------------------
sbt_audit override <<EOF
  - name: aia
    global: { baseDomain: aia.example.test }
    tls: { mode: provided }
    trust: system
    fetch_private: true
EOF
n2=$(requests /inter.der)
if ((n2 > n1)); then sbt_pass "fetch_private: true: the request arrived"; else sbt_fail "fetch_private: true: no request arrived"; fi
sbt_expect_message aia tls.chain.incomplete "AIA caIssuers URL ${base//./\\.}/inter\\.der serves 'CN=certvigil sandbox intermediate"

# --- 3. a private trust bundle: fetched by default, refused with fetch_private: false -----------
sbt_audit private <<EOF
  - name: aia
    global: { baseDomain: aia.example.test }
    tls: { mode: provided }
EOF
n3=$(requests /inter.der)
if ((n3 > n2)); then sbt_pass "private trust: the request arrived"; else sbt_fail "private trust: no request arrived"; fi
sbt_audit private-off <<EOF
  - name: aia
    global: { baseDomain: aia.example.test }
    tls: { mode: provided }
    fetch_private: false
EOF
sbt_expect_message aia tls.chain.incomplete "refused to connect to 127\\.0\\.0\\.1, a loopback address"
n4=$(requests /inter.der)
if [[ $n4 == "$n3" ]]; then sbt_pass "fetch_private: false: no request"; else sbt_fail "fetch_private: false: a request arrived"; fi

# --- 4. CRLs only for chains that verify ---------------------------------------------------
c0=$(requests /inter.crl)
sbt_audit crl-unverified <<EOF
  - name: crl
    global: { baseDomain: crl.example.test }
    tls: { mode: provided }
    trust: system
    fetch_private: true
EOF
c1=$(requests /inter.crl)
if [[ $c1 == "$c0" ]]; then sbt_pass "unverified chain: its CRL is not fetched"; else sbt_fail "unverified chain: its CRL was fetched"; fi
sbt_audit crl-verified <<EOF
  - name: crl
    global: { baseDomain: crl.example.test }
    tls: { mode: provided }
EOF
sbt_expect_rc "crl-verified" 0
c2=$(requests /inter.crl)
if ((c2 > c1)); then sbt_pass "verified chain: its CRL is fetched (positive control)"; else sbt_fail "verified chain: no CRL request"; fi

cv_finish
