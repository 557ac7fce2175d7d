/*
 * encode.c - a cube to a .hiner file, as a pipeline of stages over one state: read and
 * normalise the cube, plan the network so the whole file (metadata included) lands on the
 * requested rate, train, weigh each weight's effect on PSNR, fit per-tensor bit widths
 * (quantization: paper Eq. 5) to the target (rate.c), fine-tune with the quantization in
 * the loop, and assemble the chunks of docs/format.md (assemble.c).
 */
#include <math.h>

#include "../codec/container.h"
#include "tiles.h"

/* Random-sign probes per band for the sensitivities the rate fit weighs errors by: about
 * 256 over the cube, so that the spectral encoder's estimate, the noisiest (its curvature
 * has low rank), is steady. */
#define HN_SENS_PROBES(C) ((C) >= 256 ? 1 : (C) <= 16 ? 16 : (int)((255 + (C)) / (C)))

/* Mean per-band PSNR of the model against the normalised training data. */
static hiner_status psnr_data(hiner_model *m, const hn_data *d, double *psnr)
{
    const size_t n = (size_t)d->W * d->H;
    float *dec = hn_malloc(n, sizeof(float));
    HN_CHECK(!dec, HINER_E_NOMEM);
    const size_t E = hn_embed_size(&m->plan);
    double sum = 0;
    uint32_t counted = 0;
    hiner_status st = HINER_OK;
    for (uint32_t b = 0; b < d->C; b++) {
        HN_GOTO_FWD(hn_model_decode_norm(m, m->embed + (size_t)b * E, dec));
        const float *t = d->target + (size_t)b * n;
        const uint8_t *v = hn_model_valid(m, b);
        double se = 0;
        size_t nv = 0;
        for (size_t i = 0; i < n; i++) {
            if (v && !v[i]) continue;
            double e = (double)dec[i] - t[i];
            se += e * e;
            nv++;
        }
        if (!nv) continue;
        double mse = se / (double)nv;
        sum += -10.0 * log10(mse > 1e-12 ? mse : 1e-12);
        counted++;
    }
    *psnr = counted ? sum / counted : 0.0;
fail:
    hn_free(dec);
    return st;
}


/* Reads and normalises the cube and builds the fixed parts, the training record as a
 * placeholder of its final size. */
static hiner_status stage_read(hn_encoder *e, const hiner_cube *cube, const hiner_meta *meta)
{
    const hiner_params *p = e->p;
    const double t_start = hn_seconds();
    HN_FORWARD(hn_data_load(&e->d, cube, &e->lg));
    hn_logf(&e->lg, 3, "timing: cube read in %.2f s", hn_seconds() - t_start);
    e->samples = (double)e->d.W * e->d.H * e->d.C;
    e->paper = p->model_bytes > 0;
    e->target = p->size_bytes ? p->size_bytes : (uint64_t)llround(p->bpppb * e->samples / 8.0);
    hn_training_text(e->trng, sizeof e->trng, p, p->epochs < 0 ? 1000 : p->epochs, 0, 0.0, 0.0,
                     HN_ENTROPY_ARITH);
    hiner_status st = hn_fixed_build(&e->f, &e->d, meta);
    if (st == HINER_E_LIMIT)
        hn_logf(&e->lg, 0,
                "the metadata is beyond what a reader accepts (64 MiB of text per "
                "record, 128 MiB once expanded: docs/format.md); nothing was trained or written");
    HN_FORWARD(st);
    return hn_pl_text(&e->f.trng, e->trng);
}

size_t hn_arch_bound(void)
{
    hn_buf arch;
    hn_buf_init(&arch);
    hiner_plan tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.n_stages = HINER_MAX_STAGES;
    hn_pl_arch(&arch, &tmp, 0, 0, 0);
    const size_t n = arch.n;
    hn_buf_free(&arch);
    return n;
}

/* The network for what the fixed parts leave of the target. The informative TRNG record is
 * the one chunk a file can do without: left out where the smallest network fits only
 * without it. */
static hiner_status plan_for_target(hn_encoder *e)
{
    const hiner_params *p = e->p;
    const uint32_t W = e->d.W, H = e->d.H, C = e->d.C;
    const uint64_t target = e->target;
    if (target <= e->fixed) {
        hn_logf(&e->lg, 0,
                "the metadata alone takes %llu bytes (%.4f bpppb): a target of %llu "
                "bytes (%.4f bpppb) cannot hold a network",
                (unsigned long long)e->fixed, e->fixed * 8.0 / e->samples,
                (unsigned long long)target, target * 8.0 / e->samples);
        HN_CHECK(1, HINER_E_BUDGET);
    }
    hiner_status st = hn_plan_for_rate(p, W, H, C, (double)(target - e->fixed), &e->plan, &e->lg);
    const uint64_t trng_bytes = HN_CHUNK_OVERHEAD + e->f.trng.n;
    if (st == HINER_E_BUDGET && target > e->fixed - trng_bytes &&
        hn_plan_for_rate(p, W, H, C, (double)(target - (e->fixed - trng_bytes)), &e->plan, NULL) ==
            HINER_OK) {
        hn_logf(&e->lg, 2,
                "the informative training record (%llu bytes) is left out: the "
                "smallest network fits %.4f bpppb only without it",
                (unsigned long long)trng_bytes, target * 8.0 / e->samples);
        e->f.no_trng = 1;
        e->fixed -= trng_bytes;
        st = HINER_OK;
    }
    if (st == HINER_E_BUDGET)
        hn_logf(&e->lg, 0, "%.4f bpppb is below the smallest file for this %ux%ux%u cube",
                target * 8.0 / e->samples, W, H, C);
    return st;
}

/* Sizes the network: for the target rate, or for model_bytes as the paper does. */
static hiner_status stage_plan(hn_encoder *e)
{
    e->f.arch.n = hn_arch_bound(); /* counted, not written: the ARCH payload comes with the plan */
    e->fixed = hn_fixed_bytes(&e->f);
    e->f.arch.n = 0;
    if (e->paper) {
        HN_FORWARD(hn_plan_make(e->p, e->d.W, e->d.H, e->d.C, &e->plan, &e->lg));
        e->target = 0;
    } else {
        HN_FORWARD(plan_for_target(e));
    }
    hn_log_plan(&e->lg, &e->plan);
    return hn_plan_readable(&e->plan, &e->lg);
}

/* Trains the network on the normalised bands, then computes the embeddings. */
static hiner_status stage_train(hn_encoder *e)
{
    const hiner_params *p = e->p;
    HN_FORWARD(hn_model_alloc(&e->m, &e->plan));
    hiner_model *m = e->m;
    m->log = e->lg;
    m->threads = e->threads; /* for the evaluation passes */
    HN_FORWARD(hn_model_take_data(m, &e->d)); /* d keeps the normalised bands */
    if (e->init) {
        memcpy(m->net.params, e->init, m->net.n_params * sizeof(float));
    } else {
        hn_rng rng;
        hn_rng_seed(&rng, p->seed);
        hn_net_init_weights(&m->net, &rng);
    }
    if (!e->tile_mode) e->epochs = hn_epochs_for(p, &e->plan);
    e->plan.epochs = e->epochs;
    e->qat = p->qat_epochs >= 0 ? p->qat_epochs : HN_AUTO_QAT(e->epochs);
    hn_cfg_from_params(&e->cfg, p);
    if (e->tile_mode) e->cfg.batch = 1; /* on one thread beside other tiles, a pair of bands
                                           would only halve a tile's steps */
    e->cfg.epochs = e->epochs;
    e->cfg.threads = e->threads;
    e->cfg.progress = e->progress;
    e->cfg.progress_user = e->progress_user;
    e->cfg.log = e->lg;
    hn_logf(&e->lg, 2, "training: %d epochs%s, then %d of fine-tuning", e->epochs,
            p->epochs < 0 ? " (automatic)" : "", e->qat);
    const double span = e->progress_hi - e->progress_lo;
    e->cfg.progress_lo = e->progress_lo;
    e->cfg.progress_hi = e->progress_lo + span * (e->qat ? 0.92 : 0.98);
    HN_FORWARD(hn_train(m, &e->d, &e->cfg, &e->tr));
    if (e->keep_trained) {
        e->trained = hn_malloc(m->net.n_params, sizeof(float));
        HN_CHECK(!e->trained, HINER_E_NOMEM);
        memcpy(e->trained, m->net.params, m->net.n_params * sizeof(float));
    }
    HN_FORWARD(hn_model_compute_embeddings(m));
    e->psnr_float = e->tr.final_psnr;
    if (p->evaluate) {
        const double t0 = hn_seconds();
        HN_FORWARD(psnr_data(m, &e->d, &e->psnr_float));
        hn_logf(&e->lg, 3, "timing: float PSNR in %.2f s", hn_seconds() - t0);
    }
    return HINER_OK;
}

/* Each weight's effect on PSNR, which the rate fit weighs its error by (none for the
 * paper's sizing, which has no fit). */
static hiner_status stage_sensitivities(hn_encoder *e)
{
    if (e->paper) return HINER_OK;
    const double t0 = hn_seconds();
    const int store_enc = e->p->store_encoder;
    e->sens = hn_malloc(e->m->net.n_params, sizeof(float));
    if (!store_enc)
        e->sens_embed = hn_malloc((size_t)e->d.C * hn_embed_size(&e->plan), sizeof(float));
    HN_CHECK(!e->sens || (!store_enc && !e->sens_embed), HINER_E_NOMEM);
    HN_FORWARD(hn_sensitivity(e->m, &e->d, e->m->threads, HN_SENS_PROBES(e->d.C), e->p->seed,
                              e->sens, e->sens_embed));
    hn_logf(&e->lg, 3, "timing: sensitivity in %.2f s", hn_seconds() - t0);
    return HINER_OK;
}

/* The paper's sizing measures the tensors at their widths; else the widths are fitted to
 * the target, from those they have when `keep`. */
static hiner_status fit_or_measure(hn_encoder *e, int keep)
{
    /* The training record is written after the fit, its figures then known; coded, it can
     * come out a few bytes longer than the placeholder counted in `fixed`. The fit, which
     * fills the target to the byte, leaves it this much room. */
    const uint64_t trng_slack = e->f.no_trng || e->tile_mode ? 0 : 16;
    if (!e->paper)
        return hn_rate_fit(&e->q, e->p->entropy, e->fixed + trng_slack, e->target, keep, &e->total,
                           &e->lg);
    HN_FORWARD(hn_qset_measure(&e->q, e->p->entropy, &e->total));
    e->total += e->fixed;
    return HINER_OK;
}

/* The stored tensors at the paper's widths, or at widths fitted to the target. */
static hiner_status stage_rate_fit(hn_encoder *e)
{
    const double t0 = hn_seconds();
    hiner_model *m = e->m;
    hn_qset *q = &e->q;
    hn_qset_init(q, m, e->p->store_encoder, e->p->quant_bits);
    for (int t = 0; t < q->nt && !e->paper; t++)
        q->sens[t] = q->net_index[t] < 0 ? e->sens_embed : e->sens + (q->src[t] - m->net.params);
    if (!e->tile_mode) { /* a tile's fixed bytes came with its plan */
        e->f.arch.n = 0;
        hn_pl_arch(&e->f.arch, &e->plan, m->wavelengths ? 1 : 0, m->lam_lo, m->lam_scale);
        e->fixed = hn_fixed_bytes(&e->f);
    }
    HN_FORWARD(fit_or_measure(e, 0));
    hn_logf(&e->lg, 3, "timing: rate fit in %.2f s", hn_seconds() - t0);
    return HINER_OK;
}

/* Fine-tunes the network with the quantization in the loop, then fits again from the
 * widths and modes it was tuned for. */
static hiner_status stage_finetune(hn_encoder *e)
{
    if (e->qat <= 0) return HINER_OK;
    const hiner_params *p = e->p;
    hn_qset *q = &e->q;
    int qb[HN_MAX_TENSORS] = {0}, qm[HN_MAX_TENSORS] = {0};
    for (int t = 0; t < q->nt; t++)
        if (q->net_index[t] >= 0) {
            qb[q->net_index[t]] = q->bits[t];
            qm[q->net_index[t]] = q->qt[t].mode;
        }
    hn_train_cfg qc = e->cfg;
    qc.epochs = e->qat;
    qc.lr = p->lr * 0.1f;
    qc.warmup = 0.0f;
    qc.seed = p->seed + 1;
    qc.qat_bits = qb;
    qc.qat_mode = qm;
    qc.progress_lo = e->cfg.progress_hi;
    qc.progress_hi = e->progress_lo + (e->progress_hi - e->progress_lo) * 0.98;
    qc.what = "fine-tuning";
    hiner_train_report qr;
    HN_FORWARD(hn_train(e->m, &e->d, &qc, &qr));
    e->tr.seconds += qr.seconds;
    e->tr.steps += qr.steps;
    if (!p->store_encoder) HN_FORWARD(hn_model_compute_embeddings(e->m));
    /* the modes the fine-tuning saw stay: chosen again, a mode near a tie can flip and undo
     * what it learnt */
    for (int t = 0; t < q->nt; t++)
        if (q->net_index[t] >= 0) q->mode[t] = qm[q->net_index[t]];
    return fit_or_measure(e, 1);
}

/* The model as a reader of the file will see it, once the size is checked against the
 * target. */
static hiner_status stage_restore(hn_encoder *e)
{
    const uint64_t total = e->total, target = e->target;
    if (!e->paper && (total > target * 1.05 || total < target * 0.95)) {
        hn_logf(&e->lg, 0, "the file would be %llu bytes for a target of %llu (outside 5 %%)",
                (unsigned long long)total, (unsigned long long)target);
        HN_CHECK(1, HINER_E_BUDGET);
    }
    hn_qset_restore(&e->q);
    if (e->p->store_encoder) {
        e->m->has_encoder = 1;
        HN_FORWARD(hn_model_compute_embeddings(e->m));
    }
    e->psnr_q = NAN;
    if (e->p->evaluate) {
        HN_FORWARD(psnr_data(e->m, &e->d, &e->psnr_q));
        hn_logf(&e->lg, 2, "PSNR %.2f dB before quantization, %.2f dB as stored (%s coding)",
                e->psnr_float, e->psnr_q,
                e->q.method == HN_ENTROPY_HUFFMAN ? "Huffman" : "arithmetic");
    }
    return HINER_OK;
}

/* The training record with its figures, then the whole file. */
static hiner_status stage_assemble(hn_encoder *e, hn_buf *file)
{
    if (!e->f.no_trng) {
        hn_training_text(e->trng, sizeof e->trng, e->p, e->epochs, e->qat, e->psnr_float, e->psnr_q,
                         e->q.method);
        hn_buf_free(&e->f.trng);
        HN_FORWARD(hn_pl_text(&e->f.trng, e->trng));
    }
    hn_assemble(file, &e->f, &e->q.deco, &e->q.rest, e->p->store_encoder, &e->bits);
    HN_CHECK(file->err, HINER_E_NOMEM);
    return HINER_OK;
}

/* What the encoder did, for the caller's report. */
static void fill_report(const hn_encoder *e, const hn_buf *file, hiner_encode_report *rep)
{
    const hn_qset *q = &e->q;
    memset(rep, 0, sizeof *rep);
    rep->train = e->tr;
    rep->plan = e->plan;
    rep->bits = e->bits;
    rep->bpppb = file->n * 8.0 / e->samples;
    rep->target_bytes = e->target;
    rep->psnr_float = e->psnr_float;
    rep->psnr_quantized = e->psnr_q;
    rep->entropy = q->method;
    rep->qat_epochs = e->qat;
    rep->huffman_bytes = q->size_of[HN_ENTROPY_HUFFMAN];
    rep->arith_bytes = q->size_of[HN_ENTROPY_ARITH];
    rep->max_bits = 0;
    rep->min_bits = 99;
    for (int t = 0; t < q->nt; t++) {
        rep->max_bits = q->bits[t] > rep->max_bits ? q->bits[t] : rep->max_bits;
        rep->min_bits = q->bits[t] < rep->min_bits ? q->bits[t] : rep->min_bits;
    }
}

/* The stages in order, each leaving its results in the state for the next. */
hiner_status hn_encode_to_buf(const hiner_cube *cube, const hiner_meta *meta, const hiner_params *p,
                              hn_buf *file, hiner_encode_report *rep)
{
    HN_CHECK(!cube || !p, HINER_E_INVALID_ARG);
    HN_FORWARD(hiner_params_validate(p));
    HN_FORWARD(hn_cube_check(cube));
    hn_encoder e;
    memset(&e, 0, sizeof e);
    e.p = p;
    e.lg = (hn_log){p->log, p->log_user};
    e.threads = p->threads > 0 ? p->threads : 1;
    e.progress = p->progress;
    e.progress_user = p->progress_user;
    e.progress_hi = 1.0;
    hiner_status st = HINER_OK;
    HN_GOTO_FWD(stage_read(&e, cube, meta));
    HN_GOTO_FWD(stage_plan(&e));
    HN_GOTO_FWD(hn_encode_network(&e));
    HN_GOTO_FWD(stage_assemble(&e, file));
    if (rep) fill_report(&e, file, rep);
    hn_logf(&e.lg, 2, "%zu bytes, %.4f bpppb (target %llu bytes)", file->n,
            file->n * 8.0 / e.samples, (unsigned long long)e.target);
    if (p->progress && !p->progress(1.0, "done", p->progress_user)) HN_GOTO_IF(1, HINER_E_ABORTED);
fail:
    hn_encoder_clear(&e);
    hn_data_free(&e.d);
    return st;
}

hiner_status hn_encode_network(hn_encoder *e)
{
    HN_FORWARD(stage_train(e));
    HN_FORWARD(stage_sensitivities(e));
    HN_FORWARD(stage_rate_fit(e));
    HN_FORWARD(stage_finetune(e));
    return stage_restore(e);
}

void hn_encoder_clear(hn_encoder *e)
{
    hn_free(e->sens);
    hn_free(e->sens_embed);
    e->sens = e->sens_embed = NULL;
    hn_qset_clear(&e->q);
    hn_fixed_free(&e->f);
    hiner_model_free(e->m);
    e->m = NULL;
}

hiner_status hiner_encode(const hiner_cube *cube, const hiner_meta *meta, const hiner_params *p,
                          hiner_write_fn write, void *user, hiner_encode_report *report)
{
    HN_CHECK(!write, HINER_E_INVALID_ARG);
    void *data;
    size_t size;
    HN_FORWARD(hiner_encode_mem(cube, meta, p, &data, &size, report));
    hiner_status st = write(user, data, size) != 0 ? HINER_E_IO : HINER_OK;
    hiner_free(data);
    return st;
}

hiner_status hiner_encode_mem(const hiner_cube *cube, const hiner_meta *meta, const hiner_params *p,
                              void **out, size_t *size, hiner_encode_report *report)
{
    HN_CHECK(!out || !size, HINER_E_INVALID_ARG);
    *out = NULL;
    *size = 0;
    hn_buf file;
    hn_buf_init(&file);
    const hn_out o = {hn_buf_write_at, &file};
    uint64_t n = 0;
    hiner_status st = hn_encode_out(cube, meta, p, &o, &n, report);
    if (st != HINER_OK) {
        hn_buf_free(&file);
        return st;
    }
    *out = file.p; /* realloc'ed: released with free() by hiner_free */
    *size = file.n;
    return HINER_OK;
}

void hiner_free(void *p)
{
    free(p);
}
