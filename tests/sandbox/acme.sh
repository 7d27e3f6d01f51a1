# shellcheck shell=bash
#
# tests/sandbox/acme.sh: renewal's additions to the sandbox (lib.sh, which
# it sources).  Everything runs as direct children of the calling shell and
# is stopped by lib.sh's trap, like the rest of the sandbox.
#
#   sb_acme_knot_start     a second knotd on 127.0.0.1@$SB_ACME_DNS_PORT for
#                          zone $SB_ACME_ZONE (*.gw -> 127.0.0.1) that
#                          accepts RFC 2136 updates signed with the TSIG key
#                          $SB_ACME_TSIG_NAME / $SB_ACME_TSIG_SECRET
#                          (hmac-sha256), as a DNS provider's API would
#   sb_pebble_start        Let's Encrypt's test CA on 127.0.0.1:$SB_PEBBLE_PORT
#                          (management $SB_PEBBLE_MGMT_PORT), validating DNS-01
#                          against that knotd; its HTTPS listener's CA is
#                          $SB_DIR/acme/listener-ca.pem, and its issuing root
#                          (new on every start) is fetched to
#                          $SB_DIR/acme/pebble-root.pem
#   sb_lego ARG...         lego against pebble with the rfc2136 provider
#                          (its state in $SB_DIR/acme/lego)
#   sb_reload_nginx_start NAME PORT SERVER_NAME CERT KEY
#                          an nginx with a master process (so SIGHUP reloads
#                          it, as `systemctl reload nginx` would), serving
#                          CERT/KEY for SERVER_NAME on 127.0.0.1:PORT; its pid
#                          is $(sb_pid NAME)
#
# The sandbox's own nginx runs with master_process off so that it is a
# single direct child; that mode cannot reload (a SIGHUP leaves it unable to
# accept), which is why renewal tests get this second kind.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SB_ACME_ZONE=acme.test
SB_ACME_TSIG_NAME=certvigil-test
SB_ACME_DNS_PORT=
SB_PEBBLE_PORT=
SB_PEBBLE_MGMT_PORT=
SB_ACME_TSIG_SECRET=

sb_acme_require_tools() {
	sb_require_tools pebble lego curl "$@"
}

sb__acme_dir() {
	mkdir -p "$SB_DIR/acme" && printf '%s\n' "$SB_DIR/acme"
}

sb_acme_knot_start() {
	local d nonce
	d=$(sb__acme_dir)/knot || return 1
	mkdir -p "$d/run" "$d/db" "$d/zones" || return 1
	SB_ACME_DNS_PORT=$(sb__pick_port "$SB_DNS_PORT" "$SB_TLS_PORT") || return 1
	SB_ACME_TSIG_SECRET=$(head -c 32 /dev/urandom | base64) || return 1
	nonce=sb-acme-$BASHPID-$(sb__ms)
	SB__ACME_NONCE=$nonce
	cat >"$d/knot.conf" <<-EOF
		server:
		    rundir: "$d/run"
		    listen: 127.0.0.1@$SB_ACME_DNS_PORT
		    udp-workers: 1
		    tcp-workers: 1
		    background-workers: 1
		log:
		  - target: stderr
		    any: info
		database:
		    storage: "$d/db"
		key:
		  - id: $SB_ACME_TSIG_NAME
		    algorithm: hmac-sha256
		    secret: $SB_ACME_TSIG_SECRET
		acl:
		  - id: dns01
		    key: $SB_ACME_TSIG_NAME
		    action: update
		template:
		  - id: default
		    storage: "$d/zones"
		    zonefile-sync: -1
		    zonefile-load: whole
		    semantic-checks: on
		zone:
		  - domain: $SB_ACME_ZONE
		    acl: dns01
	EOF
	cat >"$d/zones/$SB_ACME_ZONE.zone" <<-EOF
		\$ORIGIN $SB_ACME_ZONE.
		\$TTL 60
		@            SOA  ns hostmaster 1 3600 600 86400 60
		@            NS   ns
		ns           A    127.0.0.1
		sb-nonce     TXT  "$nonce"
		*.gw         A    127.0.0.1
	EOF
	sb__spawn knotd-acme "$d/knotd.log" knotd -c "$d/knot.conf" || return 1
	sb__wait_ready knotd-acme 5000 "$d/knotd.log" sb__acme_knot_probe
}

sb__acme_knot_probe() {
	local out
	sb__listening knotd-acme "$SB_ACME_DNS_PORT" 127.0.0.1 || return 1
	out=$(kdig +tcp +timeout=1 +retry=0 +short @127.0.0.1 -p "$SB_ACME_DNS_PORT" \
		"sb-nonce.$SB_ACME_ZONE" TXT 2>/dev/null) || return 1
	[[ $out == "\"$SB__ACME_NONCE\"" ]]
}

# Pebble's HTTPS listener needs a certificate for 127.0.0.1 and localhost;
# the Debian package ships none.
sb__pebble_listener_pki() {
	local d=$1
	cat >"$d/listener-ca.tmpl" <<-EOF
		cn = "certvigil sandbox pebble listener CA"
		ca
		cert_signing_key
		expiration_days = 30
	EOF
	cat >"$d/listener.tmpl" <<-EOF
		cn = "pebble"
		dns_name = "localhost"
		ip_address = "127.0.0.1"
		tls_www_server
		signing_key
		expiration_days = 30
	EOF
	sb__key "$d/listener-ca-key.pem" &&
		sb__certtool --generate-self-signed --no-text --load-privkey "$d/listener-ca-key.pem" \
			--template "$d/listener-ca.tmpl" --outfile "$d/listener-ca.pem" &&
		sb__key "$d/listener-key.pem" &&
		sb__certtool --generate-certificate --no-text --load-privkey "$d/listener-key.pem" \
			--load-ca-certificate "$d/listener-ca.pem" --load-ca-privkey "$d/listener-ca-key.pem" \
			--template "$d/listener.tmpl" --outfile "$d/listener.pem"
}

sb_pebble_start() {
	local d
	d=$(sb__acme_dir) || return 1
	[[ -s $d/listener.pem ]] || sb__pebble_listener_pki "$d" || return 1
	SB_PEBBLE_PORT=$(sb__pick_port "$SB_DNS_PORT" "$SB_TLS_PORT" "$SB_ACME_DNS_PORT") || return 1
	SB_PEBBLE_MGMT_PORT=$(sb__pick_port "$SB_DNS_PORT" "$SB_TLS_PORT" "$SB_ACME_DNS_PORT" "$SB_PEBBLE_PORT") ||
		return 1
	cat >"$d/pebble.json" <<-EOF
		{
		  "pebble": {
		    "listenAddress": "127.0.0.1:$SB_PEBBLE_PORT",
		    "managementListenAddress": "127.0.0.1:$SB_PEBBLE_MGMT_PORT",
		    "certificate": "$d/listener.pem",
		    "privateKey": "$d/listener-key.pem",
		    "httpPort": 5002,
		    "tlsPort": 5001,
		    "ocspResponderURL": "",
		    "externalAccountBindingRequired": false
		  }
		}
	EOF
	PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
		sb__spawn pebble "$d/pebble.log" pebble -config "$d/pebble.json" \
		-dnsserver "127.0.0.1:$SB_ACME_DNS_PORT" || return 1
	sb__wait_ready pebble 10000 "$d/pebble.log" sb__pebble_probe || return 1
	# The issuing hierarchy is made at start-up; certvigil trusts its root.
	curl -sf --cacert "$d/listener-ca.pem" "https://127.0.0.1:$SB_PEBBLE_MGMT_PORT/roots/0" \
		-o "$d/pebble-root.pem"
}

sb__pebble_probe() {
	curl -sf --max-time 1 --cacert "$SB_DIR/acme/listener-ca.pem" \
		"https://127.0.0.1:$SB_PEBBLE_PORT/dir" -o /dev/null
}

sb_pebble_directory() {
	printf 'https://127.0.0.1:%s/dir\n' "$SB_PEBBLE_PORT"
}

# The environment lego needs, as `env` arguments (a hook can use it too).
sb_lego_env() {
	printf '%s\n' \
		"LEGO_CA_CERTIFICATES=$SB_DIR/acme/listener-ca.pem" \
		"RFC2136_NAMESERVER=127.0.0.1:$SB_ACME_DNS_PORT" \
		"RFC2136_TSIG_KEY=$SB_ACME_TSIG_NAME" \
		"RFC2136_TSIG_ALGORITHM=hmac-sha256." \
		"RFC2136_TSIG_SECRET=$SB_ACME_TSIG_SECRET" \
		"RFC2136_POLLING_INTERVAL=1" \
		"RFC2136_SEQUENCE_INTERVAL=1" \
		"RFC2136_PROPAGATION_TIMEOUT=20"
}

# sb_lego_argv: lego's common arguments, one per line.
sb_lego_argv() {
	printf '%s\n' lego --server "$(sb_pebble_directory)" --accept-tos --email ops@example.test \
		--path "$SB_DIR/acme/lego" --key-type ec256 --dns rfc2136 \
		--dns.resolvers "127.0.0.1:$SB_ACME_DNS_PORT" --dns.disable-cp
}

# sb_lego ARG...: e.g. sb_lego -d '*.gw.acme.test' run
sb_lego() {
	local -a envs argv
	mapfile -t envs < <(sb_lego_env)
	mapfile -t argv < <(sb_lego_argv)
	env "${envs[@]}" "${argv[@]}" "$@"
}

sb_reload_nginx_start() {
	local name=$1 port=$2 sname=$3 cert=$4 key=$5 d
	d=$(sb__acme_dir)/$name || return 1
	mkdir -p "$d/tmp" || return 1
	# user root: the workers must read keys in the 0700 scratch directory
	# (ignored, with a notice, when not run as root).
	{
		cat <<-EOF
			user root;
			worker_processes 1;
			pid $d/nginx.pid;
			error_log $d/error.log info;
			events { worker_connections 64; }
			http {
		EOF
		sb__nginx_http_common "$d"
		cat <<-EOF
		    server {
		        listen 127.0.0.1:$port ssl;
		        server_name $sname;
		        ssl_certificate $cert;
		        ssl_certificate_key $key;
		        location / { return 200 "renewal sandbox\n"; }
		    }
		}
		EOF
	} >"$d/nginx.conf"
	sb__spawn "$name" "$d/error.log" nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" \
		-g 'daemon off;' || return 1
	sb__wait_ready "$name" 5000 "$d/error.log" sb__listening "$name" "$port" 127.0.0.1
}

# sb_write_reissue FILE WILDCARD NGINX_PID: writes FILE, a script that stands
# in for a CA's renewal: it issues a new 80-day certificate for WILDCARD from
# the sandbox intermediate, installs it as $SB_DIR/served-chain.pem and
# served-key.pem (what sb_reload_nginx_start serves) and reloads that nginx.
sb_write_reissue() {
	local file=$1 wildcard=$2 pid=$3 d=$SB_DIR p=$SB_DIR/pki
	cat >"$file" <<EOF
#!/bin/bash
set -u
cat >"$d/new.tmpl" <<T
cn = "renewed"
dns_name = "$wildcard"
tls_www_server
signing_key
expiration_days = 80
T
certtool --generate-privkey --key-type ecdsa --curve secp256r1 --outfile "$d/new-key.pem" 2>/dev/null &&
	certtool --generate-certificate --no-text --load-privkey "$d/new-key.pem" \\
		--load-ca-certificate "$p/inter.pem" --load-ca-privkey "$p/inter-key.pem" \\
		--template "$d/new.tmpl" --outfile "$d/new.pem" 2>/dev/null || exit 1
cat "$d/new.pem" "$p/inter.pem" >"$d/served-chain.pem"
cp "$d/new-key.pem" "$d/served-key.pem"
kill -HUP $pid
echo "hook: installed"
EOF
}

# sb_serve_soon NAME: a reloadable nginx NAME (sb_reload_nginx_start) on a
# port of its own, $SB_SERVE_PORT, serving the sandbox's soon.example.test
# certificate (5 days left) from $SB_DIR/served-chain.pem and served-key.pem,
# the files a renewal hook replaces. sb_serve_soon_again NAME puts the soon
# certificate back and reloads, as if no renewal had happened.
sb_serve_soon() {
	cp "$SB_DIR/pki/soon-chain.pem" "$SB_DIR/served-chain.pem" &&
		cp "$SB_DIR/pki/soon-key.pem" "$SB_DIR/served-key.pem" || return 1
	SB_SERVE_PORT=$(sb__pick_port "$SB_TLS_PORT") || return 1
	sb_reload_nginx_start "$1" "$SB_SERVE_PORT" "*.soon.example.test" "$SB_DIR/served-chain.pem" \
		"$SB_DIR/served-key.pem"
}

sb_serve_soon_again() {
	cp "$SB_DIR/pki/soon-chain.pem" "$SB_DIR/served-chain.pem" &&
		cp "$SB_DIR/pki/soon-key.pem" "$SB_DIR/served-key.pem" || return 1
	kill -HUP "$(sb_pid "$1")" || return 1
	# The reload is done when new connections get the soon certificate:
	# several in a row, since the workers of an earlier reload may still
	# take one while they wind down.
	sb__wait_ready "$1" 5000 "$(sb__acme_dir)/$1/error.log" \
		sb__serves_steadily "$SB_SERVE_PORT" api.soon.example.test "$SB_DIR/pki/soon.pem"
}

# sb__serves_steadily PORT NAME PEM: sb__serves five times in a row.
sb__serves_steadily() {
	local i
	for i in 1 2 3 4 5; do
		sb__serves "$@" || return 1
	done
}

# sb__serves PORT NAME PEM: 127.0.0.1:PORT serves PEM (its first
# certificate) as the leaf for NAME (gnutls-cli, from gnutls-bin).
sb__serves() {
	local got want
	got=$(gnutls-cli --no-ca-verification --print-cert --sni-hostname "$2" -p "$1" 127.0.0.1 \
		</dev/null 2>/dev/null | sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' |
		sed -n '1,/-----END CERTIFICATE-----/p')
	want=$(sed -n '1,/-----END CERTIFICATE-----/p' "$3")
	[[ -n $got && $got == "$want" ]]
}
