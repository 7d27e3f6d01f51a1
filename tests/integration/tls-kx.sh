#!/bin/bash
#
# tls-kx.sh: tls.kx.weak for finite-field DH under 2048 bits (nginx with a
# 1024-bit dhparam made by certtool) and for RSA key transport; a 2048-bit
# DH group and TLS 1.3 as positive controls; and a server that shares no
# cipher suite with current clients (CAMELLIA only), which must be named.
# Each nginx server block has an address of its own, so its protocols and
# ciphers are the ones the address negotiates.  Exit status follows
# automake: 0 pass, 1 fail, 77 skip.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cv_start tls
p=$SB_DIR/pki

sb__certtool --generate-dh-params --bits 1024 --no-text --outfile "$p/dh1024.pem"
sb__certtool --generate-dh-params --bits 2048 --no-text --outfile "$p/dh2048.pem"

# serve NAME ADDR DIRECTIVES: an RSA leaf for *.NAME.example.test on ADDR.
serve() {
	sbt_cert "$1" inter -10 80 rsa <<EOF
cn = "certvigil sandbox $1"
dns_name = "*.$1.example.test"
tls_www_server
signing_key
encryption_key
EOF
	sbt_serve "$1" "$2" "*.$1.example.test" "$p/$1-chain.pem" "$p/$1-key.pem" "$3"
	sb_knot_set "*.$1.example.test" A "$2"
}
# OpenSSL's default security level refuses 1024-bit DH and the legacy
# suites; @SECLEVEL=0 lets nginx serve them as old configurations do.
serve dhe1024 127.0.0.11 "ssl_protocols TLSv1.2; ssl_ciphers \"DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0\"; ssl_dhparam $p/dh1024.pem;"
serve dhe2048 127.0.0.12 "ssl_protocols TLSv1.2; ssl_ciphers \"DHE-RSA-AES128-GCM-SHA256\"; ssl_dhparam $p/dh2048.pem;"
serve rsakx 127.0.0.13 "ssl_protocols TLSv1.2; ssl_ciphers \"AES128-GCM-SHA256\";"
serve nocommon 127.0.0.14 "ssl_protocols TLSv1.2; ssl_ciphers \"CAMELLIA128-SHA:@SECLEVEL=0\";"
sbt_nginx_restart

sbt_audit kx <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    tls: { mode: provided }
  - name: dhe1024
    global: { baseDomain: dhe1024.example.test }
    tls: { mode: provided }
  - name: dhe2048
    global: { baseDomain: dhe2048.example.test }
    tls: { mode: provided }
  - name: rsakx
    global: { baseDomain: rsakx.example.test }
    tls: { mode: provided }
  - name: nocommon
    global: { baseDomain: nocommon.example.test }
    tls: { mode: provided }
EOF

sbt_expect_rc "weak key exchanges, one server without a shared suite" 2
sbt_expect ok
sbt_expect dhe1024 "tls.kx.weak warning"
sbt_expect_message dhe1024 tls.kx.weak "127\\.0\\.0\\.11 port [0-9]+ negotiates TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 with a 1024-bit finite-field DH group \\(DH-CUSTOM\\)"
sbt_expect_json "dhe1024: the group and its size in the JSON" \
	'[.platforms[] | select(.name == "dhe1024") | .endpoints[] | [.key_exchange, .key_exchange_group, .key_exchange_bits]] | unique == [["DHE-RSA", "DH-CUSTOM", 1024]]'
sbt_expect dhe2048
sbt_expect_json "dhe2048: a 2048-bit group is seen and passes" \
	'[.platforms[] | select(.name == "dhe2048") | .endpoints[] | [.key_exchange, .key_exchange_bits]] | unique == [["DHE-RSA", 2048]]'
sbt_expect rsakx "tls.kx.weak warning"
sbt_expect_message rsakx tls.kx.weak "negotiates TLS_RSA_WITH_AES_128_GCM_SHA256 with RSA key transport \\(no forward secrecy"
sbt_expect_json "rsakx: RSA key transport in the JSON" \
	'[.platforms[] | select(.name == "rsakx") | .endpoints[] | [.key_exchange, .key_exchange_group]] | unique == [["RSA", null]]'
sbt_expect_json "ok: TLS 1.3 with X25519" \
	'[.platforms[] | select(.name == "ok") | .endpoints[] | [.tls_version, .key_exchange, .key_exchange_group, .key_exchange_bits]] | unique == [["TLS1.3", null, "X25519", 256]]'
sbt_expect nocommon "tls.handshake.failed critical"
sbt_expect_message nocommon tls.handshake.failed "no cipher suite in common: .*Handshake failed.*it picks TLS1\\.2 TLS_RSA_WITH_CAMELLIA_128_CBC_SHA"
sbt_expect_json "nocommon: the server's choice in the JSON" \
	'[.platforms[] | select(.name == "nocommon") | .endpoints[] | [.no_shared_cipher, .server_suite]] | unique == [[true, "TLS1.2 TLS_RSA_WITH_CAMELLIA_128_CBC_SHA"]]'

sb_stop
cv_finish
