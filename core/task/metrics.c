/*
 * metrics.c - the classification scores of the HSI literature: overall accuracy (OA),
 * average accuracy (AA, the mean of per-class recalls), Cohen's kappa
 * ((p_o - p_e) / (1 - p_e) from the confusion matrix), per-class accuracy, and the
 * confusion matrix itself; and the seeded training / test split of labelled pixels.
 */
#include <math.h>

#include "../internal.h"
#include "hiner_classify.h"

hiner_status hiner_classify_score(const uint8_t *truth, const uint8_t *pred, size_t n,
                                  int n_classes, uint64_t *confusion, double *per_class,
                                  hiner_class_scores *out)
{
    HN_CHECK(!truth || !pred || !out, HINER_E_INVALID_ARG);
    HN_CHECK(n_classes < 1 || n_classes > HINER_CLASS_MAX, HINER_E_INVALID_ARG);
    const size_t K = (size_t)n_classes;
    hiner_status st = HINER_OK;
    uint64_t *cm = hn_calloc(K * K, sizeof(uint64_t));
    uint64_t *row = hn_calloc(K, sizeof(uint64_t)); /* true pixels per class */
    HN_GOTO_IF(!cm || !row, HINER_E_NOMEM);
    uint64_t total = 0, correct = 0;
    for (size_t i = 0; i < n; i++) {
        if (!truth[i]) continue;
        HN_GOTO_IF(truth[i] > K, HINER_E_INVALID_ARG); /* a label outside the classes */
        const size_t t = truth[i] - 1u;
        total++;
        row[t]++;
        if (pred[i] >= 1 && pred[i] <= K) {
            cm[t * K + (pred[i] - 1u)]++;
            correct += pred[i] - 1u == t;
        }
    }
    /* kappa: p_o = correct / n, p_e = sum_k (true_k / n) (predicted_k / n) */
    double aa = 0.0, pe = 0.0;
    int classes_seen = 0;
    for (size_t k = 0; k < K; k++) {
        uint64_t col = 0;
        for (size_t t = 0; t < K; t++) col += cm[t * K + k];
        double acc = row[k] ? (double)cm[k * K + k] / (double)row[k] : NAN;
        if (per_class) per_class[k] = acc;
        if (row[k]) {
            aa += acc;
            classes_seen++;
        }
        if (total) pe += ((double)row[k] / (double)total) * ((double)col / (double)total);
    }
    out->n = total;
    out->correct = correct;
    out->oa = total ? (double)correct / (double)total : NAN;
    out->aa = classes_seen ? aa / classes_seen : NAN;
    out->kappa = total ? (pe < 1.0 ? (out->oa - pe) / (1.0 - pe) : 1.0) : NAN;
    if (confusion) memcpy(confusion, cm, K * K * sizeof(uint64_t));
fail:
    hn_free(cm);
    hn_free(row);
    return st;
}

hiner_status hiner_classify_split(const uint8_t *labels, size_t n, int n_classes,
                                  uint32_t per_class, double fraction, uint64_t seed,
                                  uint8_t *train, uint8_t *test, hiner_log_fn log,
                                  void *log_user)
{
    const hn_log lg = {log, log_user};
    HN_CHECK(!labels || !train || !test, HINER_E_INVALID_ARG);
    HN_CHECK(n_classes < 2 || n_classes > HINER_CLASS_MAX, HINER_E_INVALID_ARG);
    HN_CHECK(per_class == 0 && !(fraction > 0.0 && fraction < 1.0), HINER_E_INVALID_ARG);
    hiner_status st = HINER_OK;
    const size_t K = (size_t)n_classes;
    size_t *count = hn_calloc(K, sizeof(size_t));
    size_t *idx = hn_malloc(n ? n : 1, sizeof(size_t));
    HN_GOTO_IF(!count || !idx, HINER_E_NOMEM);
    for (size_t i = 0; i < n; i++) {
        if (labels[i] > K) {
            hn_logf(&lg, 0, "label %d is above the %d classes", labels[i], n_classes);
            HN_GOTO_IF(1, HINER_E_INVALID_ARG);
        }
        if (labels[i]) count[labels[i] - 1]++;
    }
    memset(train, 0, n);
    memset(test, 0, n);
    hn_rng rng;
    hn_rng_seed(&rng, seed ^ 0x5b117ULL);
    for (size_t k = 0; k < K; k++) {
        size_t want = per_class ? per_class : (size_t)llround(fraction * (double)count[k]);
        if (want < 1) want = 1;
        if (count[k] < want + 1) {
            hn_logf(&lg, 0,
                    "class %zu has %zu labelled pixels: %zu for training and at least one "
                    "for testing are needed",
                    k + 1, count[k], want);
            HN_GOTO_IF(1, HINER_E_INVALID_ARG);
        }
        /* pixels of class k in raster order, then a partial Fisher-Yates draw */
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (labels[i] == k + 1) idx[m++] = i;
        HN_GOTO_IF(m > UINT32_MAX, HINER_E_LIMIT);
        for (size_t j = 0; j < want; j++) {
            size_t r = j + hn_rng_below(&rng, (uint32_t)(m - j));
            size_t t = idx[j];
            idx[j] = idx[r];
            idx[r] = t;
            train[idx[j]] = (uint8_t)(k + 1);
        }
        for (size_t j = want; j < m; j++) test[idx[j]] = (uint8_t)(k + 1);
    }
fail:
    hn_free(count);
    hn_free(idx);
    return st;
}
