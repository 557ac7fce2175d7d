/*
 * sformer.c - SpectralFormer (Hong et al., TGRS 2022; its ViT with mode 'CAF'), with the
 * optional ASW module in front: the parameter slab and its pointer table, PyTorch's
 * initialisation, the activations of one worker, and the forward and backward passes
 * over a sub-batch. Every layer is a kernel of core/nn/ or core/task/; this file only
 * wires them (shapes: B samples, N = T + 1 tokens of width D, R = B * N rows).
 */
#include <math.h>
#include <string.h>

#include "task.h"

/* Walks the slab in order: with base == NULL only counts. */
static size_t layout(hn_sf_params *t, float *base, const hn_sf_cfg *c, size_t *n_asw)
{
    size_t off = 0;
    hn_sf_params dummy;
    if (!t) t = &dummy;
    memset(t, 0, sizeof *t);
#define TAKE(field, n)                                                                       \
    do {                                                                                     \
        t->field = base ? base + off : NULL;                                                 \
        off += (n);                                                                          \
    } while (0)
    const size_t C = c->C, D = c->D, N = c->T + 1, PP = c->P * c->P;
    if (c->asw) {
        TAKE(as1_w, c->AH);
        TAKE(as1_b, c->AH);
        TAKE(as2_w, C * c->AH);
        TAKE(as2_b, C);
        TAKE(am1_w, c->AM * C);
        TAKE(am1_b, c->AM);
        TAKE(am2_w, C * c->AM);
        TAKE(am2_b, C);
    }
    if (n_asw) *n_asw = off;
    TAKE(gse_w, D * c->G * PP);
    TAKE(gse_b, D);
    TAKE(cls, D);
    TAKE(pos, N * D);
    for (size_t l = 0; l < c->depth; l++) {
        TAKE(L[l].ln1_w, D);
        TAKE(L[l].ln1_b, D);
        TAKE(L[l].qkv_w, 3 * D * D);
        TAKE(L[l].proj_w, D * D);
        TAKE(L[l].proj_b, D);
        TAKE(L[l].ln2_w, D);
        TAKE(L[l].ln2_b, D);
        TAKE(L[l].fc1_w, c->MLP * D);
        TAKE(L[l].fc1_b, c->MLP);
        TAKE(L[l].fc2_w, D * c->MLP);
        TAKE(L[l].fc2_b, D);
        if (c->caf && l >= 2) {
            TAKE(L[l].caf_w, 2 * N * N);
            TAKE(L[l].caf_b, N);
        }
    }
    TAKE(lnf_w, D);
    TAKE(lnf_b, D);
    TAKE(head_w, c->K * D);
    TAKE(head_b, c->K);
#undef TAKE
    return off;
}

size_t hn_sf_count(const hn_sf_cfg *cfg, size_t *n_asw)
{
    return layout(NULL, NULL, cfg, n_asw);
}

void hn_sf_bind(hn_sf_params *t, float *slab, const hn_sf_cfg *cfg)
{
    layout(t, slab, cfg, NULL);
}

static void uniform(float *p, size_t n, float bound, hn_rng *rng)
{
    for (size_t i = 0; i < n; i++) p[i] = (2.0f * hn_rng_uniform(rng) - 1.0f) * bound;
}
static void fill(float *p, size_t n, float v)
{
    for (size_t i = 0; i < n; i++) p[i] = v;
}

void hn_sf_init(const hn_sf_params *t, const hn_sf_cfg *c, hn_rng *rng)
{
    const size_t C = c->C, D = c->D, N = c->T + 1, PP = c->P * c->P, GP = c->G * PP;
    if (c->asw) {
        /* ASW draws from its own stream, derived from rng without advancing it: the
         * classifier starts from the same weights (and training shuffles alike) with or
         * without ASW, so the two are compared on the same footing */
        hn_rng ar = *rng;
        hn_rng_seed(&ar, hn_rng_next(&ar) ^ 0x415357ULL);
        uniform(t->as1_w, c->AH, 1.0f, &ar); /* Linear(1, AH): fan_in 1 */
        uniform(t->as1_b, c->AH, 1.0f, &ar);
        fill(t->as2_w, C * c->AH, 0.0f);     /* zero, as the authors' ScalingNet: s = 1 */
        fill(t->as2_b, C, 0.0f);
        uniform(t->am1_w, c->AM * C, 1.0f / sqrtf((float)C), &ar);
        uniform(t->am1_b, c->AM, 1.0f / sqrtf((float)C), &ar);
        fill(t->am2_w, C * c->AM, 0.0f);     /* zero: ASW starts as the identity */
        fill(t->am2_b, C, 0.0f);
    }
    uniform(t->gse_w, D * GP, 1.0f / sqrtf((float)GP), rng);
    uniform(t->gse_b, D, 1.0f / sqrtf((float)GP), rng);
    for (size_t i = 0; i < D; i++) t->cls[i] = hn_rng_normal(rng);
    for (size_t i = 0; i < N * D; i++) t->pos[i] = hn_rng_normal(rng);
    const float bd = 1.0f / sqrtf((float)D), bm = 1.0f / sqrtf((float)c->MLP);
    for (size_t l = 0; l < c->depth; l++) {
        const hn_sf_layer *L = &t->L[l];
        fill(L->ln1_w, D, 1.0f);
        fill(L->ln1_b, D, 0.0f);
        uniform(L->qkv_w, 3 * D * D, bd, rng);
        uniform(L->proj_w, D * D, bd, rng);
        uniform(L->proj_b, D, bd, rng);
        fill(L->ln2_w, D, 1.0f);
        fill(L->ln2_b, D, 0.0f);
        uniform(L->fc1_w, c->MLP * D, bd, rng);
        uniform(L->fc1_b, c->MLP, bd, rng);
        uniform(L->fc2_w, D * c->MLP, bm, rng);
        uniform(L->fc2_b, D, bm, rng);
        if (L->caf_w) { /* Conv2d(N, N, [1,2]): fan_in 2N */
            const float bc = 1.0f / sqrtf(2.0f * (float)N);
            uniform(L->caf_w, 2 * N * N, bc, rng);
            uniform(L->caf_b, N, bc, rng);
        }
    }
    fill(t->lnf_w, D, 1.0f);
    fill(t->lnf_b, D, 0.0f);
    uniform(t->head_w, c->K * D, bd, rng);
    uniform(t->head_b, c->K, bd, rng);
}

/* ---- activations ---- */
typedef struct {
    float **p;
    size_t n;
} slot;

#define SLOT(ptr, count) (s[ns].p = &(ptr), s[ns].n = (count), ns++)

/* The forward pass's tensors for B samples, in slab order, into s; returns their number. */
static size_t forward_slots(slot *s, hn_sf_acts *a, const hn_sf_cfg *c, size_t B)
{
    const size_t C = c->C, T = c->T, D = c->D, N = T + 1, PP = c->P * c->P, GP = c->G * PP;
    const size_t K = c->K;
    const size_t R = B * N, RP = B * PP;
    size_t ns = 0;
    SLOT(a->inp, RP * C);
    if (c->asw) {
        SLOT(a->ascale, C);
        SLOT(a->azpre, c->AH);
        SLOT(a->az, c->AH);
        SLOT(a->axs, RP * C);
        SLOT(a->ah, RP * c->AM);
        SLOT(a->ag, RP * c->AM);
        SLOT(a->ay, RP * C);
    }
    SLOT(a->X, B * T * GP);
    SLOT(a->E, B * T * D);
    for (size_t l = 0; l <= c->depth; l++) SLOT(a->lin[l], R * D);
    for (size_t l = 0; l < c->depth; l++) {
        if (c->caf && l >= 2) SLOT(a->xl[l], R * D);
        SLOT(a->ln1[l], R * D);
        SLOT(a->ln1_m[l], R);
        SLOT(a->ln1_r[l], R);
        SLOT(a->qkv[l], R * 3 * D);
        SLOT(a->att[l], B * c->NH * N * N);
        SLOT(a->ao[l], R * D);
        SLOT(a->xm[l], R * D);
        SLOT(a->ln2[l], R * D);
        SLOT(a->ln2_m[l], R);
        SLOT(a->ln2_r[l], R);
        SLOT(a->fh[l], R * c->MLP);
        SLOT(a->fg[l], R * c->MLP);
    }
    SLOT(a->zc, B * D);
    SLOT(a->lnf, B * D);
    SLOT(a->lnf_m, B);
    SLOT(a->lnf_r, B);
    SLOT(a->logits, B * K);
    SLOT(a->probs, B * K);
    return ns;
}

/* The backward pass's scratch for B samples, in slab order, into s; returns their number. */
static size_t backward_slots(slot *s, hn_sf_acts *a, const hn_sf_cfg *c, size_t B)
{
    const size_t C = c->C, T = c->T, D = c->D, N = T + 1, PP = c->P * c->P, GP = c->G * PP;
    const size_t K = c->K;
    const size_t R = B * N, RP = B * PP;
    size_t ns = 0;
    for (size_t l = 0; l <= c->depth; l++) SLOT(a->dlin[l], R * D);
    SLOT(a->dx, R * D);
    SLOT(a->dxm, R * D);
    SLOT(a->dln, R * D);
    SLOT(a->dqkv, R * 3 * D);
    SLOT(a->dao, R * D);
    SLOT(a->dfg, R * c->MLP);
    SLOT(a->datt, N * N);
    SLOT(a->dzc, B * D);
    SLOT(a->dlnf, B * D);
    SLOT(a->dlogits, B * K);
    SLOT(a->dE, B * T * D);
    SLOT(a->dtmp, R * D);
    if (c->asw) {
        SLOT(a->dX, B * T * GP);
        SLOT(a->dy, RP * C);
        SLOT(a->dah, RP * c->AM);
        SLOT(a->dscale, C);
    }
    return ns;
}
#undef SLOT

/* Points the dropout masks into a->bytes: R*D for the tokens, then per layer R*D, R*MLP,
 * R*D. */
static void bind_masks(hn_sf_acts *a, const hn_sf_cfg *c, size_t R)
{
    uint8_t *m = a->bytes;
    const size_t D = c->D;
    a->m_emb = m, m += R * D;
    for (size_t l = 0; l < c->depth; l++) {
        a->m_att[l] = m, m += R * D;
        a->m_hid[l] = m, m += R * c->MLP;
        a->m_out[l] = m, m += R * D;
    }
}

hiner_status hn_sf_acts_init(hn_sf_acts *a, const hn_sf_cfg *c, size_t Bmax, int train)
{
    memset(a, 0, sizeof *a);
    a->Bmax = Bmax;
    a->train = train;
    const size_t B = Bmax, R = B * (c->T + 1), RP = B * c->P * c->P, D = c->D;
    HN_CHECK(c->depth == 0 || c->depth > HN_SF_MAX_DEPTH, HINER_E_INVALID_ARG);
    slot s[64 + 16 * HN_SF_MAX_DEPTH];
    size_t ns = forward_slots(s, a, c, B);
    if (train) ns += backward_slots(s + ns, a, c, B);
    size_t total = 0;
    for (size_t i = 0; i < ns; i++) {
        HN_CHECK(s[i].n > HN_MAX_ALLOC / sizeof(float) - total, HINER_E_NOMEM);
        total += (s[i].n + 15) & ~(size_t)15; /* keep every tensor 64-byte aligned */
    }
    a->slab = hn_calloc(total, sizeof(float));
    a->mask = hn_calloc(RP, 1);
    a->target = hn_calloc(B, sizeof(int32_t));
    const size_t per_layer = 2 * R * D + R * c->MLP; /* dropout masks, see bind_masks */
    if (train && c->drop > 0.0f) a->bytes = hn_malloc(R * D + c->depth * per_layer, 1);
    if (!a->slab || !a->mask || !a->target || (train && c->drop > 0.0f && !a->bytes)) {
        hn_sf_acts_free(a);
        return HINER_E_NOMEM;
    }
    size_t off = 0;
    for (size_t i = 0; i < ns; i++) {
        *s[i].p = a->slab + off;
        off += (s[i].n + 15) & ~(size_t)15;
    }
    for (size_t l = 0; l < c->depth; l++)
        if (!a->xl[l]) a->xl[l] = a->lin[l];
    if (a->bytes) bind_masks(a, c, R);
    return HINER_OK;
}

void hn_sf_acts_free(hn_sf_acts *a)
{
    if (!a) return;
    hn_free(a->slab);
    hn_free(a->bytes);
    hn_free(a->mask);
    hn_free(a->target);
    memset(a, 0, sizeof *a);
}

/* ---- forward ---- */
double hn_sf_forward(const hn_sf_cfg *c, const hn_sf_params *w, hn_sf_acts *a, size_t B,
                     hn_rng *rng)
{
    const size_t C = c->C, T = c->T, D = c->D, N = T + 1, PP = c->P * c->P, R = B * N;
    const size_t HS = D / c->NH;
    const float p = c->drop;
    const int drop = rng && p > 0.0f && a->bytes;
    a->dropped = drop;
    double rec = 0.0;
    const float *y = a->inp;
    if (c->asw) {
        const size_t RP = B * PP;
        asw_scale_forward(a->ascale, a->azpre, a->az, w->as1_w, w->as1_b, w->as2_w, w->as2_b,
                          C, c->AH);
        asw_forward(a->ay, a->axs, a->ah, a->ag, a->inp, a->ascale, w->am1_w, w->am1_b,
                    w->am2_w, w->am2_b, RP, C, c->AM);
        /* invalid pixels stay 0 (the classifier's padding value); L_R over valid ones */
        for (size_t r = 0; r < RP; r++) {
            float *o = a->ay + r * C;
            if (!a->mask[r]) {
                memset(o, 0, C * sizeof(float));
                continue;
            }
            const float *x = a->inp + r * C;
            double s = 0.0;
            for (size_t k = 0; k < C; k++) {
                double d = (double)o[k] - x[k];
                s += d * d;
            }
            rec += s;
        }
        y = a->ay;
    }
    /* tokens: [class token, one per band (every S-th band)] + positions */
    gse_forward(a->E, a->X, y, w->gse_w, w->gse_b, B, PP, C, c->G, c->S, T, D);
    for (size_t b = 0; b < B; b++) {
        float *t = a->lin[0] + b * N * D;
        for (size_t d = 0; d < D; d++) t[d] = w->cls[d] + w->pos[d];
        const float *e = a->E + b * T * D;
        for (size_t i = 0; i < T * D; i++) t[D + i] = e[i] + w->pos[D + i];
    }
    if (drop) dropout_forward(a->lin[0], a->m_emb, a->lin[0], R * D, p, rng);
    for (size_t l = 0; l < c->depth; l++) {
        const hn_sf_layer *L = &w->L[l];
        const float *x = a->lin[l];
        if (c->caf && l >= 2) {
            caf_forward(a->xl[l], a->lin[l], a->lin[l - 2], L->caf_w, L->caf_b, B, N, D);
            x = a->xl[l];
        }
        /* xm = x + proj(attention(qkv(LN1(x)))) */
        layernorm_forward(a->ln1[l], a->ln1_m[l], a->ln1_r[l], x, L->ln1_w, L->ln1_b, R, D);
        linear_forward(a->qkv[l], a->ln1[l], L->qkv_w, NULL, R, D, 3 * D);
        attention_forward(a->ao[l], a->att[l], a->qkv[l], B, N, c->NH, HS);
        linear_forward(a->xm[l], a->ao[l], L->proj_w, L->proj_b, R, D, D);
        if (drop) dropout_forward(a->xm[l], a->m_att[l], a->xm[l], R * D, p, rng);
        for (size_t i = 0; i < R * D; i++) a->xm[l][i] += x[i];
        /* out = xm + fc2(GELU(fc1(LN2(xm)))) */
        layernorm_forward(a->ln2[l], a->ln2_m[l], a->ln2_r[l], a->xm[l], L->ln2_w, L->ln2_b,
                          R, D);
        linear_forward(a->fh[l], a->ln2[l], L->fc1_w, L->fc1_b, R, D, c->MLP);
        gelu_forward(a->fg[l], a->fh[l], R * c->MLP);
        if (drop) dropout_forward(a->fg[l], a->m_hid[l], a->fg[l], R * c->MLP, p, rng);
        float *out = a->lin[l + 1];
        linear_forward(out, a->fg[l], L->fc2_w, L->fc2_b, R, c->MLP, D);
        if (drop) dropout_forward(out, a->m_out[l], out, R * D, p, rng);
        for (size_t i = 0; i < R * D; i++) out[i] += a->xm[l][i];
    }
    /* head on the class token */
    for (size_t b = 0; b < B; b++)
        memcpy(a->zc + b * D, a->lin[c->depth] + b * N * D, D * sizeof(float));
    layernorm_forward(a->lnf, a->lnf_m, a->lnf_r, a->zc, w->lnf_w, w->lnf_b, B, D);
    linear_forward(a->logits, a->lnf, w->head_w, w->head_b, B, D, c->K);
    return rec;
}

/* ---- backward ---- */
/* The head on the class token: CE into dlin[depth]'s class-token rows. */
static void head_backward(const hn_sf_cfg *c, const hn_sf_params *w, const hn_sf_params *g,
                          hn_sf_acts *a, size_t B, float ce_scale)
{
    const size_t D = c->D, N = c->T + 1, K = c->K;
    memset(a->dlogits, 0, B * K * sizeof(float));
    crossentropy_backward(a->dlogits, a->probs, a->target, B, K, ce_scale);
    memset(a->dlnf, 0, B * D * sizeof(float));
    linear_backward(a->dlnf, g->head_w, g->head_b, a->dlogits, a->lnf, w->head_w, B, D, K);
    memset(a->dzc, 0, B * D * sizeof(float));
    layernorm_backward(a->dzc, g->lnf_w, g->lnf_b, a->dlnf, a->zc, w->lnf_w, a->lnf_m, a->lnf_r,
                       B, D);
    for (size_t b = 0; b < B; b++) {
        float *d = a->dlin[c->depth] + b * N * D;
        for (size_t i = 0; i < D; i++) d[i] += a->dzc[b * D + i];
    }
}

/* Encoder layer l: from dlin[l+1] into dlin[l] (and dlin[l-2] through CAF). */
static void layer_backward(const hn_sf_cfg *c, const hn_sf_params *w, const hn_sf_params *g,
                           hn_sf_acts *a, size_t B, size_t l)
{
    const size_t D = c->D, N = c->T + 1, R = B * N, HS = D / c->NH, M = c->MLP;
    const float p = c->drop;
    const int drop = a->dropped;
    const hn_sf_layer *L = &w->L[l], *G = &g->L[l];
    const float *dy = a->dlin[l + 1];
    const float *x = a->xl[l];
    /* out = xm + drop(fc2(drop(GELU(fc1(LN2(xm)))))) */
    memcpy(a->dxm, dy, R * D * sizeof(float));
    const float *dfc2 = dy;
    if (drop) {
        memset(a->dtmp, 0, R * D * sizeof(float));
        dropout_backward(a->dtmp, a->m_out[l], dy, R * D, p);
        dfc2 = a->dtmp;
    }
    memset(a->dfg, 0, R * M * sizeof(float));
    linear_backward(a->dfg, G->fc2_w, G->fc2_b, dfc2, a->fg[l], L->fc2_w, R, M, D);
    if (drop) /* in place: mask / (1 - p) */
        for (size_t i = 0; i < R * M; i++)
            a->dfg[i] = a->m_hid[l][i] ? a->dfg[i] / (1.0f - p) : 0.0f;
    gelu_backward_inplace(a->dfg, a->fh[l], R * M);
    memset(a->dln, 0, R * D * sizeof(float));
    linear_backward(a->dln, G->fc1_w, G->fc1_b, a->dfg, a->ln2[l], L->fc1_w, R, D, M);
    layernorm_backward(a->dxm, G->ln2_w, G->ln2_b, a->dln, a->xm[l], L->ln2_w, a->ln2_m[l],
                       a->ln2_r[l], R, D);
    /* xm = x + drop(proj(attention(qkv(LN1(x))))) */
    memcpy(a->dx, a->dxm, R * D * sizeof(float));
    const float *dproj = a->dxm;
    if (drop) {
        memset(a->dtmp, 0, R * D * sizeof(float));
        dropout_backward(a->dtmp, a->m_att[l], a->dxm, R * D, p);
        dproj = a->dtmp;
    }
    memset(a->dao, 0, R * D * sizeof(float));
    linear_backward(a->dao, G->proj_w, G->proj_b, dproj, a->ao[l], L->proj_w, R, D, D);
    memset(a->dqkv, 0, R * 3 * D * sizeof(float));
    attention_backward(a->dqkv, a->dao, a->qkv[l], a->att[l], B, N, c->NH, HS, a->datt);
    memset(a->dln, 0, R * D * sizeof(float));
    linear_backward(a->dln, G->qkv_w, NULL, a->dqkv, a->ln1[l], L->qkv_w, R, D, 3 * D);
    layernorm_backward(a->dx, G->ln1_w, G->ln1_b, a->dln, x, L->ln1_w, a->ln1_m[l], a->ln1_r[l],
                       R, D);
    /* the layer input: CAF of (lin[l], lin[l-2]) or lin[l] itself */
    if (c->caf && l >= 2) {
        caf_backward(a->dlin[l], a->dlin[l - 2], G->caf_w, G->caf_b, a->dx, a->lin[l],
                     a->lin[l - 2], L->caf_w, B, N, D);
    } else {
        float *d = a->dlin[l];
        for (size_t i = 0; i < R * D; i++) d[i] += a->dx[i];
    }
}

/* ASW in front of the embedding: dy (from GSE) plus L_R's term, then both MLPs. */
static void asw_part_backward(const hn_sf_cfg *c, const hn_sf_params *w, const hn_sf_params *g,
                              hn_sf_acts *a, size_t B, float rec_scale)
{
    const size_t C = c->C, RP = B * c->P * c->P;
    /* the forward pass set invalid pixels to 0 after ASW; L_R = sum (y - x)^2 over valid ones */
    for (size_t r = 0; r < RP; r++) {
        float *d = a->dy + r * C;
        if (!a->mask[r]) {
            memset(d, 0, C * sizeof(float));
            continue;
        }
        const float *o = a->ay + r * C, *x = a->inp + r * C;
        for (size_t k = 0; k < C; k++) d[k] += 2.0f * rec_scale * (o[k] - x[k]);
    }
    memset(a->dscale, 0, C * sizeof(float));
    asw_backward(NULL, a->dscale, g->am1_w, g->am1_b, g->am2_w, g->am2_b, a->dy, a->axs, a->ah,
                 a->ag, a->inp, a->ascale, w->am1_w, w->am2_w, RP, C, c->AM, a->dah);
    asw_scale_backward(g->as1_w, g->as1_b, g->as2_w, g->as2_b, a->dscale, a->azpre, a->az,
                       w->as2_w, C, c->AH);
}

void hn_sf_backward(const hn_sf_cfg *c, const hn_sf_params *w, const hn_sf_params *g,
                    hn_sf_acts *a, size_t B, float ce_scale, float rec_scale)
{
    const size_t C = c->C, T = c->T, D = c->D, N = T + 1, PP = c->P * c->P, R = B * N;
    const float p = c->drop;
    for (size_t l = 0; l <= c->depth; l++) memset(a->dlin[l], 0, R * D * sizeof(float));
    head_backward(c, w, g, a, B, ce_scale);
    for (size_t l = c->depth; l-- > 0;) layer_backward(c, w, g, a, B, l); /* last layer first */
    /* tokens */
    if (a->dropped)
        for (size_t i = 0; i < R * D; i++)
            a->dlin[0][i] = a->m_emb[i] ? a->dlin[0][i] / (1.0f - p) : 0.0f;
    for (size_t b = 0; b < B; b++) {
        const float *d = a->dlin[0] + b * N * D;
        for (size_t i = 0; i < D; i++) g->cls[i] += d[i];
        for (size_t i = 0; i < N * D; i++) g->pos[i] += d[i];
        memcpy(a->dE + b * T * D, d + D, T * D * sizeof(float));
    }
    if (!c->asw) {
        gse_backward(NULL, g->gse_w, g->gse_b, a->dE, a->X, w->gse_w, B, PP, C, c->G, c->S, T, D,
                     NULL);
        return;
    }
    memset(a->dy, 0, B * PP * C * sizeof(float));
    gse_backward(a->dy, g->gse_w, g->gse_b, a->dE, a->X, w->gse_w, B, PP, C, c->G, c->S, T, D,
                 a->dX);
    asw_part_backward(c, w, g, a, B, rec_scale);
}
