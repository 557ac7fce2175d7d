/*
 * hiner.c - the `hiner` command: what a .hiner file holds. Reading and writing other raster
 * formats is GDAL's job (the HINER driver); this tool only looks inside .hiner files.
 *   hiner info FILE.hiner     dimensions, type, wavelengths, architecture, training, bits
 *   hiner version
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hiner.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: hiner info FILE.hiner\n"
               "       hiner version\n");
}

static void print_bits(const char *what, uint64_t bytes, uint64_t total, double samples)
{
    printf("  %-11s %10llu bytes  %5.1f %%  %.4f bpppb\n", what, (unsigned long long)bytes,
           total ? 100.0 * (double)bytes / (double)total : 0.0, bytes * 8.0 / samples);
}

static int cmd_info(const char *path)
{
    hiner_model *m = NULL;
    int st = hiner_open_file(path, &m);
    if (st != HINER_OK) {
        fprintf(stderr, "hiner: %s: %s\n", path, hiner_status_str(st));
        return 1;
    }
    hiner_info in;
    hiner_plan pl;
    hiner_meta meta;
    hiner_model_info(m, &in);
    hiner_model_plan(m, &pl);
    hiner_model_meta(m, &meta);
    const double samples = (double)in.width * in.height * in.bands;
    printf("%s: HINER format %d.%d\n", path, in.format_major, in.format_minor);
    printf("size: %u x %u pixels, %u bands, %s\n", in.width, in.height, in.bands,
           hiner_dtype_name(in.dtype));
    if (in.has_nodata) printf("nodata: %.17g\n", in.nodata);
    printf("validity mask: %s\n", in.has_mask ? "yes (NoData/NaN pixels)" : "no (all valid)");
    const double *wl = hiner_model_wavelengths(m);
    if (wl) {
        printf("wavelengths: %.6g .. %.6g %s (%u bands)\n", in.wavelength_min, in.wavelength_max,
               meta.wavelength_units ? meta.wavelength_units : "", in.bands);
    } else {
        printf("wavelengths: none (bands addressed by index 0..%u)\n", in.bands - 1);
    }
    printf("interpolation: %s\n", in.has_encoder
                                      ? "available (spectral encoder stored)"
                                      : "unavailable (file stores embeddings only)");
    if (meta.has_geotransform)
        printf("geotransform: %.10g, %.10g, %.10g, %.10g, %.10g, %.10g\n", meta.geotransform[0],
               meta.geotransform[1], meta.geotransform[2], meta.geotransform[3],
               meta.geotransform[4], meta.geotransform[5]);
    if (meta.crs_wkt) {
        const char *q = strchr(meta.crs_wkt, '"');
        const char *e = q ? strchr(q + 1, '"') : NULL;
        printf("crs: %.*s\n", q && e ? (int)(e - q - 1) : 40, q && e ? q + 1 : meta.crs_wkt);
    }
    if (meta.n_gcps) printf("gcps: %u\n", meta.n_gcps);
    printf("metadata items: %u\n", meta.n_items);
    printf("architecture: padded %u x %u, embedding %d x %d x %d, strides", pl.pad_width,
           pl.pad_height, pl.embed_channels, pl.embed_height, pl.embed_width);
    for (int i = 0; i < pl.n_stages; i++) printf(" %d", pl.strides[i]);
    printf(", kernels");
    for (int i = 0; i < pl.n_stages; i++) printf(" %d", pl.kernels[i]);
    printf(", widths");
    for (int i = 0; i <= pl.n_stages; i++) printf(" %d", pl.widths[i]);
    printf("\n  decoder %llu parameters, spectral encoder %llu (PE %d frequencies, hidden %d), "
           "%.1f MMAC per band\n",
           (unsigned long long)pl.decoder_params, (unsigned long long)pl.encoder_params,
           pl.enc_freqs, pl.enc_hidden, pl.forward_macs * 1e-6);
    printf("quantization: up to %d bits, %s coding\n", in.quant_bits,
           in.entropy == HINER_ENTROPY_HUFFMAN ? "canonical Huffman" : "adaptive arithmetic");
    if (in.training[0]) {
        printf("training:\n");
        const char *s = in.training;
        while (*s) {
            const char *e = strchr(s, '\n');
            int n = e ? (int)(e - s) : (int)strlen(s);
            printf("  %.*s\n", n, s);
            s += n + (e ? 1 : 0);
        }
    }
    printf("bits: %llu bytes, %.4f bpppb, ratio %.1f to %s\n", (unsigned long long)in.bits.total,
           in.bpppb, samples * (double)hiner_dtype_size(in.dtype) / (double)in.bits.total,
           hiner_dtype_name(in.dtype));
    print_bits("header", in.bits.header, in.bits.total, samples);
    print_bits("metadata", in.bits.metadata, in.bits.total, samples);
    print_bits("decoder", in.bits.decoder, in.bits.total, samples);
    print_bits("embeddings", in.bits.embeddings, in.bits.total, samples);
    print_bits("encoder", in.bits.encoder, in.bits.total, samples);
    hiner_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "info")) return cmd_info(argv[2]);
    if (argc == 2 && !strcmp(argv[1], "version")) {
        printf("hiner %s\n", hiner_version_string());
        return 0;
    }
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
