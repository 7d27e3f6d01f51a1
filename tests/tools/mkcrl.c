/* mkcrl CA.pem CA-KEY.pem N OUT.der: a CRL signed by the CA that lists N
 * made-up serials (none of the sandbox's certificates), valid for a week,
 * for the tests of large CRLs. The DER is written here and only signed by
 * GnuTLS: its CRL builder appends entries in quadratic time, and
 * certtool wants a certificate per entry. Test tool only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

struct buf {
        unsigned char *p;
        size_t n, cap;
};

static void put(struct buf *b, const void *d, size_t n) {
        if (b->n + n > b->cap) {
                b->cap = (b->n + n) * 2;
                b->p = realloc(b->p, b->cap);
                if (!b->p)
                        abort();
        }
        memcpy(b->p + b->n, d, n);
        b->n += n;
}

/* A DER tag, length and content. */
static void tlv(struct buf *b, unsigned char tag, const void *d, size_t n) {
        unsigned char h[6] = { tag };
        size_t k = 1;
        if (n < 0x80)
                h[k++] = (unsigned char)n;
        else {
                int bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
                h[k++] = (unsigned char)(0x80 | bytes);
                for (int i = bytes - 1; i >= 0; i--)
                        h[k++] = (unsigned char)(n >> (8 * i));
        }
        put(b, h, k);
        put(b, d, n);
}

static void utctime(struct buf *b, time_t t) {
        char s[32];
        struct tm tm;
        gmtime_r(&t, &tm);
        /* UTCTime: two digits of year (RFC 5280 4.1.2.5.1, up to 2049). */
        snprintf(s, sizeof(s), "%02d%02d%02d%02d%02d%02dZ", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
        tlv(b, 0x17, s, strlen(s));
}

int main(int argc, char *argv[]) {
        static const unsigned char ecdsa_sha256[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
        static const unsigned char rsa_sha256[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                                    0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00 };
        gnutls_datum_t ca_pem = { 0 }, key_pem = { 0 }, dn = { 0 }, sig = { 0 };
        gnutls_x509_crt_t ca = NULL;
        gnutls_privkey_t key = NULL;
        struct buf entries = { 0 }, tbs_in = { 0 }, tbs = { 0 }, all_in = { 0 }, all = { 0 }, bits = { 0 };
        const unsigned char *alg;
        size_t alg_len;
        time_t now = time(NULL);
        char *end;
        long n;
        FILE *f;
        int ret = 1;

        if (argc != 5) {
                fprintf(stderr, "usage: mkcrl CA.pem CA-KEY.pem N OUT.der\n");
                return 2;
        }
        n = strtol(argv[3], &end, 10);
        if (*end || n < 0 || n > 10000000) {
                fprintf(stderr, "mkcrl: bad N '%s'\n", argv[3]);
                return 2;
        }
        if (gnutls_load_file(argv[1], &ca_pem) < 0 || gnutls_load_file(argv[2], &key_pem) < 0 ||
            gnutls_x509_crt_init(&ca) < 0 || gnutls_x509_crt_import(ca, &ca_pem, GNUTLS_X509_FMT_PEM) < 0 ||
            gnutls_x509_crt_get_raw_dn(ca, &dn) < 0 || gnutls_privkey_init(&key) < 0 ||
            gnutls_privkey_import_x509_raw(key, &key_pem, GNUTLS_X509_FMT_PEM, NULL, 0) < 0) {
                fprintf(stderr, "mkcrl: cannot load the CA\n");
                goto out;
        }
        if (gnutls_privkey_get_pk_algorithm(key, NULL) == GNUTLS_PK_RSA)
                alg = rsa_sha256, alg_len = sizeof(rsa_sha256);
        else
                alg = ecdsa_sha256, alg_len = sizeof(ecdsa_sha256);

        for (long i = 0; i < n; i++) {
                /* 16 bytes, top bit clear, never a real serial of ours. */
                unsigned char serial[16] = { 0x7e, 0xc1 };
                struct buf e = { 0 };
                for (int k = 0; k < 8; k++)
                        serial[8 + k] = (unsigned char)((unsigned long)i >> (56 - 8 * k));
                tlv(&e, 0x02, serial, sizeof(serial));
                utctime(&e, now - 86400);
                tlv(&entries, 0x30, e.p, e.n);
                free(e.p);
        }
        put(&tbs_in, (const unsigned char[]){ 0x02, 0x01, 0x01 }, 3); /* version v2 */
        put(&tbs_in, alg, alg_len);
        put(&tbs_in, dn.data, dn.size);
        utctime(&tbs_in, now - 3600);
        utctime(&tbs_in, now + 7 * 86400);
        if (n > 0)
                tlv(&tbs_in, 0x30, entries.p, entries.n);
        tlv(&tbs, 0x30, tbs_in.p, tbs_in.n);

        gnutls_datum_t data = { .data = tbs.p, .size = (unsigned)tbs.n };
        if (gnutls_privkey_sign_data(key, GNUTLS_DIG_SHA256, 0, &data, &sig) < 0) {
                fprintf(stderr, "mkcrl: cannot sign\n");
                goto out;
        }
        put(&bits, (const unsigned char[]){ 0x00 }, 1);
        put(&bits, sig.data, sig.size);
        put(&all_in, tbs.p, tbs.n);
        put(&all_in, alg, alg_len);
        tlv(&all_in, 0x03, bits.p, bits.n);
        tlv(&all, 0x30, all_in.p, all_in.n);

        f = fopen(argv[4], "wb");
        if (!f || fwrite(all.p, 1, all.n, f) != all.n || fclose(f) != 0) {
                fprintf(stderr, "mkcrl: cannot write %s\n", argv[4]);
                goto out;
        }
        ret = 0;
out:
        free(entries.p), free(tbs_in.p), free(tbs.p), free(all_in.p), free(all.p), free(bits.p);
        gnutls_free(sig.data);
        gnutls_free(dn.data);
        gnutls_free(ca_pem.data);
        gnutls_free(key_pem.data);
        if (key)
                gnutls_privkey_deinit(key);
        if (ca)
                gnutls_x509_crt_deinit(ca);
        return ret;
}
