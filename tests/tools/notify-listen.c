/*
 * notify-listen PATH
 *
 * The systemd side of the notify protocol (sd_notify(3)) for daemon tests:
 * binds an AF_UNIX datagram socket at PATH (give it to the daemon as
 * NOTIFY_SOCKET) and prints every assignment it receives on a line of its
 * own, prefixed with the milliseconds since it started, flushing each line
 * so a test can follow the file while the daemon runs:
 *
 *     152 READY=1
 *     152 STATUS=1 platform, 0 critical, ...
 *
 * Exits 0 on SIGTERM or SIGINT and removes PATH.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char *argv[])
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sigaction act = { .sa_handler = on_stop };
	char buf[4096];
	long long t0 = now_ms();
	int fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: notify-listen PATH (shorter than %zu bytes)\n", sizeof(sa.sun_path));
		return 2;
	}
	memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
	/* No SA_RESTART: recv() must return on a signal. */
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "notify-listen: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	while (!stop_requested) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "notify-listen: recv: %s\n", strerror(errno));
			break;
		}
		buf[n] = 0;
		long long t = now_ms() - t0;
		for (char *line = buf, *next; line && *line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = 0;
			printf("%lld %s\n", t, line);
		}
		fflush(stdout);
	}
	unlink(argv[1]);
	close(fd);
	return 0;
}
