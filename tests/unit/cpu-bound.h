/* CPU-time bounds for the unit tests that catch a quadratic cost. The
 * bounds are generous (a linear run takes a small fraction of them), and
 * CERTVIGIL_TEST_CPU_SCALE multiplies them for runs whose slowdown is not
 * the code's (e.g. 50 under valgrind). Include after cmocka.h. */
#pragma once

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "util.h"

/* The CPU time this process has used. */
static inline uint64_t test_cpu_usec(void) {
        struct timespec ts;

        assert_int_equal(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

/* Says what was measured, and fails the test when spent exceeds the bound. */
static inline void test_cpu_within(const char *what, uint64_t spent_usec, uint64_t bound_usec) {
        const char *s = getenv("CERTVIGIL_TEST_CPU_SCALE");
        uint64_t scale = s && *s ? strtoull(s, NULL, 10) : 1;

        if (scale == 0)
                scale = 1;
        uint64_t spent_ms = spent_usec / USEC_PER_MSEC, bound_ms = bound_usec * scale / USEC_PER_MSEC;

        print_message("%s: %" PRIu64 " ms of CPU\n", what, spent_ms);
        if (spent_usec > bound_usec * scale)
                fail_msg("%s took %" PRIu64 " ms of CPU, more than %" PRIu64 ": not linear", what, spent_ms,
                         bound_ms);
}
