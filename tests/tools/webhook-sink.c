/*
 * webhook-sink ADDRESS PORT
 *
 * The receiving end of Alertmanager's webhook for the fleet test: listens
 * on ADDRESS:PORT (IPv4, loopback in tests), answers every POST with 200
 * and prints its body on a line of its own (newlines in it become spaces),
 * flushing each line so a test can follow the output while it runs.
 * Prints "listening" once bound. One request per connection (it answers
 * with Connection: close); bodies over 1 MiB are cut. Exits 0 on SIGTERM.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define BODY_MAX (1 << 20)
#define HEAD_MAX 16384

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig) {
        (void)sig;
        stop_requested = 1;
}

/* The value of Content-Length in head (NUL-terminated), or 0. */
static size_t content_length(const char *head) {
        for (const char *l = head; l && *l; l = strstr(l, "\r\n")) {
                if (l[0] == '\r')
                        l += 2;
                if (strncasecmp(l, "Content-Length:", 15) == 0) {
                        unsigned long long v = strtoull(l + 15, NULL, 10);
                        return v > BODY_MAX ? BODY_MAX : (size_t)v;
                }
        }
        return 0;
}

static void serve(int c) {
        static char buf[HEAD_MAX + BODY_MAX + 1];
        size_t got = 0, need = 0;
        char *end = NULL;
        const char *answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

        while (got < sizeof(buf) - 1) {
                ssize_t n = read(c, buf + got, sizeof(buf) - 1 - got);
                if (n <= 0)
                        break;
                got += (size_t)n;
                buf[got] = 0;
                if (!end && (end = strstr(buf, "\r\n\r\n"))) {
                        *end = 0;
                        need = (size_t)(end + 4 - buf) + content_length(buf);
                }
                if (end && got >= need)
                        break;
        }
        if (!end)
                return;
        for (char *p = end + 4; p < buf + got; p++)
                if (*p == '\n' || *p == '\r' || *p == 0)
                        *p = ' ';
        printf("%.*s\n", (int)(buf + got - (end + 4)), end + 4);
        fflush(stdout);
        (void)write(c, answer, strlen(answer));
}

int main(int argc, char *argv[]) {
        struct sockaddr_in sin = { .sin_family = AF_INET };
        struct sigaction sa = { .sa_handler = on_stop };
        struct timeval tv = { .tv_sec = 5 };
        char *end = NULL;
        unsigned long port = argc == 3 ? strtoul(argv[2], &end, 10) : 0;
        int fd, one = 1;

        if (argc != 3 || inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1 || !end || *end || port == 0 ||
            port > 65535) {
                fprintf(stderr, "usage: webhook-sink ADDRESS PORT\n");
                return 2;
        }
        sin.sin_port = htons((unsigned short)port);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 128) < 0) {
                fprintf(stderr, "webhook-sink: %s:%s: %s\n", argv[1], argv[2], strerror(errno));
                return 1;
        }
        printf("listening\n");
        fflush(stdout);
        while (!stop_requested) {
                int c = accept(fd, NULL, NULL);
                if (c < 0)
                        continue;
                /* A client that stalls cannot hold the sink. */
                setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
                serve(c);
                close(c);
        }
        close(fd);
        return 0;
}
