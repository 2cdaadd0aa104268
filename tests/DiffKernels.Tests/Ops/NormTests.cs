using DiffKernels.Ops;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Ops;

public class NormTests
{
    /// <summary>
    /// Group norm of channels-last x [N, ..., C] in double: mean and biased variance per (sample, group)
    /// over every position and the group's channels. Layer norm is the case [rows, D] with one group.
    /// </summary>
    internal static double[] GroupNormRef(double[] x, Shape shape, int groups, double[]? gamma, double[]? beta, bool silu, double eps = 1e-5)
    {
        int n = shape[0], c = shape[-1], cg = c / groups;
        long spatial = shape.Numel / n / c;
        var y = new double[x.Length];
        for (int s = 0; s < n; s++)
            for (int g = 0; g < groups; g++)
            {
                var idx = new List<long>();
                for (long p = 0; p < spatial; p++)
                    for (int j = 0; j < cg; j++) idx.Add((s * spatial + p) * c + g * cg + j);
                double mean = idx.Average(i => x[i]);
                double variance = idx.Average(i => (x[i] - mean) * (x[i] - mean));
                foreach (var i in idx)
                {
                    int ch = (int)(i % c);
                    double z = (x[i] - mean) / Math.Sqrt(variance + eps) * (gamma?[ch] ?? 1) + (beta?[ch] ?? 0);
                    y[i] = silu ? z / (1 + Math.Exp(-z)) : z;
                }
            }
        return y;
    }

    private static IEnumerable<TestCaseData> GroupNormCases()
    {
        foreach (var g in new[] { 1, 2, 3, 6 })
            foreach (var silu in new[] { false, true })
                yield return new TestCaseData(new[] { 2, 3, 4, 6 }, g, silu).SetName($"NHWC [2,3,4,6] G={g} silu={silu}");
        foreach (var silu in new[] { false, true })
            yield return new TestCaseData(new[] { 2, 5 }, 5, silu).SetName($"[2,5] G=5 silu={silu}");
        yield return new TestCaseData(new[] { 3, 10 }, 2, false).SetName("[3,10] G=2");
        yield return new TestCaseData(new[] { 1, 7, 9 }, 3, true).SetName("[1,7,9] G=3 silu");
        yield return new TestCaseData(new[] { 2, 2, 2, 3, 4 }, 2, false).SetName("rank5 [2,2,2,3,4] G=2");
    }

    [TestCaseSource(nameof(GroupNormCases))]
    public void GroupNormMatchesReference(int[] dims, int groups, bool silu)
    {
        var s = new Shape(dims);
        int c = s[-1];
        OpCheck.Run("group_norm", [s, new Shape(c), new Shape(c)],
            x => F.GroupNorm(x[0], groups, x[1], x[2], silu: silu),
            x => GroupNormRef(x[0], s, groups, x[1], x[2], silu),
            new OpCheckOptions { OutputShape = s });
    }

    [Test]
    public void GroupNormWithoutAffine()
    {
        var s = new Shape(2, 3, 4, 6);
        foreach (var silu in new[] { false, true })
            OpCheck.Run("group_norm plain", [s], x => F.GroupNorm(x[0], 3, null, null, silu: silu),
                x => GroupNormRef(x[0], s, 3, null, null, silu));
    }

    [Test]
    public void GroupNormGradientsOfParametersOnly()
    {
        var s = new Shape(2, 4, 6);
        OpCheck.Run("group_norm params", [s, new Shape(6), new Shape(6)],
            x => F.GroupNorm(x[0], 2, x[1], x[2], silu: true),
            x => GroupNormRef(x[0], s, 2, x[1], x[2], silu: true),
            new OpCheckOptions { Differentiable = [false, true, true] });
    }

    [Test]
    public void GroupNormIsStableForLargeMean()
    {
        // A large common offset and a small spread: naive E[x²] − E[x]² in float would lose the variance.
        var s = new Shape(2, 8, 8, 4);
        OpCheck.Run("group_norm offset", [s, new Shape(4), new Shape(4)],
            x => F.GroupNorm(x[0], 2, x[1], x[2]),
            x => GroupNormRef(x[0], s, 2, x[1], x[2], silu: false),
            new OpCheckOptions
            {
                Sample = (i, r) => i == 0 ? 3000 + (r.NextDouble() * 2 - 1) * 0.05 : r.NextDouble() * 2 - 1,
                Differentiable = [false, false, false],
                ForwardTol = 1e-5,
            });
    }

    [Test]
    public void LayerNormIsStableForLargeMean()
    {
        var s = new Shape(6, 300);
        OpCheck.Run("layer_norm offset", [s, new Shape(300), new Shape(300)],
            x => F.LayerNorm(x[0], x[1], x[2]),
            x => GroupNormRef(x[0], s, 1, x[1], x[2], silu: false),
            new OpCheckOptions
            {
                Sample = (i, r) => i == 0 ? -3000 + (r.NextDouble() * 2 - 1) * 0.05 : r.NextDouble() * 2 - 1,
                Differentiable = [false, false, false],
                ForwardTol = 1e-5,
            });
    }

    private static IEnumerable<TestCaseData> LayerNormCases()
    {
        foreach (var dims in new[] { new[] { 3, 7 }, new[] { 2, 3, 5 }, new[] { 1, 33 }, new[] { 4, 1 }, new[] { 9 } })
            foreach (var (affine, name) in new[] { (2, "gamma+beta"), (1, "gamma only"), (0, "plain") })
                yield return new TestCaseData(dims, affine).SetName($"[{string.Join(",", dims)}] {name}");
    }

    [TestCaseSource(nameof(LayerNormCases))]
    public void LayerNormMatchesReference(int[] dims, int affine)
    {
        var s = new Shape(dims);
        int d = s[-1];
        var flat = new Shape((int)(s.Numel / d), d);
        Shape[] shapes = affine switch { 2 => [s, new Shape(d), new Shape(d)], 1 => [s, new Shape(d)], _ => [s] };
        OpCheck.Run("layer_norm", shapes,
            x => F.LayerNorm(x[0], affine >= 1 ? x[1] : null, affine == 2 ? x[2] : null),
            x => GroupNormRef(x[0], flat, 1, affine >= 1 ? x[1] : null, affine == 2 ? x[2] : null, silu: false),
            new OpCheckOptions { OutputShape = s });
    }

    [Test]
    public void LayerNormManyRowsSpreadsParameterGradients()
    {
        // More rows than the partial-sum blocks of the backward, with an uneven split.
        var s = new Shape(131, 5);
        OpCheck.Run("layer_norm rows", [s, new Shape(5), new Shape(5)],
            x => F.LayerNorm(x[0], x[1], x[2]),
            x => GroupNormRef(x[0], s, 1, x[1], x[2], silu: false),
            new OpCheckOptions { Differentiable = [false, true, true] });
    }

    [Test]
    public void LargeInputsSplitAcrossWorkers()
    {
        var s = new Shape(2, 16, 16, 32);
        OpCheck.Run("group_norm large", [s, new Shape(32), new Shape(32)],
            x => F.GroupNorm(x[0], 8, x[1], x[2], silu: true),
            x => GroupNormRef(x[0], s, 8, x[1], x[2], silu: true),
            new OpCheckOptions { Differentiable = [false, false, false] });
        WorkerSweep.AssertIndependentOfWorkers([s, new Shape(32), new Shape(32)], x => F.GroupNorm(x[0], 8, x[1], x[2], silu: true));
        var rows = new Shape(300, 96);
        OpCheck.Run("layer_norm large", [rows, new Shape(96), new Shape(96)],
            x => F.LayerNorm(x[0], x[1], x[2]),
            x => GroupNormRef(x[0], rows, 1, x[1], x[2], silu: false),
            new OpCheckOptions { Differentiable = [false, false, false] });
        WorkerSweep.AssertIndependentOfWorkers([rows, new Shape(96), new Shape(96)], x => F.LayerNorm(x[0], x[1], x[2]));
    }

    [Test]
    public void EmptyInputsGiveEmptyResults()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.Zeros([2, 0, 4]).RequireGrad();
        var gamma = Tensor.Ones([4]).RequireGrad();
        var y = F.GroupNorm(x, 2, gamma, null, silu: true);
        Assert.That(y.Shape, Is.EqualTo(x.Shape));
        F.Sum(y).Backward();
        Assert.That(gamma.Grad!.ToArray(), Is.EqualTo(new float[4]));
        Assert.That(F.LayerNorm(Tensor.Zeros([0, 3]), Tensor.Ones([3])).Shape, Is.EqualTo(new Shape(0, 3)));
    }

    [Test]
    public void ShapeErrorsNameTheOpAndShapes()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.Zeros([2, 3, 4, 6]);
        var ex = Assert.Throws<ArgumentException>(() => F.GroupNorm(x, 4, null, null));
        Assert.That(ex!.Message, Does.Contain("GroupNorm").And.Contain("[2, 3, 4, 6]").And.Contain("4 groups"));
        ex = Assert.Throws<ArgumentException>(() => F.GroupNorm(x, 2, Tensor.Ones([5]), null));
        Assert.That(ex!.Message, Does.Contain("GroupNorm").And.Contain("gamma [5]").And.Contain("[6]"));
        Assert.Throws<ArgumentException>(() => F.GroupNorm(Tensor.Zeros([6]), 2, null, null));
        ex = Assert.Throws<ArgumentException>(() => F.LayerNorm(x, null, Tensor.Zeros([4])));
        Assert.That(ex!.Message, Does.Contain("LayerNorm").And.Contain("beta [4]").And.Contain("[2, 3, 4, 6]"));
    }
}
