# shellcheck shell=bash
#
# tests/integration/common.sh: the one kit every integration test sources,
# as its first command (the preamble):
#
#     # shellcheck source-path=SCRIPTDIR source=common.sh
#     . "$(dirname "${BASH_SOURCE[0]}")/common.sh"
#     cv_start tls            # or: none, sandbox, dns, journald; then tools
#
# It sets strict mode (set -Eeuo pipefail, with the line of an unexpected
# failure on stderr), loads the sandbox's worlds (tests/sandbox: lib.sh,
# tls.sh, dns.sh, acme.sh, journald.sh) and gives one set of assertions that
# all count into one tally; cv_finish turns it into the exit status.
#
# Start
#   cv_start WORLD [TOOL...]   exit 77 unless jq, the world's tools and TOOLs
#                              exist (fail if certvigil is not built), then
#                              start WORLD: none (nothing), sandbox (sb_up),
#                              tls (sb_up + sbt_init), dns (sbd_up), journald
#                              (re-run in a mount namespace, jd_nosocket,
#                              sb_up; jd_start when the test wants it)
#   cv_require [TOOL...], cv_up   the two halves of `cv_start sandbox`
#   cv_finish                  exit 1 if any assertion failed, else 0
#
# Running certvigil
#   cv_config NAME <<EOF       sb_write_config $SB_DIR/NAME.yaml (platform list
#                              on stdin); sets CV_CFG to it
#   cv_audit NAME [ARG...]     certvigil audit --config $CV_CFG --format json
#                              -o $SB_DIR/NAME.json ARG...; sets CV_RC (exit
#                              status), CV_MS (wall time), CV_JSON, CV_STDOUT,
#                              CV_STDERR; never exits the test
#   cv_run NAME CMD...         any command, with the same bookkeeping
#   cv_names BASE [SEP] [mcp]  the platform's expected names, space separated
#   cv_expect PLATFORM ID SEVERITY "NAMES" "ADDRS"
#                              expected finding lines, one per name x address
#                              ("-" as ADDRS: a finding without address)
#   cv_listener_start [http]   a silent (or plain-HTTP) UDP+TCP listener on
#                              127.0.0.1:$CV_LISTEN_PORT logging to $CV_LISTEN_LOG
#
# Assertions (each prints PASS or FAIL, with expected and actual values, and
# the test goes on, so one run shows every difference)
#   cv_pass WHAT / cv_fail WHAT   count one assertion by hand
#   assert_ok WHAT CMD...      CMD succeeds (its stdout is dropped)
#   assert_exit N              CV_RC is N
#   assert_findings LINES [JSON]   the sorted finding list, exactly
#   assert_summary STATUS CRIT WARN INFO [JSON]
#   assert_messages ID ERE [JSON]  every finding with ID has a matching message
#   assert_jq WHAT FILTER EXPECTED [JSON], assert_true WHAT FILTER [JSON]
#   assert_eq / assert_match / assert_no_match / assert_file_empty /
#   assert_faster / assert_slower
#   A finding line is "PLATFORM ID SEVERITY NAME ADDRESS" ("-" for a missing
#   name or address).
#
# Waits (they poll for an event, give up after a bound and then return 1:
# wrap them in assert_ok, so a wait that times out fails the test)
#   cv_wait_until MS CMD...    until CMD succeeds
#   cv_wait_clock EPOCH        until the wall clock has passed EPOCH (s)
#   cv_notify_start            the systemd end of the notify protocol
#                              (tests/tools/notify-listen) on $CV_NOTIFY,
#                              logging to $CV_NOTIFY_LOG (also $notify, $log)
#   cv_audits_done             the daemon's last reported "N audits done"
#                              (STATUS= in the notify log), 0 before any
#   cv_wait_audits N [MS] [NAME]   until the daemon has reported N audits done
#                              (10 s by default); fails at once if the
#                              sandbox process NAME (default daemon) is gone
#   cv_wait_more_audits K [MS] [NAME]  K audits more than reported now: what a
#                              negative assertion about later audits waits on
#
# Platform-scoped runs and assertions of the DNS and TLS scenarios
#   dn_config, dn_audit PLATFORM [ARG...] (sets DN_RC, DN_MS, DN_JSON),
#   dn_expect_findings "ID SEVERITY NAME ADDRESS"..., dn_expect_rc N,
#   dn_expect_jq WHAT FILTER, dn_expect_message ID TEXT
#   sbt_audit NAME [ARG...] < platforms (sets SBT_RC, SBT_MS, SBT_JSON; runs
#   under $SBT_WRAP), sbt_expect_rc WHAT RC, sbt_expect PLATFORM "ID SEV"...,
#   sbt_expect_message PLATFORM ID ERE, sbt_expect_json WHAT FILTER
#
# Older names, kept for scripts written against the kits this one replaced:
# pass, fail, expect, $failures (checks.sh); dn_pass, dn_fail, dn_require,
# dn_up, dn_finish, $DN_FAILURES (dns-common.sh); sbt_pass, sbt_fail,
# sbt_done, $SBT_FAILURES (tests/sandbox/tls.sh); notify_require,
# notify_start.

if [[ -n ${CV__LOADED:-} ]]; then
	return 0
fi
CV__LOADED=1

set -Eeuo pipefail
# set -e ends the test on an unexpected failure: say where.
trap 'echo "ERROR: unexpected failure at ${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND" >&2' ERR

# shellcheck source-path=SCRIPTDIR source=../sandbox/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../sandbox/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../sandbox/tls.sh
. "$(dirname "${BASH_SOURCE[0]}")/../sandbox/tls.sh"
# shellcheck source-path=SCRIPTDIR source=../sandbox/dns.sh
. "$(dirname "${BASH_SOURCE[0]}")/../sandbox/dns.sh"
# shellcheck source-path=SCRIPTDIR source=../sandbox/acme.sh
. "$(dirname "${BASH_SOURCE[0]}")/../sandbox/acme.sh"
# shellcheck source-path=SCRIPTDIR source=../sandbox/journald.sh
. "$(dirname "${BASH_SOURCE[0]}")/../sandbox/journald.sh"

CV_FAILURES=0
CV_CHECKS=0
CV_TEST=$(basename "$0" .sh)
CV_RC='' CV_MS='' CV_JSON='' CV_STDOUT='' CV_STDERR='' CV_CFG=''
export LC_ALL=C

cv_log() {
	printf '%s: %s\n' "$CV_TEST" "$*"
}

cv_pass() {
	CV_CHECKS=$((CV_CHECKS + 1))
	printf 'PASS: %s\n' "$*"
}

cv_fail() {
	CV_CHECKS=$((CV_CHECKS + 1))
	CV_FAILURES=$((CV_FAILURES + 1))
	printf 'FAIL: %s\n' "$*"
}

# Indented block for "expected/got" details.
cv__show() {
	local label=$1 text=$2
	printf '    %s:\n' "$label"
	if [[ -z $text ]]; then
		printf '      (nothing)\n'
	else
		printf '%s\n' "$text" | sed 's/^/      /'
	fi
}

cv_require() {
	sb_require_tools jq "$@" || exit 77
	if [[ ! -x $SB_CERTVIGIL ]]; then
		cv_log "$SB_CERTVIGIL is not built (run make, or set SB_BUILDDIR)"
		exit 1
	fi
}

cv_up() {
	if ! sb_up; then
		cv_log "the sandbox did not start"
		exit 1
	fi
}

# cv_start WORLD [TOOL...]: see the top of this file.
cv_start() {
	local world=${1:?cv_start: which world?}
	shift
	case $world in
	none)
		command -v jq >/dev/null 2>&1 || {
			cv_log "SKIP: missing jq"
			exit 77
		}
		local t
		for t in "$@"; do
			command -v "$t" >/dev/null 2>&1 || {
				cv_log "SKIP: missing $t"
				exit 77
			}
		done
		;;
	sandbox) cv_require "$@" && cv_up ;;
	tls)
		cv_require "$@"
		sbt_require_tools || exit 77
		cv_up
		sbt_init || {
			cv_log "the TLS additions did not start"
			exit 1
		}
		;;
	dns)
		cv_require "$@"
		if ! sbd_up; then
			cv_log "the sandbox DNS world did not start"
			exit 1
		fi
		;;
	journald)
		cv_require "$@"
		jd_enter
		jd_nosocket
		cv_up
		;;
	*)
		cv_log "cv_start: unknown world '$world'"
		exit 1
		;;
	esac
}

cv_ms() {
	local t=${EPOCHREALTIME/./}
	printf '%s' "${t:0:-3}"
}

cv_config() {
	CV_CFG=$SB_DIR/$1.yaml
	sb_write_config "$CV_CFG"
}

# cv_run NAME CMD...: runs CMD with stdout and stderr in $SB_DIR/NAME.{out,err}.
cv_run() {
	local name=$1 t0
	shift
	CV_STDOUT=$SB_DIR/$name.out CV_STDERR=$SB_DIR/$name.err
	t0=$(cv_ms)
	CV_RC=0
	"$@" >"$CV_STDOUT" 2>"$CV_STDERR" </dev/null || CV_RC=$?
	CV_MS=$(($(cv_ms) - t0))
	cv_log "ran ($name, exit $CV_RC, ${CV_MS} ms): $*"
	if [[ -s $CV_STDERR ]]; then
		sed 's/^/    stderr: /' "$CV_STDERR" | awk 'NR <= 5'
	fi
}

# cv_audit NAME [ARG...]: the JSON report goes to $SB_DIR/NAME.json via -o.
cv_audit() {
	local name=$1
	shift
	CV_JSON=$SB_DIR/$name.json
	rm -f "$CV_JSON"
	cv_run "$name" "$SB_CERTVIGIL" audit --config "$CV_CFG" --format json -o "$CV_JSON" "$@"
	if [[ ! -s $CV_JSON ]] || ! jq -e 'type == "object"' "$CV_JSON" >/dev/null 2>&1; then
		cv_fail "$name: -o $CV_JSON holds a JSON report"
		return 0
	fi
}

# cv_names BASE [SEP] [mcp]
cv_names() {
	local base=$1 sep=${2:-.} mcp=${3:-} s out=()
	local services=(api console grafana auth)
	[[ $mcp == mcp ]] && services+=(mcp)
	for s in "${services[@]}"; do
		out+=("$s$sep$base")
	done
	printf '%s\n' "${out[*]}"
}

# cv_expect PLATFORM ID SEVERITY "NAMES" "ADDRS"
cv_expect() {
	local platform=$1 id=$2 sev=$3 name_list=$4 addrs=$5 n a
	for n in $name_list; do
		for a in $addrs; do
			printf '%s %s %s %s %s\n' "$platform" "$id" "$sev" "$n" "$a"
		done
	done
}

# cv_pairs "NAMES" "ADDRS": "name address" for every pair, as assert_affected
# expects them.
cv_pairs() {
	local n a
	for n in $1; do
		for a in $2; do
			printf '%s %s\n' "$n" "$a"
		done
	done
}

# The actual finding lines of a report: one per finding (one per root cause,
# named after its first endpoint), " <-CAUSE" after one folded under another.
cv_findings() {
	jq -r '.platforms[] | .name as $p | .findings[] |
		"\($p) \(.id) \(.severity) \(.name // "-") \(.address // "-")" +
		(if .caused_by then " <-\(.caused_by)" else "" end)' "${1:-$CV_JSON}" | sort
}

# --- a silent listener ----------------------------------------------------------

# cv_listener_start [http]: a perl process (a direct child) bound to UDP and
# TCP on the same port of 127.0.0.1 that never answers: DNS queries sent there
# time out, and every datagram or connection is logged, so a test can tell
# whether certvigil sent anything.  With "http", a TCP client that sends
# something gets a plain HTTP 400 response and the connection is closed (a
# non-TLS server).  Sets CV_LISTEN_PORT and CV_LISTEN_LOG.  One at a time.
CV_LISTEN_PID='' CV_LISTEN_PORT='' CV_LISTEN_LOG=''
cv_listener_start() {
	local mode=${1:-silent} portfile=$SB_DIR/listener.port i pre=()
	CV_LISTEN_LOG=$SB_DIR/listener.log
	: >"$CV_LISTEN_LOG"
	rm -f "$portfile"
	command -v setpriv >/dev/null 2>&1 && pre=(setpriv --pdeathsig TERM --)
	# shellcheck disable=SC2016 # perl's variables
	"${pre[@]}" perl -MIO::Socket::INET -MIO::Select -e '
		my ($log, $portfile, $mode) = @ARGV;
		my ($u, $t);
		for (1 .. 50) {
			$u = IO::Socket::INET->new(Proto => "udp", LocalAddr => "127.0.0.1", LocalPort => 0)
				or die "udp: $!";
			$t = IO::Socket::INET->new(Proto => "tcp", LocalAddr => "127.0.0.1",
				LocalPort => $u->sockport, Listen => 16) and last;
		}
		die "no port for both udp and tcp" unless $t;
		open(my $l, ">>", $log) or die "$log: $!";
		$l->autoflush(1);
		open(my $p, ">", "$portfile.tmp") or die; print $p $u->sockport, "\n"; close $p;
		rename("$portfile.tmp", $portfile) or die;
		my $sel = IO::Select->new($u, $t);
		while (1) {
			# UDP last: a marker (cv_listener_sync) must not be logged
			# before a connection that was ready with it.
			for my $s (sort { ($a == $u) <=> ($b == $u) } $sel->can_read) {
				if ($s == $u) {
					my $b; $u->recv($b, 65535);
					# cv_listener_sync: everything sent before it is logged.
					if ($b =~ /^cv-listener-mark (\d+)$/) { print $l "mark $1\n"; next; }
					print $l "udp ", length($b), "\n";
				} elsif ($s == $t) {
					my $c = $t->accept or next; print $l "tcp\n"; $sel->add($c);
				} else {
					my $n = sysread($s, my $b, 65535);
					if ($n && $mode eq "http") {
						print $l "tcp data $n\n";
						syswrite($s, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n" .
							"Content-Length: 12\r\nConnection: close\r\n\r\nBad Request\n");
						$n = 0;
					}
					if (!$n) { $sel->remove($s); close $s; }
				}
			}
		}' "$CV_LISTEN_LOG" "$portfile" "$mode" </dev/null 2>>"$SB_DIR/listener.err" &
	CV_LISTEN_PID=$!
	for ((i = 0; i < 500; i++)); do
		[[ -s $portfile ]] && break
		kill -0 "$CV_LISTEN_PID" 2>/dev/null || break
		sleep 0.01
	done
	if [[ ! -s $portfile ]]; then
		cv_log "the silent listener did not start: $(cat "$SB_DIR/listener.err" 2>/dev/null)"
		cv_listener_stop
		return 1
	fi
	# shellcheck disable=SC2034 # for the tests
	CV_LISTEN_PORT=$(<"$portfile")
	trap 'cv__on_exit' EXIT
}

# cv_listener_sync: sends a marker datagram to the listener and waits until
# it has logged it.  A datagram or connection certvigil sent before is then
# logged too (queued on the same sockets earlier, read first), so "nothing
# reached the listener" can be asserted without a sleep.  Marker lines read
# "mark N"; cv_listener_heard leaves them out.
CV_LISTEN_MARK=0
cv_listener_sync() {
	CV_LISTEN_MARK=$((CV_LISTEN_MARK + 1))
	printf 'cv-listener-mark %d' "$CV_LISTEN_MARK" >"/dev/udp/127.0.0.1/$CV_LISTEN_PORT" || return 1
	cv_wait_until 5000 grep -qx "mark $CV_LISTEN_MARK" "$CV_LISTEN_LOG"
}

# cv_listener_heard: what the listener logged besides the markers.
cv_listener_heard() {
	grep -v '^mark [0-9]*$' "$CV_LISTEN_LOG" || true
}

cv_listener_stop() {
	if [[ -n ${CV_LISTEN_PID:-} ]]; then
		kill -TERM "$CV_LISTEN_PID" 2>/dev/null || true
		wait "$CV_LISTEN_PID" 2>/dev/null || true
		CV_LISTEN_PID=
	fi
}

# Replaces lib.sh's EXIT trap once the listener runs (lib.sh asks for
# sb_cleanup to be called from any trap that replaces its own).
cv__on_exit() {
	local rc=$?
	cv_listener_stop
	sb_cleanup || true
	return "$rc"
}

# --- assertions --------------------------------------------------------------

# assert_ok WHAT CMD...: CMD succeeds (its stdout is dropped, stderr shown).
assert_ok() {
	local what=$1
	shift
	if "$@" >/dev/null; then
		cv_pass "$what"
	else
		cv_fail "$what"
	fi
}

assert_eq() {
	local what=$1 exp=$2 got=$3
	if [[ $exp == "$got" ]]; then
		cv_pass "$what"
	else
		cv_fail "$what"
		cv__show expected "$exp"
		cv__show got "$got"
	fi
}

# assert_match WHAT ERE TEXT: TEXT (all of it) matches the extended regex.
assert_match() {
	local what=$1 re=$2 got=$3
	if [[ $got =~ $re ]]; then
		cv_pass "$what"
	else
		cv_fail "$what"
		cv__show "expected to match" "$re"
		cv__show got "$got"
	fi
}

assert_no_match() {
	local what=$1 re=$2 got=$3
	if [[ ! $got =~ $re ]]; then
		cv_pass "$what"
	else
		cv_fail "$what"
		cv__show "expected not to match" "$re"
		cv__show got "$got"
	fi
}

assert_exit() {
	assert_eq "exit status is $1" "$1" "$CV_RC"
}

# assert_findings EXPECTED_LINES [JSON]: the sorted finding list, exactly.
assert_findings() {
	local exp got
	exp=$(printf '%s\n' "$1" | sed '/^[[:space:]]*$/d' | sort)
	got=$(cv_findings "${2:-$CV_JSON}" 2>&1) || true
	if [[ $exp == "$got" ]]; then
		cv_pass "findings: $(printf '%s\n' "$exp" | sed '/^$/d' | wc -l) as expected"
	else
		cv_fail "findings differ from the expected list"
		cv__show expected "$exp"
		cv__show got "$got"
		printf '    diff (-expected +got):\n'
		{ diff <(printf '%s\n' "$exp") <(printf '%s\n' "$got") || true; } |
			sed -n 's/^</      -/p; s/^>/      +/p'
	fi
}

# assert_affected PLATFORM ID EXPECTED [JSON]: the endpoints ("name address",
# "-" for no address) the finding ID of PLATFORM affects, every one of them if
# it is there more than once.
assert_affected() {
	local exp got
	exp=$(printf '%s\n' "$3" | sed '/^[[:space:]]*$/d' | sort)
	got=$(jq -r --arg p "$1" --arg id "$2" '.platforms[] | select(.name == $p) | .findings[] |
		select(.id == $id) | .affected[] | "\(.name) \(.address // "-")"' "${4:-$CV_JSON}" 2>&1 | sort)
	if [[ $exp == "$got" ]]; then
		cv_pass "$1 $2 affects $(printf '%s\n' "$exp" | sed '/^$/d' | wc -l) endpoint(s) as expected"
	else
		cv_fail "$1 $2: the endpoints affected differ"
		cv__show expected "$exp"
		cv__show got "$got"
	fi
}

# assert_summary STATUS CRITICAL WARNING INFO [JSON]
assert_summary() {
	local json=${5:-$CV_JSON}
	assert_eq "status is $1, summary $2 critical / $3 warning / $4 info" \
		"$1 {\"critical\":$2,\"warning\":$3,\"info\":$4}" \
		"$(jq -r '.status' "$json" 2>&1) $(jq -c '.summary' "$json" 2>&1)"
}

# assert_jq WHAT FILTER EXPECTED [JSON]: jq -c output (one line per result).
assert_jq() {
	local what=$1 filter=$2 exp=$3 json=${4:-$CV_JSON}
	assert_eq "$what" "$exp" "$(jq -c "$filter" "$json" 2>&1)"
}

# assert_true WHAT FILTER [JSON]: the jq filter yields true.
assert_true() {
	local what=$1 filter=$2 json=${3:-$CV_JSON} got
	got=$(jq -c "$filter" "$json" 2>&1)
	if [[ $got == true ]]; then
		cv_pass "$what"
	else
		cv_fail "$what"
		cv__show "jq filter" "$filter"
		cv__show got "$got"
	fi
}

# assert_messages ID ERE [JSON]: there are findings with ID, and every one's
# message matches ERE (in which @NAME@ and @ADDR@ stand for the names and the
# addresses the finding affects, listed as certvigil lists them in a message:
# "a", "a and b", "a, b and c", "a, b and 3 more"; regex-escaped).
assert_messages() {
	local id=$1 re=$2 json=${3:-$CV_JSON} n=0 bad=() name addr msg r qname qaddr
	while IFS=$'\t' read -r name addr msg; do
		n=$((n + 1))
		qname=${name//./\\.} qaddr=${addr//./\\.}
		r=${re//@NAME@/$qname}
		r=${r//@ADDR@/$qaddr}
		[[ $msg =~ $r ]] || bad+=("$msg")
	done < <(jq -r --arg id "$id" '
		def distinct: reduce .[] as $x ([]; if index([$x]) then . else . + [$x] end);
		def listed: if length == 0 then "-" elif length == 1 then .[0]
			elif length == 2 then "\(.[0]) and \(.[1])"
			elif length == 3 then "\(.[0]), \(.[1]) and \(.[2])"
			else "\(.[0]), \(.[1]) and \(length - 2) more" end;
		.platforms[].findings[] | select(.id == $id) |
		[([.affected[].name] | distinct | listed),
		 ([.affected[].address // empty] | distinct | listed), .message] | @tsv' "$json")
	if ((n > 0 && ${#bad[@]} == 0)); then
		cv_pass "all $n $id messages match /$re/"
	else
		cv_fail "$id messages match /$re/ ($n found, ${#bad[@]} do not match)"
		if ((${#bad[@]})); then
			cv__show "not matching" "$(printf '%s\n' "${bad[@]}")"
		fi
	fi
}

# assert_file_empty WHAT FILE
assert_file_empty() {
	local what=$1 file=$2
	if [[ ! -s $file ]]; then
		cv_pass "$what"
	else
		cv_fail "$what"
		cv__show got "$(head -c 2000 "$file")"
	fi
}

# assert_faster WHAT MS LIMIT_MS
assert_faster() {
	local what=$1 ms=$2 limit=$3
	if ((ms < limit)); then
		cv_pass "$what (${ms} ms < ${limit} ms)"
	else
		cv_fail "$what (took ${ms} ms, limit ${limit} ms)"
	fi
}

assert_slower() {
	local what=$1 ms=$2 limit=$3
	if ((ms >= limit)); then
		cv_pass "$what (${ms} ms >= ${limit} ms)"
	else
		cv_fail "$what (took ${ms} ms, expected at least ${limit} ms)"
	fi
}

# --- waits ---------------------------------------------------------------------

# cv_wait_until MS CMD...: polls CMD every 10 ms; 1 when MS pass first.
cv_wait_until() {
	local ms=$1 deadline
	shift
	deadline=$(($(sb__ms) + ms))
	until "$@" >/dev/null 2>&1; do
		if (($(sb__ms) >= deadline)); then
			cv_log "waited $ms ms in vain for: $*"
			return 1
		fi
		sb__sleep 0.01
	done
}

# cv_wait_clock EPOCH: until the wall clock (whole seconds) has passed EPOCH,
# for guardrails that count in seconds (backoff, min_interval).
cv_wait_clock() {
	while (($(sb__ms) / 1000 <= $1)); do
		sb__sleep 0.05
	done
}

# cv_failing_hook: writes $SB_DIR/hook.sh, a renewal command that appends
# $CERTVIGIL_PLATFORM to $CV_HOOK_RUNS ($SB_DIR/hook-runs), says on stderr
# that the CA said no and exits 3, so a test can count who ran it.
CV_HOOK_RUNS=''
cv_failing_hook() {
	CV_HOOK_RUNS=$SB_DIR/hook-runs
	cat >"$SB_DIR/hook.sh" <<-EOF
		#!/bin/bash
		echo "\$CERTVIGIL_PLATFORM" >>"$CV_HOOK_RUNS"
		echo "hook: the CA said no" >&2
		exit 3
	EOF
}

# cv_notify_start: tests/tools/notify-listen on $SB_DIR/notify.sock (give it
# to the daemon as NOTIFY_SOCKET=$CV_NOTIFY), every datagram logged to
# $CV_NOTIFY_LOG.  Skips the test (77) when the listener is not built.
CV_NOTIFY='' CV_NOTIFY_LOG=''
cv_notify_start() {
	local listen=$SB_BUILDDIR/tests/tools/notify-listen
	if [[ ! -x $listen ]]; then
		cv_log "SKIP: $listen not built"
		exit 77
	fi
	sb_init || exit 1
	CV_NOTIFY=$SB_DIR/notify.sock
	CV_NOTIFY_LOG=$SB_DIR/notify.log
	# The names the daemon tests used before the kit had them.
	notify=$CV_NOTIFY
	log=$CV_NOTIFY_LOG
	sb__spawn notify "$CV_NOTIFY_LOG" "$listen" "$CV_NOTIFY"
	if ! sb__wait_ready notify 2000 "$CV_NOTIFY_LOG" test -S "$CV_NOTIFY"; then
		cv_log "the notify listener did not start"
		exit 1
	fi
}

# cv_audits_done: the daemon's last "N audits done" in the notify log (the
# STATUS= it sends after every audit), 0 before the first.  Truncate the log
# (: >"$CV_NOTIFY_LOG") when starting another daemon.
cv_audits_done() {
	awk 'match($0, /STATUS=.* [0-9]+ audits? done/) {
			s = substr($0, RSTART, RLENGTH); sub(/ audits? done$/, "", s); sub(/.* /, "", s); n = s
		} END { print n + 0 }' "$CV_NOTIFY_LOG" 2>/dev/null || echo 0
}

# cv_wait_audits N [MS] [NAME]: until the daemon has reported N audits done.
cv_wait_audits() {
	local n=$1 ms=${2:-10000} name=${3:-daemon} deadline pid
	deadline=$(($(sb__ms) + ms))
	pid=${SB_PIDS[$name]:-}
	while (($(cv_audits_done) < n)); do
		if [[ -n $pid ]] && ! sb__is_running "$pid"; then
			cv_log "$name exited before reporting $n audits done (last: $(cv_audits_done))"
			return 1
		fi
		if (($(sb__ms) >= deadline)); then
			cv_log "$name did not report $n audits done within $ms ms (last: $(cv_audits_done))"
			return 1
		fi
		sb__sleep 0.01
	done
}

# cv_wait_more_audits K [MS] [NAME]: K audits more than reported now.
cv_wait_more_audits() {
	cv_wait_audits $(($(cv_audits_done) + $1)) "${2:-10000}" "${3:-daemon}"
}

# --- the DNS scenarios: one platform at a time ------------------------------------

DN_RC='' DN_MS='' DN_JSON='' DN_PLATFORM='' DN_CFG=''

dn_config() {
	DN_CFG=$SB_DIR/dns.yaml
	sb_write_config "$DN_CFG"
}

# dn_audit PLATFORM [ARG...]: audits that platform alone.
dn_audit() {
	local t0
	DN_PLATFORM=$1
	shift
	DN_JSON=$SB_DIR/$DN_PLATFORM.json
	rm -f "$DN_JSON"
	t0=$(sb__ms)
	DN_RC=0
	"$SB_CERTVIGIL" audit --config "$DN_CFG" --platform "$DN_PLATFORM" --format json -o "$DN_JSON" "$@" \
		>"$SB_DIR/$DN_PLATFORM.out" 2>"$SB_DIR/$DN_PLATFORM.err" </dev/null || DN_RC=$?
	DN_MS=$(($(sb__ms) - t0))
	printf -- '--- %s: exit %s in %s ms\n' "$DN_PLATFORM" "$DN_RC" "$DN_MS"
	if [[ -s $SB_DIR/$DN_PLATFORM.err ]]; then
		sed 's/^/    stderr: /' "$SB_DIR/$DN_PLATFORM.err" | awk 'NR <= 5'
	fi
	if ! jq -e 'type == "object"' "$DN_JSON" >/dev/null 2>&1; then
		cv_fail "$DN_PLATFORM: a JSON report was written"
		DN_JSON=/dev/null
	fi
}

dn__platform() {
	jq --arg p "$DN_PLATFORM" '.platforms[] | select(.name == $p)' "$DN_JSON"
}

# dn_expect_findings "ID SEVERITY NAME ADDRESS[ <-CAUSE]"...: the platform's
# findings, exactly (none given: no finding; one per problem, named after its
# first endpoint; <-CAUSE when folded under another).
dn_expect_findings() {
	local want got
	want=$(printf '%s\n' "$@" | sed '/^$/d' | sort)
	got=$(dn__platform | jq -r '.findings[] | "\(.id) \(.severity) \(.name // "-") \(.address // "-")" +
		(if .caused_by then " <-\(.caused_by)" else "" end)' | sort)
	if [[ $want == "$got" ]]; then
		cv_pass "$DN_PLATFORM: findings are exactly: ${*:-none}"
	else
		cv_fail "$DN_PLATFORM: findings"
		# shellcheck disable=SC2001 # indents every line, not one string
		printf '    expected:\n%s\n    got:\n%s\n' "$(sed 's/^/      /' <<<"${want:-(none)}")" \
			"$(sed 's/^/      /' <<<"${got:-(none)}")"
		dn__platform | jq -r '.findings[] | "      \(.id): \(.message)"'
	fi
}

dn_expect_rc() {
	if [[ $DN_RC == "$1" ]]; then
		cv_pass "$DN_PLATFORM: exit status $1"
	else
		cv_fail "$DN_PLATFORM: exit status $DN_RC, expected $1"
	fi
}

# dn_expect_jq WHAT FILTER: jq -e FILTER holds on the platform's JSON object.
dn_expect_jq() {
	if dn__platform | jq -e "$2" >/dev/null 2>&1; then
		cv_pass "$DN_PLATFORM: $1"
	else
		cv_fail "$DN_PLATFORM: $1 ($2)"
		local facts
		facts=$(dn__platform | jq -c '.dns')
		printf '%s\n' "${facts:0:3000}"
	fi
}

# dn_expect_message ID TEXT: the finding ID's message contains TEXT.
dn_expect_message() {
	local id=$1 text=$2
	if dn__platform | jq -e --arg id "$id" --arg t "$text" \
		'[.findings[] | select(.id == $id) | .message | contains($t)] | any' >/dev/null 2>&1; then
		cv_pass "$DN_PLATFORM: $id says \"$text\""
	else
		cv_fail "$DN_PLATFORM: $id should say \"$text\""
		dn__platform | jq -r --arg id "$id" '.findings[] | select(.id == $id) | "      \(.message)"'
	fi
}

# --- the TLS scenarios: findings as a set of "id severity" ------------------------

SBT_RC='' SBT_MS='' SBT_JSON=''

# sbt_audit NAME [CERTVIGIL OPTIONS...] < platforms: writes the config
# (sb_write_config), runs `certvigil audit --format json` (under
# $SBT_WRAP, e.g. "faketime -f +63d"), keeps the report in
# $SB_DIR/NAME.json and the exit status in SBT_RC, the wall time in SBT_MS.
sbt_audit() {
	local name=$1 t0
	shift
	sb_write_config "$SB_DIR/$name.yaml"
	t0=$(sb__ms)
	SBT_RC=0
	# shellcheck disable=SC2086 # SBT_WRAP is a command prefix
	${SBT_WRAP:-} "$SB_CERTVIGIL" audit --config "$SB_DIR/$name.yaml" --format json "$@" \
		>"$SB_DIR/$name.json" 2>"$SB_DIR/$name.err" || SBT_RC=$?
	SBT_MS=$(($(sb__ms) - t0))
	SBT_JSON=$SB_DIR/$name.json
}

# sbt_expect_rc WHAT RC
sbt_expect_rc() {
	if [[ $SBT_RC == "$2" ]]; then
		cv_pass "$1: exit status $2"
	else
		cv_fail "$1: exit status $SBT_RC, expected $2"
		sed 's/^/    /' "$SB_DIR"/*.err 2>/dev/null | tail -5
	fi
}

# sbt_findings PLATFORM: "id severity" lines, sorted, duplicates removed.
sbt_findings() {
	jq -r --arg p "$1" '.platforms[] | select(.name == $p) | .findings[] | "\(.id) \(.severity)"' \
		"$SBT_JSON" | sort -u
}

# sbt_expect PLATFORM "id severity"...: the platform's findings are exactly
# these (as a set; none given means no finding at all).
sbt_expect() {
	local p=$1 want got
	shift
	want=$(printf '%s\n' "$@" | sed '/^$/d' | sort -u)
	got=$(sbt_findings "$p")
	if [[ $got == "$want" ]]; then
		cv_pass "$p: findings {${want//$'\n'/, }}"
	else
		cv_fail "$p: findings {${got//$'\n'/, }}, expected {${want//$'\n'/, }}"
		jq -r --arg p "$p" '.platforms[] | select(.name == $p) | .findings[] | "    \(.id) \(.address // "-"): \(.message)"' \
			"$SBT_JSON" | awk 'NR <= 12'
	fi
}

# sbt_expect_message PLATFORM ID REGEX: some finding ID of the platform has
# a message matching REGEX (grep -E).
sbt_expect_message() {
	local msgs
	msgs=$(jq -r --arg p "$1" --arg id "$2" \
		'.platforms[] | select(.name == $p) | .findings[] | select(.id == $id) | .message' "$SBT_JSON")
	if grep -qE -- "$3" <<<"$msgs"; then
		cv_pass "$1: $2 says /$3/"
	else
		cv_fail "$1: no $2 message matches /$3/"
		printf '    %s\n' "${msgs:0:600}"
	fi
}

# sbt_expect_json WHAT JQ-EXPRESSION: the expression is true on the report.
sbt_expect_json() {
	if jq -e "$2" "$SBT_JSON" >/dev/null 2>&1; then
		cv_pass "$1"
	else
		cv_fail "$1 ($2)"
	fi
}

cv_finish() {
	# The EXIT trap may end non-zero on purpose: not an unexpected failure.
	trap - ERR
	if ((CV_FAILURES)); then
		printf '%s: %d of %d checks FAILED (SB_KEEP=1 keeps the scratch directory)\n' \
			"$CV_TEST" "$CV_FAILURES" "$CV_CHECKS"
		exit 1
	fi
	printf '%s: all %d checks passed\n' "$CV_TEST" "$CV_CHECKS"
	exit 0
}

# --- older names ----------------------------------------------------------------
# What tests written against the kits this one replaced call; one tally.

# shellcheck disable=SC2034 # read and written by those tests
declare -n failures=CV_FAILURES DN_FAILURES=CV_FAILURES SBT_FAILURES=CV_FAILURES
pass() { cv_pass "$@"; }
fail() { cv_fail "$@"; }
expect() { assert_ok "$@"; }
dn_pass() { cv_pass "$@"; }
dn_fail() { cv_fail "$@"; }
dn_require() { cv_require "$@"; }
dn_up() {
	if ! sbd_up; then
		cv_log "the sandbox DNS world did not start"
		exit 1
	fi
}
dn_finish() { cv_finish; }
sbt_pass() { cv_pass "$@"; }
sbt_fail() { cv_fail "$@"; }
sbt_done() { cv_finish; }
notify_require() { :; }
notify_start() { cv_notify_start; }
