/*
 * encode.c - a cube to a .hiner file: read and normalise the cube, size the network so the
 * whole file (metadata included) lands on the requested rate, train, quantize (paper
 * Eq. 5) with per-tensor bit widths fitted to the target, optionally fine-tune with the
 * quantization in the loop, entropy code, and write the chunks of docs/format.md.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "../codec/container.h"
#include "assemble.h"
#include "fileio.h"
#include "rate.h"

/* Random-sign probes per band for the sensitivities the rate fit weighs errors by: about
 * 256 over the cube (hydice_urban_162: 2), so the spectral encoder's estimate, the noisiest
 * (its curvature has low rank), varies by well under a fifth. */
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

/* Everything up to the finished file in memory. */
static hiner_status encode_to_buf(const hiner_cube *cube, const hiner_meta *meta,
                                  const hiner_params *p, hn_buf *file, hiner_encode_report *rep)
{
    HN_CHECK(!cube || !p, HINER_E_INVALID_ARG);
    HN_FORWARD(hiner_params_validate(p));
    HN_FORWARD(hn_cube_check(cube));
    const hn_log lg = {p->log, p->log_user};
    hiner_status st = HINER_OK;
    hn_data d;
    hn_fixed f;
    hn_qset q;
    hiner_model *m = NULL;
    float *sens = NULL, *sens_embed = NULL;
    memset(&f, 0, sizeof f);
    memset(&q, 0, sizeof q);
    double t_start = hn_seconds();
    HN_FORWARD(hn_data_load(&d, cube, &lg));
    hn_logf(&lg, 3, "timing: cube read in %.2f s", hn_seconds() - t_start);
    const uint32_t W = d.W, H = d.H, C = d.C;
    const double samples = (double)W * H * C;
    const int paper = p->model_bytes > 0;
    uint64_t target = p->size_bytes ? p->size_bytes : (uint64_t)llround(p->bpppb * samples / 8.0);
    char trng[512];
    hn_training_text(trng, sizeof trng, p, p->epochs < 0 ? 1000 : p->epochs, 0, 0.0, 0.0,
                  HN_ENTROPY_ARITH); /* a placeholder of the final record's size */
    st = hn_fixed_build(&f, &d, meta);
    if (st == HINER_E_LIMIT)
        hn_logf(&lg, 0, "the metadata is beyond what a reader accepts (64 MiB of text per record, "
                "128 MiB once expanded: docs/format.md); nothing was trained or written");
    HN_GOTO_FWD(st);
    HN_GOTO_FWD(hn_pl_text(&f.trng, trng));

    /* size the network for what the metadata leaves */
    hiner_plan plan;
    {
        hn_buf arch;
        hn_buf_init(&arch);
        hiner_plan tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.n_stages = HINER_MAX_STAGES;
        hn_pl_arch(&arch, &tmp, 0, 0, 0); /* the ARCH payload's size for the largest depth */
        f.arch.n = arch.n;
        hn_buf_free(&arch);
    }
    uint64_t fixed = hn_fixed_bytes(&f);
    f.arch.n = 0;
    if (paper) {
        HN_GOTO_FWD(hn_plan_make(p, W, H, C, &plan, &lg));
        target = 0;
    } else {
        if (target <= fixed) {
            hn_logf(&lg, 0, "the metadata alone takes %llu bytes (%.4f bpppb): a target of %llu "
                    "bytes (%.4f bpppb) cannot hold a network", (unsigned long long)fixed,
                    fixed * 8.0 / samples, (unsigned long long)target, target * 8.0 / samples);
            HN_GOTO_IF(1, HINER_E_BUDGET);
        }
        st = hn_plan_for_rate(p, W, H, C, (double)(target - fixed), &plan, &lg);
        /* The informative TRNG record is the one chunk a file can do without: left out
         * where the smallest network fits only without it (the Pavia crop at 0.1 bpppb:
         * 2,390 bytes left for a network of 2,463 with it, 2,512 without). */
        const uint64_t trng_bytes = HN_CHUNK_OVERHEAD + f.trng.n;
        if (st == HINER_E_BUDGET && target > fixed - trng_bytes &&
            hn_plan_for_rate(p, W, H, C, (double)(target - (fixed - trng_bytes)), &plan, NULL) ==
                HINER_OK) {
            hn_logf(&lg, 2, "the informative training record (%llu bytes) is left out: the "
                    "smallest network fits %.4f bpppb only without it",
                    (unsigned long long)trng_bytes, target * 8.0 / samples);
            f.no_trng = 1;
            fixed -= trng_bytes;
            st = HINER_OK;
        }
        if (st == HINER_E_BUDGET)
            hn_logf(&lg, 0, "%.4f bpppb is below the smallest file for this %ux%ux%u cube",
                    target * 8.0 / samples, W, H, C);
        HN_GOTO_FWD(st);
    }
    hn_log_plan(&lg, &plan);
    HN_GOTO_FWD(hn_plan_readable(&plan, &lg));

    /* train */
    HN_GOTO_FWD(hn_model_alloc(&m, &plan));
    m->log = lg;
    m->threads = p->threads > 0 ? p->threads : 1; /* for the evaluation passes */
    HN_GOTO_FWD(hn_model_take_data(m, &d)); /* d keeps the normalised bands */
    hn_rng rng;
    hn_rng_seed(&rng, p->seed);
    hn_net_init_weights(&m->net, &rng);
    const int epochs = hn_epochs_for(p, &plan);
    plan.epochs = epochs;
    int qat = p->qat_epochs >= 0 ? p->qat_epochs : HN_AUTO_QAT(epochs);
    hn_train_cfg cfg;
    hn_cfg_from_params(&cfg, p);
    cfg.epochs = epochs;
    hn_logf(&lg, 2, "training: %d epochs%s, then %d of fine-tuning", epochs,
            p->epochs < 0 ? " (automatic)" : "", qat);
    cfg.progress_hi = qat ? 0.92 : 0.98;
    hiner_train_report tr;
    HN_GOTO_FWD(hn_train(m, &d, &cfg, &tr));
    HN_GOTO_FWD(hn_model_compute_embeddings(m));
    double t_phase = hn_seconds();
    double psnr_float = tr.final_psnr;
    if (p->evaluate) {
        HN_GOTO_FWD(psnr_data(m, &d, &psnr_float));
        hn_logf(&lg, 3, "timing: float PSNR in %.2f s", hn_seconds() - t_phase);
    }
    t_phase = hn_seconds();

    /* quantize to the rate, fine-tune with the quantization in the loop, quantize again */
    const int store_enc = p->store_encoder;
    hn_qset_init(&q, m, store_enc, p->quant_bits); /* the paper's widths; the rate fit sets its own */
    if (!paper) { /* the rate fit weighs each weight's error by its effect on PSNR */
        sens = hn_malloc(m->net.n_params, sizeof(float));
        if (!store_enc) sens_embed = hn_malloc((size_t)C * hn_embed_size(&plan), sizeof(float));
        HN_GOTO_IF(!sens || (!store_enc && !sens_embed), HINER_E_NOMEM);
        HN_GOTO_FWD(hn_sensitivity(m, &d, m->threads, HN_SENS_PROBES(C), p->seed, sens,
                                   sens_embed));
        for (int t = 0; t < q.nt; t++)
            q.sens[t] = q.net_index[t] < 0 ? sens_embed : sens + (q.src[t] - m->net.params);
        hn_logf(&lg, 3, "timing: sensitivity in %.2f s", hn_seconds() - t_phase);
    }
    uint64_t total = 0;
    f.arch.n = 0;
    hn_pl_arch(&f.arch, &plan, m->wavelengths ? 1 : 0, m->lam_lo, m->lam_scale);
    fixed = hn_fixed_bytes(&f);
    /* The training record is written after the fit, its figures then known; coded, it can
     * come out a few bytes longer than the placeholder counted in `fixed`. The fit, which
     * fills the target to the byte, leaves it this much room. */
    const uint64_t trng_slack = f.no_trng ? 0 : 16;
    if (paper) {
        HN_GOTO_FWD(hn_qset_measure(&q, p->entropy, &total));
        total += fixed;
    } else {
        HN_GOTO_FWD(hn_rate_fit(&q, p->entropy, fixed + trng_slack, target, 0, &total, &lg));
    }
    hn_logf(&lg, 3, "timing: rate fit in %.2f s", hn_seconds() - t_phase);
    if (qat > 0) {
        int qb[HN_MAX_TENSORS] = {0}, qm[HN_MAX_TENSORS] = {0};
        for (int t = 0; t < q.nt; t++)
            if (q.net_index[t] >= 0) {
                qb[q.net_index[t]] = q.bits[t];
                qm[q.net_index[t]] = q.qt[t].mode;
            }
        hn_train_cfg qc = cfg;
        qc.epochs = qat;
        qc.lr = p->lr * 0.1f;
        qc.warmup = 0.0f;
        qc.seed = p->seed + 1;
        qc.qat_bits = qb;
        qc.qat_mode = qm;
        qc.progress_lo = cfg.progress_hi;
        qc.progress_hi = 0.98;
        qc.what = "fine-tuning";
        hiner_train_report qr;
        HN_GOTO_FWD(hn_train(m, &d, &qc, &qr));
        tr.seconds += qr.seconds;
        tr.steps += qr.steps;
        if (!store_enc) HN_GOTO_FWD(hn_model_compute_embeddings(m));
        /* the modes the fine-tuning saw stay: chosen again, a mode near a tie can flip and
         * undo what it learnt (hydice_urban_162 at 0.1 bpppb, 500 epochs, 6 bits: 36.10 dB
         * stored after 37.58 in the fine-tuning's last epoch; kept: 37.72) */
        for (int t = 0; t < q.nt; t++)
            if (q.net_index[t] >= 0) q.mode[t] = qm[q.net_index[t]];
        if (paper) {
            HN_GOTO_FWD(hn_qset_measure(&q, p->entropy, &total));
            total += fixed;
        } else {
            HN_GOTO_FWD(hn_rate_fit(&q, p->entropy, fixed + trng_slack, target, 1, &total, &lg));
        }
    }
    if (!paper && (total > target * 1.05 || total < target * 0.95)) {
        hn_logf(&lg, 0, "the file would be %llu bytes for a target of %llu (outside 5 %%)",
                (unsigned long long)total, (unsigned long long)target);
        HN_GOTO_IF(1, HINER_E_BUDGET);
    }
    hn_qset_restore(&q);
    if (store_enc) {
        m->has_encoder = 1;
        HN_GOTO_FWD(hn_model_compute_embeddings(m));
    }
    double psnr_q = NAN;
    if (p->evaluate) {
        HN_GOTO_FWD(psnr_data(m, &d, &psnr_q));
        hn_logf(&lg, 2, "PSNR %.2f dB before quantization, %.2f dB as stored (%s coding)",
                psnr_float, psnr_q, q.method == HN_ENTROPY_HUFFMAN ? "Huffman" : "arithmetic");
    }

    /* the file */
    if (!f.no_trng) {
        hn_training_text(trng, sizeof trng, p, epochs, qat, psnr_float, psnr_q, q.method);
        hn_buf_free(&f.trng);
        HN_GOTO_FWD(hn_pl_text(&f.trng, trng));
    }
    hiner_bits bits;
    hn_assemble(file, &f, &q.deco, &q.rest, store_enc, &bits);
    HN_GOTO_IF(file->err, HINER_E_NOMEM);
    if (rep) {
        memset(rep, 0, sizeof *rep);
        rep->train = tr;
        rep->plan = plan;
        rep->bits = bits;
        rep->bpppb = file->n * 8.0 / samples;
        rep->target_bytes = target;
        rep->psnr_float = psnr_float;
        rep->psnr_quantized = psnr_q;
        rep->entropy = q.method;
        rep->qat_epochs = qat;
        rep->huffman_bytes = q.size_of[HN_ENTROPY_HUFFMAN];
        rep->arith_bytes = q.size_of[HN_ENTROPY_ARITH];
        rep->max_bits = 0;
        rep->min_bits = 99;
        for (int t = 0; t < q.nt; t++) {
            rep->max_bits = q.bits[t] > rep->max_bits ? q.bits[t] : rep->max_bits;
            rep->min_bits = q.bits[t] < rep->min_bits ? q.bits[t] : rep->min_bits;
        }
    }
    hn_logf(&lg, 2, "%zu bytes, %.4f bpppb (target %llu bytes)", file->n, rep ? rep->bpppb : 0.0,
            (unsigned long long)target);
    if (p->progress && !p->progress(1.0, "done", p->progress_user)) HN_GOTO_IF(1, HINER_E_ABORTED);
fail:
    hn_free(sens);
    hn_free(sens_embed);
    hn_qset_clear(&q);
    hn_fixed_free(&f);
    hiner_model_free(m);
    hn_data_free(&d);
    return st;
}

hiner_status hiner_encode(const hiner_cube *cube, const hiner_meta *meta, const hiner_params *p,
                          hiner_write_fn write, void *user, hiner_encode_report *report)
{
    HN_CHECK(!write, HINER_E_INVALID_ARG);
    hn_buf file;
    hn_buf_init(&file);
    hiner_status st = encode_to_buf(cube, meta, p, &file, report);
    if (st == HINER_OK && write(user, file.p, file.n) != 0) st = HINER_E_IO;
    hn_buf_free(&file);
    return st;
}

hiner_status hiner_encode_mem(const hiner_cube *cube, const hiner_meta *meta,
                              const hiner_params *p, void **out, size_t *size,
                              hiner_encode_report *report)
{
    HN_CHECK(!out || !size, HINER_E_INVALID_ARG);
    *out = NULL;
    *size = 0;
    hn_buf file;
    hn_buf_init(&file);
    hiner_status st = encode_to_buf(cube, meta, p, &file, report);
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

hiner_status hiner_encode_file(const hiner_cube *cube, const hiner_meta *meta,
                               const hiner_params *p, const char *path,
                               hiner_encode_report *report)
{
    HN_CHECK(!path || !path[0], HINER_E_INVALID_ARG);
    hn_buf file;
    hn_buf_init(&file);
    hiner_status st = encode_to_buf(cube, meta, p, &file, report);
    if (st != HINER_OK) {
        hn_buf_free(&file);
        return st;
    }
    /* a temporary name beside the target, renamed at the end: never a partial file */
    size_t n = strlen(path);
    char *tmp = malloc(n + 32);
    if (!tmp) {
        hn_buf_free(&file);
        return HINER_E_NOMEM;
    }
    snprintf(tmp, n + 32, "%s.tmp%ld", path, (long)getpid());
    FILE *fp = fopen(tmp, "wb");
    int ok = fp != NULL;
    if (ok) ok = fwrite(file.p, 1, file.n, fp) == file.n;
    if (fp) ok = (fclose(fp) == 0) && ok;
    if (ok) ok = rename(tmp, path) == 0;
    if (!ok) {
        const hn_log lg = {p->log, p->log_user};
        hn_logf(&lg, 0, "cannot write %s: %s", path, strerror(errno));
        remove(tmp);
        st = HINER_E_IO;
    }
    free(tmp);
    hn_buf_free(&file);
    return st;
}
