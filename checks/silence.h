/* finding.silenced: the operator's `ignore:` silences applied to a
 * platform's findings. Pure: the silences and now are given. */
#pragma once

#include <time.h>

#include "config.h"
#include "finding.h"

/* Marks every finding a live silence of p matches (id equal, name matched
 * by the silence's glob when it has one) with the silence's reason and
 * end; they stay in the list but count nowhere. A silence past its end
 * marks nothing and adds finding.silence.expired (warning) instead, once
 * per silence, so a forgotten silence surfaces. */
void silence_apply(const struct platform *p, time_t now, struct finding_list *l);
