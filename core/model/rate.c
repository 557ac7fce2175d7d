/*
 * rate.c - the rate fit (rate.h): tables of error and bytes per tensor and bit width, a
 * Lagrangian allocation over them, then single steps measured on the coded payloads.
 */
#include <math.h>

#include "rate.h"

void hn_qset_clear(hn_qset *q)
{
    for (int t = 0; t < q->nt; t++) hn_qtensor_free(&q->qt[t]);
    hn_buf_free(&q->deco);
    hn_buf_free(&q->rest);
}

void hn_qset_init(hn_qset *q, hiner_model *m, int store_encoder, int bits)
{
    memset(q, 0, sizeof *q);
    hn_net *net = &m->net;
    for (int t = HN_T_CONV0_W; t < net->n_tensors; t++) {
        int k = q->nt++;
        q->src[k] = q->dst[k] = net->params + net->t[t].off;
        q->rows[k] = net->t[t].shape[0];
        q->cols[k] = net->t[t].n / net->t[t].shape[0];
        q->net_index[k] = t;
    }
    q->n_dec = q->nt;
    if (store_encoder) {
        for (int t = 0; t < HN_T_CONV0_W; t++) {
            int k = q->nt++;
            q->src[k] = q->dst[k] = net->params + net->t[t].off;
            q->rows[k] = net->t[t].shape[0];
            q->cols[k] = net->t[t].n / net->t[t].shape[0];
            q->net_index[k] = t;
        }
    } else {
        int k = q->nt++;
        q->src[k] = q->dst[k] = m->embed;
        q->rows[k] = m->plan.bands;
        q->cols[k] = hn_embed_size(&m->plan);
        q->net_index[k] = -1;
    }
    for (int t = 0; t < q->nt; t++) q->bits[t] = bits, q->mode[t] = -1;
}

/* Both coders are tried when method is 0; the smaller's payloads are kept. */
hiner_status hn_qset_measure(hn_qset *q, int method, uint64_t *bytes)
{
    for (int t = 0; t < q->nt; t++) {
        hn_qtensor_free(&q->qt[t]);
        HN_FORWARD(hn_quantize(&q->qt[t], q->src[t], q->rows[t], q->cols[t], q->bits[t], q->mode[t],
                               NULL));
    }
    int methods[2] = {HN_ENTROPY_HUFFMAN, HN_ENTROPY_ARITH}, nm = 2;
    if (method) {
        methods[0] = method;
        nm = 1;
    }
    uint64_t best = UINT64_MAX;
    q->size_of[1] = q->size_of[2] = 0;
    for (int i = 0; i < nm; i++) {
        hn_buf a, b;
        hn_buf_init(&a);
        hn_buf_init(&b);
        hiner_status st = hn_pl_tensors(&a, methods[i], q->qt, (size_t)q->n_dec);
        if (st == HINER_OK)
            st = hn_pl_tensors(&b, methods[i], q->qt + q->n_dec, (size_t)(q->nt - q->n_dec));
        if (st != HINER_OK) {
            hn_buf_free(&a);
            hn_buf_free(&b);
            return st;
        }
        uint64_t size = a.n + b.n;
        q->size_of[methods[i]] = size;
        if (size < best) {
            best = size;
            hn_buf_free(&q->deco);
            hn_buf_free(&q->rest);
            q->deco = a;
            q->rest = b;
            q->method = methods[i];
        } else {
            hn_buf_free(&a);
            hn_buf_free(&b);
        }
    }
    *bytes = best;
    return HINER_OK;
}

void hn_qset_restore(hn_qset *q)
{
    for (int t = 0; t < q->nt; t++) hn_dequantize(q->dst[t], &q->qt[t]);
}

/* Fills q->D and q->R at every bit width the fit chooses from. */
static hiner_status qset_tables(hn_qset *q, int method)
{
    size_t most = 0;
    for (int t = 0; t < q->nt; t++)
        if (q->rows[t] * q->cols[t] > most) most = q->rows[t] * q->cols[t];
    float *w = hn_malloc(most, sizeof(float));
    HN_CHECK(!w, HINER_E_NOMEM);
    hiner_status st = HINER_OK;
    hn_qtensor qt;
    hn_buf b;
    memset(&qt, 0, sizeof qt);
    hn_buf_init(&b);
    for (int t = 0; t < q->nt; t++) {
        const size_t n = q->rows[t] * q->cols[t];
        for (int bits = HN_QB_LO; bits <= HN_QB_HI; bits++) {
            HN_GOTO_FWD(
                hn_quantize(&qt, q->src[t], q->rows[t], q->cols[t], bits, q->mode[t], NULL));
            hn_dequantize(w, &qt);
            double d = 0;
            for (size_t i = 0; i < n; i++) {
                const double e = (double)w[i] - q->src[t][i];
                d += q->sens[t][i] * e * e;
            }
            b.n = 0;
            HN_GOTO_FWD(hn_pl_tensors(&b, method ? method : HN_ENTROPY_ARITH, &qt, 1));
            q->D[t][bits] = d;
            q->R[t][bits] = (double)b.n;
            hn_qtensor_free(&qt);
        }
    }
fail:
    hn_qtensor_free(&qt);
    hn_buf_free(&b);
    hn_free(w);
    return st;
}

/* Per tensor, the bit width of least D + lam * R. */
static double bits_for_lambda(hn_qset *q, double lam)
{
    double bytes = 0;
    for (int t = 0; t < q->nt; t++) {
        int best = HN_QB_HI;
        for (int b = HN_QB_LO; b < HN_QB_HI; b++)
            if (q->D[t][b] + lam * q->R[t][b] < q->D[t][best] + lam * q->R[t][best]) best = b;
        q->bits[t] = best;
        bytes += q->R[t][best];
    }
    return bytes;
}

/* The tensor whose next step (a bit up: up = 1, down: 0) trades error for bytes best,
 * skipping the tensors marked in `tried`; -1 if none can move. */
static int best_step(const hn_qset *q, int up, const int *tried)
{
    int best = -1;
    double best_r = 0;
    for (int t = 0; t < q->nt; t++) {
        const int b = q->bits[t];
        if (tried[t] || (up ? b >= HN_QB_HI : b <= HN_QB_LO)) continue;
        const int o = up ? b + 1 : b - 1;
        const double dd = fabs(q->D[t][o] - q->D[t][b]);
        const double dr = fabs(q->R[t][o] - q->R[t][b]);
        const double r = dd / (dr > 0.5 ? dr : 0.5); /* error per byte */
        if (best < 0 || (up ? r > best_r : r < best_r)) best = t, best_r = r;
    }
    return best;
}

/* A Lagrangian allocation over the tables (unless `keep`), then steps measured on the
 * coded payloads until fixed + payloads is as near the target as fits (rate.h). */
hiner_status hn_rate_fit(hn_qset *q, int method, uint64_t fixed, uint64_t target, int keep,
                         uint64_t *total, const hn_log *lg)
{
    HN_FORWARD(qset_tables(q, method));
    if (!keep) {
        const double room = (double)target - (double)fixed;
        double lo = 1e-30, hi = 1e30; /* lam: lo is too small (too large a file), hi fits */
        for (int i = 0; i < 200 && hi / lo > 1.001; i++) {
            const double mid = sqrt(lo * hi);
            if (bits_for_lambda(q, mid) > room)
                lo = mid;
            else
                hi = mid;
        }
        bits_for_lambda(q, hi);
    }
    uint64_t s;
    HN_FORWARD(hn_qset_measure(q, method, &s));
    int tried[HN_MAX_TENSORS] = {0};
    while (fixed + s > target) {
        const int t = best_step(q, 0, tried);
        if (t < 0) break;
        q->bits[t]--;
        HN_FORWARD(hn_qset_measure(q, method, &s));
    }
    while (fixed + s < target) {
        const int t = best_step(q, 1, tried);
        if (t < 0) break;
        q->bits[t]++;
        uint64_t s2;
        HN_FORWARD(hn_qset_measure(q, method, &s2));
        if (fixed + s2 > target) {
            q->bits[t]--;
            tried[t] = 1;
        } else {
            s = s2;
        }
    }
    HN_FORWARD(hn_qset_measure(q, method, &s));
    *total = fixed + s;
    hn_logf(lg, 3, "rate fit: %llu bytes for a target of %llu", (unsigned long long)*total,
            (unsigned long long)target);
    return HINER_OK;
}
