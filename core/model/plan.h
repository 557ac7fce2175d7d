/*
 * plan.h - the architecture for a cube (plan.c): strides, padding and embedding from H x W,
 * decoder widths from the size budget, automatic epochs, and the format's size limits.
 */
#ifndef HINER_PLAN_H
#define HINER_PLAN_H

#include "../internal.h"

/* The architecture for a cube: strides and padding from H x W, widths from the budget. */
HN_HIDDEN hiner_status hn_plan_make(const hiner_params *p, uint32_t W, uint32_t H, uint32_t C,
                                    hiner_plan *out, const hn_log *lg);
/* Bits per weight a network is sized for when quant_bits is b, before it is trained (the
 * rate fit then picks each tensor's width). Two below b: the rate fit puts the bits where
 * the PSNR needs them, so a larger network pays (docs/benchmarks.md). */
#define HN_BETA(b) ((double)(b) - 2.0)
/* Epochs when the params leave them automatic: a deterministic compute budget, so the
 * same input gives the same file on any machine. A step is modelled as HN_STEP_FIXED
 * seconds plus forward + backward multiply-adds at HN_STEP_MACS per second (fitted to
 * steps timed with 2 threads); the budget is hn_effort_seconds of such steps. Small
 * networks train long, large ones within the time (docs/benchmarks.md). */
#define HN_STEP_FIXED 0.4e-3
#define HN_STEP_MACS 0.9e11
#define HN_EPOCHS_MIN 20
#define HN_EPOCHS_MAX 3000
/* The modelled seconds of training an effort level buys every HN_EFFORT_PIXELS pixels of
 * a network's output (a smaller network gets as much): time per pixel is the same for a
 * scene of one tile and for every tile of a large scene, so cost grows linearly. */
#define HN_EFFORT_PIXELS 10000.0
HN_HIDDEN double hn_effort_seconds(int effort);
/* The epochs `seconds` of modelled steps give the plan's network. */
HN_HIDDEN int hn_budget_epochs(const hiner_plan *pl, double seconds);
/* The params' epochs, resolving automatic (-1): the effort's budget for a network that
 * outputs `pixels` (a tile's, or the plan's true extent). */
HN_HIDDEN int hn_epochs_for(const hiner_params *p, const hiner_plan *pl);
HN_HIDDEN int hn_epochs_pixels(const hiner_params *p, const hiner_plan *pl, double pixels);
/* Quantization-aware fine-tuning epochs when the params leave it automatic. */
#define HN_AUTO_QAT(epochs) ((epochs) >= 20 ? (epochs) / 20 : 0)
/* Compact spectral encoder defaults of the file format. */
#define HN_AUTO_ENC_HIDDEN 64
/* The stored encoder's share of the budget its hidden width is chosen for: a larger share
 * leaves the decoder short (docs/benchmarks.md). */
#define HN_ENC_SHARE 0.14
HN_HIDDEN int hn_auto_enc_freqs(uint32_t C, float base);
/* Expected bytes of the stored tensors of a plan at beta bits per value. */
HN_HIDDEN double hn_plan_est_bytes(const hiner_plan *pl, int store_encoder, double beta);
/* The largest network whose stored tensors fit `bytes`, adapting the width floor. */
HN_HIDDEN hiner_status hn_plan_for_bytes(const hiner_params *p, uint32_t W, uint32_t H,
                                         uint32_t C, double bytes, double beta, hiner_plan *pl,
                                         const hn_log *lg);
/* About the bytes of the smallest network hn_plan_for_bytes makes for a cube (its stored
 * tensors). */
HN_HIDDEN double hn_plan_min_bytes(const hiner_params *p, uint32_t W, uint32_t H, uint32_t C);
/* The network for a rate: hn_plan_for_bytes at HN_BETA(quant_bits), or, where training
 * would be compute-bound, at more bits per weight. */
HN_HIDDEN hiner_status hn_plan_for_rate(const hiner_params *p, uint32_t W, uint32_t H,
                                        uint32_t C, double bytes, hiner_plan *pl,
                                        const hn_log *lg);
/* Automatic epochs below which a network counts as compute-bound, and the most bits per
 * weight added to train a smaller one longer: an undertrained large network can decode
 * worse than a smaller one at half the rate (docs/benchmarks.md). */
#define HN_EPOCHS_WANT 200
#define HN_EXTRA_BITS 4
/* Widths c_1..c_n from c0 (c_{i+1} = max(rint(c_i / reduce), floor)); fills plan->widths
 * and the parameter counts. */
HN_HIDDEN void hn_plan_set_width(hiner_plan *pl, int c0, float reduce, int floor_width);
/* Parameter counts and MACs of a plan whose widths are set. */
HN_HIDDEN void hn_plan_finish(hiner_plan *pl);
HN_HIDDEN uint64_t hn_plan_decoder_params(const hiner_plan *pl);
HN_HIDDEN uint64_t hn_plan_encoder_params(const hiner_plan *pl);
/* The format's limits (docs/format.md): floats of one decoder activation, weights of one
 * network (and values of its embeddings). */
#define HN_MAX_ACT ((uint64_t)1 << 26)
#define HN_MAX_PARAMS ((uint64_t)1 << 24)
/* Floats of the padded output frame and of the largest activation (a conv output before
 * PixelShuffle) of a plan whose strides are set; stops counting once the frame passes
 * HN_MAX_ACT, so a hostile plan cannot overflow. */
HN_HIDDEN void hn_plan_act_floats(const hiner_plan *pl, uint64_t *frame, uint64_t *largest);
/* HINER_OK when a reader would accept a file of this plan (HN_MAX_ACT, HN_MAX_PARAMS);
 * else HINER_E_LIMIT, with the reason logged. The encoder asks before training, so that
 * no file is written that cannot be read back. */
HN_HIDDEN hiner_status hn_plan_readable(const hiner_plan *pl, const hn_log *lg);
/* One info line describing a plan. */
HN_HIDDEN void hn_log_plan(const hn_log *lg, const hiner_plan *pl);
/* Values of one band's embedding: E = embed_channels * embed_height * embed_width. */
static inline size_t hn_embed_size(const hiner_plan *pl)
{
    return (size_t)pl->embed_channels * pl->embed_height * pl->embed_width;
}

#endif /* HINER_PLAN_H */
