# shellcheck shell=bash
#
# tests/sandbox/dns.sh: the DNS world of the dns-* and dns01-* integration
# tests, on top of tests/sandbox/lib.sh (source that first, or let this
# file do it).  sbd_up starts sb_up's world and adds:
#
#   knotd  127.0.0.1@$SB_DNS_PORT (sb_up's) also serves
#          gw.test, sub.gw.test, sec.test, lame.test, out.test, gw.out.test,
#          cn.test, gw.cn.test, ns.cloudflare.com
#   knotd2 127.0.0.2@$SB_DNS_PORT serves gw.test, sub.gw.test, sec.test
#
# gw.test's NS are ada.ns.cloudflare.com (127.0.0.1) and
# bob.ns.cloudflare.com (127.0.0.2), so audits that ask the authoritative
# servers directly (dns_port: $SB_DNS_PORT) reach both knotds.  sub.gw.test
# is delegated to ns.sub.gw.test (127.0.0.2); the first knotd also loads it,
# standing in for a recursive resolver that sees every zone.  sec.test has
# serial 1 on the first knotd and 2 on the second; lame.test names bob as a
# server but only the first knotd serves it.
#
# One certificate (made from the sandbox's intermediate) carries every
# wildcard the scenarios need and is served by nginx on 127.0.0.1 and
# 127.0.0.2 for all of them.
#
# Scenarios may add records before sbd_up: SBD_GW_EXTRA (lines for gw.test
# on both servers) and SBD_GW_EXTRA_B (lines for gw.test on the second
# server only, same serial: a split view).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SBD_WILDCARDS=(
	'*.ai.gw.test' '*.dash.gw.test' '*.tun.gw.test' '*.nowild.gw.test' '*.stale.gw.test'
	'*.lag.gw.test' '*.tsplit.gw.test' '*.dang.gw.test' '*.loop.gw.test' '*.txt1.gw.test'
	'*.txt6.gw.test' '*.caa.gw.test' '*.long.gw.test' '*.ai.sub.gw.test' '*.out.test'
	'*.ai.sec.test' '*.ai.lame.test' '*.cn.test'
)
SBD_GW_EXTRA=${SBD_GW_EXTRA:-}
SBD_GW_EXTRA_B=${SBD_GW_EXTRA_B:-}

sbd__soa() {
	# sbd__soa MNAME SERIAL
	printf '@ SOA %s hostmaster %s 3600 600 86400 60\n' "$1" "$2"
}

sbd__zone_gw() {
	cat <<-EOF
		\$ORIGIN gw.test.
		\$TTL 60
		$(sbd__soa ada.ns.cloudflare.com. 1)
		@ NS ada.ns.cloudflare.com.
		@ NS bob.ns.cloudflare.com.
		*.ai A 127.0.0.1
		*.dash A 127.0.0.1
		api.tun A 127.0.0.1
		console.tun A 127.0.0.1
		grafana.tun A 127.0.0.1
		auth.tun A 127.0.0.1
		api.nowild A 127.0.0.1
		console.nowild A 127.0.0.1
		grafana.nowild A 127.0.0.1
		auth.nowild A 127.0.0.1
		*.stale A 127.0.0.1
		console.stale A 127.0.0.2
		*.lag A 127.0.0.1
		api.tsplit A 127.0.0.1
		console.tsplit A 127.0.0.1
		grafana.tsplit A 127.0.0.2
		auth.tsplit A 127.0.0.1
		*.dang A 127.0.0.1
		_acme-challenge.dang CNAME _acme-challenge.gone-acme.test.
		*.loop A 127.0.0.1
		_acme-challenge.loop CNAME a.loop
		a.loop CNAME _acme-challenge.loop
		*.long A 127.0.0.1
		_acme-challenge.long CNAME l1.long
		l1.long CNAME l2.long
		l2.long CNAME l3.long
		l3.long CNAME l4.long
		l4.long CNAME l5.long
		l5.long CNAME l6.long
		l6.long CNAME l7.long
		l7.long CNAME l8.long
		l8.long CNAME l9.long
		l9.long TXT "end"
		*.txt1 A 127.0.0.1
		_acme-challenge.txt1 TXT "old-token-1"
		_acme-challenge.txt1 TXT "old-token-2"
		*.txt6 A 127.0.0.1
		_acme-challenge.txt6 TXT "t1"
		_acme-challenge.txt6 TXT "t2"
		_acme-challenge.txt6 TXT "t3"
		_acme-challenge.txt6 TXT "t4"
		_acme-challenge.txt6 TXT "t5"
		_acme-challenge.txt6 TXT "t6"
		*.caa A 127.0.0.1
		caa CAA 0 issue "letsencrypt.org"
		caa CAA 0 issuewild "pki.example.net"
		sub NS ns.sub
		ns.sub A 127.0.0.2
	EOF
	printf '%s\n' "$SBD_GW_EXTRA"
}

sbd__zone_sub() {
	cat <<-EOF
		\$ORIGIN sub.gw.test.
		\$TTL 60
		$(sbd__soa ns 1)
		@ NS ns
		ns A 127.0.0.2
		*.ai A 127.0.0.1
	EOF
}

sbd__zone_sec() {
	cat <<-EOF
		\$ORIGIN sec.test.
		\$TTL 60
		$(sbd__soa ada.ns.cloudflare.com. "$1")
		@ NS ada.ns.cloudflare.com.
		@ NS bob.ns.cloudflare.com.
		*.ai A 127.0.0.1
	EOF
}

sbd__zone_lame() {
	cat <<-EOF
		\$ORIGIN lame.test.
		\$TTL 60
		$(sbd__soa ada.ns.cloudflare.com. 1)
		@ NS ada.ns.cloudflare.com.
		@ NS bob.ns.cloudflare.com.
		*.ai A 127.0.0.1
	EOF
}

sbd__zone_out() {
	cat <<-EOF
		\$ORIGIN out.test.
		\$TTL 60
		$(sbd__soa ada.ns.cloudflare.com. 1)
		@ NS ada.ns.cloudflare.com.
		* A 127.0.0.1
		gw NS ada.ns.cloudflare.com.
	EOF
}

sbd__zone_gwout() {
	cat <<-EOF
		\$ORIGIN gw.out.test.
		\$TTL 60
		$(sbd__soa ada.ns.cloudflare.com. 1)
		@ NS ada.ns.cloudflare.com.
	EOF
}

# Like out.test, but the challenge name is delegated by CNAME into the child
# zone the token manages (the acme-dns pattern): healthy.
sbd__zone_cn() {
	cat <<-EOF
		\$ORIGIN cn.test.
		\$TTL 60
		$(sbd__soa ada.ns.cloudflare.com. 1)
		@ NS ada.ns.cloudflare.com.
		* A 127.0.0.1
		_acme-challenge CNAME _acme-challenge.gw.cn.test.
		gw NS ada.ns.cloudflare.com.
	EOF
}

sbd__zone_gwcn() {
	cat <<-EOF
		\$ORIGIN gw.cn.test.
		\$TTL 60
		$(sbd__soa ada.ns.cloudflare.com. 1)
		@ NS ada.ns.cloudflare.com.
	EOF
}

sbd__zone_cf() {
	cat <<-EOF
		\$ORIGIN ns.cloudflare.com.
		\$TTL 60
		$(sbd__soa ada 1)
		@ NS ada
		ada A 127.0.0.1
		bob A 127.0.0.2
	EOF
}

# The one certificate for every wildcard above, and nginx's server for it.
sbd__cert() {
	local p=$SB_DIR/pki n
	{
		printf 'cn = "certvigil sandbox dns world"\norganization = "certvigil test"\n'
		for n in "${SBD_WILDCARDS[@]}"; do
			printf 'dns_name = "%s"\n' "$n"
		done
		printf 'tls_www_server\nsigning_key\n'
		printf 'activation_date = "%s"\nexpiration_date = "%s"\n' "$(sb__date -10)" "$(sb__date 80)"
	} >"$p/dnsworld.tmpl"
	sb__key "$p/dnsworld-key.pem" &&
		sb__certtool --generate-certificate --no-text --load-privkey "$p/dnsworld-key.pem" \
			--load-ca-certificate "$p/inter.pem" --load-ca-privkey "$p/inter-key.pem" \
			--template "$p/dnsworld.tmpl" --outfile "$p/dnsworld.pem" || return 1
	cat "$p/dnsworld.pem" "$p/inter.pem" >"$p/dnsworld-chain.pem"
	mkdir -p "$SB_DIR/nginx/extra.d" || return 1
	sb__nginx_server "127.0.0.1 127.0.0.2" "${SBD_WILDCARDS[*]}" "$p/dnsworld-chain.pem" \
		"$p/dnsworld-key.pem" >"$SB_DIR/nginx/extra.d/dnsworld.conf"
}

# sbd__soa_ready ADDR ZONE: the zone is loaded on the server at ADDR.
sbd__soa_ready() {
	kdig +tcp +timeout=1 +retry=0 +short @"$1" -p "$SB_DNS_PORT" "$2" SOA 2>/dev/null | grep -q .
}

sbd__all_ready() {
	local addr=$1 z
	shift
	for z in "$@"; do
		sbd__soa_ready "$addr" "$z" || return 1
	done
}

# Adds the zones to sb_up's knotd: append to its config, reload, wait.
sbd__knot1_zones() {
	local d=$SB_DIR/knot z
	sbd__zone_gw >"$d/zones/gw.test.zone"
	sbd__zone_sub >"$d/zones/sub.gw.test.zone"
	sbd__zone_sec 1 >"$d/zones/sec.test.zone"
	sbd__zone_lame >"$d/zones/lame.test.zone"
	sbd__zone_out >"$d/zones/out.test.zone"
	sbd__zone_gwout >"$d/zones/gw.out.test.zone"
	sbd__zone_cn >"$d/zones/cn.test.zone"
	sbd__zone_gwcn >"$d/zones/gw.cn.test.zone"
	sbd__zone_cf >"$d/zones/ns.cloudflare.com.zone"
	for z in gw.test sub.gw.test sec.test lame.test out.test gw.out.test cn.test gw.cn.test ns.cloudflare.com; do
		printf '  - domain: %s\n' "$z" >>"$d/knot.conf"
	done
	sb_knotc reload >/dev/null || {
		sb__log "knotc reload failed"
		sb__log_tail "$d/knotd.log"
		return 1
	}
	sb__wait_ready knotd 5000 "$d/knotd.log" sbd__all_ready 127.0.0.1 gw.test sub.gw.test sec.test \
		lame.test out.test gw.out.test cn.test gw.cn.test ns.cloudflare.com
}

sbd_knot2_start() {
	local d=$SB_DIR/knot2
	mkdir -p "$d/run" "$d/db" "$d/zones" || return 1
	{
		sb_knot_conf_head "$d" 127.0.0.2
		cat <<-EOF
		template:
		  - id: default
		    storage: "$d/zones"
		    zonefile-sync: -1
		    zonefile-load: whole
		zone:
		  - domain: gw.test
		  - domain: sub.gw.test
		  - domain: sec.test
	EOF
	} >"$d/knot.conf"
	{
		sbd__zone_gw
		printf '%s\n' "$SBD_GW_EXTRA_B"
	} >"$d/zones/gw.test.zone"
	sbd__zone_sub >"$d/zones/sub.gw.test.zone"
	sbd__zone_sec 2 >"$d/zones/sec.test.zone"
	sb__spawn knotd2 "$d/knotd.log" knotd -c "$d/knot.conf" || return 1
	sb__wait_ready knotd2 5000 "$d/knotd.log" sbd__knot2_probe
}

sbd__knot2_probe() {
	sb__listening knotd2 "$SB_DNS_PORT" 127.0.0.2 && sbd__all_ready 127.0.0.2 gw.test sub.gw.test sec.test
}

# sbd_up: the whole DNS world.  Fails (after logging why) if it cannot start.
sbd_up() {
	sb_init || return 1
	if [[ ! -s $SB_DIR/pki/root.pem ]]; then
		sb_pki || return 1
	fi
	[[ -s $SB_DIR/pki/dnsworld.pem ]] || sbd__cert || return 1
	sb_up || return 1
	sbd__knot1_zones || return 1
	sbd_knot2_start
}
