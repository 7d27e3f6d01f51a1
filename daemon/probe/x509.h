/* The one X.509 helper: trust anchors, certificate parsing into cert_obs,
 * chain verification. Besides the TLS probe, this is the only module that
 * speaks GnuTLS. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "observe.h"

struct x509_trust;

/* spec is "system" (the system store) or a path to a PEM bundle. On error
 * returns a negative errno and sets *ret_error. */
int x509_trust_load(const char *spec, struct x509_trust **ret, char **ret_error);
struct x509_trust *x509_trust_free(struct x509_trust *t);

/* Parses one DER certificate into *ret (zeroed by the caller). Returns 0 or
 * -EBADMSG with *ret_error set. */
int x509_cert_parse(const unsigned char *der, size_t len, struct cert_obs *ret, char **ret_error);

/* Verifies the served chain (leaf first) against the trust anchors.
 * Validity dates are deliberately not considered here: expiry is judged by
 * the expiry checks against an injected clock. Sets *ret_ok, and
 * *ret_reason to a malloc'ed reason when not ok. Returns 0 or a negative
 * errno when verification could not run at all. */
int x509_chain_verify(const struct x509_trust *t, const struct cert_obs *chain, size_t n,
                      bool *ret_ok, char **ret_reason);

/* Sets issuer_is_anchor on each certificate of the chain. */
void x509_chain_annotate(const struct x509_trust *t, struct cert_obs *chain, size_t n);

/* Parses a certificate fetched from an AIA caIssuers URL: DER or PEM. */
int x509_cert_parse_any(const unsigned char *data, size_t len, struct cert_obs *ret, char **ret_error);

/* A fetched CRL, parsed once per audit whatever the number of endpoints
 * that name it: its dates, its DER kept for checking the signature, and its
 * revoked serials sorted for lookup. Bounded: at most X509_CRL_ENTRIES_MAX
 * entries (a larger CRL is not judged). */
#define X509_CRL_ENTRIES_MAX 200000
struct x509_crl;
/* DER or PEM. Fails with -EBADMSG and *ret_error when it does not parse or
 * is over the bounds. */
int x509_crl_parse(const unsigned char *data, size_t len, struct x509_crl **ret, char **ret_error);
struct x509_crl *x509_crl_free(struct x509_crl *crl);
time_t x509_crl_next_update(const struct x509_crl *crl);

/* Judges the leaf against a parsed CRL whose signature must verify with
 * issuer (NULL: the trust anchor that issued the leaf); the verdict for an
 * issuer is remembered in the CRL, so each (CRL, issuer) is verified once.
 * Writes *ret_status: CRL_UNKNOWN with *ret_detail when no verdict,
 * CRL_REVOKED with the revocation date, CRL_STALE when the CRL does not
 * list the serial but is past its nextUpdate at now. Returns 0, or a
 * negative errno when out of resources. */
int x509_crl_judge(const struct x509_trust *t, struct x509_crl *crl, const struct cert_obs *leaf,
                   const struct cert_obs *issuer, time_t now, enum crl_status *ret_status, char **ret_detail);

/* The two above in one call, for a single leaf (and the fuzz target);
 * *ret_next_update is the CRL's (0 when unknown). */
int x509_crl_check(const struct x509_trust *t, const struct cert_obs *leaf, const struct cert_obs *issuer,
                   const unsigned char *data, size_t len, time_t now, enum crl_status *ret_status,
                   time_t *ret_next_update, char **ret_detail);

/* Decodes base64 (kubeconfig's certificate-authority-data) with GnuTLS's
 * decoder. *ret is malloc'ed and NUL-terminated (size excludes it).
 * Returns 0 or -EINVAL. */
int x509_base64_decode(const char *text, unsigned char **ret, size_t *ret_size);

/* The ACME Renewal Information certificate identifier (RFC 9773 section
 * 4.1): base64url(keyIdentifier of the Authority Key Identifier) "."
 * base64url(the DER serialNumber's content octets), without padding.
 * -ENODATA when the certificate has no AKI key identifier; -EBADMSG when it
 * cannot be parsed. *ret is malloc'ed. */
int x509_ari_cert_id(const unsigned char *der, size_t len, char **ret);

/* Provided mode's wildcard Secret: the SHA-256 fingerprint (lower-case
 * hex, as cert_obs.sha256) of the first certificate of crt_pem, and whether
 * key_pem is that certificate's private key (compared by key id; the key is
 * not kept). 0, or -EBADMSG with *ret_error when either does not parse. */
int x509_secret_inspect(const unsigned char *crt_pem, size_t crt_len, const unsigned char *key_pem, size_t key_len,
                        char **ret_sha256, bool *ret_key_matches, char **ret_error);
