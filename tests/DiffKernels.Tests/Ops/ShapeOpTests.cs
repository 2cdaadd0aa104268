using DiffKernels.Ops;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Ops;

public class ShapeOpTests
{
    private static string S(int[] a) => "[" + string.Join(",", a) + "]";

    /// <summary>y[i] = x[src(multi-index of i in outShape)].</summary>
    private static double[] Gather(double[] x, Shape outShape, Func<int[], long> src)
    {
        var y = new double[outShape.Numel];
        for (long i = 0; i < y.Length; i++) y[i] = x[src(Ref.Unravel(i, outShape))];
        return y;
    }

    private static int Norm(int axis, int rank) => axis < 0 ? axis + rank : axis;

    private static double[] PermuteRef(double[] x, Shape s, int[] perm)
    {
        var p = perm.Select(a => Norm(a, s.Rank)).ToArray();
        var outShape = new Shape(p.Select(a => s[a]).ToArray());
        return Gather(x, outShape, idx =>
        {
            var src = new int[s.Rank];
            for (int k = 0; k < p.Length; k++) src[p[k]] = idx[k];
            return Ref.Ravel(src, s);
        });
    }

    private static double[] SliceRef(double[] x, Shape s, int axis, int start, int count, int step) =>
        Gather(x, s.With(axis, count), idx =>
        {
            var src = (int[])idx.Clone();
            src[axis] = start + idx[axis] * step;
            return Ref.Ravel(src, s);
        });

    private static double[] ConcatRef(double[][] xs, Shape[] shapes, int axis)
    {
        int total = shapes.Sum(sh => sh[axis]);
        var outShape = shapes[0].With(axis, total);
        var y = new double[outShape.Numel];
        for (long i = 0; i < y.Length; i++)
        {
            var idx = Ref.Unravel(i, outShape);
            int k = 0, at = idx[axis];
            while (at >= shapes[k][axis]) at -= shapes[k++][axis];
            idx[axis] = at;
            y[i] = xs[k][Ref.Ravel(idx, shapes[k])];
        }
        return y;
    }

    private static IEnumerable<TestCaseData> PermuteCases()
    {
        yield return new TestCaseData(new[] { 7 }, new[] { 0 });
        yield return new TestCaseData(new[] { 3, 5 }, new[] { 1, 0 });
        yield return new TestCaseData(new[] { 2, 3, 4 }, new[] { 2, 0, 1 });
        yield return new TestCaseData(new[] { 2, 3, 4, 3 }, new[] { 3, 1, 0, 2 });
        yield return new TestCaseData(new[] { 2, 3, 4, 3 }, new[] { -1, 0, -2, 1 });
        yield return new TestCaseData(new[] { 2, 3, 1, 5 }, new[] { 0, 2, 3, 1 });
        yield return new TestCaseData(new[] { 2, 3, 2, 3, 2 }, new[] { 4, 2, 0, 3, 1 });
        yield return new TestCaseData(new[] { 3, 1, 2, 2, 3 }, new[] { 0, 1, 2, 4, 3 });
    }

    [TestCaseSource(nameof(PermuteCases))]
    public void Permute(int[] shape, int[] perm)
    {
        var s = new Shape(shape);
        var expected = new Shape(perm.Select(a => shape[Norm(a, shape.Length)]).ToArray());
        OpCheck.Run($"permute {S(shape)} {S(perm)}", [s], x => F.Permute(x[0], perm), x => PermuteRef(x[0], s, perm),
            new OpCheckOptions { OutputShape = expected, ForwardTol = 0 });
    }

    [Test]
    public void TransposeSwapsTwoAxes()
    {
        var s = new Shape(3, 4, 5);
        OpCheck.Run("transpose 0,-1", [s], x => F.Transpose(x[0], 0, -1), x => PermuteRef(x[0], s, [2, 1, 0]),
            new OpCheckOptions { OutputShape = new Shape(5, 4, 3), ForwardTol = 0 });
        var s5 = new Shape(2, 3, 2, 1, 3);
        OpCheck.Run("transpose rank5", [s5], x => x[0].Transpose(1, 4), x => PermuteRef(x[0], s5, [0, 4, 2, 3, 1]),
            new OpCheckOptions { OutputShape = new Shape(2, 3, 2, 1, 3), ForwardTol = 0 });
    }

    private static IEnumerable<TestCaseData> NarrowCases()
    {
        yield return new TestCaseData(new[] { 9 }, 0, 2, 5);
        yield return new TestCaseData(new[] { 5, 7 }, 1, 2, 4);
        yield return new TestCaseData(new[] { 5, 7 }, -1, -3, 3);
        yield return new TestCaseData(new[] { 5, 7 }, 0, 0, 1);
        yield return new TestCaseData(new[] { 4, 3, 5 }, -2, 1, 1);
        yield return new TestCaseData(new[] { 2, 3, 5, 2, 3 }, 2, 1, 3);
        yield return new TestCaseData(new[] { 2, 3, 5, 2, 3 }, 4, 0, 2);
    }

    [TestCaseSource(nameof(NarrowCases))]
    public void Narrow(int[] shape, int axis, int start, int length)
    {
        var s = new Shape(shape);
        int a = Norm(axis, shape.Length), st = start < 0 ? start + shape[a] : start;
        OpCheck.Run($"narrow {S(shape)} axis {axis}", [s], x => F.Narrow(x[0], axis, start, length),
            x => SliceRef(x[0], s, a, st, length, 1), new OpCheckOptions { OutputShape = s.With(a, length), ForwardTol = 0 });
    }

    private static IEnumerable<TestCaseData> SliceCases()
    {
        yield return new TestCaseData(new[] { 11 }, 0, 1, 10, 2, 5);
        yield return new TestCaseData(new[] { 11 }, 0, 0, 11, 3, 4);
        yield return new TestCaseData(new[] { 4, 9 }, 1, 1, -1, 3, 3);
        yield return new TestCaseData(new[] { 7, 3 }, -2, -6, 7, 2, 3);
        yield return new TestCaseData(new[] { 3, 5, 4 }, 1, 0, 5, 1, 5);
        yield return new TestCaseData(new[] { 2, 3, 7, 2, 2 }, 2, 1, 7, 2, 3);
        yield return new TestCaseData(new[] { 2, 2, 3, 2, 8 }, -1, 2, 8, 3, 2);
    }

    [TestCaseSource(nameof(SliceCases))]
    public void Slice(int[] shape, int axis, int start, int end, int step, int expectedCount)
    {
        var s = new Shape(shape);
        int a = Norm(axis, shape.Length), st = start < 0 ? start + shape[a] : start;
        OpCheck.Run($"slice {S(shape)} axis {axis} step {step}", [s], x => F.Slice(x[0], axis, start, end, step),
            x => SliceRef(x[0], s, a, st, expectedCount, step),
            new OpCheckOptions { OutputShape = s.With(a, expectedCount), ForwardTol = 0 });
    }

    private static IEnumerable<TestCaseData> ConcatCases()
    {
        yield return new TestCaseData(new[] { new[] { 2, 3, 4 }, new[] { 2, 1, 4 }, new[] { 2, 5, 4 } }, 1);
        yield return new TestCaseData(new[] { new[] { 3, 2 }, new[] { 3, 5 }, new[] { 3, 1 } }, -1);
        yield return new TestCaseData(new[] { new[] { 1, 3 }, new[] { 4, 3 }, new[] { 2, 3 } }, 0);
        yield return new TestCaseData(new[] { new[] { 3 }, new[] { 5 }, new[] { 1 } }, 0);
        yield return new TestCaseData(new[] { new[] { 2, 1, 2, 3, 2 }, new[] { 2, 1, 2, 1, 2 }, new[] { 2, 1, 2, 2, 2 } }, -2);
        yield return new TestCaseData(new[] { new[] { 2, 3 } }, 1);
    }

    [TestCaseSource(nameof(ConcatCases))]
    public void Concat(int[][] shapes, int axis)
    {
        var ss = shapes.Select(sh => new Shape(sh)).ToArray();
        int a = Norm(axis, shapes[0].Length);
        OpCheck.Run($"concat axis {axis}", ss, x => F.Concat(x, axis), x => ConcatRef(x, ss, a),
            new OpCheckOptions { OutputShape = ss[0].With(a, shapes.Sum(sh => sh[a])), ForwardTol = 0 });
    }

    [Test]
    public void ConcatGivesGradientsOnlyWhereRequired()
    {
        var ss = new[] { new Shape(2, 3), new Shape(2, 2) };
        OpCheck.Run("concat partial grad", ss, x => F.Concat(x, 1), x => ConcatRef(x, ss, 1),
            new OpCheckOptions { Differentiable = [false, true] });
    }

    /// <summary>
    /// Splitting pieces are recombined in reverse order with distinct weights, so the checked output
    /// depends on every piece and each piece's gradient path is exercised.
    /// </summary>
    private static Tensor Recombine(Tensor[] pieces, int axis)
    {
        var scaled = pieces.Select((p, i) => F.MulScalar(p, i + 1)).Reverse().ToArray();
        return F.Concat(scaled, axis);
    }

    private static double[] RecombineRef(double[] x, Shape s, int axis, int[] sizes)
    {
        var parts = new List<double[]>();
        var shapes = new List<Shape>();
        int at = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            parts.Add(SliceRef(x, s, axis, at, sizes[i], 1).Select(v => v * (i + 1)).ToArray());
            shapes.Add(s.With(axis, sizes[i]));
            at += sizes[i];
        }
        parts.Reverse();
        shapes.Reverse();
        return ConcatRef([.. parts], [.. shapes], axis);
    }

    private static IEnumerable<TestCaseData> SplitCases()
    {
        yield return new TestCaseData(new[] { 3, 7 }, new[] { 2, 4, 1 }, 1);
        yield return new TestCaseData(new[] { 3, 7 }, new[] { 1, 2 }, 0);
        yield return new TestCaseData(new[] { 9 }, new[] { 4, 5 }, -1);
        yield return new TestCaseData(new[] { 2, 2, 5, 1, 3 }, new[] { 1, 3, 1 }, -3);
    }

    [TestCaseSource(nameof(SplitCases))]
    public void Split(int[] shape, int[] sizes, int axis)
    {
        var s = new Shape(shape);
        int a = Norm(axis, shape.Length);
        OpCheck.Run($"split {S(shape)} {S(sizes)}", [s], x =>
        {
            var pieces = F.Split(x[0], sizes, axis);
            Assert.That(pieces.Select(p => p.Shape[a]), Is.EqualTo(sizes));
            return Recombine(pieces, a);
        }, x => RecombineRef(x[0], s, a, sizes));
    }

    private static IEnumerable<TestCaseData> ChunkCases()
    {
        yield return new TestCaseData(new[] { 10 }, 4, 0, new[] { 3, 3, 3, 1 });
        yield return new TestCaseData(new[] { 2, 5, 3 }, 2, 1, new[] { 3, 2 });
        yield return new TestCaseData(new[] { 2, 5 }, 4, -1, new[] { 2, 2, 1 });
        yield return new TestCaseData(new[] { 6, 2 }, 3, 0, new[] { 2, 2, 2 });
        yield return new TestCaseData(new[] { 2, 3 }, 5, 1, new[] { 1, 1, 1 });
    }

    [TestCaseSource(nameof(ChunkCases))]
    public void Chunk(int[] shape, int n, int axis, int[] expectedSizes)
    {
        var s = new Shape(shape);
        int a = Norm(axis, shape.Length);
        OpCheck.Run($"chunk {S(shape)} n={n}", [s], x =>
        {
            var pieces = F.Chunk(x[0], n, axis);
            Assert.That(pieces.Select(p => p.Shape[a]), Is.EqualTo(expectedSizes));
            return Recombine(pieces, a);
        }, x => RecombineRef(x[0], s, a, expectedSizes));
    }

    [Test]
    public void SqueezeUnsqueezeFlattenAreReshapes()
    {
        var s = new Shape(3, 1, 4);
        OpCheck.Run("squeeze", [s], x => F.Squeeze(x[0], -2), x => x[0], new OpCheckOptions { OutputShape = new Shape(3, 4) });
        OpCheck.Run("unsqueeze", [s], x => x[0].Unsqueeze(-1), x => x[0], new OpCheckOptions { OutputShape = new Shape(3, 1, 4, 1) });
        OpCheck.Run("unsqueeze front", [s], x => F.Unsqueeze(x[0], 0), x => x[0], new OpCheckOptions { OutputShape = new Shape(1, 3, 1, 4) });
        OpCheck.Run("flatten", [new Shape(2, 3, 2, 2)], x => F.Flatten(x[0], 1), x => x[0], new OpCheckOptions { OutputShape = new Shape(2, 12) });
        OpCheck.Run("flatten mid", [new Shape(2, 3, 2, 2)], x => x[0].Flatten(1, 2), x => x[0], new OpCheckOptions { OutputShape = new Shape(2, 6, 2) });
        OpCheck.Run("flatten all", [new Shape(2, 3)], x => F.Flatten(x[0]), x => x[0], new OpCheckOptions { OutputShape = new Shape(6) });
    }

    [Test]
    public void InstanceShortcutsMatchF()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.Arange(24).Reshape(2, 3, 4);
        Assert.That(x.Permute(2, 0, 1).ToArray(), Is.EqualTo(F.Permute(x, 2, 0, 1).ToArray()));
        Assert.That(x.Narrow(2, 1, 2).ToArray(), Is.EqualTo(new float[] { 1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22 }));
        Assert.That(x.Slice(1, 0, 3, 2).ToArray(), Is.EqualTo(new float[] { 0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 20, 21, 22, 23 }));
        Assert.That(x.Slice(0, 1, 2).Squeeze(0).Shape, Is.EqualTo(new Shape(3, 4)));
        Assert.That(x.Transpose(0, 2).Shape, Is.EqualTo(new Shape(4, 3, 2)));
    }

    [Test]
    public void EmptyPiecesAreAllowed()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.Arange(6).Reshape(2, 3).RequireGrad();
        var pieces = F.Split(x, [0, 3], 1);
        Assert.That(pieces[0].Shape, Is.EqualTo(new Shape(2, 0)));
        Assert.That(F.Slice(x, 1, 3, 3).Shape, Is.EqualTo(new Shape(2, 0)));
        F.Sum(F.Concat(pieces, 1)).Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(Enumerable.Repeat(1f, 6)));
    }

    private static void Throws(Action act, params string[] fragments)
    {
        var ex = Assert.Throws<ArgumentException>(act);
        foreach (var f in fragments) Assert.That(ex!.Message, Does.Contain(f));
    }

    [Test]
    public void BadArgumentsNameOpArgumentAndShape()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.Zeros([2, 3, 4]);
        Throws(() => F.Permute(x, 0, 1), "Permute", "[0, 1]", "[2, 3, 4]");
        Throws(() => F.Permute(x, 0, 1, -2), "Permute", "repeats", "[2, 3, 4]");
        Throws(() => F.Permute(x, 0, 1, 3), "Permute", "axis 3", "[2, 3, 4]");
        Throws(() => F.Transpose(x, 0, -4), "Transpose", "axis -4", "[2, 3, 4]");
        Throws(() => F.Narrow(x, 2, 2, 3), "Narrow", "start 2", "length 3", "[2, 3, 4]");
        Throws(() => F.Narrow(x, 2, -5, 1), "Narrow", "start -5", "[2, 3, 4]");
        Throws(() => F.Narrow(x, 3, 0, 1), "Narrow", "axis 3", "[2, 3, 4]");
        Throws(() => F.Slice(x, 1, 0, 3, 0), "Slice", "step 0", "[2, 3, 4]");
        Throws(() => F.Slice(x, 1, 0, 4), "Slice", "[0, 4)", "[2, 3, 4]");
        Throws(() => F.Slice(x, 1, 2, 1), "Slice", "[2, 1)", "[2, 3, 4]");
        Throws(() => F.Concat([x, Tensor.Zeros([2, 3, 5])], 1), "Concat", "tensor 1", "[2, 3, 5]", "[2, 3, 4]");
        Throws(() => F.Concat([x, Tensor.Zeros([2, 3])], 1), "Concat", "[2, 3]");
        Throws(() => F.Concat([], 0), "Concat");
        Throws(() => F.Concat([x], 3), "Concat", "axis 3");
        Throws(() => F.Split(x, [1, 1], 1), "Split", "[1, 1]", "[2, 3, 4]");
        Throws(() => F.Split(x, [4, -1], 1), "Split", "negative", "[2, 3, 4]");
        Throws(() => F.Chunk(x, 0, 1), "Chunk", "0", "[2, 3, 4]");
        Throws(() => F.Squeeze(x, 1), "Squeeze", "axis 1", "[2, 3, 4]");
        Throws(() => F.Unsqueeze(x, 4), "Unsqueeze", "axis 4", "[2, 3, 4]");
        Throws(() => F.Unsqueeze(Tensor.Zeros([1, 1, 1, 1, 1]), 0), "Unsqueeze", "maximum rank");
        Throws(() => F.Flatten(x, 2, 1), "Flatten", "[2, 3, 4]");
    }
}
