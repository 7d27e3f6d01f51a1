/*
 * https-standin ADDRESS PORT CERT KEY ROUTES LOG [TOKEN]
 *
 * A small HTTPS server that stands in for services no test can run here:
 * the Kubernetes API (cert-manager's Certificate and its status) and an
 * ACME CA's directory and renewalInfo (RFC 9773).  It answers from ROUTES,
 * re-read on every request so a test can change the answers between runs,
 * one route a line:
 *
 *     METHOD TARGET STATUS BODYFILE [RETRY-AFTER]
 *
 * TARGET is the request target exactly (path and query); BODYFILE is sent
 * as application/json ("-" for none).  Unknown targets get 404.  With
 * TOKEN, a request without "Authorization: Bearer TOKEN" gets 401.  Every
 * request is appended to LOG: "=== METHOD TARGET", its headers (the
 * Authorization value replaced by "<token ok>" or "<token wrong>"), a blank
 * line and the body.  It binds only a 127.0.0.0/8 address, serves one
 * connection at a time and closes it after each response.  SIGTERM ends it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#define REQ_MAX (1024 * 1024)

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap + 1);
			if (!buf)
				abort();
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* Reads headers and a Content-Length body; returns the total length. */
static ssize_t read_request(gnutls_session_t s, char *buf, size_t cap, size_t *hdr_len, size_t *body_len)
{
	size_t n = 0, want = 0;
	char *end = NULL;

	for (;;) {
		ssize_t r = gnutls_record_recv(s, buf + n, cap - 1 - n);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = 0;
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			char *cl;
			*hdr_len = (size_t)(end - buf) + 4;
			cl = strcasestr(buf, "\r\ncontent-length:");
			want = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
		}
		if (end && n >= *hdr_len + want) {
			*body_len = want;
			return (ssize_t)n;
		}
		if (n >= cap - 1)
			return -1;
	}
}

static void send_all(gnutls_session_t s, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = gnutls_record_send(s, p, n);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r <= 0)
			return;
		p += r;
		n -= (size_t)r;
	}
}

static void respond(gnutls_session_t s, int status, const char *body, size_t len, const char *retry_after)
{
	char head[512];
	int n = snprintf(head, sizeof head,
			 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%s%s%s"
			 "Connection: close\r\n\r\n",
			 status, len, retry_after ? "Retry-After: " : "", retry_after ? retry_after : "",
			 retry_after ? "\r\n" : "");
	send_all(s, head, (size_t)n);
	send_all(s, body, len);
}

static void handle(gnutls_session_t s, const char *routes, const char *logpath, const char *token)
{
	static char buf[REQ_MAX];
	size_t hdr_len = 0, body_len = 0;
	char method[16], target[2048], line[4096], rmethod[16], rtarget[2048], bodyfile[1024], retry[128];
	bool authorized = token == NULL;
	FILE *log, *rf;
	int status;

	if (read_request(s, buf, sizeof buf, &hdr_len, &body_len) < 0)
		return;
	if (sscanf(buf, "%15s %2047s", method, target) != 2)
		return;

	log = fopen(logpath, "a");
	if (log) {
		fprintf(log, "=== %s %s\n", method, target);
		for (char *p = strstr(buf, "\r\n") + 2; p < buf + hdr_len - 2;) {
			char *e = strstr(p, "\r\n");
			if (!e)
				break;
			if (strncasecmp(p, "authorization:", 14) == 0) {
				char want[1024];
				snprintf(want, sizeof want, "Authorization: Bearer %s", token ? token : "");
				bool ok = token && (size_t)(e - p) == strlen(want) && strncmp(p, want, strlen(want)) == 0;
				fprintf(log, "Authorization: %s\n", ok ? "<token ok>" : "<token wrong>");
				authorized = authorized || ok;
			} else
				fprintf(log, "%.*s\n", (int)(e - p), p);
			p = e + 2;
		}
		fprintf(log, "\n%.*s\n", (int)body_len, buf + hdr_len);
		fclose(log);
	}
	if (!authorized) {
		respond(s, 401, "{\"kind\":\"Status\",\"code\":401}", 29, NULL);
		return;
	}
	rf = fopen(routes, "r");
	while (rf && fgets(line, sizeof line, rf)) {
		retry[0] = 0;
		if (sscanf(line, "%15s %2047s %d %1023s %127s", rmethod, rtarget, &status, bodyfile, retry) < 4)
			continue;
		if (strcmp(rmethod, method) != 0 || strcmp(rtarget, target) != 0)
			continue;
		fclose(rf);
		size_t len = 0;
		char *body = strcmp(bodyfile, "-") == 0 ? NULL : slurp(bodyfile, &len);
		respond(s, status, body ? body : "", body ? len : 0, retry[0] ? retry : NULL);
		free(body);
		return;
	}
	if (rf)
		fclose(rf);
	respond(s, 404, "{}", 2, NULL);
}

int main(int argc, char *argv[])
{
	gnutls_certificate_credentials_t cred;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sigaction sa = { .sa_handler = on_stop };
	struct timeval tv = { .tv_sec = 5 };
	int fd, one = 1;

	if (argc < 7 || argc > 8) {
		fprintf(stderr, "usage: %s ADDRESS PORT CERT KEY ROUTES LOG [TOKEN]\n", argv[0]);
		return 2;
	}
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1 || (ntohl(sin.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "https-standin: %s is not a 127.0.0.0/8 address\n", argv[1]);
		return 2;
	}
	char *end;
	long port = strtol(argv[2], &end, 10);
	if (*argv[2] == 0 || *end != 0 || port < 1 || port > 65535) {
		fprintf(stderr, "https-standin: %s is not a port\n", argv[2]);
		return 2;
	}
	sin.sin_port = htons((uint16_t)port);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	gnutls_global_init();
	gnutls_certificate_allocate_credentials(&cred);
	if (gnutls_certificate_set_x509_key_file(cred, argv[3], argv[4], GNUTLS_X509_FMT_PEM) < 0) {
		fprintf(stderr, "https-standin: cannot load %s / %s\n", argv[3], argv[4]);
		return 1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(fd, 16) < 0) {
		fprintf(stderr, "https-standin: cannot listen on %s:%s: %s\n", argv[1], argv[2], strerror(errno));
		return 1;
	}
	while (!stop_requested) {
		gnutls_session_t s;
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		gnutls_init(&s, GNUTLS_SERVER);
		gnutls_set_default_priority(s);
		gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
		gnutls_transport_set_int(s, c);
		int r;
		do
			r = gnutls_handshake(s);
		while (r < 0 && !gnutls_error_is_fatal(r));
		if (r == 0) {
			handle(s, argv[5], argv[6], argc == 8 ? argv[7] : NULL);
			gnutls_bye(s, GNUTLS_SHUT_WR);
		}
		gnutls_deinit(s);
		close(c);
	}
	close(fd);
	gnutls_certificate_free_credentials(cred);
	gnutls_global_deinit();
	return 0;
}
