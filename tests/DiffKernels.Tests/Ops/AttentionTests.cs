using DiffKernels.Ops;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Ops;

public class AttentionTests
{
    /// <summary>Textbook attention in double: full logit rows, max-subtracted softmax, weighted sum of values.</summary>
    private static double[] AttentionRef(double[] q, double[] k, double[] v, int b, int nq, int nk, int heads, int d, double scale)
    {
        int w = heads * d;
        var o = new double[b * nq * w];
        var logits = new double[nk];
        for (int bi = 0; bi < b; bi++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < nq; i++)
                {
                    for (int j = 0; j < nk; j++)
                    {
                        double dot = 0;
                        for (int c = 0; c < d; c++) dot += q[(bi * nq + i) * w + h * d + c] * k[(bi * nk + j) * w + h * d + c];
                        logits[j] = scale * dot;
                    }
                    double max = logits.Max(), sum = logits.Sum(l => Math.Exp(l - max));
                    for (int j = 0; j < nk; j++)
                    {
                        double p = Math.Exp(logits[j] - max) / sum;
                        for (int c = 0; c < d; c++) o[(bi * nq + i) * w + h * d + c] += p * v[(bi * nk + j) * w + h * d + c];
                    }
                }
        return o;
    }

    private static void Check(int b, int heads, int d, int nq, int nk, float? scale = null, OpCheckOptions? options = null,
        Action<Tensor[]>? probe = null)
    {
        int w = heads * d;
        double s = scale ?? 1 / Math.Sqrt(d);
        OpCheck.Run($"attention b={b} h={heads} d={d} nq={nq} nk={nk}", [new Shape(b, nq, w), new Shape(b, nk, w), new Shape(b, nk, w)],
            x =>
            {
                probe?.Invoke(x);
                return F.Attention(x[0], x[1], x[2], heads, scale);
            },
            x => AttentionRef(x[0], x[1], x[2], b, nq, nk, heads, d, s),
            options ?? new OpCheckOptions { OutputShape = new Shape(b, nq, w) });
    }

    [TestCase(2, 1, 3, 5, 7)]
    [TestCase(2, 2, 8, 7, 5)]
    [TestCase(2, 3, 3, 5, 7)]
    [TestCase(2, 3, 8, 7, 5)]
    [TestCase(1, 2, 4, 1, 1)]
    [TestCase(2, 1, 8, 1, 6)]
    [TestCase(2, 2, 3, 6, 1)]
    public void MatchesReference(int b, int heads, int d, int nq, int nk) => Check(b, heads, d, nq, nk);

    [Test]
    public void CrossesQueryAndKeyBlocks()
    {
        // Longer than one query block (32) and one key block (64), with ragged last blocks.
        Check(1, 2, 3, 33, 70);
    }

    [Test]
    public void LargeInputsSplitAcrossWorkers()
    {
        Check(2, 2, 16, 70, 90, options: new OpCheckOptions { Differentiable = [false, false, false] });
        WorkerSweep.AssertIndependentOfWorkers([new Shape(2, 70, 32), new Shape(2, 90, 32), new Shape(2, 90, 32)],
            x => F.Attention(x[0], x[1], x[2], 2));
    }

    [Test]
    public void ExplicitScale() => Check(2, 2, 5, 4, 6, scale: 0.7f);

    [Test]
    public void StableForLargeLogits()
    {
        // Entries of q and k in [−8, 8] with D = 8 spread the logits over tens; the softmax must keep
        // its precision against the double reference there, forward and backward.
        double maxLogit = 0;
        Check(2, 2, 8, 5, 7, options: new OpCheckOptions
        {
            Sample = (i, r) => i < 2 ? (r.NextDouble() * 2 - 1) * 8 : r.NextDouble() * 2 - 1,
            ForwardTol = 1e-4,
        }, probe: x => maxLogit = MaxAbsLogit(x[0].ToArray(), x[1].ToArray(), 2, 5, 7, 2, 8));
        Assert.That(maxLogit, Is.GreaterThan(40), "the sampled inputs must really produce large logits");
    }

    private static double MaxAbsLogit(float[] q, float[] k, int b, int nq, int nk, int heads, int d)
    {
        int w = heads * d;
        double max = 0;
        for (int bi = 0; bi < b; bi++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < nq; i++)
                    for (int j = 0; j < nk; j++)
                    {
                        double dot = 0;
                        for (int c = 0; c < d; c++) dot += q[(bi * nq + i) * w + h * d + c] * (double)k[(bi * nk + j) * w + h * d + c];
                        max = Math.Max(max, Math.Abs(dot / Math.Sqrt(d)));
                    }
        return max;
    }

    [Test]
    public void HugeLogitsStayFinite()
    {
        using var _ = Tensor.Scope();
        var q = Tensor.FromArray([30f, -30f, 0f, 30f], 1, 2, 2);
        var k = Tensor.FromArray([30f, 30f, -30f, 30f, 30f, -30f], 1, 3, 2);
        var v = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 1, 3, 2);
        // Logits reach ±1800, far past float exp overflow (~88) unless the row maximum is subtracted:
        // row 0 picks key 2 ([5, 6]), row 1 splits keys 0 and 1 evenly.
        var o = F.Attention(q, k, v, 1, scale: 1f).ToArray();
        Assert.That(o, Is.EqualTo(new[] { 5f, 6f, 2f, 3f }).Within(1e-5));
    }

    [Test]
    public void ShapeErrorsNameTheOpAndShapes()
    {
        using var _ = Tensor.Scope();
        var q = Tensor.Zeros([2, 5, 6]);
        var k = Tensor.Zeros([2, 7, 6]);
        var ex = Assert.Throws<ArgumentException>(() => F.Attention(q, k, Tensor.Zeros([2, 7, 4]), 2));
        Assert.That(ex!.Message, Does.Contain("Attention").And.Contain("[2, 7, 6]").And.Contain("[2, 7, 4]"));
        ex = Assert.Throws<ArgumentException>(() => F.Attention(q, k, k, 4));
        Assert.That(ex!.Message, Does.Contain("Attention").And.Contain("4 heads").And.Contain("[2, 5, 6]"));
        ex = Assert.Throws<ArgumentException>(() => F.Attention(Tensor.Zeros([3, 5, 6]), k, k, 2));
        Assert.That(ex!.Message, Does.Contain("Attention").And.Contain("[3, 5, 6]").And.Contain("[2, 7, 6]"));
    }
}
