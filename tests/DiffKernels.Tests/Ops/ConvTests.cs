using DiffKernels.Backends.Cpu;
using DiffKernels.Ops;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Ops;

public class ConvTests
{
    /// <summary>A convolution case: NHWC input, [Cout, KH, KW, Cin] weight, stride and padding per axis.</summary>
    public sealed record Geo(int N, int H, int W, int Cin, int Cout, int KH, int KW, int SH, int SW, int PH, int PW)
    {
        public int OH => (H + 2 * PH - KH) / SH + 1;
        public int OW => (W + 2 * PW - KW) / SW + 1;

        public override string ToString() =>
            $"x[{N},{H},{W},{Cin}] w[{Cout},{KH},{KW},{Cin}] s({SH},{SW}) p({PH},{PW})";
    }

    private static readonly Geo[] Geometries =
    [
        new(2, 3, 4, 3, 5, 1, 1, 1, 1, 0, 0),
        new(1, 5, 4, 3, 2, 3, 3, 1, 1, 1, 1),
        new(2, 5, 6, 2, 3, 3, 3, 2, 2, 1, 1),
        new(1, 7, 5, 3, 5, 5, 3, 2, 1, 1, 2),
        new(2, 4, 5, 1, 1, 2, 2, 1, 3, 0, 1),
        new(1, 3, 3, 2, 3, 1, 1, 2, 2, 0, 0),
        new(2, 2, 3, 3, 2, 1, 1, 1, 1, 1, 2),
        new(1, 1, 1, 2, 3, 3, 3, 1, 1, 1, 1),
    ];

    private static double[] RefConv(Geo g, double[] x, double[] w, double[]? b)
    {
        var y = new double[g.N * g.OH * g.OW * g.Cout];
        for (int n = 0; n < g.N; n++)
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++)
                    for (int co = 0; co < g.Cout; co++)
                    {
                        double s = b?[co] ?? 0;
                        for (int kh = 0; kh < g.KH; kh++)
                            for (int kw = 0; kw < g.KW; kw++)
                            {
                                int ih = oh * g.SH - g.PH + kh, iw = ow * g.SW - g.PW + kw;
                                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                                for (int ci = 0; ci < g.Cin; ci++)
                                    s += x[((n * g.H + ih) * g.W + iw) * g.Cin + ci] * w[((co * g.KH + kh) * g.KW + kw) * g.Cin + ci];
                            }
                        y[((n * g.OH + oh) * g.OW + ow) * g.Cout + co] = s;
                    }
        return y;
    }

    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (var g in Geometries)
            foreach (var bias in new[] { true, false })
                foreach (var linesPerBlock in new[] { 0, 1, 3 })
                    yield return new TestCaseData(g, bias, linesPerBlock)
                        .SetName($"{g}{(bias ? " bias" : "")}{(linesPerBlock > 0 ? $" {linesPerBlock} lines/block" : "")}");
    }

    /// <summary><paramref name="linesPerBlock"/> &gt; 0 shrinks the im2col block to that many output lines.</summary>
    [TestCaseSource(nameof(Cases))]
    public void Conv2dMatchesReferenceAndGradients(Geo g, bool bias, int linesPerBlock)
    {
        Shape sx = [g.N, g.H, g.W, g.Cin], sw = [g.Cout, g.KH, g.KW, g.Cin];
        Shape[] shapes = bias ? [sx, sw, new Shape(g.Cout)] : [sx, sw];
        int saved = CpuBackend.ConvBlockFloats;
        try
        {
            if (linesPerBlock > 0) CpuBackend.ConvBlockFloats = linesPerBlock * g.OW * g.KH * g.KW * g.Cin;
            OpCheck.Run("conv2d", shapes,
                x => g.SH == g.SW && g.PH == g.PW
                    ? F.Conv2d(x[0], x[1], bias ? x[2] : null, g.SH, g.PH)
                    : F.Conv2d(x[0], x[1], bias ? x[2] : null, g.SH, g.SW, g.PH, g.PW),
                x => RefConv(g, x[0], x[1], bias ? x[2] : null),
                new OpCheckOptions { OutputShape = new Shape(g.N, g.OH, g.OW, g.Cout) });
        }
        finally
        {
            CpuBackend.ConvBlockFloats = saved;
        }
    }

    [Test]
    public void Conv2dRejectsBadArguments()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.Zeros([1, 4, 4, 3]);
        var ex = Assert.Throws<ArgumentException>(() => F.Conv2d(x, Tensor.Zeros([2, 3, 3, 2])));
        Assert.That(ex!.Message, Does.Contain("Conv2d").And.Contain("[1, 4, 4, 3]").And.Contain("[2, 3, 3, 2]"));
        ex = Assert.Throws<ArgumentException>(() => F.Conv2d(x, Tensor.Zeros([2, 5, 5, 3])));
        Assert.That(ex!.Message, Does.Contain("larger"));
        ex = Assert.Throws<ArgumentException>(() => F.Conv2d(x, Tensor.Zeros([2, 3, 3, 3]), Tensor.Zeros([3])));
        Assert.That(ex!.Message, Does.Contain("bias").And.Contain("[3]"));
        Assert.Throws<ArgumentException>(() => F.Conv2d(x, Tensor.Zeros([2, 3, 3, 3]), null, 0));
        Assert.Throws<ArgumentException>(() => F.Conv2d(x, Tensor.Zeros([2, 3, 3, 3]), null, 1, -1));
        Assert.Throws<ArgumentException>(() => F.Conv2d(Tensor.Zeros([4, 4, 3]), Tensor.Zeros([2, 3, 3, 3])));
    }
}
