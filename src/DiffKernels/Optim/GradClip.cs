using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Optim;

/// <summary>Gradient clipping by the global L2 norm over a set of parameters.</summary>
public static class GradClip
{
    /// <summary>
    /// √(Σ‖grad‖²) over the parameters that have a gradient (0 when none has). Sums of squares are
    /// formed and accumulated on the device; only the final scalar is read back.
    /// </summary>
    public static float GlobalNorm(IEnumerable<Tensor> parameters)
    {
        using var scope = Tensor.Scope();
        using var noGrad = Tensor.NoGrad();
        Tensor? total = null;
        foreach (var p in parameters)
        {
            if (p.Grad is not { } g) continue;
            var sq = F.Sum(F.Square(g));
            total = total == null ? sq : F.Add(total, sq);
        }
        return total == null ? 0f : MathF.Sqrt(total.Item());
    }

    /// <summary>
    /// Scales every gradient by maxNorm/norm when the global norm exceeds <paramref name="maxNorm"/>
    /// and returns the norm before clipping. A non-finite norm (NaN or ∞ in some gradient) is
    /// returned as is and nothing is scaled, so the caller sees it and can skip the step.
    /// </summary>
    public static float ClipGlobalNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), $"ClipGlobalNorm: maxNorm {maxNorm} must be positive");
        var list = parameters as IReadOnlyCollection<Tensor> ?? parameters.ToList();
        float norm = GlobalNorm(list);
        if (!float.IsFinite(norm) || norm <= maxNorm) return norm;
        float scale = maxNorm / norm;
        foreach (var p in list)
            if (p.Grad is { } g)
                g.Backend.Unary(Backends.UnaryOp.MulScalar, g.Storage, g.Storage, g.Numel, scale, 0f);
        return norm;
    }
}
