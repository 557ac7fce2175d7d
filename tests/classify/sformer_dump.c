/*
 * sformer_dump.c - writes a small SpectralFormer (CAF and ASW, random weights) with an
 * input batch and the logits of our forward pass, for test_torch_parity.py to run the
 * same network written in PyTorch after SpectralFormer's code (vit_pytorch.py, mode CAF).
 *   sformer_dump OUT.bin
 * Layout: uint64 parameter count n, n floats (the slab in hn_sf_bind order), the input
 * (B,P*P,C) floats, the logits (B,K) floats. Dimensions are fixed here and in the script.
 */
#include <stdio.h>
#include <string.h>

#include "../../core/task/task.h"

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    hn_sf_cfg c = {0};
    c.C = 9, c.K = 4, c.P = 3, c.G = 3, c.D = 16, c.depth = 5, c.NH = 4, c.MLP = 8;
    c.S = 1, c.T = 9;
    c.caf = 1, c.asw = 1, c.AH = 6, c.AM = 3;
    const size_t B = 4, PP = c.P * c.P;
    size_t n = hn_sf_count(&c, NULL);
    float *p = hn_calloc(n, sizeof(float));
    hn_sf_params w;
    hn_sf_acts a;
    if (!p || hn_sf_acts_init(&a, &c, B, 0) != HINER_OK) return 1;
    hn_sf_bind(&w, p, &c);
    hn_rng r;
    hn_rng_seed(&r, 3);
    hn_sf_init(&w, &c, &r);
    /* ASW's zero-initialised layers get values, so that the comparison covers them */
    for (size_t i = 0; i < c.C * c.AH; i++) w.as2_w[i] = 0.2f * (2 * hn_rng_uniform(&r) - 1);
    for (size_t i = 0; i < c.C * c.AM; i++) w.am2_w[i] = 0.2f * (2 * hn_rng_uniform(&r) - 1);
    for (size_t i = 0; i < B * PP * c.C; i++) a.inp[i] = hn_rng_uniform(&r);
    memset(a.mask, 1, B * PP);
    hn_sf_forward(&c, &w, &a, B, NULL);
    FILE *f = fopen(argv[1], "wb");
    if (!f) return 1;
    uint64_t n64 = n;
    int ok = fwrite(&n64, 8, 1, f) == 1 && fwrite(p, 4, n, f) == n &&
             fwrite(a.inp, 4, B * PP * c.C, f) == B * PP * c.C &&
             fwrite(a.logits, 4, B * c.K, f) == B * c.K;
    ok = (fclose(f) == 0) && ok;
    hn_sf_acts_free(&a);
    hn_free(p);
    return ok ? 0 : 1;
}
