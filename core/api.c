/*
 * api.c - public entry points that belong to no module: versions, status strings, data
 * types, and the parameter struct's defaults and range checks.
 */
#include <math.h>

#include "internal.h"

#define STR2(x) #x
#define STR(x) STR2(x)

unsigned hiner_version(void)
{
    return HINER_VERSION_NUMBER;
}

const char *hiner_version_string(void)
{
    return STR(HINER_VERSION_MAJOR) "." STR(HINER_VERSION_MINOR) "." STR(HINER_VERSION_PATCH);
}

const char *hiner_status_str(int status)
{
    switch (status) {
    case HINER_OK: return "no error";
    case HINER_E_GENERIC: return "internal error";
    case HINER_E_NOMEM: return "out of memory";
    case HINER_E_INVALID_ARG: return "invalid argument";
    case HINER_E_CORRUPT: return "corrupt or not a HINER stream";
    case HINER_E_TRUNCATED: return "truncated stream";
    case HINER_E_VERSION: return "stream needs a newer version of libhiner";
    case HINER_E_ABORTED: return "cancelled by the caller";
    case HINER_E_IO: return "read or write failed";
    case HINER_E_UNSUPPORTED: return "not available in this stream";
    case HINER_E_RANGE: return "band or wavelength out of range";
    case HINER_E_BUDGET: return "size target too small for any model";
    case HINER_E_ABI: return "header and library versions differ";
    case HINER_E_LIMIT: return "size beyond the library's limits";
    case HINER_E_NODATA: return "every pixel is NoData";
    }
    return "unknown status";
}

size_t hiner_dtype_size(hiner_dtype t)
{
    switch (t) {
    case HINER_UINT8:
    case HINER_INT8: return 1;
    case HINER_UINT16:
    case HINER_INT16: return 2;
    case HINER_UINT32:
    case HINER_INT32:
    case HINER_FLOAT32: return 4;
    case HINER_FLOAT64: return 8;
    }
    return 0;
}

const char *hiner_dtype_name(hiner_dtype t)
{
    switch (t) {
    case HINER_UINT8: return "UInt8";
    case HINER_INT8: return "Int8";
    case HINER_UINT16: return "UInt16";
    case HINER_INT16: return "Int16";
    case HINER_UINT32: return "UInt32";
    case HINER_INT32: return "Int32";
    case HINER_FLOAT32: return "Float32";
    case HINER_FLOAT64: return "Float64";
    }
    return "unknown";
}

hiner_status hiner_params_init(hiner_params *p, int abi_version)
{
    HN_CHECK(!p, HINER_E_INVALID_ARG);
    HN_CHECK(abi_version != HINER_ABI_VERSION, HINER_E_ABI);
    memset(p, 0, sizeof *p);
    p->abi_version = HINER_ABI_VERSION;
    p->bpppb = 0.2;
    p->epochs = -1; /* automatic */
    p->lr = 3e-3f;
    p->warmup = 0.1f;
    p->w_l1 = 0.5f;
    p->w_cam = 0.005f;
    p->seed = 1;
    p->threads = 1;
    p->quant_bits = 8;
    p->embed_channels = 16;
    p->min_width = 0;   /* automatic */
    p->width_reduce = 1.2f;
    p->enc_freqs = 0;   /* automatic */
    p->enc_base = 1.25f;
    p->enc_hidden = 0;  /* automatic */
    p->store_encoder = 1;
    p->entropy = HINER_ENTROPY_DEFAULT;
    p->qat_epochs = -1; /* automatic */
    p->max_kernel = 5;
    p->tile_margin = -1; /* automatic */
    p->effort = HINER_EFFORT_DEFAULT;
    return HINER_OK;
}

hiner_status hiner_params_validate(const hiner_params *p)
{
    HN_CHECK(!p, HINER_E_INVALID_ARG);
    HN_CHECK(p->abi_version != HINER_ABI_VERSION, HINER_E_ABI);
    const hn_log lg = {p->log, p->log_user};
#define RANGE(cond, ...) HN_CHECK_ARG(&lg, cond, __VA_ARGS__)
    RANGE(isfinite(p->bpppb) && p->bpppb >= 0 && p->bpppb <= 64, "bpppb %g not in [0, 64]",
          p->bpppb);
    RANGE(isfinite(p->model_bytes) && p->model_bytes >= 0, "model_bytes %g is negative",
          p->model_bytes);
    RANGE(p->bpppb > 0 || p->size_bytes > 0 || p->model_bytes > 0,
          "no size target: set bpppb, size_bytes or model_bytes");
    RANGE(p->epochs >= -1 && p->epochs <= 100000, "epochs %d not in [-1, 100000]", p->epochs);
    RANGE(isfinite(p->lr) && p->lr > 0 && p->lr < 1, "lr %g not in (0, 1)", (double)p->lr);
    RANGE(isfinite(p->warmup) && p->warmup >= 0 && p->warmup < 1, "warmup %g not in [0, 1)",
          (double)p->warmup);
    RANGE(isfinite(p->w_l1) && p->w_l1 >= 0, "w_l1 %g is negative", (double)p->w_l1);
    RANGE(isfinite(p->w_cam) && p->w_cam >= 0, "w_cam %g is negative", (double)p->w_cam);
    RANGE(isfinite(p->w_l2) && p->w_l2 >= 0, "w_l2 %g is negative", (double)p->w_l2);
    RANGE(p->w_l1 > 0 || p->w_cam > 0 || p->w_l2 > 0, "every loss weight is zero");
    RANGE(p->threads >= 0 && p->threads <= 256, "threads %d not in [0, 256]", p->threads);
    RANGE(p->quant_bits >= 2 && p->quant_bits <= 16, "quant_bits %d not in [2, 16]",
          p->quant_bits);
    RANGE(p->n_stages >= 0 && p->n_stages <= HINER_MAX_STAGES, "n_stages %d not in [0, %d]",
          p->n_stages, HINER_MAX_STAGES);
    for (int i = 0; i < p->n_stages; i++)
        RANGE(p->strides[i] >= 1 && p->strides[i] <= 8, "stride %d not in [1, 8]",
              p->strides[i]);
    RANGE(p->pad_height >= 0 && p->pad_width >= 0, "negative padded size");
    RANGE(p->embed_height >= 0 && p->embed_height <= 64 && p->embed_width >= 0 &&
              p->embed_width <= 64, "embedding size not in [0, 64]");
    RANGE(p->embed_channels >= 1 && p->embed_channels <= 256, "embed_channels %d not in [1, 256]",
          p->embed_channels);
    RANGE(p->min_width >= 0 && p->min_width <= 1024, "min_width %d not in [0, 1024]",
          p->min_width);
    RANGE(isfinite(p->width_reduce) && p->width_reduce >= 1 && p->width_reduce <= 4,
          "width_reduce %g not in [1, 4]", (double)p->width_reduce);
    RANGE(p->enc_freqs >= 0 && p->enc_freqs <= 256, "enc_freqs %d not in [0, 256]",
          p->enc_freqs);
    RANGE(isfinite(p->enc_base) && p->enc_base > 1 && p->enc_base <= 4,
          "enc_base %g not in (1, 4]", (double)p->enc_base);
    RANGE(p->enc_hidden >= 0 && p->enc_hidden <= 4096, "enc_hidden %d not in [0, 4096]",
          p->enc_hidden);
    RANGE(p->store_encoder == 0 || p->store_encoder == 1, "store_encoder %d not 0 or 1",
          p->store_encoder);
    RANGE(p->entropy >= 0 && p->entropy <= 2, "entropy %d not in [0, 2]", p->entropy);
    RANGE(p->qat_epochs >= -1 && p->qat_epochs <= 100000, "qat_epochs %d not in [-1, 100000]",
          p->qat_epochs);
    RANGE(p->evaluate == 0 || p->evaluate == 1, "evaluate %d not 0 or 1", p->evaluate);
    RANGE(p->max_kernel == 1 || p->max_kernel == 3 || p->max_kernel == 5 || p->max_kernel == 7,
          "max_kernel %d not 1, 3, 5 or 7", p->max_kernel);
    RANGE(p->tile_width >= 0 && p->tile_width <= 65535 && p->tile_height >= 0 &&
              p->tile_height <= 65535, "tile size %dx%d not in [0, 65535]", p->tile_width,
          p->tile_height);
    RANGE(p->tile_margin >= -1 && p->tile_margin <= 256, "tile_margin %d not in [-1, 256]",
          p->tile_margin);
    RANGE(p->effort >= 1 && p->effort <= HINER_EFFORT_MAX, "effort %d not in [1, %d]", p->effort,
          HINER_EFFORT_MAX);
#undef RANGE
    return HINER_OK;
}
