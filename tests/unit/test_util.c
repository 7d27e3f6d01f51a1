/* util: durations, integers, escaping, atomic writes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "cpu-bound.h"

#include "keyed.h"
#include "util.h"

static void test_duration(void **state) {
        static const struct {
                const char *in;
                int ret;
                uint64_t usec;
        } rows[] = {
                { "10s", 0, 10 * USEC_PER_SEC },  { "500ms", 0, 500 * USEC_PER_MSEC },
                { "2m", 0, 120 * USEC_PER_SEC },  { "1h", 0, 3600 * USEC_PER_SEC },
                { "1d", 0, 86400 * USEC_PER_SEC }, { "7", 0, 7 * USEC_PER_SEC },
                { "0s", 0, 0 },                    { "", -EINVAL, 0 },
                { "s", -EINVAL, 0 },               { "10 s", -EINVAL, 0 },
                { "-1s", -EINVAL, 0 },             { "1.5s", -EINVAL, 0 },
                { "10y", -EINVAL, 0 },             { "99999999999999999999s", -ERANGE, 0 },
                { "999999999999999d", -ERANGE, 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                uint64_t v = 4242;
                int r = parse_duration(rows[i].in, &v);
                if (r != rows[i].ret)
                        fail_msg("'%s': expected %d, got %d", rows[i].in, rows[i].ret, r);
                if (r == 0 && v != rows[i].usec)
                        fail_msg("'%s': expected %llu usec, got %llu", rows[i].in, (unsigned long long)rows[i].usec,
                                 (unsigned long long)v);
                if (r < 0 && v != 4242)
                        fail_msg("'%s': output written on failure", rows[i].in);
        }
}

static void test_int(void **state) {
        long long v;
        assert_int_equal(parse_int("443", 1, 65535, &v), 0);
        assert_int_equal(v, 443);
        assert_int_equal(parse_int("0", 1, 65535, &v), -ERANGE);
        assert_int_equal(parse_int("65536", 1, 65535, &v), -ERANGE);
        assert_int_equal(parse_int("44x", 1, 65535, &v), -EINVAL);
        assert_int_equal(parse_int(" 44", 1, 65535, &v), -EINVAL);
        assert_int_equal(parse_int("", 1, 65535, &v), -EINVAL);
}

static void test_escape(void **state) {
        char *s = str_escape("a\0b\n\x1b[31m\\", 10);
        assert_string_equal(s, "a\\x00b\\x0a\\x1b[31m\\\\");
        free(s);
        s = str_escape("plain.example.com", 17);
        assert_string_equal(s, "plain.example.com");
        free(s);
}

static void test_rfc3339(void **state) {
        char buf[RFC3339_MAX];
        assert_string_equal(format_rfc3339(0, buf), "1970-01-01T00:00:00Z");
        assert_string_equal(format_rfc3339(1795702927, buf), "2026-11-26T14:22:07Z");
}

static void test_format_duration(void **state) {
        static const struct {
                uint64_t usec;
                const char *text;
        } rows[] = {
                { 0, "0ms" },
                { 500 * USEC_PER_MSEC, "500ms" },
                { 1500 * USEC_PER_MSEC, "1.5s" },
                { 1 * USEC_PER_SEC, "1s" },
                { 30 * USEC_PER_SEC, "30s" },
                { 90 * USEC_PER_SEC, "90s" },
                { 120 * USEC_PER_SEC, "2m" },
                { 3600 * USEC_PER_SEC, "1h" },
                { 5400 * USEC_PER_SEC, "90m" },
        };
        char buf[DURATION_MAX];
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                assert_string_equal(format_duration(rows[i].usec, buf), rows[i].text);
}

static void test_atomic_write(void **state) {
        char dir[] = "/tmp/certvigil-test-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char *path = xasprintf("%s/report.json", dir);
        assert_int_equal(write_file_atomic(path, "one\n", 4), 0);
        assert_int_equal(write_file_atomic(path, "second\n", 7), 0);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char buf[32] = { 0 };
        assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), 7);
        fclose(f);
        assert_string_equal(buf, "second\n");
        /* No temporary file left behind. */
        char *cmd = xasprintf("test $(ls -A %s | wc -l) -eq 1", dir);
        assert_int_equal(system(cmd), 0);
        /* A directory that does not exist is an error, not a crash. */
        char *bad = xasprintf("%s/missing/report.json", dir);
        assert_int_equal(write_file_atomic(bad, "x", 1), -ENOENT);
        unlink(path);
        rmdir(dir);
        free(cmd);
        free(bad);
        free(path);
}

/* A file written from pieces is their concatenation: more pieces than one
 * writev(2) takes, empty ones among them, and a write the file size limit
 * cuts short (resumed in the middle of a piece, then refused: the file
 * stays as it was, and no temporary file is left). */
static void test_atomic_write_pieces(void **state) {
        char dir[] = "/tmp/certvigil-test-XXXXXX";
        const size_t n = 3000;
        struct iovec *iov = xcalloc(n, sizeof(*iov));
        _cleanup_free_ char *want = xmalloc(n * 7 + 1), *path = NULL, *got = NULL;
        size_t len = 0;
        struct rlimit old, small;
        struct stat st;
        int fd = -1;

        assert_non_null(mkdtemp(dir));
        path = xasprintf("%s/state.json", dir);
        for (size_t i = 0; i < n; i++) {
                static const char *const words[] = { "", "a", "bc", "def", "ghij", "klmno", "pqrstu" };
                const char *w = words[i % ELEMENTSOF(words)];
                iov[i] = (struct iovec){ .iov_base = (void *)w, .iov_len = strlen(w) };
                memcpy(want + len, w, strlen(w));
                len += strlen(w);
        }
        want[len] = 0;
        assert_int_equal(write_file_atomic_iov(path, iov, n, &fd), 0);
        assert_true(fd >= 0);
        got = xmalloc(len + 1);
        assert_int_equal(pread(fd, got, len + 1, 0), (ssize_t)len);
        got[len] = 0;
        assert_string_equal(got, want);
        close(fd);

        /* Cut short after 1,000 bytes: in the middle of a piece (1,000 is
         * not a sum of whole pieces' lengths here), then EFBIG. */
        assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
        small = (struct rlimit){ .rlim_cur = 1000, .rlim_max = old.rlim_max };
        void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
        int r = write_file_atomic_iov(path, iov, n, NULL);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
        signal(SIGXFSZ, was);
        assert_int_equal(r, -EFBIG);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_size, (off_t)len);
        _cleanup_free_ char *cmd = xasprintf("test $(ls -A %s | wc -l) -eq 1", dir);
        assert_int_equal(system(cmd), 0);

        unlink(path);
        rmdir(dir);
        free(iov);
}

static void test_strv(void **state) {
        char **v = NULL;
        assert_int_equal(strv_length(v), 0);
        strv_push(&v, xstrdup("a"));
        strv_push(&v, xstrdup("b"));
        assert_int_equal(strv_length(v), 2);
        assert_true(strv_contains(v, "b"));
        assert_false(strv_contains(v, "c"));
        char **c = strv_copy(v);
        assert_string_equal(c[1], "b");
        char *j = strv_join(v, ", ", 0);
        assert_string_equal(j, "a, b");
        free(j);
        j = strv_join(v, ",", 1);
        assert_string_equal(j, "a,...");
        free(j);
        assert_null(strv_join(NULL, ",", 0));
        assert_null(strv_free(v));
        strv_free(c);
}

/* A certificate may carry 10,000 SANs and every endpoint serving it gets a
 * copy: copying must be linear. 200,000 entries take milliseconds when it
 * is; when every element walks the list again (as it did) they take
 * seconds. The bound is generous either way. */
static void test_strv_copy_linear(void **state) {
        enum { N = 200000 };
        char **v = xmalloc((N + 1) * sizeof(char *)), **c;
        uint64_t t0;

        for (size_t i = 0; i < N; i++)
                v[i] = xasprintf("san%zu.example.test", i);
        v[N] = NULL;
        t0 = test_cpu_usec();
        c = strv_copy(v);
        test_cpu_within("copying 200,000 entries", test_cpu_usec() - t0, USEC_PER_SEC);
        assert_int_equal(strv_length(c), N);
        assert_string_equal(c[0], "san0.example.test");
        assert_string_equal(c[N - 1], "san199999.example.test");
        assert_ptr_not_equal(c[7], v[7]);
        strv_free(c);
        strv_free(v);
        assert_null(strv_copy(NULL));
}

/* Serials as `openssl x509 -serial` prints them. */
static void test_serial(void **state) {
        static const struct {
                unsigned char der[5];
                size_t n;
                const char *want;
        } raw[] = {
                { { 0x00, 0xc4, 0xa1 }, 3, "C4A1" },         /* DER's sign padding dropped */
                { { 0x0a, 0x1b }, 2, "0A1B" },               /* whole bytes, upper case */
                { { 0x00 }, 1, "00" },                       /* zero keeps its byte */
                { { 0x7f, 0x00, 0x01 }, 3, "7F0001" },
                { { 0 }, 0, "" },
        };
        static const struct {
                const char *in, *want;
        } stored[] = {
                { "00c4a1", "C4A1" }, { "c4:a1", "C4A1" }, { "0a1b", "0A1B" }, { "a1b", "0A1B" },
                { "00", "00" },       { "0000ff", "FF" },  { "C4A1", "C4A1" }, { "", "" },
        };
        for (size_t i = 0; i < ELEMENTSOF(raw); i++) {
                char *s = serial_format(raw[i].der, raw[i].n);
                if (strcmp(s, raw[i].want) != 0)
                        fail_msg("serial_format row %zu: %s, want %s", i, s, raw[i].want);
                free(s);
        }
        for (size_t i = 0; i < ELEMENTSOF(stored); i++) {
                char *s = serial_normalize(stored[i].in);
                if (strcmp(s, stored[i].want) != 0)
                        fail_msg("serial_normalize '%s': %s, want %s", stored[i].in, s, stored[i].want);
                free(s);
        }
        char *v[] = { (char *)"C4A1", NULL };
        assert_true(serial_in(v, "c4a1"));
        assert_false(serial_in(v, "C4A2"));
        assert_false(serial_in(NULL, "C4A1"));
}

static void test_address_internal_kind(void **state) {
        static const struct {
                const char *addr, *kind;
        } rows[] = {
                { "127.0.0.1", "loopback" },       { "127.255.0.9", "loopback" },
                { "10.1.2.3", "private" },         { "172.16.0.1", "private" },
                { "172.31.255.255", "private" },   { "172.32.0.1", NULL },
                { "192.168.1.1", "private" },      { "169.254.169.254", "link-local" },
                { "100.64.0.1", "shared (CGNAT)" }, { "0.0.0.0", "unspecified" },
                { "224.0.0.1", "multicast" },      { "255.255.255.255", "reserved" },
                { "8.8.8.8", NULL },               { "203.0.113.10", NULL },
                { "::1", "loopback" },             { "::", "unspecified" },
                { "fe80::1", "link-local" },       { "fd12:3456::1", "unique-local" },
                { "fc00::1", "unique-local" },     { "ff02::1", "multicast" },
                { "::ffff:127.0.0.1", "loopback" }, { "::ffff:10.0.0.1", "private" },
                { "::ffff:8.8.8.8", NULL },        { "2001:db8::1", NULL },
                { "2606:4700::1111", NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct sockaddr_storage ss = { 0 };
                const char *kind;
                if (strchr(rows[i].addr, ':')) {
                        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
                        a->sin6_family = AF_INET6;
                        assert_int_equal(inet_pton(AF_INET6, rows[i].addr, &a->sin6_addr), 1);
                } else {
                        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
                        a->sin_family = AF_INET;
                        assert_int_equal(inet_pton(AF_INET, rows[i].addr, &a->sin_addr), 1);
                }
                kind = address_internal_kind((struct sockaddr *)&ss);
                if (!rows[i].kind ? kind != NULL : !kind || strcmp(kind, rows[i].kind) != 0)
                        fail_msg("%s: got %s, want %s", rows[i].addr, kind ? kind : "public",
                                 rows[i].kind ? rows[i].kind : "public");
        }
}

/* Files read while auditing: a FIFO in a file's place is refused at once,
 * not waited on (open() and read() wait for a writer); the alarm turns a
 * wait into a failure. */
static void test_open_regular(void **state) {
        char dir[] = "/tmp/certvigil-test-regular.XXXXXX";
        _cleanup_free_ char *fifo = NULL, *file = NULL;
        FILE *f;
        int fd;

        assert_non_null(mkdtemp(dir));
        fifo = xasprintf("%s/fifo", dir);
        file = xasprintf("%s/file", dir);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(write_file_atomic(file, "x\n", 2), 0);
        alarm(5);
        assert_int_equal(file_open_regular(fifo), -EINVAL);
        assert_string_equal(file_strerror(-EINVAL), "not a regular file");
        assert_null(file_fopen_regular(fifo));
        assert_int_equal(errno, EINVAL);
        assert_int_equal(file_open_regular(dir), -EISDIR);
        assert_int_equal(file_open_regular("/dev/null"), -EINVAL);
        assert_int_equal(file_open_regular("/nonexistent/x"), -ENOENT);
        fd = file_open_regular(file);
        assert_true(fd >= 0);
        close(fd);
        f = file_fopen_regular(file);
        assert_non_null(f);
        assert_int_equal(fgetc(f), 'x');
        fclose(f);
        alarm(0);
        unlink(fifo);
        unlink(file);
        rmdir(dir);
}

/* keyed.h: sorted by a, b (NULL first) and place; a pair's run is found
 * at its first place and holds every equal pair in the order of places. */
static void test_keyed(void **state) {
        struct keyed v[] = {
                { "b", "2", 0 }, { "a", "1", 1 }, { "b", NULL, 2 }, { "a", "1", 3 }, { "b", "2", 4 }, { "a", "0", 5 },
        };
        static const size_t order[] = { 5, 1, 3, 2, 0, 4 };
        size_t n = sizeof(v) / sizeof(v[0]), k;

        (void)state;
        keyed_sort(v, n);
        for (k = 0; k < n; k++)
                assert_int_equal(v[k].at, order[k]);
        k = keyed_find(v, n, "a", "1");
        assert_int_equal(k, 1);
        assert_true(keyed_is(&v[k], "a", "1") && keyed_is(&v[k + 1], "a", "1") && !keyed_is(&v[k + 2], "a", "1"));
        k = keyed_find(v, n, "b", NULL);
        assert_int_equal(v[k].at, 2);
        assert_true(keyed_is(&v[k], "b", NULL) && !keyed_is(&v[k], "b", ""));
        assert_false(keyed_is(&v[keyed_find(v, n, "a", "00")], "a", "00"));
        assert_int_equal(keyed_find(v, n, "c", "0"), n);
        assert_int_equal(keyed_find(v, n, NULL, NULL), 0);
        keyed_sort(NULL, 0);
        assert_int_equal(keyed_find(NULL, 0, "a", "1"), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_duration), cmocka_unit_test(test_int),         cmocka_unit_test(test_escape),
                cmocka_unit_test(test_rfc3339),  cmocka_unit_test(test_format_duration),  cmocka_unit_test(test_atomic_write), cmocka_unit_test(test_atomic_write_pieces), cmocka_unit_test(test_open_regular), cmocka_unit_test(test_strv), cmocka_unit_test(test_strv_copy_linear), cmocka_unit_test(test_address_internal_kind), cmocka_unit_test(test_serial), cmocka_unit_test(test_keyed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
