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
        for (int i = 0; i < actual.Length; i++)
        {
            if (actual[i].Length != expected[i].Length)
                return new OpResult(c.Name, c.Family, double.NaN, c.Tolerance, $"output {i} has {actual[i].Length} elements, expected {expected[i].Length}", sw.Elapsed);
            worst = Math.Max(worst, NormalisedError(actual[i], expected[i]));
        }
        return new OpResult(c.Name, c.Family, worst, c.Tolerance, null, sw.Elapsed);
    }

    /// <summary>
    /// Σ(a − r)² / Σ r², the normalised mean squared error (√ of it is the relative RMS error); when the
    /// reference is all zeros, the plain Σ(a − r)². Non-finite values must match exactly (NaN with NaN,
    /// each infinity with itself), otherwise the error is infinite.
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
        return den > 0 ? num / den : num;
    }

    private static float[][] Evaluate(OpCase c, Device device)
    {
        using var scope = Tensor.Scope();
        var outputs = c.Run(new OpInputs(device, c.Name));
        return outputs.Select(t => t.ToArray()).ToArray();
    }
}
