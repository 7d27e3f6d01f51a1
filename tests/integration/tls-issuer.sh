#!/bin/bash
#
# tls-issuer.sh: who issued the certificate, against tls.mode and the values:
# tls.issuer.staging (a "(STAGING)" hierarchy while letsencrypt-prod is
# selected), tls.issuer.staging-configured (the values still select
# letsencrypt-staging), tls.issuer.mode-mismatch (letsencrypt mode with
# another CA under the system trust store; provided mode with expect_issuer not matched; selfsigned mode
# not chaining to `trust`), and tls.cert.ingress-default (ingress-nginx's
# and Traefik's placeholder certificates, from contrib/data).
# Exit status follows automake: 0 pass, 1 fail, 77 skip.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cv_start tls
p=$SB_DIR/pki

ca() { # ca NAME ISSUER CN O
	sbt_cert "$1" "$2" -30 1000 <<EOF
cn = "$3"
organization = "$4"
ca
cert_signing_key
crl_signing_key
EOF
}
leaf() { # leaf NAME ISSUER SAN [CN [O]]
	sbt_cert "$1" "$2" -10 80 <<EOF
cn = "${4:-certvigil sandbox $1}"
organization = "${5:-certvigil test}"
dns_name = "$3"
tls_www_server
signing_key
EOF
}

# Look-alikes of Let's Encrypt's production and staging hierarchies.
ca le-root self "ISRG Root X1 (test)" "Internet Security Research Group"
ca le-inter le-root "R3" "Let's Encrypt"
ca st-root self "(STAGING) Pretend Pear X1" "(STAGING) Internet Security Research Group"
ca st-inter st-root "(STAGING) Ersatz Edamame E1" "(STAGING) Let's Encrypt"
leaf le le-inter '*.le.example.test'
leaf st st-inter '*.st.example.test'
# Placeholders, self-signed with the names the controllers give them.
leaf ingress-nginx self 'ingress.local' "Kubernetes Ingress Controller Fake Certificate" "Acme Co"
leaf traefik self '1a2b3c4d5e6f.traefik.default' "TRAEFIK DEFAULT CERT" "certvigil test"
cat "$p/root.pem" "$p/le-root.pem" "$p/st-root.pem" >"$p/trust-all.pem"

for b in le st ingn traefik; do sb_knot_set "*.$b.example.test" A 127.0.0.1; done
sbt_serve le 127.0.0.1 '*.le.example.test' "$p/le-chain.pem" "$p/le-key.pem"
sbt_serve st 127.0.0.1 '*.st.example.test' "$p/st-chain.pem" "$p/st-key.pem"
sbt_serve ingn 127.0.0.1 '*.ingn.example.test' "$p/ingress-nginx.pem" "$p/ingress-nginx-key.pem"
sbt_serve traefik 127.0.0.1 '*.traefik.example.test' "$p/traefik.pem" "$p/traefik-key.pem"
sbt_nginx_restart

SB_CFG_TRUST=$p/trust-all.pem sbt_audit issuer <<EOF
  - name: le
    global: { baseDomain: le.example.test }
    tls: { mode: letsencrypt, letsencrypt: { issuer: letsencrypt-prod } }
  - name: staging-served
    global: { baseDomain: st.example.test }
    tls: { mode: letsencrypt, letsencrypt: { issuer: letsencrypt-prod } }
  - name: staging-selected
    global: { baseDomain: st.example.test }
    tls: { mode: letsencrypt, letsencrypt: { issuer: letsencrypt-staging } }
  - name: le-mode-other-ca
    global: { baseDomain: ok.example.test }
    tls: { mode: letsencrypt }
    trust: system
  - name: le-mode-private-trust
    global: { baseDomain: ok.example.test }
    tls: { mode: letsencrypt }
  - name: le-mode-expect
    global: { baseDomain: ok.example.test }
    tls: { mode: letsencrypt }
    expect_issuer: "CN=certvigil sandbox intermediate"
  - name: provided-expect-ok
    global: { baseDomain: ok.example.test }
    tls: { mode: provided }
    expect_issuer: "O=certvigil test"
  - name: provided-expect-wrong
    global: { baseDomain: ok.example.test }
    tls: { mode: provided }
    expect_issuer: "O=Example Corp"
  - name: selfsigned-untrusted
    global: { baseDomain: self.example.test }
    tls: { mode: selfsigned }
  - name: selfsigned-trusted
    global: { baseDomain: self.example.test }
    tls: { mode: selfsigned }
    trust: $p/other-root.pem
  - name: ingress-nginx
    global: { baseDomain: ingn.example.test }
    tls: { mode: provided, wildcardSecretName: gw-wildcard-tls }
  - name: traefik
    global: { baseDomain: traefik.example.test }
    tls: { mode: provided }
EOF

sbt_expect_rc "issuer faults" 2
sbt_expect le
sbt_expect staging-served "tls.issuer.staging critical"
sbt_expect_message staging-served tls.issuer.staging "issued by 'CN=\\(STAGING\\) Ersatz Edamame E1"
sbt_expect staging-selected "tls.issuer.staging-configured info"
# With the system store as trust, letsencrypt mode wants Let's Encrypt (the
# sandbox root is unknown there too); a private bundle names the CA.
sbt_expect le-mode-other-ca "tls.issuer.mode-mismatch critical" "tls.chain.untrusted critical"
sbt_expect le-mode-private-trust
sbt_expect_message le-mode-other-ca tls.issuer.mode-mismatch "tls.mode is letsencrypt but .* not by Let's Encrypt"
sbt_expect le-mode-expect
sbt_expect provided-expect-ok
sbt_expect provided-expect-wrong "tls.issuer.mode-mismatch critical"
sbt_expect selfsigned-untrusted "tls.issuer.mode-mismatch critical" "tls.chain.untrusted critical"
sbt_expect selfsigned-trusted
# The placeholders are also self-signed, so untrusted too.
sbt_expect ingress-nginx "tls.cert.ingress-default critical" "tls.chain.untrusted critical" "tls.san.mismatch critical"
sbt_expect_message ingress-nginx tls.cert.ingress-default "Kubernetes Ingress Controller Fake Certificate.*gw-wildcard-tls"
sbt_expect traefik "tls.cert.ingress-default critical" "tls.chain.untrusted critical" "tls.san.mismatch critical"

# staging-configured alone is only info: exit 0.
SB_CFG_TRUST=$p/trust-all.pem sbt_audit info-only <<EOF
  - name: staging-selected
    global: { baseDomain: st.example.test }
    tls: { mode: letsencrypt, letsencrypt: { issuer: letsencrypt-staging } }
EOF
sbt_expect_rc "info only" 0
sbt_expect staging-selected "tls.issuer.staging-configured info"

sb_stop
cv_finish
