namespace DiffKernels.Backends;

// Fused noise-schedule ops (EDM σ-space, see the algorithm notes): each reads and writes every element
// once, where the unfused chain would make one pass per arithmetic op. Tensors are `batch` samples of
// `perSample` contiguous elements; σ, α and the per-sample outputs are [batch]. Per-sample
// coefficients are evaluated in float from the float σ, in the order written, on every backend.
// The *Uniform ops serve one noise level shared by the whole tensor (a sampler's σ grid): the host
// computes their coefficients in double and passes them rounded to float.
public partial interface IBackend
{
    /// <summary>
    /// EDM training inputs in one pass, with σd = <paramref name="sigmaData"/>, for each sample i:
    /// x = x0 + σᵢ·n; v = σᵢ² + σd², c_in = 1/√v, c_skip = v⁻¹·σd² (the power as MathF.Pow on the CPU),
    /// c_out = (σᵢ·c_in)·σd; <paramref name="netIn"/> = c_in·x; <paramref name="target"/> = (x0 − c_skip·x)/c_out
    /// (the network's regression target: with λ(σ)·c_out² = 1 the EDM-weighted loss is the unit-weight loss
    /// on it); <paramref name="cNoise"/>[i] = ln(σᵢ)/4. σ must be positive.
    /// </summary>
    void EdmTrainingInputs(DeviceBuffer x0, DeviceBuffer noise, DeviceBuffer sigma, DeviceBuffer x, DeviceBuffer netIn,
        DeviceBuffer target, DeviceBuffer cNoise, int batch, long perSample, float sigmaData);

    /// <summary>
    /// The preconditioned denoiser output D = c_skip·x + c_out·F from the raw network output
    /// <paramref name="f"/> (coefficients as in <see cref="EdmTrainingInputs"/>).
    /// </summary>
    void EdmDenoise(DeviceBuffer x, DeviceBuffer f, DeviceBuffer sigma, DeviceBuffer denoised, int batch, long perSample, float sigmaData);

    /// <summary>
    /// D = x·<paramref name="cSkip"/> + F·<paramref name="cOut"/> over <paramref name="n"/> elements, for one noise
    /// level shared by the whole tensor (coefficients from the host).
    /// </summary>
    void EdmDenoiseUniform(DeviceBuffer x, DeviceBuffer f, DeviceBuffer denoised, long n, float cSkip, float cOut);

    /// <summary>
    /// One Euler (= DDIM) step of the probability-flow ODE from σa = <paramref name="sigmaFrom"/> to
    /// σb = <paramref name="sigmaTo"/>: y = D + (σb/σa)·(x − D), D = <paramref name="denoised"/>.
    /// </summary>
    void EulerStep(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer sigmaFrom, DeviceBuffer sigmaTo, DeviceBuffer y,
        int batch, long perSample);

    /// <summary>
    /// The Euler step of <see cref="EulerStep"/> for one noise level shared by the whole tensor:
    /// y = D + (x − D)·<paramref name="ratio"/> over <paramref name="n"/> elements, ratio = σb/σa from the host.
    /// </summary>
    void EulerStepUniform(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer y, long n, float ratio);

    /// <summary>
    /// The second-order (Heun) correction of EDM's sampler: with d = (x − Da)/σa and
    /// d′ = (x′ − Db)/σb, y = x + (σb − σa)·(d + d′)/2, where x′ = <paramref name="xNext"/> is the Euler
    /// prediction and Db = <paramref name="denoisedNext"/> the denoiser at it. Where σb = 0 the
    /// correction is undefined and y = x′.
    /// </summary>
    void HeunStep(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer xNext, DeviceBuffer denoisedNext,
        DeviceBuffer sigmaFrom, DeviceBuffer sigmaTo, DeviceBuffer y, int batch, long perSample);

    /// <summary>
    /// The Heun correction of <see cref="HeunStep"/> for one pair of noise levels shared by the whole tensor, σb &gt; 0,
    /// over <paramref name="n"/> elements: y = x + ((x − Da)·<paramref name="invFrom"/> + (x′ − Db)·<paramref name="invTo"/>)·<paramref name="halfStep"/>,
    /// with 1/σa, 1/σb and (σb − σa)/2 from the host.
    /// </summary>
    void HeunStepUniform(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer xNext, DeviceBuffer denoisedNext, DeviceBuffer y,
        long n, float invFrom, float invTo, float halfStep);

    /// <summary>
    /// A DDIM step in variance-preserving coordinates (x = α·x0 + s·ε): y = α_b·D + (s_b/s_a)·(x − α_a·D),
    /// with α/s per sample; α = 1 is the Euler step. Where s_a = 0, y = α_b·D.
    /// </summary>
    void DdimStep(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer alphaFrom, DeviceBuffer sigmaFrom,
        DeviceBuffer alphaTo, DeviceBuffer sigmaTo, DeviceBuffer y, int batch, long perSample);

    /// <summary>
    /// The distribution-matching pseudo-gradient (Diff-Instruct, DMD2): grad = scale·(μf − μr)/w per
    /// sample, with μr = <paramref name="realDenoised"/> (teacher), μf = <paramref name="fakeDenoised"/>
    /// (auxiliary), and w = mean over the sample of |x_g − μr| + <paramref name="eps"/> when
    /// <paramref name="normalise"/> (DMD2), else w = 1 (Diff-Instruct).
    /// </summary>
    void ScoreDifference(DeviceBuffer xg, DeviceBuffer realDenoised, DeviceBuffer fakeDenoised, DeviceBuffer grad,
        int batch, long perSample, bool normalise, float eps, float scale);

    /// <summary>
    /// BOOT's bootstrapped signal target between grid points σt = <paramref name="sigmaFrom"/> and
    /// σs = <paramref name="sigmaTo"/> &lt; σt: δ = max(1 − σs/σt, <paramref name="minDelta"/>),
    /// target = y + δ·(D − y) with D the teacher's denoiser at y + σt·ε, and <paramref name="weight"/>[i] = 1/δ².
    /// </summary>
    void BootTarget(DeviceBuffer y, DeviceBuffer denoised, DeviceBuffer sigmaFrom, DeviceBuffer sigmaTo, DeviceBuffer target,
        DeviceBuffer weight, int batch, long perSample, float minDelta);

    /// <summary>
    /// Progressive distillation's target: the x0 for which one student Euler step from x_a at σa lands
    /// on the teacher's two-step result x_c at σc: r = σc/σa, target = (x_c − r·x_a)/(1 − r), or x_c
    /// where σc = 0; <paramref name="weight"/>[i] = max(1, 1/σa²).
    /// </summary>
    void PdTarget(DeviceBuffer xFrom, DeviceBuffer xTo, DeviceBuffer sigmaFrom, DeviceBuffer sigmaTo, DeviceBuffer target,
        DeviceBuffer weight, int batch, long perSample);

    /// <summary>
    /// x0 thresholding: y = clamp(x0, −s, s)/s per sample. With <paramref name="quantile"/> ≤ 0, s = 1
    /// (static clipping to [−1, 1]); otherwise dynamic thresholding, s = max(1, q) with q the
    /// <paramref name="quantile"/> of |x0| over the sample, interpolated linearly between order
    /// statistics: position p = quantile·(perSample − 1) (in double), q = v⌊p⌋ + f·(v⌊p⌋₊₁ − v⌊p⌋) in float with
    /// f = (float)(p − ⌊p⌋) (the second term only when f &gt; 0).
    /// </summary>
    void ThresholdX0(DeviceBuffer x0, DeviceBuffer y, int batch, long perSample, float quantile);
}
