/* Fuzz target: what an ACME CA answers the ARI poll (daemon/renew/ari.c):
 * its directory (RFC 8555 section 7.1.1; checks/tls-ari.c
 * ari_renewal_info_url), its renewalInfo answer (RFC 9773;
 * ari_parse_response and the window judged from it), its Retry-After
 * header (daemon/probe/http.c http_header_retry_after on the header line,
 * then ari_next_poll) and the RFC 3339 times inside (rfc3339_parse). The
 * whole input is the directory, the renewalInfo body and the header line;
 * up to its first NUL it is also the header value and a time. */
#include <assert.h>
#include <string.h>

#include "finding.h"
#include "fuzz.h"
#include "http.h"
#include "tls-ari.h"
#include "util.h"

/* 2026-11-26T00:00:00Z: fixed, so a crash reproduces. */
#define NOW ((time_t)1795651200)

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = fuzz_strndup(data, size), *expl = NULL, *error = NULL, *url = NULL;
        _cleanup_free_ char *header = http_header_retry_after((const char *)data, size);
        struct ari_window w, prev = { NOW - 86400, NOW };
        struct finding_list out = { 0 };
        time_t t, next;

        if (ari_renewal_info_url((const char *)data, size, "aaaa.bbbb", &url) == 0)
                assert(strncmp(url, "https://", 8) == 0 && str_endswith(url, "/aaaa.bbbb"));
        else
                assert(!url);
        if (ari_parse_response((const char *)data, size, &w, &expl, &error) == 0) {
                assert(w.end > w.start);
                ari_judge(&w, NULL, NOW, "serial 01", expl, &out);
                ari_judge(&w, &prev, NOW, "serial 01", expl, &out);
                assert(out.n <= 2);
                finding_list_clear(&out);
        } else
                assert(error);
        next = ari_next_poll(text, NOW);
        assert(next >= NOW + ARI_POLL_MIN && next <= NOW + ARI_POLL_MAX);
        if (header) {
                assert(size < 256 && strlen(header) <= 4 * size);
                next = ari_next_poll(header, NOW);
                assert(next >= NOW + ARI_POLL_MIN && next <= NOW + ARI_POLL_MAX);
        }
        (void)rfc3339_parse(text, &t);
        return 0;
}
