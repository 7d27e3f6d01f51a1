/* ACME Renewal Information (RFC 9773), the polling: after an audit, find
 * the platform's ACME directory, its renewalInfo endpoint, and ask it about
 * the served certificate, honouring Retry-After across runs through the
 * renewal store; then judge the window (checks/tls-ari.c). Failures to poll
 * are observations printed on stderr, not findings. */
#pragma once

#include <systemd/sd-event.h>

#include "audit.h"
#include "config.h"
#include "finding.h"
#include "renew-store.h"

struct ari;

typedef void (*ari_done_cb)(struct ari *a, void *userdata);

/* store may be NULL: then every run polls and nothing is compared with an
 * earlier poll. p and store must outlive it. */
int ari_new(sd_event *event, const struct platform *p, struct renew_store *store, struct ari **ret);
struct ari *ari_free(struct ari *a);

/* ARI applies when acme_directory is set, or in letsencrypt mode to a
 * certificate issued by Let's Encrypt. cb always runs, from the loop, when
 * done (at once when it does not apply). */
void ari_start(struct ari *a, const struct audit *audit, ari_done_cb cb, void *userdata);

const struct finding_list *ari_findings(const struct ari *a);

/* What the last ari_start() learnt, for the report; NULL when ARI did not
 * apply (no served certificate, not an ACME CA with renewalInfo). Borrowed. */
const struct ari_obs *ari_observation(const struct ari *a);
