/* Fuzz target: what the Kubernetes API server (or anything answering in
 * its place) sends back: a refusal's Status message (daemon/renew/kube.c
 * kube_status_message), a cert-manager Certificate (daemon/renew/kube.c
 * certmanager_fill_obs, certmanager_describe, certmanager_mark_issuing and
 * the PUT body made from it, as daemon/renew/renew-certmanager.c uses them), and a
 * core/v1 Secret whose tls.crt and tls.key are decoded and inspected
 * (daemon/renew/secret.c: x509_base64_decode, x509_secret_inspect). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "kube.h"
#include "observe.h"
#include "util.h"
#include "x509.h"

#define NOW ((time_t)1795651200)

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        return 0;
}

static void certificate(json_t *o) {
        struct certmanager_obs obs = { 0 };
        char *line, *body;

        certmanager_fill_obs(o, &obs);
        line = certmanager_describe(&obs);
        assert(line);
        free(line);
        certmanager_obs_done(&obs);
        if (certmanager_mark_issuing(o, NOW) == 0) {
                certmanager_fill_obs(o, &obs);
                assert(obs.issuing);
                certmanager_obs_done(&obs);
                body = json_dumps(o, JSON_COMPACT);
                free(body);
        }
}

static void secret(const json_t *o) {
        const json_t *data = json_object_get(o, "data");
        const char *crt_b64 = json_string_value(json_object_get(data, "tls.crt"));
        const char *key_b64 = json_string_value(json_object_get(data, "tls.key"));
        unsigned char *crt = NULL, *key = NULL;
        size_t crt_len = 0, key_len = 0;
        _cleanup_free_ char *sha = NULL, *error = NULL;
        bool match = false;

        if (!crt_b64 || !key_b64 || x509_base64_decode(crt_b64, &crt, &crt_len) < 0)
                return;
        if (x509_base64_decode(key_b64, &key, &key_len) == 0) {
                if (x509_secret_inspect(crt, crt_len, key, key_len, &sha, &match, &error) == 0)
                        assert(sha && strlen(sha) == 64);
                else
                        assert(error);
        }
        free(crt);
        free(key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_t *o = json_loadb((const char *)data, size, 0, NULL);
        char *message = kube_status_message(data, size);

        /* 200 bytes at most, each escaped to at most 4. */
        assert(message && strlen(message) <= 4 * 200);
        free(message);
        if (!o)
                return 0;
        secret(o);
        certificate(o);
        json_decref(o);
        return 0;
}
