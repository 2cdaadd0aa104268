using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Nn;

/// <summary>The nonlinearity a layer feeds, for <see cref="Init.Gain"/>.</summary>
public enum Nonlinearity
{
    /// <summary>Identity (gain 1).</summary>
    Linear,
    /// <summary>Logistic sigmoid (gain 1).</summary>
    Sigmoid,
    /// <summary>tanh (gain 5/3).</summary>
    Tanh,
    /// <summary>max(x, 0) (gain √2).</summary>
    Relu,
    /// <summary>Leaky ReLU with a negative slope a (gain √(2/(1 + a²))).</summary>
    LeakyRelu,
    /// <summary>x·σ(x) (gain 1/√E[silu(z)²] for z ~ N(0, 1), ≈ 1.6765).</summary>
    Silu,
}

/// <summary>Which fan Kaiming initialisation preserves the variance of.</summary>
public enum FanMode
{
    /// <summary>Forward activations (the default).</summary>
    FanIn,
    /// <summary>Backward gradients.</summary>
    FanOut,
}

/// <summary>
/// In-place weight initialisers drawing from a <see cref="Generator"/>; when none is passed they use
/// <see cref="DefaultGenerator"/>, which <see cref="ManualSeed"/> resets, so building the same model
/// after the same seed yields the same weights. Weights are [out, ..., in] (Linear [out, in], Conv2d
/// [Cout, KH, KW, Cin]): fan-in is the product of all but the first dimension, fan-out the first
/// times the kernel positions.
/// </summary>
public static class Init
{
    /// <summary>
    /// SiLU's gain by the rule that also gives ReLU √2 and the identity 1: 1/√E[f(z)²] with
    /// z ~ N(0, 1); E[silu(z)²] = 0.355776 (numerical quadrature).
    /// </summary>
    private const double SiluGain = 1.6765325;

    /// <summary>The generator layers draw from when none is given (seed 0 until <see cref="ManualSeed"/>).</summary>
    public static Generator DefaultGenerator { get; private set; } = new(0);

    /// <summary>Restarts <see cref="DefaultGenerator"/> at <paramref name="seed"/>.</summary>
    public static void ManualSeed(ulong seed) => DefaultGenerator = new Generator(seed);

    /// <summary>Fan-in and fan-out of a weight of shape [out, k₁, ..., in] (rank ≥ 2).</summary>
    public static (long FanIn, long FanOut) Fans(Shape weight)
    {
        if (weight.Rank < 2)
            throw new ArgumentException($"Init: fan-in and fan-out need a weight of rank ≥ 2 ([out, ..., in]), got {weight}");
        long receptive = weight.Prod(1, weight.Rank - 1);
        return (weight.Prod(1, weight.Rank), weight[0] * receptive);
    }

    /// <summary>The recommended gain for weights feeding <paramref name="nonlinearity"/>.</summary>
    public static float Gain(Nonlinearity nonlinearity, float negativeSlope = 0.01f) => nonlinearity switch
    {
        Nonlinearity.Linear or Nonlinearity.Sigmoid => 1f,
        Nonlinearity.Tanh => 5f / 3f,
        Nonlinearity.Relu => MathF.Sqrt(2f),
        Nonlinearity.LeakyRelu => MathF.Sqrt(2f / (1f + negativeSlope * negativeSlope)),
        Nonlinearity.Silu => (float)SiluGain,
        _ => throw new ArgumentOutOfRangeException(nameof(nonlinearity)),
    };

    /// <summary>Fills with U(<paramref name="low"/>, <paramref name="high"/>).</summary>
    public static void Uniform(Tensor t, float low, float high, Generator? gen = null)
    {
        using var draw = (gen ?? DefaultGenerator).Uniform(t.Shape, t.Device, low, high);
        Parameter.CopyInto(t, draw);
    }

    /// <summary>Fills with N(<paramref name="mean"/>, <paramref name="std"/>²).</summary>
    public static void Normal(Tensor t, float mean, float std, Generator? gen = null)
    {
        using var draw = (gen ?? DefaultGenerator).Normal(t.Shape, t.Device, mean, std);
        Parameter.CopyInto(t, draw);
    }

    /// <summary>
    /// Kaiming (He) uniform: U(−b, b) with b = gain·√(3/fan). PyTorch's layer default is
    /// <see cref="Nonlinearity.LeakyRelu"/> with slope √5, i.e. b = 1/√fan_in.
    /// </summary>
    public static void KaimingUniform(Tensor t, Nonlinearity nonlinearity = Nonlinearity.Relu, float negativeSlope = 0f, FanMode mode = FanMode.FanIn, Generator? gen = null)
    {
        float bound = Gain(nonlinearity, negativeSlope) * MathF.Sqrt(3f / Fan(t, mode, "KaimingUniform"));
        Uniform(t, -bound, bound, gen);
    }

    /// <summary>Kaiming (He) normal: N(0, σ²) with σ = gain/√fan.</summary>
    public static void KaimingNormal(Tensor t, Nonlinearity nonlinearity = Nonlinearity.Relu, float negativeSlope = 0f, FanMode mode = FanMode.FanIn, Generator? gen = null) =>
        Normal(t, 0f, Gain(nonlinearity, negativeSlope) / MathF.Sqrt(Fan(t, mode, "KaimingNormal")), gen);

    /// <summary>Xavier (Glorot) uniform: U(−b, b) with b = gain·√(6/(fan_in + fan_out)).</summary>
    public static void XavierUniform(Tensor t, float gain = 1f, Generator? gen = null)
    {
        float bound = gain * MathF.Sqrt(6f / FanSum(t, "XavierUniform"));
        Uniform(t, -bound, bound, gen);
    }

    /// <summary>Xavier (Glorot) normal: N(0, σ²) with σ = gain·√(2/(fan_in + fan_out)).</summary>
    public static void XavierNormal(Tensor t, float gain = 1f, Generator? gen = null) =>
        Normal(t, 0f, gain * MathF.Sqrt(2f / FanSum(t, "XavierNormal")), gen);

    /// <summary>Fills with <paramref name="value"/>.</summary>
    public static void Constant(Tensor t, float value) => t.Backend.Fill(t.Storage, 0, t.Numel, value);

    /// <summary>Fills with zeros.</summary>
    public static void Zeros(Tensor t) => Constant(t, 0f);

    /// <summary>Fills with ones.</summary>
    public static void Ones(Tensor t) => Constant(t, 1f);

    private static long Fan(Tensor t, FanMode mode, string op)
    {
        var (fanIn, fanOut) = Fans(t.Shape);
        long fan = mode == FanMode.FanIn ? fanIn : fanOut;
        if (fan == 0) throw new ArgumentException($"{op}: weight {t.Shape} has zero {mode}");
        return fan;
    }

    private static long FanSum(Tensor t, string op)
    {
        var (fanIn, fanOut) = Fans(t.Shape);
        if (fanIn + fanOut == 0) throw new ArgumentException($"{op}: weight {t.Shape} has no elements");
        return fanIn + fanOut;
    }
}
