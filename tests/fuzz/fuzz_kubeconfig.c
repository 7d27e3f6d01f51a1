/* Fuzz target: a kubeconfig, the file renew.cert_manager.kubeconfig or
 * kubernetes.kubeconfig names (daemon/renew/kube.c kubeconfig_parse: what
 * kube_open() makes of its text before it writes the CA data to a file and
 * reads the tokenFile, which this target does not do). */
#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "kube.h"
#include "util.h"

/* As the config names it; relative paths inside resolve to its folder. */
#define PATH "/etc/certvigil/kubeconfig"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        return 0;
}

/* Every error names the file: "PATH:LINE:COLUMN: ..." or "kubeconfig PATH: ...". */
static bool names_path(const char *error) {
        return strncmp(error, PATH ":", strlen(PATH ":")) == 0 ||
               strncmp(error, "kubeconfig " PATH ": ", strlen("kubeconfig " PATH ": ")) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *error = NULL;
        struct kubeconfig c = { 0 };

        if (kubeconfig_parse((const char *)data, size, PATH, &c, &error) < 0) {
                assert(error && names_path(error));
                assert(!c.server && !c.token);
                return 0;
        }
        assert(!error && c.server && strncmp(c.server, "https://", 8) == 0 && c.server[8] && c.server[8] != '/');
        assert(!c.ca_file || c.ca_file[0] == '/');
        assert(!c.ca_file || !c.ca_data);
        assert(!c.token_file || (c.token_file[0] == '/' && !c.token));
        kubeconfig_done(&c);
        assert(!c.server && !c.token && !c.ca_data);
        return 0;
}
