/*
 * plan.c - the architecture for a cube (DESIGN.md, "The method"): upsampling strides and
 * centred zero padding chosen from H x W, the embedding size from the remainder, and the
 * decoder widths solved from the size budget (the paper's quadratic in c0).
 */
#include <math.h>

#include "../codec/quant.h"
#include "plan.h"

static int kernel_of_stage(int i, int max_kernel)
{
    int k = 1 + 2 * i;
    return k < max_kernel ? k : max_kernel;
}

uint64_t hn_plan_decoder_params(const hiner_plan *pl)
{
    uint64_t n = (uint64_t)pl->embed_channels * pl->widths[0] + (uint64_t)pl->widths[0];
    for (int i = 0; i < pl->n_stages; i++) {
        uint64_t s2 = (uint64_t)pl->strides[i] * pl->strides[i];
        uint64_t k2 = (uint64_t)pl->kernels[i] * pl->kernels[i];
        uint64_t oc = (uint64_t)pl->widths[i + 1] * s2;
        n += (uint64_t)pl->widths[i] * oc * k2 + oc;
    }
    n += (uint64_t)pl->widths[pl->n_stages] * 9 + 1;
    return n;
}

uint64_t hn_plan_encoder_params(const hiner_plan *pl)
{
    uint64_t E = hn_embed_size(pl);
    uint64_t in = 2 * (uint64_t)pl->enc_freqs, hid = (uint64_t)pl->enc_hidden;
    return in * hid + hid + hid * E + E;
}

static double forward_macs(const hiner_plan *pl)
{
    double hw = (double)pl->embed_height * pl->embed_width;
    double macs = (double)pl->embed_channels * pl->widths[0] * hw;
    for (int i = 0; i < pl->n_stages; i++) {
        double s2 = (double)pl->strides[i] * pl->strides[i];
        double k2 = (double)pl->kernels[i] * pl->kernels[i];
        macs += (double)pl->widths[i] * pl->widths[i + 1] * s2 * k2 * hw;
        hw *= s2;
    }
    macs += (double)pl->widths[pl->n_stages] * 9.0 * hw;
    return macs;
}

void hn_plan_set_width(hiner_plan *pl, int c0, float reduce, int floor_width)
{
    pl->widths[0] = c0;
    for (int i = 0; i < pl->n_stages; i++) {
        /* rint rounds half to even, as Python's round() in the reference code */
        int c = (int)rint((double)pl->widths[i] / reduce);
        pl->widths[i + 1] = c > floor_width ? c : floor_width;
    }
    hn_plan_finish(pl);
}

void hn_plan_finish(hiner_plan *pl)
{
    pl->decoder_params = hn_plan_decoder_params(pl);
    pl->encoder_params = hn_plan_encoder_params(pl);
    pl->embedding_params = (uint64_t)pl->bands * hn_embed_size(pl);
    pl->forward_macs = forward_macs(pl);
}

/* Automatic strides: a non-increasing sequence from {5,4,3,2} whose product P pads H x W
 * (centred) to (eh P) x (ew P) with eh = ceil(H/P), ew = ceil(W/P). Scored on padding
 * (compute and capacity spent outside the image), on depth (4 stages as the paper, 5 for
 * large images) and on an embedding of a few cells per side (the paper's 3x3 .. 6x3). */
typedef struct {
    int n, s[HINER_MAX_STAGES];
    double score;
} stride_choice;

static void score_seq(stride_choice *best, const int *s, int n, uint32_t H, uint32_t W,
                      double budget)
{
    uint64_t P = 1;
    for (int i = 0; i < n; i++) P *= (uint64_t)s[i];
    uint64_t eh = (H + P - 1) / P, ew = (W + P - 1) / P;
    double pad = (double)(eh * P) * (double)(ew * P) / ((double)H * (double)W);
    double lng = (double)(eh > ew ? eh : ew), sht = (double)(eh < ew ? eh : ew);
    uint32_t big = H > W ? H : W;
    int n_pref = big >= 1000 ? 5 : (big >= 48 ? 4 : (big >= 24 ? 3 : 2));
    double score = 6.0 * log(pad) + 1.5 * fabs((double)(n - n_pref));
    if (lng > 8) score += 2.0 * log(lng / 8.0) + 1.0;
    if (sht < 2 && big >= 48) score += 2.0; /* a 1-cell side wastes the embedding's layout */
    /* a few cells per side (the paper's 3x3 .. 6x3): every cell multiplies the encoder's
     * output layer */
    score += 0.5 * fabs(log2(lng / 3.0));
    /* with a small budget, the encoder's output layer (hidden x 16 cells) must stay a
     * modest share of it: ~32 x 16 weights per cell against 15 % of the budget */
    double enc = 32.0 * 16.0 * (double)(eh * ew);
    if (budget > 0 && enc > 0.15 * budget) score += 4.0 * log2(enc / (0.15 * budget));
    if (score < best->score) {
        best->score = score;
        best->n = n;
        memcpy(best->s, s, (size_t)n * sizeof(int));
    }
}

static void enum_seq(stride_choice *best, int *s, int depth, int maxn, int prev, uint32_t H,
                     uint32_t W, double budget)
{
    if (depth >= 1) score_seq(best, s, depth, H, W, budget);
    if (depth == maxn) return;
    for (int v = prev; v >= 2; v--) {
        if (depth == 0 && v < 4 && (H >= 16 || W >= 16)) continue; /* first stride 4 or 5 */
        s[depth] = v;
        enum_seq(best, s, depth + 1, maxn, v, H, W, budget);
    }
}

/* budget: parameters the network may have (0: no limit, the paper's mode). */
static hiner_status choose_strides(const hiner_params *p, uint32_t W, uint32_t H, hiner_plan *pl,
                                   double budget)
{
    if (p->n_stages > 0) {
        HN_CHECK(p->n_stages > HINER_MAX_STAGES, HINER_E_INVALID_ARG);
        pl->n_stages = p->n_stages;
        for (int i = 0; i < p->n_stages; i++) {
            HN_CHECK(p->strides[i] < 1 || p->strides[i] > 8, HINER_E_INVALID_ARG);
            pl->strides[i] = p->strides[i];
        }
        return HINER_OK;
    }
    stride_choice best = {0, {0}, INFINITY};
    int s[HINER_MAX_STAGES];
    enum_seq(&best, s, 0, 5, 5, H, W, budget);
    HN_CHECK(best.n == 0, HINER_E_GENERIC);
    pl->n_stages = best.n;
    memcpy(pl->strides, best.s, sizeof best.s);
    return HINER_OK;
}

/* Strides, padding, embedding size, kernels and encoder dimensions: everything but the
 * decoder widths. `paper` selects the paper's encoder (80 frequencies, 320 hidden) for
 * automatic values, else the compact one of the file format. */
static hiner_status plan_geometry(const hiner_params *p, uint32_t W, uint32_t H, uint32_t C,
                                  hiner_plan *pl, const hn_log *lg, int paper, double budget)
{
    HN_CHECK(W == 0 || H == 0 || C == 0, HINER_E_INVALID_ARG);
    memset(pl, 0, sizeof *pl);
    pl->width = W;
    pl->height = H;
    pl->bands = C;
    HN_FORWARD(choose_strides(p, W, H, pl, budget));
    uint64_t P = 1;
    for (int i = 0; i < pl->n_stages; i++) {
        pl->kernels[i] = kernel_of_stage(i, p->max_kernel ? p->max_kernel : 5);
        P *= (uint64_t)pl->strides[i];
    }
    /* embedding size: given, or from the padded size, or the smallest that covers H x W */
    uint64_t eh = p->embed_height, ew = p->embed_width;
    if (eh == 0) eh = p->pad_height ? (uint64_t)p->pad_height / P : (H + P - 1) / P;
    if (ew == 0) ew = p->pad_width ? (uint64_t)p->pad_width / P : (W + P - 1) / P;
    if (eh * P < H || ew * P < W || eh == 0 || ew == 0) {
        hn_logf(lg, 0, "padded size %llux%llu (embedding %llux%llu x strides %llu) does not cover "
                "the %ux%u image", (unsigned long long)(eh * P), (unsigned long long)(ew * P),
                (unsigned long long)eh, (unsigned long long)ew, (unsigned long long)P, H, W);
        return HINER_E_INVALID_ARG;
    }
    if ((p->pad_height && eh * P != (uint64_t)p->pad_height) ||
        (p->pad_width && ew * P != (uint64_t)p->pad_width)) {
        hn_logf(lg, 0, "padded size %dx%d is not a multiple of the strides' product %llu",
                p->pad_height, p->pad_width, (unsigned long long)P);
        return HINER_E_INVALID_ARG;
    }
    HN_CHECK(eh * P > 65535 || ew * P > 65535 || eh > 64 || ew > 64, HINER_E_LIMIT);
    pl->embed_height = (int)eh;
    pl->embed_width = (int)ew;
    pl->pad_height = (uint32_t)(eh * P);
    pl->pad_width = (uint32_t)(ew * P);
    pl->pad_top = (pl->pad_height - H) / 2;
    pl->pad_left = (pl->pad_width - W) / 2;
    pl->embed_channels = p->embed_channels;
    pl->enc_base = p->enc_base;
    pl->enc_freqs = p->enc_freqs ? p->enc_freqs : (paper ? 80 : hn_auto_enc_freqs(C, p->enc_base));
    pl->enc_hidden = p->enc_hidden ? p->enc_hidden : (paper ? 320 : HN_AUTO_ENC_HIDDEN);
    return HINER_OK;
}

int hn_auto_enc_freqs(uint32_t C, float base)
{
    /* Frequencies up to the band sampling's Nyquist rate: b^k pi lambda with b^k <= C, so
     * neighbouring bands are told apart and wavelengths in between interpolate smoothly. */
    int L = C > 1 ? (int)ceil(log((double)C) / log((double)base)) + 1 : 1;
    return L < 4 ? 4 : (L > 80 ? 80 : L);
}

/* The paper's budget: (embedding + decoder) parameters at quant_bits each. The decoder is
 * about a c0^2 + b c0 parameters (convolutions of c_i x c_{i+1} s^2 k^2 with c_i = c0 r^i,
 * plus the 1x1 conv from the embedding); solve for c0. */
static hiner_status paper_widths(const hiner_params *p, hiner_plan *pl, const hn_log *lg)
{
    double emb = (double)pl->bands * hn_embed_size(pl);
    double budget = p->model_bytes * 8.0 / p->quant_bits - emb;
    double r = 1.0 / p->width_reduce, a = 0.0;
    for (int i = 0; i < pl->n_stages; i++)
        a += pow(r, 2.0 * i) * pl->strides[i] * pl->strides[i] * pl->kernels[i] * pl->kernels[i];
    a *= r;
    double b = pl->embed_channels;
    double c0 = budget > 0 ? (-b + sqrt(b * b + 4.0 * a * budget)) / (2.0 * a) : 0.0;
    if (c0 < 1.0) {
        hn_logf(lg, 0, "a budget of %.0f bytes cannot hold the %.0f embedding values of this "
                "cube", p->model_bytes, emb);
        return HINER_E_BUDGET;
    }
    HN_CHECK(c0 > 4096, HINER_E_LIMIT);
    hn_plan_set_width(pl, (int)c0, p->width_reduce, p->min_width ? p->min_width : 12);
    return HINER_OK;
}

double hn_plan_est_bytes(const hiner_plan *pl, int store_encoder, double beta)
{
    /* entropy-coded values plus side information: each weight's rows on a shared grid
     * (quantization mode 2), each bias per tensor (mode 0) */
#define WEIGHT_AND_BIAS(rows) (double)(hn_qtensor_side_bytes(2, (rows)) + hn_qtensor_side_bytes(0, 1))
    double values = (double)pl->decoder_params, side = 0.0;
    side += WEIGHT_AND_BIAS((size_t)pl->widths[0]);
    for (int i = 0; i < pl->n_stages; i++)
        side += WEIGHT_AND_BIAS((size_t)pl->widths[i + 1] * pl->strides[i] * pl->strides[i]);
    side += 2.0 * (double)hn_qtensor_side_bytes(0, 1); /* the head's one row and bias */
    if (store_encoder) {
        values += (double)pl->encoder_params;
        side += WEIGHT_AND_BIAS((size_t)pl->enc_hidden) +
                WEIGHT_AND_BIAS(hn_embed_size(pl));
    } else {
        values += (double)pl->embedding_params;
        side += (double)hn_qtensor_side_bytes(2, pl->bands);
    }
#undef WEIGHT_AND_BIAS
    return values * beta / 8.0 + side;
}

/* How many of the plan's layers after c0 its floor raised above the taper c_{i-1} / r. */
static int clamped_layers(const hiner_plan *pl, float reduce, int floor_width)
{
    int n = 0;
    for (int i = 1; i <= pl->n_stages; i++)
        n += (int)rint((double)pl->widths[i - 1] / reduce) < floor_width;
    return n;
}

hiner_status hn_plan_for_bytes(const hiner_params *p, uint32_t W, uint32_t H, uint32_t C,
                               double bytes, double beta, hiner_plan *pl, const hn_log *lg)
{
    HN_FORWARD(plan_geometry(p, W, H, C, pl, lg, 0, bytes * 8.0 / beta));
    const int store_enc = p->store_encoder;
    if (!p->enc_hidden && store_enc) {
        /* the compact encoder's hidden width: the widest that keeps the stored encoder
         * within HN_ENC_SHARE of the budget (it is ~2L x hidden + hidden x E weights) */
        static const int hidden[] = {64, 48, 32, 24, 16, 12, 8};
        const double E = (double)hn_embed_size(pl);
        for (size_t i = 0; i < sizeof hidden / sizeof *hidden; i++) {
            pl->enc_hidden = hidden[i];
            double enc = ((2.0 * pl->enc_freqs + 1.0 + E) * hidden[i] + E) * beta / 8.0;
            if (enc <= HN_ENC_SHARE * bytes) break;
        }
    }
    /* The paper's width floor of 12 makes its smallest decoder ~45k parameters; lower it
     * step by step until a decoder with c0 >= floor fits, so small budgets stay reachable.
     * A floor that binds on more than the last layer makes the full-resolution layers flat
     * and wide, where parameters and multiply-adds cost most: of the floors that fit, take
     * the first whose layout keeps the taper (at most one layer raised to the floor), down
     * to a floor of 6, taken as it comes (narrower layers lose more by a channel than they
     * gain by the taper). */
    static const int floors[] = {12, 10, 8, 6, 5, 4, 3, 2};
    const int nf = p->min_width ? 1 : (int)(sizeof floors / sizeof *floors);
    for (int f = 0; f < nf; f++) {
        int floor_w = p->min_width ? p->min_width : floors[f];
        int best = 0;
        for (int c0 = floor_w; c0 <= 4096; c0++) {
            hn_plan_set_width(pl, c0, p->width_reduce, floor_w);
            if (hn_plan_est_bytes(pl, store_enc, beta) > bytes) break;
            best = c0;
        }
        if (best < floor_w) continue;
        hn_plan_set_width(pl, best, p->width_reduce, floor_w);
        if (p->min_width || floor_w <= 6 || clamped_layers(pl, p->width_reduce, floor_w) <= 1)
            return HINER_OK;
    }
    int floor_w = p->min_width ? p->min_width : floors[nf - 1];
    hn_plan_set_width(pl, floor_w, p->width_reduce, floor_w);
    hn_logf(lg, 0, "%.0f bytes cannot hold the smallest network for this cube (about %.0f bytes)",
            bytes, hn_plan_est_bytes(pl, store_enc, beta));
    return HINER_E_BUDGET;
}

double hn_plan_min_bytes(const hiner_params *p, uint32_t W, uint32_t H, uint32_t C)
{
    hiner_plan pl;
    const double beta = HN_BETA(p->quant_bits);
    if (plan_geometry(p, W, H, C, &pl, NULL, 0, 1.0) != HINER_OK) return INFINITY;
    if (!p->enc_hidden && p->store_encoder) pl.enc_hidden = 8;
    const int floor_w = p->min_width ? p->min_width : 2;
    hn_plan_set_width(&pl, floor_w, p->width_reduce, floor_w);
    return hn_plan_est_bytes(&pl, p->store_encoder, beta);
}

hiner_status hn_plan_make(const hiner_params *p, uint32_t W, uint32_t H, uint32_t C,
                          hiner_plan *pl, const hn_log *lg)
{
    HN_CHECK(!p || !pl, HINER_E_INVALID_ARG);
    if (p->model_bytes > 0) {
        HN_FORWARD(plan_geometry(p, W, H, C, pl, lg, 1, 0.0));
        return paper_widths(p, pl, lg);
    }
    double bytes = p->size_bytes ? (double)p->size_bytes : p->bpppb * (double)W * H * C / 8.0;
    return hn_plan_for_rate(p, W, H, C, bytes, pl, lg);
}

hiner_status hn_plan_for_rate(const hiner_params *p, uint32_t W, uint32_t H, uint32_t C,
                              double bytes, hiner_plan *pl, const hn_log *lg)
{
    int b = p->quant_bits;
    HN_FORWARD(hn_plan_for_bytes(p, W, H, C, bytes, HN_BETA(b), pl, lg));
    /* Compute-bound: the automatic budget would train this network fewer than
     * HN_EPOCHS_WANT epochs. Size it for up to HN_EXTRA_BITS more bits per weight instead:
     * fewer weights that train longer, stored more precisely (the rate fit fills the file). */
    while (p->epochs < 0 && b < p->quant_bits + HN_EXTRA_BITS && b < 16 &&
           hn_epochs_for(p, pl) < HN_EPOCHS_WANT) {
        hiner_plan t;
        if (hn_plan_for_bytes(p, W, H, C, bytes, HN_BETA(b + 1), &t, NULL) != HINER_OK)
            break; /* quietly: the network above stands */
        *pl = t;
        b++;
    }
    return HINER_OK;
}

hiner_status hiner_plan_compute(const hiner_params *p, uint32_t width, uint32_t height,
                                uint32_t bands, hiner_plan *out)
{
    HN_CHECK(!p || !out, HINER_E_INVALID_ARG);
    HN_FORWARD(hiner_params_validate(p));
    const hn_log lg = {p->log, p->log_user};
    HN_FORWARD(hn_plan_make(p, width, height, bands, out, &lg));
    HN_FORWARD(hn_plan_readable(out, &lg));
    out->epochs = hn_epochs_for(p, out);
    return HINER_OK;
}

double hn_effort_seconds(int effort)
{
    /* level 1 is 10 s of modelled steps for 100 x 100 pixels, each level about 1.7 times
     * the one below */
    static const double seconds[HINER_EFFORT_MAX] = {10, 17, 29, 50, 85, 145, 245, 420, 710};
    if (effort < 1) effort = 1;
    if (effort > HINER_EFFORT_MAX) effort = HINER_EFFORT_MAX;
    return seconds[effort - 1];
}

int hn_budget_epochs(const hiner_plan *pl, double seconds)
{
    /* multiply-adds actually run: padding rows that never reach the image are skipped */
    double macs = pl->forward_macs * (double)pl->height / (double)pl->pad_height;
    double step = HN_STEP_FIXED + 3.0 * macs / HN_STEP_MACS;
    double e = seconds / ((double)pl->bands * step);
    if (e < HN_EPOCHS_MIN) e = HN_EPOCHS_MIN;
    if (e > HN_EPOCHS_MAX) e = HN_EPOCHS_MAX;
    return (int)e;
}

int hn_epochs_pixels(const hiner_params *p, const hiner_plan *pl, double pixels)
{
    if (p->epochs >= 0) return p->epochs;
    const double units = pixels > HN_EFFORT_PIXELS ? pixels / HN_EFFORT_PIXELS : 1.0;
    return hn_budget_epochs(pl, units * hn_effort_seconds(p->effort));
}

int hn_epochs_for(const hiner_params *p, const hiner_plan *pl)
{
    return hn_epochs_pixels(p, pl, (double)pl->width * pl->height);
}

void hn_plan_act_floats(const hiner_plan *pl, uint64_t *frame, uint64_t *largest)
{
    uint64_t hw = (uint64_t)pl->embed_height * pl->embed_width, maxact = hw * pl->widths[0];
    for (int i = 0; i < pl->n_stages && hw <= HN_MAX_ACT; i++) {
        const uint64_t s2 = (uint64_t)pl->strides[i] * pl->strides[i];
        const uint64_t act = (uint64_t)pl->widths[i + 1] * s2 * hw; /* before PixelShuffle */
        maxact = act > maxact ? act : maxact;
        hw *= s2;
    }
    *frame = hw;
    *largest = maxact;
}

hiner_status hn_plan_readable(const hiner_plan *pl, const hn_log *lg)
{
    uint64_t hw, maxact;
    hn_plan_act_floats(pl, &hw, &maxact);
    if (hw > HN_MAX_ACT || maxact > HN_MAX_ACT) {
        hn_logf(lg, 0, "a %ux%u padded frame needs decoder activations of %llu floats, above "
                "the format's limit of %llu: split the scene into tiles of at most about "
                "%.0f pixels", pl->pad_width, pl->pad_height, (unsigned long long)maxact,
                (unsigned long long)HN_MAX_ACT,
                (double)HN_MAX_ACT / (double)pl->widths[pl->n_stages]);
        return HINER_E_LIMIT;
    }
    if (pl->decoder_params + pl->encoder_params > HN_MAX_PARAMS ||
        pl->embedding_params > HN_MAX_PARAMS) {
        hn_logf(lg, 0, "a network of %llu weights and %llu embedding values is above the "
                "format's limit of %llu",
                (unsigned long long)(pl->decoder_params + pl->encoder_params),
                (unsigned long long)pl->embedding_params, (unsigned long long)HN_MAX_PARAMS);
        return HINER_E_LIMIT;
    }
    return HINER_OK;
}

void hn_log_plan(const hn_log *lg, const hiner_plan *pl)
{
    char s[160] = "";
    size_t k = 0;
    for (int i = 0; i < pl->n_stages && k < sizeof s - 8; i++)
        k += (size_t)snprintf(s + k, sizeof s - k, "%s%d", i ? "," : "", pl->strides[i]);
    hn_logf(lg, 2, "plan: %ux%u padded to %ux%u, strides %s, widths %d..%d, embedding %dx%dx%d, "
            "encoder %dx%d, decoder %llu + encoder %llu (+ %llu embedding) parameters, "
            "%.1f MMAC per band", pl->width, pl->height, pl->pad_width, pl->pad_height, s,
            pl->widths[0], pl->widths[pl->n_stages], pl->embed_channels, pl->embed_height,
            pl->embed_width, 2 * pl->enc_freqs, pl->enc_hidden,
            (unsigned long long)pl->decoder_params, (unsigned long long)pl->encoder_params,
            (unsigned long long)pl->embedding_params, pl->forward_macs * 1e-6);
}
