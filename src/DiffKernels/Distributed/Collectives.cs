using DiffKernels.Backends;
using DiffKernels.Optim;
using DiffKernels.Tensors;

namespace DiffKernels.Distributed;

/// <summary>What data-parallel training builds from a group's primitives: gradient and value means, and a replica check.</summary>
public static class Collectives
{
    /// <summary>
    /// Replaces the gradient of each of <paramref name="parameters"/> by its mean over the ranks, in one reduction of
    /// all of them (the group buckets them). A parameter without a gradient on this rank takes zeros first, since
    /// every rank must hand the same list to the reduction (another rank may have one).
    /// </summary>
    public static void AverageGradients(this IProcessGroup group, IReadOnlyList<Tensor> parameters)
    {
        if (group.WorldSize == 1) return;
        var grads = new Tensor[parameters.Count];
        for (int i = 0; i < grads.Length; i++)
        {
            var p = parameters[i];
            p.Grad ??= Tensor.Zeros(p.Shape, p.Device);
            grads[i] = p.Grad;
        }
        group.AllReduceSum(grads);
        float scale = 1f / group.WorldSize;
        foreach (var g in grads) g.Backend.Unary(UnaryOp.MulScalar, g.Storage, g.Storage, g.Numel, scale, 0);
    }

    /// <summary>
    /// The same for the parameters of <paramref name="arena"/>, as one reduction of its whole gradient buffer and one
    /// scaling of it (the gaps between slots are zero on every rank and stay so): per element the values the list
    /// version gives. Every rank must hold the same arena layout and take this path alike.
    /// </summary>
    public static void AverageGradients(this IProcessGroup group, ParameterArena arena)
    {
        if (group.WorldSize == 1) return;
        arena.ZeroMissingGradients();
        using var all = arena.GradientView();
        group.AllReduceSum([all]);
        all.Backend.Unary(UnaryOp.MulScalar, all.Storage, all.Storage, all.Numel, 1f / group.WorldSize, 0);
    }

    /// <summary>The mean of <paramref name="value"/> over the ranks (NaN when any rank's is NaN, so all ranks decide alike).</summary>
    public static double Average(this IProcessGroup group, double value)
    {
        if (group.WorldSize == 1) return value;
        Span<float> v = [(float)value];
        group.AllReduceSum(v);
        return v[0] / group.WorldSize;
    }

    /// <summary>Copies rank 0's <paramref name="tensors"/> to every rank (the start of a run: one set of weights for all).</summary>
    public static void Replicate(this IProcessGroup group, IReadOnlyList<Tensor> tensors)
    {
        if (group.WorldSize > 1) group.Broadcast(tensors, 0);
    }

    /// <summary>
    /// Throws when <paramref name="tensors"/> differ between this rank and rank 0 (a checksum of all their elements,
    /// compared bit for bit, then agreed by every rank); <paramref name="when"/> says where the run stood.
    /// </summary>
    public static void CheckReplicas(this IProcessGroup group, IReadOnlyList<Tensor> tensors, string when)
    {
        if (group.WorldSize == 1) return;
        double sum = Checksum(tensors);
        // The double travels as two floats (a high part and the rest), so the comparison is exact in practice.
        float hi = (float)sum, lo = (float)(sum - hi);
        Span<float> root = [hi, lo];
        group.Broadcast(root, 0);
        Span<float> differ = [root[0] == hi && root[1] == lo ? 0f : 1f];
        group.AllReduceSum(differ);
        if (differ[0] > 0)
            throw new InvalidOperationException($"{when}: the weights of {differ[0]} of {group.WorldSize} ranks differ from rank 0's (checksum {sum:R} here, {(double)root[0] + root[1]:R} on rank 0)");
    }

    /// <summary>A position-weighted sum of every element, so that swapped or shifted values change it too.</summary>
    public static double Checksum(IReadOnlyList<Tensor> tensors)
    {
        double sum = 0;
        for (int t = 0; t < tensors.Count; t++)
        {
            var values = tensors[t].ToArray();
            for (int i = 0; i < values.Length; i++) sum += values[i] * (1 + ((i + 7 * t) % 13) * 0.01);
        }
        return sum;
    }
}
