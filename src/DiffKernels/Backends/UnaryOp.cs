namespace DiffKernels.Backends;

/// <summary>Elementwise unary operations; some take scalar parameters α, β.</summary>
public enum UnaryOp
{
    /// <summary>−x</summary>
    Neg,
    /// <summary>eˣ</summary>
    Exp,
    /// <summary>ln x</summary>
    Log,
    /// <summary>√x</summary>
    Sqrt,
    /// <summary>1/√x</summary>
    Rsqrt,
    /// <summary>|x|</summary>
    Abs,
    /// <summary>x²</summary>
    Square,
    /// <summary>max(x, 0)</summary>
    Relu,
    /// <summary>x for x &gt; 0, else α·x</summary>
    LeakyRelu,
    /// <summary>x·σ(x)</summary>
    Silu,
    /// <summary>x·Φ(x) (exact, erf-based)</summary>
    Gelu,
    /// <summary>1/(1 + e⁻ˣ)</summary>
    Sigmoid,
    /// <summary>tanh x</summary>
    Tanh,
    /// <summary>ln(1 + eˣ), computed stably</summary>
    Softplus,
    /// <summary>x + α</summary>
    AddScalar,
    /// <summary>α·x</summary>
    MulScalar,
    /// <summary>x^α</summary>
    PowScalar,
    /// <summary>min(max(x, α), β)</summary>
    Clamp,
}
