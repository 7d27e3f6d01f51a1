/* Small helpers shared by every module; see util.h. */
#include "util.h"

#include <ctype.h>
#include <strings.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

void oom(void) {
        fputs("certvigil: out of memory\n", stderr);
        abort();
}

void *xmalloc(size_t size) {
        void *p = malloc(size ? size : 1);
        if (!p)
                oom();
        return p;
}

void *xcalloc(size_t n, size_t size) {
        void *p = calloc(n ? n : 1, size ? size : 1);
        if (!p)
                oom();
        return p;
}

void *xrealloc(void *p, size_t size) {
        p = realloc(p, size ? size : 1);
        if (!p)
                oom();
        return p;
}

char *xstrdup(const char *s) {
        return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n) {
        char *p = strndup(s, n);
        if (!p)
                oom();
        return p;
}

char *xvasprintf(const char *fmt, va_list ap) {
        char *s;
        if (vasprintf(&s, fmt, ap) < 0)
                oom();
        return s;
}

char *xasprintf(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *s = xvasprintf(fmt, ap);
        va_end(ap);
        return s;
}

size_t strv_length(char *const *v) {
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

void strv_push(char ***v, char *s) {
        size_t n = strv_length(*v);
        *v = xrealloc(*v, (n + 2) * sizeof(char *));
        (*v)[n] = s;
        (*v)[n + 1] = NULL;
}

/* Counted once and allocated once: strv_push() walks the list on every
 * call, and a certificate may carry 10,000 SANs. */
char **strv_copy(char *const *v) {
        size_t n = strv_length(v);
        char **r;

        if (n == 0)
                return NULL;
        r = xmalloc((n + 1) * sizeof(char *));
        for (size_t i = 0; i < n; i++)
                r[i] = xstrdup(v[i]);
        r[n] = NULL;
        return r;
}

bool strv_contains(char *const *v, const char *s) {
        for (size_t i = 0; v && v[i]; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

char **strv_free(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
        return NULL;
}

char *strv_join(char *const *v, const char *sep, size_t max) {
        size_t n = strv_length(v), len = 1;
        if (n == 0)
                return NULL;
        size_t used = max && max < n ? max : n;
        for (size_t i = 0; i < used; i++)
                len += strlen(v[i]) + strlen(sep);
        len += used < n ? strlen(sep) + 3 : 0;
        char *s = xmalloc(len);
        size_t off = 0;
        for (size_t i = 0; i < used; i++)
                off += (size_t)snprintf(s + off, len - off, "%s%s", i ? sep : "", v[i]);
        if (used < n)
                snprintf(s + off, len - off, "%s...", sep);
        return s;
}

bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

bool str_endswith(const char *s, const char *suffix) {
        size_t ls = strlen(s), lx = strlen(suffix);
        return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

int parse_int(const char *s, long long min, long long max, long long *ret) {
        if (!s || !*s || isspace((unsigned char)*s))
                return -EINVAL;
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (*end)
                return -EINVAL;
        if (errno == ERANGE || v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int parse_duration(const char *s, uint64_t *ret_usec) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                { "ms", USEC_PER_MSEC },
                { "s", USEC_PER_SEC },
                { "m", 60 * USEC_PER_SEC },
                { "h", 3600 * USEC_PER_SEC },
                { "d", 86400 * USEC_PER_SEC },
                { "", USEC_PER_SEC },
        };
        if (!s || !isdigit((unsigned char)*s))
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                if (strcmp(end, units[i].suffix) != 0)
                        continue;
                if (v > UINT64_MAX / units[i].usec)
                        return -ERANGE;
                *ret_usec = v * units[i].usec;
                return 0;
        }
        return -EINVAL;
}

char *format_rfc3339(time_t t, char buf[static RFC3339_MAX]) {
        struct tm tm;
        if (!gmtime_r(&t, &tm) || strftime(buf, RFC3339_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buf, RFC3339_MAX, "@%lld", (long long)t);
        return buf;
}

char *format_duration(uint64_t usec, char buf[static DURATION_MAX]) {
        uint64_t ms = usec / USEC_PER_MSEC;
        if (ms < 1000)
                snprintf(buf, DURATION_MAX, "%llums", (unsigned long long)ms);
        else if (ms < 60000 && ms % 1000)
                snprintf(buf, DURATION_MAX, "%llu.%llus", (unsigned long long)(ms / 1000),
                         (unsigned long long)(ms % 1000 / 100));
        else if (ms < 60000 || ms % 60000)
                snprintf(buf, DURATION_MAX, "%llus", (unsigned long long)(ms / 1000));
        else if (ms < 3600000 || ms % 3600000)
                snprintf(buf, DURATION_MAX, "%llum", (unsigned long long)(ms / 60000));
        else
                snprintf(buf, DURATION_MAX, "%lluh", (unsigned long long)(ms / 3600000));
        return buf;
}

char *hex_encode(const unsigned char *data, size_t n, char sep) {
        static const char digits[] = "0123456789abcdef";
        char *s = xmalloc(n * 3 + 1), *p = s;
        for (size_t i = 0; i < n; i++) {
                if (sep && i > 0)
                        *p++ = sep;
                *p++ = digits[data[i] >> 4];
                *p++ = digits[data[i] & 15];
        }
        *p = 0;
        return s;
}

char *serial_format(const unsigned char *data, size_t n) {
        static const char digits[] = "0123456789ABCDEF";
        char *s, *p;

        /* DER's sign padding (and any other leading zero byte) is not part
         * of the value; a serial of zero keeps one byte. */
        while (n > 1 && data[0] == 0) {
                data++;
                n--;
        }
        s = p = xmalloc(n * 2 + 1);
        for (size_t i = 0; i < n; i++) {
                *p++ = digits[data[i] >> 4];
                *p++ = digits[data[i] & 15];
        }
        *p = 0;
        return s;
}

char *serial_normalize(const char *s) {
        size_t n = 0;
        char *r = xmalloc(strlen(s) + 2), *p = r + 1;

        for (; *s; s++)
                if (*s != ':')
                        p[n++] = (char)toupper((unsigned char)*s);
        p[n] = 0;
        /* Whole bytes, as openssl prints them: an odd count of digits
         * (crt.sh drops leading zeros) gets its leading 0 back. */
        if (n & 1) {
                *--p = '0';
                n++;
        }
        while (n > 2 && p[0] == '0' && p[1] == '0') {
                p += 2;
                n -= 2;
        }
        memmove(r, p, n + 1);
        return r;
}

bool serial_in(char *const *v, const char *serial) {
        for (size_t i = 0; v && v[i]; i++)
                if (strcasecmp(v[i], serial) == 0)
                        return true;
        return false;
}

char *str_escape(const char *s, size_t len) {
        char *r = xmalloc(len * 4 + 1), *p = r;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c < 0x20 || c >= 0x7f || c == '\\') {
                        if (c == '\\') {
                                *p++ = '\\';
                                *p++ = '\\';
                        } else
                                p += snprintf(p, 5, "\\x%02x", c);
                } else
                        *p++ = (char)c;
        }
        *p = 0;
        return r;
}

static int fsync_dir_of(const char *path) {
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (!slash) {
                free(dir);
                dir = xstrdup(".");
        } else if (slash == dir)
                dir[1] = 0;
        else
                *slash = 0;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = fsync(fd) < 0 ? -errno : 0;
        close(fd);
        return r;
}

int file_atomic_open(const char *path, FILE **ret, char **ret_tmp) {
        _cleanup_free_ char *tmp = xasprintf("%s.tmpXXXXXX", path);
        int fd = mkostemp(tmp, O_CLOEXEC);
        FILE *f;

        if (fd < 0)
                return -errno;
        (void)fchmod(fd, 0644); /* as a plain create would, less the umask's say, ignoring */
        f = fdopen(fd, "w");
        if (!f) {
                int e = -errno;
                close(fd);
                unlink(tmp);
                return e;
        }
        *ret = f;
        *ret_tmp = TAKE_PTR(tmp);
        return 0;
}

int file_atomic_close(FILE *f, char *tmp, const char *path, bool commit) {
        int r = 0;

        assert(tmp);
        if (fflush(f) != 0 || ferror(f))
                r = -(errno ? errno : EIO);
        if (r == 0 && commit && fsync(fileno(f)) < 0)
                r = -errno;
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        if (r == 0 && commit && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0 || !commit)
                unlink(tmp);
        else
                (void)fsync_dir_of(path); /* the data is safe; a failed dir sync only risks the rename, ignoring */
        free(tmp);
        return r;
}

/* All of iov's n pieces to fd, resuming after short writes. */
static int writev_all(int fd, const struct iovec *iov, size_t n) {
        size_t done = 0;   /* bytes of iov[0] already written */

        while (n > 0) {
                size_t was = n;
                ssize_t w;

                /* The rest of a piece written in part goes alone. */
                if (done > 0)
                        w = write(fd, (const char *)iov->iov_base + done, iov->iov_len - done);
                else
                        w = writev(fd, iov, (int)(n < IOV_MAX ? n : IOV_MAX));
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -errno;
                /* Past the pieces written whole. */
                done += (size_t)w;
                while (n > 0 && done >= iov->iov_len) {
                        done -= iov->iov_len;
                        iov++;
                        n--;
                }
                if (w == 0 && n == was)
                        return -EIO; /* no progress: never for a regular file, but the loop must end */
        }
        return 0;
}

int write_file_atomic_iov(const char *path, const struct iovec *iov, size_t n, int *ret_fd) {
        char *tmp;
        FILE *f;
        int fd = -1, r = file_atomic_open(path, &f, &tmp);

        if (r < 0)
                return r;
        if (ret_fd) {
                fd = open(tmp, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0) {
                        r = -errno;
                        (void)file_atomic_close(f, tmp, path, false);
                        return r;
                }
        }
        /* Straight to the descriptor: nothing went through the stream. */
        r = writev_all(fileno(f), iov, n);
        int c = file_atomic_close(f, tmp, path, r >= 0);
        if (r >= 0)
                r = c;
        if (r < 0) {
                if (fd >= 0)
                        close(fd);
                return r;
        }
        if (ret_fd)
                *ret_fd = fd;
        return 0;
}

int write_file_atomic_pinned(const char *path, const char *data, size_t len, int *ret_fd) {
        struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
        return write_file_atomic_iov(path, &iov, 1, ret_fd);
}

int file_open_regular(const char *path) {
        struct stat st;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), r;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (S_ISDIR(st.st_mode))
                r = -EISDIR;
        else if (!S_ISREG(st.st_mode))
                r = -EINVAL;
        else
                return fd;
        close(fd);
        return r;
}

FILE *file_fopen_regular(const char *path) {
        int fd = file_open_regular(path);
        FILE *f;

        if (fd < 0) {
                errno = -fd;
                return NULL;
        }
        f = fdopen(fd, "re");
        if (!f) {
                int e = errno;
                close(fd);
                errno = e;
        }
        return f;
}

const char *file_strerror(int r) {
        return r == -EINVAL ? "not a regular file" : strerror(-r);
}

int write_file_atomic(const char *path, const char *data, size_t len) {
        return write_file_atomic_pinned(path, data, len, NULL);
}

uint64_t now_monotonic_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t now_realtime_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

bool strv_same_set(char *const *a, char *const *b) {
        for (size_t i = 0; a && a[i]; i++)
                if (!strv_contains(b, a[i]))
                        return false;
        for (size_t i = 0; b && b[i]; i++)
                if (!strv_contains(a, b[i]))
                        return false;
        return true;
}

char *strv_join_or(char *const *v, const char *sep, const char *empty) {
        char *s = strv_join(v, sep, 0);
        return s ? s : xstrdup(empty);
}

int fd_limit_raise(unsigned long *ret_nofile) {
        struct rlimit rl;
        int r = 0;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -errno;
        if (rl.rlim_cur < rl.rlim_max) {
                struct rlimit want = { .rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max };
                /* select() is not used anywhere, so fds above 1024 are fine. */
                if (setrlimit(RLIMIT_NOFILE, &want) == 0)
                        rl = want;
                else
                        r = -errno;
        }
        *ret_nofile = rl.rlim_cur == RLIM_INFINITY ? 1UL << 20 : (unsigned long)rl.rlim_cur;
        return r;
}

char *data_path(const char *file) {
        const char *env = getenv("CERTVIGIL_DATA_DIR");
        char *p;

        if (env && *env)
                return xasprintf("%s/%s", env, file);
        p = xasprintf("%s/%s", PKGDATADIR, file);
        if (access(p, R_OK) == 0)
                return p;
        free(p);
        return xasprintf("%s/%s", SRCDATADIR, file);
}

static const char *ipv4_internal_kind(uint32_t a) {
        static const struct {
                uint32_t net, mask;
                const char *kind;
        } nets[] = {
                { 0x00000000, 0xff000000, "unspecified" },    /* 0.0.0.0/8 */
                { 0x7f000000, 0xff000000, "loopback" },       /* 127.0.0.0/8 */
                { 0x0a000000, 0xff000000, "private" },        /* 10.0.0.0/8, RFC 1918 */
                { 0xac100000, 0xfff00000, "private" },        /* 172.16.0.0/12 */
                { 0xc0a80000, 0xffff0000, "private" },        /* 192.168.0.0/16 */
                { 0xa9fe0000, 0xffff0000, "link-local" },     /* 169.254.0.0/16: cloud metadata lives here */
                { 0x64400000, 0xffc00000, "shared (CGNAT)" }, /* 100.64.0.0/10, RFC 6598 */
                { 0xc0000000, 0xffffff00, "reserved" },       /* 192.0.0.0/24 */
                { 0xe0000000, 0xf0000000, "multicast" },      /* 224.0.0.0/4 */
                { 0xf0000000, 0xf0000000, "reserved" },       /* 240.0.0.0/4 and broadcast */
        };
        for (size_t i = 0; i < ELEMENTSOF(nets); i++)
                if ((a & nets[i].mask) == nets[i].net)
                        return nets[i].kind;
        return NULL;
}

const char *address_internal_kind(const struct sockaddr *sa) {
        if (sa->sa_family == AF_INET)
                return ipv4_internal_kind(ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr));
        if (sa->sa_family != AF_INET6)
                return "reserved";
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        const uint8_t *b = a->s6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
                return ipv4_internal_kind((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15]);
        if (IN6_IS_ADDR_LOOPBACK(a))
                return "loopback";
        if (IN6_IS_ADDR_UNSPECIFIED(a))
                return "unspecified";
        if (IN6_IS_ADDR_LINKLOCAL(a))
                return "link-local";
        if ((b[0] & 0xfe) == 0xfc)
                return "unique-local";                      /* fc00::/7, RFC 4193 */
        if (b[0] == 0xff)
                return "multicast";
        return NULL;
}

bool address_is_literal(const char *s) {
        unsigned char bin[sizeof(struct in6_addr)];

        return s && (inet_pton(AF_INET, s, bin) == 1 || inet_pton(AF_INET6, s, bin) == 1);
}
