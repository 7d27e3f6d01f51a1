# shellcheck shell=bash
#
# tests/sandbox/tls.sh: TLS-in-depth additions to the sandbox (lib.sh) for
# the tests/integration/tls-*.sh scenarios: extra certificates made with
# certtool at test time, extra nginx server blocks (TLS by SNI, and a plain
# HTTP one on 127.0.0.1 for CRLs and AIA certificates), our hostile server
# (tests/tools/hostile).
#
# The test kit (tests/integration/common.sh) sources it; cv_start tls
# calls sb_up, then sbt_init.

if [[ -n ${SBT__LOADED:-} ]]; then
	return 0
fi
SBT__LOADED=1

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SB_HOSTILE=${SB_HOSTILE:-$SB_BUILDDIR/tests/tools/hostile}
SBT_HTTP_PORT=

# The data files (ingress placeholder list) of this source tree.
export CERTVIGIL_DATA_DIR=${CERTVIGIL_DATA_DIR:-$SB_SRCDIR/contrib/data}

# sbt_init: after sb_up; picks the plain-HTTP port and makes the web root.
sbt_init() {
	SBT_HTTP_PORT=$(sb__pick_port "$SB_TLS_PORT") || return 1
	mkdir -p "$SB_DIR/www" "$SB_DIR/nginx/extra.d" || return 1
}

sbt_require_tools() {
	sb_require_tools jq "$@" || return 1
	[[ -x $SB_HOSTILE ]] || {
		sb__log "missing: $SB_HOSTILE"
		return 1
	}
}

# sbt_key FILE [rsa1024|rsa]
sbt_key() {
	if [[ ${2:-} == rsa1024 ]]; then
		sb__certtool --generate-privkey --key-type=rsa --bits=1024 --no-text --outfile "$1"
	elif [[ ${2:-} == rsa ]]; then
		sb__certtool --generate-privkey --key-type=rsa --bits=2048 --no-text --outfile "$1"
	else
		sb__key "$1"
	fi
}

# sbt_cert NAME ISSUER FROM_DAYS TO_DAYS [KEYTYPE [HASH]] < template-lines
# Makes $SB_DIR/pki/NAME.pem and NAME-key.pem, signed by ISSUER (a name in
# pki/, or "self"), valid FROM..TO days from now; the template's other lines
# (cn, dns_name, ca, ...) come from stdin.  NAME-chain.pem is the leaf and
# ISSUER's own chain file when there is one.
sbt_cert() {
	local name=$1 issuer=$2 from=$3 to=$4 keytype=${5:-} hash=${6:-} p=$SB_DIR/pki
	{
		cat
		printf 'activation_date = "%s"\n' "$(sb__date "$from")"
		printf 'expiration_date = "%s"\n' "$(sb__date "$to")"
	} >"$p/$name.tmpl"
	sbt_key "$p/$name-key.pem" "$keytype" || return 1
	if [[ $issuer == self ]]; then
		sb__certtool --generate-self-signed --no-text --load-privkey "$p/$name-key.pem" \
			--template "$p/$name.tmpl" --outfile "$p/$name.pem" ${hash:+--hash "$hash"} || return 1
		cp "$p/$name.pem" "$p/$name-chain.pem"
	else
		sb__certtool --generate-certificate --no-text --load-privkey "$p/$name-key.pem" \
			--load-ca-certificate "$p/$issuer.pem" --load-ca-privkey "$p/$issuer-key.pem" \
			--template "$p/$name.tmpl" --outfile "$p/$name.pem" ${hash:+--hash "$hash"} || return 1
		if [[ -f $p/$issuer-chain.pem ]]; then
			cat "$p/$name.pem" "$p/$issuer-chain.pem" >"$p/$name-chain.pem"
		else
			cat "$p/$name.pem" "$p/$issuer.pem" >"$p/$name-chain.pem"
		fi
	fi
	rm -f "$p/$name.tmpl"
}

# sbt_serve NAME ADDRS SERVER_NAMES CHAIN_FILE KEY_FILE [EXTRA_DIRECTIVES]:
# an nginx server block for the sandbox's TLS port.  Takes effect at the
# next sbt_nginx_restart.
sbt_serve() {
	local name=$1 addrs=$2 snames=$3 chain=$4 key=$5 extra=${6:-} a
	{
		printf '    server {\n'
		for a in $addrs; do
			printf '        listen %s:%s ssl;\n' "$a" "$SB_TLS_PORT"
		done
		printf '        server_name %s;\n' "$snames"
		printf '        ssl_certificate %s;\n' "$chain"
		printf '        ssl_certificate_key %s;\n' "$key"
		[[ -n $extra ]] && printf '        %s\n' "$extra"
		printf '        location / { return 200 "sandbox\\n"; }\n'
		printf '    }\n'
	} >"$SB_DIR/nginx/extra.d/$name.conf"
}

# sbt_serve_http: plain HTTP on 127.0.0.1:$SBT_HTTP_PORT serving
# $SB_DIR/www (CRLs, AIA certificates), logging requests to
# $SB_DIR/www-access.log.
sbt_serve_http() {
	cat >"$SB_DIR/nginx/extra.d/zz-http.conf" <<-EOF
		    server {
		        listen 127.0.0.1:$SBT_HTTP_PORT;
		        root $SB_DIR/www;
		        access_log $SB_DIR/www-access.log;
		    }
	EOF
}

sbt_nginx_restart() {
	sb_stop nginx
	sb_nginx_start
}

# sbt_hostile NAME ADDR MODE [ARGS...]: our hostile server on ADDR and the
# sandbox's TLS port, as a direct child.
sbt_hostile() {
	local name=$1 addr=$2
	shift 2
	sb__spawn "$name" "$SB_DIR/$name.log" "$SB_HOSTILE" "$addr" "$SB_TLS_PORT" "$@" || return 1
	sb__wait_ready "$name" 5000 "$SB_DIR/$name.log" sbt__hostile_ready "$name" "$addr"
}

sbt__hostile_ready() {
	local hex
	if [[ $2 == *:* ]]; then
		# IPv6 ::1: look for our listener in /proc/net/tcp6.
		printf -v hex '%04X' "$SB_TLS_PORT"
		find "/proc/${SB_PIDS[$1]}/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null |
			awk -v p="$hex" 'NR == FNR { gsub(/[^0-9]/, ""); mine[$0] = 1; next }
				FNR > 1 && $4 == "0A" && ($10 in mine) && substr($2, length($2) - 3) == p { ok = 1 }
				END { exit !ok }' - /proc/net/tcp6
	else
		sb__listening "$1" "$SB_TLS_PORT" "$2"
	fi
}

# The report assertions (sbt_audit, sbt_expect ...) are in the test kit,
# tests/integration/common.sh, which sources this file.  A test that
# sources this file alone, as tests once did, gets the kit too.
if ! declare -F cv_finish >/dev/null; then
	# shellcheck source-path=SCRIPTDIR source=../integration/common.sh
	. "$(dirname "${BASH_SOURCE[0]}")/../integration/common.sh"
fi
