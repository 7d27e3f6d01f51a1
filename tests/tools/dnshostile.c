/*
 * dnshostile ADDRESS PORT
 *
 * A DNS responder that answers badly on purpose, for the malformed-answer
 * cases knotd cannot produce. It listens on UDP and TCP at exactly
 * ADDRESS:PORT (IPv4, never a wildcard address) and picks its misbehaviour
 * from a keyword label anywhere in the question name:
 *
 *   servfail   RCODE SERVFAIL             refused    RCODE REFUSED
 *   tc         TC over UDP, a good answer over TCP (c-ares' fallback)
 *   tconly     TC over UDP, TCP connections closed at once
 *   loop       a CNAME loop               chain      a chain of 10 CNAMEs, then A
 *   wrongid    the ID plus one            wrongname  another question name
 *   big        300 A records in one UDP answer (no EDNS asked for)
 *   bigtcp     TC over UDP, 1500 A records (~50 KB) over TCP
 *   garbage    the right ID, then random bytes
 *   short      5 bytes                    silent     no answer at all
 *
 * Anything else: A 127.0.0.3 (nothing listens there), and NOERROR with no
 * data for other types. Prints nothing unless something fails; exits 0 on
 * SIGTERM or SIGINT.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define BUF_MAX 65535
#define MAX_CONN 32

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct msg {
	unsigned char b[BUF_MAX];
	size_t n;
};

static void put8(struct msg *m, unsigned v)
{
	if (m->n < BUF_MAX)
		m->b[m->n++] = (unsigned char)v;
}

static void put16(struct msg *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v & 0xff);
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

/* name is dotted, no final dot needed. */
static void put_name(struct msg *m, const char *name)
{
	while (*name) {
		size_t n = strcspn(name, ".");
		put8(m, (unsigned)n);
		for (size_t i = 0; i < n; i++)
			put8(m, (unsigned char)name[i]);
		name += n;
		if (*name == '.')
			name++;
	}
	put8(m, 0);
}

struct question {
	unsigned id, flags, type;
	char name[256];
	size_t end;               /* offset after the question */
};

static int parse_question(const unsigned char *q, size_t n, struct question *out)
{
	size_t off = 12, len = 0;

	if (n < 12 || ((q[4] << 8) | q[5]) != 1)
		return -1;
	out->id = (unsigned)(q[0] << 8 | q[1]);
	out->flags = (unsigned)(q[2] << 8 | q[3]);
	while (off < n && q[off]) {
		unsigned l = q[off++];
		if (l > 63 || off + l > n || len + l + 2 > sizeof(out->name))
			return -1;
		if (len)
			out->name[len++] = '.';
		for (unsigned i = 0; i < l; i++) {
			unsigned char ch = q[off + i];
			/* Echoed back as asked: c-ares compares the names. */
			out->name[len++] = (char)ch;
		}
		off += l;
	}
	out->name[len] = 0;
	if (off + 5 > n)
		return -1;
	off++;
	out->type = (unsigned)(q[off] << 8 | q[off + 1]);
	out->end = off + 4;
	return 0;
}

static int has_label(const char *name, const char *label)
{
	size_t l = strlen(label);
	for (const char *p = name; *p;) {
		size_t n = strcspn(p, ".");
		if (n == l && strncasecmp(p, label, l) == 0)
			return 1;
		p += n;
		if (*p == '.')
			p++;
	}
	return 0;
}

static void header(struct msg *m, const struct question *q, unsigned id, unsigned rcode, int tc, unsigned an)
{
	m->n = 0;
	put16(m, id);
	/* QR, opcode 0, AA, TC as asked, RD copied; RA; RCODE. */
	put16(m, 0x8000 | 0x0400 | (tc ? 0x0200 : 0) | (q->flags & 0x0100) | 0x0080 | rcode);
	put16(m, 1);
	put16(m, an);
	put16(m, 0);
	put16(m, 0);
}

static void question(struct msg *m, const char *name, unsigned type)
{
	put_name(m, name);
	put16(m, type);
	put16(m, 1);
}

static void rr_a(struct msg *m, const char *name, uint32_t addr)
{
	put_name(m, name);
	put16(m, 1);
	put16(m, 1);
	put32(m, 60);
	put16(m, 4);
	put32(m, addr);
}

static void rr_cname(struct msg *m, const char *name, const char *target)
{
	struct msg t = { .n = 0 };
	put_name(&t, target);
	put_name(m, name);
	put16(m, 5);
	put16(m, 1);
	put32(m, 60);
	put16(m, (unsigned)t.n);
	for (size_t i = 0; i < t.n; i++)
		put8(m, t.b[i]);
}

/* Builds the answer; returns 0 to send it, 1 to stay silent, 2 to close
 * (TCP). */
static int respond(const struct question *q, int tcp, struct msg *m)
{
	const char *n = q->name;
	char a[300], b[300];

	if (has_label(n, "silent"))
		return 1;
	if (has_label(n, "tconly") && tcp)
		return 2;
	if (has_label(n, "servfail") || has_label(n, "refused")) {
		header(m, q, q->id, has_label(n, "servfail") ? 2 : 5, 0, 0);
		question(m, n, q->type);
		return 0;
	}
	if ((has_label(n, "tc") || has_label(n, "tconly") || has_label(n, "bigtcp")) && !tcp) {
		header(m, q, q->id, 0, 1, 0);
		question(m, n, q->type);
		return 0;
	}
	if (has_label(n, "wrongid")) {
		header(m, q, (q->id + 1) & 0xffff, 0, 0, 1);
		question(m, n, q->type);
		rr_a(m, n, 0x7f000003);
		return 0;
	}
	if (has_label(n, "wrongname")) {
		header(m, q, q->id, 0, 0, 1);
		question(m, "other.invalid", q->type);
		rr_a(m, "other.invalid", 0x7f000003);
		return 0;
	}
	if (has_label(n, "garbage")) {
		m->n = 0;
		put16(m, q->id);
		for (int i = 0; i < 200; i++)
			put8(m, (unsigned)random() & 0xff);
		return 0;
	}
	if (has_label(n, "short")) {
		m->n = 0;
		put16(m, q->id);
		put8(m, 0x81);
		put8(m, 0x80);
		put8(m, 0);
		return 0;
	}
	if (has_label(n, "loop") && (q->type == 1 || q->type == 28)) {
		snprintf(a, sizeof(a), "x.%s", n);
		header(m, q, q->id, 0, 0, 2);
		question(m, n, q->type);
		rr_cname(m, n, a);
		rr_cname(m, a, n);
		return 0;
	}
	if (has_label(n, "chain") && (q->type == 1 || q->type == 28)) {
		header(m, q, q->id, 0, 0, q->type == 1 ? 11 : 10);
		question(m, n, q->type);
		snprintf(a, sizeof(a), "%s", n);
		for (int i = 1; i <= 10; i++) {
			snprintf(b, sizeof(b), "c%d.%s", i, n);
			rr_cname(m, a, b);
			snprintf(a, sizeof(a), "%s", b);
		}
		if (q->type == 1)
			rr_a(m, a, 0x7f000003);
		return 0;
	}
	if ((has_label(n, "big") || has_label(n, "bigtcp")) && q->type == 1) {
		unsigned count = has_label(n, "bigtcp") ? 1500 : 300;
		header(m, q, q->id, 0, 0, count);
		question(m, n, q->type);
		for (unsigned i = 0; i < count; i++) {
			/* The owner is the question name, compressed (RFC 1035
			 * 4.1.4) as real servers do; 127.1.x.y is loopback
			 * where nothing listens. */
			put16(m, 0xc00c);
			put16(m, 1);
			put16(m, 1);
			put32(m, 60);
			put16(m, 4);
			put32(m, 0x7f010000 + i);
		}
		return 0;
	}
	if (q->type == 1) {
		header(m, q, q->id, 0, 0, 1);
		question(m, n, q->type);
		rr_a(m, n, 0x7f000003);
		return 0;
	}
	header(m, q, q->id, 0, 0, 0);
	question(m, n, q->type);
	return 0;
}

static int open_socket(const char *addr, int port, int type)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd, one = 1;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1 || sin.sin_addr.s_addr == htonl(INADDR_ANY)) {
		fprintf(stderr, "dnshostile: '%s' is not a specific IPv4 address\n", addr);
		return -1;
	}
	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || (type == SOCK_STREAM && listen(fd, 64) < 0)) {
		fprintf(stderr, "dnshostile: bind %s:%d: %s\n", addr, port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct conn {
	int fd;
	unsigned char in[BUF_MAX + 2];
	size_t n;
};

/* Answers every complete question buffered on c; returns -1 to close. */
static int serve_tcp(struct conn *c)
{
	static struct msg m;
	struct question qu;

	for (;;) {
		if (c->n < 2)
			return 0;
		size_t len = (size_t)(c->in[0] << 8 | c->in[1]);
		if (c->n < 2 + len)
			return 0;
		if (parse_question(c->in + 2, len, &qu) < 0)
			return -1;
		int what = respond(&qu, 1, &m);
		if (what == 2)
			return -1;
		if (what == 0) {
			unsigned char pre[2] = { (unsigned char)(m.n >> 8), (unsigned char)m.n };
			/* Small enough for the loopback socket buffer, so a
			 * blocking write is fine in a test tool. */
			if (write(c->fd, pre, 2) != 2 || write(c->fd, m.b, m.n) != (ssize_t)m.n)
				return -1;
		}
		memmove(c->in, c->in + 2 + len, c->n - 2 - len);
		c->n -= 2 + len;
	}
}

int main(int argc, char **argv)
{
	static struct msg m;
	unsigned char q[BUF_MAX];
	struct sigaction sa = { .sa_handler = on_stop };
	char *end;
	long port;
	int udp, tcp;

	if (argc != 3) {
		fprintf(stderr, "usage: dnshostile ADDRESS PORT\n");
		return 2;
	}
	port = strtol(argv[2], &end, 10);
	if (*end || port < 1 || port > 65535) {
		fprintf(stderr, "dnshostile: bad port '%s'\n", argv[2]);
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	srandom(1);
	udp = open_socket(argv[1], (int)port, SOCK_DGRAM);
	tcp = udp < 0 ? -1 : open_socket(argv[1], (int)port, SOCK_STREAM);
	if (udp < 0 || tcp < 0)
		return 1;

	static struct conn conns[MAX_CONN];
	size_t nconn = 0;

	while (!stop_requested) {
		struct pollfd p[2 + MAX_CONN] = { { .fd = udp, .events = POLLIN }, { .fd = tcp, .events = POLLIN } };
		for (size_t i = 0; i < nconn; i++)
			p[2 + i] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
		if (poll(p, 2 + nconn, 500) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (p[0].revents & POLLIN) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			struct question qu;
			ssize_t n = recvfrom(udp, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
			if (n > 0 && parse_question(q, (size_t)n, &qu) == 0 && respond(&qu, 0, &m) == 0)
				(void)sendto(udp, m.b, m.n, 0, (struct sockaddr *)&from, fl);
		}
		for (size_t i = nconn; i-- > 0;) {
			struct conn *c = &conns[i];
			ssize_t r;
			if (!(p[2 + i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(c->fd, c->in + c->n, sizeof(c->in) - c->n);
			if (r > 0)
				c->n += (size_t)r;
			if (r <= 0 || serve_tcp(c) < 0 || c->n == sizeof(c->in)) {
				close(c->fd);
				conns[i] = conns[--nconn];
			}
		}
		if (p[1].revents & POLLIN) {
			int fd = accept4(tcp, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0 && nconn < MAX_CONN) {
				conns[nconn] = (struct conn){ .fd = fd };
				nconn++;
			} else if (fd >= 0)
				close(fd);
		}
	}
	for (size_t i = 0; i < nconn; i++)
		close(conns[i].fd);
	close(udp);
	close(tcp);
	return 0;
}
