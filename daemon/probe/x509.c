/* The X.509 helper: trust anchors, parsing a served certificate into a
 * cert_obs, and chain verification. GnuTLS stays inside this file and the
 * TLS probe. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/x509-ext.h>

#include "util.h"
#include "x509.h"

/* Bounds for what one certificate may make us allocate: a hostile server may
 * send thousands of SANs or absurdly long names. */
#define SAN_MAX 10000
#define SAN_LEN_MAX 1024
#define IP_SAN_MAX 64             /* iPAddress entries kept per certificate */

/* Verified chains, keyed by the fingerprints of their certificates: the
 * same chain is served by every name and address of a platform, and
 * verification (signatures) is the largest CPU cost of an audit. */
#define VERIFY_CACHE_MAX 64

struct verify_result {
        char *key;
        bool ok;
        char *reason;
};

struct verify_cache {
        struct verify_result entries[VERIFY_CACHE_MAX];
        size_t next;                /* replaced next, round robin */
};

struct x509_trust {
        gnutls_x509_trust_list_t list;
        char *spec;
        /* Mutable memo behind a trust that callers hold as const: results
         * depend only on the chain and the anchors, never on the caller. */
        struct verify_cache *cache;
};

/* 0 when path is a regular file we may read, else why not. */
static int trust_file_check(const char *path) {
        int fd = file_open_regular(path);

        if (fd < 0)
                return fd;
        close(fd);
        return 0;
}

int x509_trust_load(const char *spec, struct x509_trust **ret, char **ret_error) {
        struct x509_trust *t = xcalloc(1, sizeof(*t));
        int r;

        t->spec = xstrdup(spec);
        t->cache = xcalloc(1, sizeof(*t->cache));
        r = gnutls_x509_trust_list_init(&t->list, 0);
        if (r < 0) {
                *ret_error = xasprintf("cannot create trust list: %s", gnutls_strerror(r));
                r = -ENOMEM;
                goto fail;
        }
        if (strcmp(spec, "system") == 0)
                r = gnutls_x509_trust_list_add_system_trust(t->list, 0, 0);
        else {
                /* GnuTLS says only "Error while reading file": ask the
                 * system why first. */
                r = trust_file_check(spec);
                if (r < 0) {
                        *ret_error = xasprintf("%s: cannot load trust anchors: %s", spec,
                                               r == -EINVAL ? "not a regular file" : strerror(-r));
                        goto fail;
                }
                r = gnutls_x509_trust_list_add_trust_file(t->list, spec, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
        }
        if (r < 0) {
                *ret_error = xasprintf("%s: cannot load trust anchors: %s", spec, gnutls_strerror(r));
                r = r == GNUTLS_E_FILE_ERROR ? -ENOENT : -EINVAL;
                goto fail;
        }
        if (r == 0) {
                *ret_error = xasprintf("%s: no certificates found to use as trust anchors", spec);
                r = -ENOENT;
                goto fail;
        }
        *ret = t;
        return 0;
fail:
        x509_trust_free(t);
        return r;
}

struct x509_trust *x509_trust_free(struct x509_trust *t) {
        if (!t)
                return NULL;
        if (t->list)
                gnutls_x509_trust_list_deinit(t->list, 1);
        for (size_t i = 0; t->cache && i < VERIFY_CACHE_MAX; i++) {
                free(t->cache->entries[i].key);
                free(t->cache->entries[i].reason);
        }
        free(t->cache);
        free(t->spec);
        free(t);
        return NULL;
}

static char *datum_escape(const gnutls_datum_t *d) {
        return str_escape((const char *)d->data, d->size);
}

static char *key_describe(gnutls_x509_crt_t crt, struct cert_obs *c) {
        unsigned bits = 0;
        int pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);

        c->key_bits = bits;
        c->key_kind = pk == GNUTLS_PK_RSA || pk == GNUTLS_PK_RSA_PSS ? CERT_KEY_RSA
                      : pk == GNUTLS_PK_ECDSA || pk == GNUTLS_PK_EDDSA_ED25519 || pk == GNUTLS_PK_EDDSA_ED448
                              ? CERT_KEY_EC
                              : CERT_KEY_OTHER;

        if (pk == GNUTLS_PK_ECDSA) {
                gnutls_ecc_curve_t curve;
                if (gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, NULL, NULL) >= 0) {
                        const char *name = gnutls_ecc_curve_get_name(curve);
                        return xasprintf("ECDSA %s", name ? name : "unknown-curve");
                }
                return xstrdup("ECDSA");
        }
        if (pk == GNUTLS_PK_RSA || pk == GNUTLS_PK_RSA_PSS)
                return xasprintf("%s %u", pk == GNUTLS_PK_RSA ? "RSA" : "RSA-PSS", bits);
        if (pk < 0)
                return xstrdup("unknown");
        const char *name = gnutls_pk_get_name((gnutls_pk_algorithm_t)pk);
        return xstrdup(name ? name : "unknown");
}

/* An iPAddress entry (RFC 5280 4.2.1.6: 4 or 16 octets) as inet_ntop
 * writes it, so it compares equal to a canonical address literal. Only a
 * few are kept: they matter only when the name probed is an address. */
static void ip_san_add(struct cert_obs *c, const gnutls_datum_t *san) {
        char text[INET6_ADDRSTRLEN];

        if ((san->size != 4 && san->size != 16) || strv_length(c->ip_san) >= IP_SAN_MAX ||
            !inet_ntop(san->size == 4 ? AF_INET : AF_INET6, san->data, text, sizeof(text)))
                return;
        strv_push(&c->ip_san, xstrdup(text));
}

/* The extension is decoded once: gnutls_x509_crt_get_subject_alt_name()
 * decodes it again on every call, so a certificate with thousands of SANs
 * would cost quadratic time on the loop. */
static void san_collect(gnutls_x509_crt_t crt, struct cert_obs *c) {
        gnutls_datum_t ext = { 0 };
        gnutls_subject_alt_names_t sans = NULL;
        unsigned critical;
        size_t n = 0, allocated = 0;

        if (gnutls_x509_crt_get_extension_by_oid2(crt, "2.5.29.17", 0, &ext, &critical) < 0)
                return;
        if (gnutls_subject_alt_names_init(&sans) < 0)
                goto out;
        if (gnutls_x509_ext_import_subject_alt_names(&ext, sans, 0) < 0)
                goto out;
        for (unsigned seq = 0; seq < SAN_MAX; seq++) {
                gnutls_datum_t san = { 0 };
                unsigned type;
                int r = gnutls_subject_alt_names_get(sans, seq, &type, &san, NULL);
                if (r < 0)
                        break;
                if (type == GNUTLS_SAN_IPADDRESS) {
                        ip_san_add(c, &san);
                        continue;
                }
                if (type != GNUTLS_SAN_DNSNAME || san.size > SAN_LEN_MAX)
                        continue; /* longer than any valid name: cannot match, skip */
                /* size counts the bytes as encoded: an embedded NUL stays
                 * visible as \x00 and so never matches a real name. */
                if (n + 1 >= allocated) {
                        allocated = allocated ? allocated * 2 : 8;
                        c->san = xrealloc(c->san, allocated * sizeof(char *));
                }
                c->san[n++] = str_escape((const char *)san.data, san.size);
                c->san[n] = NULL;
        }
out:
        if (sans)
                gnutls_subject_alt_names_deinit(sans);
        gnutls_free(ext.data);
}

static bool url_is_http(const char *s, size_t n) {
        return (n > 7 && strncasecmp(s, "http://", 7) == 0) || (n > 8 && strncasecmp(s, "https://", 8) == 0);
}

/* Only http(s) URLs are kept: ldap:// and file:// are nothing we fetch. A URL
 * with a NUL or control byte is escaped and so can never be fetched as
 * something else than what it says. */
static char *url_keep(const char *s, size_t n) {
        if (n == 0 || n > SAN_LEN_MAX || !url_is_http(s, n) || memchr(s, '\0', n))
                return NULL;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
                        return NULL;
        return xstrndup(s, n);
}

static void urls_collect(gnutls_x509_crt_t crt, struct cert_obs *c) {
        for (unsigned seq = 0; seq < 16 && !c->aia_ca_issuers; seq++) {
                gnutls_datum_t d = { 0 };
                unsigned critical;
                int r = gnutls_x509_crt_get_authority_info_access(crt, seq, GNUTLS_IA_CAISSUERS_URI, &d, &critical);
                if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
                        break;
                if (r < 0)
                        continue; /* an OCSP entry at this position, or unknown */
                c->aia_ca_issuers = url_keep((const char *)d.data, d.size);
                gnutls_free(d.data);
        }
        for (unsigned seq = 0; seq < 16 && !c->crl_url; seq++) {
                char buf[SAN_LEN_MAX];
                size_t size = sizeof(buf);
                unsigned reasons, critical;
                int type = gnutls_x509_crt_get_crl_dist_points(crt, seq, buf, &size, &reasons, &critical);
                if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE || (type < 0 && type != GNUTLS_E_SHORT_MEMORY_BUFFER))
                        break;
                if (type == GNUTLS_SAN_URI)
                        c->crl_url = url_keep(buf, size);
        }
}

static void signature_describe(gnutls_x509_crt_t crt, struct cert_obs *c) {
        int sign = gnutls_x509_crt_get_signature_algorithm(crt);
        const char *name = sign >= 0 ? gnutls_sign_get_name((gnutls_sign_algorithm_t)sign) : NULL;
        gnutls_digest_algorithm_t dig = sign >= 0 ? gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)sign)
                                                  : GNUTLS_DIG_UNKNOWN;
        const char *dname = dig != GNUTLS_DIG_UNKNOWN ? gnutls_digest_get_name(dig) : NULL;

        c->sig_algo = xstrdup(name ? name : "unknown");
        c->sig_hash = xstrdup(dname ? dname : "");
}

/* RFC 6962 3.3: the SCTs a CA embeds in the certificate, as GnuTLS
 * decodes them. */
#define OID_CT_SCTS "1.3.6.1.4.1.11129.2.4.2"

static void scts_collect(gnutls_x509_crt_t crt, struct cert_obs *c) {
        gnutls_datum_t ext = { 0 };
        gnutls_x509_ct_scts_t scts = NULL;
        unsigned critical = 0;
        int r;

        if (gnutls_x509_crt_get_extension_by_oid2(crt, OID_CT_SCTS, 0, &ext, &critical) < 0)
                return;
        c->has_scts = true;
        r = gnutls_x509_ext_ct_scts_init(&scts);
        if (r >= 0)
                r = gnutls_x509_ext_ct_import_scts(&ext, scts, 0);
        if (r < 0) {
                c->scts_error = xasprintf("the SCT list does not parse: %s", gnutls_strerror(r));
                goto out;
        }
        c->scts = xcalloc(SCT_KEEP, sizeof(struct sct_obs));
        for (unsigned i = 0; c->n_scts < SCT_KEEP; i++) {
                gnutls_datum_t logid = { 0 }, sig = { 0 }, b64 = { 0 };
                gnutls_sign_algorithm_t alg;
                time_t ts = 0;
                r = gnutls_x509_ct_sct_get(scts, i, &ts, &logid, &alg, &sig);
                if (r < 0)
                        break;
                if (gnutls_base64_encode2(&logid, &b64) >= 0) {
                        c->scts[c->n_scts++] = (struct sct_obs){
                                .log_id = xstrndup((const char *)b64.data, b64.size), .timestamp = ts };
                        gnutls_free(b64.data);
                }
                gnutls_free(logid.data);
                gnutls_free(sig.data);
        }
out:
        if (scts)
                gnutls_x509_ext_ct_scts_deinit(scts);
        gnutls_free(ext.data);
}

int x509_cert_parse(const unsigned char *der, size_t len, struct cert_obs *c, char **ret_error) {
        gnutls_x509_crt_t crt = NULL;
        gnutls_datum_t in = { .data = (unsigned char *)der, .size = (unsigned)len };
        gnutls_datum_t dn = { 0 }, raw_subject, raw_issuer;
        unsigned char buf[64];
        size_t size;
        int r;

        if (len > UINT32_MAX) {
                *ret_error = xstrdup("certificate too large");
                return -EBADMSG;
        }
        r = gnutls_x509_crt_init(&crt);
        if (r < 0) {
                *ret_error = xasprintf("cannot parse certificate: %s", gnutls_strerror(r));
                return -ENOMEM;
        }
        r = gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_DER);
        if (r < 0) {
                *ret_error = xasprintf("cannot parse certificate: %s", gnutls_strerror(r));
                r = -EBADMSG;
                goto out;
        }

        if (gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0) {
                c->subject = datum_escape(&dn);
                gnutls_free(dn.data);
                dn.data = NULL;
        } else
                c->subject = xstrdup("");
        if (gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0) >= 0) {
                c->issuer = datum_escape(&dn);
                gnutls_free(dn.data);
                dn.data = NULL;
        } else
                c->issuer = xstrdup("");

        size = sizeof(buf);
        c->serial = gnutls_x509_crt_get_serial(crt, buf, &size) >= 0 ? serial_format(buf, size) : xstrdup("");

        c->not_before = gnutls_x509_crt_get_activation_time(crt);
        c->not_after = gnutls_x509_crt_get_expiration_time(crt);

        size = sizeof(buf);
        r = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, buf, &size);
        c->sha256 = r >= 0 ? hex_encode(buf, size, 0) : xstrdup("");

        san_collect(crt, c);
        c->key = key_describe(crt, c);
        signature_describe(crt, c);
        urls_collect(crt, c);
        scts_collect(crt, c);
        {
                unsigned ca = 0;
                c->is_ca = gnutls_x509_crt_get_basic_constraints(crt, NULL, &ca, NULL) >= 0 && ca;
        }

        raw_subject = raw_issuer = (gnutls_datum_t){ 0 };
        if (gnutls_x509_crt_get_raw_dn(crt, &raw_subject) >= 0 &&
            gnutls_x509_crt_get_raw_issuer_dn(crt, &raw_issuer) >= 0)
                c->self_issued = raw_subject.size == raw_issuer.size &&
                                 memcmp(raw_subject.data, raw_issuer.data, raw_subject.size) == 0;
        gnutls_free(raw_subject.data);
        gnutls_free(raw_issuer.data);

        c->der = xmalloc(len);
        memcpy(c->der, der, len);
        c->der_len = len;
        r = 0;
out:
        gnutls_x509_crt_deinit(crt);
        return r;
}

static char *chain_key(const struct cert_obs *chain, size_t n) {
        char *key = xstrdup("");
        for (size_t i = 0; i < n; i++) {
                char *k = xasprintf("%s%s/", key, chain[i].sha256);
                free(key);
                key = k;
        }
        return key;
}

static int chain_verify(const struct x509_trust *t, const struct cert_obs *chain, size_t n, bool *ret_ok,
                        char **ret_reason);

int x509_chain_verify(const struct x509_trust *t, const struct cert_obs *chain, size_t n,
                      bool *ret_ok, char **ret_reason) {
        _cleanup_free_ char *key = chain_key(chain, n);
        struct verify_cache *c = t->cache;
        char *reason = NULL;
        bool ok = false;
        int r;

        for (size_t i = 0; i < VERIFY_CACHE_MAX; i++)
                if (c->entries[i].key && strcmp(c->entries[i].key, key) == 0) {
                        *ret_ok = c->entries[i].ok;
                        if (!c->entries[i].ok)
                                *ret_reason = xstrdup(c->entries[i].reason);
                        return 0;
                }
        r = chain_verify(t, chain, n, &ok, &reason);
        if (r < 0)
                return r;
        struct verify_result *e = &c->entries[c->next];
        c->next = (c->next + 1) % VERIFY_CACHE_MAX;
        free(e->key);
        free(e->reason);
        *e = (struct verify_result){ .key = TAKE_PTR(key), .ok = ok, .reason = xstrdup(reason) };
        *ret_ok = ok;
        if (!ok)
                *ret_reason = reason;
        else
                free(reason);
        return 0;
}

static int chain_verify(const struct x509_trust *t, const struct cert_obs *chain, size_t n, bool *ret_ok,
                        char **ret_reason) {
        gnutls_x509_crt_t *crts;
        gnutls_datum_t out = { 0 };
        unsigned status = 0;
        size_t imported = 0;
        int r;

        if (n == 0) {
                *ret_ok = false;
                *ret_reason = xstrdup("the server sent no certificate");
                return 0;
        }
        crts = xcalloc(n, sizeof(*crts));
        for (; imported < n; imported++) {
                gnutls_datum_t d = { .data = chain[imported].der, .size = (unsigned)chain[imported].der_len };
                r = gnutls_x509_crt_init(&crts[imported]);
                if (r >= 0)
                        r = gnutls_x509_crt_import(crts[imported], &d, GNUTLS_X509_FMT_DER);
                if (r < 0) {
                        imported++;
                        r = -EBADMSG;
                        goto out;
                }
        }

        /* Dates are judged by the expiry checks with an injected clock, so
         * that "expired" and "untrusted" stay separate findings. */
        r = gnutls_x509_trust_list_verify_crt2(t->list, crts, (unsigned)n, NULL, 0,
                                               GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
                                                       GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
                                               &status, NULL);
        if (r < 0) {
                r = -EIO;
                goto out;
        }
        *ret_ok = status == 0;
        if (status != 0) {
                if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) >= 0) {
                        size_t len = out.size;
                        /* GnuTLS ends its sentences with a space. */
                        while (len > 0 && (out.data[len - 1] == ' ' || out.data[len - 1] == 0))
                                len--;
                        *ret_reason = str_escape((const char *)out.data, len);
                        gnutls_free(out.data);
                } else
                        *ret_reason = xasprintf("verification status 0x%x", status);
        }
        r = 0;
out:
        for (size_t i = 0; i < imported; i++)
                gnutls_x509_crt_deinit(crts[i]);
        free(crts);
        return r;
}

static int crt_import(const struct cert_obs *c, gnutls_x509_crt_t *ret) {
        gnutls_datum_t d = { .data = c->der, .size = (unsigned)c->der_len };
        gnutls_x509_crt_t crt;

        if (gnutls_x509_crt_init(&crt) < 0)
                return -ENOMEM;
        if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0) {
                gnutls_x509_crt_deinit(crt);
                return -EBADMSG;
        }
        *ret = crt;
        return 0;
}

void x509_chain_annotate(const struct x509_trust *t, struct cert_obs *chain, size_t n) {
        for (size_t i = 0; i < n; i++) {
                gnutls_x509_crt_t crt, issuer = NULL;
                if (crt_import(&chain[i], &crt) < 0)
                        continue;
                /* GET_COPY: the list may hold the issuer only by DN in a
                 * lazily loaded store, and we must not keep its pointer. */
                if (gnutls_x509_trust_list_get_issuer(t->list, crt, &issuer, GNUTLS_TL_GET_COPY) >= 0 && issuer) {
                        chain[i].issuer_is_anchor = true;
                        gnutls_x509_crt_deinit(issuer);
                }
                gnutls_x509_crt_deinit(crt);
        }
}

int x509_cert_parse_any(const unsigned char *data, size_t len, struct cert_obs *ret, char **ret_error) {
        gnutls_x509_crt_t crt = NULL;
        gnutls_datum_t in = { .data = (unsigned char *)data, .size = (unsigned)len }, der = { 0 };
        int r;

        if (len == 0 || len > UINT32_MAX) {
                *ret_error = xstrdup(len ? "too large" : "empty body");
                return -EBADMSG;
        }
        /* RFC 5280 4.2.2.1 says DER (or a certs-only PKCS#7); CAs also serve
         * PEM in practice, so both are read, and re-encoded as DER. */
        if (gnutls_x509_crt_init(&crt) < 0)
                return -ENOMEM;
        r = gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_DER);
        if (r < 0)
                r = gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_PEM);
        if (r >= 0)
                r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der);
        gnutls_x509_crt_deinit(crt);
        if (r < 0) {
                *ret_error = xasprintf("not a DER or PEM certificate (%s)", gnutls_strerror(r));
                return -EBADMSG;
        }
        r = x509_cert_parse(der.data, der.size, ret, ret_error);
        gnutls_free(der.data);
        return r;
}

struct crl_verdict {
        char *issuer_sha256;       /* NULL: the trust anchor of the leaf */
        bool ok;
        char *why;
};

struct x509_crl {
        gnutls_datum_t der;
        time_t this_update, next_update;
        char **serials;            /* serial_format(), sorted */
        time_t *revoked_at;        /* parallel to serials */
        size_t n;
        struct crl_verdict *verdicts;
        size_t n_verdicts;
};

struct crl_entry {
        char *serial;
        time_t when;
};

static int crl_entry_cmp(const void *a, const void *b) {
        return strcmp(((const struct crl_entry *)a)->serial, ((const struct crl_entry *)b)->serial);
}

struct x509_crl *x509_crl_free(struct x509_crl *crl) {
        if (!crl)
                return NULL;
        for (size_t i = 0; i < crl->n; i++)
                free(crl->serials[i]);
        free(crl->serials);
        free(crl->revoked_at);
        for (size_t i = 0; i < crl->n_verdicts; i++) {
                free(crl->verdicts[i].issuer_sha256);
                free(crl->verdicts[i].why);
        }
        free(crl->verdicts);
        gnutls_free(crl->der.data);
        free(crl);
        return NULL;
}

time_t x509_crl_next_update(const struct x509_crl *crl) {
        return crl->next_update;
}

/* The entries through GnuTLS's iterator: asking for entry i by index walks
 * the list from the start each time, quadratic on a large CRL. */
static int crl_collect(gnutls_x509_crl_t g, struct x509_crl *crl, char **ret_error) {
        gnutls_x509_crl_iter_t iter = NULL;
        struct crl_entry *e = NULL;
        size_t n = 0, allocated = 0;
        int r;

        for (;;) {
                unsigned char serial[64];
                size_t size = sizeof(serial);
                time_t when = 0;
                r = gnutls_x509_crl_iter_crt_serial(g, &iter, serial, &size, &when);
                if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
                        break;
                if (r < 0) {
                        *ret_error = xasprintf("the CRL's entry %zu does not parse: %s", n, gnutls_strerror(r));
                        goto fail;
                }
                if (n == X509_CRL_ENTRIES_MAX) {
                        *ret_error = xasprintf("the CRL lists more than %d certificates: not judged",
                                               X509_CRL_ENTRIES_MAX);
                        goto fail;
                }
                if (n == allocated) {
                        allocated = allocated ? allocated * 2 : 64;
                        e = xrealloc(e, allocated * sizeof(*e));
                }
                e[n++] = (struct crl_entry){ .serial = serial_format(serial, size), .when = when };
        }
        gnutls_x509_crl_iter_deinit(iter);
        if (n > 1)
                qsort(e, n, sizeof(*e), crl_entry_cmp);
        crl->serials = xcalloc(n + 1, sizeof(*crl->serials));
        crl->revoked_at = xcalloc(n + 1, sizeof(*crl->revoked_at));
        for (size_t i = 0; i < n; i++) {
                crl->serials[i] = e[i].serial;
                crl->revoked_at[i] = e[i].when;
        }
        crl->n = n;
        free(e);
        return 0;
fail:
        gnutls_x509_crl_iter_deinit(iter);
        for (size_t i = 0; i < n; i++)
                free(e[i].serial);
        free(e);
        return -EBADMSG;
}

int x509_crl_parse(const unsigned char *data, size_t len, struct x509_crl **ret, char **ret_error) {
        gnutls_datum_t in = { .data = (unsigned char *)data, .size = (unsigned)len };
        gnutls_x509_crl_t g = NULL;
        struct x509_crl *crl;
        int r;

        if (len == 0 || len > UINT32_MAX) {
                *ret_error = xstrdup("the CRL is empty or too large");
                return -EBADMSG;
        }
        if (gnutls_x509_crl_init(&g) < 0)
                return -ENOMEM;
        bool pem = false;       /* the input was PEM: its DER is decoded below */
        r = gnutls_x509_crl_import(g, &in, GNUTLS_X509_FMT_DER);
        if (r < 0) {
                r = gnutls_x509_crl_import(g, &in, GNUTLS_X509_FMT_PEM);
                pem = r >= 0;
        }
        if (r < 0) {
                *ret_error = xasprintf("the CRL does not parse: %s", gnutls_strerror(r));
                gnutls_x509_crl_deinit(g);
                return -EBADMSG;
        }
        crl = xcalloc(1, sizeof(*crl));
        crl->this_update = gnutls_x509_crl_get_this_update(g);
        crl->next_update = gnutls_x509_crl_get_next_update(g);
        if (crl->next_update == (time_t)-1)
                crl->next_update = 0;
        /* The signature is over the bytes as received: keep them, not a
         * re-encoding (which may differ), and not the parsed tree (which is
         * many times their size). */
        if (pem)
                r = gnutls_pem_base64_decode2("X509 CRL", &in, &crl->der);
        else {
                crl->der.data = gnutls_malloc(len);
                r = crl->der.data ? 0 : GNUTLS_E_MEMORY_ERROR;
                if (r == 0) {
                        memcpy(crl->der.data, data, len);
                        crl->der.size = (unsigned)len;
                }
        }
        if (r >= 0)
                r = crl_collect(g, crl, ret_error);
        else
                *ret_error = xasprintf("the CRL cannot be kept: %s", gnutls_strerror(r));
        gnutls_x509_crl_deinit(g);
        if (r < 0) {
                x509_crl_free(crl);
                return -EBADMSG;
        }
        *ret = crl;
        return 0;
}

/* Verifies the CRL's signature with the issuer (or the leaf's anchor). */
static void crl_verify(const struct x509_trust *t, const struct x509_crl *crl, const struct cert_obs *leaf,
                       const struct cert_obs *issuer, struct crl_verdict *v) {
        gnutls_x509_crl_t g = NULL;
        gnutls_x509_crt_t leaf_crt = NULL, issuer_crt = NULL;
        unsigned status = 0;
        int r;

        if (gnutls_x509_crl_init(&g) < 0 || gnutls_x509_crl_import(g, &crl->der, GNUTLS_X509_FMT_DER) < 0) {
                v->why = xstrdup("the CRL does not parse");
                goto out;
        }
        /* The CRL must be signed by the leaf's issuer: the served one, the
         * one fetched from AIA, or a trust anchor. */
        if (issuer)
                r = crt_import(issuer, &issuer_crt);
        else {
                r = crt_import(leaf, &leaf_crt);
                if (r >= 0 && (gnutls_x509_trust_list_get_issuer(t->list, leaf_crt, &issuer_crt, GNUTLS_TL_GET_COPY) < 0 ||
                               !issuer_crt))
                        r = -ENOENT;
        }
        if (r < 0) {
                v->why = xstrdup("the leaf's issuer is not known, so the CRL's signature cannot be checked");
                issuer_crt = NULL;
                goto out;
        }
        r = gnutls_x509_crl_verify(g, &issuer_crt, 1, GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &status);
        /* GnuTLS flags a CRL past its nextUpdate (or not yet issued) even
         * without time checks: its dates are judged by the caller, only
         * the signature here. */
        const unsigned dates = GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED | GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE;
        if (status & dates) {
                status &= ~dates;
                status &= ~(unsigned)GNUTLS_CERT_INVALID; /* set along with any other bit */
        }
        if (r < 0 || status != 0) {
                v->why = xstrdup("the CRL's signature does not verify with the leaf's issuer");
                goto out;
        }
        v->ok = true;
out:
        if (issuer_crt)
                gnutls_x509_crt_deinit(issuer_crt);
        if (leaf_crt)
                gnutls_x509_crt_deinit(leaf_crt);
        if (g)
                gnutls_x509_crl_deinit(g);
}

int x509_crl_judge(const struct x509_trust *t, struct x509_crl *crl, const struct cert_obs *leaf,
                   const struct cert_obs *issuer, time_t now, enum crl_status *ret_status, char **ret_detail) {
        const char *key = issuer ? issuer->sha256 : NULL;
        struct crl_verdict *v = NULL;
        size_t lo = 0, hi = crl->n;

        *ret_status = CRL_UNKNOWN;
        for (size_t i = 0; i < crl->n_verdicts && !v; i++)
                if (streq_ptr(crl->verdicts[i].issuer_sha256, key))
                        v = &crl->verdicts[i];
        if (!v) {
                crl->verdicts = xrealloc(crl->verdicts, (crl->n_verdicts + 1) * sizeof(*crl->verdicts));
                v = &crl->verdicts[crl->n_verdicts++];
                *v = (struct crl_verdict){ .issuer_sha256 = xstrdup(key) };
                crl_verify(t, crl, leaf, issuer, v);
        }
        if (!v->ok) {
                *ret_detail = xstrdup(v->why);
                return 0;
        }
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcasecmp(crl->serials[mid], leaf->serial);
                if (c == 0) {
                        char buf[RFC3339_MAX];
                        *ret_status = CRL_REVOKED;
                        *ret_detail = xasprintf("revoked on %s", format_rfc3339(crl->revoked_at[mid], buf));
                        return 0;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (crl->next_update > 0 && crl->next_update < now) {
                char buf[RFC3339_MAX];
                *ret_status = CRL_STALE;
                *ret_detail = xasprintf("the CRL was due to be replaced on %s (nextUpdate) and was not",
                                        format_rfc3339(crl->next_update, buf));
                return 0;
        }
        *ret_status = CRL_GOOD;
        return 0;
}

int x509_crl_check(const struct x509_trust *t, const struct cert_obs *leaf, const struct cert_obs *issuer,
                   const unsigned char *data, size_t len, time_t now, enum crl_status *ret_status,
                   time_t *ret_next_update, char **ret_detail) {
        struct x509_crl *crl = NULL;
        int r;

        *ret_status = CRL_UNKNOWN;
        *ret_next_update = 0;
        r = x509_crl_parse(data, len, &crl, ret_detail);
        if (r == -EBADMSG)
                return 0;
        if (r < 0)
                return r;
        *ret_next_update = crl->next_update;
        r = x509_crl_judge(t, crl, leaf, issuer, now, ret_status, ret_detail);
        x509_crl_free(crl);
        return r;
}

int x509_base64_decode(const char *text, unsigned char **ret, size_t *ret_size) {
        gnutls_datum_t in = { .data = (unsigned char *)text, .size = (unsigned)strlen(text) }, out = { 0 };
        unsigned char *buf;

        if (gnutls_base64_decode2(&in, &out) < 0)
                return -EINVAL;
        buf = xmalloc(out.size + 1);
        memcpy(buf, out.data, out.size);
        buf[out.size] = 0;
        *ret_size = out.size;
        gnutls_free(out.data);
        *ret = buf;
        return 0;
}

static char *base64url(const unsigned char *data, size_t n) {
        gnutls_datum_t in = { .data = (unsigned char *)data, .size = (unsigned)n }, out = { 0 };
        char *s;
        size_t k = 0;

        if (gnutls_base64_encode2(&in, &out) < 0)
                return NULL;
        s = xmalloc(out.size + 1);
        /* RFC 4648 section 5: '-' and '_' for '+' and '/', no padding. */
        for (size_t i = 0; i < out.size; i++) {
                char c = (char)out.data[i];
                if (c == '=' || c == '\n' || c == '\r')
                        continue;
                s[k++] = c == '+' ? '-' : c == '/' ? '_' : c;
        }
        s[k] = 0;
        gnutls_free(out.data);
        return s;
}

int x509_ari_cert_id(const unsigned char *der, size_t len, char **ret) {
        gnutls_x509_crt_t crt = NULL;
        gnutls_datum_t d = { .data = (unsigned char *)der, .size = (unsigned)len };
        unsigned char aki[256], serial[128];
        size_t aki_len = sizeof(aki), serial_len = sizeof(serial);
        unsigned critical;
        char *a = NULL, *s = NULL;
        int r = -EBADMSG;

        if (gnutls_x509_crt_init(&crt) < 0)
                return -ENOMEM;
        if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0)
                goto out;
        if (gnutls_x509_crt_get_authority_key_id(crt, aki, &aki_len, &critical) < 0) {
                r = -ENODATA;
                goto out;
        }
        if (gnutls_x509_crt_get_serial(crt, serial, &serial_len) < 0)
                goto out;
        a = base64url(aki, aki_len);
        s = base64url(serial, serial_len);
        if (!a || !s)
                goto out;
        *ret = xasprintf("%s.%s", a, s);
        r = 0;
out:
        free(a);
        free(s);
        gnutls_x509_crt_deinit(crt);
        return r;
}

int x509_secret_inspect(const unsigned char *crt_pem, size_t crt_len, const unsigned char *key_pem, size_t key_len,
                        char **ret_sha256, bool *ret_key_matches, char **ret_error) {
        gnutls_datum_t cd = { .data = (unsigned char *)crt_pem, .size = (unsigned)crt_len };
        gnutls_datum_t kd = { .data = (unsigned char *)key_pem, .size = (unsigned)key_len };
        gnutls_x509_crt_t *crts = NULL;
        gnutls_x509_privkey_t key = NULL;
        unsigned n = 0;
        unsigned char fp[64], cid[64], kid[64];
        size_t fp_len = sizeof(fp), cid_len = sizeof(cid), kid_len = sizeof(kid);
        int r = -EBADMSG;

        if (gnutls_x509_crt_list_import2(&crts, &n, &cd, GNUTLS_X509_FMT_PEM, 0) < 0 || n == 0) {
                *ret_error = xstrdup("tls.crt holds no PEM certificate");
                goto out;
        }
        if (gnutls_x509_privkey_init(&key) < 0 ||
            gnutls_x509_privkey_import2(key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0) < 0) {
                *ret_error = xstrdup("tls.key holds no unencrypted PEM private key");
                goto out;
        }
        if (gnutls_x509_crt_get_fingerprint(crts[0], GNUTLS_DIG_SHA256, fp, &fp_len) < 0 ||
            gnutls_x509_crt_get_key_id(crts[0], GNUTLS_KEYID_USE_SHA256, cid, &cid_len) < 0 ||
            gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, kid, &kid_len) < 0) {
                *ret_error = xstrdup("cannot compute the key ids of tls.crt and tls.key");
                goto out;
        }
        *ret_sha256 = hex_encode(fp, fp_len, 0);
        *ret_key_matches = cid_len == kid_len && memcmp(cid, kid, cid_len) == 0;
        r = 0;
out:
        gnutls_x509_privkey_deinit(key);
        for (unsigned i = 0; i < n; i++)
                gnutls_x509_crt_deinit(crts[i]);
        gnutls_free(crts);
        return r;
}
