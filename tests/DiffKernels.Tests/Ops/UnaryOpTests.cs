using DiffKernels.Backends;
using DiffKernels.Ops;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Ops;

public class UnaryOpTests
{
    private static double Erf(double x)
    {
        // Series/continued-fraction free reference: integrate exp(-t²) by composite Simpson in double.
        int n = 2000;
        double h = x / n, s = 1 + Math.Exp(-x * x);
        for (int i = 1; i < n; i++) s += (i % 2 == 1 ? 4 : 2) * Math.Exp(-(i * h) * (i * h));
        return 2 / Math.Sqrt(Math.PI) * s * h / 3;
    }

    private static IEnumerable<TestCaseData> Cases()
    {
        yield return Case("neg", x => F.Neg(x), x => -x);
        yield return Case("exp", x => F.Exp(x), Math.Exp);
        yield return Case("log", x => F.Log(x), Math.Log, positive: true);
        yield return Case("sqrt", x => F.Sqrt(x), Math.Sqrt, positive: true);
        yield return Case("rsqrt", x => F.Rsqrt(x), x => 1 / Math.Sqrt(x), positive: true);
        yield return Case("abs", x => F.Abs(x), Math.Abs);
        yield return Case("square", x => F.Square(x), x => x * x);
        yield return Case("relu", x => F.Relu(x), x => Math.Max(x, 0));
        yield return Case("leaky_relu", x => F.LeakyRelu(x, 0.2f), x => x > 0 ? x : 0.2 * x);
        yield return Case("silu", x => F.Silu(x), x => x / (1 + Math.Exp(-x)));
        yield return Case("gelu", x => F.Gelu(x), x => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))));
        yield return Case("sigmoid", x => F.Sigmoid(x), x => 1 / (1 + Math.Exp(-x)));
        yield return Case("tanh", x => F.Tanh(x), Math.Tanh);
        yield return Case("softplus", x => F.Softplus(x), x => Math.Log(1 + Math.Exp(x)));
        yield return Case("add_scalar", x => F.AddScalar(x, 1.5f), x => x + 1.5);
        yield return Case("mul_scalar", x => F.MulScalar(x, -2.5f), x => -2.5 * x);
        yield return Case("pow_scalar", x => F.Pow(x, 1.7f), x => Math.Pow(x, 1.7), positive: true);
        yield return Case("clamp", x => F.Clamp(x, -0.4f, 0.3f), x => Math.Min(Math.Max(x, -0.4), 0.3));
    }

    private static TestCaseData Case(string name, Func<Tensor, Tensor> op, Func<double, double> r, bool positive = false) =>
        new TestCaseData(name, op, r, positive).SetName(name);

    [TestCaseSource(nameof(Cases))]
    public void MatchesReferenceAndGradients(string name, Func<Tensor, Tensor> op, Func<double, double> r, bool positive)
    {
        // Wide range to reach the tails of exp/softplus/tanh; odd sizes exercise SIMD remainders.
        foreach (var shape in new[] { new Shape(37), new Shape(3, 5, 7) })
            OpCheck.Run(name, [shape], x => op(x[0]), x => x[0].Select(r).ToArray(),
                new OpCheckOptions
                {
                    Sample = positive ? (_, g) => 0.2 + g.NextDouble() * 3 : (_, g) => g.NextDouble() * 6 - 3,
                    ForwardTol = 3e-6,
                });
    }

    [Test]
    public void SoftplusIsStableForLargeInputs()
    {
        using var _ = Tensor.Scope();
        var y = F.Softplus(Tensor.FromArray([-200f, 200f])).ToArray();
        Assert.That(y[0], Is.EqualTo(0f).Within(1e-30));
        Assert.That(y[1], Is.EqualTo(200f));
    }

    [Test]
    public void GeluAndItsDerivativeMatchTheDoubleReferenceAcrossTheRange()
    {
        // The CPU backend's vector GELU (erf in float) on a dense grid that reaches both tails, against erf in double.
        var xs = Enumerable.Range(0, 4001).Select(i => -10f + i * 0.005f).ToArray();
        using var _ = Tensor.Scope();
        var x = Tensor.FromArray(xs).RequireGrad();
        var y = F.Gelu(x);
        y.Sum().Backward();
        float[] got = y.ToArray(), grad = x.Grad!.ToArray();
        for (int i = 0; i < xs.Length; i++)
        {
            double v = xs[i], cdf = 0.5 * (1 + Erf(v / Math.Sqrt(2)));
            double expected = v * cdf, slope = cdf + v * Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI);
            Assert.That(got[i], Is.EqualTo(expected).Within(1e-6 + 1e-6 * Math.Abs(expected)), $"gelu({v})");
            Assert.That(grad[i], Is.EqualTo(slope).Within(1e-6 + 1e-6 * Math.Abs(slope)), $"gelu'({v})");
        }
    }

    [Test]
    public void ErfIsAccurate()
    {
        for (double x = -4; x <= 4; x += 0.125)
            Assert.That(UnaryMath.Erf((float)x), Is.EqualTo(Erf(x)).Within(3e-7), $"erf({x})");
    }
}
