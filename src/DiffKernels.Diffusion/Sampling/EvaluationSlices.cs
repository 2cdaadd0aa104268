using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Sampling;

/// <summary>
/// Network evaluations at sampling time, cut into slices along the batch, each under its own memory scope. A forward
/// pass holds all of its activations until its scope ends (megabytes per 32×32 image for a U-Net), so evaluating a
/// whole sampling batch at once made `dk sample` at its default batch of 1,024 images peak near 14 GB; slicing bounds
/// the peak by the slice instead, and results do not depend on it (every op the samplers run is per-sample).
/// </summary>
public static class EvaluationSlices
{
    /// <summary>Sample elements (batch × values per sample) evaluated at once: 128 images of 32×32, 65,536 toy points.</summary>
    public static int MaxElements { get; set; } = 1 << 17;

    /// <summary>
    /// <paramref name="eval"/> over <paramref name="x"/> (and its per-row <paramref name="labels"/>) in slices of at most
    /// <see cref="MaxElements"/> elements; the result belongs to the current scope, the slices' intermediates do not.
    /// </summary>
    public static Tensor Evaluate(Tensor x, Tensor? labels, Func<Tensor, Tensor?, Tensor> eval)
    {
        int n = x.Shape[0];
        long perSample = Math.Max(1, x.Numel / Math.Max(1, n));
        int slice = (int)Math.Clamp(MaxElements / perSample, 1, Math.Max(1, n));
        var parts = new List<Tensor>();
        try
        {
            for (int start = 0; start < n; start += slice)
            {
                int len = Math.Min(slice, n - start);
                using (Tensor.Scope())
                {
                    var xs = len == n ? x : F.Narrow(x, 0, start, len);
                    var ls = labels == null || len == n ? labels : F.Narrow(labels, 0, start, len);
                    parts.Add(eval(xs, ls).Keep());
                }
            }
            if (parts.Count == 1)
            {
                var only = parts[0];
                parts.Clear();
                return only;
            }
            return F.Concat(parts, 0);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }
}
