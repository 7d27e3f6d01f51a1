# shellcheck shell=bash
#
# tests/integration/common.sh: what certvigil's integration scenarios share.
# Sourced after `set -euo pipefail`; it sources tests/sandbox/lib.sh.
#
#   cv_require [TOOL...]       exit 77 unless the sandbox's tools, jq and TOOLs
#                              exist; fail if certvigil is not built
#   cv_up                      sb_up, failing the test if the world cannot start
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
#   assert_exit N              CV_RC is N
#   assert_findings LINES [JSON]   the sorted finding list, exactly
#   assert_summary STATUS CRIT WARN INFO [JSON]
#   assert_messages ID ERE [JSON]  every finding with ID has a matching message
#   assert_jq WHAT FILTER EXPECTED [JSON], assert_true WHAT FILTER [JSON]
#   assert_eq / assert_match / assert_no_match / assert_file_empty /
#   assert_faster / assert_slower
#   cv_finish                  exit 1 if any assertion failed, else 0
#
# A finding line is "PLATFORM ID SEVERITY NAME ADDRESS" ("-" for a missing
# name or address).  Every assertion prints PASS or FAIL (with expected and
# actual values) and the test goes on, so one run shows every difference.

# shellcheck source-path=SCRIPTDIR source=../sandbox/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../sandbox/lib.sh"

CV_FAILURES=0
CV_CHECKS=0
CV_TEST=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
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
		sed 's/^/    stderr: /' "$CV_STDERR" | head -n 5
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
			for my $s ($sel->can_read) {
				if ($s == $u) {
					my $b; $u->recv($b, 65535); print $l "udp ", length($b), "\n";
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

cv_finish() {
	if ((CV_FAILURES)); then
		printf '%s: %d of %d checks FAILED (SB_KEEP=1 keeps the scratch directory)\n' \
			"$CV_TEST" "$CV_FAILURES" "$CV_CHECKS"
		exit 1
	fi
	printf '%s: all %d checks passed\n' "$CV_TEST" "$CV_CHECKS"
	exit 0
}
