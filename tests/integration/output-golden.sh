#!/bin/bash
#
# output-golden.sh: --format junit, github (with the GITHUB_STEP_SUMMARY job
# summary) and prometheus against the sandbox, compared with the golden
# files in tests/golden/ after normalising what changes from run to run
# (timestamps, durations, Unix times, ports).  Also: -o replaces the file
# atomically, the job summary is appended, --fail-on picks the exit status,
# the JUnit counts add up.
#
# After a deliberate change of the output (or of a check's message, or a
# new check, which adds JUnit testcases), regenerate the golden files with
#     CV_UPDATE_GOLDEN=1 make check TESTS=tests/integration/output-golden.sh
# and review the diff.

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

golden=$SB_SRCDIR/tests/golden


cv_start sandbox
cfg=$SB_DIR/certvigil.yaml
sb_write_config "$cfg" <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
  - name: warn
    global: { baseDomain: warn.example.test }
  - name: gone
    global: { baseDomain: gone.example.test }
  - name: refused
    global: { baseDomain: refused.example.test }
  - name: wrong
    global: { baseDomain: wrong.example.test }
    mcp: { enabled: true }
EOF

normalise() {
	sed -E -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/<TIME>/g' \
		-e "s/port $SB_TLS_PORT/port <PORT>/g; s/127\\.0\\.0\\.1:$SB_DNS_PORT/127.0.0.1:<DNSPORT>/g" \
		-e 's/ in [0-9]+ ms/ in <MS> ms/g' \
		-e 's/time="[0-9]+\.[0-9]{3}"/time="<SEC>"/g' \
		-e 's/^(certvigil_(certificate_not_after|last_audit_timestamp)_seconds\{.*\}) [0-9]+$/\1 <UNIX>/' \
		-e 's/^(certvigil_audit_duration_seconds\{.*\}) [0-9.]+$/\1 <SEC>/'
}

# check_golden NAME FILE: compares FILE (normalised) with tests/golden/NAME.
check_golden() {
	local name=$1 file=$2
	normalise <"$file" >"$SB_DIR/$name"
	if [[ ${CV_UPDATE_GOLDEN:-0} == 1 ]]; then
		cp "$SB_DIR/$name" "$golden/$name"
		echo "updated $golden/$name"
	fi
	if diff -u "$golden/$name" "$SB_DIR/$name"; then
		cv_pass "$name matches the golden file"
	else
		cv_fail "$name differs from the golden file (see the diff above)"
	fi
}

run() {
	local rc=0
	"$SB_CERTVIGIL" audit --config "$cfg" "$@" || rc=$?
	return "$rc"
}

# --- junit -------------------------------------------------------------------------
rc=0
run --format junit >"$SB_DIR/out.xml" || rc=$?
assert_ok "junit: exit status 2" test "$rc" = 2
check_golden audit.junit.xml "$SB_DIR/out.xml"
# The totals of each testsuite are the testcases and failures inside it.
assert_ok "junit: tests= and failures= add up" awk '
	/<testsuite / { match($0, /tests="[0-9]+"/); t = substr($0, RSTART + 7, RLENGTH - 8) + 0
		match($0, /failures="[0-9]+"/); f = substr($0, RSTART + 10, RLENGTH - 11) + 0; nt = nf = 0 }
	/<testcase / { nt++ }
	/<failure / { nf++ }
	/<\/testsuite>/ { if (nt != t || nf != f) bad = 1; suites++ }
	END { exit bad || suites != 5 }' "$SB_DIR/out.xml"
if command -v python3 >/dev/null; then
	assert_ok "junit: well-formed XML" python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$SB_DIR/out.xml"
fi

# --- github --------------------------------------------------------------------------
printf '# an earlier step\n\n' >"$SB_DIR/summary.md"
rc=0
GITHUB_STEP_SUMMARY=$SB_DIR/summary.md run --format github >"$SB_DIR/out.gh" || rc=$?
assert_ok "github: exit status 2" test "$rc" = 2
check_golden audit.github.txt "$SB_DIR/out.gh"
check_golden audit.github-summary.md "$SB_DIR/summary.md"
GITHUB_STEP_SUMMARY=$SB_DIR/summary.md run --format github >/dev/null || true
assert_ok "github: the job summary is appended, earlier steps' text kept" \
	test "$(grep -c '^## certvigil audit: critical$' "$SB_DIR/summary.md"):$(head -1 "$SB_DIR/summary.md")" = "2:# an earlier step"
assert_ok "github: no job summary without GITHUB_STEP_SUMMARY (and no failure)" bash -c \
	"env -u GITHUB_STEP_SUMMARY '$SB_CERTVIGIL' audit --config '$cfg' --format github >/dev/null; test \$? = 2"

# --- prometheus ----------------------------------------------------------------------
mkdir "$SB_DIR/textfile"
prom=$SB_DIR/textfile/certvigil.prom
echo "stale" >"$prom"
ino=$(stat -c %i "$prom")
rc=0
run --format prometheus -o "$prom" || rc=$?
assert_ok "prometheus: exit status 2" test "$rc" = 2
check_golden audit.prom "$prom"
assert_ok "prometheus -o: the file was replaced by rename (new inode), not rewritten in place" \
	test "$(stat -c %i "$prom")" != "$ino"
assert_ok "prometheus -o: no temporary file left in the textfile directory" \
	test "$(find "$SB_DIR/textfile" -mindepth 1 | wc -l)" = 1

# --- --fail-on -----------------------------------------------------------------------
sb_write_config "$SB_DIR/warn.yaml" <<EOF
  - name: warn
    global: { baseDomain: warn.example.test }
EOF
for row in "warn.yaml - 1" "warn.yaml warning 1" "warn.yaml critical 0" "warn.yaml never 0" \
	"certvigil.yaml - 2" "certvigil.yaml warning 2" "certvigil.yaml critical 2" "certvigil.yaml never 0"; do
	read -r file on want <<<"$row"
	args=(--config "$SB_DIR/$file" --format json)
	[[ $on == - ]] || args+=(--fail-on "$on")
	rc=0
	"$SB_CERTVIGIL" audit "${args[@]}" >/dev/null || rc=$?
	assert_ok "--fail-on ${on/-/(default)} with $file: exit $want (got $rc)" test "$rc" = "$want"
done
rc=0
"$SB_CERTVIGIL" audit --config "$cfg" --fail-on sometimes >/dev/null 2>&1 || rc=$?
assert_ok "--fail-on sometimes: usage error, exit 3" test "$rc" = 3

cv_finish
