/* Sorted arrays of string pairs, each with the place it stands for: an
 * index from (a, b) to places in O(log n), where comparing every pair
 * made an audit of thousands of endpoints or findings quadratic. Used by
 * the checks' grouping, the alert state and the reporters. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The strings are borrowed: they must outlive the array. NULL sorts first. */
struct keyed {
        const char *a, *b;
        size_t at;
};

/* By a, then b, then at: equal pairs keep the order of their places. */
int keyed_cmp(const void *x, const void *y);
void keyed_sort(struct keyed *v, size_t n);
/* The first entry of v (sorted) not below (a, b): the run of equal ones
 * starts there; n when there is none. */
size_t keyed_find(const struct keyed *v, size_t n, const char *a, const char *b);
/* k holds the pair (a, b). */
bool keyed_is(const struct keyed *k, const char *a, const char *b);
