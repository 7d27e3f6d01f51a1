/*
 * tarpit ADDRESS PORT
 *
 * Test server for the "endpoint accepts TCP but never speaks TLS" case: it
 * completes the TCP handshake, then holds the connection open and silent, so
 * certvigil's handshake timeout and overall deadline are what end the probe.
 * It binds exactly the given IPv4/IPv6 address (never a wildcard), so parallel
 * test runs and the other loopback servers are not disturbed.  Prints nothing
 * unless something fails; exits 0 on SIGTERM or SIGINT.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* ppoll, POLLRDHUP */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* Enough for any test; beyond it the oldest victim is let go so a runaway
 * client cannot exhaust our descriptors and make accept() fail. */
#define MAX_HELD 1024

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int parse_port(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 65535)
		return -1;
	return (int)v;
}

static int open_listener(const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[INET6_ADDRSTRLEN + 2];
	int fd, one = 1;

	memset(&ss, 0, sizeof ss);
	/* Accept "[::1]" as well as "::1": that is how people write IPv6 with a port. */
	if (addr[0] == '[') {
		size_t n = strlen(addr);
		if (n < 3 || n - 2 >= sizeof buf || addr[n - 1] != ']')
			return -1;
		memcpy(buf, addr + 1, n - 2);
		buf[n - 2] = '\0';
		addr = buf;
	}

	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		len = sizeof *sin;
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		len = sizeof *sin6;
	} else {
		fprintf(stderr, "tarpit: not an IP address: %s\n", addr);
		return -1;
	}

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		perror("tarpit: socket");
		return -1;
	}
	/* A previous run's connections may linger in TIME_WAIT on this port. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		perror("tarpit: SO_REUSEADDR");
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		fprintf(stderr, "tarpit: bind %s port %d: %s\n", addr, port, strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, 128) < 0) {
		perror("tarpit: listen");
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct pollfd pfd[MAX_HELD + 1];
	size_t held = 0, cap = MAX_HELD;
	struct rlimit rl;
	struct sigaction sa;
	sigset_t block, orig;
	int port, lfd;

	if (argc != 3) {
		fprintf(stderr, "usage: tarpit ADDRESS PORT\n");
		return 2;
	}
	port = parse_port(argv[2]);
	if (port < 0) {
		fprintf(stderr, "tarpit: bad port: %s\n", argv[2]);
		return 2;
	}

	/* Leave room under the descriptor limit for stdio and the listener. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < MAX_HELD + 16)
		cap = rl.rlim_cur > 32 ? (size_t)rl.rlim_cur - 16 : 16;

	/* Signals stay blocked except inside ppoll(), so a SIGTERM that arrives
	 * between the flag test and the wait cannot be lost. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig);

	lfd = open_listener(argv[1], port);
	if (lfd < 0)
		return 1;

	pfd[0].fd = lfd;
	pfd[0].events = POLLIN;

	while (!stop_requested) {
		/* Only hang-ups are watched on held sockets: asking for POLLIN
		 * would spin on clients that send a ClientHello we never read. */
		int n = ppoll(pfd, held + 1, NULL, &orig);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("tarpit: ppoll");
			return 1;
		}

		/* Forget clients that gave up, so long runs do not fill the table. */
		for (size_t i = 1; i <= held;) {
			if (pfd[i].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) {
				close(pfd[i].fd);
				memmove(&pfd[i], &pfd[i + 1], (held - i) * sizeof pfd[0]);
				held--;
			} else {
				i++;
			}
		}

		if (pfd[0].revents & POLLIN) {
			for (;;) {
				int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
				if (c < 0) {
					if (errno != EAGAIN && errno != EWOULDBLOCK &&
					    errno != EINTR && errno != ECONNABORTED)
						perror("tarpit: accept");
					break;
				}
				if (held >= cap) {
					close(pfd[1].fd);
					memmove(&pfd[1], &pfd[2], (held - 1) * sizeof pfd[0]);
					held--;
				}
				held++;
				pfd[held].fd = c;
				pfd[held].events = POLLRDHUP;
				pfd[held].revents = 0;
			}
		}
	}

	for (size_t i = 1; i <= held; i++)
		close(pfd[i].fd);
	close(lfd);
	return 0;
}
