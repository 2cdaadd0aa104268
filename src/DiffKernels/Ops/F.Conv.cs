using DiffKernels.Backends;
using DiffKernels.Tensors;

namespace DiffKernels.Ops;

public static partial class F
{
    /// <summary>
    /// 2-D convolution (cross-correlation) of NHWC x [N, H, W, Cin] with weight [Cout, KH, KW, Cin] and
    /// optional bias [Cout], the same stride and zero padding on both axes → [N, OH, OW, Cout].
    /// </summary>
    public static Tensor Conv2d(Tensor x, Tensor w, Tensor? b = null, int stride = 1, int padding = 0) =>
        Conv2d(x, w, b, stride, stride, padding, padding);

    /// <summary><see cref="Conv2d(Tensor, Tensor, Tensor?, int, int)"/> with separate vertical and horizontal stride and padding.</summary>
    public static Tensor Conv2d(Tensor x, Tensor w, Tensor? b, int strideH, int strideW, int padH, int padW)
    {
        var g = ConvGeometry(x, w, b, strideH, strideW, padH, padW);
        var y = Tensor.Empty(new Shape(g.N, g.OH, g.OW, g.Cout), x.Device);
        x.Backend.Conv2dForward(g, x.Storage, w.Storage, b?.Storage, y.Storage);

        Tensor[] inputs = b != null ? [x, w, b] : [x, w];
        return Autograd.Graph.Record(y, "conv2d", inputs, dy =>
        {
            Tensor? dx = null, dw = null, db = null;
            if (x.RequiresGrad)
            {
                dx = Tensor.Empty(x.Shape, x.Device);
                x.Backend.Conv2dBackwardData(g, dy.Storage, w.Storage, dx.Storage);
            }
            if (w.RequiresGrad)
            {
                dw = Autograd.GradTarget.For(w);
                // Both reduce dy over the pixels: one backend call lets a backend do them in one pass.
                if (b is { RequiresGrad: true })
                {
                    db = Autograd.GradTarget.For(b);
                    x.Backend.Conv2dBackwardWeightBias(g, x.Storage, dy.Storage, dw.Storage, db.Storage);
                }
                else x.Backend.Conv2dBackwardWeight(g, x.Storage, dy.Storage, dw.Storage);
            }
            else if (b is { RequiresGrad: true }) db = Sum(dy, [0, 1, 2]);
            return b != null ? [dx, dw, db] : [dx, dw];
        });
    }

    /// <summary>Checks the arguments of a convolution and returns its geometry.</summary>
    private static Conv2dGeometry ConvGeometry(Tensor x, Tensor w, Tensor? b, int strideH, int strideW, int padH, int padW)
    {
        const string op = "Conv2d";
        if (b != null) SameDevice(op, x, w, b);
        else SameDevice(op, x, w);
        if (x.Rank != 4) throw new ArgumentException($"{op}: input {x.Shape} must be NHWC [N, H, W, Cin]");
        if (w.Rank != 4) throw new ArgumentException($"{op}: weight {w.Shape} must be [Cout, KH, KW, Cin]");
        if (w.Shape[3] != x.Shape[3])
            throw new ArgumentException($"{op}: input {x.Shape} has {x.Shape[3]} channels but weight {w.Shape} expects Cin = {w.Shape[3]}");
        if (b != null && (b.Rank != 1 || b.Shape[0] != w.Shape[0]))
            throw new ArgumentException($"{op}: bias {b.Shape} must be [{w.Shape[0]}] to match weight {w.Shape}");
        if (strideH < 1 || strideW < 1)
            throw new ArgumentException($"{op}: stride ({strideH}, {strideW}) must be ≥ 1");
        if (padH < 0 || padW < 0)
            throw new ArgumentException($"{op}: padding ({padH}, {padW}) must be ≥ 0");
        var g = new Conv2dGeometry(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], w.Shape[0], w.Shape[1], w.Shape[2],
            strideH, strideW, padH, padW);
        if (g.H + 2 * padH < g.KH || g.W + 2 * padW < g.KW)
            throw new ArgumentException($"{op}: kernel {g.KH}×{g.KW} of weight {w.Shape} is larger than input {x.Shape} padded by ({padH}, {padW})");
        return g;
    }
}
