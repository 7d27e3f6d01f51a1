/* Fuzz target: the DNS message walker (daemon/probe/dns.c dns_msg_parse and
 * dns_msg_cname_chain), fed any answer a hostile resolver or authoritative
 * server could send, and the c-ares parsers the probes hand the same bytes
 * to (A, AAAA, SOA, NS, CAA, TXT). */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include <ares.h>

#include "dns.h"
#include "fuzz.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        return 0;
}

static void walk(const uint8_t *data, size_t size) {
        struct dns_msg m;
        char **chain = NULL;

        if (dns_msg_parse(data, size, &m) < 0)
                return;
        assert(m.n_rrs <= DNS_MSG_RRS_MAX);
        for (size_t i = 0; i < m.n_rrs; i++) {
                assert(m.rrs[i].owner);
                assert(m.rrs[i].section >= DNS_SECTION_ANSWER && m.rrs[i].section <= DNS_SECTION_ADDITIONAL);
        }
        /* From the first answer's owner, as the address probe does from the
         * name it asked about, and from a name that is not there. */
        if (m.n_rrs > 0) {
                int r = dns_msg_cname_chain(&m, m.rrs[0].owner, &chain);
                assert(r == 0 || r == -ELOOP || r == -E2BIG);
                assert(strv_length(chain) <= DNS_CNAME_MAX + 1);
                if (chain) {
                        free(dns_chain_describe(m.rrs[0].owner, chain));
                        chain = strv_free(chain);
                }
        }
        (void)dns_msg_cname_chain(&m, "example.com", NULL);
        dns_msg_done(&m);
}

static void cares(const uint8_t *data, size_t size) {
        struct ares_addrttl a[16];
        struct ares_addr6ttl a6[16];
        struct ares_soa_reply *soa = NULL;
        struct ares_caa_reply *caa = NULL;
        struct ares_txt_ext *txt = NULL;
        struct hostent *h = NULL;
        int n = 16, len = (int)size;

        (void)ares_parse_a_reply(data, len, NULL, a, &n);
        n = 16;
        (void)ares_parse_aaaa_reply(data, len, NULL, a6, &n);
        if (ares_parse_soa_reply(data, len, &soa) == ARES_SUCCESS)
                ares_free_data(soa);
        if (ares_parse_caa_reply(data, len, &caa) == ARES_SUCCESS)
                ares_free_data(caa);
        if (ares_parse_txt_reply_ext(data, len, &txt) == ARES_SUCCESS)
                ares_free_data(txt);
        if (ares_parse_ns_reply(data, len, &h) == ARES_SUCCESS)
                ares_free_hostent(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* libFuzzer hands over an exact-size heap copy: one byte read past
         * the answer is an ASan report. */
        walk(data, size);
        if (size <= 65535)
                cares(data, size);
        return 0;
}
