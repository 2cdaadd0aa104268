namespace DiffKernels.Backends;

/// <summary>Elementwise binary operations (with broadcasting through strides).</summary>
public enum BinaryOp
{
    /// <summary>a + b</summary>
    Add,
    /// <summary>a − b</summary>
    Sub,
    /// <summary>a · b</summary>
    Mul,
    /// <summary>a / b</summary>
    Div,
    /// <summary>a ^ b</summary>
    Pow,
    /// <summary>max(a, b)</summary>
    Maximum,
    /// <summary>min(a, b)</summary>
    Minimum,
    /// <summary>1 where a == b, else 0</summary>
    Equal,
    /// <summary>1 where a &gt; b, else 0</summary>
    Greater,
}

/// <summary>Reductions over the middle axis of an (outer, reduce, inner) view.</summary>
public enum ReduceOp
{
    /// <summary>Sum.</summary>
    Sum,
    /// <summary>Maximum.</summary>
    Max,
    /// <summary>Minimum.</summary>
    Min,
}
