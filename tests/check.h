/*
 * check.h - the tests' tiny harness: CHECK prints file:line and counts failures,
 * check_close compares arrays and prints the max difference and the first bad values
 * (as llm.c's check_tensor). A test's main returns check_exit().
 */
#ifndef HINER_TEST_CHECK_H
#define HINER_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failures_ = 0;

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                  \
            check_failures_++;                                                               \
        }                                                                                    \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                 \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                  \
            fprintf(stderr, __VA_ARGS__);                                                    \
            fprintf(stderr, "\n");                                                           \
            check_failures_++;                                                               \
        }                                                                                    \
    } while (0)

/* |a - b| <= atol + rtol * |b| elementwise; prints the max diff and up to 5 bad values. */
static inline int check_close(const char *what, const float *a, const float *b, size_t n,
                              double atol, double rtol)
{
    double maxd = 0;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > maxd || isnan(d)) maxd = isnan(d) ? INFINITY : d;
        if (!(d <= atol + rtol * fabs((double)b[i]))) {
            if (bad < 5) fprintf(stderr, "  %s[%zu]: %.8g vs %.8g\n", what, i, a[i], b[i]);
            bad++;
        }
    }
    printf("%-28s n=%-8zu max diff %.3g%s\n", what, n, maxd, bad ? "  FAIL" : "");
    if (bad) check_failures_++;
    return bad == 0;
}

static inline int check_exit(void)
{
    if (check_failures_) fprintf(stderr, "%d check(s) failed\n", check_failures_);
    return check_failures_ ? 1 : 0;
}

#endif
