/* Renewal's cert_manager method, through the Kubernetes API, as `cmctl
 * renew` does it: GET the Certificate and read its status; unless
 * cert-manager is already issuing, set the Issuing condition to True with
 * reason ManuallyTriggered by a PUT of the object just read to the status
 * subresource (its resourceVersion makes a concurrent change fail instead
 * of being overwritten). What each outcome means for the guardrails is
 * renewal.c's business. */
#pragma once

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "observe.h"

struct renew_certmanager;

enum renew_certmanager_outcome {
        RENEW_CERTMANAGER_NOT_READ,       /* the Certificate could not be read: nothing triggered */
        RENEW_CERTMANAGER_ISSUING,        /* cert-manager is issuing already: nothing triggered */
        RENEW_CERTMANAGER_HELD,           /* the go callback said no: nothing triggered */
        RENEW_CERTMANAGER_MARKED,         /* marked Issuing: the trigger happened */
        RENEW_CERTMANAGER_UPDATE_FAILED,  /* the trigger was under way, the update failed */
};

/* After the Certificate was read and before it is updated: return true to
 * go on (the trigger is recorded by then), false to stop. */
typedef bool (*renew_certmanager_go_cb)(struct renew_certmanager *m, void *userdata);
/* The end, with what happened in one line (the reason, or what was
 * marked); detail is only valid during the call. May run from inside
 * renew_certmanager_start(). */
typedef void (*renew_certmanager_done_cb)(struct renew_certmanager *m, enum renew_certmanager_outcome outcome,
                                          const char *detail, void *userdata);

/* rs (the platform's renew settings) must outlive it. */
int renew_certmanager_new(sd_event *event, const struct renew_settings *rs, struct renew_certmanager **ret);
/* Cancels a request in flight without calling back. */
struct renew_certmanager *renew_certmanager_free(struct renew_certmanager *m);

void renew_certmanager_start(struct renew_certmanager *m, renew_certmanager_go_cb go,
                             renew_certmanager_done_cb done, void *userdata);
/* A request is in flight (between start and done). */
bool renew_certmanager_busy(const struct renew_certmanager *m);   /* false for NULL */
/* Forgets what the last start read (a new run). */
void renew_certmanager_forget(struct renew_certmanager *m);

/* The Certificate's status as this run read it, NULL when it was not.
 * Borrowed. */
const struct certmanager_obs *renew_certmanager_observation(const struct renew_certmanager *m);
/* The same as one line for messages, "" before it was read. Borrowed. */
const char *renew_certmanager_described(const struct renew_certmanager *m);
