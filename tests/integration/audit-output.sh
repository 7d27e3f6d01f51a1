#!/bin/bash
#
# audit-output.sh: where and how the report is written.  One config with a
# healthy platform (ok), one with warnings (warn) and one that does not
# resolve (gone): exit 2 whatever the output.
#   1. --format json to stdout and with -o FILE: the same report (timing
#      fields aside), the same exit status, nothing on stdout with -o
#   2. -o replaces the file atomically: a new file is renamed over the old
#      one (a reader holding the old one still sees it whole), and no
#      temporary file is left in the directory
#   3. -o into a directory that does not exist, or onto a directory: exit 3,
#      a message naming the path, nothing on stdout, no temporary file left
#   4. text (the default): platform names, every name and the finding ids;
#      the verdict on line 2 and on each platform's first line, findings
#      worst first, lines within 100 columns, the worst finding of each
#      endpoint as the RESULT word; no ANSI escapes when stdout is not a terminal, nor with -o or
#      --no-color; --color forces them; on a terminal (script(1)) they are
#      on, unless NO_COLOR is set
#   5. -o onto a FIFO: written through (its reader gets the whole report),
#      not renamed over; the FIFO is still one afterwards; the same for
#      GitHub's format, which is not streamed

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# shellcheck disable=SC2119 # no argument needed
cv_start sandbox

cv_config three <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
  - name: warn
    global: { baseDomain: warn.example.test }
  - name: gone
    global: { baseDomain: gone.example.test }
EOF
# One finding per problem (issue 12): warn's certificate expires soon (one
# finding for its 4 names), and gone has no wildcard record, which is why
# none of its names resolves.
expected=$(
	echo "warn tls.expiry.warning warning api.warn.example.test 127.0.0.1"
	# 75 of its 90 days gone: past the renewal point too (issue 4), which is
	# why it expires soon.
	echo "warn tls.renewal.overdue warning api.warn.example.test 127.0.0.1 <-tls.expiry.warning"
	cv_expect gone dns.resolve.failed critical "$(cv_names gone.example.test)" - |
		sed 's/$/ <-dns.wildcard.missing/'
	# nothing under gone.example.test resolves: no wildcard record either
	echo "gone dns.wildcard.missing critical *.gone.example.test -"
)
ESC=$'\033'

dir_list() {
	find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | paste -sd' '
}

# The report without what changes from run to run (times, the random label
# of the wildcard probe, which endpoint of an address got the full
# handshake), in a stable order.
normalize() {
	jq -S 'del(.started, .duration_ms) | .platforms |= map(
		del(.duration_ms, .dns.wildcard_probe.name)
		| .endpoints |= (map(del(.duration_ms, .handshake)) | sort_by(.name, .address))
		| .findings |= sort_by(.id, .name, .address))' "$1"
}

# --- 1. stdout and -o ------------------------------------------------------------------

cv_run stdout "$SB_CERTVIGIL" audit --config "$CV_CFG" --format json
stdout_rc=$CV_RC
cp "$CV_STDOUT" "$SB_DIR/stdout.json"
assert_exit 2
assert_findings "$expected" "$SB_DIR/stdout.json"
assert_summary critical 1 1 0 "$SB_DIR/stdout.json"

mkdir "$SB_DIR/reports"
report_file=$SB_DIR/reports/audit.json
printf '{"old": "report"}\n' >"$report_file"
exec {old_fd}<"$report_file"
cv_run file "$SB_CERTVIGIL" audit --config "$CV_CFG" --format json -o "$report_file"
assert_exit "$stdout_rc"
assert_file_empty "-o: nothing on stdout" "$CV_STDOUT"
assert_file_empty "-o: nothing on stderr" "$CV_STDERR"
if jq -e . "$report_file" >/dev/null 2>&1; then
	assert_eq "-o writes the report stdout would get (timing fields aside)" \
		"$(normalize "$SB_DIR/stdout.json")" "$(normalize "$report_file")"
	assert_findings "$expected" "$report_file"
else
	cv_fail "-o: the file holds one complete JSON document"
	cv__show got "$(head -c 2000 "$report_file")"
fi

# --- 2. atomic replacement ---------------------------------------------------------------

assert_eq "-o: a reader of the old file still reads it whole (renamed over, not rewritten)" \
	'{"old": "report"}' "$(cat <&"$old_fd")"
exec {old_fd}<&-
assert_eq "-o: nothing but the report in its directory" "audit.json" "$(dir_list "$SB_DIR/reports")"
assert_eq "-o: the file ends with a newline" "" "$(tail -c 1 "$report_file")"

# --- 3. unwritable targets -----------------------------------------------------------------

cv_run nodir "$SB_CERTVIGIL" audit --config "$CV_CFG" --format json -o /nonexistent/dir/x.json
assert_exit 3
assert_file_empty "-o /nonexistent/dir/x.json: nothing on stdout" "$CV_STDOUT"
assert_match "-o /nonexistent/dir/x.json: the message names the path and the reason" \
	'/nonexistent/dir/x\.json.*No such file or directory' "$(cat "$CV_STDERR")"

mkdir "$SB_DIR/reports/adir"
cv_run isdir "$SB_CERTVIGIL" audit --config "$CV_CFG" --format json -o "$SB_DIR/reports/adir"
assert_exit 3
assert_file_empty "-o DIRECTORY: nothing on stdout" "$CV_STDOUT"
assert_match "-o DIRECTORY: the message names the path" "${SB_DIR//./\\.}/reports/adir" "$(cat "$CV_STDERR")"
assert_eq "-o DIRECTORY: no temporary file left behind" "adir audit.json" "$(dir_list "$SB_DIR/reports")"

# --- 4. text ----------------------------------------------------------------------------------

cv_run text "$SB_CERTVIGIL" audit --config "$CV_CFG"
assert_exit 2
text=$(cat "$CV_STDOUT")
missing=()
for w in "Platform ok" "Platform warn" "Platform gone" \
	$(cv_names ok.example.test) $(cv_names warn.example.test) $(cv_names gone.example.test) \
	tls.expiry.warning dns.resolve.failed "Status: critical (1 critical, 1 warning, 0 info)"; do
	[[ $text == *"$w"* ]] || missing+=("$w")
done
assert_eq "text: platforms, names, finding ids and the status line are all there" "" "${missing[*]}"
assert_no_match "text: no ANSI escape when stdout is not a terminal" "$ESC" "$text"
assert_eq "text: one line per problem" 2 "$(grep -cE '^  (WARNING|CRITICAL) +(tls|dns)\.' <<<"$text")"
assert_eq "text: the findings explained by another are told as such" 5 \
	"$(grep -cE '^  FOLDED +(tls|dns)\.[a-z.-]+ \((warning|critical), caused by (tls|dns)\.' <<<"$text")"
assert_match "text: the verdict is the second line" \
	'^Status: critical \(1 critical, 1 warning, 0 info\) in [0-9]+ ms; 2 of 3 platforms need attention$' \
	"$(sed -n 2p <<<"$text")"
assert_eq "text: each platform starts with its verdict" \
	"Platform ok: OK (0 critical, 0 warning, 0 info)|Platform warn: WARNING (0 critical, 1 warning, 0 info)|Platform gone: CRITICAL (1 critical, 0 warning, 0 info)" \
	"$(grep '^Platform ' <<<"$text" | paste -sd'|')"
assert_eq "text: no line longer than 100 columns" "" "$(awk 'length($0) > 100' <<<"$text")"
assert_eq "text: warn's endpoints show the days left as RESULT" "4" \
	"$(grep -cE '^  (api|console|grafana|auth)\.warn\.example\.test +127\.0\.0\.1 .* EXPIRES [0-9]+d$' <<<"$text")"
assert_eq "text: ok's endpoints read ok" "4" \
	"$(grep -cE '^  (api|console|grafana|auth)\.ok\.example\.test +127\.0\.0\.1 .* ok$' <<<"$text")"

cv_run text-color "$SB_CERTVIGIL" audit --config "$CV_CFG" --color
assert_exit 2
assert_match "text --color: ANSI escapes though not on a terminal" "$ESC\\[1;31mCRITICAL" "$(cat "$CV_STDOUT")"

cv_run text-file "$SB_CERTVIGIL" audit --config "$CV_CFG" -o "$SB_DIR/reports/audit.txt"
assert_exit 2
assert_match "text -o: the report is in the file" 'Platform warn' "$(cat "$SB_DIR/reports/audit.txt")"
assert_no_match "text -o: no ANSI escape in the file" "$ESC" "$(cat "$SB_DIR/reports/audit.txt")"

if command -v script >/dev/null 2>&1; then
	cmd="$SB_CERTVIGIL audit --config $CV_CFG"
	cv_run tty script -qec "$cmd" /dev/null
	assert_exit 2
	assert_match "text on a terminal: coloured" "$ESC\\[1;31mCRITICAL" "$(cat "$CV_STDOUT")"
	cv_run tty-no-color script -qec "$cmd --no-color" /dev/null
	assert_no_match "text on a terminal with --no-color: no ANSI escape" "$ESC" "$(cat "$CV_STDOUT")"
	cv_run tty-NO_COLOR env NO_COLOR=1 script -qec "$cmd" /dev/null
	assert_exit 2
	assert_match "text on a terminal with NO_COLOR: the report is there" 'Platform warn' "$(cat "$CV_STDOUT")"
	assert_no_match "text on a terminal with NO_COLOR: no ANSI escape" "$ESC" "$(cat "$CV_STDOUT")"
else
	cv_log "script(1) is missing: the terminal cases are not run"
fi

# --- 5. a special file ------------------------------------------------------------------------

fifo=$SB_DIR/reports/fifo
mkfifo "$fifo"
# The reader ends by itself if no writer ever opens the FIFO (the report
# renamed over it): the wait below cannot hang.
sb__spawn fifo-reader "$SB_DIR/fifo.json" timeout 60 cat "$fifo"
cv_run fifo "$SB_CERTVIGIL" audit --config "$CV_CFG" --format json -o "$fifo"
assert_exit 2
reader_rc=0
wait "$(sb_pid fifo-reader)" || reader_rc=$?
assert_eq "-o FIFO: its reader got the report and ended" 0 "$reader_rc"
assert_eq "-o FIFO: the report read from it is the one stdout gets (timing fields aside)" \
	"$(normalize "$SB_DIR/stdout.json")" "$(normalize "$SB_DIR/fifo.json" 2>&1)"
assert_eq "-o FIFO: still a FIFO" fifo "$(stat -c %F "$fifo")"

# GitHub's format is rendered whole, not streamed: the same -o.
sb__spawn fifo-reader-gh "$SB_DIR/fifo.gh" timeout 60 cat "$fifo"
cv_run fifo-gh "$SB_CERTVIGIL" audit --config "$CV_CFG" --format github -o "$fifo"
assert_exit 2
reader_rc=0
wait "$(sb_pid fifo-reader-gh)" || reader_rc=$?
assert_eq "-o FIFO, --format github: its reader got the report and ended" 0 "$reader_rc"
assert_match "-o FIFO, --format github: the report came through" '::error' "$(cat "$SB_DIR/fifo.gh")"
assert_eq "-o FIFO, --format github: still a FIFO" fifo "$(stat -c %F "$fifo")"

cv_finish
