/* Provided mode's wildcard Secret: read tls.wildcardSecretName through the
 * Kubernetes API (the platform's `kubernetes:` connection) after an audit
 * and compare it with what was served (checks/tls-secret.c). The private
 * key is only compared with the certificate, then wiped. Failures to read
 * are noted on stderr, not findings. */
#pragma once

#include <systemd/sd-event.h>

#include "audit.h"
#include "config.h"
#include "finding.h"

struct secret_check;

typedef void (*secret_done_cb)(struct secret_check *s, void *userdata);

int secret_check_new(sd_event *event, const struct platform *p, struct secret_check **ret);
struct secret_check *secret_check_free(struct secret_check *s);

/* Applies in provided mode with tls.wildcardSecretName and kubernetes set;
 * cb always runs, from the loop (failures to read are noted on stderr).
 * The audit must stay alive until cb. */
void secret_check_start(struct secret_check *s, const struct audit *audit, secret_done_cb cb, void *userdata);
const struct finding_list *secret_check_findings(const struct secret_check *s);
