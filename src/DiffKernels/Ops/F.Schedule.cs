using DiffKernels.Autograd;
using DiffKernels.Tensors;

namespace DiffKernels.Ops;

// The fused noise-schedule ops (IBackend.Schedule). Tensors are [N, …] batches; σ is [N]. Only the denoiser
// output carries gradients (to the network output and to x); the other ops make inputs, targets and sampler
// steps, which no gradient flows through, so they refuse inputs that would need one rather than drop it.
public static partial class F
{
    /// <summary>
    /// EDM training inputs in one pass for clean data <paramref name="x0"/>, unit <paramref name="noise"/> and
    /// per-sample <paramref name="sigma"/> [N]: X = x0 + σ·n, NetIn = c_in·X, Target = (x0 − c_skip·X)/c_out and
    /// CNoise = ln(σ)/4 [N] (see <see cref="Backends.IBackend.EdmTrainingInputs"/>). Records no graph.
    /// </summary>
    public static (Tensor X, Tensor NetIn, Tensor Target, Tensor CNoise) EdmTrainingInputs(Tensor x0, Tensor noise, Tensor sigma, float sigmaData)
    {
        const string op = "EdmTrainingInputs";
        CheckSchedule(op, x0, sigma, noise);
        NoGradient(op, x0, noise, sigma);
        var (batch, perSample) = Samples(x0);
        Tensor x = Tensor.Empty(x0.Shape, x0.Device), netIn = Tensor.Empty(x0.Shape, x0.Device), target = Tensor.Empty(x0.Shape, x0.Device);
        var cNoise = Tensor.Empty([batch], x0.Device);
        x0.Backend.EdmTrainingInputs(x0.Storage, noise.Storage, sigma.Storage, x.Storage, netIn.Storage, target.Storage, cNoise.Storage,
            batch, perSample, sigmaData);
        return (x, netIn, target, cNoise);
    }

    /// <summary>
    /// The EDM denoiser output D = c_skip(σ)·x + c_out(σ)·f with per-sample <paramref name="sigma"/> [N], in one
    /// pass; gradients flow to <paramref name="x"/> and <paramref name="f"/> (σ is a constant).
    /// </summary>
    public static Tensor EdmDenoise(Tensor x, Tensor f, Tensor sigma, float sigmaData)
    {
        const string op = "EdmDenoise";
        CheckSchedule(op, x, sigma, f);
        NoGradient(op, sigma);
        var (batch, perSample) = Samples(x);
        var d = Tensor.Empty(x.Shape, x.Device);
        x.Backend.EdmDenoise(x.Storage, f.Storage, sigma.Storage, d.Storage, batch, perSample, sigmaData);
        return Graph.Record(d, "edm_denoise", [x, f], dy =>
        {
            var (cSkip, cOut) = EdmOutputScales(sigma, sigmaData, x.Rank);
            return [x.RequiresGrad ? Mul(dy, cSkip) : null, f.RequiresGrad ? Mul(dy, cOut) : null];
        });
    }

    /// <summary>
    /// The EDM denoiser output D = x·<paramref name="cSkip"/> + f·<paramref name="cOut"/> for one noise level shared by
    /// the batch (coefficients the caller computed), in one pass; gradients flow to <paramref name="x"/> and <paramref name="f"/>.
    /// </summary>
    public static Tensor EdmDenoise(Tensor x, Tensor f, float cSkip, float cOut)
    {
        SameDevice("EdmDenoise", x, f);
        if (f.Shape != x.Shape) throw new ArgumentException($"EdmDenoise: network output {f.Shape} must match x {x.Shape}");
        var d = Tensor.Empty(x.Shape, x.Device);
        x.Backend.EdmDenoiseUniform(x.Storage, f.Storage, d.Storage, x.Numel, cSkip, cOut);
        return Graph.Record(d, "edm_denoise", [x, f], dy =>
            [x.RequiresGrad ? MulScalar(dy, cSkip) : null, f.RequiresGrad ? MulScalar(dy, cOut) : null]);
    }

    /// <summary>
    /// One Euler step of the probability-flow ODE for a noise level shared by the batch:
    /// D + (x − D)·<paramref name="ratio"/>, ratio = σ_next/σ. Records no graph.
    /// </summary>
    public static Tensor EulerStep(Tensor x, Tensor denoised, float ratio)
    {
        const string op = "EulerStep";
        SameShape(op, x, denoised);
        NoGradient(op, x, denoised);
        var y = Tensor.Empty(x.Shape, x.Device);
        x.Backend.EulerStepUniform(x.Storage, denoised.Storage, y.Storage, x.Numel, ratio);
        return y;
    }

    /// <summary>
    /// One Euler step of the probability-flow ODE with per-sample levels σa = <paramref name="sigmaFrom"/> and
    /// σb = <paramref name="sigmaTo"/> [N]: D + (σb/σa)·(x − D) (see <see cref="Backends.IBackend.EulerStep"/>). Records no graph.
    /// </summary>
    public static Tensor EulerStep(Tensor x, Tensor denoised, Tensor sigmaFrom, Tensor sigmaTo)
    {
        const string op = "EulerStep";
        CheckSchedule(op, x, sigmaFrom, denoised);
        CheckSchedule(op, x, sigmaTo, denoised);
        NoGradient(op, x, denoised, sigmaFrom, sigmaTo);
        var (batch, perSample) = Samples(x);
        var y = Tensor.Empty(x.Shape, x.Device);
        x.Backend.EulerStep(x.Storage, denoised.Storage, sigmaFrom.Storage, sigmaTo.Storage, y.Storage, batch, perSample);
        return y;
    }

    /// <summary>
    /// The Heun correction for noise levels σa → σb &gt; 0 shared by the batch, from x at σa, its denoiser output
    /// <paramref name="denoised"/>, the Euler prediction <paramref name="xNext"/> and the denoiser there:
    /// x + ((x − Da)·<paramref name="invFrom"/> + (x′ − Db)·<paramref name="invTo"/>)·<paramref name="halfStep"/>,
    /// with 1/σa, 1/σb and (σb − σa)/2. Records no graph.
    /// </summary>
    public static Tensor HeunStep(Tensor x, Tensor denoised, Tensor xNext, Tensor denoisedNext, float invFrom, float invTo, float halfStep)
    {
        const string op = "HeunStep";
        SameShape(op, x, denoised, xNext, denoisedNext);
        NoGradient(op, x, denoised, xNext, denoisedNext);
        var y = Tensor.Empty(x.Shape, x.Device);
        x.Backend.HeunStepUniform(x.Storage, denoised.Storage, xNext.Storage, denoisedNext.Storage, y.Storage, x.Numel, invFrom, invTo, halfStep);
        return y;
    }

    /// <summary>
    /// The distribution-matching pseudo-gradient per sample, <paramref name="scale"/>·(fake − real)/w, with w the mean
    /// |x_g − real| + <paramref name="eps"/> over the sample when <paramref name="normalise"/> (DMD2), else 1 (Diff-Instruct);
    /// see <see cref="Backends.IBackend.ScoreDifference"/>. Records no graph.
    /// </summary>
    public static Tensor ScoreDifference(Tensor xg, Tensor realDenoised, Tensor fakeDenoised, bool normalise = false, float eps = 0f, float scale = 1f)
    {
        const string op = "ScoreDifference";
        SameShape(op, xg, realDenoised, fakeDenoised);
        NoGradient(op, xg, realDenoised, fakeDenoised);
        var (batch, perSample) = Samples(xg);
        var g = Tensor.Empty(xg.Shape, xg.Device);
        xg.Backend.ScoreDifference(xg.Storage, realDenoised.Storage, fakeDenoised.Storage, g.Storage, batch, perSample, normalise, eps, scale);
        return g;
    }

    /// <summary>
    /// Progressive distillation's regression target and weight: the x0 for which one student Euler step from
    /// <paramref name="xFrom"/> at σa = <paramref name="sigmaFrom"/> lands on the teacher's two-step result
    /// <paramref name="xTo"/> at σc = <paramref name="sigmaTo"/> [N], (x_c − r·x_a)/(1 − r) with r = σc/σa (x_c where
    /// σc = 0), and the per-sample weight max(1, 1/σa²) [N] (see <see cref="Backends.IBackend.PdTarget"/>). σc must lie
    /// below σa. Records no graph.
    /// </summary>
    public static (Tensor Target, Tensor Weight) PdTarget(Tensor xFrom, Tensor xTo, Tensor sigmaFrom, Tensor sigmaTo)
    {
        const string op = "PdTarget";
        CheckSchedule(op, xFrom, sigmaFrom, xTo);
        CheckSchedule(op, xFrom, sigmaTo, xTo);
        NoGradient(op, xFrom, xTo, sigmaFrom, sigmaTo);
        var (batch, perSample) = Samples(xFrom);
        var target = Tensor.Empty(xFrom.Shape, xFrom.Device);
        var weight = Tensor.Empty([batch], xFrom.Device);
        xFrom.Backend.PdTarget(xFrom.Storage, xTo.Storage, sigmaFrom.Storage, sigmaTo.Storage, target.Storage, weight.Storage, batch, perSample);
        return (target, weight);
    }

    /// <summary>
    /// x0 thresholding (reflected diffusion) per sample: y = clamp(x0, −s, s)/s, with s = 1 (static clipping to
    /// [−1, 1]) when <paramref name="quantile"/> is 0, else s = max(1, the <paramref name="quantile"/> of |x0| over the
    /// sample) (dynamic thresholding; see <see cref="Backends.IBackend.ThresholdX0"/>). The quantile lies in [0, 1].
    /// Records no graph: it thresholds x0 estimates in sampler steps and in targets, which no gradient flows through.
    /// </summary>
    public static Tensor ThresholdX0(Tensor x0, float quantile = 0f)
    {
        const string op = "ThresholdX0";
        if (!(quantile >= 0 && quantile <= 1)) throw new ArgumentOutOfRangeException(nameof(quantile), $"{op}: quantile {quantile} must lie in [0, 1] (0: static clipping)");
        NoGradient(op, x0);
        var (batch, perSample) = Samples(x0);
        var y = Tensor.Empty(x0.Shape, x0.Device);
        x0.Backend.ThresholdX0(x0.Storage, y.Storage, batch, perSample, quantile);
        return y;
    }

    /// <summary>
    /// BOOT's bootstrapped signal target between grid points <paramref name="sigmaFrom"/> = σt and <paramref name="sigmaTo"/> = σs
    /// (both [N]): δ = max(1 − σs/σt, <paramref name="minDelta"/>), Target = y + δ·(D − y) shaped like <paramref name="y"/>,
    /// Weight = 1/δ² [N] (see <see cref="Backends.IBackend.BootTarget"/>). Records no graph: the target is a stop-gradient value.
    /// </summary>
    public static (Tensor Target, Tensor Weight) BootTarget(Tensor y, Tensor denoised, Tensor sigmaFrom, Tensor sigmaTo, float minDelta)
    {
        const string op = "BootTarget";
        SameShape(op, y, denoised);
        CheckSchedule(op, y, sigmaFrom, denoised);
        CheckSchedule(op, y, sigmaTo, denoised);
        NoGradient(op, y, denoised, sigmaFrom, sigmaTo);
        if (!(minDelta > 0 && minDelta <= 1)) throw new ArgumentOutOfRangeException(nameof(minDelta), $"{op}: minDelta {minDelta} must be in (0, 1]");
        var (batch, perSample) = Samples(y);
        var target = Tensor.Empty(y.Shape, y.Device);
        var weight = Tensor.Empty([batch], y.Device);
        y.Backend.BootTarget(y.Storage, denoised.Storage, sigmaFrom.Storage, sigmaTo.Storage, target.Storage, weight.Storage, batch, perSample, minDelta);
        return (target, weight);
    }

    /// <summary>c_skip(σ) and c_out(σ) as [N, 1, …] tensors of the given rank, for the denoiser's backward.</summary>
    private static (Tensor CSkip, Tensor COut) EdmOutputScales(Tensor sigma, float sigmaData, int rank)
    {
        var shape = Enumerable.Repeat(1, rank).ToArray();
        shape[0] = sigma.Shape[0];
        var s = Reshape(sigma, shape);
        var total = AddScalar(Square(s), sigmaData * sigmaData);
        return (MulScalar(Pow(total, -1f), sigmaData * sigmaData), MulScalar(Mul(s, Rsqrt(total)), sigmaData));
    }

    private static (int Batch, long PerSample) Samples(Tensor x)
    {
        int batch = x.Rank == 0 ? 0 : x.Shape[0];
        return (batch, batch == 0 ? 0 : x.Numel / batch);
    }

    private static void CheckSchedule(string op, Tensor x, Tensor sigma, Tensor other)
    {
        SameShape(op, x, other);
        SameDevice(op, x, sigma);
        if (x.Rank == 0 || sigma.Shape != new Shape(x.Shape[0]))
            throw new ArgumentException($"{op}: sigma must be [N] for a batch of N samples {x.Shape}, got {sigma.Shape}");
    }

    private static void SameShape(string op, Tensor x, params Tensor[] others)
    {
        foreach (var t in others)
        {
            SameDevice(op, x, t);
            if (t.Shape != x.Shape) throw new ArgumentException($"{op}: shapes {x.Shape} and {t.Shape} must match");
        }
    }

    private static void NoGradient(string op, params Tensor[] inputs)
    {
        if (Graph.Needs(inputs))
            throw new InvalidOperationException($"{op}: no gradient flows through this input; call it under NoGrad or on detached tensors");
    }
}
