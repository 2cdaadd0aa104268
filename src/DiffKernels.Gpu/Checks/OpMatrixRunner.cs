using System.Diagnostics;
using DiffKernels.Tensors;

namespace DiffKernels.Gpu.Checks;

/// <summary>Runs op cases on a device under test and on a reference device and compares their outputs.</summary>
public static class OpMatrixRunner
{
    /// <summary>Runs <paramref name="c"/> on <paramref name="device"/> and on <paramref name="reference"/> (default: the CPU).</summary>
    public static OpResult Run(OpCase c, Device device, Device? reference = null)
    {
        float[][] expected;
        try
        {
            expected = Evaluate(c, reference ?? Device.Cpu);
        }
        catch (Exception e)
        {
            return new OpResult(c.Name, c.Family, double.NaN, c.Tolerance, $"reference run failed: {e.GetType().Name}: {e.Message}", TimeSpan.Zero);
        }
        var sw = Stopwatch.StartNew();
        float[][] actual;
        try
        {
            actual = Evaluate(c, device);
        }
        catch (Exception e)
        {
            return new OpResult(c.Name, c.Family, double.NaN, c.Tolerance, $"{e.GetType().Name}: {e.Message}", sw.Elapsed);
        }
        sw.Stop();
        if (actual.Length != expected.Length)
            return new OpResult(c.Name, c.Family, double.NaN, c.Tolerance, $"{actual.Length} outputs, expected {expected.Length}", sw.Elapsed);
        double worst = 0;
        int worstAt = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            if (actual[i].Length != expected[i].Length)
                return new OpResult(c.Name, c.Family, double.NaN, c.Tolerance, $"output {i} has {actual[i].Length} elements, expected {expected[i].Length}", sw.Elapsed);
            double e = NormalisedError(actual[i], expected[i]);
            if (e > worst || double.IsNaN(e))
            {
                worst = e;
                worstAt = i;
            }
        }
        return new OpResult(c.Name, c.Family, worst, c.Tolerance, null, sw.Elapsed) { WorstOutput = worstAt };
    }

    /// <summary>
    /// Σ(a − r)² / max(Σ r², n·10⁻⁴), the normalised mean squared error (√ of it is the relative RMS
    /// error). The floor (an RMS of 10⁻²) keeps outputs that are zero in exact arithmetic — e.g. the
    /// query gradient of attention over a single key — from turning one backend's rounding noise
    /// into a relative error of 1. Non-finite values must match exactly (NaN with NaN, each infinity
    /// with itself), otherwise the error is infinite.
    /// </summary>
    public static double NormalisedError(float[] actual, float[] reference)
    {
        double num = 0, den = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            float a = actual[i], r = reference[i];
            if (!float.IsFinite(a) || !float.IsFinite(r))
            {
                if (a.Equals(r)) continue;
                return double.PositiveInfinity;
            }
            double d = (double)a - r;
            num += d * d;
            den += (double)r * r;
        }
        return num / Math.Max(den, actual.Length * 1e-4);
    }

    private static float[][] Evaluate(OpCase c, Device device)
    {
        using var scope = Tensor.Scope();
        var outputs = c.Run(new OpInputs(device, c.Name));
        return outputs.Select(t => t.ToArray()).ToArray();
    }
}
