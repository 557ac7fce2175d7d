/*
 * test_writer_limits.c - the writer refuses, before training, what the reader would refuse
 * (docs/format.md "Limits", docs/robustness.md): a frame whose activations pass the reader's
 * limit, and metadata past the reader's caps on a record's text and on its expansion;
 * metadata within them is written and read back.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../check.h"
#include "hiner.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The library's errors, printed with the test's output. */
static void say(int level, const char *msg, void *user)
{
    (void)user;
    if (level == 0) printf("  library: %s\n", msg);
}

/* The writer refuses, before training, a scene whose file the reader would refuse: a
 * 9000 x 9000 frame needs activations above the 2^26-float limit; 1000 x 1000 does not. */
static void test_plan_limits(void)
{
    hiner_params p;
    CHECK(hiner_params_init(&p, HINER_ABI_VERSION) == HINER_OK);
    p.bpppb = 0.2;
    hiner_plan pl;
    CHECK(hiner_plan_compute(&p, 1000, 1000, 50, &pl) == HINER_OK);
    CHECK(hiner_plan_compute(&p, 9000, 9000, 50, &pl) == HINER_E_LIMIT);
    CHECK(hiner_plan_compute(&p, 60000, 300, 50, &pl) == HINER_E_LIMIT);
}

/* Metadata: the writer replays the reader's limits on what it would store (64 MiB of text
 * per record, 128 MiB once expanded) before training; small metadata is written. */
static void test_metadata_limits(void)
{
    hiner_params p;
    hiner_params_init(&p, HINER_ABI_VERSION);
    enum { W = 2, H = 2, C = 4096, KEY = 40000 };
    float *data = malloc(sizeof(float) * W * H * C);
    const size_t big = (size_t)15 << 20;
    char *v = malloc(big + 1), *key = malloc(KEY + 1);
    hiner_meta_item *items = malloc(C * sizeof *items);
    CHECK(data && v && key && items);
    if (!data || !v || !key || !items) return;
    for (int i = 0; i < W * H * C; i++) data[i] = (float)(i % 17);
    hiner_cube cube = {W, H, C, HINER_FLOAT32, data, NULL, NULL, 0, 0.0, NULL, NULL, NULL};
    p.bpppb = 0; /* band ranges alone take 32 KB */
    p.size_bytes = 400000;
    p.epochs = 1;
    p.log = say;
    memset(v, 'x', big);
    v[big] = 0;
    memset(key, 'k', KEY);
    key[KEY] = 0;
    const char *keys[5] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++) items[i] = (hiner_meta_item){-1, "", keys[i], v};
    hiner_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.items = items;
    meta.n_items = 5; /* five 15 MiB values: 75 MiB in one record */
    void *out = NULL;
    size_t n = 0;
    double t0 = now();
    CHECK(hiner_encode_mem(&cube, &meta, &p, &out, &n, NULL) == HINER_E_LIMIT);
    /* one 40 KB key on each of 4096 bands: 40 KB of record, which a reader expands to
     * 160 MiB (a key per band) */
    for (int b = 0; b < C; b++) items[b] = (hiner_meta_item){b, "", key, "1"};
    meta.n_items = C;
    CHECK(hiner_encode_mem(&cube, &meta, &p, &out, &n, NULL) == HINER_E_LIMIT);
    printf("oversized metadata refused in %.2f s\n", now() - t0);
    /* the same items with 16-byte keys on a 32 x 32 x 8 cube: written and read back */
    key[16] = 0;
    cube.width = cube.height = 32;
    cube.bands = 8;
    meta.n_items = 8;
    p.size_bytes = 0;
    p.bpppb = 4.0;
    p.epochs = 5;
    CHECK(hiner_encode_mem(&cube, &meta, &p, &out, &n, NULL) == HINER_OK);
    hiner_model *m = NULL;
    CHECK(out && hiner_open_mem(out, n, &m) == HINER_OK);
    hiner_meta got;
    CHECK(m && hiner_model_meta(m, &got) == HINER_OK && got.n_items == 8);
    hiner_model_free(m);
    hiner_free(out);
    free(items), free(key), free(v), free(data);
}

int main(void)
{
    test_plan_limits();
    test_metadata_limits();
    return check_exit();
}
