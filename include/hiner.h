/*
 * hiner.h - HINER: hyperspectral images compressed into a neural representation.
 *
 * The only public header of libhiner. A cube (H x W x C) is represented by a small
 * network: a spectral encoder maps a wavelength to an embedding, a convolutional
 * decoder maps the embedding to the band. Training the network is encoding; running
 * it is decoding, band by band, at any stored band or at any wavelength in between.
 * Pixel classification of decoded cubes is a library of its own over this header:
 * libhiner_classify, declared in hiner_classify.h.
 *
 * Conventions (all functions):
 *   - every fallible call returns hiner_status (HINER_OK == 0, errors negative);
 *   - every _create/_open has a _free, and _free(NULL) is a no-op;
 *   - the caller owns the buffers it passes; the library keeps no caller pointer
 *     after a call returns unless the doc says so;
 *   - no globals: distinct handles may be used from distinct threads at the same time;
 *     one handle must not be used by two threads at once.
 */
#ifndef HINER_H
#define HINER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(HINER_BUILDING_DLL)
#define HINER_API __declspec(dllexport)
#elif defined(__GNUC__)
#define HINER_API __attribute__((visibility("default")))
#else
#define HINER_API
#endif

/* ====================================================================================
 * Version
 * ==================================================================================== */
#define HINER_VERSION_MAJOR 0
#define HINER_VERSION_MINOR 1
#define HINER_VERSION_PATCH 0
#define HINER_VERSION_NUMBER \
    (HINER_VERSION_MAJOR * 10000 + HINER_VERSION_MINOR * 100 + HINER_VERSION_PATCH)
/* Bumped whenever a public struct changes layout; hiner_params_init() checks it. */
#define HINER_ABI_VERSION 2

/* Library version as HINER_VERSION_NUMBER and as "MAJOR.MINOR.PATCH". */
HINER_API unsigned hiner_version(void);
HINER_API const char *hiner_version_string(void);

/* ====================================================================================
 * Status
 * ==================================================================================== */
/* Values are pinned once released; new ones are only appended. */
typedef enum hiner_status {
    HINER_OK = 0,
    HINER_E_GENERIC = -1,     /* unexpected internal failure */
    HINER_E_NOMEM = -2,       /* allocation failed or a size limit was exceeded */
    HINER_E_INVALID_ARG = -3, /* a parameter is out of range or inconsistent */
    HINER_E_CORRUPT = -4,     /* the data is not a valid HINER stream */
    HINER_E_TRUNCATED = -5,   /* the stream ends early */
    HINER_E_VERSION = -6,     /* the stream needs a newer library */
    HINER_E_ABORTED = -7,     /* a progress callback returned 0 */
    HINER_E_IO = -8,          /* a read or write callback failed (disk full, ...) */
    HINER_E_UNSUPPORTED = -9, /* the request needs something the stream does not hold */
    HINER_E_RANGE = -10,      /* a band index or wavelength outside what is covered */
    HINER_E_BUDGET = -11,     /* the requested size cannot hold even the smallest model */
    HINER_E_ABI = -12,        /* header and library were built from different versions */
    HINER_E_LIMIT = -13,      /* declared sizes beyond this library's limits */
    HINER_E_NODATA = -14      /* nothing to learn: every pixel of the cube is NoData */
} hiner_status;

/* A fixed English string for a status; never NULL. Thread-safe. */
HINER_API const char *hiner_status_str(int status);

/* ====================================================================================
 * Data types and callbacks
 * ==================================================================================== */
typedef enum hiner_dtype {
    HINER_UINT8 = 1,
    HINER_INT8 = 2,
    HINER_UINT16 = 3,
    HINER_INT16 = 4,
    HINER_UINT32 = 5,
    HINER_INT32 = 6,
    HINER_FLOAT32 = 7,
    HINER_FLOAT64 = 8
} hiner_dtype;

/* Bytes per sample of a dtype, 0 for an unknown value. */
HINER_API size_t hiner_dtype_size(hiner_dtype t);
/* "UInt8", "Int16", ... ; "unknown" for an unknown value. */
HINER_API const char *hiner_dtype_name(hiner_dtype t);

/* Progress: frac in [0,1], msg may be NULL. Return 0 to cancel (the call then returns
 * HINER_E_ABORTED). Same contract as GDALProgressFunc. */
typedef int (*hiner_progress_fn)(double frac, const char *msg, void *user);

/* Log sink for details (training curves, why a stream was rejected). level: 0 error,
 * 1 warning, 2 info, 3 debug. msg has no trailing newline. */
typedef void (*hiner_log_fn)(int level, const char *msg, void *user);

/* ====================================================================================
 * Params
 * ==================================================================================== */
#define HINER_MAX_STAGES 6

typedef enum hiner_entropy {
    HINER_ENTROPY_DEFAULT = 0, /* the smaller of the two on typical files */
    HINER_ENTROPY_HUFFMAN = 1, /* canonical Huffman, as in the paper */
    HINER_ENTROPY_ARITH = 2    /* adaptive binary arithmetic coding */
} hiner_entropy;

/* Training and model parameters. Fill with hiner_params_init(), then change fields.
 * A field left at 0 means "automatic" where the doc says so. */
typedef struct hiner_params {
    uint32_t abi_version; /* set by hiner_params_init(); do not change */

    /* --- size target (one of them; precedence: model_bytes, size_bytes, bpppb) --- */
    double bpppb;        /* whole-file bits per pixel per band; 0 = not set */
    uint64_t size_bytes; /* whole-file size in bytes; 0 = not set */
    double model_bytes;  /* the paper's budget: (embeddings + decoder) parameters x
                            quant_bits / 8, bytes. Set it to reproduce the paper. */

    /* --- training --- */
    int epochs;          /* passes over all bands; default -1: automatic, as many as the
                            effort's compute budget allows for this network (deterministic:
                            counted from its multiply-adds, not timed), within [20, 3000];
                            the paper uses 300 */
    float lr;            /* peak Adam learning rate of one band a step, default 3e-3 (the
                            paper: 1e-3, for 300 epochs and more); a network of one
                            tile trains two bands a step (one with model_bytes) at
                            lr x sqrt(2) */
    float warmup;        /* fraction of steps warming up from 0.1 lr, default 0.1 */
    float w_l1;          /* weight of L1, default 0.5 */
    float w_cam;         /* weight of CAM (degrees), default 0.005 */
    uint64_t seed;       /* initialisation and band shuffling, default 1 */
    int threads;         /* worker threads, default 1; 0 = number of CPUs. A network of
                            one tile trains two bands a step, side by side from 2
                            threads for bands of up to 256 x 256 (padded): 1 and 2 then
                            give the same model */
    int quant_bits;      /* sizes the model, default 8: for quant_bits - 2 bits per weight
                            once entropy coded (model_bytes: quant_bits each); the rate
                            fit then picks each tensor's width. With automatic epochs, up
                            to 4 more where the byte-sized network would train fewer than
                            200 epochs (compute-bound) */

    /* --- architecture (0 = automatic) --- */
    int n_stages;                   /* number of upsampling stages */
    int strides[HINER_MAX_STAGES];  /* upsampling factor of each stage */
    int pad_height, pad_width;      /* padded band size: strides product x embed size */
    int embed_height, embed_width;  /* spatial size of the embedding */
    int embed_channels;             /* default 16 */
    int min_width;                  /* width floor of decoder stages; 0 = 12 with model_bytes
                                       (the paper), else lowered as far as the size needs
                                       and on to the first floor (down to 6) that raises
                                       at most one layer above the taper */
    float width_reduce;             /* c_{i+1} = c_i / width_reduce, default 1.2 */
    int enc_freqs;                  /* positional-encoding frequencies; 0 = 80 with
                                       model_bytes (the paper), else up to the bands' Nyquist */
    float enc_base;                 /* frequency base b in b^k pi lambda, default 1.25 */
    int enc_hidden;                 /* spectral-encoder hidden width; 0 = 320 with model_bytes
                                       (the paper), else the widest of 64, 48, .. 8 that
                                       keeps the stored encoder within 14 % of the size */

    /* --- the file (hiner_encode*) --- */
    int store_encoder;              /* 1 (default): store the spectral encoder so any
                                       wavelength decodes; 0: store the embeddings only */
    int entropy;                    /* hiner_entropy, default HINER_ENTROPY_DEFAULT */
    int qat_epochs;                 /* quantization-aware fine-tuning epochs after training,
                                       default: automatic (-1); 0 = none */
    int evaluate;                   /* 1: measure PSNR before and after quantization (two
                                       decoding passes over all bands) for the report;
                                       default 0 (the report then gives the last epoch's
                                       training PSNR and NaN after quantization) */

    /* --- callbacks --- */
    hiner_progress_fn progress;
    void *progress_user;
    hiner_log_fn log;
    void *log_user;

    float w_l2;                     /* weight of the mean squared error, default 0 (the paper
                                       uses L1 and CAM only) */
    int max_kernel;                 /* largest stage kernel: stage i uses min(1 + 2i, this);
                                       default 5 (the paper's), 3 or 1 make later stages
                                       cheaper */

    /* --- tiles (hiner_encode*): a scene larger than a tile is split into a grid of tiles,
       each its own network, trained in parallel over `threads` (docs/format.md) --- */
    int tile_width, tile_height;    /* 0 = automatic (HINER_TILE_AUTO: a scene up to that
                                       size, and a little more, stays one tile); a tile
                                       size >= the scene's makes one tile */
    int tile_margin;                /* pixels of the neighbouring tiles each tile's network
                                       is also trained on, so tiles do not show their
                                       edges; -1 = automatic */

    int effort;                     /* 1..9 (default HINER_EFFORT_DEFAULT): the training
                                       automatic epochs get, each level about 1.7 times the
                                       one below, in proportion to the pixels (at least
                                       100 x 100): the same time per pixel for a scene of
                                       one tile and for each tile of a large one
                                       (docs/driver.md gives the time per level) */

    uint64_t reserved[11]; /* zero */
} hiner_params;

/* The automatic tile size, in pixels per side. */
#define HINER_TILE_AUTO 160
/* The default effort, and its range. */
#define HINER_EFFORT_DEFAULT 5
#define HINER_EFFORT_MAX 9

/* Fills p with defaults. Pass HINER_ABI_VERSION; a mismatch returns HINER_E_ABI. */
HINER_API hiner_status hiner_params_init(hiner_params *p, int abi_version);
/* Checks every field's range; HINER_E_INVALID_ARG names nothing, p->log gets the detail. */
HINER_API hiner_status hiner_params_validate(const hiner_params *p);

/* ====================================================================================
 * Cubes
 * ==================================================================================== */
/* Reads band `band` (0-based) into out: height x width samples of the cube's dtype,
 * row-major, contiguous. Return 0 on success, nonzero on failure (HINER_E_IO). */
typedef int (*hiner_read_band_fn)(void *user, uint32_t band, void *out);

/* Reads the window (x0, y0, w, h) of every band into out: bands x h x w samples of the
 * cube's dtype, band-sequential, rows contiguous. Return 0 on success (HINER_E_IO else).
 * Never called by two threads at once. */
typedef int (*hiner_read_window_fn)(void *user, uint32_t x0, uint32_t y0, uint32_t w,
                                    uint32_t h, void *out);

/* An input cube: `data` (band-sequential, (C,H,W) contiguous samples of dtype), or
 * `read_window` (windows of all bands, as many as the tiles need: memory stays bounded
 * by the tiles in flight whatever the scene's size), or `read_band` (called once per
 * band, in band order: the cube is held in memory). The first one set is used. */
typedef struct hiner_cube {
    uint32_t width, height, bands;
    hiner_dtype dtype;
    const void *data;
    hiner_read_band_fn read_band;
    void *read_user;
    int has_nodata;            /* pixels equal to nodata are invalid */
    double nodata;             /* NaN is always invalid for float types */
    const double *wavelengths; /* `bands` centre wavelengths (any unit), or NULL */
    hiner_read_window_fn read_window;
    void *window_user;
} hiner_cube;

/* ====================================================================================
 * Plan: the architecture for a cube and params
 * ==================================================================================== */
typedef struct hiner_plan {
    uint32_t width, height, bands;           /* true size */
    uint32_t pad_width, pad_height;          /* decoded size; the true extent is centred */
    uint32_t pad_left, pad_top;
    int n_stages;
    int strides[HINER_MAX_STAGES];
    int kernels[HINER_MAX_STAGES];
    int widths[HINER_MAX_STAGES + 1];        /* c0 .. c_n */
    int embed_channels, embed_height, embed_width;
    int enc_freqs, enc_hidden;
    float enc_base;
    uint64_t decoder_params;                 /* 1x1 conv + stages + head */
    uint64_t embedding_params;               /* bands x embed_channels x h x w */
    uint64_t encoder_params;                 /* the spectral-encoder MLP */
    double forward_macs;                     /* multiply-adds to decode one band */
    int epochs;                              /* training epochs: the params' value, or the
                                                automatic choice for this network */
} hiner_plan;

/* The architecture hiner_train would build for a width x height x bands cube. */
HINER_API hiner_status hiner_plan_compute(const hiner_params *p, uint32_t width,
                                          uint32_t height, uint32_t bands, hiner_plan *out);

/* ====================================================================================
 * Train
 * ==================================================================================== */
typedef struct hiner_model hiner_model;

/* What training measured. PSNR per band uses the band's own min-max range and the
 * true extent (valid pixels only); the epoch figures are from the training steps. */
typedef struct hiner_train_report {
    int epochs_done;
    double final_loss;   /* mean loss over the last epoch's steps */
    double final_psnr;   /* mean per-band PSNR over the last epoch's steps, dB */
    double seconds;      /* wall time of the training loop */
    uint64_t steps;      /* optimizer steps */
} hiner_train_report;

/* Trains a model on the cube. The cube is read once (bands normalised to [0,1] each
 * with its own min and max, NoData and NaN masked out of the loss). On success
 * *out owns the model (free with hiner_model_free). report may be NULL.
 * Thread-safety: reentrant; uses p->threads worker threads. */
HINER_API hiner_status hiner_train(const hiner_cube *cube, const hiner_params *p,
                                   hiner_model **out, hiner_train_report *report);

HINER_API void hiner_model_free(hiner_model *m);

/* The model's architecture. */
HINER_API hiner_status hiner_model_plan(const hiner_model *m, hiner_plan *out);

/* ====================================================================================
 * Decode
 * ==================================================================================== */
/* Decodes stored band `band` (0-based) into out: height x width floats, row-major, in
 * the source's units (band min and max restored); NoData pixels get the NoData value.
 * Deterministic: the same model gives bit-identical output every time. */
HINER_API hiner_status hiner_model_decode_band(hiner_model *m, uint32_t band, float *out);

/* Decodes the band at wavelength `wl` (the unit of the cube's wavelengths, or a band
 * index position 0..bands-1 when the cube had none) through the spectral encoder.
 * Its min and max are interpolated linearly between the neighbouring bands.
 * HINER_E_RANGE outside [first, last] wavelength. */
HINER_API hiner_status hiner_model_decode_wavelength(hiner_model *m, double wl, float *out);

/* Threads used by the decode calls of this model (default 1; 0 means 1). Decoding is
 * deterministic for a given thread count. */
HINER_API hiner_status hiner_model_set_threads(hiner_model *m, int threads);

/* Mean per-band PSNR (dB) of the model against a cube, with the measurement rules of
 * docs: original band min-max range, true extent, valid pixels only. */
HINER_API hiner_status hiner_model_psnr(hiner_model *m, const hiner_cube *cube, double *psnr);

/* The source range of stored band `band` (0-based): the min and max of its valid pixels,
 * which decoding restores (equal for a constant band or one without a valid pixel).
 * HINER_E_RANGE for a band index >= bands. Thread-safe (reads the model only). */
HINER_API hiner_status hiner_model_band_range(const hiner_model *m, uint32_t band, double *min,
                                              double *max);


/* ====================================================================================
 * Metadata carried by a file
 * ==================================================================================== */
/* A ground control point (GDAL's GDAL_GCP). */
typedef struct hiner_gcp {
    const char *id, *info;
    double pixel, line, x, y, z;
} hiner_gcp;

/* A key/value item of the dataset (band = -1) or of a band (0-based), in a GDAL metadata
 * domain ("" is the default domain). */
typedef struct hiner_meta_item {
    int32_t band;
    const char *domain, *key, *value;
} hiner_meta_item;

/* Everything a file carries besides the pixels. Every pointer may be NULL / count 0.
 * Per-band arrays have `bands` entries. Strings are UTF-8 without NUL inside. */
typedef struct hiner_meta {
    int has_geotransform;
    double geotransform[6];         /* GDAL's affine transform */
    const char *crs_wkt;
    uint32_t n_gcps;
    const hiner_gcp *gcps;
    const char *gcp_crs_wkt;
    const char *const *band_descriptions; /* entries may be NULL */
    const int *color_interp;        /* GDALColorInterp values, or NULL */
    uint32_t n_items;
    const hiner_meta_item *items;
    const char *wavelength_units;   /* unit of hiner_cube.wavelengths, e.g. "Nanometers" */
    const double *fwhm;             /* full width at half maximum per band, or NULL */
} hiner_meta;

/* ====================================================================================
 * Encode: train, quantize, entropy code, write a .hiner stream
 * ==================================================================================== */
/* Writes n bytes; returns 0 on success, nonzero on failure (HINER_E_IO). */
typedef int (*hiner_write_fn)(void *user, const void *data, size_t n);

/* Where the bytes of a file went (bytes, summing to total). */
typedef struct hiner_bits {
    uint64_t header;     /* file header, INFO, END and chunk framing */
    uint64_t metadata;   /* BAND, MASK, WAVE, GEO, META, TRNG */
    uint64_t decoder;    /* ARCH and DECO */
    uint64_t embeddings; /* EMBD */
    uint64_t encoder;    /* ENCO */
    uint64_t total;
} hiner_bits;

typedef struct hiner_encode_report {
    hiner_train_report train;
    hiner_plan plan;
    hiner_bits bits;
    double bpppb;            /* whole file: bytes * 8 / (width * height * bands) */
    uint64_t target_bytes;   /* what the rate control aimed at */
    double psnr_float;       /* before quantization, dB (true extent, valid pixels); the
                                last epoch's training PSNR unless params.evaluate */
    double psnr_quantized;   /* as stored, dB; NaN unless params.evaluate */
    int entropy;             /* method used */
    int qat_epochs;          /* fine-tuning epochs run */
    uint64_t huffman_bytes;  /* the quantized tensors under each coder (same bit widths), */
    uint64_t arith_bytes;    /* 0 when only one was tried */
    int max_bits;            /* largest bit width after the rate fit */
    int min_bits;
} hiner_encode_report;

/* Trains a model on the cube with the size target of p and writes the whole file through
 * write(). meta may be NULL. report may be NULL. The file lands within 5 % of the target
 * (bpppb or size_bytes) or the call fails with HINER_E_BUDGET. Nothing is written unless
 * training succeeds; if write() fails the stream is incomplete and the status HINER_E_IO. */
HINER_API hiner_status hiner_encode(const hiner_cube *cube, const hiner_meta *meta,
                                    const hiner_params *p, hiner_write_fn write, void *user,
                                    hiner_encode_report *report);
/* As hiner_encode, into `path`: written to a temporary file beside it and renamed, so a
 * failure or cancel never leaves a partial file (an existing `path` is untouched). */
HINER_API hiner_status hiner_encode_file(const hiner_cube *cube, const hiner_meta *meta,
                                         const hiner_params *p, const char *path,
                                         hiner_encode_report *report);
/* As hiner_encode, into a new buffer *out of *size bytes; free it with hiner_free(). */
HINER_API hiner_status hiner_encode_mem(const hiner_cube *cube, const hiner_meta *meta,
                                        const hiner_params *p, void **out, size_t *size,
                                        hiner_encode_report *report);
HINER_API void hiner_free(void *p);
/* The smallest size target, in bytes, that hiner_encode's planning accepts for this cube,
 * metadata and p (its size target aside: bpppb, size_bytes and model_bytes are not used).
 * A scene of one tile: the file's chunks but the network's, the informative training
 * record left out where that helps as the encoder does, plus the smallest network. With a
 * pixel source (cube->data, read_band or read_window) the pixels are read once as
 * hiner_encode reads them, and the answer is the encoder's own threshold. With none, no
 * pixel is read: each band's range counts as values that code as poorly as random ones of
 * the type, and no pixel as NoData (NoData pixels add a mask to the file), so a target at
 * or above the answer is accepted unless the cube has NoData pixels. A grid of tiles (p's
 * tile size): no pixel is read, the head and each tile's floor are counted with ranges at
 * their worst and, given a pixel source, a mask in every tile wherever NoData or NaN can
 * occur: a target that is accepted. Either way a target at or above the answer can still
 * fail after training when the weights cannot be fitted within 5 % of it (HINER_E_BUDGET).
 * meta may be NULL. HINER_E_LIMIT when the smallest network is beyond the format's limits,
 * HINER_E_NODATA when every pixel read is NoData. Keeps no state; thread-safe. */
HINER_API hiner_status hiner_min_size(const hiner_cube *cube, const hiner_meta *meta,
                                      const hiner_params *p, uint64_t *bytes);

/* ====================================================================================
 * Tiled encodes in parts: a scene's tiles encoded on other machines (hiner.dask), the
 * same bytes as hiner_encode. A tiler is made for the cube's shape; every tile's
 * statistics (from its pixels) are added in any order; the plan is made; each tile is
 * encoded from the pixels of its training window, the prior first (its trained weights
 * start the others); the file is the head, the tiles' runs in tile order, the tail.
 * Pixels are band-sequential (bands x h x w) samples of the cube's dtype.
 * ==================================================================================== */
typedef struct hiner_tiler hiner_tiler;

/* A tiler for cube's shape, type, NoData and wavelengths (pixels are not read) and p
 * (whose size target and tile size apply; the callbacks are the caller's). */
HINER_API hiner_status hiner_tiler_create(const hiner_cube *cube, const hiner_params *p,
                                          hiner_tiler **out);
HINER_API void hiner_tiler_free(hiner_tiler *t);
HINER_API uint32_t hiner_tiler_count(const hiner_tiler *t);
/* Tile `tile`'s pixels and the window its network trains on, as {x0, y0, width, height}
 * (either may be NULL). */
HINER_API hiner_status hiner_tiler_window(const hiner_tiler *t, uint32_t tile, uint32_t rect[4],
                                          uint32_t train[4]);
/* A tile's statistics from its pixels (the tile's rect), as a blob (free with hiner_free);
 * then added to the tiler that plans, once per tile, in any order. */
HINER_API hiner_status hiner_tiler_stats(const hiner_tiler *t, uint32_t tile, const void *pixels,
                                         void **blob, size_t *size);
HINER_API hiner_status hiner_tiler_add_stats(hiner_tiler *t, const void *blob, size_t size);
/* With every tile's statistics: the scene's ranges, each tile's budget, the head (meta
 * may be NULL; it is read during the call only). HINER_E_BUDGET as hiner_encode. */
HINER_API hiner_status hiner_tiler_plan(hiner_tiler *t, const hiner_meta *meta);
/* The planned tiler as bytes for the machines that encode tiles, and back (the same
 * library version only: HINER_E_VERSION else); a loaded tiler encodes tiles, not heads. */
HINER_API hiner_status hiner_tiler_save(const hiner_tiler *t, void **blob, size_t *size);
HINER_API hiner_status hiner_tiler_load(const void *blob, size_t size, hiner_tiler **out);
HINER_API hiner_status hiner_tiler_set_callbacks(hiner_tiler *t, hiner_progress_fn progress,
                                                 void *progress_user, hiner_log_fn log,
                                                 void *log_user);
/* The tile to encode first, whose trained weights (hiner_tiler_encode's `trained`) the
 * other full tiles start from; -1 when none. */
HINER_API int64_t hiner_tiler_prior(const hiner_tiler *t);
/* Tile `tile` from the pixels of its training window: its chunks (*run, *run_size; empty
 * for a tile without a valid pixel). prior: the prior's trained weights, for the tiles
 * that start from them (else NULL); trained (may be NULL): for the prior, its weights.
 * Free *run and *trained with hiner_free. The result depends only on the inputs. */
HINER_API hiner_status hiner_tiler_encode(const hiner_tiler *t, uint32_t tile, const void *pixels,
                                          const void *prior, size_t prior_size, void **run,
                                          size_t *run_size, void **trained,
                                          size_t *trained_size);
/* The head of the file, given every tile's run size in tile order; the file is the head,
 * the runs in tile order, then the tail. */
HINER_API hiner_status hiner_tiler_head(const hiner_tiler *t, const uint64_t *run_sizes,
                                        void **head, size_t *size);
HINER_API hiner_status hiner_tiler_tail(void **tail, size_t *size);

/* ====================================================================================
 * Open: read a .hiner stream into a model
 * ==================================================================================== */
/* Random-access reads: n bytes at `offset` into buf; return 0 on success. */
typedef int (*hiner_read_at_fn)(void *user, uint64_t offset, void *buf, size_t n);

typedef struct hiner_reader {
    uint64_t size;             /* bytes in the stream */
    hiner_read_at_fn read_at;
    void *user;
} hiner_reader;

/* Parses and checks a whole stream (every CRC, every size against the limits of
 * docs/format.md) and returns a model that decodes it. Never crashes on hostile input:
 * HINER_E_CORRUPT, HINER_E_TRUNCATED, HINER_E_VERSION or HINER_E_LIMIT instead.
 * The reader is used only during the call (a stream of at most 1 GiB is read whole). */
HINER_API hiner_status hiner_open(const hiner_reader *r, hiner_model **out);
/* As hiner_open, for streams of any size: a tiled stream is read lazily, its head
 * (header, scene chunks, tile index) now and each tile when a decode first needs it, with
 * one read_at call per tile (a tile's chunks are contiguous), checked then; a file of one
 * tile is read whole now. r and r->user must stay valid until hiner_model_free. */
HINER_API hiner_status hiner_open_lazy(const hiner_reader *r, hiner_model **out);
HINER_API hiner_status hiner_open_file(const char *path, hiner_model **out);
HINER_API hiner_status hiner_open_mem(const void *data, size_t size, hiner_model **out);

/* True (1) when the first bytes are the HINER magic; n may be short (then 0). */
HINER_API int hiner_identify(const void *data, size_t n);

/* What a model holds. */
typedef struct hiner_info {
    uint32_t width, height, bands;
    hiner_dtype dtype;          /* of the source; decoded values are rounded to it */
    int has_nodata;
    double nodata;
    int has_mask;               /* some pixel is NoData or NaN */
    int has_encoder;            /* wavelengths between bands decode */
    int has_wavelengths;        /* bands are addressed by wavelength */
    double wavelength_min, wavelength_max; /* covered range (band positions without) */
    int format_major, format_minor;        /* 0 for a model that was not read from a file */
    int entropy;
    int quant_bits;             /* largest bit width of the stored tensors */
    hiner_bits bits;            /* of the file read (zero for a trained model); of a tiled
                                   file read lazily, the head and the tiles read so far,
                                   `total` the whole file */
    double bpppb;
    const char *training;       /* "key=value" lines of the training settings, or "" */
    uint32_t tile_width, tile_height; /* the grid: tile t = ty * tiles_x + tx covers
                                         (tx * tile_width, ty * tile_height), narrower in
                                         the last column and row; one tile is the raster */
    uint32_t tiles_x, tiles_y;
} hiner_info;

HINER_API hiner_status hiner_model_info(const hiner_model *m, hiner_info *out);
/* Metadata of a file (pointers stay valid while m lives); zeros for a trained model. */
HINER_API hiner_status hiner_model_meta(const hiner_model *m, hiner_meta *out);
/* The stored bands' wavelengths (NULL when the file has none). */
HINER_API const double *hiner_model_wavelengths(const hiner_model *m);

/* As hiner_model_decode_band, into `type` samples (rounded to nearest, clamped to the
 * type's range; NoData pixels get the NoData value). out holds height x width samples. */
HINER_API hiner_status hiner_model_decode_band_as(hiner_model *m, uint32_t band,
                                                  hiner_dtype type, void *out);
/* As hiner_model_decode_wavelength, into `type` samples. */
HINER_API hiner_status hiner_model_decode_wavelength_as(hiner_model *m, double wl,
                                                        hiner_dtype type, void *out);

/* Tile (tx, ty) of stored band `band` (by_wavelength 0) or of the band at wavelength `where`
 * (by_wavelength 1, as hiner_model_decode_wavelength) into `type` samples: the tile's
 * width x height (hiner_info's grid), rows contiguous. Only that tile is read and run. */
HINER_API hiner_status hiner_model_decode_tile_as(hiner_model *m, uint32_t tx, uint32_t ty,
                                                  int by_wavelength, double where,
                                                  hiner_dtype type, void *out);
/* The window (x0, y0, w, h) of a band, as hiner_model_decode_tile_as: only the tiles the
 * window touches are read and run. out holds w x h samples. */
HINER_API hiner_status hiner_model_decode_window_as(hiner_model *m, uint32_t x0, uint32_t y0,
                                                    uint32_t w, uint32_t h, int by_wavelength,
                                                    double where, hiner_dtype type, void *out);
/* One tile of a model (of a file of one tile: the raster): where it lies in the raster
 * and in the stream, and, unless it is empty (no valid pixel, no network), its network,
 * read from the stream when needed, and where its bytes went. */
typedef struct hiner_tile_info {
    uint32_t x0, y0, width, height;
    uint64_t offset;       /* of its chunks in the stream */
    uint64_t bytes;        /* 0: an empty tile */
    hiner_plan plan;
    hiner_bits bits;
    int quant_bits, entropy;
} hiner_tile_info;
HINER_API hiner_status hiner_model_tile_info(hiner_model *m, uint32_t tx, uint32_t ty,
                                             hiner_tile_info *out);
/* Most bytes of tile networks a lazily read model keeps loaded (default 64 MiB, at least
 * one tile). */
HINER_API hiner_status hiner_model_set_tile_cache(hiner_model *m, size_t bytes);

#ifdef __cplusplus
}
#endif
#endif /* HINER_H */
