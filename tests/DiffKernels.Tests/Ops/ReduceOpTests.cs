using DiffKernels.Ops;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Ops;

public class ReduceOpTests
{
    private static IEnumerable<TestCaseData> Cases()
    {
        int[][] axesList = [[], [0], [1], [2], [-1], [0, 2], [1, 2], [0, 1]];
        foreach (var axes in axesList)
            foreach (var keep in new[] { false, true })
                yield return new TestCaseData(new[] { 3, 4, 5 }, axes, keep).SetName($"[3,4,5] axes [{string.Join(",", axes)}] keep={keep}");
        yield return new TestCaseData(new[] { 2, 3, 4, 5, 3 }, new[] { 1, 3 }, false).SetName("rank5 axes [1,3]");
        yield return new TestCaseData(new[] { 1500 }, new[] { 0 }, false).SetName("long row");
        yield return new TestCaseData(new[] { 2, 1030 }, new[] { 0 }, true).SetName("wide inner");
    }

    [TestCaseSource(nameof(Cases))]
    public void SumAndMean(int[] shape, int[] axes, bool keep)
    {
        var s = new Shape(shape);
        var norm = (axes.Length == 0 ? Enumerable.Range(0, s.Rank) : axes.Select(a => a < 0 ? a + s.Rank : a)).ToArray();
        long count = norm.Aggregate(1L, (c, a) => c * s[a]);
        OpCheck.Run("sum", [s], x => F.Sum(x[0], axes, keep), x => Ref.Reduce(x[0], s, norm, (p, q) => p + q, 0));
        OpCheck.Run("mean", [s], x => F.Mean(x[0], axes, keep), x => Ref.Reduce(x[0], s, norm, (p, q) => p + q, 0).Select(v => v / count).ToArray());
    }

    [Test]
    public void OutputShapes()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.Zeros([2, 3, 4]);
        Assert.That(F.Sum(x).Shape, Is.EqualTo(new Shape()));
        Assert.That(F.Sum(x, [1]).Shape, Is.EqualTo(new Shape(2, 4)));
        Assert.That(F.Sum(x, [1], keepDim: true).Shape, Is.EqualTo(new Shape(2, 1, 4)));
        Assert.That(F.Mean(x, [0, -1]).Shape, Is.EqualTo(new Shape(3)));
        Assert.Throws<ArgumentException>(() => F.Sum(x, [3]));
    }
}
