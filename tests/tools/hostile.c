/*
 * hostile ADDRESS PORT MODE [ARGS...]
 * hostile mkcert CA_CERT CA_KEY LEAF_KEY OUT_CERT SAN_FILE
 *
 * Test server for broken and hostile TLS endpoints. It binds exactly the
 * given loopback address (127.0.0.0/8 or ::1, refused otherwise) and port and
 * misbehaves in one way per run:
 *
 *   silent           accept, never send a byte
 *   http             answer the ClientHello with a plain HTTP/1.1 400
 *   random           answer with 64 random bytes, then hold the connection
 *   drip             answer one byte per second, forever
 *   reset            read the ClientHello, then reset the connection (RST)
 *   hello            send a ServerHello, then close
 *   bigchain CERT    send a ServerHello and a Certificate message of 1 MiB
 *                    made of CERT (PEM) repeated
 *   tls CHAIN KEY [PRIORITY]
 *                    a real TLS server (GnuTLS) serving CHAIN (PEM, leaf
 *                    first) with KEY, under the GnuTLS PRIORITY string
 *                    (default: TLS 1.2 and 1.3 only)
 *
 * mkcert writes a leaf signed by CA whose SAN dNSNames are the lines of
 * SAN_FILE, where the two characters \0 stand for a NUL byte: what certtool
 * cannot make (a NUL inside a name, thousands of names). The extension is
 * encoded here byte by byte, so GnuTLS cannot tidy the names up. Keys are
 * read from files made at test time; none is ever committed.
 *
 * Connections are served one at a time, except in silent, random and drip
 * modes, which hold up to 256 at once. Exits 0 on SIGTERM or SIGINT.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define MAX_HELD 256

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int die(const char *what)
{
	fprintf(stderr, "hostile: %s: %s\n", what, strerror(errno));
	return 1;
}

static int open_listener(const char *addr, const char *port_s)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	char *end;
	long port;
	int fd, one = 1;

	errno = 0;
	port = strtol(port_s, &end, 10);
	if (errno || *end || port < 1 || port > 65535) {
		fprintf(stderr, "hostile: bad port '%s'\n", port_s);
		return -1;
	}
	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		/* Loopback only: this program misbehaves on purpose. */
		if ((ntohl(in4->sin_addr.s_addr) >> 24) != 127) {
			fprintf(stderr, "hostile: %s is not a loopback address\n", addr);
			return -1;
		}
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		len = sizeof *in4;
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1 && IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		len = sizeof *in6;
	} else {
		fprintf(stderr, "hostile: %s is not a loopback address\n", addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
		fprintf(stderr, "hostile: bind %s port %ld: %s (address already in use?)\n", addr, port,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void set_timeouts(int fd, int secs)
{
	struct timeval tv = { .tv_sec = secs };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Reads whatever the client sent first (its ClientHello). */
static void read_hello(int fd)
{
	char buf[4096];
	(void)!recv(fd, buf, sizeof buf, 0);
}

static int send_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* A TLS 1.2 ServerHello choosing ECDHE-ECDSA-AES128-GCM-SHA256, with the
 * renegotiation_info and extended_master_secret extensions GnuTLS expects. */
static int send_server_hello(int fd)
{
	unsigned char rec[5 + 4 + 49] = { 0x16, 0x03, 0x03, 0x00, 53, 0x02, 0x00, 0x00, 49, 0x03, 0x03 };
	unsigned char *p = rec + 11;

	for (int i = 0; i < 32; i++)
		*p++ = (unsigned char)(0x40 + i); /* no TLS 1.3 downgrade sentinel */
	*p++ = 0x00;                                  /* session id */
	*p++ = 0xc0;
	*p++ = 0x2b;                                  /* cipher suite */
	*p++ = 0x00;                                  /* compression */
	*p++ = 0x00;
	*p++ = 0x09;                                  /* extensions */
	*p++ = 0xff;
	*p++ = 0x01;
	*p++ = 0x00;
	*p++ = 0x01;
	*p++ = 0x00;
	*p++ = 0x00;
	*p++ = 0x17;
	*p++ = 0x00;
	*p++ = 0x00;
	return send_all(fd, rec, sizeof rec);
}

static int read_file(const char *path, gnutls_datum_t *d)
{
	int r = gnutls_load_file(path, d);
	if (r < 0)
		fprintf(stderr, "hostile: cannot read %s: %s\n", path, gnutls_strerror(r));
	return r;
}

/* ServerHello, then a Certificate message of ~1 MiB in 16 KiB records. */
static void serve_bigchain(int fd, const gnutls_datum_t *der)
{
	size_t total = 1024 * 1024, body = 3, i;
	unsigned char *msg, hdr[5];

	if (send_server_hello(fd) < 0)
		return;
	msg = malloc(total + 64);
	if (!msg)
		return;
	/* certificate_list: (len3 + der)* until ~1 MiB. */
	while (body + 3 + der->size <= total) {
		msg[4 + body] = (unsigned char)(der->size >> 16);
		msg[4 + body + 1] = (unsigned char)(der->size >> 8);
		msg[4 + body + 2] = (unsigned char)der->size;
		memcpy(msg + 4 + body + 3, der->data, der->size);
		body += 3 + der->size;
	}
	msg[0] = 0x0b;
	msg[1] = (unsigned char)(body >> 16);
	msg[2] = (unsigned char)(body >> 8);
	msg[3] = (unsigned char)body;
	msg[4] = (unsigned char)((body - 3) >> 16);
	msg[5] = (unsigned char)((body - 3) >> 8);
	msg[6] = (unsigned char)(body - 3);
	for (i = 0; i < 4 + body; i += 16384) {
		size_t n = 4 + body - i < 16384 ? 4 + body - i : 16384;
		hdr[0] = 0x16;
		hdr[1] = 0x03;
		hdr[2] = 0x03;
		hdr[3] = (unsigned char)(n >> 8);
		hdr[4] = (unsigned char)n;
		if (send_all(fd, hdr, 5) < 0 || send_all(fd, msg + i, n) < 0)
			break; /* the client gave up, as it should */
	}
	free(msg);
}

static void serve_tls(int fd, gnutls_certificate_credentials_t creds, const char *priority)
{
	gnutls_session_t s;
	int r;

	if (gnutls_init(&s, GNUTLS_SERVER) < 0)
		return;
	/* Modern by default, so that only the legacy test sees TLS 1.0/1.1. */
	r = gnutls_priority_set_direct(s, priority ? priority : "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", NULL);
	if (r >= 0)
		r = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, creds);
	if (r >= 0) {
		gnutls_transport_set_int(s, fd);
		/* Generous: a sanitizer build of the client may be slow. */
		gnutls_handshake_set_timeout(s, 10000);
		do
			r = gnutls_handshake(s);
		while (r < 0 && !gnutls_error_is_fatal(r));
		if (r >= 0)
			gnutls_bye(s, GNUTLS_SHUT_WR);
	}
	gnutls_deinit(s);
}

/* DER: tag, definite length, contents. */
static size_t der_put(unsigned char *out, unsigned char tag, const unsigned char *data, size_t n)
{
	size_t h = 0;
	out[h++] = tag;
	if (n < 0x80)
		out[h++] = (unsigned char)n;
	else if (n < 0x100) {
		out[h++] = 0x81;
		out[h++] = (unsigned char)n;
	} else if (n < 0x10000) {
		out[h++] = 0x82;
		out[h++] = (unsigned char)(n >> 8);
		out[h++] = (unsigned char)n;
	} else {
		out[h++] = 0x83;
		out[h++] = (unsigned char)(n >> 16);
		out[h++] = (unsigned char)(n >> 8);
		out[h++] = (unsigned char)n;
	}
	memmove(out + h, data, n);
	return h + n;
}

static int mkcert(char **argv)
{
	gnutls_datum_t d = { 0 }, out = { 0 };
	gnutls_x509_crt_t ca = NULL, crt = NULL;
	gnutls_x509_privkey_t cakey = NULL, key = NULL;
	unsigned char serial[8], *names, *ext;
	size_t n_names = 0, cap = 1 << 20;
	char line[512];
	time_t now = time(NULL);
	FILE *f;
	int r;

	/* GeneralNames ::= SEQUENCE OF GeneralName; dNSName is [2] IA5String. */
	names = malloc(cap);
	ext = malloc(cap + 8);
	f = fopen(argv[4], "r");
	if (!names || !ext || !f)
		return die(argv[4]);
	while (fgets(line, sizeof line, f)) {
		unsigned char name[512];
		size_t len = 0;
		for (char *c = line; *c && *c != '\n'; c++) {
			if (c[0] == '\\' && c[1] == '0') {
				name[len++] = 0;
				c++;
			} else
				name[len++] = (unsigned char)*c;
		}
		if (n_names + len + 8 > cap)
			break;
		n_names += der_put(names + n_names, 0x82, name, len);
	}
	fclose(f);
	size_t ext_len = der_put(ext, 0x30, names, n_names);

	r = read_file(argv[0], &d);
	if (r >= 0 && (r = gnutls_x509_crt_init(&ca)) >= 0)
		r = gnutls_x509_crt_import(ca, &d, GNUTLS_X509_FMT_PEM);
	gnutls_free(d.data);
	if (r >= 0 && (r = read_file(argv[1], &d)) >= 0 && (r = gnutls_x509_privkey_init(&cakey)) >= 0)
		r = gnutls_x509_privkey_import(cakey, &d, GNUTLS_X509_FMT_PEM);
	gnutls_free(d.data);
	if (r >= 0 && (r = read_file(argv[2], &d)) >= 0 && (r = gnutls_x509_privkey_init(&key)) >= 0)
		r = gnutls_x509_privkey_import(key, &d, GNUTLS_X509_FMT_PEM);
	gnutls_free(d.data);
	if (r >= 0)
		r = gnutls_x509_crt_init(&crt);
	if (r >= 0)
		r = gnutls_x509_crt_set_version(crt, 3);
	if (r >= 0)
		r = gnutls_x509_crt_set_key(crt, key);
	if (r >= 0)
		r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "certvigil odd sans", 18);
	if (r >= 0) {
		(void)!getrandom(serial, sizeof serial, 0);
		serial[0] &= 0x7f;
		r = gnutls_x509_crt_set_serial(crt, serial, sizeof serial);
	}
	if (r >= 0)
		r = gnutls_x509_crt_set_activation_time(crt, now - 86400);
	if (r >= 0)
		r = gnutls_x509_crt_set_expiration_time(crt, now + 80 * 86400);
	if (r >= 0)
		r = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE);
	if (r >= 0)
		r = gnutls_x509_crt_set_extension_by_oid(crt, "2.5.29.17", ext, ext_len, 0);
	if (r >= 0)
		r = gnutls_x509_crt_sign2(crt, ca, cakey, GNUTLS_DIG_SHA256, 0);
	if (r >= 0)
		r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &out);
	if (r < 0) {
		fprintf(stderr, "hostile: mkcert: %s\n", gnutls_strerror(r));
		return 1;
	}
	f = fopen(argv[3], "w");
	if (!f || fwrite(out.data, 1, out.size, f) != out.size || fclose(f) != 0)
		return die(argv[3]);
	gnutls_free(out.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_privkey_deinit(cakey);
	free(names);
	free(ext);
	return 0;
}

int main(int argc, char **argv)
{
	gnutls_certificate_credentials_t creds = NULL;
	gnutls_datum_t pem = { 0 }, der = { 0 };
	struct pollfd held[MAX_HELD + 1];
	unsigned step[MAX_HELD + 1]; /* drip: bytes sent to each held client */
	size_t n_held = 0;
	const char *mode;
	int lfd;

	if (argc == 7 && strcmp(argv[1], "mkcert") == 0)
		return mkcert(argv + 2);
	if (argc < 4) {
		fprintf(stderr, "usage: hostile ADDRESS PORT MODE [ARGS...]\n");
		return 2;
	}
	mode = argv[3];
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);

	if (strcmp(mode, "tls") == 0) {
		if (argc < 6)
			return 2;
		gnutls_global_init();
		if (gnutls_certificate_allocate_credentials(&creds) < 0 ||
		    gnutls_certificate_set_x509_key_file(creds, argv[4], argv[5], GNUTLS_X509_FMT_PEM) < 0) {
			fprintf(stderr, "hostile: cannot load %s / %s\n", argv[4], argv[5]);
			return 1;
		}
	} else if (strcmp(mode, "bigchain") == 0) {
		gnutls_x509_crt_t c;
		if (argc < 5 || read_file(argv[4], &pem) < 0 || gnutls_x509_crt_init(&c) < 0 ||
		    gnutls_x509_crt_import(c, &pem, GNUTLS_X509_FMT_PEM) < 0 ||
		    gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_DER, &der) < 0)
			return 1;
		gnutls_x509_crt_deinit(c);
	} else if (strcmp(mode, "silent") && strcmp(mode, "http") && strcmp(mode, "random") &&
		   strcmp(mode, "drip") && strcmp(mode, "reset") && strcmp(mode, "hello")) {
		fprintf(stderr, "hostile: unknown mode '%s'\n", mode);
		return 2;
	}

	lfd = open_listener(argv[1], argv[2]);
	if (lfd < 0)
		return 1;
	held[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };

	while (!stop_requested) {
		int r = poll(held, n_held + 1, 1000);
		if (r < 0 && errno != EINTR)
			return die("poll");
		if (r <= 0) {
			/* Each second, drip mode sends each held client one more byte
			 * of a TLS record that never ends. */
			static const unsigned char record[] = { 0x16, 0x03, 0x03, 0x40, 0x00 };
			for (size_t i = 0; strcmp(mode, "drip") == 0 && i < n_held; i++) {
				unsigned char b = step[1 + i] < sizeof record ? record[step[1 + i]] : 0x00;
				(void)!send(held[1 + i].fd, &b, 1, MSG_NOSIGNAL);
				step[1 + i]++;
			}
			continue;
		}
		/* A held client that hung up is let go. */
		for (size_t i = 0; i < n_held;) {
			if (held[1 + i].revents & (POLLIN | POLLHUP | POLLERR)) {
				char buf[4096];
				ssize_t n = recv(held[1 + i].fd, buf, sizeof buf, MSG_DONTWAIT);
				if (n == 0 || (n < 0 && errno != EAGAIN)) {
					close(held[1 + i].fd);
					held[1 + i] = held[n_held];
					step[1 + i] = step[n_held];
					n_held--;
					continue;
				}
			}
			i++;
		}
		if (!(held[0].revents & POLLIN))
			continue;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		set_timeouts(fd, 10);
		if (strcmp(mode, "silent") == 0 || strcmp(mode, "drip") == 0 || strcmp(mode, "random") == 0) {
			if (strcmp(mode, "random") == 0) {
				unsigned char junk[64];
				read_hello(fd);
				(void)!getrandom(junk, sizeof junk, 0);
				junk[0] = 0x9a; /* never a TLS content type */
				(void)!send(fd, junk, sizeof junk, MSG_NOSIGNAL);
			}
			if (n_held == MAX_HELD) {
				close(held[1].fd);
				step[1] = step[n_held];
				held[1] = held[n_held--];
			}
			step[1 + n_held] = 0;
			held[1 + n_held++] = (struct pollfd){ .fd = fd, .events = POLLIN };
			continue;
		}
		if (strcmp(mode, "http") == 0) {
			static const char resp[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
			read_hello(fd);
			(void)!send_all(fd, (const unsigned char *)resp, sizeof resp - 1);
		} else if (strcmp(mode, "reset") == 0) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };
			read_hello(fd);
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		} else if (strcmp(mode, "hello") == 0) {
			read_hello(fd);
			(void)send_server_hello(fd);
		} else if (strcmp(mode, "bigchain") == 0) {
			read_hello(fd);
			serve_bigchain(fd, &der);
		} else
			serve_tls(fd, creds, argc > 6 ? argv[6] : NULL);
		close(fd);
	}
	for (size_t i = 0; i < n_held; i++)
		close(held[1 + i].fd);
	close(lfd);
	if (creds)
		gnutls_certificate_free_credentials(creds);
	gnutls_free(pem.data);
	gnutls_free(der.data);
	return 0;
}
