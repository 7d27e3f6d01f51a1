/* Messages of the app layer on stderr, with a priority prefix for the
 * journal stream systemd gives a service. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

void log_msg(int priority, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (getenv("JOURNAL_STREAM"))
                fprintf(stderr, "<%d>", priority);
        fputs("certvigil: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}
