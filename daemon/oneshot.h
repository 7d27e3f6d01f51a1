/* `certvigil audit`: every platform's run once, side by side on one loop,
 * then the report (-o or stdout), the job summary on GitHub, the journal
 * and the state with --journal/--state-dir, and the exit status. */
#pragma once

#include "cli.h"
#include "config.h"

/* Returns the exit status: the worst finding under --fail-on (0, 1, 2),
 * or EXIT_UNUSABLE when the audit could not run. */
int oneshot_audit(const struct cli_options *o, const struct config *c);
