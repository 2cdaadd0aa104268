using DiffKernels.Ops;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Ops;

public class PoolTests
{
    [TestCase(1, 1, 1, 1)]
    [TestCase(2, 3, 5, 3)]
    [TestCase(1, 4, 2, 7)]
    [TestCase(3, 2, 3, 1)]
    public void Upsample2xMatchesReferenceAndGradient(int n, int h, int w, int c)
    {
        OpCheck.Run("upsample2x", [new Shape(n, h, w, c)], x => F.Upsample2x(x[0]), x =>
        {
            var y = new double[n * 4 * h * w * c];
            for (int b = 0; b < n; b++)
                for (int i = 0; i < 2 * h; i++)
                    for (int j = 0; j < 2 * w; j++)
                        for (int k = 0; k < c; k++)
                            y[((b * 2 * h + i) * 2 * w + j) * c + k] = x[0][((b * h + i / 2) * w + j / 2) * c + k];
            return y;
        }, new OpCheckOptions { OutputShape = new Shape(n, 2 * h, 2 * w, c) });
    }

    [TestCase(1, 2, 2, 1)]
    [TestCase(2, 6, 4, 3)]
    [TestCase(1, 2, 8, 5)]
    [TestCase(3, 4, 2, 2)]
    public void AvgPool2xMatchesReferenceAndGradient(int n, int h, int w, int c)
    {
        OpCheck.Run("avgpool2x", [new Shape(n, h, w, c)], x => F.AvgPool2x(x[0]), x =>
        {
            var y = new double[n * h / 2 * (w / 2) * c];
            for (int b = 0; b < n; b++)
                for (int i = 0; i < h / 2; i++)
                    for (int j = 0; j < w / 2; j++)
                        for (int k = 0; k < c; k++)
                        {
                            double s = 0;
                            for (int di = 0; di < 2; di++)
                                for (int dj = 0; dj < 2; dj++)
                                    s += x[0][((b * h + 2 * i + di) * w + 2 * j + dj) * c + k];
                            y[((b * (h / 2) + i) * (w / 2) + j) * c + k] = s / 4;
                        }
            return y;
        }, new OpCheckOptions { OutputShape = new Shape(n, h / 2, w / 2, c) });
    }

    [Test]
    public void PoolingRejectsBadShapes()
    {
        using var _ = Tensor.Scope();
        var ex = Assert.Throws<ArgumentException>(() => F.AvgPool2x(Tensor.Zeros([1, 3, 4, 2])));
        Assert.That(ex!.Message, Does.Contain("AvgPool2x").And.Contain("[1, 3, 4, 2]").And.Contain("even"));
        Assert.Throws<ArgumentException>(() => F.AvgPool2x(Tensor.Zeros([1, 4, 5, 2])));
        ex = Assert.Throws<ArgumentException>(() => F.Upsample2x(Tensor.Zeros([4, 4, 2])));
        Assert.That(ex!.Message, Does.Contain("Upsample2x").And.Contain("[4, 4, 2]"));
    }
}
