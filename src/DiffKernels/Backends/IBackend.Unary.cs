namespace DiffKernels.Backends;

public partial interface IBackend
{
    /// <summary>y[i] = op(x[i]; α, β) for i &lt; n. y may be x (in place).</summary>
    void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, long n, float alpha, float beta);

    /// <summary>dx[i] = dy[i]·op′(x[i]; α, β) for i &lt; n; <paramref name="y"/> holds op(x) for ops that reuse it.</summary>
    void UnaryBackward(UnaryOp op, DeviceBuffer x, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, long n, float alpha, float beta);
}
