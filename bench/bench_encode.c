/*
 * bench_encode.c - the whole file path on a real scene: encode at a rate (or size), open
 * the bytes, decode every band and measure PSNR with the project's rules (per band,
 * original min-max range, true extent, valid pixels). Prints size against the target,
 * PSNR before and after quantization, both entropy coders' sizes and the bit breakdown.
 *   bench_encode --tif ../shared/data/sandiego_189.tif --bpppb 0.2 [--epochs 300]
 *                [--threads 2] [--qat N] [--no-encoder] [--entropy 1|2] [--out f.hiner]
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <string.h>
#include <time.h>

#include "gdal_cube.h"

static void log_fn(int level, const char *msg, void *user)
{
    int verbose = *(int *)user;
    if (level <= (verbose ? 2 : 1)) fprintf(stderr, "  %s\n", msg);
}

/* The command line into p, *tif, *out, *verbose; 0, or the exit status on a bad one. */
static int parse_args(int argc, char **argv, hiner_params *p, const char **tif, const char **out,
                      int *verbose)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--tif")) *tif = v, i++;
        else if (!strcmp(a, "--bpppb")) p->bpppb = atof(v), i++;
        else if (!strcmp(a, "--size")) p->size_bytes = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--epochs")) p->epochs = atoi(v), i++;
        else if (!strcmp(a, "--threads")) p->threads = atoi(v), i++;
        else if (!strcmp(a, "--seed")) p->seed = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--qat")) p->qat_epochs = atoi(v), i++;
        else if (!strcmp(a, "--entropy")) p->entropy = atoi(v), i++;
        else if (!strcmp(a, "--bits")) p->quant_bits = atoi(v), i++;
        else if (!strcmp(a, "--lr")) p->lr = (float)atof(v), i++;
        else if (!strcmp(a, "--w-l1")) p->w_l1 = (float)atof(v), i++;
        else if (!strcmp(a, "--w-cam")) p->w_cam = (float)atof(v), i++;
        else if (!strcmp(a, "--w-l2")) p->w_l2 = (float)atof(v), i++;
        else if (!strcmp(a, "--warmup")) p->warmup = (float)atof(v), i++;
        else if (!strcmp(a, "--enc-freqs")) p->enc_freqs = atoi(v), i++;
        else if (!strcmp(a, "--enc-hidden")) p->enc_hidden = atoi(v), i++;
        else if (!strcmp(a, "--min-width")) p->min_width = atoi(v), i++;
        else if (!strcmp(a, "--no-encoder")) p->store_encoder = 0;
        else if (!strcmp(a, "--max-kernel")) p->max_kernel = atoi(v), i++;
        else if (!strcmp(a, "--embed-ch")) p->embed_channels = atoi(v), i++;
        else if (!strcmp(a, "--effort")) p->effort = atoi(v), i++;
        else if (!strcmp(a, "--tile")) p->tile_width = p->tile_height = atoi(v), i++;
        else if (!strcmp(a, "--margin")) p->tile_margin = atoi(v), i++;
        else if (!strcmp(a, "--out")) *out = v, i++;
        else if (!strcmp(a, "-v")) *verbose = 1;
        else {
            fprintf(stderr, "unknown argument %s\n", a);
            return 2;
        }
    }
    if (!*tif) {
        fprintf(stderr, "usage: %s --tif cube.tif --bpppb X [--epochs N] [--threads N] [--qat N] "
                "[--no-encoder] [--entropy 1|2] [--effort 1..9] [--tile N] [--margin N] [--out f.hiner] "
                "[-v]\n", argv[0]);
        return 2;
    }
    return 0;
}

/* One line of results, then the bytes of each part of the file. */
static void print_result(const char *name, const bench_cube *bc, const hiner_params *p,
                         const hiner_encode_report *rep, size_t size, double psnr)
{
    const double tgt = (double)rep->target_bytes;
    printf("%s %dx%dx%d | target %.3f bpppb %.0f B | file %zu B %.4f bpppb (%+.1f %%) | "
           "PSNR float %.2f quant %.2f decoded %.2f dB | %s huff %llu arith %llu B | bits %d-%d | "
           "qat %d | %.0f s | plan widths %d..%d enc %dx%d embed %dx%d stages %d\n",
           name, bc->W, bc->H, bc->C, p->bpppb, tgt, size, rep->bpppb,
           tgt > 0 ? 100.0 * (size - tgt) / tgt : 0.0, rep->psnr_float, rep->psnr_quantized, psnr,
           rep->entropy == 1 ? "huffman" : "arith", (unsigned long long)rep->huffman_bytes,
           (unsigned long long)rep->arith_bytes, rep->min_bits, rep->max_bits, rep->qat_epochs,
           rep->train.seconds, rep->plan.widths[0], rep->plan.widths[rep->plan.n_stages],
           2 * rep->plan.enc_freqs, rep->plan.enc_hidden, rep->plan.embed_height,
           rep->plan.embed_width, rep->plan.n_stages);
    printf("  bytes: header %llu metadata %llu decoder %llu embeddings %llu encoder %llu\n",
           (unsigned long long)rep->bits.header, (unsigned long long)rep->bits.metadata,
           (unsigned long long)rep->bits.decoder, (unsigned long long)rep->bits.embeddings,
           (unsigned long long)rep->bits.encoder);
}

/* Tiled files: the error within 4 pixels of a tile's inner edge against the rest (RMSE of
 * values normalised by each band's range, valid pixels). */
static void seam_stats(hiner_model *m, const bench_cube *bc)
{
    hiner_info info;
    hiner_model_info(m, &info);
    if (info.tiles_x * info.tiles_y < 2) return;
    const size_t n = (size_t)bc->W * bc->H;
    float *dec = malloc(n * sizeof(float));
    double se[2] = {0, 0};
    size_t cnt[2] = {0, 0};
    for (int b = 0; b < bc->C && dec; b++) {
        if (hiner_model_decode_band(m, (uint32_t)b, dec) != HINER_OK) break;
        const double *ref = bc->data + (size_t)b * n;
        double mn = INFINITY, mx = -INFINITY;
        for (size_t i = 0; i < n; i++)
            if (isfinite(ref[i]) && !(bc->cube.has_nodata && ref[i] == bc->cube.nodata))
                mn = fmin(mn, ref[i]), mx = fmax(mx, ref[i]);
        if (!(mx > mn)) continue;
        for (int y = 0; y < bc->H; y++)
            for (int x = 0; x < bc->W; x++) {
                const double v = ref[(size_t)y * bc->W + x];
                if (!isfinite(v) || (bc->cube.has_nodata && v == bc->cube.nodata)) continue;
                const int dx = x % (int)info.tile_width, dy = y % (int)info.tile_height;
                const int near_x = (dx < 4 && x >= 4) || ((int)info.tile_width - 1 - dx < 4 &&
                                                          x + 4 < bc->W);
                const int near_y = (dy < 4 && y >= 4) || ((int)info.tile_height - 1 - dy < 4 &&
                                                          y + 4 < bc->H);
                const int edge = near_x || near_y;
                const double d = (dec[(size_t)y * bc->W + x] - v) / (mx - mn);
                se[edge] += d * d;
                cnt[edge]++;
            }
    }
    free(dec);
    if (cnt[0] && cnt[1])
        printf("  seams: RMSE within 4 px of a tile edge %.3e (%zu samples), interior %.3e, "
               "ratio %.3f\n", sqrt(se[1] / cnt[1]), cnt[1], sqrt(se[0] / cnt[0]),
               sqrt(se[1] / cnt[1]) / sqrt(se[0] / cnt[0]));
}

int main(int argc, char **argv)
{
    const char *tif = NULL, *out = NULL;
    int verbose = 0;
    hiner_params p;
    hiner_params_init(&p, HINER_ABI_VERSION);
    p.threads = 2;
    p.evaluate = 1;
    const int bad = parse_args(argc, argv, &p, &tif, &out, &verbose);
    if (bad) return bad;
    bench_cube bc;
    if (!bench_cube_load(&bc, tif)) {
        fprintf(stderr, "%s: cannot read (skipping)\n", tif);
        return 77;
    }
    p.log = log_fn;
    p.log_user = &verbose;
    void *file = NULL;
    size_t size = 0;
    hiner_encode_report rep;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int st = hiner_encode_mem(&bc.cube, NULL, &p, &file, &size, &rep);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const char *name = strrchr(tif, '/') ? strrchr(tif, '/') + 1 : tif;
    if (st != HINER_OK) {
        printf("%s %dx%dx%d target %.3f bpppb: FAILED %s\n", name, bc.W, bc.H, bc.C, p.bpppb,
               hiner_status_str(st));
        return 1;
    }
    hiner_model *m = NULL;
    double psnr = NAN;
    if (hiner_open_mem(file, size, &m) == HINER_OK) hiner_model_psnr(m, &bc.cube, &psnr);
    if (out) {
        FILE *f = fopen(out, "wb");
        if (f) fwrite(file, 1, size, f), fclose(f);
    }
    print_result(name, &bc, &p, &rep, size, psnr);
    printf("  wall %.1f s\n", (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec));
    if (m) seam_stats(m, &bc);
    hiner_model_free(m);
    hiner_free(file);
    bench_cube_free(&bc);
    return 0;
}
