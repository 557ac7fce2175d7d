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
    fprintf(f, "usage: hiner info [--tiles] FILE.hiner   (--tiles: where each tile lies)\n"
               "       hiner version\n");
}

static void print_bits(const char *what, uint64_t bytes, uint64_t total, double samples)
{
    printf("  %-11s %10llu bytes  %5.1f %%  %.4f bpppb\n", what, (unsigned long long)bytes,
           total ? 100.0 * (double)bytes / (double)total : 0.0, bytes * 8.0 / samples);
}

static int cmd_info(const char *path, int show_tiles)
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
    const uint32_t tiles = in.tiles_x * in.tiles_y;
    if (tiles > 1) {
        /* every tile's network is read: the byte breakdown and the first tile's plan */
        hiner_bits sum = {0};
        uint32_t empty = 0;
        for (uint32_t ty = 0; ty < in.tiles_y; ty++)
            for (uint32_t tx = 0; tx < in.tiles_x; tx++) {
                hiner_tile_info ti;
                st = hiner_model_tile_info(m, tx, ty, &ti);
                if (st != HINER_OK) {
                    fprintf(stderr, "hiner: %s: tile %u,%u: %s\n", path, tx, ty,
                            hiner_status_str(st));
                    hiner_model_free(m);
                    return 1;
                }
                if (show_tiles)
                    printf("tile %u,%u: %u,%u %u x %u, offset %llu, %llu bytes%s\n", tx, ty,
                           ti.x0, ti.y0, ti.width, ti.height, (unsigned long long)ti.offset,
                           (unsigned long long)ti.bytes, ti.bytes ? "" : " (empty)");
                empty += ti.bytes == 0;
                sum.header += ti.bits.header, sum.metadata += ti.bits.metadata;
                sum.decoder += ti.bits.decoder, sum.encoder += ti.bits.encoder;
                sum.embeddings += ti.bits.embeddings;
            }
        hiner_model_info(m, &in); /* quantization of the tiles read */
        hiner_model_plan(m, &pl);
        in.bits.header += sum.header, in.bits.metadata += sum.metadata;
        in.bits.decoder = sum.decoder, in.bits.encoder = sum.encoder;
        in.bits.embeddings = sum.embeddings;
        printf("tiles: %u x %u of %u x %u (%u empty); first tile's network below\n", in.tiles_x,
               in.tiles_y, in.tile_width, in.tile_height, empty);
    }
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
    if (argc == 3 && !strcmp(argv[1], "info")) return cmd_info(argv[2], 0);
    if (argc == 4 && !strcmp(argv[1], "info") && !strcmp(argv[2], "--tiles"))
        return cmd_info(argv[3], 1);
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
