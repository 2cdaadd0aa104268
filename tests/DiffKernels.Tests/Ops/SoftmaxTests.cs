using DiffKernels.Ops;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Ops;

public class SoftmaxTests
{
    /// <summary>Softmax or log-softmax along one axis in double, with the column maximum subtracted.</summary>
    private static double[] Reference(double[] x, Shape s, int axis, bool log)
    {
        int a = axis < 0 ? axis + s.Rank : axis;
        long outer = s.Prod(0, a), n = s[a], inner = s.Prod(a + 1, s.Rank);
        var y = new double[x.Length];
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
            {
                long At(long r) => (o * n + r) * inner + i;
                double max = double.NegativeInfinity, sum = 0;
                for (long r = 0; r < n; r++) max = Math.Max(max, x[At(r)]);
                for (long r = 0; r < n; r++) sum += Math.Exp(x[At(r)] - max);
                for (long r = 0; r < n; r++)
                    y[At(r)] = log ? x[At(r)] - max - Math.Log(sum) : Math.Exp(x[At(r)] - max) / sum;
            }
        return y;
    }

    private static IEnumerable<TestCaseData> Cases()
    {
        (int[] shape, int axis)[] cases =
        [
            ([7], 0), ([1], -1), ([3, 5], -1), ([3, 5], 0), ([3, 5], 1), ([2, 3, 4], 0), ([2, 3, 4], 1), ([2, 3, 4], -1),
            ([4, 1], 0), ([4, 1], 1), ([2, 3, 2, 3, 2], 2), ([2, 3, 2, 3, 2], -1), ([2, 520], 0), ([3, 37], -1),
        ];
        foreach (var (shape, axis) in cases)
            foreach (var log in new[] { false, true })
                foreach (var scale in new[] { 3.0, 80.0 })
                    yield return new TestCaseData(shape, axis, log, scale)
                        .SetName($"{(log ? "log_softmax" : "softmax")} [{string.Join(",", shape)}] axis {axis} ±{scale}");
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesReferenceAndGradients(int[] shape, int axis, bool log, double scale)
    {
        var s = new Shape(shape);
        OpCheck.Run("softmax", [s], x => log ? F.LogSoftmax(x[0], axis) : F.Softmax(x[0], axis), x => Reference(x[0], s, axis, log),
            new OpCheckOptions
            {
                Sample = (_, g) => (g.NextDouble() * 2 - 1) * scale,
                OutputShape = s,
                ForwardTol = 2e-6,
            });
    }

    [Test]
    public void LargeLogitsStayFinite()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.FromArray([1000f, 0f, -1000f, 80f, 80f, -80f], 2, 3).RequireGrad();
        var p = F.Softmax(x).ToArray();
        Assert.That(p, Is.EqualTo(new[] { 1f, 0f, 0f, 0.5f, 0.5f, 0f }).Within(1e-6));
        var lp = F.LogSoftmax(x);
        Assert.That(lp.ToArray(), Is.EqualTo(new[] { 0f, -1000f, -2000f, -MathF.Log(2), -MathF.Log(2), -160f - MathF.Log(2) }).Within(1e-4));
        F.Sum(F.Mul(lp, Tensor.FromArray([1f, 0f, 0f, 0f, 1f, 0f], 2, 3))).Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 0f, 0f, 0f, -0.5f, 0.5f, 0f }).Within(1e-6));
    }

    [Test]
    public void RowsSumToOne()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.FromArray(Enumerable.Range(0, 60).Select(i => MathF.Sin(i) * 5).ToArray(), 3, 4, 5);
        foreach (var axis in new[] { 0, 1, 2 })
        {
            var sums = F.Sum(F.Softmax(x, axis), [axis]).ToArray();
            Assert.That(sums, Is.All.EqualTo(1f).Within(1e-6), $"axis {axis}");
        }
    }

    [Test]
    public void BadAxisNamesOpAndShape()
    {
        using var _ = Tensor.Scope();
        var ex = Assert.Throws<ArgumentException>(() => F.Softmax(Tensor.Zeros([2, 3]), 2));
        Assert.That(ex!.Message, Does.Contain("Softmax").And.Contain("axis 2").And.Contain("[2, 3]"));
        ex = Assert.Throws<ArgumentException>(() => F.LogSoftmax(Tensor.Scalar(1f)));
        Assert.That(ex!.Message, Does.Contain("LogSoftmax").And.Contain("axis -1"));
    }
}
