using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training.Sadm;

/// <summary>
/// SADM's structural distance between two aligned batches of unit feature vectors h^R, h^F [B, d] (sample i of one
/// batch belongs with sample i of the other): affinities A_ij = ⟨h_i, h_j⟩ for i ≠ j, row distributions
/// P_i = softmax_{j≠i}(A_ij/τ), and S = (1/B)·Σ_i KL(P^R_i ‖ P^F_i), or the mean squared difference of the
/// off-diagonal affinities. Composed of recorded ops, so gradients reach both batches' features.
/// </summary>
public static class StructuralDistance
{
    // Added to the diagonal logits: exp underflows to exactly 0 in float32, yet the log-probabilities stay finite, so
    // the KL's diagonal terms are 0·finite = 0 and carry no gradient.
    private const float Excluded = -1e4f;

    /// <summary>Rows of <paramref name="h"/> [B, d] scaled to unit length (ε keeps a zero row finite).</summary>
    public static Tensor Normalise(Tensor h, float eps = 1e-12f)
    {
        if (h.Rank != 2) throw new ArgumentException($"StructuralDistance: features must be [B, d], got {h.Shape}");
        return F.Mul(h, F.Rsqrt(F.AddScalar(F.Sum(F.Square(h), [1], keepDim: true), eps)));
    }

    /// <summary>The affinity matrix A = h·hᵀ [B, B] of features <paramref name="h"/> [B, d].</summary>
    public static Tensor Affinities(Tensor h) => F.Matmul(h, h, false, true);

    /// <summary>log P_ij = log softmax_{j≠i}(A_ij/τ) [B, B] (the diagonal is excluded: P_ii = 0).</summary>
    public static Tensor RowLogDistributions(Tensor affinities, double temperature)
    {
        int b = affinities.Shape[0];
        return F.LogSoftmax(F.Add(F.MulScalar(affinities, (float)(1 / temperature)), Diagonal(b, Excluded, 0f, affinities.Device)), 1);
    }

    /// <summary>
    /// S between real features <paramref name="real"/> and predicted features <paramref name="fake"/>, both [B, d] with
    /// B ≥ <see cref="SadmOptions.MinBatch"/>: a scalar, 0 for identical batches, unchanged by one permutation of both.
    /// </summary>
    public static Tensor Compute(Tensor real, Tensor fake, SadmDistance distance, double temperature)
    {
        if (real.Rank != 2 || real.Shape != fake.Shape)
            throw new ArgumentException($"StructuralDistance: features must be two [B, d] batches of one shape, got {real.Shape} and {fake.Shape}");
        int b = real.Shape[0];
        if (b < SadmOptions.MinBatch) throw new ArgumentException($"StructuralDistance: batch {b} must be ≥ {SadmOptions.MinBatch}");
        var ar = Affinities(real);
        var af = Affinities(fake);
        if (distance == SadmDistance.Squared)
        {
            var offDiagonal = Diagonal(b, 0f, 1f, real.Device);
            return F.MulScalar(F.Sum(F.Mul(F.Square(F.Sub(ar, af)), offDiagonal)), 1f / (b * (b - 1)));
        }
        var logR = RowLogDistributions(ar, temperature);
        var logF = RowLogDistributions(af, temperature);
        return F.MulScalar(F.Sum(F.Mul(F.Exp(logR), F.Sub(logR, logF))), 1f / b);
    }

    /// <summary>A constant [B, B] with <paramref name="onDiagonal"/> on the diagonal and <paramref name="elsewhere"/> off it.</summary>
    private static Tensor Diagonal(int b, float onDiagonal, float elsewhere, Device device)
    {
        var values = new float[b * b];
        Array.Fill(values, elsewhere);
        for (int i = 0; i < b; i++) values[i * b + i] = onDiagonal;
        return Tensor.FromSpan(values, new Shape(b, b), device);
    }
}
