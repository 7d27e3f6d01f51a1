# shellcheck shell=bash
#
# tests/sandbox/lib.sh: a throw-away "platform world" on loopback for
# certvigil's integration tests and demo.
#
# Source it from a bash script (set -euo pipefail is fine) and call sb_up.
# It runs, as direct children of the calling shell:
#   knotd   127.0.0.1@$SB_DNS_PORT        zone example.test (see sb_knot_start)
#   nginx   127.0.0.{1,2}:$SB_TLS_PORT    wildcard certificates by SNI
#   tarpit  127.0.0.4:$SB_TLS_PORT        accepts TCP, never answers
# and nothing listens on 127.0.0.3.  A test PKI is generated on every run
# (sb_pki), so no key is ever committed and validity dates are relative to
# the real clock.  An EXIT/INT/TERM trap stops everything and removes the
# scratch directory (SB_KEEP=1 keeps it).  If a test needs its own EXIT
# trap, call sb_cleanup from it: a later `trap ... EXIT` replaces ours.
#
# Call sb_up (and the *_start functions) from the main shell, not from a
# $(...) or a pipeline: the servers must be children of the shell that will
# wait for them, and they are told to die with their parent.

if [[ -n ${SB__LOADED:-} ]]; then
	return 0
fi
SB__LOADED=1

SB_SRCDIR=${SB_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# Builds may be out of tree (build-asan/ ...).  top_builddir, when the test
# environment provides it, may be relative to the working directory, so it is
# pinned down now; without it, a test run by make starts in the build
# directory, which is the one holding config.status.
if [[ -z ${SB_BUILDDIR:-} ]]; then
	if [[ -n ${top_builddir:-} ]]; then
		SB_BUILDDIR=$top_builddir
	elif [[ -f $PWD/config.status ]]; then
		SB_BUILDDIR=$PWD
	else
		SB_BUILDDIR=$SB_SRCDIR
	fi
fi
SB_BUILDDIR=$(cd "$SB_BUILDDIR" && pwd)
SB_TARPIT=${SB_TARPIT:-$SB_BUILDDIR/tests/tools/tarpit}
SB_CERTVIGIL=${SB_CERTVIGIL:-$SB_BUILDDIR/certvigil}

SB_ZONE=example.test
SB_ADDR_REFUSED=127.0.0.3
SB_ADDR_TARPIT=127.0.0.4

# The bases nginx serves on both 127.0.0.1 and 127.0.0.2, each with the
# certificate of the same name ("wrong" carries *.other.example.test, "noint"
# is served without its intermediate).  mixed is special-cased.
SB_BASES=(ok soon warn expired future wrong self noint dash)

# Never inherited: a test run from another sandbox's test must not adopt
# (and later delete) its parent's directory.
SB_DIR=
SB_DNS_PORT=
SB_TLS_PORT=
declare -A SB_PIDS=()
SB__OWNER=

sb__log() {
	printf 'sandbox: %s\n' "$*" >&2
}

# Start-up failures are mostly "something else took the port" or a bad
# generated config: the server's own words are what explains it.
sb__log_tail() {
	local f=$1
	if [[ -s $f ]]; then
		sb__log "last lines of $f:"
		tail -n 15 "$f" | sed 's/^/    /' >&2
	fi
}

# Milliseconds since the epoch, without forking.
sb__ms() {
	local t=${EPOCHREALTIME/./}
	printf '%s' "${t:0:-3}"
}

# Sub-second sleeps without forking /bin/sleep, which matters in readiness
# loops that spin dozens of times: read -t on a FIFO nobody writes to.
sb__sleep() {
	if [[ -n ${SB__SLEEP_FD:-} ]]; then
		read -r -t "$1" -u "$SB__SLEEP_FD" _ 2>/dev/null || true
	else
		sleep "$1"
	fi
}

# --- ports -----------------------------------------------------------------

# True if any socket (TCP or UDP, v4 or v6, any state, any address) uses the
# port.  Stricter than a bind test, and needs neither ss nor a helper.
sb__port_busy() {
	local hex
	printf -v hex ':%04X' "$1"
	awk -v p="$hex" 'FNR > 1 && substr($2, length($2) - 4) == p { found = 1; exit }
		END { exit !found }' /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null
}

# A random port below the ephemeral range, so outgoing connections of
# concurrent tests never hold it.  Random, not sequential: parallel
# `make check -j` runs would otherwise all try the same first port.
sb__pick_port() {
	local lo=10000 hi eph_lo port i avoid=${1:-0}
	read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range || eph_lo=32768
	hi=$((eph_lo - 1))
	if ((hi - lo < 2000)); then
		# The ephemeral range was moved down: no safe spot, just spread out.
		lo=20000 hi=29999
	fi
	for ((i = 0; i < 200; i++)); do
		port=$((lo + ${SRANDOM:-$((RANDOM << 15 | RANDOM))} % (hi - lo + 1)))
		((port == avoid)) && continue
		sb__port_busy "$port" || {
			printf '%s\n' "$port"
			return 0
		}
	done
	sb__log "no free port found in $lo-$hi"
	return 1
}

# --- life cycle ------------------------------------------------------------

sb_init() {
	if [[ -n ${SB__OWNER:-} ]]; then
		return 0
	fi
	SB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/certvigil-sb.XXXXXX") || return 1
	SB_DNS_PORT=$(sb__pick_port) || return 1
	SB_TLS_PORT=$(sb__pick_port "$SB_DNS_PORT") || return 1
	SB__OWNER=$BASHPID
	export SB_DIR SB_DNS_PORT SB_TLS_PORT
	mkfifo "$SB_DIR/.sleep" && exec {SB__SLEEP_FD}<>"$SB_DIR/.sleep" || SB__SLEEP_FD=
	trap 'sb__on_exit' EXIT
	trap 'sb__on_signal INT 130' INT
	trap 'sb__on_signal TERM 143' TERM
	trap 'sb__on_signal HUP 129' HUP
}

# sb_cleanup: sb_stop, then remove the scratch directory (unless SB_KEEP=1).
# After it, sb_up may start a fresh world.
sb_cleanup() {
	sb_stop
	if [[ -n ${SB__SLEEP_FD:-} ]]; then
		exec {SB__SLEEP_FD}>&-
		SB__SLEEP_FD=
	fi
	# Only the shell that made the directory removes it, not a subshell.
	if [[ -n ${SB_DIR:-} && -d $SB_DIR && ${SB__OWNER:-} == "$BASHPID" ]]; then
		if [[ ${SB_KEEP:-0} == 1 ]]; then
			sb__log "kept $SB_DIR"
		else
			rm -rf -- "$SB_DIR"
		fi
		SB_DIR='' SB__OWNER=''
	fi
}

sb__on_exit() {
	# Keep the script's exit status: the trap must not end with a failure.
	local rc=$?
	sb_cleanup || true
	return "$rc"
}

sb__on_signal() {
	sb_cleanup || true
	trap - EXIT INT TERM HUP
	exit "$2"
}

# Run a server as a direct child.  --pdeathsig makes it go away even if this
# shell is SIGKILLed (no trap runs then); setpriv execs, so $! is the
# server's own pid and `wait` works on it.
sb__spawn() {
	local name=$1 log=$2 pre=()
	shift 2
	if command -v setpriv >/dev/null 2>&1; then
		pre=(setpriv --pdeathsig TERM --)
	fi
	# The sleep FIFO stays ours: a server holding it open is harmless but
	# shows up as a stray descriptor when debugging.
	if [[ -n ${SB__SLEEP_FD:-} ]]; then
		"${pre[@]}" "$@" </dev/null >>"$log" 2>&1 {SB__SLEEP_FD}>&- &
	else
		"${pre[@]}" "$@" </dev/null >>"$log" 2>&1 &
	fi
	SB_PIDS[$name]=$!
}

# Alive and still ours: a reaped pid may have been reused by a stranger.
sb__is_running() {
	local pid=$1 stat rest ppid state
	[[ -r /proc/$pid/stat ]] || return 1
	# The process may vanish between the test above and the read.
	read -r stat 2>/dev/null </proc/"$pid"/stat || return 1
	rest=${stat##*) }
	state=${rest%% *}
	rest=${rest#* }
	ppid=${rest%% *}
	[[ $state != Z && $ppid == "${SB__OWNER:-$$}" ]]
}

sb_pid() {
	printf '%s\n' "${SB_PIDS[$1]:-}"
}

# sb_stop [NAME...]: stop the named servers (default: all), SIGTERM first,
# SIGKILL after 2 s, and reap them.  Idempotent.
sb_stop() {
	local -
	local name pid deadline left
	set +e
	local names=("$@")
	((${#names[@]})) || names=("${!SB_PIDS[@]}")
	((${#names[@]})) || return 0

	for name in "${names[@]}"; do
		pid=${SB_PIDS[$name]:-}
		[[ -n $pid ]] && sb__is_running "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	deadline=$(($(sb__ms) + 2000))
	while :; do
		left=0
		for name in "${names[@]}"; do
			pid=${SB_PIDS[$name]:-}
			[[ -n $pid ]] && sb__is_running "$pid" && left=1
		done
		((left == 0 || $(sb__ms) >= deadline)) && break
		sb__sleep 0.005
	done
	for name in "${names[@]}"; do
		pid=${SB_PIDS[$name]:-}
		[[ -z $pid ]] && continue
		if sb__is_running "$pid"; then
			sb__log "$name (pid $pid) ignored SIGTERM for 2 s, killing it"
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
		unset "SB_PIDS[$name]"
	done
	return 0
}

# Poll PROBE... until it succeeds, giving up after MS milliseconds, as soon
# as the server NAME exits, or as soon as its log says its address is taken
# (nginx would otherwise retry bind() for 2.5 s before dying).
sb__wait_ready() {
	local name=$1 ms=$2 log=$3 deadline why=
	shift 3
	deadline=$(($(sb__ms) + ms))
	while :; do
		if "$@" >/dev/null 2>&1 && sb__is_running "${SB_PIDS[$name]}"; then
			return 0
		fi
		if ! sb__is_running "${SB_PIDS[$name]}"; then
			why="exited during start-up"
		elif grep -qsi 'already in use' "$log"; then
			why="could not bind its address"
		elif (($(sb__ms) >= deadline)); then
			why="not ready after $ms ms"
		fi
		if [[ -n $why ]]; then
			sb__log "$name $why"
			sb__log_tail "$log"
			sb_stop "$name"
			return 1
		fi
		sb__sleep 0.005
	done
}

sb__tcp_open() {
	# A subshell so the fd is closed (and the connection dropped) on return.
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# sb__listening NAME PORT ADDR... (IPv4): true once the server NAME itself
# holds a listening TCP socket on each ADDR:PORT.  A
# successful connect() alone is not proof: during a port race it may reach
# whoever else got the port first, while our server is still retrying.
sb__listening() {
	local pid=${SB_PIDS[$1]} port=$2 a o1 o2 o3 o4 want=()
	shift 2
	for a in "$@"; do
		IFS=. read -r o1 o2 o3 o4 <<<"$a"
		# /proc/net/tcp prints the address as a host-order word (x86 here).
		want+=("$(printf '%02X%02X%02X%02X:%04X' "$o4" "$o3" "$o2" "$o1" "$port")")
	done
	find "/proc/$pid/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null |
		awk -v want="${want[*]}" '
			NR == FNR { gsub(/[^0-9]/, ""); mine[$0] = 1; next }
			FNR > 1 && $4 == "0A" && ($10 in mine) { have[$2] = 1 }
			END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!(w[i] in have)) exit 1 }
		' - /proc/net/tcp
}

# --- PKI -------------------------------------------------------------------

# certtool wants absolute dates; these are relative to now so the "expires in
# 5 days" certificate expires in 5 days whenever the test runs.
sb__date() {
	TZ=UTC0 printf '%(%Y-%m-%d %H:%M:%S UTC)T' "$(($(sb__ms) / 1000 + $1 * 86400))"
}

# The serial of a PEM certificate as `openssl x509 -serial` prints it
# (upper-case hex, no DER sign padding), which is how certvigil prints it;
# sb_cert_serial_der gives the DER bytes in certtool's lower-case hex.
sb_cert_serial_der() {
	certtool -i --infile "$1" 2>/dev/null | sed -n 's/^[[:space:]]*Serial Number (hex): //p' | awk 'NR <= 1' | tr -d ':'
}
sb_cert_serial() {
	local s
	s=$(sb_cert_serial_der "$1")
	s=${s^^}
	while ((${#s} > 2)) && [[ $s == 00* ]]; do s=${s#00}; done
	printf '%s\n' "$s"
}

sb__certtool() {
	certtool "$@" >/dev/null 2>>"$SB_DIR/pki/certtool.log" || {
		sb__log "certtool $* failed"
		sb__log_tail "$SB_DIR/pki/certtool.log"
		return 1
	}
}

sb__key() {
	sb__certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --no-text \
		--outfile "$1"
}

# sb__leaf NAME DNSNAME FROM_DAYS TO_DAYS [self]
# The CN is deliberately not a host name: only the SAN may make a match.
sb__leaf() {
	local name=$1 dns=$2 from=$3 to=$4 self=${5:-} p=$SB_DIR/pki
	cat >"$p/$name.tmpl" <<-EOF
		cn = "certvigil sandbox $name"
		organization = "certvigil test"
		dns_name = "$dns"
		tls_www_server
		signing_key
		activation_date = "$(sb__date "$from")"
		expiration_date = "$(sb__date "$to")"
	EOF
	sb__key "$p/$name-key.pem" || return 1
	if [[ $self == self ]]; then
		sb__certtool --generate-self-signed --no-text --load-privkey "$p/$name-key.pem" \
			--template "$p/$name.tmpl" --outfile "$p/$name.pem" || return 1
		cp "$p/$name.pem" "$p/$name-chain.pem"
	else
		sb__certtool --generate-certificate --no-text --load-privkey "$p/$name-key.pem" \
			--load-ca-certificate "$p/inter.pem" --load-ca-privkey "$p/inter-key.pem" \
			--template "$p/$name.tmpl" --outfile "$p/$name.pem" || return 1
		cat "$p/$name.pem" "$p/inter.pem" >"$p/$name-chain.pem"
	fi
}

sb_pki() {
	local p=$SB_DIR/pki name pid rc=0
	local -A pids=()
	mkdir -p "$p" || return 1

	cat >"$p/root.tmpl" <<-EOF
		cn = "certvigil sandbox root"
		organization = "certvigil test"
		ca
		cert_signing_key
		crl_signing_key
		activation_date = "$(sb__date -30)"
		expiration_date = "$(sb__date 3650)"
	EOF
	cat >"$p/inter.tmpl" <<-EOF
		cn = "certvigil sandbox intermediate"
		organization = "certvigil test"
		ca
		path_len = 0
		cert_signing_key
		crl_signing_key
		activation_date = "$(sb__date -30)"
		expiration_date = "$(sb__date 1825)"
	EOF
	sb__key "$p/root-key.pem" &&
		sb__certtool --generate-self-signed --no-text --load-privkey "$p/root-key.pem" \
			--template "$p/root.tmpl" --outfile "$p/root.pem" &&
		sb__key "$p/inter-key.pem" &&
		sb__certtool --generate-certificate --no-text --load-privkey "$p/inter-key.pem" \
			--load-ca-certificate "$p/root.pem" --load-ca-privkey "$p/root-key.pem" \
			--template "$p/inter.tmpl" --outfile "$p/inter.pem" || return 1

	# The leaves are independent: making them all at once roughly halves the
	# wall time on the 2-core machines.
	local -a specs=(
		"ok *.ok.example.test -10 80"
		"ok2 *.ok.example.test -10 80"
		"soon *.soon.example.test -85 5"
		"warn *.warn.example.test -75 15"
		"expired *.expired.example.test -90 -3"
		"future *.future.example.test 10 100"
		"wrong *.other.example.test -10 80"
		"self *.self.example.test -10 80 self"
		"noint *.noint.example.test -10 80"
		"dash *.dash.example.test -10 80"
		"mixed *.mixed.example.test -10 80"
		"mixed-old *.mixed.example.test -85 5"
	)
	local spec dns from to self
	for spec in "${specs[@]}"; do
		read -r name dns from to self <<<"$spec"
		sb__leaf "$name" "$dns" "$from" "$to" "$self" &
		pids[$name]=$!
	done
	for name in "${!pids[@]}"; do
		pid=${pids[$name]}
		wait "$pid" || {
			sb__log "could not make the $name certificate"
			rc=1
		}
	done
	((rc == 0)) || return 1
	# "self" is its own issuer; a selfsigned-mode platform trusts exactly it.
	cp "$p/self.pem" "$p/other-root.pem"
	rm -f "$p"/*.tmpl
}

# --- DNS -------------------------------------------------------------------

sb__knot_conf() {
	printf '%s\n' "$SB_DIR/knot/knot.conf"
}

# sb_knot_conf_head DIR [ADDRESS]: the server, log and database sections of
# a knot.conf whose run and db directories are under DIR, listening on
# ADDRESS (default 127.0.0.1) at $SB_DNS_PORT.  One worker of each kind:
# start-up time grows with workers, and the tests never load it.
sb_knot_conf_head() {
	local d=$1 addr=${2:-127.0.0.1}
	cat <<-EOF
		server:
		    rundir: "$d/run"
		    listen: $addr@$SB_DNS_PORT
		    udp-workers: 1
		    tcp-workers: 1
		    background-workers: 1
		log:
		  - target: stderr
		    any: info
		database:
		    storage: "$d/db"
	EOF
}

sb_knot_start() {
	local d=$SB_DIR/knot nonce
	mkdir -p "$d/run" "$d/db" "$d/zones" || return 1
	nonce=sb-$BASHPID-$(sb__ms)
	SB__KNOT_NONCE=$nonce
	# zonefile-sync -1 keeps sb_knot_set changes out of the zone file
	# (they live in the journal).
	{
		sb_knot_conf_head "$d"
		cat <<-EOF
		template:
		  - id: default
		    storage: "$d/zones"
		    zonefile-sync: -1
		    zonefile-load: whole
		    semantic-checks: on
		zone:
		  - domain: $SB_ZONE
		  - domain: test
	EOF
	} >"$d/knot.conf"
	cat >"$d/zones/$SB_ZONE.zone" <<-EOF
		\$ORIGIN $SB_ZONE.
		\$TTL 60
		@            SOA  ns hostmaster 1 3600 600 86400 60
		@            NS   ns
		ns           A    127.0.0.1
		; readiness probe: proves the answer comes from this sandbox's knotd
		sb-nonce     TXT  "$nonce"
		*.ok         A    127.0.0.1
		*.ok         A    127.0.0.2
		*.soon       A    127.0.0.1
		*.warn       A    127.0.0.1
		*.expired    A    127.0.0.1
		*.future     A    127.0.0.1
		*.wrong      A    127.0.0.1
		*.self       A    127.0.0.1
		*.noint      A    127.0.0.1
		*.dash       A    127.0.0.1
		*.refused    A    $SB_ADDR_REFUSED
		*.tarpit     A    $SB_ADDR_TARPIT
		*.mixed      A    127.0.0.1
		*.mixed      A    127.0.0.2
	EOF
	# A stand-in for the TLD, as a recursive resolver would see it: names
	# under .test outside the sandbox's zones are NXDOMAIN (with the SOA of
	# test.), not REFUSED, and climbs such as CAA's end there.
	cat >"$d/zones/test.zone" <<-EOF
		\$ORIGIN test.
		\$TTL 60
		@            SOA  ns.$SB_ZONE. hostmaster.$SB_ZONE. 1 3600 600 86400 60
		@            NS   ns.$SB_ZONE.
		example      NS   ns.example
		ns.example   A    127.0.0.1
	EOF
	sb__spawn knotd "$d/knotd.log" knotd -c "$d/knot.conf" || return 1
	# TCP, because a UDP query sent before the port is bound is only retried
	# after a whole second.
	sb__wait_ready knotd 5000 "$d/knotd.log" sb__knot_probe
}

sb__knot_probe() {
	local out
	# Without this, a squatter on the port would hold kdig for its 1 s timeout.
	sb__listening knotd "$SB_DNS_PORT" 127.0.0.1 || return 1
	out=$(kdig +tcp +timeout=1 +retry=0 +short @127.0.0.1 -p "$SB_DNS_PORT" \
		"sb-nonce.$SB_ZONE" TXT 2>/dev/null) || return 1
	[[ $out == "\"$SB__KNOT_NONCE\"" ]]
}

sb_knotc() {
	knotc -c "$(sb__knot_conf)" "$@"
}

sb__fqdn() {
	local n=$1
	[[ $n == *. ]] || n=$n.
	printf '%s' "$n"
}

# sb_knot_set NAME TYPE DATA...: add a record (TTL 60) to example.test in one
# transaction.  NAME is absolute, with or without the final dot.
sb_knot_set() {
	local name type
	name=$(sb__fqdn "$1") type=$2
	shift 2
	sb__knot_txn zone-set "$SB_ZONE." "$name" 60 "$type" "$@"
}

# sb_knot_unset NAME [TYPE [DATA...]]: remove records, as knotc zone-unset.
sb_knot_unset() {
	local name
	name=$(sb__fqdn "$1")
	shift
	sb__knot_txn zone-unset "$SB_ZONE." "$name" "$@"
}

sb__knot_txn() {
	local out
	out=$(sb_knotc zone-begin "$SB_ZONE." 2>&1) || {
		sb__log "knotc zone-begin: $out"
		return 1
	}
	if ! out=$(sb_knotc "$@" 2>&1); then
		sb__log "knotc $*: $out"
		sb_knotc zone-abort "$SB_ZONE." >/dev/null 2>&1
		return 1
	fi
	out=$(sb_knotc zone-commit "$SB_ZONE." 2>&1) || {
		sb__log "knotc zone-commit: $out"
		sb_knotc zone-abort "$SB_ZONE." >/dev/null 2>&1
		return 1
	}
}

# sb_standin_pki DIR CN: a CA of its own and a server certificate for
# 127.0.0.1 (CN) in DIR (ca.pem, server.pem, server-key.pem), for the HTTPS
# stand-ins (tests/tools/https-standin) that play an RDAP or CT server.
sb_standin_pki() {
	local d=$1 cn=$2
	mkdir -p "$d" || return 1
	printf 'cn = "stand-in CA"\nca\ncert_signing_key\nexpiration_days = 30\n' >"$d/ca.tmpl"
	printf 'cn = "%s"\nip_address = "127.0.0.1"\ntls_www_server\nsigning_key\nexpiration_days = 30\n' "$cn" \
		>"$d/server.tmpl"
	sb__certtool --generate-privkey --key-type ecdsa --outfile "$d/ca-key.pem" &&
		sb__certtool --generate-self-signed --no-text --load-privkey "$d/ca-key.pem" --template "$d/ca.tmpl" \
			--outfile "$d/ca.pem" &&
		sb__certtool --generate-privkey --key-type ecdsa --outfile "$d/server-key.pem" &&
		sb__certtool --generate-certificate --no-text --load-privkey "$d/server-key.pem" \
			--load-ca-certificate "$d/ca.pem" --load-ca-privkey "$d/ca-key.pem" --template "$d/server.tmpl" \
			--outfile "$d/server.pem"
}

# --- TLS -------------------------------------------------------------------

sb__nginx_server() {
	# sb__nginx_server LISTEN_ADDRS SERVER_NAME CERTFILE KEYFILE [default]
	local addrs=$1 sname=$2 cert=$3 key=$4 def=${5:+ default_server} a
	printf '    server {\n'
	for a in $addrs; do
		printf '        listen %s:%s ssl%s;\n' "$a" "$SB_TLS_PORT" "$def"
	done
	printf '        server_name %s;\n' "$sname"
	printf '        ssl_certificate %s;\n' "$cert"
	printf '        ssl_certificate_key %s;\n' "$key"
	# shellcheck disable=SC2016 # $ssl_server_name is nginx's, not ours
	printf '        location / { return 200 "certvigil sandbox $ssl_server_name\\n"; }\n'
	printf '    }\n'
}

# sb__nginx_http_common DIR: the lines every sandbox nginx has at the top
# of its http block: no access log, temp paths under DIR, and no session
# resumption, since every probe must be a full handshake or results would
# depend on what an earlier probe left behind.
sb__nginx_http_common() {
	cat <<-EOF
		    access_log off;
		    default_type text/plain;
		    client_body_temp_path $1/tmp/body;
		    proxy_temp_path $1/tmp/proxy;
		    fastcgi_temp_path $1/tmp/fastcgi;
		    uwsgi_temp_path $1/tmp/uwsgi;
		    scgi_temp_path $1/tmp/scgi;
		    ssl_session_cache off;
		    ssl_session_tickets off;
	EOF
}

sb__nginx_conf() {
	local d=$SB_DIR/nginx p=$SB_DIR/pki base cert both="127.0.0.1 127.0.0.2"
	# master_process off: a single process that is our direct child, so
	# there is no worker to orphan and no switch to the "nobody" user (which
	# could not read the keys in our 0700 scratch directory when run as root).
	cat <<-EOF
		master_process off;
		worker_processes 1;
		pid $d/nginx.pid;
		error_log $d/error.log info;
		events { worker_connections 1024; }
		http {
	EOF
	sb__nginx_http_common "$d"
	cat <<-EOF
		    ssl_protocols TLSv1.2 TLSv1.3;
	EOF
	# Unknown SNI (or none) gets a certificate nobody trusts, so a probe for
	# a name the sandbox does not serve can never pass by accident.
	sb__nginx_server "$both" _ "$p/self-chain.pem" "$p/self-key.pem" default
	for base in "${SB_BASES[@]}"; do
		cert=$base
		if [[ $base == noint ]]; then
			sb__nginx_server "$both" "*.$base.$SB_ZONE" "$p/$cert.pem" "$p/$cert-key.pem"
		else
			sb__nginx_server "$both" "*.$base.$SB_ZONE" "$p/$cert-chain.pem" "$p/$cert-key.pem"
		fi
	done
	sb__nginx_server 127.0.0.1 "*.mixed.$SB_ZONE" "$p/mixed-chain.pem" "$p/mixed-key.pem"
	sb__nginx_server 127.0.0.2 "*.mixed.$SB_ZONE" "$p/mixed-old-chain.pem" "$p/mixed-old-key.pem"
	printf '    include %s/extra.d/*.conf;\n}\n' "$d"
}

# sb_nginx_add_server NAME ADDRS SERVER_NAME CERT [leaf]: serve CERT (a name
# from sb_pki: ok2, mixed-old, ...) for SERVER_NAME on the listed addresses
# (space separated, out of 127.0.0.1 127.0.0.2).  The chain file is used
# unless "leaf" is given.  Restarts nginx if it is running (~40 ms).  nginx
# prefers an exact server_name to a wildcard one, so an exact name such as
# api.ok.example.test overrides the base's certificate for that name only.
sb_nginx_add_server() {
	local name=$1 addrs=$2 sname=$3 cert=$4 leaf=${5:-} d=$SB_DIR/nginx p=$SB_DIR/pki file
	mkdir -p "$d/extra.d" || return 1
	file=$p/$cert-chain.pem
	[[ $leaf == leaf ]] && file=$p/$cert.pem
	sb__nginx_server "$addrs" "$sname" "$file" "$p/$cert-key.pem" >"$d/extra.d/$name.conf" || return 1
	if [[ -n ${SB_PIDS[nginx]:-} ]]; then
		sb_stop nginx
		sb_nginx_start
	fi
}

sb_nginx_start() {
	local d=$SB_DIR/nginx
	mkdir -p "$d/tmp" "$d/extra.d" || return 1
	sb__nginx_conf >"$d/nginx.conf" || return 1
	sb__spawn nginx "$d/error.log" nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" \
		-g 'daemon off;' || return 1
	sb__wait_ready nginx 5000 "$d/error.log" sb__nginx_probe
}

sb__nginx_probe() {
	sb__listening nginx "$SB_TLS_PORT" 127.0.0.1 127.0.0.2 &&
		sb__tcp_open 127.0.0.1 "$SB_TLS_PORT" && sb__tcp_open 127.0.0.2 "$SB_TLS_PORT"
}

sb_tarpit_start() {
	if [[ ! -x $SB_TARPIT ]]; then
		sb__log "$SB_TARPIT is not built (make tests/tools/tarpit)"
		return 1
	fi
	sb__spawn tarpit "$SB_DIR/tarpit.log" "$SB_TARPIT" "$SB_ADDR_TARPIT" "$SB_TLS_PORT" || return 1
	sb__wait_ready tarpit 5000 "$SB_DIR/tarpit.log" sb__listening tarpit "$SB_TLS_PORT" "$SB_ADDR_TARPIT"
}

# --- all together ------------------------------------------------------------

# sb_require_tools: the programs sb_up needs; prints what is missing.
# Tests use `sb_require_tools || exit 77` to skip where the world cannot run.
sb_require_tools() {
	local t missing=()
	for t in certtool knotd knotc kdig nginx awk "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[[ -x $SB_TARPIT ]] || missing+=("$SB_TARPIT")
	if ((${#missing[@]})); then
		sb__log "missing: ${missing[*]}"
		return 1
	fi
}

# Starts whatever is not running yet.  Ports are checked free when picked, but
# a parallel run could take one before our server binds it: then the server
# dies with "address already in use", and sb_up moves to new ports (only
# safe before the test has used them, hence here and not in the *_start).
sb_up() {
	local try logs
	sb_init || return 1
	if [[ ! -s $SB_DIR/pki/root.pem ]]; then
		sb_pki || return 1
	fi
	logs=("$SB_DIR/knot/knotd.log" "$SB_DIR/nginx/error.log" "$SB_DIR/tarpit.log")
	for try in 1 2 3; do
		{ [[ -n ${SB_PIDS[knotd]:-} ]] || sb_knot_start; } &&
			{ [[ -n ${SB_PIDS[nginx]:-} ]] || sb_nginx_start; } &&
			{ [[ -n ${SB_PIDS[tarpit]:-} ]] || sb_tarpit_start; } &&
			return 0
		sb_stop
		grep -qsi 'already in use' "${logs[@]}" || return 1
		((try < 3)) || break
		sb__log "a port was taken meanwhile; moving to other ports"
		rm -f "${logs[@]}"
		SB_DNS_PORT=$(sb__pick_port) || return 1
		SB_TLS_PORT=$(sb__pick_port "$SB_DNS_PORT") || return 1
	done
	return 1
}

# sb_write_config FILE: a certvigil config pointing at this sandbox.  The
# body of the `platforms:` list comes from stdin.  SB_CFG_TIMEOUT,
# SB_CFG_DEADLINE and SB_CFG_TRUST override the defaults.
sb_write_config() {
	local file=$1
	{
		printf 'defaults:\n'
		printf '  port: %s\n' "$SB_TLS_PORT"
		printf '  resolvers: ["127.0.0.1:%s"]\n' "$SB_DNS_PORT"
		# The zones' authoritative servers (knotd) listen there too.
		printf '  dns_port: %s\n' "$SB_DNS_PORT"
		printf '  trust: %s\n' "${SB_CFG_TRUST:-$SB_DIR/pki/root.pem}"
		printf '  timeout: %s\n' "${SB_CFG_TIMEOUT:-2s}"
		printf '  deadline: %s\n' "${SB_CFG_DEADLINE:-30s}"
		printf 'platforms:\n'
		cat
	} >"$file"
}
