using DiffKernels.Tensors;

namespace DiffKernels.Ops;

public static partial class F
{
    /// <summary>Nearest-neighbour ×2 upsampling of NHWC x [N, H, W, C] → [N, 2H, 2W, C].</summary>
    public static Tensor Upsample2x(Tensor x)
    {
        if (x.Rank != 4) throw new ArgumentException($"Upsample2x: input {x.Shape} must be NHWC [N, H, W, C]");
        int n = x.Shape[0], h = x.Shape[1], w = x.Shape[2], c = x.Shape[3];
        var y = Tensor.Empty(new Shape(n, 2 * h, 2 * w, c), x.Device);
        x.Backend.Upsample2x(x.Storage, y.Storage, n, h, w, c);
        return Autograd.Graph.Record(y, "upsample2x", [x], dy =>
        {
            var dx = Tensor.Empty(x.Shape, x.Device);
            x.Backend.Upsample2xBackward(dy.Storage, dx.Storage, n, h, w, c);
            return [dx];
        });
    }

    /// <summary>2×2 average pooling with stride 2 of NHWC x [N, H, W, C] (H and W even) → [N, H/2, W/2, C].</summary>
    public static Tensor AvgPool2x(Tensor x)
    {
        if (x.Rank != 4) throw new ArgumentException($"AvgPool2x: input {x.Shape} must be NHWC [N, H, W, C]");
        int n = x.Shape[0], h = x.Shape[1], w = x.Shape[2], c = x.Shape[3];
        if (h % 2 != 0 || w % 2 != 0)
            throw new ArgumentException($"AvgPool2x: input {x.Shape} needs even height and width (got H = {h}, W = {w})");
        var y = Tensor.Empty(new Shape(n, h / 2, w / 2, c), x.Device);
        x.Backend.AvgPool2x(x.Storage, y.Storage, n, h, w, c);
        return Autograd.Graph.Record(y, "avgpool2x", [x], dy =>
        {
            var dx = Tensor.Empty(x.Shape, x.Device);
            x.Backend.AvgPool2xBackward(dy.Storage, dx.Storage, n, h, w, c);
            return [dx];
        });
    }
}
