/* fleet: shard parsing, which shard owns a platform (and how few move when
 * a shard is added), the listen address. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "fleet.h"
#include "util.h"

static void test_shard_parse(void **state) {
        static const struct {
                const char *in;
                int ret;
                unsigned index, count;
        } rows[] = {
                { "1/1", 0, 1, 1 },       { "2/3", 0, 2, 3 },        { "3/3", 0, 3, 3 },
                { "1024/1024", 0, 1024, 1024 },
                { "0/3", -EINVAL, 0, 0 }, { "4/3", -EINVAL, 0, 0 },  { "1/0", -EINVAL, 0, 0 },
                { "1/1025", -EINVAL, 0, 0 }, { "1", -EINVAL, 0, 0 }, { "/3", -EINVAL, 0, 0 },
                { "1/", -EINVAL, 0, 0 },  { "-1/3", -EINVAL, 0, 0 }, { "1/3x", -EINVAL, 0, 0 },
                { " 1/3", -EINVAL, 0, 0 }, { "1/3/4", -EINVAL, 0, 0 }, { "", -EINVAL, 0, 0 },
                { "1-3", -EINVAL, 0, 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct shard s = { 77, 77 };
                int r = shard_parse(rows[i].in, &s);
                if (r != rows[i].ret)
                        fail_msg("'%s': expected %d, got %d", rows[i].in, rows[i].ret, r);
                if (r == 0 && (s.index != rows[i].index || s.count != rows[i].count))
                        fail_msg("'%s': got %u/%u", rows[i].in, s.index, s.count);
                if (r < 0 && (s.index != 77 || s.count != 77))
                        fail_msg("'%s': output written on failure", rows[i].in);
        }
}

/* The assignment is part of the interface: these rows pin it, so a change
 * of hash (which would move platforms between running instances) fails. */
static void test_shard_stable(void **state) {
        static const struct {
                const char *name;
                unsigned count, shard;
        } rows[] = {
                { "prod", 1, 1 }, { "prod", 3, 2 }, { "staging", 3, 2 }, { "lab", 3, 1 }, { "demo", 3, 3 },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                unsigned got = shard_of(rows[i].name, rows[i].count);
                assert_true(got >= 1 && got <= rows[i].count);
                if (got != rows[i].shard)
                        fail_msg("%s of %u: expected shard %u, got %u", rows[i].name, rows[i].count, rows[i].shard, got);
                assert_int_equal(shard_of(rows[i].name, rows[i].count), got);
        }
}

/* Every platform has exactly one owner, shards are roughly even, and going
 * from N to N+1 shards moves only platforms to the new shard, about 1/(N+1). */
static void test_shard_moves(void **state) {
        enum { PLATFORMS = 3000 };
        for (unsigned n = 1; n < 8; n++) {
                unsigned moved = 0, per[9] = { 0 };
                for (unsigned i = 0; i < PLATFORMS; i++) {
                        char name[32];
                        snprintf(name, sizeof(name), "customer-%u", i);
                        unsigned before = shard_of(name, n), after = shard_of(name, n + 1), owners = 0;
                        for (unsigned k = 1; k <= n + 1; k++)
                                owners += shard_owns(&(struct shard){ k, n + 1 }, name);
                        assert_int_equal(owners, 1);
                        per[after]++;
                        if (before != after) {
                                if (after != n + 1)
                                        fail_msg("%s moved from %u to %u going to %u shards", name, before, after, n + 1);
                                moved++;
                        }
                }
                double share = (double)moved / PLATFORMS, expect = 1.0 / (n + 1);
                if (share < expect * 0.8 || share > expect * 1.2)
                        fail_msg("%u -> %u shards moved %.3f of the platforms, expected about %.3f", n, n + 1, share,
                                 expect);
                for (unsigned k = 1; k <= n + 1; k++)
                        if (per[k] < PLATFORMS / (n + 1) * 0.8 || per[k] > PLATFORMS / (n + 1) * 1.2)
                                fail_msg("shard %u of %u owns %u of %u", k, n + 1, per[k], PLATFORMS);
        }
        assert_true(shard_owns(NULL, "x"));
        assert_true(shard_owns(&(struct shard){ 0, 0 }, "x"));
}

static void test_listen_parse(void **state) {
        static const struct {
                const char *in;
                int ret;
                const char *addr;
                uint16_t port;
        } rows[] = {
                { "127.0.0.1:9731", 0, "127.0.0.1", 9731 }, { "9731", 0, "127.0.0.1", 9731 },
                { ":9731", 0, "127.0.0.1", 9731 },          { "[::1]:9731", 0, "::1", 9731 },
                { "0.0.0.0:9731", 0, "0.0.0.0", 9731 },     { "[::]:80", 0, "::", 80 },
                { "127.0.0.1:0", 0, "127.0.0.1", 0 },       { "10.1.2.3:65535", 0, "10.1.2.3", 65535 },
                { "localhost:9731", -EINVAL, NULL, 0 },     { "::1:9731", -EINVAL, NULL, 0 },
                { "[::1]", -EINVAL, NULL, 0 },              { "127.0.0.1:", -EINVAL, NULL, 0 },
                { "127.0.0.1:65536", -EINVAL, NULL, 0 },    { "127.0.0.1", -EINVAL, NULL, 0 },
                { "", -EINVAL, NULL, 0 },                   { "1.2.3.4:-1", -EINVAL, NULL, 0 },
                { "[::1]:9x", -EINVAL, NULL, 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                char *addr = NULL;
                uint16_t port = 1;
                int r = listen_parse(rows[i].in, &addr, &port);
                if (r != rows[i].ret)
                        fail_msg("'%s': expected %d, got %d", rows[i].in, rows[i].ret, r);
                if (r == 0 && (strcmp(addr, rows[i].addr) != 0 || port != rows[i].port))
                        fail_msg("'%s': got %s port %u", rows[i].in, addr, port);
                if (r < 0 && addr)
                        fail_msg("'%s': output written on failure", rows[i].in);
                free(addr);
        }
}

/* shard: and listen: at the top of the config; the shard filters the
 * platforms when the overrides are applied, and --shard wins. */
static void test_config_keys(void **state) {
        static const char *text = "listen: 9731\nshard: 2/2\nplatforms:\n"
                                  "  - { name: a, global: { baseDomain: a.example.test } }\n"
                                  "  - { name: b, global: { baseDomain: b.example.test } }\n"
                                  "  - { name: c, global: { baseDomain: c.example.test } }\n"
                                  "  - { name: d, global: { baseDomain: d.example.test } }\n";
        struct config *c = NULL;
        char *error = NULL;
        struct config_overrides ov = { 0 };
        size_t total = 0;

        for (unsigned k = 1; k <= 2; k++) {
                assert_int_equal(config_load_string(text, "t.yaml", NULL, &c, &error), 0);
                assert_string_equal(c->listen_addr, "127.0.0.1");
                assert_int_equal(c->listen_port, 9731);
                assert_int_equal(c->shard.index, 2);
                ov.shard = (struct shard){ k, 2 };
                assert_int_equal(config_apply_overrides(c, &ov, &error), 0);
                for (size_t i = 0; i < c->n_platforms; i++)
                        assert_int_equal(shard_of(c->platforms[i]->name, 2), k);
                total += c->n_platforms;
                c = config_free(c);
        }
        assert_int_equal(total, 4);

        static const char *bad[] = { "shard: 3/2\nplatforms: []\n", "listen: example.com:80\nplatforms: []\n",
                                     "listen: [1]\nplatforms: []\n" };
        static const char *why[] = { "t.yaml:1:8: invalid shard '3/2'", "t.yaml:1:9: invalid listen 'example.com:80'",
                                     "t.yaml:1:9: " };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(config_load_string(bad[i], "t.yaml", NULL, &c, &error), -EINVAL);
                if (strncmp(error, why[i], strlen(why[i])) != 0)
                        fail_msg("'%s': got '%s'", bad[i], error);
                error = mfree(error);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shard_parse),
                cmocka_unit_test(test_shard_stable),
                cmocka_unit_test(test_shard_moves),
                cmocka_unit_test(test_listen_parse),
                cmocka_unit_test(test_config_keys),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
