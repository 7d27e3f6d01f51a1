/* The X.509 helper: trust anchors, parsing a served certificate into a
 * cert_obs, and chain verification. GnuTLS stays inside this file and the
 * TLS probe. */
#include <errno.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "util.h"
#include "x509.h"

/* Bounds for what one certificate may make us allocate: a hostile server may
 * send thousands of SANs or absurdly long names. */
#define SAN_MAX 10000
#define SAN_LEN_MAX 1024

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
        else
                r = gnutls_x509_trust_list_add_trust_file(t->list, spec, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
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

static char *key_describe(gnutls_x509_crt_t crt) {
        unsigned bits = 0;
        int pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);

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

static void san_collect(gnutls_x509_crt_t crt, struct cert_obs *c) {
        char buf[SAN_LEN_MAX];

        for (unsigned seq = 0; seq < SAN_MAX; seq++) {
                size_t size = sizeof(buf);
                int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, buf, &size, NULL);
                if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
                        break;
                if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
                        continue; /* longer than any valid name: cannot match, skip */
                if (type < 0)
                        break;
                if (type != GNUTLS_SAN_DNSNAME)
                        continue;
                /* size counts the bytes as encoded: an embedded NUL stays
                 * visible as \x00 and so never matches a real name. */
                strv_push(&c->san, str_escape(buf, size));
        }
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
        c->serial = gnutls_x509_crt_get_serial(crt, buf, &size) >= 0 ? hex_encode(buf, size, 0) : xstrdup("");

        c->not_before = gnutls_x509_crt_get_activation_time(crt);
        c->not_after = gnutls_x509_crt_get_expiration_time(crt);

        size = sizeof(buf);
        r = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, buf, &size);
        c->sha256 = r >= 0 ? hex_encode(buf, size, 0) : xstrdup("");

        san_collect(crt, c);
        c->key = key_describe(crt);

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
