namespace DiffKernels.Tensors;

public sealed partial class Tensor
{
    /// <summary>An uninitialised tensor (kernels that overwrite every element use this).</summary>
    public static Tensor Empty(Shape shape, Device? device = null)
    {
        device ??= Device.Default;
        return new Tensor(shape, device.Backend.Allocate(shape.Numel), device);
    }

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(Shape shape, float value, Device? device = null)
    {
        var t = Empty(shape, device);
        t.Backend.Fill(t.Storage, 0, t.Numel, value);
        return t;
    }

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(Shape shape, Device? device = null) => Full(shape, 0f, device);

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(Shape shape, Device? device = null) => Full(shape, 1f, device);

    /// <summary>A zero tensor with the shape and device of <paramref name="like"/>.</summary>
    public static Tensor ZerosLike(Tensor like) => Zeros(like.Shape, like.Device);

    /// <summary>A rank-0 tensor.</summary>
    public static Tensor Scalar(float value, Device? device = null) => Full(new Shape(), value, device);

    /// <summary>Copies host values into a new tensor of the given shape.</summary>
    public static Tensor FromSpan(ReadOnlySpan<float> values, Shape shape, Device? device = null)
    {
        if (values.Length != shape.Numel)
            throw new ArgumentException($"FromSpan: {values.Length} values do not fill shape {shape} ({shape.Numel} elements)");
        var t = Empty(shape, device);
        t.Backend.Upload(values, t.Storage, 0);
        return t;
    }

    /// <summary>Copies host values into a new tensor; without a shape it is 1-D.</summary>
    public static Tensor FromArray(float[] values, params int[] shape) =>
        FromSpan(values, shape.Length == 0 ? new Shape(values.Length) : new Shape(shape));

    /// <summary>Copies host values (converted to float32) into a new tensor.</summary>
    public static Tensor FromArray(double[] values, params int[] shape) =>
        FromArray(Array.ConvertAll(values, v => (float)v), shape);

    /// <summary>[start, start + step, ...) up to <paramref name="end"/> (exclusive), 1-D.</summary>
    public static Tensor Arange(float start, float end, float step = 1f, Device? device = null)
    {
        if (step == 0 || (end - start) / step < 0)
            throw new ArgumentException($"Arange: empty or infinite range start={start} end={end} step={step}");
        int n = (int)Math.Ceiling((end - start) / (double)step);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = start + i * step;
        return FromSpan(v, new Shape(n), device);
    }

    /// <summary>[0, 1, ..., n−1], 1-D.</summary>
    public static Tensor Arange(int n, Device? device = null) => Arange(0, n, 1, device);
}
