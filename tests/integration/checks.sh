# shellcheck shell=bash
# checks.sh: the name the journal, daemon and output tests once sourced for
# their start and assertions; all of it is in the one test kit now.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
