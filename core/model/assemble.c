/*
 * assemble.c - the fixed parts of a .hiner file, the training record, and the file put
 * together chunk by chunk (docs/format.md; assemble.h).
 */
#include <stdio.h>

#include "../codec/container.h"
#include "assemble.h"
#include "cnumeric.h"

void hn_training_text(char *s, size_t n, const hiner_params *p, int epochs, int qat, double pf,
                      double pq, int method)
{
    c_numeric cn; /* "lr=0.001", not "lr=0,001", under a decimal-comma locale */
    c_numeric_begin(&cn);
    snprintf(s, n,
             "library=%s\neffort=%d\nepochs=%d\nlr=%g\nwarmup=%g\nloss=%g*L1+%g*CAM+%g*MSE\n"
             "seed=%llu\nthreads=%d\nqat_epochs=%d\ntrain_psnr=%6.2f\npsnr_quantized=%6.2f\n"
             "entropy=%s\n",
             hiner_version_string(), p->effort, epochs, (double)p->lr, (double)p->warmup,
             (double)p->w_l1,
             (double)p->w_cam, (double)p->w_l2, (unsigned long long)p->seed, p->threads, qat, pf,
             pq, method == HN_ENTROPY_HUFFMAN ? "huffman" : "arith");
    c_numeric_end(&cn);
}

void hn_fixed_free(hn_fixed *f)
{
    hn_buf_free(&f->info);
    hn_buf_free(&f->band);
    hn_buf_free(&f->mask);
    hn_buf_free(&f->wave);
    hn_buf_free(&f->geo);
    hn_buf_free(&f->meta);
    hn_buf_free(&f->trng);
    hn_buf_free(&f->arch);
}

static int meta_has_records(const hiner_meta *m, uint32_t C)
{
    if (!m) return 0;
    if (m->n_items) return 1;
    for (uint32_t k = 0; k < C; k++) {
        if (m->band_descriptions && m->band_descriptions[k] && m->band_descriptions[k][0]) return 1;
        if (m->color_interp && m->color_interp[k]) return 1;
    }
    return 0;
}

hiner_status hn_fixed_build(hn_fixed *f, const hn_data *d, const hiner_meta *meta)
{
    memset(f, 0, sizeof *f);
    f->has_mask = d->valid != NULL;
    f->has_wave = d->wavelengths != NULL;
    f->has_geo = !hn_geo_empty(meta);
    f->has_meta = meta_has_records(meta, d->C);
    hn_pl_info(&f->info, d, f->has_mask, f->has_wave);
    HN_FORWARD(hn_pl_band(&f->band, d->band_min, d->band_max, d->C));
    if (f->has_mask) HN_FORWARD(hn_pl_mask(&f->mask, d));
    /* the metadata the reader will rebuild, charged as it charges it */
    hn_meta_store *trial = hn_meta_store_new(d->C);
    HN_CHECK(!trial, HINER_E_NOMEM);
    hiner_status st = HINER_OK;
    if (f->has_wave) HN_GOTO_FWD(hn_pl_wave(&f->wave, d, meta, trial));
    if (f->has_geo) HN_GOTO_FWD(hn_pl_geo(&f->geo, meta, trial));
    if (f->has_meta) HN_GOTO_FWD(hn_pl_meta(&f->meta, meta, d->C, trial));
    HN_GOTO_IF(f->info.err, HINER_E_NOMEM);
fail:
    hn_meta_store_free(trial);
    return st;
}

uint64_t hn_fixed_bytes(const hn_fixed *f)
{
    uint64_t n = HN_HEADER_BYTES + 2 * HN_CHUNK_OVERHEAD; /* header, INFO and END! framing */
    n += f->info.n + HN_CHUNK_OVERHEAD + f->band.n;
    if (!f->no_trng) n += HN_CHUNK_OVERHEAD + f->trng.n;
    if (f->has_mask) n += HN_CHUNK_OVERHEAD + f->mask.n;
    if (f->has_wave) n += HN_CHUNK_OVERHEAD + f->wave.n;
    if (f->has_geo) n += HN_CHUNK_OVERHEAD + f->geo.n;
    if (f->has_meta) n += HN_CHUNK_OVERHEAD + f->meta.n;
    n += HN_CHUNK_OVERHEAD + f->arch.n + 2 * HN_CHUNK_OVERHEAD; /* ARCH, DECO, ENCO/EMBD */
    return n;
}

void hn_assemble(hn_buf *out, const hn_fixed *f, const hn_buf *deco, const hn_buf *rest,
                 int store_encoder, hiner_bits *bits)
{
    hn_file_header(out);
    hn_chunk_put(out, "INFO", 1, f->info.p, f->info.n);
    hn_chunk_put(out, "BAND", 1, f->band.p, f->band.n);
    if (f->has_mask) hn_chunk_put(out, "MASK", 1, f->mask.p, f->mask.n);
    if (f->has_wave) hn_chunk_put(out, "WAVE", 1, f->wave.p, f->wave.n);
    if (f->has_geo) hn_chunk_put(out, "GEO ", 0, f->geo.p, f->geo.n);
    if (f->has_meta) hn_chunk_put(out, "META", 0, f->meta.p, f->meta.n);
    if (!f->no_trng) hn_chunk_put(out, "TRNG", 0, f->trng.p, f->trng.n);
    hn_chunk_put(out, "ARCH", 1, f->arch.p, f->arch.n);
    hn_chunk_put(out, "DECO", 1, deco->p, deco->n);
    hn_chunk_put(out, store_encoder ? "ENCO" : "EMBD", 1, rest->p, rest->n);
    hn_chunk_put(out, "END!", 1, NULL, 0);
    memset(bits, 0, sizeof *bits);
    bits->total = out->n;
    bits->decoder = f->arch.n + deco->n;
    if (store_encoder)
        bits->encoder = rest->n;
    else
        bits->embeddings = rest->n;
    bits->metadata =
        f->band.n + f->mask.n + f->wave.n + f->geo.n + f->meta.n + (f->no_trng ? 0 : f->trng.n);
    bits->header = bits->total - bits->decoder - bits->encoder - bits->embeddings - bits->metadata;
}
