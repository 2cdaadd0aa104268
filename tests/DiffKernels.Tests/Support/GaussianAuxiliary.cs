using DiffKernels.Diffusion.Models;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Support;

/// <summary>
/// A trainable auxiliary denoiser that is exact for N(m, diag e^(2·ls)) data: parameters "mean" and "log_std", and
/// F built from recorded ops as (D − c_skip·x)/c_out with D = m + v/(v + σ²)·(x − m), σ = exp(4·c_noise) and
/// x = x_in·√(σ² + σd²). Fitting it with the EDM loss moves (m, ls) towards the samples' mean and log-spread.
/// </summary>
internal sealed class GaussianAuxiliary : Module, INoiseNet
{
    private readonly Tensor _mean;
    private readonly Tensor _logStd;
    private readonly float _sigmaData;

    public GaussianAuxiliary(double[] mean, double[] std, double sigmaData = 0.5)
    {
        _mean = RegisterParameter("mean", Tensor.FromSpan(mean.Select(v => (float)v).ToArray(), [mean.Length]));
        _logStd = RegisterParameter("log_std", Tensor.FromSpan(std.Select(v => (float)Math.Log(v)).ToArray(), [std.Length]));
        _sigmaData = (float)sigmaData;
    }

    public int NumClasses => 0;

    public Shape SampleShape => [_mean.Shape[0]];

    public Tensor Forward(Tensor x, Tensor cNoise, Tensor? labels)
    {
        int n = x.Shape[0];
        var sigma = F.Reshape(F.Exp(F.MulScalar(cNoise, 4f)), n, 1);
        var s2 = F.Square(sigma);
        var total = F.AddScalar(s2, _sigmaData * _sigmaData);
        var xs = F.Mul(x, F.Sqrt(total));
        var v = F.Exp(F.MulScalar(_logStd, 2f));
        var d = F.Add(_mean, F.Mul(F.Div(v, F.Add(v, s2)), F.Sub(xs, _mean)));
        var cSkip = F.MulScalar(F.Pow(total, -1f), _sigmaData * _sigmaData);
        var cOut = F.MulScalar(F.Mul(sigma, F.Rsqrt(total)), _sigmaData);
        return F.Div(F.Sub(d, F.Mul(xs, cSkip)), cOut);
    }
}
