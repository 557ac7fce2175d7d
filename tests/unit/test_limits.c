/*
 * test_limits.c - hostile files against the reader's limits (docs/format.md "Limits",
 * docs/robustness.md "Memory"): every declared size is refused with the documented status
 * before anything large is allocated, a 20-byte file claiming a billion bands fails at once
 * in a few MB, metadata cannot expand beyond its cap, and decoding stays within the stated
 * bound. Each open runs in a child process under RLIMIT_AS (address space = what it has +
 * the budget), so an allocation beyond the budget shows as HINER_E_NOMEM (or a crash)
 * instead of passing unnoticed. Under AddressSanitizer (which reserves terabytes of
 * address space) the budgets are not enforced; the statuses still are.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "../fuzz/craft.h"
#include "../fuzz/fuzz_common.h"

#ifndef HINER_SOURCE_DIR
#define HINER_SOURCE_DIR "."
#endif

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#ifndef HAVE_ASAN
#define HAVE_ASAN 0
#endif

#define MB ((size_t)1 << 20)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Address space in use by this process, bytes. */
static size_t vm_size(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1) pages = 0;
        fclose(f);
    }
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* Caps the address space at what is in use + budget (soft limit only, so it can be lifted
 * again); 0 when the cap could not be set (or under ASan). */
static int cap_memory(size_t budget)
{
    if (HAVE_ASAN) return 0;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0) return 0;
    rl.rlim_cur = (rlim_t)(vm_size() + budget);
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max) rl.rlim_cur = rl.rlim_max;
    return setrlimit(RLIMIT_AS, &rl) == 0;
}

static void uncap_memory(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_AS, &rl);
    }
}

typedef struct job {
    const uint8_t *p;
    size_t n;
    int decode;     /* 0 open only; 1 also decode band 0 and a wavelength */
    size_t budget;  /* bytes of address space on top of what the child has */
    int threads;    /* decoding threads (0: the default) */
} job;

typedef struct outcome {
    int status;     /* of the open, or of the first failing decode */
    int crashed;    /* the child died from a signal */
    double seconds;
} outcome;

static int run_job(const job *j)
{
    hiner_model *m = NULL;
    int st = hiner_open_mem(j->p, j->n, &m);
    if (st == HINER_OK && j->threads) st = hiner_model_set_threads(m, j->threads);
    if (st == HINER_OK && j->decode) {
        hiner_info in;
        hiner_model_info(m, &in);
        float *out = malloc((size_t)in.width * in.height * sizeof(float));
        st = out ? hiner_model_decode_band(m, 0, out) : HINER_E_NOMEM;
        if (st == HINER_OK && in.has_encoder)
            st = hiner_model_decode_wavelength(m, 0.5 * (in.wavelength_min + in.wavelength_max),
                                               out);
        free(out);
    }
    hiner_model_free(m);
    return st;
}

/* Runs the job in a child under its memory budget. */
static outcome in_child(const job *j)
{
    outcome o = {HINER_E_GENERIC, 0, 0.0};
    int fd[2];
    if (pipe(fd) != 0) return o;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        cap_memory(j->budget);
        double t0 = now();
        int st = run_job(j);
        double res[2] = {(double)st, now() - t0};
        ssize_t w = write(fd[1], res, sizeof res);
        _exit(w == (ssize_t)sizeof res ? 0 : 1);
    }
    close(fd[1]);
    double res[2];
    ssize_t r = read(fd[0], res, sizeof res);
    close(fd[0]);
    int ws = 0;
    waitpid(pid, &ws, 0);
    if (WIFSIGNALED(ws) || r != (ssize_t)sizeof res) {
        o.crashed = 1;
        return o;
    }
    o.status = (int)res[0];
    o.seconds = res[1];
    return o;
}

static outcome expect(const char *what, const uint8_t *p, size_t n, int want, size_t budget)
{
    job j = {p, n, 0, budget, 0};
    outcome o = in_child(&j);
    printf("%-52s %-24s %7.3f s (budget %zu MB)\n", what,
           o.crashed ? "CRASHED" : hiner_status_str(o.status), o.seconds, budget / MB);
    CHECK_MSG(!o.crashed, "%s: the child crashed", what);
    CHECK_MSG(o.crashed || o.status == want, "%s: %s, expected %s", what,
              hiner_status_str(o.status), hiner_status_str(want));
    return o;
}

/* Finds chunk `type` in a stream; its payload offset, or 0. */
static size_t chunk_at(const hn_buf *f, const char *type)
{
    size_t pos = 16;
    while (pos + 16 <= f->n) {
        uint32_t len = hn_read_le32(f->p + pos + 8);
        if (memcmp(f->p + pos, type, 4) == 0) return pos + 12;
        pos += 16 + (size_t)len;
    }
    return 0;
}

/* Overwrites bytes of a chunk's payload and makes its CRC right again. */
static void patch(hn_buf *f, const char *type, size_t off, const void *v, size_t n)
{
    size_t at = chunk_at(f, type);
    CHECK(at != 0);
    if (at) memcpy(f->p + at + off, v, n);
    fuzz_fix_crcs(f->p, f->n);
}

/* ---- 1. a billion bands ---- */

static void test_billion_bands(void)
{
    craft c;
    craft_init(&c, 16, 16, 1000000000u);
    c.band_dummy = 1;
    hn_buf f;
    craft_build(&f, &c, NULL, 0);
    outcome o = expect("20-byte file (header, then 'INFO')", f.p, 20, HINER_E_TRUNCATED, 4 * MB);
    CHECK(o.seconds < 0.05);
    o = expect("INFO claiming 1e9 bands", f.p, f.n, HINER_E_LIMIT, 4 * MB);
    CHECK(o.seconds < 0.05);
    /* the same INFO alone, then END!: nothing else is looked at */
    hn_buf g, info;
    hn_buf_init(&g), hn_buf_init(&info);
    hn_file_header(&g);
    craft_info(&info, &c);
    hn_chunk_put(&g, "INFO", 1, info.p, info.n);
    hn_chunk_put(&g, "END!", 1, NULL, 0);
    o = expect("INFO (1e9 bands) + END!, 82 bytes", g.p, g.n, HINER_E_LIMIT, 4 * MB);
    CHECK(g.n == 82 && o.seconds < 0.05);
    hn_buf_free(&g), hn_buf_free(&info), hn_buf_free(&f);
}

/* ---- 2. every declared size against its limit ---- */

typedef struct field_case {
    const char *what;
    void (*set)(craft *c);
    const char *chunk; /* patched after building (NULL: none) */
    size_t off;
    uint8_t val;
    int want;
} field_case;

static void set_w(craft *c) { c->W = 65536; }
static void set_h0(craft *c) { c->H = 0; }
static void set_c(craft *c) { c->C = 65536; }
static void set_dtype(craft *c) { c->dtype = 9; }
static void set_tiles(craft *c) { c->tiles = 2; }
static void set_stride(craft *c) { c->plan.strides[0] = 17; }
static void set_kernel(craft *c) { c->plan.kernels[0] = 9; }
static void set_kernel_even(craft *c) { c->plan.kernels[0] = 2; }
static void set_width(craft *c) { c->plan.widths[1] = 4097; }
static void set_width0(craft *c) { c->plan.widths[0] = 0; }
static void set_ech(craft *c) { c->plan.embed_channels = 257; }
static void set_eside(craft *c) { c->plan.embed_height = 65; }
static void set_freqs(craft *c) { c->plan.enc_freqs = 257; }
static void set_hidden(craft *c) { c->plan.enc_hidden = 4097; }
static void set_base(craft *c) { c->plan.enc_base = 5.0f; }
static void set_lam(craft *c) { c->lam_mode = 2; }
static void set_lam_nan(craft *c) { c->lam_scale = NAN; }
static void set_pad(craft *c) { c->plan.pad_width += 2; }
static void set_extent(craft *c) { c->plan.pad_left = c->plan.pad_width; }
static void set_act(craft *c) /* 3 stages of 16 over a 1 x 1 embedding: 2^27 floats */
{
    c->W = c->H = 4096;
    const int s[3] = {16, 16, 16}, w[4] = {8, 8, 8, 8};
    craft_stack(c, 3, s, w);
}
static void set_params(craft *c) /* 4096 x 4096 x 3 x 3 weights */
{
    const int s[1] = {1}, w[2] = {4096, 4096};
    craft_stack(c, 1, s, w);
}
static void set_embed(craft *c) /* 65535 bands x 8 x 6 x 8 */
{
    c->C = 65535;
    c->plan.embed_channels = 8;
}

static void test_fields(void)
{
    const field_case cases[] = {
        {"INFO width 65536", set_w, NULL, 0, 0, HINER_E_LIMIT},
        {"INFO height 0", set_h0, NULL, 0, 0, HINER_E_CORRUPT},
        {"INFO bands 65536", set_c, NULL, 0, 0, HINER_E_LIMIT},
        {"INFO data type 9", set_dtype, NULL, 0, 0, HINER_E_CORRUPT},
        {"INFO tile count 2 in a version 1.1 file", set_tiles, NULL, 0, 0, HINER_E_CORRUPT},
        {"ARCH 7 stages", NULL, "ARCH", 44, 7, HINER_E_LIMIT},
        {"ARCH 0 stages", NULL, "ARCH", 44, 0, HINER_E_LIMIT},
        {"ARCH stride 17", set_stride, NULL, 0, 0, HINER_E_LIMIT},
        {"ARCH kernel 9", set_kernel, NULL, 0, 0, HINER_E_LIMIT},
        {"ARCH kernel 2 (even)", set_kernel_even, NULL, 0, 0, HINER_E_LIMIT},
        {"ARCH width 4097", set_width, NULL, 0, 0, HINER_E_LIMIT},
        {"ARCH width0 0", set_width0, NULL, 0, 0, HINER_E_LIMIT},
        {"ARCH embedding channels 257", set_ech, NULL, 0, 0, HINER_E_LIMIT},
        {"ARCH embedding side 65", set_eside, NULL, 0, 0, HINER_E_LIMIT},
        {"ARCH enc_freqs 257", set_freqs, NULL, 0, 0, HINER_E_LIMIT},
        {"ARCH enc_hidden 4097", set_hidden, NULL, 0, 0, HINER_E_LIMIT},
        {"ARCH enc_base 5", set_base, NULL, 0, 0, HINER_E_CORRUPT},
        {"ARCH head kernel 5", NULL, "ARCH", 49, 5, HINER_E_VERSION},
        {"ARCH lambda mode 2", set_lam, NULL, 0, 0, HINER_E_CORRUPT},
        {"ARCH lambda scale NaN", set_lam_nan, NULL, 0, 0, HINER_E_CORRUPT},
        {"ARCH padding != embedding x strides", set_pad, NULL, 0, 0, HINER_E_CORRUPT},
        {"ARCH extent outside the padding", set_extent, NULL, 0, 0, HINER_E_CORRUPT},
        {"ARCH activation 2^27 floats", set_act, NULL, 0, 0, HINER_E_LIMIT},
        {"ARCH 151M decoder weights", set_params, NULL, 0, 0, HINER_E_LIMIT},
        {"ARCH 25M embedding values", set_embed, NULL, 0, 0, HINER_E_LIMIT},
        {"DECO tensor count 3", NULL, "DECO", 5, 3, HINER_E_CORRUPT},
        {"DECO entropy method 3", NULL, "DECO", 4, 3, HINER_E_VERSION},
        {"DECO 17 bits", NULL, "DECO", 7, 17, HINER_E_CORRUPT},
        {"DECO side mode 2", NULL, "DECO", 8, 2, HINER_E_CORRUPT},
        {"DECO min = NaN", NULL, "DECO", 10, 0x7e, HINER_E_CORRUPT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const field_case *fc = &cases[i];
        craft c;
        craft_init(&c, 16, 12, 5);
        c.band_dummy = 1; /* every case fails before BAND is read */
        if (fc->set) fc->set(&c);
        if (fc->chunk && !strcmp(fc->chunk, "DECO")) c.band_dummy = 0;
        hn_buf f;
        craft_build(&f, &c, NULL, 0);
        if (fc->chunk) patch(&f, fc->chunk, fc->off, &fc->val, 1);
        outcome o = expect(fc->what, f.p, f.n, fc->want, 16 * MB);
        CHECK(o.seconds < 0.5);
        hn_buf_free(&f);
    }
    /* the untouched stream opens and decodes: the cases above differ by one field */
    craft c;
    craft_init(&c, 16, 12, 5);
    hn_buf f;
    craft_build(&f, &c, NULL, 0);
    job j = {f.p, f.n, 1, 16 * MB, 0};
    outcome o = in_child(&j);
    CHECK_MSG(!o.crashed && o.status == HINER_OK, "the crafted base stream: %s",
              hiner_status_str(o.status));
    hn_buf_free(&f);
}

/* ---- 3. framing and text fields ---- */

static void test_framing_and_text(void)
{
    craft c;
    craft_init(&c, 16, 12, 5);
    hn_buf f;
    craft_build(&f, &c, NULL, 0);
    /* a chunk length beyond the bytes that remain */
    hn_buf g = {0};
    hn_buf_put(&g, f.p, f.n);
    size_t at = chunk_at(&g, "BAND");
    hn_write_le32(g.p + at - 4, 0x7fffffffu);
    expect("BAND length 2^31 - 1 in a small file", g.p, g.n, HINER_E_TRUNCATED, 4 * MB);
    hn_buf_free(&g);
    hn_buf_free(&f);

    /* 65 chunks */
    hn_buf empty = {0};
    craft_chunk many[59];
    for (int i = 0; i < 59; i++) many[i] = (craft_chunk){"zzzz", 0, &empty};
    craft_build(&f, &c, many, 59);
    expect("65 chunks (64 allowed)", f.p, f.n, HINER_E_LIMIT, 4 * MB);
    hn_buf_free(&f);
    craft_build(&f, &c, many, 58);
    expect("64 chunks, unknown ones not critical", f.p, f.n, HINER_OK, 16 * MB);
    hn_buf_free(&f);
    many[0].critical = 1;
    craft_build(&f, &c, many, 1);
    expect("an unknown critical chunk", f.p, f.n, HINER_E_VERSION, 4 * MB);
    hn_buf_free(&f);

    /* text fields: a declared length over 64 MiB, and one the input cannot hold */
    hn_buf t = {0};
    hn_buf_uvar(&t, ((uint64_t)64 << 20) + 1);
    hn_buf_put(&t, "\0\0\0\0\0\0\0\0", 8);
    craft_chunk trng = {"TRNG", 0, &t};
    craft_build(&f, &c, &trng, 1);
    expect("TRNG text of 64 MiB + 1", f.p, f.n, HINER_E_LIMIT, 16 * MB);
    hn_buf_free(&f), hn_buf_free(&t);
    hn_buf_uvar(&t, (uint64_t)60 << 20);
    hn_buf_put(&t, "\0\0\0\0\0\0\0\0", 8);
    craft_build(&f, &c, &trng, 1);
    expect("TRNG text of 60 MiB from 8 bytes", f.p, f.n, HINER_E_TRUNCATED, 16 * MB);
    hn_buf_free(&f), hn_buf_free(&t);

    /* a per-band mask beyond 4 GiB: 257 bands of 8192 x 8192 */
    craft_init(&c, 8192, 8192, 257);
    const int s[3] = {16, 16, 16}, w[4] = {1, 1, 1, 1};
    craft_stack(&c, 3, s, w);
    c.plan.embed_height = c.plan.embed_width = 2;
    c.plan.pad_width = c.plan.pad_height = 8192;
    c.plan.pad_left = c.plan.pad_top = 0;
    c.flags = 2;
    hn_buf mask = {0};
    hn_buf_u8(&mask, 1);
    hn_buf_put(&mask, "\0\0\0\0\0\0\0\0\0\0", 10);
    craft_chunk cm = {"MASK", 1, &mask};
    craft_build(&f, &c, &cm, 1);
    expect("per-band mask of 257 x 8192 x 8192 bytes", f.p, f.n, HINER_E_LIMIT, 64 * MB);
    hn_buf_free(&f), hn_buf_free(&mask);
}

/* ---- 4. metadata that would expand far beyond its size ---- */

static void test_metadata_expansion(void)
{
    /* META: two band columns whose 60 KB keys a naive reader copies for each of 4096 bands
     * (~500 MB from 120 KB of text); the reader caps the metadata it keeps */
    enum { C = 4096, KEY = 60000 };
    hn_buf rec = {0};
    hn_buf_uvar(&rec, 0); /* no dataset item */
    hn_buf_u8(&rec, 0);   /* no descriptions */
    hn_buf_u8(&rec, 0);   /* no colour interpretation */
    hn_buf_uvar(&rec, 2);
    char *key = malloc(KEY + 1);
    uint8_t pres[C / 8], zeros[C];
    memset(key, 'k', KEY);
    key[KEY] = 0;
    memset(pres, 0xff, sizeof pres);
    memset(zeros, 0, sizeof zeros);
    for (int col = 0; col < 2; col++) {
        hn_buf_u8(&rec, 0); /* domain "" */
        key[0] = (char)('a' + col);
        hn_buf_put(&rec, key, KEY + 1);
        hn_buf_put(&rec, pres, sizeof pres);
        hn_buf_put(&rec, zeros, sizeof zeros); /* every band's value "" */
    }
    hn_buf meta = {0};
    CHECK(hn_text_encode(&meta, rec.p, rec.n) == HINER_OK);
    craft c;
    craft_init(&c, 8, 8, C);
    craft_chunk cm = {"META", 0, &meta};
    hn_buf f;
    craft_build(&f, &c, &cm, 1);
    printf("META bomb: %zu bytes of record in a %zu-byte file\n", rec.n, f.n);
    expect("META: 2 x 4096 band items, 60 KB keys", f.p, f.n, HINER_E_LIMIT, 256 * MB);
    hn_buf_free(&f), hn_buf_free(&meta), hn_buf_free(&rec);

    /* the same columns with short keys: a legitimate 8192 items open */
    hn_buf_uvar(&rec, 0);
    hn_buf_u8(&rec, 0);
    hn_buf_u8(&rec, 0);
    hn_buf_uvar(&rec, 2);
    for (int col = 0; col < 2; col++) {
        hn_buf_u8(&rec, 0);
        hn_buf_put(&rec, col ? "fwhm" : "bbl", col ? 5 : 4);
        hn_buf_put(&rec, pres, sizeof pres);
        for (int b = 0; b < C; b++) hn_buf_put(&rec, "1", 2);
    }
    CHECK(hn_text_encode(&meta, rec.p, rec.n) == HINER_OK);
    craft_build(&f, &c, &cm, 1);
    expect("META: 2 x 4096 band items, short keys", f.p, f.n, HINER_OK, 64 * MB);
    hn_buf_free(&f), hn_buf_free(&meta), hn_buf_free(&rec);
    free(key);
}

/* ---- 5. decoding within the stated bound; below it, a clean HINER_E_NOMEM ---- */

/* docs/robustness.md, "Memory": bytes the first decode allocates (kept until the model is
 * freed), with one decoding thread: 4 B x (4 A + K + 2 W H) + 16 MiB. A is the largest of
 * the padded band and every layer's input and output; K the largest convolution workspace
 * (core/nn/conv_fast.c), over the 1x1 conv0, the stages and the head, each of C inputs, OC
 * outputs, kernel k on an h x w grid: the larger of the packed weights plus the padded
 * planes, C OC k^2 + 17 max(C, OC) k^2 + max(C, OC) (h + k - 1)(w + k - 1), and the weight
 * gradient's blocks, (C k^2 + 16)(OC + 32) + 193 OC + 32 K. W H: the band in floats and the
 * caller's output. */
static size_t conv_wksp(size_t C, size_t OC, size_t k, size_t h, size_t w)
{
    size_t mx = C > OC ? C : OC;
    size_t ind = C * OC * k * k + 17 * mx * k * k + mx * (h + k - 1) * (w + k - 1) + 128;
    size_t wgt = (C * k * k + 16) * (OC + 32) + 193 * (OC + 32) + 32 * 1024;
    return ind > wgt ? ind : wgt;
}

static size_t decode_bound(const hiner_plan *pl)
{
    size_t h = (size_t)pl->embed_height, w = (size_t)pl->embed_width;
    size_t A = (size_t)pl->pad_width * pl->pad_height;
    size_t in = (size_t)pl->widths[0] * h * w;
    if (in > A) A = in;
    size_t K = conv_wksp((size_t)pl->embed_channels, (size_t)pl->widths[0], 1, h, w);
    for (int i = 0; i <= pl->n_stages; i++) {
        size_t C = (size_t)pl->widths[i], k = i < pl->n_stages ? (size_t)pl->kernels[i] : 3;
        size_t s = i < pl->n_stages ? (size_t)pl->strides[i] : 1;
        size_t OC = i < pl->n_stages ? (size_t)pl->widths[i + 1] * s * s : 1;
        size_t ws = conv_wksp(C, OC, k, h, w);
        if (ws > K) K = ws;
        if (OC * h * w > A) A = OC * h * w;
        h *= s, w *= s;
    }
    return 4 * (4 * A + K + 2 * (size_t)pl->width * pl->height) + 16 * MB;
}

static void test_decode_bound(void)
{
    /* 2048 x 2048: two stride-16 stages over an 8 x 8 embedding, 1x1 stage kernels;
     * the largest activation is 4 x 256 x 128 x 128 floats (64 MiB) */
    craft c;
    craft_init(&c, 2048, 2048, 3);
    const int s[2] = {16, 16}, w[3] = {16, 16, 4};
    craft_stack(&c, 2, s, w);
    c.plan.kernels[0] = c.plan.kernels[1] = 1;
    hn_buf f;
    craft_build(&f, &c, NULL, 0);
    hiner_model *m = NULL;
    CHECK(hiner_open_mem(f.p, f.n, &m) == HINER_OK);
    hiner_plan pl;
    hiner_model_plan(m, &pl);
    const size_t bound = decode_bound(&pl);
    printf("decode bound for a 2048 x 2048 crafted network: %zu MB (%.0f MMAC per band)\n",
           bound / MB, pl.forward_macs * 1e-6);

    /* within the bound (plus the model itself, a few MB): decodes */
    job j = {f.p, f.n, 1, bound + 32 * MB, 0};
    outcome o = in_child(&j);
    printf("%-52s %-24s %7.3f s\n", "decode within the stated bound",
           o.crashed ? "CRASHED" : hiner_status_str(o.status), o.seconds);
    CHECK(!o.crashed && o.status == HINER_OK);

    /* far below: HINER_E_NOMEM, then the same handle decodes once memory is back */
    if (!HAVE_ASAN) {
        float *out = malloc((size_t)2048 * 2048 * sizeof(float));
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            int ok = cap_memory(bound / 8);
            int st1 = hiner_model_decode_band(m, 1, out);
            uncap_memory();
            int st2 = hiner_model_decode_band(m, 1, out);
            printf("decode under %zu MB: %s; then without the cap: %s\n", bound / 8 / MB,
                   hiner_status_str(st1), hiner_status_str(st2));
            fflush(stdout);
            _exit(ok && st1 == HINER_E_NOMEM && st2 == HINER_OK ? 0 : 1);
        }
        int ws = 0;
        waitpid(pid, &ws, 0);
        CHECK_MSG(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "NOMEM not clean (wait status %d)", ws);
        free(out);
    }
    hiner_model_free(m);
    hn_buf_free(&f);

    /* one stage of 1024 x 16^2 = 2^18 output channels: the workspace holds 192 floats
     * per channel and thread (~200 MB); asked for 8 threads, decoding keeps to the bound
     * of one (model.c, MAX_THREAD_WKSP) instead of growing with the thread count */
    craft_init(&c, 16, 16, 3);
    const int s1[1] = {16}, w1[2] = {1, 1024};
    craft_stack(&c, 1, s1, w1);
    c.plan.kernels[0] = 1;
    craft_build(&f, &c, NULL, 0);
    CHECK(hiner_open_mem(f.p, f.n, &m) == HINER_OK);
    hiner_model_plan(m, &pl);
    const size_t bound1 = decode_bound(&pl);
    hiner_model_free(m);
    job jt = {f.p, f.n, 1, bound1 + 32 * MB, 8};
    o = in_child(&jt);
    printf("%-52s %-24s %7.3f s (budget %zu MB)\n", "2^18 channels, 8 decoding threads",
           o.crashed ? "CRASHED" : hiner_status_str(o.status), o.seconds, jt.budget / MB);
    CHECK(!o.crashed && o.status == HINER_OK);
    hn_buf_free(&f);
}

/* ---- 6. allocation failures everywhere: budgets from 1 MB up, never a crash ---- */

static void test_allocation_failures(const char *seed_dir)
{
    if (HAVE_ASAN) {
        printf("allocation-failure sweep: skipped under AddressSanitizer\n");
        return;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/seed-u16-meta-arith", seed_dir);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        printf("allocation-failure sweep: %s absent, skipped\n", path);
        return;
    }
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    int nomem = 0, ok = 0;
    for (size_t kb = 16; kb <= 16384; kb = kb * 5 / 4) {
        job j = {buf, n, 1, kb << 10, 0};
        outcome o = in_child(&j);
        CHECK_MSG(!o.crashed, "crash with %zu KB of address space", kb);
        CHECK_MSG(o.crashed || o.status == HINER_OK || o.status == HINER_E_NOMEM,
                  "%zu KB: %s", kb, hiner_status_str(o.status));
        nomem += o.status == HINER_E_NOMEM;
        ok += o.status == HINER_OK;
    }
    printf("allocation-failure sweep (16 KB .. 16 MB): %d budgets failed cleanly with "
           "NOMEM, %d decoded\n", nomem, ok);
    CHECK(ok > 0 && nomem > 0);
}

int main(int argc, char **argv)
{
    if (HAVE_ASAN) printf("AddressSanitizer build: memory budgets not enforced\n");
    /* first, while this process has little free heap a child could reuse unnoticed */
    test_allocation_failures(argc > 1 ? argv[1] : HINER_SOURCE_DIR "/tests/fuzz/corpus");
    test_billion_bands();
    test_fields();
    test_framing_and_text();
    test_metadata_expansion();
    test_decode_bound();
    return check_exit();
}
