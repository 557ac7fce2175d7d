#!/usr/bin/python3
"""Forward parity of our SpectralFormer (core/task/sformer.c) with the same network in
PyTorch, written after SpectralFormer's code (vit_pytorch.py: ViT, Transformer in mode
'CAF', PreNorm/Residual, Attention with einsum, FeedForward Linear-GELU-Linear, the
skipcat Conv2d(N+1, N+1, [1, 2])), with our ASW in front and the group-wise tokens
[band c-1 | band c | band c+1] zero-padded at the ends (the reference wraps around).
Exit 77 (skipped) without PyTorch.

usage: test_torch_parity.py PATH/TO/sformer_dump
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # pragma: no cover
    print(f"SKIP: {e}")
    sys.exit(77)

# must match sformer_dump.c
C, K, P, G, D, DEPTH, NH, MLP, AH, AM = 9, 4, 3, 3, 16, 5, 4, 8, 6, 3
B, PP, N = 4, P * P, C + 1
TOL = 2e-5


class PreNorm(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.norm, self.fn = nn.LayerNorm(D), fn

    def forward(self, x):
        return self.fn(self.norm(x))


class Residual(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x) + x


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads, self.scale = NH, (D // NH) ** -0.5
        self.to_qkv = nn.Linear(D, 3 * D, bias=False)
        self.to_out = nn.Linear(D, D)

    def forward(self, x):
        b, n, _ = x.shape
        q, k, v = (t.reshape(b, n, self.heads, -1).permute(0, 2, 1, 3)
                   for t in self.to_qkv(x).chunk(3, dim=-1))
        attn = (torch.einsum("bhid,bhjd->bhij", q, k) * self.scale).softmax(dim=-1)
        out = torch.einsum("bhij,bhjd->bhid", attn, v).permute(0, 2, 1, 3).reshape(b, n, -1)
        return self.to_out(out)


def main():
    if len(sys.argv) != 2:
        print("SKIP: no sformer_dump given")
        return 77
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "dump.bin")
        subprocess.run([sys.argv[1], path], check=True)
        raw = open(path, "rb").read()
    n = int(np.frombuffer(raw[:8], np.uint64)[0])
    off = 8
    params = np.frombuffer(raw[off:off + 4 * n], np.float32).copy()
    off += 4 * n
    inp = np.frombuffer(raw[off:off + 4 * B * PP * C], np.float32).reshape(B, PP, C).copy()
    off += 4 * B * PP * C
    ours = np.frombuffer(raw[off:off + 4 * B * K], np.float32).reshape(B, K)
    pos = [0]

    def take(*shape):
        m = int(np.prod(shape))
        t = torch.tensor(params[pos[0]:pos[0] + m].reshape(shape))
        pos[0] += m
        return t

    torch.manual_seed(0)
    layers = nn.ModuleList([nn.ModuleList([Residual(PreNorm(Attention())),
                                           Residual(PreNorm(nn.Sequential(
                                               nn.Linear(D, MLP), nn.GELU(), nn.Linear(MLP, D))))])
                            for _ in range(DEPTH)])
    skipcat = nn.ModuleList([nn.Conv2d(N, N, [1, 2], 1, 0) for _ in range(DEPTH - 2)])
    lnf = nn.LayerNorm(D)
    with torch.no_grad():
        as1_w, as1_b, as2_w, as2_b = take(AH, 1), take(AH), take(C, AH), take(C)
        am1_w, am1_b, am2_w, am2_b = take(AM, C), take(AM), take(C, AM), take(C)
        gse_w, gse_b, cls, posemb = take(D, G * PP), take(D), take(D), take(N, D)
        for l, (at, ff) in enumerate(layers):
            at.fn.norm.weight[:], at.fn.norm.bias[:] = take(D), take(D)
            at.fn.fn.to_qkv.weight[:] = take(3 * D, D)
            at.fn.fn.to_out.weight[:], at.fn.fn.to_out.bias[:] = take(D, D), take(D)
            ff.fn.norm.weight[:], ff.fn.norm.bias[:] = take(D), take(D)
            ff.fn.fn[0].weight[:], ff.fn.fn[0].bias[:] = take(MLP, D), take(MLP)
            ff.fn.fn[2].weight[:], ff.fn.fn[2].bias[:] = take(D, MLP), take(D)
            if l >= 2:  # ours (2, N, N) = (tap, out, in); PyTorch (out, in, 1, tap)
                skipcat[l - 2].weight[:] = take(2, N, N).permute(1, 2, 0).unsqueeze(2)
                skipcat[l - 2].bias[:] = take(N)
        lnf.weight[:], lnf.bias[:] = take(D), take(D)
        head_w, head_b = take(K, D), take(K)
        if pos[0] != n:
            print(f"FAIL: {pos[0]} parameters mapped, the slab has {n}")
            return 1
        x = torch.tensor(inp)  # (B, P*P, C)
        s = 1 + F.linear(F.gelu(F.linear(torch.ones(1), as1_w, as1_b)), as2_w, as2_b)
        xs = x * s
        y = xs + F.linear(F.gelu(F.linear(xs, am1_w, am1_b)), am2_w, am2_b)
        pad = F.pad(y.permute(0, 2, 1), (0, 0, 1, 1))  # (B, C+2, P*P)
        tok = torch.cat([pad[:, 0:C], pad[:, 1:C + 1], pad[:, 2:C + 2]], dim=2)
        z = torch.cat([cls.expand(B, 1, D), F.linear(tok, gse_w, gse_b)], dim=1) + posemb
        last = []
        for nl, (at, ff) in enumerate(layers):
            last.append(z)
            if nl > 1:
                z = skipcat[nl - 2](torch.cat([z.unsqueeze(3), last[nl - 2].unsqueeze(3)],
                                              dim=3)).squeeze(3)
            z = ff(at(z))
        ref = F.linear(lnf(z[:, 0]), head_w, head_b).numpy()
    diff = float(np.abs(ref - ours).max())
    print(f"logits: max |ours - PyTorch| = {diff:.3g} (tolerance {TOL}), "
          f"range {float(np.abs(ref).max()):.3g}")
    if not diff <= TOL:
        print("FAIL\nours:\n", ours, "\nPyTorch:\n", ref)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
