/*
 * conv_fast.c - convolution as implicit GEMM: the im2col matrix is never built; its
 * blocks are packed straight from the image into the micro-kernel's panel layout
 * (BLIS-style, MR x NR of C in registers). Forward and input gradient pack only the
 * weights; the lowered rows are read in place from a zero-padded copy of the source
 * through an offset table (rows split over threads). The weight gradient packs both
 * operands and splits the pixel sum over threads into per-thread partial results added
 * in a fixed order, so results depend only on the thread count. The _ref loops in
 * conv2d.c are what the tests hold these to.
 */
#include "conv_fast.h"

#define KC 192            /* depth of a packed block: KC x NR floats stay in L1 */
#define KC_IND 192        /* depth of a block of the in-place product */
#define MC_PANELS 8       /* MR-high panels per block of A (weight gradient) */

static size_t rnd_up(size_t x, size_t m)
{
    return (x + m - 1) / m * m;
}

/* The pool for a parallel step of `work` floats moved or multiply-adds: below about ten
 * microseconds of it the same tasks run one after another on the caller (so the results
 * are the same), which costs less than handing them to the other threads. */
#define SMALL_WORK 100000.0
static hn_pool *pool_for(const hn_exec *x, double work)
{
    return work < SMALL_WORK ? NULL : x->pool;
}

/* dst[j * ldd] = plane(y + dy, x + dx) for pixels p0 .. p0 + n - 1 (p = y * W + x), zero
 * outside the plane: one row of a lowered (im2col) matrix, for a window of pixels. */
static void gather_shifted(float *dst, size_t ldd, const float *plane, size_t H, size_t W,
                           ptrdiff_t dy, ptrdiff_t dx, size_t p0, size_t n)
{
    size_t y = p0 / W, x = p0 % W;
    while (n > 0) {
        size_t seg = W - x < n ? W - x : n;
        ptrdiff_t iy = (ptrdiff_t)y + dy;
        if (iy < 0 || iy >= (ptrdiff_t)H) {
            for (size_t j = 0; j < seg; j++) dst[j * ldd] = 0.0f;
        } else {
            const float *row = plane + (size_t)iy * W;
            /* valid x range: 0 <= x + dx < W */
            ptrdiff_t lo = -dx > (ptrdiff_t)x ? -dx : (ptrdiff_t)x;
            ptrdiff_t hi = (ptrdiff_t)W - dx < (ptrdiff_t)(x + seg) ? (ptrdiff_t)W - dx
                                                                       : (ptrdiff_t)(x + seg);
            size_t j = 0;
            for (; (ptrdiff_t)(x + j) < lo && j < seg; j++) dst[j * ldd] = 0.0f;
            if (ldd == 1 && hi > lo) {
                size_t cnt = (size_t)(hi - (ptrdiff_t)(x + j));
                memcpy(dst + j, row + (ptrdiff_t)(x + j) + dx, cnt * sizeof(float));
                j += cnt;
            } else {
                for (; (ptrdiff_t)(x + j) < hi; j++)
                    dst[j * ldd] = row[(ptrdiff_t)(x + j) + dx];
            }
            for (; j < seg; j++) dst[j * ldd] = 0.0f;
        }
        dst += seg * ldd;
        n -= seg;
        x = 0;
        y++;
    }
}

/* Packs weight panels [ip0, ip1) as A: forward A(oc, kk) = w[oc][kk]; input gradient
 * A(c, (oc, ky, kx)) = w[oc][c][ky][kx]. Panels of Kd x MR, zero rows past M. */
static void pack_weights(float *Ap, const float *w, int mode, size_t M, size_t Kd, size_t C,
                         size_t KK, size_t MR, size_t ip0, size_t ip1)
{
    for (size_t ip = ip0; ip < ip1; ip++) {
        float *dst = Ap + ip * Kd * MR;
        for (size_t r = 0; r < MR; r++) {
            const size_t m = ip * MR + r;
            if (m >= M) {
                for (size_t kk = 0; kk < Kd; kk++) dst[kk * MR + r] = 0.0f;
            } else if (mode == 0) {
                for (size_t kk = 0; kk < Kd; kk++) dst[kk * MR + r] = w[m * Kd + kk];
            } else {
                for (size_t oc = 0; oc < Kd / KK; oc++) {
                    const float *src = w + (oc * C + m) * KK;
                    for (size_t t = 0; t < KK; t++) dst[(oc * KK + t) * MR + r] = src[t];
                }
            }
        }
    }
}

/* ---- forward and input gradient without packing B: rows of the lowered matrix are read
 * in place from a zero-padded copy of the source through an offset table ---- */

typedef struct ind_job {
    const hn_kernels *k;
    size_t MR, NR;        /* the tile chosen for this layer */
    void (*ukr)(size_t, const float *, const float *, const int32_t *, float *, size_t, int,
                int, int);
    size_t M, Kd, H, W, P, Wp;
    const float *Ap;      /* packed weights, panels of Kd x MR */
    const float *spad;    /* padded source planes (Hp x Wp each) */
    const int32_t *offs;  /* Kd offsets into spad, relative to an output pixel */
    float *out;
    const float *bias;
    int acc, threads;
    size_t y0, y1;        /* output rows computed */
} ind_job;

static void ind_task(void *ctx, size_t t, int thread)
{
    (void)thread;
    const ind_job *j = ctx;
    const size_t MR = j->MR, NR = j->NR, N = j->H * j->W;
    const size_t m_panels = (j->M + MR - 1) / MR;
    const size_t rows = j->y1 - j->y0, T = (size_t)j->threads;
    for (size_t y = j->y0 + rows * t / T; y < j->y0 + rows * (t + 1) / T; y++) {
        const float *rowbase = j->spad + (y + j->P) * j->Wp + j->P;
        for (size_t pc = 0; pc < j->Kd; pc += KC_IND) {
            const size_t kc = j->Kd - pc < KC_IND ? j->Kd - pc : KC_IND;
            const int acc = j->acc || pc > 0;
            for (size_t x0 = 0; x0 < j->W; x0 += NR) {
                const int nv = (int)(j->W - x0 < NR ? j->W - x0 : NR);
                /* the next tile's B rows, spread over this tile's panels (its first panel
                 * would otherwise wait on a chain of cache misses) */
                const float *nb = NULL;
                const int32_t *no = NULL;
                size_t nk = 0;
                if (x0 + NR < j->W) {
                    nb = rowbase + x0 + NR, no = j->offs + pc, nk = kc;
                } else if (pc + KC_IND < j->Kd) {
                    nb = rowbase, no = j->offs + pc + KC_IND;
                    nk = j->Kd - pc - KC_IND < KC_IND ? j->Kd - pc - KC_IND : KC_IND;
                }
                for (size_t ip = 0; ip < m_panels; ip++) {
                    const int mv = (int)(j->M - ip * MR < MR ? j->M - ip * MR : MR);
                    for (size_t q = nk * ip / m_panels; q < nk * (ip + 1) / m_panels; q++) {
                        __builtin_prefetch(nb + no[q]);
                        __builtin_prefetch(nb + no[q] + NR - 1);
                    }
                    j->ukr(kc, j->Ap + (ip * j->Kd + pc) * MR, rowbase + x0, j->offs + pc,
                           j->out + ip * MR * N + y * j->W + x0, N, acc, mv, nv);
                }
            }
        }
        if (j->bias)
            for (size_t m = 0; m < j->M; m++) {
                float *o = j->out + m * N + y * j->W;
                const float b = j->bias[m];
                for (size_t x = 0; x < j->W; x++) o[x] += b;
            }
    }
}

/* The operands of the in-place product, prepared by all threads: the padded source
 * planes and the packed weight panels. */
typedef struct prep_job {
    float *dst;
    const float *src;
    size_t planes, H, W, P, Wp;
    size_t y0, y1; /* output rows computed: padded rows [y0, y1 + 2P) are written */
    float *Ap;
    const float *w;
    int mode;
    size_t M, Kd, C, KK, MR;
    size_t threads;
} prep_job;

/* Each plane into Hp x Wp with P zero rows above and below, P zero columns on the left
 * and the rest of Wp on the right; then this thread's share of the weight panels. */
static void prep_task(void *ctx, size_t t, int thread)
{
    (void)thread;
    const prep_job *j = ctx;
    const size_t Wp = j->Wp, Hp = j->H + 2 * j->P, R = Wp - j->P - j->W, T = j->threads;
    for (size_t c = j->planes * t / T; j->dst && c < j->planes * (t + 1) / T; c++) {
        float *d = j->dst + c * Hp * Wp;
        for (size_t py = j->y0; py < j->y1 + 2 * j->P; py++) {
            float *row = d + py * Wp;
            if (py < j->P || py >= j->H + j->P) {
                memset(row, 0, Wp * sizeof(float));
                continue;
            }
            memset(row, 0, j->P * sizeof(float));
            memcpy(row + j->P, j->src + (c * j->H + py - j->P) * j->W, j->W * sizeof(float));
            memset(row + j->P + j->W, 0, R * sizeof(float));
        }
    }
    const size_t panels = (j->M + j->MR - 1) / j->MR;
    pack_weights(j->Ap, j->w, j->mode, j->M, j->Kd, j->C, j->KK, j->MR, panels * t / T,
                 panels * (t + 1) / T);
}

/* The lowered product of mode 0 (forward) or 1 (input gradient), B read in place. */
static void conv_ind(const hn_exec *x, int mode, float *out, const float *src,
                     const float *weight, const float *bias, int acc, size_t C, size_t H,
                     size_t W, size_t OC, size_t K, hn_rows r)
{
    const hn_kernels *k = x->k;
    /* rows padded to whole vectors (+ P each side), so a tile at the right edge may load
     * whole vectors: only its stores are masked */
    const size_t P = K / 2, Wp = rnd_up(W, (size_t)k->VL) + 2 * P, Hp = H + 2 * P, KK = K * K;
    const size_t planes = mode == 0 ? C : OC;
    const size_t M = mode == 0 ? OC : C, Kd = planes * KK;
    const size_t T = (size_t)(x->pool ? hn_pool_threads(x->pool) : 1);
    /* the tile of least cost: per panel and k, each tile of the row costs its FMAs (rows x
     * vectors, the edge tile only the vectors it needs) + ~2 for the loads around them */
    int v = 0;
    size_t best = SIZE_MAX;
    for (int i = 0; i < HN_IND_VARIANTS && k->ind_mr[i]; i++) {
        const size_t mr = (size_t)k->ind_mr[i], nr = (size_t)k->ind_nr[i], VL = (size_t)k->VL;
        const size_t row = W / nr * (mr * nr / VL + 2) +
                           (W % nr ? mr * ((W % nr + VL - 1) / VL) + 2 : 0);
        const size_t cost = (M + mr - 1) / mr * row;
        if (cost < best) best = cost, v = i;
    }
    const size_t MR = (size_t)k->ind_mr[v];
    float *Ap = x->wksp;
    int32_t *offs = (int32_t *)(Ap + rnd_up(rnd_up(M, MR) * Kd, 16));
    float *spad = (float *)offs + rnd_up(Kd, 16);
    for (size_t kk = 0; kk < Kd; kk++) {
        ptrdiff_t dy = (ptrdiff_t)((kk % KK) / K) - (ptrdiff_t)P;
        ptrdiff_t dx = (ptrdiff_t)(kk % K) - (ptrdiff_t)P;
        if (mode == 1) dy = -dy, dx = -dx;
        offs[kk] = (int32_t)((ptrdiff_t)((kk / KK) * Hp * Wp) + dy * (ptrdiff_t)Wp + dx);
    }
    /* 1x1 on whole vectors: the source is its own padded copy */
    if (Wp == W) spad = (float *)src;
    prep_job pj = {Wp != W ? spad : NULL, src, planes, H, W, P, Wp, r.y0, r.y1,
                   Ap, weight, mode, M, Kd, C, KK, MR, T};
    hn_pool_run(pool_for(x, (double)planes * (r.y1 - r.y0 + 2 * P) * Wp + (double)M * Kd), T,
                prep_task, &pj);
    ind_job j = {k,    MR,    (size_t)k->ind_nr[v], k->ukr_ind[v], M,   Kd,  H,      W, P,
                 Wp,   Ap,    spad,                 offs,          out, bias, acc, (int)T,
                 r.y0, r.y1};
    if ((size_t)j.threads > r.y1 - r.y0) j.threads = (int)(r.y1 - r.y0);
    if (j.threads < 1) return;
    hn_pool_run(pool_for(x, (double)M * Kd * (r.y1 - r.y0) * W), (size_t)j.threads, ind_task,
                &j);
}

/* ---- weight gradient: C' (Kd x OC) = lowered inp (Kd x pixels) * dout^T (pixels x OC) ---- */

typedef struct wgt_job {
    const hn_kernels *k;
    size_t C, H, W, OC, K, Kd, N; /* N = pixels, the summed dimension */
    const float *inp, *dout;
    float *part;           /* per thread: Mp x Np partial dW^T; row Kd is the bias partial */
    size_t part_stride;
    float *scratch;        /* per thread: packed B (KC x Np) and A (MC x KC) */
    size_t scratch_stride;
    size_t Mp, Np;         /* Kd + 1 and OC rounded up to MR and NR */
    int threads;
    size_t p0, p1;         /* the pixels summed: rows [y0, y1) of dout */
} wgt_job;

static void wgt_task(void *ctx, size_t t, int thread)
{
    (void)thread;
    const wgt_job *j = ctx;
    const hn_kernels *k = j->k;
    const size_t MR = (size_t)k->MR, NR = (size_t)k->NR;
    float *Cp = j->part + t * j->part_stride;
    float *Bbuf = j->scratch + t * j->scratch_stride;
    float *Abuf = Bbuf + (size_t)KC * j->Np;
    float *rows = Abuf + (size_t)MC_PANELS * MR * KC;
    memset(Cp, 0, j->Mp * j->Np * sizeof(float));
    const size_t np_ = j->p1 - j->p0;
    const size_t p_lo = j->p0 + np_ * t / (size_t)j->threads;
    const size_t p_hi = j->p0 + np_ * (t + 1) / (size_t)j->threads;
    const size_t KK = j->K * j->K;
    const ptrdiff_t P = (ptrdiff_t)j->K / 2;
    const size_t n_panels = j->Np / NR, m_panels = j->Mp / MR;
    for (size_t pc = p_lo; pc < p_hi; pc += KC) {
        const size_t kc = p_hi - pc < KC ? p_hi - pc : KC;
        /* B panels: Bp[q][p][c] = dout[q*NR + c][pc + p] */
        for (size_t q = 0; q < n_panels; q++) {
            const size_t n = j->OC - q * NR < NR ? j->OC - q * NR : NR;
            k->pack_b(Bbuf + q * kc * NR, j->dout + q * NR * j->N + pc, j->N, kc, n);
        }
        for (size_t ic = 0; ic < m_panels; ic += MC_PANELS) {
            const size_t mp = m_panels - ic < MC_PANELS ? m_panels - ic : MC_PANELS;
            /* A panels: Ap[i][p][r] = lowered inp row (ic + i) * MR + r at pixel pc + p:
             * MR rows gathered contiguously, then transposed into the panel; row Kd is
             * ones, so row Kd of the product is the bias gradient */
            for (size_t i = 0; i < mp; i++) {
                for (size_t r = 0; r < MR; r++) {
                    const size_t kk = (ic + i) * MR + r;
                    float *row = rows + r * KC;
                    if (kk < j->Kd) {
                        const size_t c = kk / KK, ky = (kk % KK) / j->K, kx = kk % j->K;
                        gather_shifted(row, 1, j->inp + c * j->H * j->W, j->H, j->W,
                                       (ptrdiff_t)ky - P, (ptrdiff_t)kx - P, pc, kc);
                    } else {
                        const float v = kk == j->Kd ? 1.0f : 0.0f;
                        for (size_t p = 0; p < kc; p++) row[p] = v;
                    }
                }
                k->pack_t(Abuf + i * kc * MR, rows, KC, kc);
            }
            for (size_t i = 0; i < mp; i++)
                for (size_t q = 0; q < n_panels; q++)
                    k->ukr(kc, Abuf + i * kc * MR, Bbuf + q * kc * NR,
                           Cp + ((ic + i) * MR) * j->Np + q * NR, j->Np, 1);
        }
    }
}

/* The per-thread partial products summed into dweight (OC, Kd) and dbias, in thread
 * order for every element (reproducible for a thread count); threads split the output
 * channels, in blocks of 16 so both sides are read in runs. */
typedef struct red_job {
    const wgt_job *w;
    float *dweight, *dbias;
} red_job;

static void red_task(void *ctx, size_t t, int thread)
{
    (void)thread;
    const red_job *r = ctx;
    const wgt_job *j = r->w;
    const size_t T = (size_t)j->threads, blocks = (j->OC + 15) / 16;
    for (size_t b = blocks * t / T; b < blocks * (t + 1) / T; b++) {
        const size_t o0 = b * 16, o1 = o0 + 16 < j->OC ? o0 + 16 : j->OC;
        for (size_t u = 0; u < T; u++) {
            const float *Cp = j->part + u * j->part_stride;
            for (size_t kk = 0; kk < j->Kd; kk++)
                for (size_t oc = o0; oc < o1; oc++)
                    r->dweight[oc * j->Kd + kk] += Cp[kk * j->Np + oc];
            if (r->dbias)
                for (size_t oc = o0; oc < o1; oc++) r->dbias[oc] += Cp[j->Kd * j->Np + oc];
        }
    }
}

/* ---- one output channel, 3x3 (the head): direct kernels split by rows or channels ---- */

typedef struct conv1_job {
    const hn_kernels *k;
    float *out;
    const float *inp, *w, *dout;
    float bias;
    size_t C, H, W;
    int threads, mode; /* 0 forward, 1 input gradient, 2 weight gradient */
    int acc;           /* input gradient: add to dinp (else overwrite it) */
    size_t y0, y1;     /* rows: of out (0), of dinp (1), of dout summed (2) */
} conv1_job;

static void conv1_task(void *ctx, size_t t, int thread)
{
    (void)thread;
    const conv1_job *j = ctx;
    const size_t T = (size_t)j->threads;
    const size_t rows = j->y1 - j->y0;
    if (j->mode == 0) {
        j->k->conv1_fwd(j->out, j->inp, j->w, j->bias, j->C, j->H, j->W, j->y0 + rows * t / T,
                        j->y0 + rows * (t + 1) / T);
    } else if (j->mode == 1) {
        j->k->conv1_bwd_data(j->out, j->dout, j->w, j->H, j->W, j->C * t / T, j->C * (t + 1) / T,
                             j->y0, j->y1, j->acc);
    } else {
        j->k->conv1_bwd_weight(j->out, j->dout, j->inp, j->H, j->W, j->C * t / T,
                               j->C * (t + 1) / T, j->y0, j->y1);
    }
}

static void conv1_run(const hn_exec *x, conv1_job *j)
{
    j->k = x->k;
    j->threads = x->pool ? hn_pool_threads(x->pool) : 1;
    hn_pool_run(pool_for(x, 9.0 * j->C * (j->y1 - j->y0) * j->W), (size_t)j->threads,
                conv1_task, j);
}

/* ---- public entry points ---- */

static size_t wgt_part_floats(const hn_kernels *k, size_t C, size_t OC, size_t K)
{
    return rnd_up(C * K * K + 1, (size_t)k->MR) * rnd_up(OC, (size_t)k->NR) + 16;
}

static size_t wgt_scratch_floats(const hn_kernels *k, size_t OC)
{
    /* packed B, packed A block, MR gathered rows */
    return (size_t)KC * rnd_up(OC, (size_t)k->NR) + (size_t)MC_PANELS * k->MR * KC +
           (size_t)k->MR * KC + 16;
}

size_t hn_conv_wksp_floats(const hn_kernels *k, int threads, size_t C, size_t OC, size_t Kk,
                           size_t H, size_t W)
{
    const size_t T = (size_t)(threads > 0 ? threads : 1);
    const size_t Kd_f = C * Kk * Kk, Kd_b = OC * Kk * Kk;
    /* packed weights for any tile height up to HN_MAX_MR */
    size_t ap = (OC + HN_MAX_MR) * Kd_f;
    size_t ap_b = (C + HN_MAX_MR) * Kd_b;
    if (ap_b > ap) ap = ap_b;
    size_t wgt = T * rnd_up(wgt_part_floats(k, C, OC, Kk), 16) +
                 T * rnd_up(wgt_scratch_floats(k, OC), 16);
    /* in-place B: packed weights, offsets, the padded source */
    const size_t P = Kk / 2, planes = C > OC ? C : OC;
    size_t ind = rnd_up(ap, 16) + rnd_up((Kd_f > Kd_b ? Kd_f : Kd_b), 16) +
                 planes * (H + 2 * P) * (rnd_up(W, (size_t)k->VL) + 2 * P) + 64;
    return ind > wgt ? ind : wgt;
}

static int n_threads(const hn_exec *x)
{
    return x->pool ? hn_pool_threads(x->pool) : 1;
}

void hn_conv_forward_rows(const hn_exec *x, float *out, const float *inp, const float *weight,
                          const float *bias, size_t C, size_t H, size_t W, size_t OC, size_t K,
                          hn_rows rows)
{
    if (rows.y1 > H) rows.y1 = H;
    if (rows.y0 >= rows.y1) return;
    if (OC == 1 && K == 3) {
        conv1_job c = {0};
        c.out = out, c.inp = inp, c.w = weight, c.bias = bias ? bias[0] : 0.0f;
        c.C = C, c.H = H, c.W = W, c.mode = 0, c.y0 = rows.y0, c.y1 = rows.y1;
        conv1_run(x, &c);
        return;
    }
    conv_ind(x, 0, out, inp, weight, bias, 0, C, H, W, OC, K, rows);
}

void hn_conv_backward_rows(const hn_exec *x, float *dinp, int dinp_acc, float *dweight,
                           float *dbias, const float *dout, const float *inp, const float *weight,
                           size_t C, size_t H, size_t W, size_t OC, size_t K, hn_rows dout_rows,
                           hn_rows dinp_rows)
{
    const hn_kernels *k = x->k;
    const int T = n_threads(x);
    if (dout_rows.y1 > H) dout_rows.y1 = H;
    if (dinp_rows.y1 > H) dinp_rows.y1 = H;
    if (OC == 1 && K == 3) {
        conv1_job c = {0};
        c.inp = inp, c.w = weight, c.dout = dout, c.C = C, c.H = H, c.W = W;
        c.out = dweight, c.mode = 2, c.y0 = dout_rows.y0, c.y1 = dout_rows.y1;
        if (c.y0 < c.y1) conv1_run(x, &c);
        if (dinp && dinp_rows.y0 < dinp_rows.y1) {
            c.out = dinp, c.mode = 1, c.y0 = dinp_rows.y0, c.y1 = dinp_rows.y1;
            c.acc = dinp_acc;
            conv1_run(x, &c);
        }
        if (dbias) {
            double s = 0;
            for (size_t i = dout_rows.y0 * W; i < dout_rows.y1 * W; i++) s += dout[i];
            dbias[0] += (float)s;
        }
        return;
    }
    /* weight (and bias) gradient over the rows of dout that carry gradient */
    if (dout_rows.y0 < dout_rows.y1) {
        wgt_job j;
        memset(&j, 0, sizeof j);
        j.k = k;
        j.C = C, j.H = H, j.W = W, j.OC = OC, j.K = K, j.Kd = C * K * K, j.N = H * W;
        j.inp = inp;
        j.dout = dout;
        j.Mp = rnd_up(j.Kd + 1, (size_t)k->MR);
        j.Np = rnd_up(OC, (size_t)k->NR);
        j.threads = T;
        j.p0 = dout_rows.y0 * W, j.p1 = dout_rows.y1 * W;
        j.part = x->wksp;
        j.part_stride = rnd_up(wgt_part_floats(k, C, OC, K), 16);
        j.scratch = x->wksp + (size_t)T * j.part_stride;
        j.scratch_stride = rnd_up(wgt_scratch_floats(k, OC), 16);
        hn_pool_run(pool_for(x, (double)j.Kd * OC * (j.p1 - j.p0)), (size_t)T, wgt_task, &j);
        red_job rj = {&j, dweight, dbias};
        hn_pool_run(pool_for(x, (double)j.Kd * OC * T), (size_t)T, red_task, &rj);
    }
    if (!dinp || dinp_rows.y0 >= dinp_rows.y1) return;
    /* input gradient: a convolution of dout with the transposed, flipped weights */
    conv_ind(x, 1, dinp, dout, weight, NULL, dinp_acc, C, H, W, OC, K, dinp_rows);
}

void hn_conv_forward(const hn_exec *x, float *out, const float *inp, const float *weight,
                     const float *bias, size_t C, size_t H, size_t W, size_t OC, size_t K)
{
    hn_rows all = {0, H};
    hn_conv_forward_rows(x, out, inp, weight, bias, C, H, W, OC, K, all);
}

void hn_conv_backward(const hn_exec *x, float *dinp, int dinp_acc, float *dweight,
                      float *dbias, const float *dout, const float *inp, const float *weight,
                      size_t C, size_t H, size_t W, size_t OC, size_t K)
{
    hn_rows all = {0, H};
    hn_conv_backward_rows(x, dinp, dinp_acc, dweight, dbias, dout, inp, weight, C, H, W, OC, K,
                          all, all);
}
