#!/bin/bash
#
# tls-chain.sh: tls.chain.incomplete (with and without an AIA caIssuers URL,
# fetched over HTTP from nginx on loopback), tls.chain.order (out of order;
# a stray certificate), tls.chain.oversized (a valid 12-certificate chain),
# tls.chain.untrusted (a complete path to an unknown root), and the JSON
# chain observations.  Exit status follows automake: 0 pass, 1 fail, 77 skip.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cv_start tls
p=$SB_DIR/pki
aia_url="http://127.0.0.1:$SBT_HTTP_PORT/inter.der"

sbt_cert aia inter -10 80 <<EOF
cn = "certvigil sandbox aia"
dns_name = "*.aia.example.test"
tls_www_server
signing_key
ca_issuers_uri = "$aia_url"
EOF
certtool --certificate-info --infile "$p/inter.pem" --outder --outfile "$SB_DIR/www/inter.der" 2>/dev/null

sbt_cert order inter -10 80 <<EOF
cn = "certvigil sandbox order"
dns_name = "*.order.example.test"
dns_name = "*.stray.example.test"
tls_www_server
signing_key
EOF
# leaf, root, intermediate: the intermediate comes after the root.
cat "$p/order.pem" "$p/root.pem" "$p/inter.pem" >"$p/order-shuffled.pem"
# The intermediate first (with its key, as nginx wants the first certificate
# to match it), then the leaf: GnuTLS ends the handshake with "Key usage
# violation" (a CA certificate may not sign it); the certificates received
# are kept and named in tls.chain.order.
cat "$p/inter.pem" "$p/order.pem" >"$p/order-cafirst.pem"
# leaf, intermediate, and a self-signed certificate that belongs to no path.
cat "$p/order.pem" "$p/inter.pem" "$p/self.pem" >"$p/order-stray.pem"

# root -> d1 -> ... -> d10 -> leaf: valid, but 12 certificates served
# (the root included, as some servers do).
prev=root
for i in 1 2 3 4 5 6 7 8 9 10; do
	sbt_cert "d$i" "$prev" -10 1000 <<EOF
cn = "certvigil sandbox deep $i"
ca
cert_signing_key
EOF
	prev=d$i
done
sbt_cert deep d10 -10 80 <<EOF
cn = "certvigil sandbox deep leaf"
dns_name = "*.deep.example.test"
tls_www_server
signing_key
EOF

for b in aia order stray deep cafirst; do
	sb_knot_set "*.$b.example.test" A 127.0.0.1
done
sbt_serve aia 127.0.0.1 '*.aia.example.test' "$p/aia.pem" "$p/aia-key.pem"
sbt_serve order 127.0.0.1 '*.order.example.test' "$p/order-shuffled.pem" "$p/order-key.pem"
sbt_serve stray 127.0.0.1 '*.stray.example.test' "$p/order-stray.pem" "$p/order-key.pem"
sbt_serve cafirst 127.0.0.1 '*.cafirst.example.test' "$p/order-cafirst.pem" "$p/inter-key.pem"
sbt_serve deep 127.0.0.1 '*.deep.example.test' "$p/deep-chain.pem" "$p/deep-key.pem"
sbt_serve_http
sbt_nginx_restart

sbt_audit chain <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    tls: { mode: provided }
  - name: noint
    global: { baseDomain: noint.example.test }
    tls: { mode: provided }
  - name: aia
    global: { baseDomain: aia.example.test }
    tls: { mode: provided }
  - name: order
    global: { baseDomain: order.example.test }
    tls: { mode: provided }
  - name: stray
    global: { baseDomain: stray.example.test }
    tls: { mode: provided }
  - name: deep
    global: { baseDomain: deep.example.test }
    tls: { mode: provided }
  - name: self
    global: { baseDomain: self.example.test }
    tls: { mode: provided }
  - name: cafirst
    global: { baseDomain: cafirst.example.test }
    tls: { mode: provided }
EOF

sbt_expect_rc "chain faults" 2
sbt_expect ok
# The leaf alone: incomplete, and not also untrusted (one fault, one fix).
sbt_expect noint "tls.chain.incomplete critical"
sbt_expect_message noint tls.chain.incomplete "has no AIA caIssuers URL: add the certificate of 'CN=certvigil sandbox intermediate"
sbt_expect aia "tls.chain.incomplete critical"
inter_sha=$(certtool --fingerprint --hash sha256 --infile "$p/inter.pem" 2>/dev/null)
sbt_expect_message aia tls.chain.incomplete "AIA caIssuers URL $aia_url serves 'CN=certvigil sandbox intermediate,O=certvigil test' \\(sha256 $inter_sha\\): add that certificate"
sbt_expect_json "aia: the fetch is in the JSON" \
	'.platforms[] | select(.name == "aia") | .endpoints[0].aia_ca_issuers | .http_status == 200 and .certificate.subject == "CN=certvigil sandbox intermediate,O=certvigil test"'
sbt_expect order "tls.chain.order warning"
sbt_expect_message order tls.chain.order "is out of order: serve the leaf first"
sbt_expect stray "tls.chain.order warning"
sbt_expect_message stray tls.chain.order "in order but carries 1 certificate"
sbt_expect_message order tls.chain.order "\\(served: 1\\. 'CN=certvigil sandbox order', 2\\. 'CN=certvigil sandbox root,O=certvigil test' \\(CA\\), 3\\. 'CN=certvigil sandbox intermediate,O=certvigil test' \\(CA\\)\\)\$"
# A CA certificate first: the handshake fails, and the order is named as its cause.
sbt_expect cafirst "tls.chain.order warning" "tls.handshake.failed critical"
sbt_expect_message cafirst tls.chain.order "is out of order: serve the leaf first.*\\(served: 1\\. 'CN=certvigil sandbox intermediate,O=certvigil test' \\(CA\\), 2\\. 'CN=certvigil sandbox order'\\)\$"
sbt_expect_message cafirst tls.handshake.failed "Key usage violation.*the first certificate served \\('CN=certvigil sandbox intermediate,O=certvigil test'\\) may not sign"
sbt_expect_json "cafirst: the failed endpoint's JSON carries the chain as served" \
	'.platforms[] | select(.name == "cafirst") | .endpoints[0] | .status == "handshake-failed" and ([.chain[].subject] == ["CN=certvigil sandbox intermediate,O=certvigil test", "CN=certvigil sandbox order"]) and .chain_served.certificates == 2'
sbt_expect deep "tls.chain.oversized warning"
sbt_expect_message deep tls.chain.oversized "serves 12 certificates"
sbt_expect self "tls.chain.untrusted critical"

# The observations: handshake details and the served chain, leaf first.
sbt_expect_json "ok: TLS 1.3, cipher suite, group, ALPN, OCSP flag" \
	'.platforms[0].endpoints[0] | .tls_version == "TLS1.3" and (.cipher_suite | startswith("TLS_AES_")) and .key_exchange_group != null and .alpn == "http/1.1" and .ocsp_stapled == false'
sbt_expect_json "ok: chain of 2, leaf first, with algorithms and hashes" \
	'.platforms[0].endpoints[0].chain | length == 2 and .[0].subject == "CN=certvigil sandbox ok,O=certvigil test" and .[1].subject == "CN=certvigil sandbox intermediate,O=certvigil test" and .[0].signature_algorithm == "ECDSA-SHA256" and (.[0].sha256 | length == 64) and .[0].key == "ECDSA SECP256R1" and (.[0].not_before | test("Z$"))'
sbt_expect_json "ok: verified, no reason" '.platforms[0].endpoints[0] | .verified == true and (has("verify_error") | not)'
sbt_expect_json "self: GnuTLS's reason for the failed verification" \
	'.platforms[] | select(.name == "self") | .endpoints[0] | .verified == false and (.verify_error | test("issuer"))'

sb_stop
cv_finish
