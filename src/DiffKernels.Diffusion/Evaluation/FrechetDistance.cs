using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace DiffKernels.Diffusion.Evaluation;

/// <summary>Mean and covariance of a set of feature vectors, in double precision.</summary>
public sealed class FeatureStatistics
{
    /// <summary>Wraps a mean [d] and a symmetric covariance [d, d] (taken as given) of <paramref name="count"/> vectors.</summary>
    public FeatureStatistics(Vector<double> mean, Matrix<double> covariance, int count)
    {
        if (covariance.RowCount != mean.Count || covariance.ColumnCount != mean.Count)
            throw new ArgumentException($"FeatureStatistics: covariance {covariance.RowCount}×{covariance.ColumnCount} does not match mean of length {mean.Count}");
        Mean = mean;
        Covariance = covariance;
        Count = count;
    }

    /// <summary>Feature mean.</summary>
    public Vector<double> Mean { get; }

    /// <summary>Feature covariance (unbiased, divided by count − 1).</summary>
    public Matrix<double> Covariance { get; }

    /// <summary>Number of vectors the statistics come from.</summary>
    public int Count { get; }

    /// <summary>Feature dimension.</summary>
    public int Dim => Mean.Count;

    /// <summary>Statistics of <paramref name="count"/> row-major vectors of length <paramref name="dim"/> (at least two).</summary>
    public static FeatureStatistics From(ReadOnlySpan<float> features, int count, int dim)
    {
        if (dim < 1 || count < 2 || features.Length != (long)count * dim)
            throw new ArgumentException($"FeatureStatistics: need ≥ 2 vectors of positive length with {count}×{dim} values, got count {count}, dim {dim}, {features.Length} values");
        var mean = new double[dim];
        for (int i = 0; i < count; i++)
            for (int j = 0; j < dim; j++) mean[j] += features[i * dim + j];
        for (int j = 0; j < dim; j++) mean[j] /= count;

        // Centre first: the one-pass Σx² − n·μ² form loses every digit when |μ| ≫ σ.
        var centred = Matrix<double>.Build.Dense(count, dim);
        for (int i = 0; i < count; i++)
            for (int j = 0; j < dim; j++) centred[i, j] = features[i * dim + j] - mean[j];
        var cov = centred.TransposeThisAndMultiply(centred).Divide(count - 1);
        return new FeatureStatistics(Vector<double>.Build.DenseOfArray(mean), cov, count);
    }
}

/// <summary>
/// Fréchet distance between Gaussians fitted to two feature sets:
/// ‖μ₁ − μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2·Tr (Σ₁Σ₂)^½.
/// </summary>
/// <remarks>
/// Σ₁Σ₂ is not symmetric, so its square root is not taken directly. With A = Σ₁^½ (symmetric, from
/// the eigendecomposition of Σ₁), AΣ₂A is symmetric positive semi-definite and similar to Σ₁Σ₂, so
/// Tr (Σ₁Σ₂)^½ = Σᵢ √λᵢ(AΣ₂A). Only symmetric eigendecompositions are needed; eigenvalues that rounding
/// pushes below zero are clamped to zero, which keeps singular covariances (fewer samples than
/// dimensions) finite without the diagonal offsets a general matrix square root needs.
/// </remarks>
public static class FrechetDistance
{
    /// <summary>The distance between two sets of statistics of the same dimension.</summary>
    public static double Compute(FeatureStatistics a, FeatureStatistics b)
    {
        if (a.Dim != b.Dim) throw new ArgumentException($"FrechetDistance: feature dimensions differ ({a.Dim} vs {b.Dim})");
        double meanTerm = (a.Mean - b.Mean).L2Norm();
        meanTerm *= meanTerm;
        double fd = meanTerm + a.Covariance.Trace() + b.Covariance.Trace() - 2 * TraceSqrtProduct(a.Covariance, b.Covariance);
        // The exact value is ≥ 0; a tiny negative is rounding.
        return Math.Max(fd, 0);
    }

    /// <summary>The distance between two row-major feature sets of dimension <paramref name="dim"/>.</summary>
    public static double Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int dim) =>
        Compute(FeatureStatistics.From(a, a.Length / dim, dim), FeatureStatistics.From(b, b.Length / dim, dim));

    /// <summary>Tr (Σ₁Σ₂)^½ through the symmetric form described on the class.</summary>
    internal static double TraceSqrtProduct(Matrix<double> s1, Matrix<double> s2)
    {
        var root = SymmetricSqrt(s1);
        var m = root * s2 * root;
        m = (m + m.Transpose()).Divide(2);
        var evd = m.Evd(Symmetricity.Symmetric);
        double t = 0;
        foreach (var l in evd.EigenValues) t += Math.Sqrt(Math.Max(l.Real, 0));
        return t;
    }

    /// <summary>The symmetric positive semi-definite square root of a symmetric matrix (negative eigenvalues clamped).</summary>
    internal static Matrix<double> SymmetricSqrt(Matrix<double> s)
    {
        var sym = (s + s.Transpose()).Divide(2);
        var evd = sym.Evd(Symmetricity.Symmetric);
        var v = evd.EigenVectors;
        var d = Vector<double>.Build.Dense(s.RowCount, i => Math.Sqrt(Math.Max(evd.EigenValues[i].Real, 0)));
        return v * Matrix<double>.Build.DiagonalOfDiagonalVector(d) * v.Transpose();
    }
}
