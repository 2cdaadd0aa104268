using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Gpu.Checks;

public static partial class OpMatrix
{
    /// <summary>
    /// Box–Muller in double on the CPU, in float on the device (DeviceMath's log and sin/cos, within
    /// 1.5 ulp each): a few float ulp per element, a normalised error near 10⁻¹³ — below this tolerance,
    /// which still catches a wrong word, branch or mean/std.
    /// </summary>
    private const double NormalTolerance = 1e-12;

    private static IEnumerable<OpCase> RandomCases()
    {
        const string f = "random";
        yield return Case(f, "philox uniform", c => [new Generator(42, 7).Uniform([3, 37], c.Device)], 0);
        yield return Case(f, "philox uniform, 64-bit counter wrap", c => [new Generator(0xDEADBEEFCAFEUL, ulong.MaxValue - 2).Uniform([50], c.Device)], 0);
        yield return Case(f, "philox normal", c => [new Generator(42, 3).Normal([3, 37], c.Device, 0.5f, 2f)], NormalTolerance);
        yield return Case(f, "uniform range", c => [new Generator(9).Uniform([41], c.Device, -3f, 5f)], 0);
        yield return Case(f, "dropout", c =>
        {
            var x = c.Param(6, 13);
            return c.WithGrads(F.Dropout(x, 0.3f, new Generator(5)), x);
        }, 0);
        yield return Case(f, "kaiming init", c =>
        {
            var w = Tensor.Empty([6, 3, 3, 4], c.Device);
            Init.KaimingUniform(w, Nonlinearity.LeakyRelu, MathF.Sqrt(5f), gen: new Generator(11));
            return [w];
        });
    }

    private static IEnumerable<OpCase> Optimisers()
    {
        const string f = "optim";
        foreach (bool decoupled in new[] { false, true })
            yield return Case(f, decoupled ? "adamw step" : "adam step", c =>
            {
                var p = c.Uniform([7, 11]);
                var g = c.Uniform([7, 11]);
                var m = c.Uniform([7, 11], -0.1f, 0.1f);
                var v = c.Uniform([7, 11], 0, 0.01f);
                p.Backend.AdamStep(p.Storage, g.Storage, m.Storage, v.Storage, p.Numel, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, decoupled, 3);
                return [p, m, v];
            });
        foreach (bool ema in new[] { false, true })
            yield return Case(f, ema ? "adamw+ema step, clipped" : "adam step, clipped", c =>
            {
                // Slots at 0 and 64 of a 160-element buffer, as a parameter arena lays out a [7, 9] and a [5, 13] parameter.
                var p = c.Uniform([160]);
                var g = c.Uniform([160]);
                var m = c.Uniform([160], -0.1f, 0.1f);
                var v = c.Uniform([160], 0, 0.01f);
                var shadow = c.Uniform([160]);
                p.Backend.AdamEmaStep(p.Storage, g.Storage, m.Storage, v.Storage, ema ? shadow.Storage : null, p.Numel,
                    1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, decoupled: ema, 3, gradScale: 0.37f, emaWeight: 0.05f);
                return [p, m, v, shadow];
            });
        yield return Case(f, "sum of squares, segments", c =>
        {
            // Three segments with zero gaps between them, as the gradient buffer of an arena; 20,000 elements cross the GPU's chunks.
            long[] offsets = [0, 64, 256], lengths = [63, 150, 20_000];
            var host = new float[offsets[^1] + lengths[^1]];
            var values = c.Uniform([(int)host.Length]).ToArray();
            for (int k = 0; k < offsets.Length; k++) Array.Copy(values, offsets[k], host, offsets[k], lengths[k]);
            var x = c.Values(host);
            var sum = Tensor.Empty([], c.Device);
            x.Backend.SumOfSquares(x.Storage, offsets, lengths, sum.Storage);
            return [sum];
        });
        yield return Case(f, "ema lerp", c =>
        {
            var dst = c.Uniform([50]);
            var src = c.Uniform([50]);
            dst.Backend.Lerp(dst.Storage, src.Storage, dst.Numel, 0.1f);
            return [dst];
        });
        yield return Case(f, "grad clip", c =>
        {
            var p = c.Param(4, 9);
            F.Sum(F.Square(p)).Backward();
            float norm = GradClip.ClipGlobalNorm([p], 0.5f);
            return [p.Grad!, Tensor.Scalar(norm, c.Device)];
        });
    }

    private static IEnumerable<OpCase> Losses()
    {
        const string f = "loss";
        yield return Case(f, "mse", c =>
        {
            var a = c.Param(4, 9);
            var b = c.Param(4, 9);
            return c.WithGrads(F.MseLoss(a, b), a, b);
        });
        yield return Case(f, "cross entropy", c =>
        {
            var logits = c.Uniform([6, 5], -3, 3, grad: true);
            return c.WithGrads(F.CrossEntropy(logits, [0, 4, 2, 2, 1, 3]), logits);
        });
        yield return Case(f, "gan losses", c =>
        {
            var real = c.Param(8);
            var fake = c.Param(8);
            return c.WithGrads(F.Add(F.GanDiscriminatorLoss(real, fake), F.GanGeneratorLoss(fake)), real, fake);
        });
    }
}
