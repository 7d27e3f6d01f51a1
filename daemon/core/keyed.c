/* Sorted arrays of string pairs: see keyed.h. */
#include <stdlib.h>
#include <string.h>

#include "keyed.h"

/* NULL first, then as strcmp(). */
static int strcmp_null(const char *a, const char *b) {
        return !a || !b ? (a != NULL) - (b != NULL) : strcmp(a, b);
}

int keyed_cmp(const void *x, const void *y) {
        const struct keyed *p = x, *q = y;
        int c = strcmp_null(p->a, q->a);

        if (c == 0)
                c = strcmp_null(p->b, q->b);
        return c != 0 ? c : p->at < q->at ? -1 : p->at > q->at;
}

void keyed_sort(struct keyed *v, size_t n) {
        if (n > 0) /* qsort(NULL, 0, ...) is undefined */
                qsort(v, n, sizeof(*v), keyed_cmp);
}

size_t keyed_find(const struct keyed *v, size_t n, const char *a, const char *b) {
        const struct keyed key = { a, b, 0 };
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (keyed_cmp(&v[mid], &key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

bool keyed_is(const struct keyed *k, const char *a, const char *b) {
        return strcmp_null(k->a, a) == 0 && strcmp_null(k->b, b) == 0;
}
