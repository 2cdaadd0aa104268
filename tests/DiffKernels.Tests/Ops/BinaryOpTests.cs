using DiffKernels.Ops;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Ops;

public class BinaryOpTests
{
    private static readonly (int[] a, int[] b)[] ShapePairs =
    [
        ([3, 5], [3, 5]),
        ([2, 3, 4], [4]),
        ([2, 1, 4], [3, 1]),
        ([1], [2, 3]),
        ([2, 3, 1, 5], [1, 3, 7, 1]),
        ([], [3, 2]),
        ([4, 17], [17]),
        ([5, 3, 2], [5, 1, 2]),
    ];

    private static IEnumerable<TestCaseData> Cases()
    {
        var ops = new (string name, Func<Tensor, Tensor, Tensor> op, Func<double, double, double> r)[]
        {
            ("add", F.Add, (x, y) => x + y),
            ("sub", F.Sub, (x, y) => x - y),
            ("mul", F.Mul, (x, y) => x * y),
            ("div", F.Div, (x, y) => x / y),
            ("maximum", F.Maximum, Math.Max),
            ("minimum", F.Minimum, Math.Min),
            ("pow", F.Pow, Math.Pow),
        };
        foreach (var (name, op, r) in ops)
            foreach (var (a, b) in ShapePairs)
                yield return new TestCaseData(name, op, r, a, b).SetName($"{name} [{string.Join(",", a)}] [{string.Join(",", b)}]");
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesReferenceAndGradients(string name, Func<Tensor, Tensor, Tensor> op, Func<double, double, double> r, int[] a, int[] b)
    {
        // Division and pow need inputs away from zero; pow needs a positive base.
        bool positive = name is "div" or "pow";
        OpCheck.Run(name, [new Shape(a), new Shape(b)], x => op(x[0], x[1]),
            x => Ref.Broadcast(x[0], new Shape(a), x[1], new Shape(b), r),
            new OpCheckOptions { Sample = positive ? (_, g) => 0.5 + g.NextDouble() * 1.5 : null, ForwardTol = 2e-6 });
    }

    [Test]
    public void IncompatibleShapesNameOpAndShapes()
    {
        using var _ = Tensor.Scope();
        var ex = Assert.Throws<ArgumentException>(() => F.Add(Tensor.Zeros([2, 3]), Tensor.Zeros([4])));
        Assert.That(ex!.Message, Does.Contain("Add").And.Contain("[2, 3]").And.Contain("[4]"));
    }

    [Test]
    public void MaximumSplitsGradientOnTies()
    {
        using var _ = Tensor.Scope();
        var a = Tensor.FromArray([1f, 2f, 3f]).RequireGrad();
        var b = Tensor.FromArray([1f, 1f, 4f]).RequireGrad();
        F.Maximum(a, b).Sum().Backward();
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(new[] { 0.5f, 1f, 0f }));
        Assert.That(b.Grad!.ToArray(), Is.EqualTo(new[] { 0.5f, 0f, 1f }));
    }

    [Test]
    public void ComparisonsGiveMasks()
    {
        using var _ = Tensor.Scope();
        var a = Tensor.FromArray([1f, 2f, 3f]);
        var b = Tensor.FromArray([2f]);
        Assert.That(F.Greater(a, b).ToArray(), Is.EqualTo(new[] { 0f, 0f, 1f }));
        Assert.That(F.Equal(a, b).ToArray(), Is.EqualTo(new[] { 0f, 1f, 0f }));
    }
}
