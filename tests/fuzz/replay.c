/*
 * replay.c - the fuzzers' inputs as a ctest test, without libFuzzer: every file of the
 * directories given goes through the three targets' code (the container parser, the whole
 * public reading path of fuzz_common.h, as is and with its chunk CRCs made right as the
 * open target sees it, and fuzz_records' payload decoders). Every file must end in a
 * clean error status or a model that behaves; by name, seed-* (tests/fuzz/corpus/: the
 * corpus must keep following the format) and ok-* must open and decode, and limit-* must
 * be refused with HINER_E_LIMIT.
 * Usage: fuzz_replay DIR...
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>

#include "../../core/codec/container.h"
#include "../check.h"
#include "fuzz_common.h"

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0;
    uint8_t *p = malloc(cap);
    while (p) {
        len += fread(p + len, 1, cap - len, f);
        if (len < cap) break;
        uint8_t *q = realloc(p, cap *= 2);
        if (!q) free(p);
        p = q;
    }
    fclose(f);
    *n = len;
    return p;
}

static int replay(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t n = 0;
    uint8_t *raw = slurp(path, &n);
    if (!raw) {
        CHECK_MSG(0, "cannot read %s", path);
        return 0;
    }
    uint8_t *fixed = malloc(n ? n : 1);
    memcpy(fixed, raw, n);
    fuzz_fix_crcs(fixed, n);
    hn_chunk ch[64];
    size_t count;
    int major, minor;
    hn_container_parse(raw, n, ch, 64, &count, &major, &minor);
    hn_container_parse(fixed, n, ch, 64, &count, &major, &minor);
    fuzz_records_one(raw, n);
    int st_raw = fuzz_exercise(raw, n), st_fixed = fuzz_exercise(fixed, n);
    int must_open = !strncmp(name, "seed-", 5) || !strncmp(name, "ok-", 3);
    int must_limit = !strncmp(name, "limit-", 6);
    printf("%-44s %6zu bytes: %s; CRCs fixed: %s\n", name, n,
           st_raw > 0 ? "MISBEHAVED" : hiner_status_str(st_raw),
           st_fixed > 0 ? "MISBEHAVED" : hiner_status_str(st_fixed));
    for (int i = 0; i < 2; i++) {
        int st = i ? st_fixed : st_raw;
        CHECK_MSG(st <= 0, "%s: a call on the opened model misbehaved (%d)", name, st);
        CHECK_MSG(st >= 0 || fuzz_clean_open_status(st), "%s: %s is not a documented status",
                  name, hiner_status_str(st));
    }
    if (must_open) CHECK_MSG(st_raw == HINER_OK, "%s no longer opens", name);
    if (must_limit) CHECK_MSG(st_raw == HINER_E_LIMIT, "%s: %s, expected HINER_E_LIMIT", name,
                              hiner_status_str(st_raw));
    free(raw);
    free(fixed);
    return 1;
}

int main(int argc, char **argv)
{
    int files = 0;
    for (int a = 1; a < argc; a++) {
        DIR *d = opendir(argv[a]);
        if (!d) {
            CHECK_MSG(0, "cannot open directory %s", argv[a]);
            continue;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (e->d_name[0] != '.') files += replay(argv[a], e->d_name);
        closedir(d);
    }
    printf("%d files replayed\n", files);
    CHECK(files > 0);
    return check_exit();
}
