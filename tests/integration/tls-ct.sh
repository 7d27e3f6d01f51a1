#!/bin/bash
#
# tls-ct.sh: tls.ct.missing and the JSON list of embedded SCTs. certtool
# embeds an SCT list (RFC 6962 3.3, extension 1.3.6.1.4.1.11129.2.4.2)
# built here byte by byte with add_extension: two SCTs from distinct logs
# pass, two from the same log do not, nor does a leaf without any. The
# sandbox's trust is private, so the check runs only with ct.required
# (the same leaf without it is the control). Exit status follows automake:
# 0 pass, 1 fail, 77 skip.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cv_start tls
p=$SB_DIR/pki

# sct LOGBYTE TIMESTAMP: one v1 SCT (hex) from the log whose 32-byte id is
# LOGBYTE repeated, at TIMESTAMP (ms, 16 hex digits), no extensions, an
# ECDSA-SHA256 signature field of 2 bytes (not checked by anyone here).
sct() {
	local id
	id=$(printf "$1%.0s" {1..32})
	printf '00%s%s0000040300020000' "$id" "$2"
}
# sct_ext SCT...: the extension's value: an OCTET STRING holding the
# SignedCertificateTimestampList (uint16 total, then uint16-prefixed SCTs).
sct_ext() {
	local body='' s list n
	for s in "$@"; do
		body+=$(printf '%04x' $((${#s} / 2)))$s
	done
	list=$(printf '%04x' $((${#body} / 2)))$body
	n=$((${#list} / 2))
	if ((n < 128)); then
		printf '04%02x%s' "$n" "$list"
	else
		printf '0481%02x%s' "$n" "$list"
	fi
}
leaf() { # leaf NAME EXTENSION_HEX
	sbt_cert "$1" inter -10 80 <<EOF
cn = "certvigil sandbox $1"
dns_name = "*.$1.example.test"
tls_www_server
signing_key
add_extension = "1.3.6.1.4.1.11129.2.4.2 0x$2"
EOF
	sbt_serve "$1" 127.0.0.1 "*.$1.example.test" "$p/$1-chain.pem" "$p/$1-key.pem"
	sb_knot_set "*.$1.example.test" A 127.0.0.1
}
# 2023-11-23T12:54:01.024Z and a millisecond later.
leaf ctboth "$(sct_ext "$(sct aa 0000018bfc3e9500)" "$(sct bb 0000018bfc3e9501)")"
leaf ctsame "$(sct_ext "$(sct aa 0000018bfc3e9500)" "$(sct aa 0000018bfc3e9501)")"
sbt_nginx_restart

sbt_audit ct <<EOF
  - name: ctboth
    global: { baseDomain: ctboth.example.test }
    tls: { mode: provided }
    ct: { required: true }
  - name: ctsame
    global: { baseDomain: ctsame.example.test }
    tls: { mode: provided }
    ct: { required: true }
  - name: none
    global: { baseDomain: ok.example.test }
    tls: { mode: provided }
    ct: { required: true }
  - name: private
    global: { baseDomain: ok.example.test }
    tls: { mode: provided }
EOF

sbt_expect_rc "leaves without SCTs from two logs" 2
sbt_expect ctboth
sbt_expect ctsame "tls.ct.missing critical"
sbt_expect_message ctsame tls.ct.missing "carries too few embedded SCTs \\(2 SCT\\(s\\) from 1 distinct log\\(s\\)\\)"
sbt_expect none "tls.ct.missing critical"
sbt_expect_message none tls.ct.missing "carries no embedded SCT list \\(0 SCT"
sbt_expect private
aa=$(printf 'qqqq%.0s' {1..10})qqo=
sbt_expect_json "ctboth: the SCTs in the JSON (log id, timestamp)" \
	"[.platforms[] | select(.name == \"ctboth\") | .endpoints[0].certificate.scts[] | [.log_id, .timestamp]] == [[\"${aa}\", \"2023-11-23T12:54:01Z\"], [\"$(printf 'u7u7%.0s' {1..10})u7s=\", \"2023-11-23T12:54:01Z\"]]"
sbt_expect_json "none: no SCT list is null" \
	'[.platforms[] | select(.name == "none") | .endpoints[].certificate.scts] | unique == [null]'

sb_stop
cv_finish
