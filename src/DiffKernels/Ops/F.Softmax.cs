using DiffKernels.Tensors;

namespace DiffKernels.Ops;

public static partial class F
{
    /// <summary>Softmax along <paramref name="axis"/> (default the last); stable for large logits.</summary>
    public static Tensor Softmax(Tensor x, int axis = -1) => SoftmaxCore(x, axis, log: false, "Softmax");

    /// <summary>Log-softmax along <paramref name="axis"/> (default the last): x − log Σ eˣ, computed stably.</summary>
    public static Tensor LogSoftmax(Tensor x, int axis = -1) => SoftmaxCore(x, axis, log: true, "LogSoftmax");

    private static Tensor SoftmaxCore(Tensor x, int axis, bool log, string name)
    {
        int a = x.Shape.Axis(axis, name);
        long outer = x.Shape.Prod(0, a), n = x.Shape[a], inner = x.Shape.Prod(a + 1, x.Rank);
        var y = Tensor.Empty(x.Shape, x.Device);
        // Kernels may assume at least one element per row; an empty tensor has nothing to compute.
        bool empty = x.Numel == 0;
        if (!empty) x.Backend.Softmax(x.Storage, y.Storage, outer, n, inner, log);
        return Autograd.Graph.Record(y, log ? "log_softmax" : "softmax", [x], dy =>
        {
            var dx = Tensor.Empty(x.Shape, x.Device);
            if (!empty) x.Backend.SoftmaxBackward(y.Storage, dy.Storage, dx.Storage, outer, n, inner, log);
            return [dx];
        });
    }
}
