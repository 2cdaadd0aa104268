using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Evaluation;

/// <summary>Improved precision and recall of a generated feature set against a real one.</summary>
/// <param name="Precision">Fraction of generated samples inside the real manifold (fidelity).</param>
/// <param name="Recall">Fraction of real samples inside the generated manifold (coverage, diversity).</param>
public readonly record struct PrecisionRecallResult(double Precision, double Recall);

/// <summary>
/// Precision and recall with k-nearest-neighbour manifolds (Kynkäänniemi et al., 2019): a set's
/// manifold is the union of balls around its points, each with the radius to that point's k-th
/// nearest other point of the same set. Precision is the fraction of generated points inside the real
/// manifold, recall the fraction of real points inside the generated one. Squared distances are
/// computed in float32 blocks with the engine's matrix product: ‖a‖² + ‖b‖² − 2a·b.
/// </summary>
public static class PrecisionRecall
{
    private const int Block = 512;

    /// <summary>
    /// Precision and recall of <paramref name="fake"/> against <paramref name="real"/>, row-major sets of dimension
    /// <paramref name="dim"/>; <paramref name="progress"/> hears (rows of distances done, 2·(real + generated) rows).
    /// </summary>
    public static PrecisionRecallResult Compute(ReadOnlySpan<float> real, ReadOnlySpan<float> fake, int dim, int k = 3, Action<long, long>? progress = null)
    {
        if (dim < 1 || real.Length % dim != 0 || fake.Length % dim != 0)
            throw new ArgumentException($"PrecisionRecall: {real.Length} real and {fake.Length} generated values are not whole vectors of dimension {dim}");
        int nr = real.Length / dim, nf = fake.Length / dim;
        if (k < 1 || nr <= k || nf <= k)
            throw new ArgumentException($"PrecisionRecall: k = {k} needs more than k vectors in each set, got {nr} real and {nf} generated");
        var r = real.ToArray();
        var f = fake.ToArray();
        long done = 0, total = 2L * (nr + nf);
        Action<int>? rows = progress == null ? null : block => progress(done += block, total);
        var realRadii = KthNeighbourRadii(r, dim, k, rows);
        var fakeRadii = KthNeighbourRadii(f, dim, k, rows);
        double precision = Inside(f, r, realRadii, dim, rows);
        return new PrecisionRecallResult(precision, Inside(r, f, fakeRadii, dim, rows));
    }

    /// <summary>Squared distance from each vector to its k-th nearest other vector of the same set; <paramref name="rows"/> hears each block's rows.</summary>
    internal static float[] KthNeighbourRadii(float[] x, int dim, int k, Action<int>? rows = null)
    {
        int n = x.Length / dim;
        var radii = new float[n];
        var best = new float[k];
        ForEachDistanceBlock(x, x, dim, (start, rows, d2) =>
        {
            for (int i = 0; i < rows; i++)
            {
                Array.Fill(best, float.PositiveInfinity);
                int self = start + i;
                var row = d2.AsSpan(i * n, n);
                for (int j = 0; j < n; j++)
                {
                    float v = row[j];
                    if (j == self || v >= best[k - 1]) continue;
                    int p = k - 1;
                    while (p > 0 && best[p - 1] > v) { best[p] = best[p - 1]; p--; }
                    best[p] = v;
                }
                radii[self] = best[k - 1];
            }
        }, rows);
        return radii;
    }

    /// <summary>Fraction of <paramref name="queries"/> within the ball of some reference point (squared radii given); <paramref name="rows"/> hears each block's rows.</summary>
    internal static double Inside(float[] queries, float[] refs, float[] refRadii, int dim, Action<int>? rows = null)
    {
        int m = refs.Length / dim, inside = 0;
        ForEachDistanceBlock(queries, refs, dim, (_, rows, d2) =>
        {
            for (int i = 0; i < rows; i++)
            {
                var row = d2.AsSpan(i * m, m);
                for (int j = 0; j < m; j++)
                    if (row[j] <= refRadii[j]) { inside++; break; }
            }
        }, rows);
        return (double)inside / (queries.Length / dim);
    }

    /// <summary>
    /// Calls <paramref name="body"/>(first row, rows, squared distances [rows, |b|]) for row blocks of <paramref name="a"/>,
    /// then <paramref name="done"/>(rows).
    /// </summary>
    private static void ForEachDistanceBlock(float[] a, float[] b, int dim, Action<int, int, float[]> body, Action<int>? done)
    {
        int na = a.Length / dim, nb = b.Length / dim;
        var normsB = RowNorms(b, dim);
        var normsA = RowNorms(a, dim);
        using var noGrad = Tensor.NoGrad();
        using var outer = Tensor.Scope();
        var bt = Tensor.FromSpan(b, new Shape(nb, dim));
        for (int start = 0; start < na; start += Block)
        {
            using var scope = Tensor.Scope();
            int rows = Math.Min(Block, na - start);
            var q = Tensor.FromSpan(a.AsSpan(start * dim, rows * dim), new Shape(rows, dim));
            var d2 = F.Matmul(q, bt, false, true).ToArray();
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < nb; j++)
                    d2[i * nb + j] = Math.Max(normsA[start + i] + normsB[j] - 2 * d2[i * nb + j], 0f);
            body(start, rows, d2);
            done?.Invoke(rows);
        }
    }

    private static float[] RowNorms(float[] x, int dim)
    {
        var r = new float[x.Length / dim];
        for (int i = 0; i < r.Length; i++)
            r[i] = System.Numerics.Tensors.TensorPrimitives.Dot<float>(x.AsSpan(i * dim, dim), x.AsSpan(i * dim, dim));
        return r;
    }
}
