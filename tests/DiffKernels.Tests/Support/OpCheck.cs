using DiffKernels.Tensors;

namespace DiffKernels.Tests.Support;

/// <summary>Options for <see cref="OpCheck.Run"/>.</summary>
public sealed class OpCheckOptions
{
    /// <summary>Input value generator per input index (default: uniform in [−1, 1]).</summary>
    public Func<int, System.Random, double>? Sample { get; init; }

    /// <summary>Which inputs get a gradient check (default: all).</summary>
    public bool[]? Differentiable { get; init; }

    /// <summary>Allowed forward error, max|ours − ref| / (max|ref| + 1e-3).</summary>
    public double ForwardTol { get; init; } = 1e-5;

    /// <summary>Allowed gradient error, max|analytic − numeric| / (max|numeric| + 1e-3).</summary>
    public double GradTol { get; init; } = 2e-3;

    /// <summary>Finite-difference step (applied in double).</summary>
    public double Step { get; init; } = 1e-5;

    /// <summary>Expected output shape (checked when set).</summary>
    public Shape? OutputShape { get; init; }

    /// <summary>Seed of the input values.</summary>
    public int Seed { get; init; } = 1234;
}

/// <summary>
/// The op contract check: forward against a plain double-precision reference, and the recorded
/// backward (a vector–Jacobian product with a random dy) against central finite differences of
/// that reference, so gradient errors are not hidden by float32 noise.
/// </summary>
public static class OpCheck
{
    /// <summary>Checks <paramref name="op"/> on random inputs of <paramref name="shapes"/>.</summary>
    public static void Run(string name, Shape[] shapes, Func<Tensor[], Tensor> op, Func<double[][], double[]> reference, OpCheckOptions? options = null)
    {
        var o = options ?? new OpCheckOptions();
        var rng = new System.Random(o.Seed);
        var xd = new double[shapes.Length][];
        for (int i = 0; i < shapes.Length; i++)
        {
            xd[i] = new double[shapes[i].Numel];
            for (int j = 0; j < xd[i].Length; j++)
                xd[i][j] = o.Sample?.Invoke(i, rng) ?? rng.NextDouble() * 2 - 1;
        }
        // The reference sees the float32-rounded inputs the op sees.
        for (int i = 0; i < xd.Length; i++)
            for (int j = 0; j < xd[i].Length; j++) xd[i][j] = (float)xd[i][j];

        using var scope = Tensor.Scope();
        var xs = new Tensor[shapes.Length];
        for (int i = 0; i < shapes.Length; i++)
        {
            xs[i] = Tensor.FromSpan(Array.ConvertAll(xd[i], v => (float)v), shapes[i]);
            xs[i].RequiresGrad = o.Differentiable?[i] ?? true;
        }
        var y = op(xs);
        if (o.OutputShape is { } os) Assert.That(y.Shape, Is.EqualTo(os), $"{name}: output shape");
        var yRef = reference(xd);
        var yOurs = y.ToArray();
        Assert.That(yOurs, Has.Length.EqualTo(yRef.Length), $"{name}: output element count");
        double fwd = NormalisedError(yOurs.Select(v => (double)v).ToArray(), yRef);
        Assert.That(fwd, Is.LessThanOrEqualTo(o.ForwardTol), $"{name}: forward error {fwd:E2}");

        if (!xs.Any(x => x.RequiresGrad)) return;
        var dy = new double[yRef.Length];
        for (int j = 0; j < dy.Length; j++) dy[j] = (float)(rng.NextDouble() * 2 - 1);
        y.Backward(Tensor.FromSpan(Array.ConvertAll(dy, v => (float)v), y.Shape));
        for (int i = 0; i < xs.Length; i++)
        {
            if (!xs[i].RequiresGrad) continue;
            Assert.That(xs[i].Grad, Is.Not.Null, $"{name}: input {i} received no gradient");
            var analytic = xs[i].Grad!.ToArray().Select(v => (double)v).ToArray();
            var numeric = new double[xd[i].Length];
            for (int j = 0; j < numeric.Length; j++)
            {
                double keep = xd[i][j], h = o.Step * Math.Max(1, Math.Abs(keep));
                xd[i][j] = keep + h;
                double plus = Dot(dy, reference(xd));
                xd[i][j] = keep - h;
                double minus = Dot(dy, reference(xd));
                xd[i][j] = keep;
                numeric[j] = (plus - minus) / (2 * h);
            }
            double err = NormalisedError(analytic, numeric);
            Assert.That(err, Is.LessThanOrEqualTo(o.GradTol), $"{name}: gradient of input {i} error {err:E2}");
        }
    }

    /// <summary>max|a − b| / (max|b| + 1e-3).</summary>
    public static double NormalisedError(double[] a, double[] b)
    {
        double diff = 0, scale = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs(a[i] - b[i]);
            if (double.IsNaN(d)) return double.PositiveInfinity;
            diff = Math.Max(diff, d);
            scale = Math.Max(scale, Math.Abs(b[i]));
        }
        return diff / (scale + 1e-3);
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
