using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Gpu.Checks;

public static partial class OpMatrix
{
    private static IEnumerable<OpCase> Products()
    {
        const string f = "gemm";
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
            yield return Case(f, $"matmul {(ta ? "T" : "N")}{(tb ? "T" : "N")} 37x19x21", c =>
            {
                var a = ta ? c.Param(19, 37) : c.Param(37, 19);
                var b = tb ? c.Param(21, 19) : c.Param(19, 21);
                return c.WithGrads(F.Matmul(a, b, ta, tb), a, b);
            });
        yield return Case(f, "matmul batched 3x17x9x13", c =>
        {
            var a = c.Param(3, 17, 9);
            var b = c.Param(3, 9, 13);
            return c.WithGrads(F.Matmul(a, b), a, b);
        });
        yield return Case(f, "matmul shared B", c =>
        {
            var a = c.Param(2, 3, 5, 8);
            var b = c.Param(8, 6);
            return c.WithGrads(F.Matmul(a, b), a, b);
        });
        yield return Case(f, "matmul split-K 10x200x12", c =>
        {
            var a = c.Param(10, 200);
            var b = c.Param(200, 12);
            return c.WithGrads(F.Matmul(a, b), a, b);
        });
        yield return Case(f, "matmul exact tiles 32x16x48", c =>
        {
            var a = c.Param(32, 16);
            var b = c.Param(16, 48);
            return c.WithGrads(F.Matmul(a, b), a, b);
        });
        yield return Case(f, "matmul GPU-sized 130x70x150", c =>
        {
            // Crosses full interior tiles and edges of both GEMM tile shapes.
            var a = c.Param(130, 70);
            var b = c.Param(70, 150);
            return c.WithGrads(F.Matmul(a, b), a, b);
        });
        yield return Case(f, "matmul GPU-sized aligned 132x68x136", c =>
        {
            // Leading dimensions that are multiples of 4 take the 128-bit loads, at the 128 × 128 tiles and their edges.
            var a = c.Param(132, 68);
            var b = c.Param(68, 136);
            return c.WithGrads(F.Matmul(a, b), a, b);
        });
        yield return Case(f, "linear with bias", c =>
        {
            var x = c.Param(2, 7, 24);
            var w = c.Param(20, 24);
            var b = c.Param(20);
            return c.WithGrads(F.Linear(x, w, b), x, w, b);
        });
        yield return Case(f, "linear without bias", c =>
        {
            var x = c.Param(5, 3);
            var w = c.Param(4, 3);
            return c.WithGrads(F.Linear(x, w), x, w);
        });
        yield return Case(f, "gemm alpha beta", c =>
        {
            // The raw contract: C = α·Aᵀ·B + β·C with offsets and leading dimensions wider than the matrices.
            var a = c.Uniform([40]);
            var b = c.Uniform([60]);
            var y = c.Uniform([50]);
            y.Backend.Gemm(true, false, 4, 5, 6, 0.5f, a.Storage, 3, 6, b.Storage, 2, 9, -2f, y.Storage, 7, 8, 1, 0, 0, 0);
            return [y];
        });
        yield return Case(f, "gemm alpha beta split-K 70x20x150", c =>
        {
            // Few tiles and a long k: the k-split partials summed through the α/β epilogue, off the tile edges.
            var a = c.Uniform([70 * 150 + 1]);
            var b = c.Uniform([150 * 20]);
            var y = c.Uniform([70 * 20]);
            y.Backend.Gemm(false, false, 70, 20, 150, 0.5f, a.Storage, 1, 150, b.Storage, 0, 20, -2f, y.Storage, 0, 20, 1, 0, 0, 0);
            return [y];
        });
    }

    private static IEnumerable<OpCase> Convolutions()
    {
        const string f = "conv";
        (string Name, int[] X, int[] W, int Sh, int Sw, int Ph, int Pw, bool Bias)[] cases =
        [
            ("conv2d 3x3 s1 p1", [2, 7, 6, 5], [6, 3, 3, 5], 1, 1, 1, 1, true),
            ("conv2d 3x3 s2 p1", [2, 9, 8, 3], [4, 3, 3, 3], 2, 2, 1, 1, true),
            ("conv2d 1x1 pointwise", [2, 5, 5, 6], [7, 1, 1, 6], 1, 1, 0, 0, true),
            ("conv2d 1x1 stride 2", [1, 6, 5, 4], [3, 1, 1, 4], 2, 2, 0, 0, false),
            ("conv2d 5x3 asymmetric", [1, 8, 7, 3], [5, 5, 3, 3], 2, 1, 2, 0, true),
            ("conv2d 3x3 no pad, many channels", [1, 6, 6, 20], [18, 3, 3, 20], 1, 1, 0, 0, false),
            ("conv2d 3x3 no bias, weight gradient split over pixels", [2, 8, 8, 4], [8, 3, 3, 4], 1, 1, 1, 1, false),
            ("conv2d GPU-sized 3x3 16->32", [1, 12, 12, 16], [32, 3, 3, 16], 1, 1, 1, 1, true),
            ("conv2d GPU-sized 1x3 8->40, 128x64 tiles", [1, 12, 11, 8], [40, 1, 3, 8], 1, 1, 0, 1, true),
            ("conv2d GPU-sized 3x1 4->68, 128x128 tiles", [1, 12, 11, 4], [68, 3, 1, 4], 1, 1, 1, 0, true),
        ];
        foreach (var (name, xs, ws, sh, sw, ph, pw, bias) in cases)
            yield return Case(f, name, c =>
            {
                var x = c.Param(xs);
                var w = c.Param(ws);
                var b = bias ? c.Param(ws[0]) : null;
                var y = F.Conv2d(x, w, b, sh, sw, ph, pw);
                return b != null ? c.WithGrads(y, x, w, b) : c.WithGrads(y, x, w);
            });
    }

    private static IEnumerable<OpCase> AttentionCases()
    {
        const string f = "attention";
        yield return Case(f, "attention 2 heads, nq ≠ nk", c =>
        {
            var q = c.Param(2, 13, 8);
            var k = c.Param(2, 11, 8);
            var v = c.Param(2, 11, 8);
            return c.WithGrads(F.Attention(q, k, v, 2), q, k, v);
        });
        yield return Case(f, "attention 1 head, several tiles", c =>
        {
            var q = c.Uniform([1, 20, 16], -2, 2, grad: true);
            var k = c.Uniform([1, 19, 16], -2, 2, grad: true);
            var v = c.Param(1, 19, 16);
            return c.WithGrads(F.Attention(q, k, v, 1), q, k, v);
        });
        yield return Case(f, "attention GPU-sized d=64, 70 tokens", c =>
        {
            var q = c.Param(1, 70, 128);
            var k = c.Param(1, 70, 128);
            var v = c.Param(1, 70, 128);
            return c.WithGrads(F.Attention(q, k, v, 2), q, k, v);
        });
        // The models' shapes: DiT-S/4 on 28×28 (49 tokens, 3 heads of 64), UNet-XS and UNet-S at 8×8
        // (64 tokens, one head of 32 or 64); the tiled kernels cover them in one group per (batch, head).
        yield return Case(f, "attention DiT 49 tokens, 3 heads d=64", c =>
        {
            var q = c.Param(2, 49, 192);
            var k = c.Param(2, 49, 192);
            var v = c.Param(2, 49, 192);
            return c.WithGrads(F.Attention(q, k, v, 3), q, k, v);
        });
        yield return Case(f, "attention UNet-XS 64 tokens, d=32", c =>
        {
            var q = c.Uniform([2, 64, 32], -2, 2, grad: true);
            var k = c.Uniform([2, 64, 32], -2, 2, grad: true);
            var v = c.Param(2, 64, 32);
            return c.WithGrads(F.Attention(q, k, v, 1), q, k, v);
        });
        yield return Case(f, "attention UNet-S 64 tokens, d=64", c =>
        {
            var q = c.Param(1, 64, 64);
            var k = c.Param(1, 64, 64);
            var v = c.Param(1, 64, 64);
            return c.WithGrads(F.Attention(q, k, v, 1), q, k, v);
        });
        yield return Case(f, "attention 49 tokens, d=32", c =>
        {
            var q = c.Param(2, 49, 64);
            var k = c.Param(2, 49, 64);
            var v = c.Param(2, 49, 64);
            return c.WithGrads(F.Attention(q, k, v, 2), q, k, v);
        });
        // Heads wider than 64 take the general kernels, whose emulator tiles are 8 × 8.
        yield return Case(f, "attention general path d=72, several tiles", c =>
        {
            var q = c.Param(1, 20, 72);
            var k = c.Param(1, 19, 72);
            var v = c.Param(1, 19, 72);
            return c.WithGrads(F.Attention(q, k, v, 1), q, k, v);
        });
        yield return Case(f, "attention one key", c =>
        {
            var q = c.Param(2, 3, 4);
            var k = c.Param(2, 1, 4);
            var v = c.Param(2, 1, 4);
            return c.WithGrads(F.Attention(q, k, v, 1), q, k, v);
        });
    }
}
