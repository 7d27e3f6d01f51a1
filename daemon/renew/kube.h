/* The Kubernetes API, as much as renewal's cert_manager method needs: a
 * connection from a kubeconfig or the in-cluster service account, and what
 * `cmctl renew` does to a cert-manager Certificate. The bearer token stays
 * inside this module and the HTTP headers: it is never formatted into a
 * message, a log line or a report. */
#pragma once

#include <stdbool.h>
#include <time.h>

#include <jansson.h>

#include "config.h"
#include "http.h"
#include "observe.h"

struct kube;

/* From a kubeconfig (its current context: cluster server and
 * certificate-authority[-data], user token or tokenFile) or, with
 * in_cluster, /var/run/secrets/kubernetes.io/serviceaccount and
 * KUBERNETES_SERVICE_HOST/PORT. -EINVAL/-ENOENT... with *ret_error. */
int kube_open(const char *kubeconfig, bool in_cluster, struct kube **ret, char **ret_error);
struct kube *kube_free(struct kube *k);

/* The Certificate's URL, and its status subresource's with
 * fieldManager=certvigil. Caller frees. */
char *kube_certificate_url(const struct kube *k, const char *ns, const char *name, bool status);

/* A core/v1 Secret's URL. Caller frees. */
char *kube_secret_url(const struct kube *k, const char *ns, const char *name);

/* Fills params for a request to url: bearer token, CA, JSON content type,
 * no redirects. *ret_headers is the header vector to free after the fetch
 * has started (libcurl copies it). */
void kube_request(const struct kube *k, const char *url, const char *method, const char *body,
                  struct http_fetch_params *params, char ***ret_headers);

/* Frees headers from kube_request(), wiping the one with the token first;
 * for _cleanup_(kube_headers_freep). */
void kube_headers_freep(char ***headers);

/* Pure helpers over a Certificate object (unit-tested). */

/* The Certificate's status, one field each, walked once: the Ready
 * condition, renewalTime, failedIssuanceAttempts, lastFailureTime and
 * whether an Issuing=True condition is present. o is zeroed by the caller
 * (certmanager_obs_done releases it). Strings are escaped and bounded. */
void certmanager_fill_obs(const json_t *cert, struct certmanager_obs *o);

/* The same as one line for messages ("Ready=False (Failed: ...),
 * renewalTime ..., failedIssuanceAttempts 2, lastFailureTime ..."). Caller
 * frees. */
char *certmanager_describe(const struct certmanager_obs *o);

/* Sets the Issuing condition to True with reason ManuallyTriggered, as
 * cmctl renew does, keeping every other condition and metadata (so
 * resourceVersion makes the update conditional). -EINVAL when cert is not a
 * Certificate object. */
int certmanager_mark_issuing(json_t *cert, time_t now);
