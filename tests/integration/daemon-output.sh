#!/bin/bash
#
# daemon-output.sh: `certvigil daemon --format FMT -o FILE` (issue 12: the
# daemon without a journal writes its report to a file as audits finish).
#   1. prometheus: after the first audit FILE exists and passes `promtool
#      check metrics`; it holds every platform's last audit (two platforms)
#      and the daemon's own families, as /metrics does
#   2. every write replaces FILE by a rename (its inode changes) and a reader
#      never sees half a document, however often it reads; each document
#      counts the write that made it
#   3. a change in the sandbox (auth.ok gets an address nothing listens on)
#      shows in FILE after the next audits; it stays a valid textfile
#   4. a write that fails later (FILE's directory removed) is logged, the
#      daemon goes on auditing, and the next good write counts the failure
#      (certvigil_report_write_failures_total); 4b. at a 1h interval a failed
#      write is tried again without an audit: FILE is back within seconds of
#      its directory; 4c. SIGTERM's write failing is logged, the exit still 0
#   5. json: the file is /report.json's document, jq reads it
#   6. refused at start, exit 3 before any audit: a missing directory (named),
#      stdout or a FIFO, a format the daemon cannot write, --format alone, a
#      CERTVIGIL_REPORT_GAP that is no duration above 0

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start sandbox promtool
cv_notify_start

cfg=$SB_DIR/certvigil.yaml
# write_config INTERVAL: both platforms audited every INTERVAL.
write_config() {
	sb_write_config "$cfg" <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    interval: $1
    jitter: 0s
  - name: mixed
    global: { baseDomain: mixed.example.test }
    interval: $1
    jitter: 0s
EOF
}
write_config 100ms
out=$SB_DIR/out
mkdir -p "$out"

# start_daemon NAME ARG...: a daemon writing what ARG says; stderr in
# $SB_DIR/NAME.err, its audits counted afresh.
start_daemon() {
	local name=$1
	shift
	: >"$CV_NOTIFY_LOG"
	NOTIFY_SOCKET=$CV_NOTIFY sb__spawn daemon "$SB_DIR/$name.err" "$SB_CERTVIGIL" daemon --config "$cfg" \
		--log-target stderr --state-dir "$SB_DIR/state-$name" "$@"
}
stop_daemon() {
	local rc=0 pid
	pid=$(sb_pid daemon)
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	unset 'SB_PIDS[daemon]'
	assert_eq "$1: SIGTERM ends the daemon with status 0" 0 "$rc"
}
# complete_doc: $doc is a whole /metrics document, first family to last line.
complete_doc() {
	[[ $doc == '# HELP '* && $doc =~ certvigil_report_write_failures_total\ [0-9]+$'\n'?$ ]]
}
# complete_prom FILE: the same for what FILE holds.
complete_prom() {
	doc=$(<"$1")
	complete_doc
}
has_both() {
	grep -q '^certvigil_last_audit_timestamp_seconds{platform="ok"}' "$1" &&
		grep -q '^certvigil_last_audit_timestamp_seconds{platform="mixed"}' "$1"
}

# --- 1. prometheus after the first audit -------------------------------------------
prom=$out/certvigil.prom
start_daemon prom --format prometheus -o "$prom"
assert_ok "prom: the first audit is done" cv_wait_audits 1
assert_ok "prom: FILE exists after the first audit" test -s "$prom"
assert_ok "prom: promtool check metrics accepts FILE" promtool check metrics <"$prom"
assert_ok "prom: FILE is a whole document" complete_prom "$prom"
assert_ok "prom: no write failed" grep -qx 'certvigil_report_write_failures_total 0' "$prom"
assert_ok "prom: FILE gets both platforms' last audits" cv_wait_until 10000 has_both "$prom"
cp "$prom" "$SB_DIR/both.prom"
for re in '^certvigil_audits_total\{platform="ok"\} [1-9]' '^certvigil_audits_total\{platform="mixed"\} [1-9]' \
	'^certvigil_finding\{platform="mixed",id="tls.expiry.critical",severity="critical",name="api.mixed.example.test"\} 4$' \
	'^certvigil_finding_open\{platform="mixed",id="tls.expiry.critical",severity="critical",name="api.mixed.example.test"\} [0-9]{10}$' \
	'^certvigil_shard_info\{shard="1",shards="1"\} 1$'; do
	assert_ok "prom: FILE has $re" grep -qE "$re" "$SB_DIR/both.prom"
done
assert_ok "prom: both platforms: promtool still accepts FILE" promtool check metrics <"$SB_DIR/both.prom"

# --- 2. replaced by a rename, never seen half written ---------------------------------
# The document read now stays open: its inode cannot be reused for a later
# one, so a new inode at FILE means a rename, and the old one stays whole.
# Each document counts the write that made it (certvigil_report_writes_total).
exec {held}<"$prom"
ino1=$(stat -L -c %i "/proc/$$/fd/$held")
writes_re=$'\n'certvigil_report_writes_total' ([0-9]+)'
doc=$(<"$prom")
w0=''
[[ $doc =~ $writes_re ]] && w0=${BASH_REMATCH[1]}
assert_ok "atomic: FILE says which write made it ($w0)" test -n "$w0"
w0=${w0:-0} w=${w0:-0}
reads=0 partial=0
# Read as fast as the shell can (read -d '' is a builtin: one open() per
# read, so one inode) while the audits go on and FILE is written 3 more
# times (at most once a second).
while ((w < w0 + 3 && reads < 500000)); do
	for _ in {1..100}; do
		doc=''
		IFS= read -r -d '' doc <"$prom" || [[ -n $doc ]]
		reads=$((reads + 1))
		complete_doc || partial=$((partial + 1))
		[[ $doc =~ $writes_re ]] && w=${BASH_REMATCH[1]}
	done
done
assert_ok "atomic: 3 more writes came (write $w0 -> $w, $reads reads)" test "$w" -ge $((w0 + 3))
assert_ok "atomic: the reads saw whole documents only ($partial of $reads partial)" test "$partial" = 0
assert_ok "atomic: reads outnumber writes 10 to 1, so they overlapped them" test "$reads" -gt 30
ino2=$(stat -c %i "$prom")
assert_ok "atomic: FILE is a new inode ($ino1 -> $ino2): replaced by a rename" test "$ino1" != "$ino2"
assert_ok "atomic: the document held open is still whole" complete_prom "/proc/$$/fd/$held"
exec {held}<&-

# --- 3. a change in the sandbox shows ----------------------------------------------
failed_ok='^certvigil_finding\{platform="ok",id="tls.connect.failed",'
assert_ok "change: before it, no tls.connect.failed for ok" bash -c "! grep -qE '$failed_ok' '$prom'"
sb_knot_set auth.ok.example.test A 127.0.0.3
n1=$(cv_audits_done)
assert_ok "change: FILE shows tls.connect.failed for auth.ok (127.0.0.3)" \
	cv_wait_until 10000 grep -qE "${failed_ok}severity=\"critical\",name=\"auth.ok.example.test\"\\} 1$" "$prom"
assert_ok "change: it took later audits ($n1 before, $(cv_audits_done) now)" test "$(cv_audits_done)" -gt "$n1"
cp "$prom" "$SB_DIR/changed.prom"
assert_ok "change: promtool check metrics accepts FILE" promtool check metrics <"$SB_DIR/changed.prom"
assert_ok "change: the other platform is still there" has_both "$SB_DIR/changed.prom"
sb_knot_unset auth.ok.example.test A 127.0.0.3

# --- 4. a failed write is logged and counted; the daemon goes on ------------------------
rm -rf "$out"
assert_ok "failure: the daemon says it cannot write FILE and will try again" \
	cv_wait_until 10000 grep -q "cannot write the report to $prom: .*; trying again in " "$SB_DIR/prom.err"
assert_ok "failure: the daemon audits on (3 more)" cv_wait_more_audits 3
assert_ok "failure: the daemon is still running" sb__is_running "$(sb_pid daemon)"
mkdir -p "$out"
assert_ok "failure: FILE is back once its directory is" cv_wait_until 10000 test -s "$prom"
assert_ok "failure: the next good write counts the failed ones" \
	grep -qE '^certvigil_report_write_failures_total [1-9][0-9]*$' "$prom"
stop_daemon prom
assert_ok "prom: no temporary file is left beside FILE" test "$(find "$out" -mindepth 1 | wc -l)" = 1

# --- 4b. a failed write is tried again without another audit ----------------------------
# At a 1h interval, after the first round, a reload that adds a platform
# makes exactly one audit (the new platform's, at once), so exactly one
# write, which fails (FILE's directory removed). No audit comes after it:
# FILE must come back on its own once the directory is.
write_config 1h
retry_dir=$SB_DIR/retry
mkdir -p "$retry_dir"
retry=$retry_dir/certvigil.prom
start_daemon retry --format prometheus -o "$retry"
assert_ok "retry: the first round is done" cv_wait_audits 2
assert_ok "retry: FILE gets both platforms" cv_wait_until 10000 has_both "$retry"
rm -rf "$retry_dir"
cat >>"$cfg" <<EOF
  - name: extra
    global: { baseDomain: ok.example.test }
    interval: 1h
    jitter: 0s
EOF
kill -HUP "$(sb_pid daemon)"
assert_ok "retry: the new platform's audit is done" cv_wait_audits 3
assert_ok "retry: its write failed (the failure counted first)" \
	cv_wait_until 10000 grep -q "cannot write the report to $retry: .*; trying again in " "$SB_DIR/retry.err"
failed=$(grep -c "cannot write the report to $retry: " "$SB_DIR/retry.err")
assert_ok "retry: FILE is missing, $failed writes failed" test ! -e "$retry" -a "$failed" -ge 1
t0=$(cv_ms)
mkdir -p "$retry_dir"
assert_ok "retry: FILE is back within seconds of its directory, with no audit" cv_wait_until 10000 test -s "$retry"
cv_log "retry: FILE came back $(($(cv_ms) - t0)) ms after its directory, $failed writes failed before"
assert_eq "retry: no audit ran meanwhile" 3 "$(cv_audits_done)"
assert_ok "retry: the good write counts the failed ones" \
	grep -qE '^certvigil_report_write_failures_total [1-9][0-9]*$' "$retry"
assert_ok "retry: FILE has the new platform" grep -q '^certvigil_audits_total{platform="extra"} 1$' "$retry"
stop_daemon retry

# --- 4c. SIGTERM's write fails: logged, and the daemon still exits 0 -------------------
# Writes an hour apart (CERTVIGIL_REPORT_GAP, for tests): the first audit is
# written at once, the second waits for SIGTERM, which finds no directory.
rm -rf "$retry_dir"
mkdir -p "$retry_dir"
CERTVIGIL_REPORT_GAP=1h start_daemon last --format prometheus -o "$retry"
assert_ok "last: the first round is done" cv_wait_audits 3
assert_ok "last: FILE has the first audit" test -s "$retry"
rm -rf "$retry_dir"
stop_daemon last
assert_ok "last: the daemon says SIGTERM's write failed" \
	grep -q "cannot write the report to $retry: .*; stopping without it$" "$SB_DIR/last.err"
assert_eq "last: that one write failed, nothing was tried again" 1 \
	"$(grep -c "cannot write the report to $retry: " "$SB_DIR/last.err")"
write_config 100ms

# --- 5. json ---------------------------------------------------------------------------
json=$out/report.json
start_daemon json --format json -o "$json"
assert_ok "json: the first audit is done" cv_wait_audits 1
assert_ok "json: jq reads FILE as a JSON report" jq -e '.format >= 4 and (.platforms | length >= 1)' "$json"
assert_ok "json: FILE gets both platforms" cv_wait_until 10000 \
	jq -e '[.platforms[].name] | sort == ["mixed", "ok"]' "$json"
assert_ok "json: the status is the worst of both (mixed's old certificate)" jq -e '.status == "critical"' "$json"
stop_daemon json
# -o alone writes the JSON report.
start_daemon json-default -o "$out/default.json"
assert_ok "json by default: the first audit is done" cv_wait_audits 1
assert_ok "json by default: jq reads FILE" jq -e '.platforms | length >= 1' "$out/default.json"
stop_daemon json-default

# --- 6. refused at start ------------------------------------------------------------------
# usage NAME ERE ARG...: exit 3 at once, stderr matches ERE, no audit ran.
usage() {
	local name=$1 re=$2
	shift 2
	: >"$CV_NOTIFY_LOG"
	cv_run "$name" env NOTIFY_SOCKET="$CV_NOTIFY" timeout 10 "$SB_CERTVIGIL" daemon --config "$cfg" \
		--log-target stderr --state-dir "$SB_DIR/state-$name" "$@"
	assert_exit 3
	assert_match "$name: stderr says why" "$re" "$(cat "$CV_STDERR")"
	assert_eq "$name: no audit ran" 0 "$(cv_audits_done)"
}
usage missing-dir "^certvigil: cannot write the report to $SB_DIR/nowhere/x.prom: directory $SB_DIR/nowhere: No such file or directory$" \
	--format prometheus -o "$SB_DIR/nowhere/x.prom"
: >"$SB_DIR/plain"
usage dir-is-file "^certvigil: cannot write the report to $SB_DIR/plain/x.json: Not a directory$" \
	-o "$SB_DIR/plain/x.json"
usage stdout "^certvigil daemon: -o -: the daemon replaces a regular file" --format json -o -
mkfifo "$SB_DIR/fifo"
usage fifo "^certvigil daemon: -o $SB_DIR/fifo: the daemon replaces a regular file" -o "$SB_DIR/fifo"
usage text "^certvigil daemon: --format: 'text' is not json or prometheus$" --format text -o "$out/x"
usage format-alone "^certvigil daemon: --format says what -o FILE gets; -o is missing$" --format json
# The tests' write gap (CERTVIGIL_REPORT_GAP) is a duration above 0.
CERTVIGIL_REPORT_GAP=soon usage bad-gap "^certvigil: CERTVIGIL_REPORT_GAP: 'soon' is not a duration above 0 " -o "$out/x"
CERTVIGIL_REPORT_GAP=0 usage zero-gap "^certvigil: CERTVIGIL_REPORT_GAP: '0' is not a duration above 0 " -o "$out/x"

cv_finish
