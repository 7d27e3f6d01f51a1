#!/bin/bash
#
# output-target.sh: what -o does with what is already there.
#   1. a FIFO is written through (a reader of this test gets the JSON
#      report) and stays a FIFO; so does a symbolic link to it
#   2. a character device made by this test (as root: the null device's
#      numbers, in the scratch directory) stays a character device; then
#      /dev/null itself, only once the private node has passed, so a build
#      that renames over devices never touches the system's
#   3. -o - is stdout: the report there, no file named '-'
#   4. a regular file is replaced by a rename (a new inode) and a symbolic
#      link to one keeps pointing at it, the file it names replaced
#   5. a directory that does not exist: exit 3 at once, naming the path,
#      before any DNS query: the platform's resolver is a silent listener
#      of this test, which hears nothing (and, as a positive control, hears
#      the queries of the same audit with a good -o)

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start sandbox mkfifo

cv_config out <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
EOF
# run NAME -o TARGET: an audit of the healthy platform; sets CV_RC, CV_STDOUT.
run() {
	local name=$1
	shift
	cv_run "$name" "$SB_CERTVIGIL" audit --config "$CV_CFG" --format json "$@"
}
is_report() { jq -e '(.format | type) == "number" and (.platforms | length) == 1' "$1" >/dev/null 2>&1 && echo yes || echo no; }
kind() { stat -c %F "$1"; }

# --- 1. FIFO, and a link to one --------------------------------------------------------

fifo=$SB_DIR/report.fifo
mkfifo "$fifo"
# Bounded: a build that renames over the FIFO leaves the reader waiting.
timeout 20 cat "$fifo" >"$SB_DIR/fifo.got" &
reader=$!
run fifo -o "$fifo"
assert_exit 0
rc=0
wait "$reader" || rc=$?
assert_eq "fifo: the reader ended well" 0 "$rc"
assert_eq "fifo: the reader got the report" yes "$(is_report "$SB_DIR/fifo.got")"
assert_eq "fifo: still a FIFO" "fifo" "$(kind "$fifo")"

ln -s "$fifo" "$SB_DIR/fifo.link"
timeout 20 cat "$fifo" >"$SB_DIR/link.got" &
reader=$!
run fifolink -o "$SB_DIR/fifo.link"
assert_exit 0
rc=0
wait "$reader" || rc=$?
assert_eq "fifo link: the reader got the report" yes "$(is_report "$SB_DIR/link.got")"
assert_eq "fifo link: still a link" "symbolic link" "$(kind "$SB_DIR/fifo.link")"
assert_eq "fifo link: to a FIFO" "fifo" "$(kind "$fifo")"

# --- 2. character devices -----------------------------------------------------------------

if [[ $(id -u) == 0 ]] && mknod "$SB_DIR/null" c 1 3 2>/dev/null; then
	run device -o "$SB_DIR/null"
	assert_exit 0
	assert_eq "device: still a character device" "character special file" "$(kind "$SB_DIR/null")"
	if [[ $(kind "$SB_DIR/null") == "character special file" ]]; then
		run devnull -o /dev/null
		assert_exit 0
		assert_eq "/dev/null: still a character device" "character special file" "$(kind /dev/null)"
		assert_eq "/dev/null: no temporary file left in /dev" "" "$(find /dev -maxdepth 1 -name 'null.tmp*')"
	fi
else
	cv_log "device: not root (or no mknod here); /dev/null alone"
	run devnull -o /dev/null
	assert_exit 0
	assert_eq "/dev/null: still a character device" "character special file" "$(kind /dev/null)"
fi

# --- 3. -o - -----------------------------------------------------------------------------------

mkdir "$SB_DIR/cwd"
(cd "$SB_DIR/cwd" && run dash -o -)
assert_eq "-o -: the report on stdout" yes "$(is_report "$SB_DIR/dash.out")"
assert_eq "-o -: no file named '-'" "" "$(ls -A "$SB_DIR/cwd")"

# --- 4. a regular file, and a link to one ----------------------------------------------------

echo old >"$SB_DIR/report.json"
before=$(stat -c %i "$SB_DIR/report.json")
run file -o "$SB_DIR/report.json"
assert_exit 0
assert_eq "file: the report" yes "$(is_report "$SB_DIR/report.json")"
after=$(stat -c %i "$SB_DIR/report.json")
assert_eq "file: replaced by a rename (a new inode)" new "$([[ $after != "$before" ]] && echo new || echo same)"
ln -s report.json "$SB_DIR/report.link"
echo old >"$SB_DIR/report.json"
run filelink -o "$SB_DIR/report.link"
assert_exit 0
assert_eq "file link: still a link" "symbolic link" "$(kind "$SB_DIR/report.link")"
assert_eq "file link: the file it names holds the report" yes "$(is_report "$SB_DIR/report.json")"

# --- 5. a directory that does not exist, before any traffic ------------------------------------

cv_listener_start silent
cv_config silent <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
    resolvers: ["127.0.0.1:$CV_LISTEN_PORT"]
    timeout: 1s
EOF
run nodir -o "$SB_DIR/missing/report.json"
assert_exit 3
assert_match "nodir: the message names the path" "cannot write the report to $SB_DIR/missing/report.json: directory $SB_DIR/missing: No such file or directory" "$(cat "$CV_STDERR")"
assert_eq "nodir: nothing on stdout" "" "$(cat "$CV_STDOUT")"
assert_faster "nodir: at once" "$CV_MS" 500
cv_listener_sync || cv_fail "the listener did not log its marker"
assert_eq "nodir: no DNS query sent" "" "$(cv_listener_heard)"
# Positive control: the same audit with a good -o asks the listener.
run control -o "$SB_DIR/control.json"
cv_listener_sync || cv_fail "the listener did not log its marker"
assert_match "control: the listener heard the audit's queries" "^udp " "$(cv_listener_heard | head -n 1)"

cv_finish
