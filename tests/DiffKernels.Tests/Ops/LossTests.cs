using DiffKernels.Ops;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Ops;

public class LossTests
{
    private static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    private static IEnumerable<TestCaseData> MseCases()
    {
        yield return new TestCaseData(new[] { 3, 4 }, new[] { 3, 4 });
        yield return new TestCaseData(new[] { 3, 4 }, new[] { 4 });
        yield return new TestCaseData(new[] { 2, 3, 5 }, new[] { 3, 1 });
        yield return new TestCaseData(new[] { 7 }, Array.Empty<int>());
        yield return new TestCaseData(new[] { 2, 1, 2, 3, 2 }, new[] { 2, 1, 2, 3, 2 });
    }

    [TestCaseSource(nameof(MseCases))]
    public void MseLoss(int[] p, int[] t)
    {
        Shape sp = p, st = t;
        OpCheck.Run("mse", [sp, st], x => F.MseLoss(x[0], x[1]),
            x => [Ref.Broadcast(x[0], sp, x[1], st, (a, b) => (a - b) * (a - b)).Average()],
            new OpCheckOptions { OutputShape = new Shape() });
    }

    private static double[] CrossEntropyRef(double[] logits, int n, int c, int[] labels)
    {
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            var row = logits.Skip(i * c).Take(c).ToArray();
            double max = row.Max();
            double lse = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
            total += lse - row[labels[i]];
        }
        return [total / n];
    }

    private static IEnumerable<TestCaseData> CrossEntropyCases()
    {
        yield return new TestCaseData(4, 5, new[] { 0, 4, 2, 2 }, 3.0);
        yield return new TestCaseData(4, 5, new[] { 1, 3, 0, 4 }, 80.0);
        yield return new TestCaseData(1, 7, new[] { 6 }, 3.0);
        yield return new TestCaseData(3, 1, new[] { 0, 0, 0 }, 3.0);
        yield return new TestCaseData(6, 2, new[] { 1, 0, 1, 1, 0, 0 }, 5.0);
    }

    [TestCaseSource(nameof(CrossEntropyCases))]
    public void CrossEntropy(int n, int c, int[] labels, double scale)
    {
        OpCheck.Run("cross_entropy", [new Shape(n, c)], x => F.CrossEntropy(x[0], labels),
            x => CrossEntropyRef(x[0], n, c, labels),
            new OpCheckOptions { Sample = (_, g) => (g.NextDouble() * 2 - 1) * scale, OutputShape = new Shape(), ForwardTol = 3e-6 });
        OpCheck.Run("cross_entropy float labels", [new Shape(n, c)],
            x => F.CrossEntropy(x[0], Tensor.FromArray(labels.Select(l => (float)l).ToArray())),
            x => CrossEntropyRef(x[0], n, c, labels),
            new OpCheckOptions { Sample = (_, g) => (g.NextDouble() * 2 - 1) * scale, ForwardTol = 3e-6 });
    }

    [Test]
    public void CrossEntropyMatchesHandFormula()
    {
        using var _ = Tensor.Scope();
        var logits = Tensor.FromArray([1f, 2f, 3f, 1f, 1f, 1f], 2, 3);
        double e = Math.E;
        double expected = ((Math.Log(e + e * e + e * e * e) - 3) + Math.Log(3)) / 2;
        Assert.That(F.CrossEntropy(logits, [2, 0]).Item(), Is.EqualTo(expected).Within(1e-6));
    }

    [Test]
    public void CrossEntropyRejectsBadLabels()
    {
        using var _ = Tensor.Scope();
        var logits = Tensor.Zeros([2, 3]);
        var ex = Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, [0, 3]));
        Assert.That(ex!.Message, Does.Contain("CrossEntropy").And.Contain("label 3").And.Contain("index 1").And.Contain("[0, 3)"));
        ex = Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, [-1, 0]));
        Assert.That(ex!.Message, Does.Contain("label -1"));
        ex = Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, [0]));
        Assert.That(ex!.Message, Does.Contain("1 labels").And.Contain("[2, 3]"));
        ex = Assert.Throws<ArgumentException>(() => F.CrossEntropy(Tensor.Zeros([6]), [0]));
        Assert.That(ex!.Message, Does.Contain("[N, C]").And.Contain("[6]"));
        ex = Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, Tensor.FromArray([0f, 1.5f])));
        Assert.That(ex!.Message, Does.Contain("label 1.5").And.Contain("index 1"));
        ex = Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, Tensor.FromArray([0f, 5f])));
        Assert.That(ex!.Message, Does.Contain("label 5"));
        ex = Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, Tensor.Zeros([2, 1])));
        Assert.That(ex!.Message, Does.Contain("labels").And.Contain("[2, 1]"));
    }

    [Test]
    public void MseLossRejectsTargetsThatDoNotBroadcastToThePrediction()
    {
        using var _ = Tensor.Scope();
        var ex = Assert.Throws<ArgumentException>(() => F.MseLoss(Tensor.Zeros([3, 4]), Tensor.Zeros([2, 3, 4])));
        Assert.That(ex!.Message, Does.Contain("MseLoss").And.Contain("[2, 3, 4]").And.Contain("[3, 4]"));
        ex = Assert.Throws<ArgumentException>(() => F.MseLoss(Tensor.Zeros([3, 4]), Tensor.Zeros([5])));
        Assert.That(ex!.Message, Does.Contain("MseLoss").And.Contain("[5]"));
    }

    [Test]
    public void GanGeneratorLoss()
    {
        foreach (var scale in new[] { 3.0, 40.0 })
            OpCheck.Run("gan_g", [new Shape(9)], x => F.GanGeneratorLoss(x[0]), x => [x[0].Select(v => Softplus(-v)).Average()],
                new OpCheckOptions { Sample = (_, g) => (g.NextDouble() * 2 - 1) * scale, OutputShape = new Shape() });
    }

    [Test]
    public void GanDiscriminatorLoss()
    {
        foreach (var scale in new[] { 3.0, 40.0 })
            OpCheck.Run("gan_d", [new Shape(4), new Shape(3, 1)], x => F.GanDiscriminatorLoss(x[0], x[1]),
                x => [x[0].Select(v => Softplus(-v)).Average() + x[1].Select(Softplus).Average()],
                new OpCheckOptions { Sample = (_, g) => (g.NextDouble() * 2 - 1) * scale, OutputShape = new Shape() });
    }

    [Test]
    public void GanLossesAtZeroLogitsAreLog2()
    {
        using var _ = Tensor.Scope();
        var z = Tensor.Zeros([5]);
        Assert.That(F.GanGeneratorLoss(z).Item(), Is.EqualTo(MathF.Log(2)).Within(1e-6));
        Assert.That(F.GanDiscriminatorLoss(z, z).Item(), Is.EqualTo(2 * MathF.Log(2)).Within(1e-6));
    }
}
