using DiffKernels.Ops;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Ops;

public class MaxTests
{
    private static IEnumerable<TestCaseData> Cases()
    {
        int[][] axesList = [[], [0], [1], [-1], [0, 2], [-3, -2]];
        foreach (var axes in axesList)
            foreach (var keep in new[] { false, true })
                yield return new TestCaseData(new[] { 3, 4, 5 }, axes, keep).SetName($"[3,4,5] axes [{string.Join(",", axes)}] keep={keep}");
        yield return new TestCaseData(new[] { 7 }, new[] { 0 }, false).SetName("rank1");
        yield return new TestCaseData(new[] { 2, 3, 2, 3, 2 }, new[] { 1, -1 }, true).SetName("rank5 axes [1,-1]");
        yield return new TestCaseData(new[] { 2, 3, 2, 3, 2 }, new[] { 0, 2, 3 }, false).SetName("rank5 axes [0,2,3]");
        yield return new TestCaseData(new[] { 4, 1 }, new[] { 1 }, false).SetName("size-1 axis");
    }

    [TestCaseSource(nameof(Cases))]
    public void MaxAndMin(int[] shape, int[] axes, bool keep)
    {
        var s = new Shape(shape);
        var norm = (axes.Length == 0 ? Enumerable.Range(0, s.Rank) : axes.Select(a => a < 0 ? a + s.Rank : a)).ToArray();
        var kept = s.ToArray();
        foreach (var a in norm) kept[a] = 1;
        var outShape = keep ? new Shape(kept) : new Shape(kept.Where((_, i) => !norm.Contains(i)).ToArray());
        var o = new OpCheckOptions { OutputShape = outShape, ForwardTol = 0 };
        OpCheck.Run("max", [s], x => F.Max(x[0], axes, keep), x => Ref.Reduce(x[0], s, norm, Math.Max, double.NegativeInfinity), o);
        OpCheck.Run("min", [s], x => F.Min(x[0], axes, keep), x => Ref.Reduce(x[0], s, norm, Math.Min, double.PositiveInfinity), o);
    }

    [Test]
    public void TiesShareTheGradientEvenly()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.FromArray([1f, 3f, 3f, 2f, 5f, 5f, 5f, 0f], 2, 4).RequireGrad();
        F.Sum(F.Max(x, [1])).Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 0f, 0.5f, 0.5f, 0f, 1f / 3, 1f / 3, 1f / 3, 0f }).Within(1e-7));

        var z = Tensor.FromArray([4f, 1f, 1f, 4f]).RequireGrad();
        F.Min(z).Backward(Tensor.Scalar(2f));
        Assert.That(z.Grad!.ToArray(), Is.EqualTo(new[] { 0f, 1f, 1f, 0f }));
    }

    [Test]
    public void WholeTensorReductionIsAScalar()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.FromArray([2f, -7f, 4f, 0.5f, 3f, -1f], 2, 3);
        Assert.That(F.Max(x).Shape, Is.EqualTo(new Shape()));
        Assert.That(F.Max(x).Item(), Is.EqualTo(4f));
        Assert.That(F.Min(x).Item(), Is.EqualTo(-7f));
        Assert.That(F.Max(x, [0]).ToArray(), Is.EqualTo(new[] { 2f, 3f, 4f }));
    }

    [Test]
    public void BadAxesAndEmptyAxesThrow()
    {
        using var _ = Tensor.Scope();
        var ex = Assert.Throws<ArgumentException>(() => F.Max(Tensor.Zeros([2, 3]), [2]));
        Assert.That(ex!.Message, Does.Contain("Max").And.Contain("axis 2").And.Contain("[2, 3]"));
        ex = Assert.Throws<ArgumentException>(() => F.Min(Tensor.Zeros([2, 0]), [1]));
        Assert.That(ex!.Message, Does.Contain("Min").And.Contain("empty").And.Contain("[2, 0]"));
    }
}
