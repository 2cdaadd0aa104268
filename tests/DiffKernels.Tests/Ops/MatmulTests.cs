using DiffKernels.Ops;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Ops;

public class MatmulTests
{
    /// <summary>op(X)[i, j] of a stored row-major matrix at <paramref name="off"/> (rows × cols as stored).</summary>
    private static double At(double[] x, long off, int cols, bool trans, int i, int j) =>
        trans ? x[off + (long)j * cols + i] : x[off + (long)i * cols + j];

    /// <summary>Reference batched op(A)·op(B); a zero B stride shares B.</summary>
    private static double[] RefMatmul(double[] a, double[] b, int batch, int m, int n, int k, bool ta, bool tb, bool sharedB)
    {
        var y = new double[(long)batch * m * n];
        for (int bi = 0; bi < batch; bi++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++)
                        s += At(a, (long)bi * m * k, ta ? m : k, ta, i, p) * At(b, sharedB ? 0 : (long)bi * k * n, tb ? k : n, tb, p, j);
                    y[((long)bi * m + i) * n + j] = s;
                }
        return y;
    }

    private static IEnumerable<TestCaseData> Cases()
    {
        (int[] lead, int m, int n, int k, bool shared)[] geoms =
        [
            ([], 1, 1, 1, false),
            ([], 3, 7, 5, false),
            ([], 17, 9, 33, false),
            ([2], 4, 6, 5, false),
            ([2, 3], 3, 5, 4, false),
            ([3], 4, 6, 5, true),
            ([2, 2], 5, 3, 7, true),
        ];
        foreach (var (lead, m, n, k, shared) in geoms)
            foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
                yield return new TestCaseData(lead, m, n, k, shared, ta, tb)
                    .SetName($"lead [{string.Join(",", lead)}] m{m} n{n} k{k}{(shared ? " shared b" : "")} {(ta ? "T" : "N")}{(tb ? "T" : "N")}");
    }

    [TestCaseSource(nameof(Cases))]
    public void MatmulMatchesReferenceAndGradients(int[] lead, int m, int n, int k, bool shared, bool ta, bool tb)
    {
        int batch = lead.Aggregate(1, (p, d) => p * d);
        Shape sa = [.. lead, ta ? k : m, ta ? m : k];
        Shape sb = shared ? [tb ? n : k, tb ? k : n] : [.. lead, tb ? n : k, tb ? k : n];
        Func<Tensor[], Tensor> op = ta || tb ? x => F.Matmul(x[0], x[1], ta, tb) : x => F.Matmul(x[0], x[1]);
        OpCheck.Run("matmul", [sa, sb], op, x => RefMatmul(x[0], x[1], batch, m, n, k, ta, tb, shared),
            new OpCheckOptions { OutputShape = new Shape([.. lead, m, n]) });
    }

    [Test]
    public void MatmulRejectsMismatchedShapes()
    {
        using var _ = Tensor.Scope();
        var ex = Assert.Throws<ArgumentException>(() => F.Matmul(Tensor.Zeros([3, 4]), Tensor.Zeros([5, 2])));
        Assert.That(ex!.Message, Does.Contain("Matmul").And.Contain("[3, 4]").And.Contain("[5, 2]"));
        ex = Assert.Throws<ArgumentException>(() => F.Matmul(Tensor.Zeros([2, 3, 4]), Tensor.Zeros([3, 4, 2])));
        Assert.That(ex!.Message, Does.Contain("batch").And.Contain("[2, 3, 4]"));
        Assert.Throws<ArgumentException>(() => F.Matmul(Tensor.Zeros([4]), Tensor.Zeros([4, 2])));
    }

    private static double[] RefLinear(double[] x, double[] w, double[]? b, int rows, int inF, int outF)
    {
        var y = new double[rows * outF];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                double s = b?[o] ?? 0;
                for (int i = 0; i < inF; i++) s += x[r * inF + i] * w[o * inF + i];
                y[r * outF + o] = s;
            }
        return y;
    }

    [TestCase(new[] { 5 }, 7, 3, true)]
    [TestCase(new[] { 5 }, 7, 3, false)]
    [TestCase(new[] { 2, 3, 4 }, 6, 5, true)]
    [TestCase(new[] { 2, 3, 4 }, 6, 5, false)]
    [TestCase(new int[0], 4, 9, true)]
    [TestCase(new[] { 1 }, 1, 1, true)]
    public void LinearMatchesReferenceAndGradients(int[] lead, int inF, int outF, bool bias)
    {
        int rows = lead.Aggregate(1, (p, d) => p * d);
        Shape sx = [.. lead, inF];
        Shape[] shapes = bias ? [sx, new Shape(outF, inF), new Shape(outF)] : [sx, new Shape(outF, inF)];
        OpCheck.Run("linear", shapes, x => F.Linear(x[0], x[1], bias ? x[2] : null),
            x => RefLinear(x[0], x[1], bias ? x[2] : null, rows, inF, outF),
            new OpCheckOptions { OutputShape = new Shape([.. lead, outF]) });
    }

    [Test]
    public void LinearRejectsMismatchedShapes()
    {
        using var _ = Tensor.Scope();
        var ex = Assert.Throws<ArgumentException>(() => F.Linear(Tensor.Zeros([2, 5]), Tensor.Zeros([3, 4])));
        Assert.That(ex!.Message, Does.Contain("Linear").And.Contain("[2, 5]").And.Contain("[3, 4]"));
        ex = Assert.Throws<ArgumentException>(() => F.Linear(Tensor.Zeros([2, 4]), Tensor.Zeros([3, 4]), Tensor.Zeros([4])));
        Assert.That(ex!.Message, Does.Contain("bias").And.Contain("[4]"));
    }
}
