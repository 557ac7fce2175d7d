/*
 * params.c - the classifier's parameters: SpectralFormer's defaults (patch, band group,
 * depth, optimiser, schedule; patch, band grouping and stride chosen by measurement on the
 * EnMAP mosaic, docs/benchmarks.md) and the range check every entry point runs first.
 */
#include <string.h>

#include "task.h"

hiner_status hiner_classify_params_init(hiner_classify_params *p, int abi_version)
{
    HN_CHECK(!p, HINER_E_INVALID_ARG);
    HN_CHECK(abi_version != HINER_ABI_VERSION, HINER_E_ABI);
    memset(p, 0, sizeof *p);
    p->abi_version = HINER_ABI_VERSION;
    p->patch = 3;
    p->band_group = 5;
    p->band_stride = 4;
    p->dim = 64;
    p->depth = 5;
    p->heads = 4;
    p->mlp_dim = 8;
    p->caf = 1;
    p->dropout = 0.1f;
    p->asw = 0;
    p->asw_beta = 2.5f;
    p->asw_hidden = 16;
    p->asw_reduce = 4;
    p->epochs = 60;
    p->batch = 64;
    p->lr = 5e-4f;
    p->weight_decay = 5e-3f;
    p->lr_gamma = 0.9f;
    p->augment = 0;
    p->isi_clean = 0.5f;
    p->isi_until = 0.7f;
    p->seed = 1;
    p->threads = 1;
    return HINER_OK;
}

hiner_status hiner_classify_params_validate(const hiner_classify_params *p)
{
    HN_CHECK(!p, HINER_E_INVALID_ARG);
    HN_CHECK(p->abi_version != HINER_ABI_VERSION, HINER_E_ABI);
    const hn_log lg = {p->log, p->log_user};
#define RANGE(cond, ...) HN_CHECK_ARG(&lg, cond, __VA_ARGS__)
    RANGE(p->patch >= 1 && p->patch <= 15 && p->patch % 2 == 1, "patch %d: odd, 1..15",
          p->patch);
    RANGE(p->band_group >= 1 && p->band_group <= 15 && p->band_group % 2 == 1,
          "band_group %d: odd, 1..15", p->band_group);
    RANGE(p->band_stride >= 1 && p->band_stride <= 64, "band_stride %d not in [1, 64]",
          p->band_stride);
    RANGE(p->dim >= 1 && p->dim <= 1024, "dim %d not in [1, 1024]", p->dim);
    RANGE(p->heads >= 1 && p->heads <= 64 && p->dim % p->heads == 0,
          "heads %d must divide dim %d (1..64)", p->heads, p->dim);
    RANGE(p->depth >= 1 && p->depth <= HN_SF_MAX_DEPTH, "depth %d not in [1, %d]", p->depth,
          HN_SF_MAX_DEPTH);
    RANGE(p->mlp_dim >= 1 && p->mlp_dim <= 4096, "mlp_dim %d not in [1, 4096]", p->mlp_dim);
    RANGE(p->caf == 0 || p->caf == 1, "caf %d: 0 or 1", p->caf);
    RANGE(p->dropout >= 0.0f && p->dropout < 0.9f, "dropout %g not in [0, 0.9)",
          (double)p->dropout);
    RANGE(p->asw == 0 || p->asw == 1, "asw %d: 0 or 1", p->asw);
    RANGE(p->asw_beta >= 0.0f && p->asw_beta <= 1e6f, "asw_beta %g not in [0, 1e6]",
          (double)p->asw_beta);
    RANGE(p->asw_hidden >= 1 && p->asw_hidden <= 4096, "asw_hidden %d not in [1, 4096]",
          p->asw_hidden);
    RANGE(p->asw_reduce >= 1 && p->asw_reduce <= 1024, "asw_reduce %d not in [1, 1024]",
          p->asw_reduce);
    RANGE(p->epochs >= 1 && p->epochs <= 100000, "epochs %d not in [1, 100000]", p->epochs);
    RANGE(p->batch >= 1 && p->batch <= 4096, "batch %d not in [1, 4096]", p->batch);
    RANGE(p->lr > 0.0f && p->lr <= 1.0f, "lr %g not in (0, 1]", (double)p->lr);
    RANGE(p->weight_decay >= 0.0f && p->weight_decay <= 1.0f, "weight_decay %g not in [0, 1]",
          (double)p->weight_decay);
    RANGE(p->lr_gamma > 0.0f && p->lr_gamma <= 1.0f, "lr_gamma %g not in (0, 1]",
          (double)p->lr_gamma);
    RANGE(p->augment == 0 || p->augment == 1, "augment %d: 0 or 1", p->augment);
    RANGE(p->isi_clean >= 0.0f && p->isi_clean <= 1.0f, "isi_clean %g not in [0, 1]",
          (double)p->isi_clean);
    RANGE(p->isi_until >= 0.0f && p->isi_until <= 1.0f, "isi_until %g not in [0, 1]",
          (double)p->isi_until);
    RANGE(p->threads >= 0 && p->threads <= 256, "threads %d not in [0, 256]", p->threads);
#undef RANGE
    return HINER_OK;
}
