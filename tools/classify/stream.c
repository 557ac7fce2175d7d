/*
 * stream.c - hiner-classify's two passes over the image, window by window, so that memory
 * depends on the window and not on the scene: the training pixels' patches (pass 1) and
 * the classification (pass 2). Windows are blocks aligned on the file's tiles, as wide as
 * --memory allows; a block is read with the rows and columns its border pixels' patches
 * reach into (mirrored at the image's edges as the library mirrors a whole cube), and
 * pass 2 carries the last rows of a block down to the next, so each tile is decoded once.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "classify_tool.h"

/* The blocks: bw x bh pixels, nx x ny of them; r the patch radius. */
typedef struct grid {
    int bw, bh, nx, ny, r;
} grid;

/* Symmetric reflection of an index into [0, n), as the library's. */
static int reflect(int i, int n)
{
    while (i < 0 || i >= n) {
        if (i < 0) i = -i - 1;
        if (i >= n) i = 2 * n - i - 1;
    }
    return i;
}

/* Blocks: --block when given; a .hiner file of one tile is one block (its network decodes
 * the whole raster at once); else the height of a row of tiles (GDAL blocks: at least 64
 * rows) and as many tile columns as --memory allows for a window, its normalised copy in
 * the library and its masks. */
static void plan_grid(const options *o, const image *im, int r, grid *g)
{
    memset(g, 0, sizeof *g);
    g->r = r;
    if (o->block_w > 0) {
        g->bw = o->block_w, g->bh = o->block_h;
    } else if (im->is_hiner && !im->tiles) {
        g->bw = im->W, g->bh = im->H;
    } else {
        const int tw = im->tile_w > 0 ? im->tile_w : 256, th = im->tile_h > 0 ? im->tile_h : 256;
        g->bh = th < 64 ? th * ((64 + th - 1) / th) : th;
        if (g->bh > im->H) g->bh = im->H;
        const double per_col = (double)(g->bh + 2 * r) * (8.0 * im->C + 4.0);
        const double cols = o->memory_mb * 1048576.0 / per_col - 2 * r;
        g->bw = cols >= im->W ? im->W : (int)(cols / tw) * tw;
        if (g->bw < tw) g->bw = tw;
    }
    if (g->bh < 2 * r + 1) g->bh = 2 * r + 1; /* the rows carried down fit in one block */
    if (g->bw > im->W) g->bw = im->W;
    if (g->bh > im->H) g->bh = im->H;
    g->nx = (im->W + g->bw - 1) / g->bw;
    g->ny = (im->H + g->bh - 1) / g->bh;
}

static float *alloc_floats(size_t n, const char *what)
{
    float *p = malloc((n ? n : 1) * sizeof(float));
    if (!p) die("out of memory for %s (%zu MB; try a smaller --memory)", what, n * 4 >> 20);
    return p;
}

/* ---- pass 1: the training pixels' patches ---- */
typedef struct tsample {
    uint64_t idx;
    size_t block, slot;
} tsample;

static int by_block(const void *a, const void *b)
{
    const tsample *x = a, *y = b;
    if (x->block != y->block) return x->block < y->block ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void training_patches(const options *o, const image *im, run *r, hiner_classify_patches *d)
{
    const int P = o->cp.patch, rad = P / 2, C = im->C, W = im->W, H = im->H;
    const size_t PP = (size_t)P * P;
    grid g;
    plan_grid(o, im, rad, &g);
    const double t0 = now();
    /* the training pixels in raster order: slot s is the s-th of them */
    const size_t n = r->n_train;
    tsample *ts = malloc((n ? n : 1) * sizeof *ts);
    uint8_t *keep = calloc(n ? n : 1, 1);
    if (!ts || !keep) die("out of memory");
    size_t s = 0;
    for (size_t k = 0; k < r->lab.n; k++) {
        if (!r->lab.train[k]) continue;
        const int x = (int)(r->lab.idx[k] % (uint64_t)W), y = (int)(r->lab.idx[k] / (uint64_t)W);
        ts[s] = (tsample){r->lab.idx[k], (size_t)(x / g.bw) * (size_t)g.ny + (size_t)(y / g.bh), s};
        s++;
    }
    qsort(ts, n, sizeof *ts, by_block); /* column-major blocks, as pass 2 reads them */
    const int n_cubes = 1 + (o->isi ? o->isi_copies : 0);
    memset(d, 0, sizeof *d);
    float **vals = calloc((size_t)n_cubes, sizeof *vals);
    uint8_t *pvalid = malloc(n * PP + 1), *lab = malloc(n + 1);
    double **wl = calloc((size_t)n_cubes, sizeof *wl);
    if (!vals || !pvalid || !lab || !wl) die("out of memory");
    for (int k = 0; k < n_cubes; k++) vals[k] = alloc_floats(n * PP * (size_t)C, "the patches");
    for (int k = 1; k < n_cubes; k++) { /* ISI: each copy's wavelengths, for every window */
        wl[k] = malloc((size_t)C * sizeof(double));
        if (!wl[k]) die("out of memory");
        int st = hiner_model_jitter_wavelengths(im->model, o->isi_eta,
                                                o->seed * 1000003ULL + (unsigned)(k - 1), wl[k]);
        if (st == HINER_E_UNSUPPORTED)
            die("%s stores no spectral encoder (written with ENCODER=NO): ISI is not "
                "available", o->image);
        if (st != HINER_OK) die("ISI: %s", hiner_status_str(st));
    }
    const size_t max_win = (size_t)(g.bw + 2 * rad) * (g.bh + 2 * rad);
    float *buf = alloc_floats(max_win * (size_t)C, "a window");
    uint8_t *valid = malloc(max_win);
    if (!valid) die("out of memory");
    prog pr;
    prog_start(&pr, o->quiet, "training patches");
    for (size_t a = 0; a < n;) {
        size_t b = a; /* ts[a..b): one block's training pixels */
        int x0 = W, y0 = H, x1 = 0, y1 = 0;
        for (; b < n && ts[b].block == ts[a].block; b++) {
            const int x = (int)(ts[b].idx % (uint64_t)W), y = (int)(ts[b].idx / (uint64_t)W);
            x0 = x < x0 ? x : x0, x1 = x + 1 > x1 ? x + 1 : x1;
            y0 = y < y0 ? y : y0, y1 = y + 1 > y1 ? y + 1 : y1;
        }
        /* their bounding box and the pixels their patches reach (mirrored ones fall inside) */
        x0 = x0 - rad < 0 ? 0 : x0 - rad, y0 = y0 - rad < 0 ? 0 : y0 - rad;
        x1 = x1 + rad > W ? W : x1 + rad, y1 = y1 + rad > H ? H : y1 + rad;
        const int w = x1 - x0, h = y1 - y0;
        const size_t plane = (size_t)w * h;
        for (int k = 0; k < n_cubes; k++) {
            read_window(im, x0, y0, w, h, wl[k], buf, plane);
            if (k == 0) window_valid(im, buf, plane, plane, valid);
            for (size_t t = a; t < b; t++) {
                const int x = (int)(ts[t].idx % (uint64_t)W), y = (int)(ts[t].idx / (uint64_t)W);
                const size_t sl = ts[t].slot;
                if (k == 0) keep[sl] = valid[(size_t)(y - y0) * w + (x - x0)];
                if (!keep[sl]) continue;
                size_t q = 0;
                for (int dy = -rad; dy <= rad; dy++)
                    for (int dx = -rad; dx <= rad; dx++, q++) {
                        const size_t i = (size_t)(reflect(y + dy, H) - y0) * w +
                                         (size_t)(reflect(x + dx, W) - x0);
                        float *dst = vals[k] + (sl * PP + q) * (size_t)C;
                        for (int c = 0; c < C; c++) dst[c] = buf[(size_t)c * plane + i];
                        if (k == 0) pvalid[sl * PP + q] = valid[i];
                    }
            }
        }
        a = b;
        on_progress((double)a / (double)n, "", &pr);
    }
    free(buf), free(valid);
    /* the class of each slot; NoData training pixels out, the others moved up in order */
    s = 0;
    for (size_t k = 0; k < r->lab.n; k++)
        if (r->lab.train[k]) lab[s++] = r->lab.train[k];
    size_t m = 0;
    for (size_t sl = 0; sl < n; sl++) {
        if (!keep[sl]) {
            r->dropped_train++;
            continue;
        }
        if (m != sl) {
            for (int k = 0; k < n_cubes; k++)
                memmove(vals[k] + m * PP * C, vals[k] + sl * PP * C, PP * C * sizeof(float));
            memmove(pvalid + m * PP, pvalid + sl * PP, PP);
            lab[m] = lab[sl];
        }
        m++;
    }
    free(ts), free(keep);
    for (int k = 1; k < n_cubes; k++) free(wl[k]);
    free(wl);
    if (r->dropped_train)
        fprintf(stderr, "hiner-classify: warning: %zu training pixels are NoData in the image "
                        "and were left out\n", r->dropped_train);
    d->n = (uint32_t)m;
    d->bands = (uint32_t)C;
    d->patch = (uint32_t)P;
    d->values = vals[0];
    d->valid = pvalid;
    d->labels = lab;
    d->n_classes = r->K;
    d->band_min = im->band_min;
    d->band_max = im->band_max;
    d->n_augment = (uint32_t)(n_cubes - 1);
    d->augment = (const float *const *)(vals + 1);
    r->t_patches = now() - t0;
}

void patches_free(hiner_classify_patches *d)
{
    free((void *)d->values);
    free((void *)d->valid);
    free((void *)d->labels);
    if (d->augment) { /* one array of pointers: values, then the ISI copies */
        for (uint32_t k = 0; k < d->n_augment; k++) free((void *)d->augment[k]);
        free((void *)(d->augment - 1));
    }
    memset(d, 0, sizeof *d);
}

/* ---- pass 2: classification ---- */
typedef struct sub_prog {
    prog *pr;
    double done, size, total; /* pixels: before this window, in it, in all */
} sub_prog;

static int window_progress(double frac, const char *msg, void *user)
{
    (void)msg;
    sub_prog *sp = user;
    return on_progress((sp->done + frac * sp->size) / sp->total, "", sp->pr);
}

/* The first labelled pixel at or after raster index i. */
static size_t lab_lower(const labelled *lab, uint64_t i)
{
    size_t lo = 0, hi = lab->n;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (lab->idx[mid] < i) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

void classify_image(const options *o, const image *im, run *r)
{
    const int C = im->C, W = im->W, H = im->H;
    int P = 0;
    hiner_classifier_info(r->clf, NULL, NULL, &P);
    const int rad = P / 2;
    grid g;
    plan_grid(o, im, rad, &g);
    r->block_w = g.bw, r->block_h = g.bh;
    void *map = o->out ? map_create(o, im, r->K) : NULL;
    const int wmax = g.bw + 2 * rad, hmax = g.bh + 2 * rad;
    const size_t nmax = (size_t)wmax * hmax;
    float *buf = alloc_floats(nmax * (size_t)C, "a window");
    float *carry = alloc_floats((size_t)2 * rad * wmax * C + 1, "the rows carried down");
    uint8_t *valid = malloc(nmax), *which = malloc(nmax), *out = malloc(nmax);
    r->pred = calloc(r->lab.n ? r->lab.n : 1, 1);
    if (!valid || !which || !out || !r->pred) die("out of memory");
    /* the pixels to classify: all of them for a map, else the test pixels */
    double total = 0;
    if (map) total = (double)W * H;
    else
        for (size_t k = 0; k < r->lab.n; k++) total += r->lab.test[k] != 0;
    prog pr;
    prog_start(&pr, o->quiet, "classifying");
    double done = 0;
    for (int bx = 0; bx < g.nx; bx++) {
        const int cx0 = bx * g.bw, cx1 = cx0 + g.bw < W ? cx0 + g.bw : W;
        const int wx0 = cx0 - rad < 0 ? 0 : cx0 - rad, wx1 = cx1 + rad > W ? W : cx1 + rad;
        const int ww = wx1 - wx0;
        int carried = 0; /* rows of the block above held in carry */
        for (int by = 0; by < g.ny; by++) {
            const int y0 = by * g.bh, y1 = y0 + g.bh < H ? y0 + g.bh : H;
            /* classified here: rows whose patches lie in rows < y1 (the rest with the next
             * block), and rows from the block above that could not be classified there */
            const int cy0 = by == 0 ? 0 : y0 - rad, cy1 = y1 == H ? H : y1 - rad;
            size_t want = map ? (size_t)(cy1 - cy0) * (cx1 - cx0) : 0;
            const size_t l0 = lab_lower(&r->lab, (uint64_t)cy0 * W);
            const size_t l1 = lab_lower(&r->lab, (uint64_t)cy1 * W);
            for (size_t k = l0; k < l1 && !map; k++) {
                const int x = (int)(r->lab.idx[k] % (uint64_t)W);
                want += r->lab.test[k] && x >= cx0 && x < cx1;
            }
            if (want == 0) {
                carried = 0;
                continue;
            }
            /* rows ry0 .. y1: those carried, then the block's (or all, without a carry) */
            const int ry0 = y0 - 2 * rad < 0 ? 0 : y0 - 2 * rad, rows = y1 - ry0;
            const int keep = carried == y0 - ry0 ? carried : 0;
            const size_t plane = (size_t)rows * ww, n = plane;
            const double t_r = now();
            for (int c = 0; c < C && keep; c++)
                memcpy(buf + (size_t)c * plane, carry + (size_t)c * keep * ww,
                       (size_t)keep * ww * sizeof(float));
            float *first = buf + (size_t)keep * ww;
            read_window(im, wx0, ry0 + keep, ww, rows - keep, NULL, first, plane);
            r->t_read += now() - t_r;
            window_valid(im, buf, plane, n, valid);
            memset(which, 0, n);
            if (map) {
                for (int y = cy0; y < cy1; y++)
                    memcpy(which + (size_t)(y - ry0) * ww + (cx0 - wx0),
                           valid + (size_t)(y - ry0) * ww + (cx0 - wx0), (size_t)(cx1 - cx0));
            } else {
                for (size_t k = l0; k < l1; k++) {
                    const int x = (int)(r->lab.idx[k] % (uint64_t)W);
                    const int y = (int)(r->lab.idx[k] / (uint64_t)W);
                    if (r->lab.test[k] && x >= cx0 && x < cx1)
                        which[(size_t)(y - ry0) * ww + (x - wx0)] = 1;
                }
            }
            sub_prog sp = {&pr, done, (double)want, total > 0 ? total : 1};
            const double t_p = now();
            int st = hiner_classifier_predict(r->clf, (uint32_t)ww, (uint32_t)rows, buf, valid,
                                              which, out, window_progress, &sp);
            if (st != HINER_OK) die("classification failed: %s", hiner_status_str(st));
            r->t_pred += now() - t_p;
            done += (double)want;
            r->windows++;
            if (map)
                map_write(map, o, cx0, cy0, cx1 - cx0, cy1 - cy0,
                          out + (size_t)(cy0 - ry0) * ww + (cx0 - wx0), (size_t)ww);
            for (size_t k = l0; k < l1; k++) {
                const int x = (int)(r->lab.idx[k] % (uint64_t)W);
                const int y = (int)(r->lab.idx[k] / (uint64_t)W);
                if (x >= cx0 && x < cx1) r->pred[k] = out[(size_t)(y - ry0) * ww + (x - wx0)];
            }
            /* the last 2r rows go down to the next block */
            carried = rows < 2 * rad ? rows : 2 * rad;
            for (int c = 0; c < C && carried; c++)
                memcpy(carry + (size_t)c * carried * ww,
                       buf + (size_t)c * plane + (size_t)(rows - carried) * ww,
                       (size_t)carried * ww * sizeof(float));
        }
    }
    on_progress(1.0, "", &pr);
    if (map) map_close(map, o);
    free(buf), free(carry), free(valid), free(which), free(out);
}
