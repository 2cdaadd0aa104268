using System.Globalization;
using DiffKernels.Diffusion.Distillation.Boot;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using DiffKernels.Nn;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Sampling;

/// <summary>
/// A trained model read from its checkpoint, drawing samples the way <c>dk sample</c> does: a teacher with the
/// sampler its checkpoint records (else Heun, 18 levels from σ_max 80), a distilled student on the levels it
/// records (a progressive student with Euler steps, a DMD2 student denoising and re-noising with fresh noise, a one-step
/// student in one Euler step), a BOOT student or a GAN generator in one evaluation. Disposing it releases the weights.
/// <para>
/// Bad input throws <see cref="InvalidInputException"/> whose message starts with the file or the argument at fault: a
/// missing, truncated or malformed file, a checkpoint of a model that draws no samples, weights that do not fit the
/// architecture it records or hold NaN, a count below 1, a class out of range, an option the model kind has no use
/// for, and samples that come out NaN or infinite. Sampling methods may be called from several threads at once; on a
/// CPU device they run concurrently, on an accelerator one at a time.
/// </para>
/// </summary>
public sealed class PretrainedModel : IDisposable
{
    private readonly LoadedModel _loaded;
    private readonly IGenerator? _generator;
    private readonly INoiseNet? _net;
    private readonly Edm? _edm;
    private readonly Device? _device;
    // An accelerator's stream is not shared between threads; the CPU backend is.
    private readonly object? _deviceLock;
    private bool _disposed;

    private PretrainedModel(LoadedModel loaded, string path, Device? device)
    {
        _loaded = loaded;
        _device = device;
        _deviceLock = (device ?? Device.Default) == Device.Cpu ? null : new object();
        FilePath = path;
        switch (GeneratorOf(loaded, path) ?? (object)loaded.Model)
        {
            case IGenerator g:
                _generator = g;
                (RawSampleShape, NumClasses) = (g.SampleShape, g.NumClasses);
                // A generator has no sampler to choose: whatever its metadata says, one evaluation is how it draws.
                DefaultOptions = new SamplerOptions(Kind: SamplerKind.Generator, Steps: 1);
                break;
            case INoiseNet net:
                _net = net;
                try
                {
                    _edm = Edm.FromMetadata(loaded.Metadata);
                }
                catch (ArgumentException e)
                {
                    throw new SafeTensorsFormatException(path, e.Message, e);
                }
                (RawSampleShape, NumClasses) = (net.SampleShape, net.NumClasses);
                DefaultOptions = SamplerDefaults.Of(loaded.Metadata).ApplyTo(new SamplerOptions());
                break;
            default:
                throw new SafeTensorsFormatException(path, $"not a denoiser or generator checkpoint (it holds a '{loaded.Kind}' model, which draws no samples)");
        }
        Crop = CropOf(loaded.Metadata, RawSampleShape, path);
        SampleShape = RawSampleShape.Rank == 3
            ? new Shape(RawSampleShape[2], RawSampleShape[0] - 2 * Crop, RawSampleShape[1] - 2 * Crop)
            : RawSampleShape;
        loaded.Model.Eval();
        CheckFinite(loaded.Model, path);
    }

    /// <summary>
    /// Reads the checkpoint at <paramref name="path"/> (a denoiser or a generator network written by this library; a
    /// release or a training checkpoint, whose EMA weights sample alike) onto <paramref name="device"/> (null: the
    /// default device). A missing, unreadable, truncated or malformed file, one holding a model that draws no samples
    /// (a classifier, a discriminator), weights missing, extra or mis-shaped for the architecture the file records, or
    /// weights that are not finite throw an <see cref="InvalidInputException"/> (a <see cref="SafeTensorsFormatException"/>
    /// for a malformed file) naming the file and the problem.
    /// </summary>
    public static PretrainedModel Load(string path, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        LoadedModel loaded;
        try
        {
            CheckpointKind.RequireModel(path, "sampling", ModelRole.Teacher, ModelRole.Student, ModelRole.GanGenerator);
            loaded = ModelFactory.Load(path, device);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidInputException(path, "no such file", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException(path, $"cannot be read: {e.Message}", e);
        }
        try
        {
            return new PretrainedModel(loaded, path, device);
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The model a checkpoint holding <paramref name="loaded"/>'s network and metadata would load as (e.g. a running
    /// training's EMA network, not written to a file): the same sampler, crop and checks as <see cref="Load"/>, with
    /// <paramref name="label"/> naming it where messages name a file. It owns <paramref name="loaded"/>, which is
    /// released when it is disposed or when this throws.
    /// </summary>
    public static PretrainedModel FromMemory(LoadedModel loaded, string label, Device? device = null)
    {
        try
        {
            return new PretrainedModel(loaded, label, device);
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    /// <summary>The checkpoint this model was read from, as given to <see cref="Load"/> (or the label of <see cref="FromMemory"/>).</summary>
    public string FilePath { get; }

    /// <summary>The model kind its checkpoint records, e.g. "mlp", "unet" or "gan_generator".</summary>
    public string Kind => _loaded.Kind;

    /// <summary>Every metadata entry of the checkpoint (training data, sampler defaults, training state).</summary>
    public IReadOnlyDictionary<string, string> Metadata => _loaded.Metadata;

    /// <summary>Number of classes the model is conditioned on (0 for unconditional).</summary>
    public int NumClasses { get; }

    /// <summary>True for a generator network (a GAN's): it draws each sample in one evaluation, with no sampler to choose.</summary>
    public bool IsGenerator => _generator != null;

    /// <summary>
    /// True when the label −1 ("no class") is accepted: a conditional denoiser (a teacher or a distilled student) has
    /// an unconditional branch, the one classifier-free guidance uses; a generator network has none.
    /// </summary>
    public bool HasUnconditionalBranch => _net != null && NumClasses > 0;

    /// <summary>
    /// The BOOT student this checkpoint holds, or null: beyond one-step samples it gives the whole predicted trajectory,
    /// x(σ) = y(σ) + σ·ε at any σ of its range (<see cref="BootStudent.Trajectory"/>). Its weights belong to this model.
    /// </summary>
    public BootStudent? Boot => _generator as BootStudent;

    /// <summary>
    /// Shape of one sample as <see cref="Generate"/> returns it: [C, H, W] for images, with the padding the
    /// model was trained on cropped off (e.g. [1, 28, 28] for Fashion-MNIST), [2] for 2D points.
    /// </summary>
    public Shape SampleShape { get; }

    /// <summary>Shape of one sample in the tensor <see cref="Sample"/> returns: [H, W, C] for images, padding included.</summary>
    public Shape RawSampleShape { get; }

    /// <summary>Pixels of padding per side that exported images drop (0 when the checkpoint records none).</summary>
    public int Crop { get; }

    /// <summary>
    /// The sampler used when none is given: the one the checkpoint records (levels and σ_max too), else Heun with
    /// 18 levels from σ_max = 80; for a generator, <see cref="SamplerKind.Generator"/> with one step.
    /// </summary>
    public SamplerOptions DefaultOptions { get; }

    /// <summary>
    /// Sampler settings for this model: each value given here, else <see cref="DefaultOptions"/> (the sampler, levels and
    /// σ_max its checkpoint records, else Heun with 18 levels from σ_max = 80), with the seed, batch size and x0
    /// thresholding <paramref name="threshold"/> (<see cref="X0Threshold"/>; null: none, whatever the checkpoint records:
    /// pass <c>DefaultOptions.Threshold</c> to keep its own). A student's recorded σ levels hold unless other levels or
    /// σ_max are given, which mean a Karras grid. Levels below 1, a σ_max that is not finite and above σ_min, a
    /// batch below 1, and on a generator network any sampler, levels, σ_max or threshold (it has none of them) throw an
    /// <see cref="InvalidInputException"/> naming the argument.
    /// </summary>
    public SamplerOptions Options(SamplerKind? kind = null, int? steps = null, double? sigmaMax = null, ulong seed = 0, int batchSize = 1024, float? threshold = null)
    {
        if (IsGenerator)
        {
            string? ignored = kind is { } k && k != SamplerKind.Generator ? nameof(kind)
                : steps is { } st && st != 1 ? nameof(steps)
                : sigmaMax != null ? nameof(sigmaMax)
                : threshold != null ? nameof(threshold)
                : null;
            if (ignored != null)
                throw new InvalidInputException(ignored, $"this {Kind} model draws samples in one evaluation; it has no sampler, noise levels or thresholding to set");
        }
        var recorded = DefaultOptions;
        var options = recorded with
        {
            Kind = kind ?? recorded.Kind,
            Steps = steps ?? recorded.Steps,
            SigmaMax = sigmaMax ?? recorded.SigmaMax,
            // The recorded levels fit only their own count and range.
            Sigmas = steps == null && sigmaMax == null ? recorded.Sigmas : null,
            Threshold = threshold,
            Seed = seed,
            BatchSize = batchSize,
        };
        if (options.Steps < 1) throw new InvalidInputException(nameof(steps), $"steps {options.Steps} must be ≥ 1");
        if (!(options.SigmaMax > options.SigmaMin) || !double.IsFinite(options.SigmaMax))
            throw new InvalidInputException(nameof(sigmaMax), string.Create(CultureInfo.InvariantCulture, $"σ_max {options.SigmaMax} must be finite and above σ_min = {options.SigmaMin}"));
        if (batchSize < 1) throw new InvalidInputException(nameof(batchSize), $"batch size {batchSize} must be ≥ 1");
        return options;
    }

    /// <summary>Network evaluations per sample with <see cref="DefaultOptions"/>.</summary>
    public int DefaultNfe => DefaultOptions.Nfe;

    /// <summary>
    /// Draws <paramref name="n"/> samples from noise (or latents) of Generator(<paramref name="seed"/>), which
    /// replaces <paramref name="options"/>' own seed; the same seed gives the same samples whatever the batch
    /// size. <paramref name="labels"/> are class ids, one per sample, −1 for "no class" where
    /// <see cref="HasUnconditionalBranch"/> (null: balanced labels i mod classes on a conditional model).
    /// <paramref name="options"/> null means <see cref="DefaultOptions"/>; a generator accepts only its own sampler (one
    /// <see cref="SamplerKind.Generator"/> step, no guidance; its batch size applies). Returns the raw samples
    /// [n, …<see cref="RawSampleShape"/>] (NHWC images, padding included), owned by the tensor scope current at the
    /// call. Guidance on an unconditional model (which would ignore it) and samples that come out NaN or infinite throw
    /// an <see cref="InvalidInputException"/>, naming the options or the file. With <paramref name="part"/> the n samples
    /// are that part of a larger draw (<see cref="SamplePart"/>; <paramref name="labels"/> then are the part's).
    /// </summary>
    public SampleResult Sample(int n, ulong seed = 0, float[]? labels = null, SamplerOptions? options = null, SamplePart? part = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckCount(n);
        if (labels != null)
        {
            CheckConditional(nameof(labels));
            if (labels.Length != n) throw new InvalidInputException(nameof(labels), $"{labels.Length} labels for {n} samples");
            foreach (float label in labels) CheckClass(label, nameof(labels));
        }
        var o = (options ?? DefaultOptions) with { Seed = seed };
        if (o.BatchSize < 1) throw new InvalidInputException(nameof(options), $"batch size {o.BatchSize} must be ≥ 1");
        if (_generator != null && (o.Kind != SamplerKind.Generator || o.Steps != 1 || o.Guidance != 1))
            throw new InvalidInputException(nameof(options), $"this {Kind} model draws samples in one evaluation, without guidance; a sampler, its steps and guidance apply to denoisers only");
        if (o.Guidance != 1 && NumClasses == 0)
            throw new InvalidInputException(nameof(options), string.Create(CultureInfo.InvariantCulture, $"guidance {o.Guidance} needs a conditional model; this {Kind} model is unconditional"));
        if (_deviceLock == null) return Checked(Draw(n, labels, o, part), o);
        lock (_deviceLock) return Checked(Draw(n, labels, o, part), o);
    }

    /// <summary>
    /// Draws the <paramref name="n"/> samples of <see cref="Sample"/> (every one of class <paramref name="classLabel"/> when
    /// given; with <paramref name="classes"/>, balanced labels over that range of classes, First + i mod its size) a part
    /// of about <paramref name="partSize"/> at a time, so memory stays bounded whatever n is: each part's
    /// result and the index of its first sample go to <paramref name="consume"/>, inside a tensor scope that ends after
    /// the call. The values are those of one call with the same seed and options. Returns the NFE per sample and the
    /// seconds spent sampling.
    /// </summary>
    public (int Nfe, double Seconds) SampleInParts(long n, ulong seed, int? classLabel, SamplerOptions? options, int partSize, Action<SampleResult, long> consume,
        (int First, int Last)? classes = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (n < 1) throw new InvalidInputException(nameof(n), $"sample count {n} must be ≥ 1");
        if (classLabel is { } c)
        {
            CheckConditional(nameof(classLabel));
            CheckClass(c, nameof(classLabel));
        }
        if (classes is var (first, last))
        {
            if (classLabel != null) throw new InvalidInputException(nameof(classes), "a class range and one class for every sample exclude each other");
            CheckConditional(nameof(classes));
            if (first < 0 || first > last) throw new InvalidInputException(nameof(classes), $"{first}-{last} is not a class range FIRST-LAST with 0 ≤ FIRST ≤ LAST");
            CheckClass(last, nameof(classes));
        }
        int align = SamplePart.Alignment(_generator?.LatentShape.Numel is { } latent ? latent : RawSampleShape.Numel);
        int size = Math.Max(align, Math.Max(1, partSize) / align * align);
        int nfe = 0;
        double seconds = 0;
        for (long start = 0; start < n; start += size)
        {
            int count = (int)Math.Min(size, n - start);
            using var scope = Tensor.Scope();
            var part = new SamplePart(start, n);
            var labels = classLabel is { } label ? Enumerable.Repeat((float)label, count).ToArray()
                : classes is var (from, to) ? SamplePart.BalancedLabels(part, count, to - from + 1, from)
                : null;
            var result = Sample(count, seed, labels, options, part);
            (nfe, seconds) = (result.Nfe, seconds + result.Seconds);
            consume(result, start);
        }
        return (nfe, seconds);
    }

    private SampleResult Draw(int n, float[]? labels, SamplerOptions o, SamplePart? part)
    {
        if (_generator != null) return GeneratorSampler.Generate(_generator, n, o.Seed, o.BatchSize, labels, _device, part);
        try
        {
            return DiffusionSampler.Generate(_net!, _edm!, n, o, labels, _device, part);
        }
        catch (ArgumentException e)
        {
            throw new InvalidInputException("options", e.Message, e);
        }
    }

    /// <summary>The result, unless a sample is NaN or infinite: that is reported, never returned.</summary>
    private SampleResult Checked(SampleResult result, SamplerOptions o)
    {
        float[] values = result.Samples.ToArray();
        int per = values.Length / Math.Max(result.Samples.Shape[0], 1), bad = 0;
        for (int i = 0; i < values.Length; i += per)
            if (HasNonFinite(values.AsSpan(i, per))) bad++;
        if (bad > 0)
            throw new InvalidInputException(FilePath, string.Create(CultureInfo.InvariantCulture,
                $"{bad} of {result.Samples.Shape[0]} samples came out NaN or infinite ({(IsGenerator ? "one generator evaluation" : $"{o.Kind.ToString().ToLowerInvariant()}, {o.Steps} levels, σ_max {o.SigmaMax}")}); the weights or the sampler settings diverge"));
        return result;
    }

    private static bool HasNonFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
            if (!float.IsFinite(v)) return true;
        return false;
    }

    /// <summary>
    /// Draws <paramref name="n"/> samples with <see cref="DefaultOptions"/> and returns their values on the host
    /// as <c>dk sample --npy</c> writes them: n × <see cref="SampleShape"/> in row-major order (images N×C×H×W,
    /// cropped; 2D points N×2). Image values are clipped to the data range, −1 black to 1 white (a denoiser's
    /// last step may overshoot it by a little). Every sample is of class
    /// <paramref name="classLabel"/> when given (−1: no class, where <see cref="HasUnconditionalBranch"/>), else classes
    /// are balanced on a conditional model. Safe to call from several threads at once; bad arguments and samples that
    /// come out NaN or infinite throw an <see cref="InvalidInputException"/> naming the argument or the file.
    /// </summary>
    public float[] Generate(int n, ulong seed = 0, int? classLabel = null)
    {
        CheckCount(n);
        float[]? labels = null;
        if (classLabel is { } c)
        {
            CheckConditional(nameof(classLabel));
            CheckClass(c, nameof(classLabel));
            labels = Enumerable.Repeat((float)c, n).ToArray();
        }
        using var scope = Tensor.Scope();
        return SampleExport.ForNpy(Sample(n, seed, labels).Samples, Crop).Data;
    }

    /// <summary>Releases the weights.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _loaded.Dispose();
    }

    private static void CheckCount(int n)
    {
        if (n < 1) throw new InvalidInputException(nameof(n), $"sample count {n} must be ≥ 1");
    }

    private void CheckConditional(string argument)
    {
        if (NumClasses == 0) throw new InvalidInputException(argument, $"this {Kind} model is unconditional; it takes no class");
    }

    private void CheckClass(float c, string argument)
    {
        if (c == -1 && HasUnconditionalBranch) return;
        if (!(c >= 0 && c < NumClasses && c == MathF.Floor(c)))
            throw new InvalidInputException(argument, string.Create(CultureInfo.InvariantCulture,
                $"{c} is not a class of this model ({NumClasses} classes{(HasUnconditionalBranch ? ", or −1 for none" : "")})"));
    }

    private static void CheckFinite(Module model, string path)
    {
        using var scope = Tensor.Scope();
        foreach (var (name, p) in model.NamedParameters())
            if (HasNonFinite(p.ToArray()))
                throw new InvalidInputException(path, $"tensor '{name}' holds NaN or infinite values");
    }

    /// <summary>The network as a generator: a generator module itself, or a denoiser network saved as a BOOT student (one evaluation, x0 = y(σmin)).</summary>
    private static IGenerator? GeneratorOf(LoadedModel loaded, string path)
    {
        if (loaded.Model is IGenerator g) return g;
        try
        {
            return BootStudent.FromMetadata(loaded.Model, loaded.Metadata);
        }
        catch (ArgumentException e)
        {
            throw new SafeTensorsFormatException(path, e.Message, e);
        }
    }

    private static int CropOf(IReadOnlyDictionary<string, string> metadata, Shape raw, string path)
    {
        if (!metadata.TryGetValue(CheckpointKeys.Crop, out var v)) return 0;
        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int crop))
            throw new SafeTensorsFormatException(path, $"metadata '{CheckpointKeys.Crop}' = '{v}' is not an integer");
        bool fits = crop == 0 || (raw.Rank == 3 && crop > 0 && 2 * crop < raw[0] && 2 * crop < raw[1]);
        if (!fits) throw new SafeTensorsFormatException(path, $"metadata '{CheckpointKeys.Crop}' = {crop} does not fit samples of shape {raw}");
        return crop;
    }
}
