#!/bin/bash
# layers.sh: fails when a source file includes a header from a layer above
# its own. Data flows one way (README, "Layout"):
#
#   core    model types, config, plan, findings, names, util
#   checks  pure judgements over observations          -> core
#   probe   DNS, TLS, HTTP, X.509: gather facts          -> core
#   engine  one platform's audit: runs probes, checks    -> core checks probe
#   state   state.json and the alert discipline          -> core checks
#   report  text, JSON, JUnit, GitHub, Prometheus, journal -> core checks state
#   renew   renewal, ARI, the Secret, Kubernetes         -> core checks probe engine state
#   app     main, the daemon, the run pipeline           -> anything
#
# With a directory argument it lints that tree instead (the self-test below
# uses it to prove that a wrong include is caught).
set -u
top=${1:-${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}}
cd "$top" || exit 99

layer_of() {
        case $1 in
        daemon/core/*) echo core ;;
        checks/*) echo checks ;;
        daemon/probe/*) echo probe ;;
        daemon/engine/*) echo engine ;;
        daemon/state/*) echo state ;;
        daemon/report/*) echo report ;;
        daemon/renew/*) echo renew ;;
        daemon/*) echo app ;;
        *) echo unknown ;;
        esac
}

allowed() { # layer -> the layers it may include
        case $1 in
        core) echo "core" ;;
        checks) echo "core checks" ;;
        probe) echo "core probe" ;;
        engine) echo "core checks probe engine" ;;
        state) echo "core checks state" ;;
        report) echo "core checks state report" ;;
        renew) echo "core checks probe engine state renew" ;;
        app) echo "core checks probe engine state report renew app" ;;
        esac
}

declare -A header_layer
while IFS= read -r h; do
        b=${h##*/}
        if [ -n "${header_layer[$b]:-}" ]; then
                echo "$h: header name also used by another layer's header; names must be unique"
                exit 1
        fi
        header_layer[$b]=$(layer_of "$h")
done < <(find daemon checks -name '*.h' | sort)

bad=0
n=0
while IFS= read -r f; do
        n=$((n + 1))
        mine=$(layer_of "$f")
        ok=" $(allowed "$mine") "
        while IFS=: read -r line inc; do
                inc=${inc#*\"}
                inc=${inc%%\"*}
                theirs=${header_layer[${inc##*/}]:-}
                [ -n "$theirs" ] || continue # cv-autoconf.h and the like
                case $ok in
                *" $theirs "*) ;;
                *)
                        echo "$f:$line: the $mine layer includes $inc from the $theirs layer"
                        bad=1
                        ;;
                esac
        done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "$f")
done < <(find daemon checks -name '*.[ch]' | sort)

if [ "$bad" -ne 0 ]; then
        echo "include direction violated (see the table at the top of $0)"
        exit 1
fi
if [ $# -eq 0 ]; then
        # Prove the lint can fail: a core file that includes a report header.
        scratch=$(mktemp -d) || exit 99
        trap 'rm -rf "$scratch"' EXIT
        mkdir -p "$scratch/daemon/core" "$scratch/daemon/report" "$scratch/checks"
        printf '#include "report.h"\n' >"$scratch/daemon/core/bad.c"
        printf '#pragma once\n' >"$scratch/daemon/report/report.h"
        if "$BASH" "$0" "$scratch" >/dev/null; then
                echo "self-check: a core file including a report header was not caught"
                exit 1
        fi
fi
echo "include direction respected in $n files"
exit 0
