/* The TLS probe. Each endpoint gets a non-blocking socket and a GnuTLS
 * client session whose transport is that socket; the loop watches the
 * direction GnuTLS last blocked on. The handshake is the whole job: once
 * the peer's certificates are in we close without waiting for tickets or a
 * close_notify, which the audit does not need. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "tls.h"
#include "util.h"

/* A chain longer than this is not something any client should accept; we
 * keep the first ones, count the rest and say so (tls.chain.oversized). */
#define CHAIN_MAX 16

/* The largest handshake message we take. GnuTLS's own bound; set here so
 * the memory a hostile server can make us hold is a number we chose: a
 * Certificate message of 1 MiB ends the handshake instead. It leaves room
 * for chains well past tls.chain.oversized's 64 KiB, so those are seen. */
#define HANDSHAKE_MAX (256u * 1024u)

/* Only TLS 1.0 and 1.1: if this completes, the endpoint still speaks them. */
#define LEGACY_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0:%COMPAT"

/* When a server shares no cipher suite with the default offer, a second
 * handshake offers nearly everything GnuTLS has (legacy ciphers and key
 * exchanges too) only to learn, and name, what the server insists on. */
#define WIDE_PRIORITY "NORMAL:+VERS-TLS-ALL:+CAMELLIA-128-GCM:+CAMELLIA-256-GCM:+CAMELLIA-128-CBC:" \
        "+CAMELLIA-256-CBC:+3DES-CBC:+SHA1:+SHA256:+SHA384:+RSA:+DHE-RSA:+DHE-DSS:+SIGN-ALL:+GROUP-ALL"

static const gnutls_datum_t alpn_offer[] = {
        { .data = (unsigned char *)"h2", .size = 2 },
        { .data = (unsigned char *)"http/1.1", .size = 8 },
};

/* What one audit keeps: each distinct certificate parsed once, keyed by
 * the SHA-256 of its DER, and each distinct chain (its certificates'
 * hashes in order) parsed, annotated and verified once, its cert_obs array
 * lent to every endpoint that served it (endpoint_obs.chain_borrowed).
 * Past these bounds chains are parsed per endpoint, into the endpoint's own
 * array: a hostile platform costs time, never unbounded memory. */
#define MEMO_CHAINS_MAX 64
#define MEMO_CERTS_MAX 256
#define HASH_LEN 32

struct memo_cert {
        unsigned char hash[HASH_LEN];
        struct cert_obs cert;     /* when parsed */
        char *error;              /* why it did not parse, else NULL */
};

struct memo_chain {
        unsigned char *key;       /* n_certs hashes */
        size_t n_certs;
        struct cert_obs *chain;   /* owned here, lent to endpoints */
        size_t n_chain;
        bool verified;
        char *verify_error;
};

/* An address (and port) that completed a full handshake with a leaf: the
 * server proved there that it holds the leaf's key. */
#define MEMO_FULL_MAX 4096
struct memo_full {
        char *peer;               /* "ADDRESS PORT" as connected to */
        unsigned char hash[HASH_LEN];
};

struct tls_chain_memo {
        struct memo_full *full;   /* grows; only indexes are kept */
        size_t n_full;
        /* Grown as needed, up to the MAXes: an audit sees few distinct
         * chains, and inline arrays were ~54 KB per platform allocated up
         * front, most of a large audit's memory. Only indexes into them
         * outlive a lookup (the endpoints borrow memo_chain.chain, a
         * separate allocation). */
        struct memo_chain *chains;
        size_t n_chains, m_chains;
        struct memo_cert *certs;
        size_t n_certs, m_certs;
        unsigned parses;          /* x509_cert_parse() calls, for tests */
};

struct tls_chain_memo *tls_chain_memo_new(void) {
        return xcalloc(1, sizeof(struct tls_chain_memo));
}

struct tls_chain_memo *tls_chain_memo_free(struct tls_chain_memo *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_chains; i++) {
                for (size_t j = 0; j < m->chains[i].n_chain; j++)
                        cert_obs_done(&m->chains[i].chain[j]);
                free(m->chains[i].chain);
                free(m->chains[i].key);
                free(m->chains[i].verify_error);
        }
        for (size_t i = 0; i < m->n_certs; i++) {
                cert_obs_done(&m->certs[i].cert);
                free(m->certs[i].error);
        }
        free(m->chains);
        free(m->certs);
        for (size_t i = 0; i < m->n_full; i++)
                free(m->full[i].peer);
        free(m->full);
        free(m);
        return NULL;
}

unsigned tls_chain_memo_parses(const struct tls_chain_memo *m) {
        return m ? m->parses : 0;
}

static bool memo_full_has(const struct tls_chain_memo *m, const char *peer, const unsigned char *hash) {
        for (size_t i = 0; m && i < m->n_full; i++)
                if (memcmp(m->full[i].hash, hash, HASH_LEN) == 0 && strcmp(m->full[i].peer, peer) == 0)
                        return true;
        return false;
}

static void memo_full_add(struct tls_chain_memo *m, const char *peer, const unsigned char *hash) {
        if (!m || m->n_full >= MEMO_FULL_MAX || memo_full_has(m, peer, hash))
                return;
        m->full = xrealloc(m->full, (m->n_full + 1) * sizeof(*m->full));
        m->full[m->n_full].peer = xstrdup(peer);
        memcpy(m->full[m->n_full].hash, hash, HASH_LEN);
        m->n_full++;
}

static bool leaf_hash(gnutls_session_t session, unsigned char hash[static HASH_LEN]) {
        unsigned n = 0;
        const gnutls_datum_t *certs = gnutls_certificate_get_peers(session, &n);
        return n > 0 && gnutls_hash_fast(GNUTLS_DIG_SHA256, certs[0].data, certs[0].size, hash) >= 0;
}

/* Parses der into *ret (its own copy), through the memo's certificates
 * when there is one. */
static int memo_parse(struct tls_chain_memo *m, const unsigned char *hash, const unsigned char *der, size_t len,
                      struct cert_obs *ret, char **ret_error) {
        struct memo_cert *c = NULL;
        int r;

        for (size_t i = 0; m && i < m->n_certs && !c; i++)
                if (memcmp(m->certs[i].hash, hash, HASH_LEN) == 0)
                        c = &m->certs[i];
        if (!c && m && m->n_certs < MEMO_CERTS_MAX) {
                if (m->n_certs == m->m_certs) {
                        m->m_certs = m->m_certs ? 2 * m->m_certs : 4;
                        m->certs = xrealloc(m->certs, m->m_certs * sizeof(*m->certs));
                }
                c = &m->certs[m->n_certs++];
                *c = (struct memo_cert){ 0 };
                memcpy(c->hash, hash, HASH_LEN);
                m->parses++;
                if (x509_cert_parse(der, len, &c->cert, &c->error) < 0)
                        cert_obs_done(&c->cert);
        }
        if (!c) {
                if (m)
                        m->parses++;
                r = x509_cert_parse(der, len, ret, ret_error);
                if (r < 0)
                        cert_obs_done(ret);
                return r;
        }
        if (c->error) {
                *ret_error = xstrdup(c->error);
                return -EBADMSG;
        }
        cert_obs_copy(ret, &c->cert);
        return 0;
}

void tls_chain_memo_fill(struct tls_chain_memo *m, const struct x509_trust *trust, const unsigned char *const *der,
                         const size_t *len, size_t n, struct endpoint_obs *obs) {
        _cleanup_free_ unsigned char *key = xmalloc(n ? n * HASH_LEN : 1);

        for (size_t i = 0; i < n; i++)
                if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der[i], len[i], key + i * HASH_LEN) < 0)
                        memset(key + i * HASH_LEN, 0, HASH_LEN); /* cannot happen with SHA-256; then unshared */
        for (size_t i = 0; m && i < m->n_chains; i++) {
                const struct memo_chain *c = &m->chains[i];
                if (c->n_certs != n || memcmp(c->key, key, n * HASH_LEN) != 0)
                        continue;
                obs->chain = c->chain;
                obs->n_chain = c->n_chain;
                obs->chain_borrowed = true;
                obs->verified = c->verified;
                obs->verify_error = c->verify_error ? xstrdup(c->verify_error) : NULL;
                return;
        }

        obs->chain = xcalloc(n ? n : 1, sizeof(struct cert_obs));
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *err = NULL;
                if (memo_parse(m, key + i * HASH_LEN, der[i], len[i], &obs->chain[obs->n_chain], &err) < 0) {
                        /* An unparsable certificate is a fact about the
                         * endpoint: keep what parsed and say why. */
                        if (!obs->verify_error)
                                obs->verify_error = xasprintf("certificate %zu of the served chain: %s", i, err);
                        continue;
                }
                obs->n_chain++;
        }
        x509_chain_annotate(trust, obs->chain, obs->n_chain);
        if (!obs->verify_error &&
            x509_chain_verify(trust, obs->chain, obs->n_chain, &obs->verified, &obs->verify_error) < 0)
                obs->verify_error = xstrdup("the served chain could not be verified");

        if (m && m->n_chains < MEMO_CHAINS_MAX) {
                if (m->n_chains == m->m_chains) {
                        m->m_chains = m->m_chains ? 2 * m->m_chains : 4;
                        m->chains = xrealloc(m->chains, m->m_chains * sizeof(*m->chains));
                }
                /* The array moves to the memo; the endpoint borrows it. */
                m->chains[m->n_chains++] = (struct memo_chain){
                        .key = TAKE_PTR(key),
                        .n_certs = n,
                        .chain = obs->chain,
                        .n_chain = obs->n_chain,
                        .verified = obs->verified,
                        .verify_error = obs->verify_error ? xstrdup(obs->verify_error) : NULL,
                };
                obs->chain_borrowed = true;
        }
}

struct tls_probe {
        sd_event *event;
        int fd;
        sd_event_source *io;
        sd_event_source *timer;
        sd_event_source *defer;
        gnutls_session_t session;
        gnutls_certificate_credentials_t creds;
        const struct x509_trust *trust;
        struct tls_chain_memo *memo;
        uint64_t started;
        uint64_t timeout_usec;
        bool connected;
        bool bytes_seen;
        bool legacy;
        bool wide;                /* the second handshake, after no cipher suite was shared */
        char *connect_address;    /* where to connect (again, for the wide handshake) */
        char *first_failure;      /* how the first handshake ended, when the wide one follows */
        uint16_t connect_port;
        char *not_tls;            /* why the first bytes are not TLS, once seen */
        char *peer;               /* "ADDRESS PORT" connected to, the memo's key for full handshakes */
        bool cert_only;           /* stopped once the certificates were in (see on_certificate_verify) */
        int last_errno;           /* of the last failed recv/send */
        uint64_t bytes_in;
        struct endpoint_obs obs;
        tls_probe_done_cb cb;
        void *userdata;
};

/* Credentials carry no trust: the probe must complete handshakes with
 * untrusted servers to see what they serve. One set serves every session. */
static gnutls_certificate_credentials_t global_creds;
/* The default priorities, parsed once: gnutls_set_default_priority() would
 * parse and cache them again for every session. */
static gnutls_priority_t global_priority;
/* The restricted one for the TLS 1.0/1.1 probe, parsed once too. */
static gnutls_priority_t global_legacy_priority;
/* The wide one; NULL when this GnuTLS does not take it (then no retry). */
static gnutls_priority_t global_wide_priority;
#define GROUP_PREFERENCE "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1:" \
        "+GROUP-X448:+GROUP-FFDHE2048:+GROUP-FFDHE3072:+GROUP-FFDHE4096:+GROUP-FFDHE6144:+GROUP-FFDHE8192"

int tls_global_init(void) {
        int r = gnutls_global_init();
        if (r < 0)
                return -EIO;
        r = gnutls_certificate_allocate_credentials(&global_creds);
        if (r < 0)
                return -ENOMEM;
        /* The defaults, with X25519 offered first: its key share costs a
         * fraction of P-256's, and ECDHE is a large part of every probe.
         * Servers without it answer with HelloRetryRequest for P-256. */
        r = gnutls_priority_init2(&global_priority, GROUP_PREFERENCE, NULL, GNUTLS_PRIORITY_INIT_DEF_APPEND);
        if (r < 0)
                return -EINVAL;
        r = gnutls_priority_init(&global_legacy_priority, LEGACY_PRIORITY, NULL);
        if (r < 0)
                return -EINVAL;
        if (gnutls_priority_init(&global_wide_priority, WIDE_PRIORITY, NULL) < 0)
                global_wide_priority = NULL; /* only a better message lost, ignoring */
        return 0;
}

void tls_global_done(void) {
        if (global_priority)
                gnutls_priority_deinit(global_priority);
        global_priority = NULL;
        if (global_legacy_priority)
                gnutls_priority_deinit(global_legacy_priority);
        global_legacy_priority = NULL;
        if (global_wide_priority)
                gnutls_priority_deinit(global_wide_priority);
        global_wide_priority = NULL;
        if (global_creds)
                gnutls_certificate_free_credentials(global_creds);
        global_creds = NULL;
        gnutls_global_deinit();
}

struct tls_probe *tls_probe_free(struct tls_probe *p) {
        if (!p)
                return NULL;
        sd_event_source_disable_unref(p->io);
        sd_event_source_disable_unref(p->timer);
        sd_event_source_disable_unref(p->defer);
        if (p->session)
                gnutls_deinit(p->session);
        if (p->fd >= 0)
                close(p->fd);
        endpoint_obs_done(&p->obs);
        free(p->not_tls);
        free(p->peer);
        free(p->connect_address);
        free(p->first_failure);
        sd_event_unref(p->event);
        free(p);
        return NULL;
}

/* The socket and session; the timer stays (a restart keeps the deadline). */
static void probe_close(struct tls_probe *p) {
        p->io = sd_event_source_disable_unref(p->io);
        if (p->session) {
                gnutls_deinit(p->session);
                p->session = NULL;
        }
        if (p->fd >= 0) {
                close(p->fd);
                p->fd = -1;
        }
}

static void probe_release_io(struct tls_probe *p) {
        p->timer = sd_event_source_disable_unref(p->timer);
        probe_close(p);
}

/* Ends the probe: frees the socket and session now (so many endpoints do not
 * hold many descriptors), then reports. */
static void probe_finish(struct tls_probe *p, enum endpoint_status status, char *error) {
        p->obs.status = status;
        p->obs.error = error;
        p->obs.duration_usec = now_monotonic_usec() - p->started;
        probe_release_io(p);
        p->cb(p, &p->obs, p->userdata);
}

static enum kx_kind kx_kind_of(gnutls_kx_algorithm_t kx) {
        switch (kx) {
        case GNUTLS_KX_ECDHE_RSA:
        case GNUTLS_KX_ECDHE_ECDSA:
        case GNUTLS_KX_ECDHE_PSK:
                return KX_ECDHE;
        case GNUTLS_KX_DHE_RSA:
        case GNUTLS_KX_DHE_DSS:
        case GNUTLS_KX_DHE_PSK:
                return KX_DHE;
        case GNUTLS_KX_RSA:
                return KX_RSA;
        default:
                return KX_OTHER;
        }
}

/* The key exchange and its group. In TLS 1.2 a DHE server may send a
 * finite-field group of its own (not one of RFC 7919's named groups):
 * GnuTLS then names no group, and only the prime's size tells its
 * strength. */
static void probe_collect_kx(struct tls_probe *p, gnutls_group_t group) {
        gnutls_kx_algorithm_t kx = gnutls_kx_get(p->session);
        const char *kx_name = gnutls_kx_get_name(kx);
        const char *group_name = group != GNUTLS_GROUP_INVALID ? gnutls_group_get_name(group) : NULL;

        p->obs.kx_kind = kx_kind_of(kx);
        /* TLS 1.3 names no key exchange, only the group: FFDHE or EC. */
        if (p->obs.kx_kind == KX_OTHER && group_name)
                p->obs.kx_kind = strncmp(group_name, "FFDHE", 5) == 0 ? KX_DHE : KX_ECDHE;
        /* TLS 1.3 negotiates no key exchange method, only the group;
         * GnuTLS still answers with a TLS 1.2 name (ECDHE-RSA, even beside
         * an ECDSA certificate), which would mislead. */
        if (kx_name && kx != GNUTLS_KX_UNKNOWN && gnutls_protocol_get_version(p->session) != GNUTLS_TLS1_3)
                p->obs.kx = xstrdup(kx_name);
        if (p->obs.kx_kind == KX_DHE) {
                int bits = gnutls_dh_get_prime_bits(p->session);
                if (bits > 0)
                        p->obs.kx_bits = (unsigned)bits;
                else if (group_name && strncmp(group_name, "FFDHE", 5) == 0)
                        p->obs.kx_bits = (unsigned)strtoul(group_name + 5, NULL, 10);
        } else if (p->obs.kx_kind == KX_ECDHE && group != GNUTLS_GROUP_INVALID) {
                /* GnuTLS numbers its EC groups as its curves. */
                size_t size = gnutls_ecc_curve_get_size((gnutls_ecc_curve_t)group);
                p->obs.kx_bits = (unsigned)(size * 8);
        }
        if (group_name)
                p->obs.kx_group = xstrdup(group_name);
        else if (p->obs.kx_kind == KX_DHE)
                p->obs.kx_group = xstrdup("DH-CUSTOM");
}

/* The negotiated suite's name. GnuTLS names it only once the handshake
 * has completed; a handshake stopped after the certificates (TLS 1.3, see
 * on_certificate_verify) has its cipher and hash already, which name the
 * TLS 1.3 suite (RFC 8446 B.4: TLS_<cipher>_<hash>). */
static char *suite_name(gnutls_session_t session) {
        const char *suite = gnutls_ciphersuite_get(session);
        const char *name;

        if (suite)
                return xstrdup(suite);
        if (gnutls_protocol_get_version(session) != GNUTLS_TLS1_3)
                return xstrdup("unknown");
        name = gnutls_cipher_suite_get_name(GNUTLS_KX_UNKNOWN, gnutls_cipher_get(session), GNUTLS_MAC_AEAD);
        if (!name)
                return xstrdup("unknown");
        return strncmp(name, "TLS_", 4) == 0 ? xstrdup(name) : xasprintf("TLS_%s", name);
}

static void probe_collect(struct tls_probe *p) {
        unsigned n = 0;
        const gnutls_datum_t *certs = gnutls_certificate_get_peers(p->session, &n);
        const char *version = gnutls_protocol_get_name(gnutls_protocol_get_version(p->session));
        gnutls_group_t group = gnutls_group_get(p->session);
        gnutls_datum_t alpn = { 0 };

        p->obs.tls_version = xstrdup(version ? version : "unknown");
        if (p->legacy)
                return;
        p->obs.cipher_suite = suite_name(p->session);
        probe_collect_kx(p, group);
        if (gnutls_alpn_get_selected_protocol(p->session, &alpn) >= 0 && alpn.size > 0)
                p->obs.alpn = str_escape((const char *)alpn.data, alpn.size);
        p->obs.ocsp_stapled = gnutls_ocsp_status_request_is_checked(p->session, GNUTLS_OCSP_SR_IS_AVAIL) != 0;

        p->obs.n_served = n;
        for (unsigned i = 0; i < n; i++)
                p->obs.served_bytes += certs[i].size;
        if (n > CHAIN_MAX)
                n = CHAIN_MAX;

        const unsigned char *der[CHAIN_MAX];
        size_t len[CHAIN_MAX];
        for (unsigned i = 0; i < n; i++) {
                der[i] = certs[i].data;
                len[i] = certs[i].size;
        }
        tls_chain_memo_fill(p->memo, p->trust, der, len, n, &p->obs);
}

/* A look at the server's first bytes as they arrive, so that a plain-HTTP
 * or non-TLS listener is named as such instead of as a record-layer error.
 * Returns true (and the reason, when asked) if the bytes are not TLS. */
static bool first_bytes_check(const unsigned char *buf, size_t n, char **ret_reason) {
        if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
                size_t len = 0;
                while (len < n && len < 40 && buf[len] != '\r' && buf[len] != '\n')
                        len++;
                if (ret_reason) {
                        _cleanup_free_ char *line = str_escape((const char *)buf, len);
                        *ret_reason = xasprintf("the server answered in plain HTTP, not TLS ('%s...')", line);
                }
                return true;
        }
        /* RFC 8446 5.1: content types 20-24 are all a TLS peer may send. */
        if (n > 0 && (buf[0] < 20 || buf[0] > 24)) {
                if (ret_reason) {
                        _cleanup_free_ char *hex = hex_encode(buf, n < 8 ? n : 8, ' ');
                        *ret_reason = xasprintf("the server sent bytes that are not TLS records (first bytes %s)", hex);
                }
                return true;
        }
        return false;
}

/* Our own transport functions, so that the errno of a failed read (GnuTLS
 * folds a reset into "non-properly terminated") and the byte count survive
 * for the error message. The socket is non-blocking: a timeout wait is
 * never needed, the loop does the waiting. */
static ssize_t transport_pull(gnutls_transport_ptr_t ptr, void *buf, size_t n) {
        struct tls_probe *p = ptr;
        ssize_t r = recv(p->fd, buf, n, 0);
        if (r < 0) {
                p->last_errno = errno;
                gnutls_transport_set_errno(p->session, errno);
                return r;
        }
        if (p->bytes_in == 0 && r > 0 && !p->legacy && first_bytes_check(buf, (size_t)r, NULL)) {
                /* GnuTLS reads a record header (5 bytes) at a time: look at
                 * what follows too, for a message worth reading. */
                unsigned char more[64];
                size_t have = (size_t)r < sizeof(more) ? (size_t)r : sizeof(more);
                memcpy(more, buf, have);
                ssize_t m = recv(p->fd, more + have, sizeof(more) - have, MSG_PEEK | MSG_DONTWAIT);
                if (m > 0)
                        have += (size_t)m;
                first_bytes_check(more, have, &p->not_tls);
                /* Not TLS: end the handshake here, the reason is kept. */
                p->last_errno = EPROTO;
                gnutls_transport_set_errno(p->session, EPROTO);
                return -1;
        }
        p->bytes_in += (uint64_t)r;
        return r;
}

static ssize_t transport_push(gnutls_transport_ptr_t ptr, const void *buf, size_t n) {
        struct tls_probe *p = ptr;
        ssize_t r = send(p->fd, buf, n, MSG_NOSIGNAL);
        if (r < 0) {
                p->last_errno = errno;
                gnutls_transport_set_errno(p->session, errno);
        }
        return r;
}

static int transport_pull_timeout(gnutls_transport_ptr_t ptr, unsigned ms) {
        struct tls_probe *p = ptr;
        struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
        return poll(&pfd, 1, 0); /* never block the loop */
}

/* How servers say that no cipher suite (or group) of the offer suits them
 * (RFC 8446 4.1.1, RFC 5246 7.4.1.3): a handshake_failure or
 * insufficient_security alert in answer to the ClientHello; or a
 * ServerHello choosing a suite never offered. */
static bool handshake_no_common_suite(struct tls_probe *p, int r) {
        gnutls_alert_description_t a;

        if (r == GNUTLS_E_UNKNOWN_CIPHER_SUITE || r == GNUTLS_E_NO_CIPHER_SUITES)
                return true;
        if (r != GNUTLS_E_FATAL_ALERT_RECEIVED)
                return false;
        a = gnutls_alert_get(p->session);
        return a == GNUTLS_A_HANDSHAKE_FAILURE || a == GNUTLS_A_INSUFFICIENT_SECURITY;
}

static char *probe_setup(struct tls_probe *p);

/* The first handshake shared no suite: connect again offering the wide
 * set, only to name what the server accepts. The deadline stays. */
static int probe_restart_wide(struct tls_probe *p, int r) {
        char *why;

        p->obs.no_shared_cipher = true;
        free(p->first_failure);
        p->first_failure = r == GNUTLS_E_FATAL_ALERT_RECEIVED
                ? xasprintf("a '%s' alert", gnutls_alert_get_name(gnutls_alert_get(p->session)))
                : xasprintf("'%s'", gnutls_strerror(r));
        probe_close(p);
        p->wide = true;
        p->connected = false;
        p->bytes_seen = false;
        p->bytes_in = 0;
        p->not_tls = mfree(p->not_tls);
        why = probe_setup(p);
        if (why) {
                probe_finish(p, ENDPOINT_HANDSHAKE_FAILED,
                             xasprintf("no cipher suite in common: the server answered the probe's offer with %s "
                                       "(%s)",
                                       p->first_failure, why));
                free(why);
        }
        return 0;
}

/* The wide handshake's outcome, as the endpoint's failure. */
static void probe_finish_wide(struct tls_probe *p, int r) {
        const char *version = gnutls_protocol_get_name(gnutls_protocol_get_version(p->session));
        const char *suite = gnutls_ciphersuite_get(p->session);

        if (r >= 0) {
                p->obs.server_suite = xasprintf("%s %s", version ? version : "unknown", suite ? suite : "unknown");
                probe_finish(p, ENDPOINT_HANDSHAKE_FAILED,
                             xasprintf("no cipher suite in common: the server answered the probe's offer (what "
                                       "current clients offer) with %s; offered legacy suites too, it picks %s",
                                       p->first_failure, p->obs.server_suite));
                return;
        }
        probe_finish(p, ENDPOINT_HANDSHAKE_FAILED,
                     xasprintf("no cipher suite in common: the server answered the probe's offer with %s, and a far "
                               "wider offer (legacy ciphers, RSA and DHE key exchange) with '%s'",
                               p->first_failure, r == GNUTLS_E_FATAL_ALERT_RECEIVED
                                       ? gnutls_alert_get_name(gnutls_alert_get(p->session))
                                       : gnutls_strerror(r)));
}

static int handshake_step(struct tls_probe *p) {
        int r, saved_errno;

        p->last_errno = 0;
        r = gnutls_handshake(p->session);
        saved_errno = p->last_errno;

        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
                uint32_t events = gnutls_record_get_direction(p->session) ? EPOLLOUT : EPOLLIN;
                sd_event_source_set_io_events(p->io, events);
                return 0;
        }
        if (p->cert_only) {
                /* Our own stop: the certificates are in, and this
                 * address has proved it holds their key before. */
                probe_collect(p);
                p->obs.handshake = HANDSHAKE_CERTIFICATE_ONLY;
                probe_finish(p, ENDPOINT_OK, NULL);
                return 0;
        }
        if (p->wide) {
                probe_finish_wide(p, r);
                return 0;
        }
        if (r < 0 && !p->legacy && global_wide_priority && handshake_no_common_suite(p, r))
                return probe_restart_wide(p, r);
        unsigned n_peers = 0;
        if (r == GNUTLS_E_KEY_USAGE_VIOLATION && !p->legacy && gnutls_certificate_get_peers(p->session, &n_peers) &&
            n_peers > 0) {
                /* The first certificate served may not sign (a CA's, the
                 * chain out of order): the certificates received are kept,
                 * so the chain checks can say what was served in which
                 * order (tls.chain.order) beside the failed handshake. */
                probe_collect(p);
                probe_finish(p, ENDPOINT_HANDSHAKE_FAILED,
                             xasprintf("%s: the first certificate served%s%s%s may not sign the handshake; is the "
                                       "chain out of order?",
                                       gnutls_strerror(r), p->obs.n_chain > 0 ? " ('" : "",
                                       p->obs.n_chain > 0 ? p->obs.chain[0].subject : "",
                                       p->obs.n_chain > 0 ? "')" : ""));
                return 0;
        }
        if (r < 0) {
                char *why;
                if (p->not_tls)
                        why = TAKE_PTR(p->not_tls);
                else if (r == GNUTLS_E_FATAL_ALERT_RECEIVED || r == GNUTLS_E_WARNING_ALERT_RECEIVED)
                        why = xasprintf("server sent alert: %s",
                                        gnutls_alert_get_name(gnutls_alert_get(p->session)));
                else if (saved_errno == ECONNRESET)
                        why = xstrdup("the server reset the connection during the handshake (ECONNRESET)");
                else if (r == GNUTLS_E_HANDSHAKE_TOO_LARGE)
                        why = xasprintf("the server sent a handshake message over %u KiB (an oversized "
                                        "certificate chain?); the probe stops there",
                                        HANDSHAKE_MAX / 1024);
                else if (r == GNUTLS_E_PREMATURE_TERMINATION || r == GNUTLS_E_PULL_ERROR ||
                         r == GNUTLS_E_PUSH_ERROR) {
                        gnutls_handshake_description_t last = gnutls_handshake_get_last_in(p->session);
                        const char *lname = gnutls_handshake_description_get_name(last);
                        if (p->bytes_in > 0 && lname && strcmp(lname, "Unknown Handshake packet") != 0)
                                why = xasprintf("the server closed the connection during the handshake, after its "
                                                "%s (%s)",
                                                lname, gnutls_strerror(r));
                        else if (p->bytes_in > 0)
                                why = xasprintf("the server closed the connection during the handshake after "
                                                "%llu bytes (%s)",
                                                (unsigned long long)p->bytes_in, gnutls_strerror(r));
                        else
                                why = xasprintf("the server closed the connection without answering the "
                                                "ClientHello (%s)",
                                                gnutls_strerror(r));
                }
                else
                        why = xasprintf("%s", gnutls_strerror(r));
                probe_finish(p, ENDPOINT_HANDSHAKE_FAILED, why);
                return 0;
        }
        probe_collect(p);
        if (!p->legacy) {
                unsigned char hash[HASH_LEN];
                if (leaf_hash(p->session, hash))
                        memo_full_add(p->memo, p->peer, hash);
        }
        probe_finish(p, ENDPOINT_OK, NULL);
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct tls_probe *p = userdata;

        if (revents & EPOLLIN)
                p->bytes_seen = true;
        if (!p->connected) {
                int err = 0;
                socklen_t len = sizeof(err);
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                        err = errno;
                if (err != 0) {
                        probe_finish(p, ENDPOINT_CONNECT_FAILED, xasprintf("connect: %s", strerror(err)));
                        return 0;
                }
                p->connected = true;
        }
        return handshake_step(p);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        struct tls_probe *p = userdata;
        double secs = (double)p->timeout_usec / USEC_PER_SEC;

        if (!p->connected)
                probe_finish(p, ENDPOINT_CONNECT_FAILED,
                             xasprintf("connect: no answer within %.1fs (timeout)", secs));
        else
                probe_finish(p, ENDPOINT_HANDSHAKE_FAILED,
                             xasprintf("handshake did not complete within %.1fs (timeout): the server "
                                       "accepted the connection but %s",
                                       secs, p->bytes_seen ? "stalled" : "never answered"));
        return 0;
}

void tls_probe_abort(struct tls_probe *p, const char *why) {
        if (p->fd < 0 && !p->defer)
                return; /* already ended */
        p->defer = sd_event_source_disable_unref(p->defer);
        if (!p->connected)
                probe_finish(p, ENDPOINT_CONNECT_FAILED, xasprintf("connect: %s", why));
        else
                probe_finish(p, ENDPOINT_HANDSHAKE_FAILED,
                             xasprintf("handshake did not complete: %s (the server %s)", why,
                                       p->bytes_seen ? "was still sending" : "had not answered"));
}

static int on_start_failed(sd_event_source *s, void *userdata) {
        struct tls_probe *p = userdata;
        p->defer = sd_event_source_disable_unref(p->defer);
        probe_finish(p, ENDPOINT_CONNECT_FAILED, TAKE_PTR(p->obs.error));
        return 0;
}

static int sockaddr_parse(const char *address, uint16_t port, struct sockaddr_storage *ss, socklen_t *len) {
        struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

        memset(ss, 0, sizeof(*ss));
        if (inet_pton(AF_INET, address, &in4->sin_addr) == 1) {
                in4->sin_family = AF_INET;
                in4->sin_port = htons(port);
                *len = sizeof(*in4);
                return 0;
        }
        if (inet_pton(AF_INET6, address, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons(port);
                *len = sizeof(*in6);
                return 0;
        }
        return -EINVAL;
}

/* Before the server's CertificateVerify (TLS 1.3) is checked: when this
 * address has already completed a full handshake with the same leaf (same
 * DER), this one cannot learn anything new, so it stops here and saves the
 * signature check, the largest CPU cost of a probe. The first handshake per
 * address and certificate always completes, so a server that does not hold
 * the key is still found. TLS 1.2 servers sign in ServerKeyExchange, which
 * comes before any hook we could use: they always get full handshakes. */
static int on_certificate_verify(gnutls_session_t session, unsigned htype, unsigned when, unsigned incoming,
                                 const gnutls_datum_t *msg) {
        struct tls_probe *p = gnutls_session_get_ptr(session);
        unsigned char hash[HASH_LEN];

        if (!incoming || !p || !leaf_hash(session, hash) || !memo_full_has(p->memo, p->peer, hash))
                return 0;
        p->cert_only = true;
        return GNUTLS_E_APPLICATION_ERROR_MIN;
}

/* Sets up socket and session; on failure returns a reason and leaves the
 * probe to report a connect failure from the loop. */
static char *probe_setup(struct tls_probe *p) {
        struct sockaddr_storage ss;
        socklen_t sslen;
        gnutls_priority_t prio = p->legacy ? global_legacy_priority : p->wide ? global_wide_priority : global_priority;
        int r;

        if (sockaddr_parse(p->connect_address, p->connect_port, &ss, &sslen) < 0)
                return xasprintf("'%s' is not an IP address", p->connect_address);
        p->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
        if (p->fd < 0)
                return xasprintf("socket: %s", strerror(errno));
        int one = 1;
        (void)setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* latency only, ignoring */
        if (connect(p->fd, (struct sockaddr *)&ss, sslen) < 0 && errno != EINPROGRESS)
                return xasprintf("connect: %s", strerror(errno));

        r = gnutls_init(&p->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
        if (r < 0)
                return xasprintf("TLS setup: %s", gnutls_strerror(r));
        r = gnutls_priority_set(p->session, prio);
        if (r >= 0 && !p->legacy)
                r = gnutls_alpn_set_protocols(p->session, alpn_offer, ELEMENTSOF(alpn_offer), 0);
        if (r >= 0 && !p->legacy)
                r = gnutls_ocsp_status_request_enable_client(p->session, NULL, 0, NULL);
        if (r >= 0)
                r = gnutls_credentials_set(p->session, GNUTLS_CRD_CERTIFICATE, global_creds);
        /* RFC 6066 3: no SNI for an address literal (certvigil check
         * 192.0.2.1), so the server answers with its default certificate. */
        if (r >= 0 && !address_is_literal(p->obs.name))
                r = gnutls_server_name_set(p->session, GNUTLS_NAME_DNS, p->obs.name, strlen(p->obs.name));
        if (r < 0)
                return xasprintf("TLS setup: %s", gnutls_strerror(r));
        gnutls_transport_set_ptr(p->session, p);
        if (p->memo && !p->legacy && !p->wide) {
                gnutls_session_set_ptr(p->session, p);
                gnutls_handshake_set_hook_function(p->session, GNUTLS_HANDSHAKE_CERTIFICATE_VERIFY, GNUTLS_HOOK_PRE,
                                                   on_certificate_verify);
        }
        gnutls_transport_set_pull_function(p->session, transport_pull);
        gnutls_transport_set_push_function(p->session, transport_push);
        gnutls_transport_set_pull_timeout_function(p->session, transport_pull_timeout);
        /* The probe's own timer bounds the handshake. */
        gnutls_handshake_set_timeout(p->session, 0);
        gnutls_handshake_set_max_packet_length(p->session, HANDSHAKE_MAX);

        if (sd_event_add_io(p->event, &p->io, p->fd, EPOLLOUT, on_io, p) < 0)
                return xstrdup("cannot watch the socket");
        return NULL;
}

int tls_probe_start(sd_event *event, const struct tls_probe_params *params,
                    tls_probe_done_cb cb, void *userdata, struct tls_probe **ret) {
        struct tls_probe *p = xcalloc(1, sizeof(*p));
        char *why;
        int r;

        p->event = sd_event_ref(event);
        p->fd = -1;
        p->trust = params->trust;
        p->memo = params->memo;
        p->cb = cb;
        p->userdata = userdata;
        p->timeout_usec = params->timeout_usec;
        p->legacy = params->legacy;
        p->started = now_monotonic_usec();
        p->obs.name = xstrdup(params->name);
        p->obs.service = params->service;
        p->obs.address = xstrdup(params->address);
        p->obs.port = params->port;
        p->connect_address = xstrdup(params->connect_address ? params->connect_address : params->address);
        p->connect_port = params->connect_address ? params->connect_port : params->port;
        p->peer = xasprintf("%s %u", p->connect_address, p->connect_port);

        r = sd_event_add_time_relative(event, &p->timer, CLOCK_MONOTONIC, params->timeout_usec, 1000,
                                       on_timeout, p);
        if (r < 0)
                goto fail;
        why = probe_setup(p);
        if (why) {
                /* Reported from the loop, never from inside start. */
                p->obs.error = why;
                probe_release_io(p);
                r = sd_event_add_defer(event, &p->defer, on_start_failed, p);
                if (r < 0)
                        goto fail;
        }
        *ret = p;
        return 0;
fail:
        tls_probe_free(p);
        return r;
}
