/* Messages of the app layer on stderr. Under systemd stderr is a journal
 * stream, which reads a "<N>" prefix as the syslog priority
 * (sd-daemon(3)); elsewhere the prefix would be noise, so it is added only
 * when $JOURNAL_STREAM says so. */
#pragma once

#include <syslog.h>

void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
