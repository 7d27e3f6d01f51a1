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

/* A kubeconfig's current context as its text states it: what kube_open()
 * then reads (tokenFile) or writes (the CA data, to a file of its own). */
struct kubeconfig {
        char *server;              /* https://..., no trailing slash */
        char *ca_file;             /* certificate-authority, relative to the kubeconfig's folder; or NULL */
        unsigned char *ca_data;    /* certificate-authority-data, decoded; or NULL */
        size_t ca_data_len;
        char *token;               /* user.token as written, not checked yet (secret); or NULL */
        char *token_file;          /* user.tokenFile when there is no token, relative likewise; or NULL */
};

/* Parses a kubeconfig's text (len bytes) without touching any file; path
 * is where it was read from: relative paths inside are relative to its
 * folder, and errors name it. 0 with *ret (kubeconfig_done() releases it),
 * or -EINVAL with *ret_error: not YAML, no current-context naming a
 * cluster and a user, a server that is not https://HOST..., CA data that is not
 * base64. A missing or malformed token is kube_open()'s to refuse. */
int kubeconfig_parse(const char *text, size_t len, const char *path, struct kubeconfig *ret, char **ret_error);
void kubeconfig_done(struct kubeconfig *c);   /* wipes the token */

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

/* The API server's own explanation of a refusal (a Status object's
 * message), escaped and cut at 200 bytes, or "no message". body may be
 * NULL. Caller frees. */
char *kube_status_message(const unsigned char *body, size_t size);

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
