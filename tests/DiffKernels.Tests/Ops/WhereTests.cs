using DiffKernels.Ops;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Ops;

public class WhereTests
{
    private static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData(new[] { 3, 4 }, new[] { 3, 4 }, new[] { 3, 4 });
        yield return new TestCaseData(new[] { 3, 1 }, new[] { 4 }, new[] { 3, 4 });
        yield return new TestCaseData(new[] { 2, 1, 4 }, new[] { 3, 1 }, Array.Empty<int>());
        yield return new TestCaseData(new[] { 5 }, new[] { 2, 5 }, new[] { 1 });
        yield return new TestCaseData(new[] { 7 }, new[] { 7 }, new[] { 7 });
        yield return new TestCaseData(Array.Empty<int>(), new[] { 2, 3 }, new[] { 3 });
        yield return new TestCaseData(new[] { 2, 1, 3, 1, 2 }, new[] { 1, 2, 1, 3, 1 }, new[] { 2 });
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesReferenceAndGradients(int[] c, int[] a, int[] b)
    {
        Shape sc = c, sa = a, sb = b;
        var so = Shape.Broadcast(Shape.Broadcast(sc, sa, "ref"), sb, "ref");
        // cond mixes exact zeros with nonzero values of both signs.
        double Sample(int input, System.Random g) => input == 0 ? (g.Next(3) - 1) * 0.5 : g.NextDouble() * 2 - 1;
        for (int seed = 1; seed <= 3; seed++)
            OpCheck.Run($"where seed {seed}", [sc, sa, sb], x => F.Where(x[0], x[1], x[2]), x =>
            {
                var y = new double[so.Numel];
                for (long i = 0; i < y.Length; i++)
                {
                    var idx = Ref.Unravel(i, so);
                    y[i] = x[0][Ref.Ravel(idx, sc)] != 0 ? x[1][Ref.Ravel(idx, sa)] : x[2][Ref.Ravel(idx, sb)];
                }
                return y;
            }, new OpCheckOptions { Sample = Sample, Differentiable = [false, true, true], OutputShape = so, ForwardTol = 0, Seed = seed });
    }

    [Test]
    public void UnselectedInfinitiesDoNotPoisonGradients()
    {
        using var _ = Tensor.Scope();
        var cond = Tensor.FromArray([1f, 0f, 1f]);
        var a = Tensor.FromArray([1f, float.PositiveInfinity, 2f]).RequireGrad();
        var b = Tensor.FromArray([float.NaN, 5f, float.NegativeInfinity]).RequireGrad();
        var y = F.Where(cond, a, b);
        Assert.That(y.ToArray(), Is.EqualTo(new[] { 1f, 5f, 2f }));
        F.Sum(y).Backward();
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(new[] { 1f, 0f, 1f }));
        Assert.That(b.Grad!.ToArray(), Is.EqualTo(new[] { 0f, 1f, 0f }));
    }

    [Test]
    public void IncompatibleShapesNameAllThree()
    {
        using var _ = Tensor.Scope();
        var ex = Assert.Throws<ArgumentException>(() => F.Where(Tensor.Zeros([2, 3]), Tensor.Zeros([3]), Tensor.Zeros([4])));
        Assert.That(ex!.Message, Does.Contain("Where").And.Contain("[2, 3]").And.Contain("[3]").And.Contain("[4]"));
    }
}
