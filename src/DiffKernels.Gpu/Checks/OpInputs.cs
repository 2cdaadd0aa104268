using DiffKernels.Tensors;

namespace DiffKernels.Gpu.Checks;

/// <summary>
/// Deterministic inputs for one run of an <see cref="OpCase"/> on one device: the same case draws the
/// same host values on every device, so outputs are comparable element by element.
/// </summary>
public sealed class OpInputs
{
    private readonly System.Random _rng;
    private readonly Func<float[], Shape, Tensor> _place;

    /// <summary>
    /// Creates the input source for <paramref name="device"/>, seeded from the case name. <paramref name="place"/> makes
    /// each input tensor from its host values (default: a tensor of its own on <paramref name="device"/>); the sub-buffer
    /// tests pass one that puts every input inside a larger buffer, so each kernel reads slices.
    /// </summary>
    public OpInputs(Device device, string caseName, Func<float[], Shape, Tensor>? place = null)
    {
        Device = device;
        _rng = new System.Random(StableSeed(caseName));
        _place = place ?? ((v, shape) => Tensor.FromSpan(v, shape, device));
    }

    /// <summary>The device the inputs are created on.</summary>
    public Device Device { get; }

    /// <summary>A tensor of values uniform in [<paramref name="low"/>, <paramref name="high"/>), requiring grad when asked.</summary>
    public Tensor Uniform(Shape shape, float low = -1f, float high = 1f, bool grad = false)
    {
        var v = new float[shape.Numel];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(low + (high - low) * _rng.NextDouble());
        return _place(v, shape).RequireGrad(grad);
    }

    /// <summary>Fixed host values as a 1-D tensor on <see cref="Device"/>.</summary>
    public Tensor Values(params float[] values) => _place(values, new Shape(values.Length));

    /// <summary>A uniform [−1, 1) input that requires grad.</summary>
    public Tensor Param(params int[] shape) => Uniform(new Shape(shape), grad: true);

    /// <summary>Small whole numbers in [−<paramref name="range"/>, <paramref name="range"/>] (ties for comparisons and max).</summary>
    public Tensor Integers(Shape shape, int range, bool grad = false)
    {
        var v = new float[shape.Numel];
        for (int i = 0; i < v.Length; i++) v[i] = _rng.Next(-range, range + 1);
        return _place(v, shape).RequireGrad(grad);
    }

    /// <summary>
    /// Runs the backward of <paramref name="y"/> with a random output gradient and returns y followed
    /// by the gradients of <paramref name="inputs"/>.
    /// </summary>
    public IReadOnlyList<Tensor> WithGrads(Tensor y, params Tensor[] inputs)
    {
        y.Backward(Uniform(y.Shape));
        var outputs = new List<Tensor> { y };
        foreach (var x in inputs)
            outputs.Add(x.Grad ?? throw new InvalidOperationException($"input {x.Shape} received no gradient"));
        return outputs;
    }

    private static int StableSeed(string s)
    {
        // FNV-1a: string.GetHashCode differs between processes, and the CLI and the tests must agree.
        uint h = 2166136261;
        foreach (char ch in s) h = (h ^ ch) * 16777619;
        return (int)(h & 0x7fffffff);
    }
}
