/* cli: the option table. Each command accepts its own rows only, each row's
 * parser fills its field, and what no single option decides is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "journal.h"
#include "util.h"

#define ARGS_MAX 12

/* argv as cli_parse gets it: the command first. args ends at NULL or
 * after ARGS_MAX. */
static int parse(const char *cmd, const char *const *args, struct cli_options *o) {
        char *argv[ARGS_MAX + 2] = { (char *)cmd };
        int argc = 1, r;

        for (; argc <= ARGS_MAX && args[argc - 1]; argc++)
                argv[argc] = (char *)args[argc - 1];
        *o = (struct cli_options){ 0 };
        r = cli_parse(argc, argv, cmd, o);
        /* getopt's messages name the command through argv[0] while parsing;
         * afterwards argv[0] must not point into cli_parse's stack. */
        assert_ptr_equal(argv[0], cmd);
        return r;
}

static void test_accepted(void **state) {
        static const struct {
                const char *cmd;
                const char *args[ARGS_MAX];
                int ret;
        } rows[] = {
                { "audit", { "-c", "x.yaml", "--trust", "system", "--format", "json", "-q" }, 0 },
                { "audit", { "--base-domain", "a.example", "--separator", "-", "--mode", "provided" }, 0 },
                { "audit", { "--dry-run", "--fail-on", "never", "--color", "-o", "-" }, 0 },
                { "audit", { "--listen", "9731" }, EXIT_UNUSABLE },
                { "audit", { "--log-target", "stderr" }, EXIT_UNUSABLE },
                { "audit", { "--format", "xml" }, EXIT_UNUSABLE },
                { "audit", { "--no-renew", "--dry-run" }, EXIT_UNUSABLE },
                { "audit", { "--separator", "-" }, EXIT_UNUSABLE },
                { "audit", { "-c", "x", "--values", "y" }, EXIT_UNUSABLE },
                { "audit", { "--timeout", "0" }, EXIT_UNUSABLE },
                { "audit", { "--port", "65536" }, EXIT_UNUSABLE },
                { "audit", { "--state-dir", "" }, EXIT_UNUSABLE },
                { "audit", { "extra" }, EXIT_UNUSABLE },
                { "audit", { "--help" }, 1 },
                { "plan", { "--values", "v.yaml", "--format", "json", "--port", "8443", "--shard", "1/2" }, 0 },
                { "plan", { "--format", "junit" }, EXIT_UNUSABLE },
                { "plan", { "--trust", "system" }, EXIT_UNUSABLE },
                { "plan", { "--state-dir", "/s" }, EXIT_UNUSABLE },
                { "plan", { "-v" }, EXIT_UNUSABLE },
                { "plan", { "-h" }, 1 },
                { "daemon", { "--listen", "127.0.0.1:9731", "--log-target", "stderr", "--no-renew" }, 0 },
                { "daemon", { "--state-dir", "/s", "--resolver", "system", "--dns-port", "5353" }, 0 },
                { "daemon", { "--base-domain", "a.example" }, EXIT_UNUSABLE },
                { "daemon", { "--dry-run" }, EXIT_UNUSABLE },
                { "daemon", { "--journal" }, EXIT_UNUSABLE },
                { "daemon", { "-q" }, EXIT_UNUSABLE },
                { "daemon", { "--log-target", "syslog" }, EXIT_UNUSABLE },
                { "daemon", { "--help" }, 1 },
                { "daemon", { "--format", "prometheus", "-o", "/var/lib/x.prom" }, 0 },
                { "daemon", { "-o", "x.json" }, 0 },
                { "daemon", { "--format", "json" }, EXIT_UNUSABLE },
                { "daemon", { "--format", "text", "-o", "x" }, EXIT_UNUSABLE },
                { "daemon", { "--format", "junit", "-o", "x" }, EXIT_UNUSABLE },
                /* check: one HOST, its own options, none that reads a
                 * config or touches state. */
                { "check", { "api.example.com", "--wildcard", "*.example.com", "--trust", "system", "-q" }, 0 },
                { "check", { "--resolver", "127.0.0.1:53", "127.0.0.1:8443", "--format", "junit", "-o", "-" }, 0 },
                { "check", { "a.example", "--timeout", "2s", "--deadline", "1m", "--fail-on", "never", "--color" }, 0 },
                { "check", { "--help" }, 1 },
                { "check", { NULL }, EXIT_UNUSABLE },
                { "check", { "a.example", "b.example" }, EXIT_UNUSABLE },
                { "check", { "a.example", "--port", "443" }, EXIT_UNUSABLE },
                { "check", { "a.example", "--dns-port", "53" }, EXIT_UNUSABLE },
                { "check", { "a.example", "-c", "x.yaml" }, EXIT_UNUSABLE },
                { "check", { "a.example", "--values", "v.yaml" }, EXIT_UNUSABLE },
                { "check", { "a.example", "--base-domain", "a.example" }, EXIT_UNUSABLE },
                { "check", { "a.example", "--platform", "p" }, EXIT_UNUSABLE },
                { "check", { "a.example", "--shard", "1/2" }, EXIT_UNUSABLE },
                { "check", { "a.example", "--state-dir", "/s" }, EXIT_UNUSABLE },
                { "check", { "a.example", "--journal" }, EXIT_UNUSABLE },
                { "check", { "a.example", "--no-renew" }, EXIT_UNUSABLE },
                { "check", { "a.example", "--dry-run" }, EXIT_UNUSABLE },
                { "audit", { "--wildcard", "*.example.com" }, EXIT_UNUSABLE },
                { "audit", { "a.example" }, EXIT_UNUSABLE },
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct cli_options o;
                int r = parse(rows[i].cmd, rows[i].args, &o);
                if (r != rows[i].ret)
                        fail_msg("row %zu (%s %s ...): expected %d, got %d", i, rows[i].cmd, rows[i].args[0],
                                 rows[i].ret, r);
                cli_options_done(&o);
        }
}

/* Each row's parser fills its own field. */
static void test_fields(void **state) {
        struct cli_options o;

        assert_int_equal(parse("audit",
                               (const char *const[]){ "-c", "x.yaml", "--resolver", "system", "--resolver",
                                                      "127.0.0.1:53", "--timeout", "2s", "--no-color", "-v", NULL },
                               &o),
                         0);
        assert_string_equal(o.config, "x.yaml");
        assert_non_null(o.ov.resolvers);
        assert_string_equal(o.ov.resolvers[0], "127.0.0.1:53");
        assert_null(o.ov.resolvers[1]);
        assert_int_equal(o.ov.timeout_usec, 2 * USEC_PER_SEC);
        assert_int_equal(o.color, 0);
        assert_int_equal(o.verbosity, 1);
        assert_int_equal(o.fail_on, SEVERITY_WARNING);
        cli_options_done(&o);

        assert_int_equal(parse("plan",
                               (const char *const[]){ "--platform", "a", "--platform", "b", "--format", "json",
                                                      "--dns-zone", "z.example", "--base-domain", "a.example", NULL },
                               &o),
                         0);
        assert_string_equal(o.ov.only_platforms[1], "b");
        assert_int_equal(o.format, REPORT_JSON);
        assert_string_equal(o.dns_zone, "z.example");
        assert_int_equal(o.color, -1);
        cli_options_done(&o);

        assert_int_equal(parse("daemon", (const char *const[]){ "--state-dir", "/s", "--log-target", "stderr", NULL },
                               &o),
                         0);
        assert_string_equal(o.state_dir, "/s");
        assert_int_equal(o.log_target, JOURNAL_TARGET_STDERR);
        cli_options_done(&o);

        /* CERTVIGIL_SHARD splits platforms, never a check's one host. */
        setenv("CERTVIGIL_SHARD", "2/2", 1);
        assert_int_equal(parse("check",
                               (const char *const[]){ "--wildcard", "*.example.com", "[::1]:8443", "--format", "json",
                                                      NULL },
                               &o),
                         0);
        unsetenv("CERTVIGIL_SHARD");
        assert_string_equal(o.host, "[::1]:8443");
        assert_string_equal(o.wildcard, "*.example.com");
        assert_int_equal(o.format, REPORT_JSON);
        assert_int_equal(o.ov.shard.count, 0);
        assert_null(o.state_dir);
        cli_options_done(&o);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_accepted),
                cmocka_unit_test(test_fields),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
