using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Ops;

/// <summary>
/// The fused schedule ops as the chains of generic ops that Edm, the samplers and Diff-Instruct ran before the
/// fusion: the references the fused ops must reproduce bit for bit on the CPU, since committed models' samples
/// and training losses were made with them.
/// </summary>
public static class ScheduleChains
{
    /// <summary>c_skip, c_out, c_in as [N, 1, …] tensors and c_noise [N] from per-sample σ, in float.</summary>
    public static (Tensor CSkip, Tensor COut, Tensor CIn, Tensor CNoise) Coefficients(Tensor sigma, Tensor x, float sd)
    {
        var s = F.Reshape(sigma, BatchShape(x));
        var total = F.AddScalar(F.Square(s), sd * sd);
        var cIn = F.Rsqrt(total);
        return (F.MulScalar(F.Pow(total, -1f), sd * sd), F.MulScalar(F.Mul(s, cIn), sd), cIn, F.MulScalar(F.Log(sigma), 0.25f));
    }

    /// <summary>x = x0 + σ·n, c_in·x, the target (x0 − c_skip·x)/c_out and c_noise.</summary>
    public static (Tensor X, Tensor NetIn, Tensor Target, Tensor CNoise) TrainingInputs(Tensor x0, Tensor noise, Tensor sigma, float sd)
    {
        var (cSkip, cOut, cIn, cNoise) = Coefficients(sigma, x0, sd);
        var x = F.Add(x0, F.Mul(noise, F.Reshape(sigma, BatchShape(x0))));
        return (x, F.Mul(x, cIn), F.Div(F.Sub(x0, F.Mul(x, cSkip)), cOut), cNoise);
    }

    /// <summary>D = x·c_skip + f·c_out with per-sample σ.</summary>
    public static Tensor Denoise(Tensor x, Tensor f, Tensor sigma, float sd)
    {
        var (cSkip, cOut, _, _) = Coefficients(sigma, x, sd);
        return F.Add(F.Mul(x, cSkip), F.Mul(f, cOut));
    }

    /// <summary>D = x·c_skip + f·c_out with one σ, the coefficients in double rounded to float.</summary>
    public static Tensor Denoise(Tensor x, Tensor f, double sigma, double sd)
    {
        double total = sigma * sigma + sd * sd;
        return F.Add(F.MulScalar(x, (float)(sd * sd / total)), F.MulScalar(f, (float)(sigma * sd / Math.Sqrt(total))));
    }

    /// <summary>The Euler step D + (x − D)·σb/σa.</summary>
    public static Tensor Euler(Tensor x, Tensor d, double a, double b) => F.Add(d, F.MulScalar(F.Sub(x, d), (float)(b / a)));

    /// <summary>The Heun correction x + ((x − Da)/σa + (x′ − Db)/σb)·(σb − σa)/2.</summary>
    public static Tensor Heun(Tensor x, Tensor d, Tensor xNext, Tensor dNext, double a, double b)
    {
        var slope = F.MulScalar(F.Sub(x, d), (float)(1 / a));
        var slope2 = F.MulScalar(F.Sub(xNext, dNext), (float)(1 / b));
        return F.Add(x, F.MulScalar(F.Add(slope, slope2), (float)(0.5 * (b - a))));
    }

    private static int[] BatchShape(Tensor x)
    {
        var shape = Enumerable.Repeat(1, x.Rank).ToArray();
        shape[0] = x.Shape[0];
        return shape;
    }
}
