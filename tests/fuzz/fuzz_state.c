/* Fuzz target: state.json as the daemon and the oneshot read it after any
 * crash, disk error or hand edit (daemon/state/state.c state_load, which
 * takes a path: the input is written to a scratch file first), the renewal
 * guardrails kept under its "renewal" key (checks/renew.c
 * renew_state_from_json, as daemon/renew/renewal.c's store reads them),
 * and a save and reload of whatever loaded, which must give the same
 * state back. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "fuzz.h"
#include "renew.h"
#include "state.h"
#include "util.h"

static char *saved_path;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        saved_path = xasprintf("%s/saved.json", fuzz_scratch_dir());
        return 0;
}

static void renewal(const uint8_t *data, size_t size) {
        json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL), *v;
        json_t *platforms = json_object_get(json_object_get(root, STATE_RENEWAL_KEY), "platforms");
        const char *key;

        json_object_foreach(platforms, key, v) {
                struct renew_state st = { 0 };
                if (renew_state_from_json(v, &st) == 0) {
                        assert(st.n_triggers <= RENEW_HISTORY_MAX);
                        json_decref(renew_state_to_json(&st));
                }
                renew_state_done(&st);
        }
        json_decref(root);
}

static void round_trip(const struct state *s) {
        _cleanup_free_ char *error = NULL;
        struct state *again = NULL;

        (void)unlink(saved_path);
        assert(state_save(s, saved_path) == 0);
        if (state_load(saved_path, &again, &error) < 0) {
                fprintf(stderr, "a saved state does not load back: %s\n", error);
                abort();
        }
        assert(again->n_platforms == s->n_platforms);
        for (size_t i = 0; i < s->n_platforms; i++) {
                assert(strcmp(again->platforms[i].name, s->platforms[i].name) == 0);
                assert(again->platforms[i].n_findings == s->platforms[i].n_findings);
                assert(again->platforms[i].n_certs == s->platforms[i].n_certs);
        }
        state_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *path = fuzz_input_file(STATE_FILE, data, size);
        _cleanup_free_ char *error = NULL;
        struct state *s = NULL;
        int r;

        r = state_load(path, &s, &error);
        if (r < 0)
                assert(r == -EINVAL && error && *error);
        else {
                for (size_t i = 0; i < s->n_platforms; i++)
                        (void)state_platform_worst(&s->platforms[i]);
                round_trip(s);
                state_free(s);
        }
        renewal(data, size);
        return 0;
}
