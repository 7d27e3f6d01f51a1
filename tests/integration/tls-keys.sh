#!/bin/bash
#
# tls-keys.sh: tls.key.weak (an RSA-1024 leaf), tls.signature.weak (a leaf
# signed with SHA-1, which GnuTLS also refuses to verify) and
# tls.protocol.legacy (an endpoint that still completes a TLS 1.0/1.1
# handshake), each served by our GnuTLS test server (nginx's OpenSSL refuses
# to load the weak ones).  Exit status follows automake: 0 pass, 1 fail, 77 skip.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cv_start tls
p=$SB_DIR/pki

leaf() { # leaf NAME SAN [KEYTYPE [HASH]]
	sbt_cert "$1" inter -10 80 "${3:-}" "${4:-}" <<EOF
cn = "certvigil sandbox $1"
dns_name = "$2"
tls_www_server
signing_key
encryption_key
EOF
}
leaf rsa1024 '*.rsa1024.example.test' rsa1024
leaf sha1 '*.sha1.example.test' '' SHA1
leaf legacy '*.legacy.example.test'

sb_knot_set '*.rsa1024.example.test' A 127.0.0.7
sb_knot_set '*.sha1.example.test' A 127.0.0.8
sb_knot_set '*.legacy.example.test' A 127.0.0.9
sbt_hostile rsa1024 127.0.0.7 tls "$p/rsa1024-chain.pem" "$p/rsa1024-key.pem"
sbt_hostile sha1 127.0.0.8 tls "$p/sha1-chain.pem" "$p/sha1-key.pem"
sbt_hostile legacy 127.0.0.9 tls "$p/legacy-chain.pem" "$p/legacy-key.pem" 'NORMAL:+VERS-TLS1.0:+VERS-TLS1.1'

sbt_audit keys <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    tls: { mode: provided }
  - name: rsa1024
    global: { baseDomain: rsa1024.example.test }
    tls: { mode: provided }
  - name: sha1
    global: { baseDomain: sha1.example.test }
    tls: { mode: provided }
  - name: legacy
    global: { baseDomain: legacy.example.test }
    tls: { mode: provided }
EOF

sbt_expect_rc "weak keys and signatures" 2
sbt_expect ok
sbt_expect rsa1024 "tls.key.weak warning"
sbt_expect_message rsa1024 tls.key.weak "'CN=certvigil sandbox rsa1024', has a RSA 1024 key"
sbt_expect sha1 "tls.signature.weak warning" "tls.chain.untrusted critical"
sbt_expect_message sha1 tls.signature.weak "is signed with ECDSA-SHA1"
sbt_expect legacy "tls.protocol.legacy warning"
sbt_expect_message legacy tls.protocol.legacy "127\\.0\\.0\\.9 port [0-9]+ completes a TLS1\\.[01] handshake"
sbt_expect_json "legacy: probed once per address" \
	'[.platforms[] | select(.name == "legacy") | .endpoints[] | select(.legacy_tls != null)] | length == 1'
sbt_expect_json "ok: the legacy probe was refused" \
	'[.platforms[] | select(.name == "ok") | .endpoints[] | .legacy_tls.status // empty] | sort == ["refused", "refused"]'

# A warning alone exits 1.
sbt_audit legacy-only <<EOF
  - name: legacy
    global: { baseDomain: legacy.example.test }
    tls: { mode: provided }
EOF
sbt_expect_rc "legacy alone" 1

sb_stop
cv_finish
