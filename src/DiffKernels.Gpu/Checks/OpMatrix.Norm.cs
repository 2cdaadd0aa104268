using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Gpu.Checks;

public static partial class OpMatrix
{
    private static IEnumerable<OpCase> Norms()
    {
        const string f = "norm";
        foreach (bool silu in new[] { false, true })
        {
            string suffix = silu ? "+silu" : "";
            yield return Case(f, $"group_norm{suffix} affine", c =>
            {
                var x = c.Uniform([2, 3, 4, 8], -2, 3, grad: true);
                var g = c.Uniform([8], 0.5f, 1.5f, grad: true);
                var b = c.Param(8);
                return c.WithGrads(F.GroupNorm(x, 4, g, b, 1e-5f, silu), x, g, b);
            });
            yield return Case(f, $"group_norm{suffix} plain, one group", c =>
            {
                var x = c.Uniform([3, 5, 6], -1, 2, grad: true);
                return c.WithGrads(F.GroupNorm(x, 1, null, null, 1e-5f, silu), x);
            });
        }
        // FiLM: 2-channel groups take the one-pass kernels on every device; 6-channel groups do not divide
        // the emulator's 16-thread groups, so there they take the general kernels.
        foreach (bool silu in new[] { false, true })
        {
            string suffix = silu ? "+silu" : "";
            yield return Case(f, $"group_norm_film{suffix} affine", c =>
            {
                var x = c.Uniform([2, 3, 4, 8], -2, 3, grad: true);
                var g = c.Uniform([8], 0.5f, 1.5f, grad: true);
                var b = c.Param(8);
                var scale = c.Param(2, 1, 1, 8);
                var shift = c.Param(2, 1, 1, 8);
                return c.WithGrads(F.GroupNorm(x, 4, g, b, 1e-5f, silu, scale, shift), x, g, b, scale, shift);
            });
            yield return Case(f, $"group_norm_film{suffix} 6-channel groups", c =>
            {
                var x = c.Uniform([3, 5, 12], -1, 2, grad: true);
                var g = c.Uniform([12], 0.5f, 1.5f, grad: true);
                var b = c.Param(12);
                var scale = c.Param(3, 12);
                var shift = c.Param(3, 12);
                return c.WithGrads(F.GroupNorm(x, 2, g, b, 1e-5f, silu, scale, shift), x, g, b, scale, shift);
            });
        }
        // FiLM from one [N, 2C] projection (scale and shift as its halves, rows 2C apart): both kernel paths.
        yield return Case(f, "group_norm_film+silu one film tensor", c =>
        {
            var x = c.Uniform([2, 3, 4, 8], -2, 3, grad: true);
            var g = c.Uniform([8], 0.5f, 1.5f, grad: true);
            var b = c.Param(8);
            var film = c.Param(2, 1, 1, 16);
            return c.WithGrads(F.GroupNorm(x, 4, g, b, film, 1e-5f, silu: true), x, g, b, film);
        });
        yield return Case(f, "group_norm_film one film tensor, 6-channel groups", c =>
        {
            var x = c.Uniform([3, 5, 12], -1, 2, grad: true);
            var g = c.Uniform([12], 0.5f, 1.5f, grad: true);
            var b = c.Param(12);
            var film = c.Param(3, 24);
            return c.WithGrads(F.GroupNorm(x, 2, g, b, film, 1e-5f), x, g, b, film);
        });
        yield return Case(f, "group_norm_film+silu plain, scale and shift grads only", c =>
        {
            var x = c.Uniform([2, 6, 16], -1, 1);
            var scale = c.Param(2, 16);
            var shift = c.Param(2, 16);
            return c.WithGrads(F.GroupNorm(x, 2, null, null, 1e-5f, true, scale, shift), scale, shift);
        });
        yield return Case(f, "group_norm many rows (chunked affine grads)", c =>
        {
            var x = c.Uniform([2, 7, 6, 4], -2, 2, grad: true);
            var g = c.Uniform([4], 0.5f, 1.5f, grad: true);
            var b = c.Param(4);
            return c.WithGrads(F.GroupNorm(x, 2, g, b, 1e-5f, true), x, g, b);
        });
        yield return Case(f, "layer_norm affine", c =>
        {
            var x = c.Uniform([5, 12], -2, 3, grad: true);
            var g = c.Uniform([12], 0.5f, 1.5f, grad: true);
            var b = c.Param(12);
            return c.WithGrads(F.LayerNorm(x, g, b), x, g, b);
        });
        yield return Case(f, "layer_norm plain", c =>
        {
            var x = c.Uniform([2, 3, 70], -1, 1, grad: true);
            return c.WithGrads(F.LayerNorm(x), x);
        });
    }

    private static IEnumerable<OpCase> Pooling()
    {
        const string f = "pool";
        yield return Case(f, "upsample2x", c =>
        {
            var x = c.Param(2, 3, 4, 5);
            return c.WithGrads(F.Upsample2x(x), x);
        });
        yield return Case(f, "avgpool2x", c =>
        {
            var x = c.Param(2, 6, 4, 3);
            return c.WithGrads(F.AvgPool2x(x), x);
        });
        yield return Case("embedding", "timestep embedding", c =>
        {
            var t = c.Uniform([7], 0, 3, grad: true);
            return c.WithGrads(F.TimestepEmbedding(t, 16), t);
        });
        yield return Case("embedding", "timestep embedding, large t", c =>
        {
            var t = c.Uniform([5], 0, 1000, grad: true);
            return c.WithGrads(F.TimestepEmbedding(t, 12, 100f), t);
        });
    }
}
