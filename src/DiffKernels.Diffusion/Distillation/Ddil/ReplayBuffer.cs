using System.Globalization;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Training;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Ddil;

/// <summary>
/// DDIL's student-rollout source: <see cref="DdilOptions.BufferSize"/> rollouts of the student (no graph), each
/// keeping its x0 estimate at every level but the last, held on the host and rolled out again with the current
/// student once <see cref="DdilOptions.RefreshEvery"/> iterations have passed (or when the student's levels change,
/// as at a progressive-distillation round). A draw at step k picks a stored rollout and re-noises its estimate at
/// σ_k−1 to σ_k with FRESH noise (step 0: pure noise at σ_1), so cached rollouts never repeat an input. It is part
/// of the run's state, so a resume continues with the same buffer.
/// </summary>
public sealed class ReplayBuffer : IStatePart
{
    private readonly DdilOptions _options;
    private readonly Shape _sampleShape;
    private readonly int _classes;
    private float[][] _estimates = [];
    private float[]? _labels;
    private string _levels = "";

    /// <summary>An empty buffer of samples shaped <paramref name="sampleShape"/> with <paramref name="classes"/> classes (0: unconditional).</summary>
    public ReplayBuffer(DdilOptions options, Shape sampleShape, int classes)
    {
        _options = options;
        _sampleShape = sampleShape;
        _classes = classes;
    }

    /// <summary>The iteration the buffer was last rolled out at (−1: never).</summary>
    public long FilledAt { get; private set; } = -1;

    /// <summary>Rollouts held.</summary>
    public int Count => _options.BufferSize;

    /// <summary>True when iteration <paramref name="step"/> must roll the buffer out again for a student at <paramref name="levels"/>.</summary>
    public bool NeedsRefresh(long step, IReadOnlyList<double> levels) =>
        FilledAt < 0 || step - FilledAt >= _options.RefreshEvery || _levels != SamplerDefaults.FormatSigmas(levels);

    /// <summary>Rolls out <see cref="Count"/> fresh latents (and uniform class ids) of <paramref name="student"/> from <paramref name="rng"/> at iteration <paramref name="step"/>.</summary>
    public void Refresh(IDdilBase student, long step, Generator rng, Device device)
    {
        using var scope = Tensor.Scope();
        int n = Count;
        var levels = student.StudentLevels;
        var z = rng.Normal([n, .. _sampleShape], device);
        Tensor? labels = null;
        if (_classes > 0)
        {
            var u = rng.Uniform([n], Device.Cpu).ToArray();
            labels = Tensor.FromSpan(u.Select(v => (float)Math.Min((int)(v * _classes), _classes - 1)).ToArray(), [n], device);
        }
        var estimates = DdilRollouts.StudentEstimates(student, z, levels.Count - 1, labels, _options.Threshold, rng);
        _estimates = estimates.Select(e => e.ToArray()).ToArray();
        _labels = labels?.ToArray();
        _levels = SamplerDefaults.FormatSigmas(levels);
        FilledAt = step;
    }

    /// <summary>
    /// Inputs at student steps <paramref name="steps"/> (0-based) of the <paramref name="levels"/> the buffer was filled
    /// for: a uniformly drawn rollout's estimate at the step before, re-noised to the step's level with fresh noise, all
    /// from <paramref name="rng"/>; with the rollouts' class ids (null when unconditional).
    /// </summary>
    public (Tensor X, Tensor? Labels) Draw(IReadOnlyList<int> steps, IReadOnlyList<double> levels, Generator rng, Device device)
    {
        if (FilledAt < 0) throw new InvalidOperationException("ReplayBuffer: drawn from before its first rollout");
        if (_levels != SamplerDefaults.FormatSigmas(levels)) throw new InvalidOperationException("ReplayBuffer: the student's levels changed since its rollout; refresh it first");
        int n = steps.Count, size = (int)_sampleShape.Numel;
        var pick = rng.Uniform([n], Device.Cpu).ToArray().Select(u => Math.Min((int)(u * Count), Count - 1)).ToArray();
        var x0 = new float[n * size];
        var sigma = new float[n];
        for (int i = 0; i < n; i++)
        {
            int k = steps[i];
            if (k < 0 || k >= levels.Count) throw new ArgumentException($"ReplayBuffer: step {k} outside [0, {levels.Count})");
            sigma[i] = (float)levels[k];
            if (k > 0) Array.Copy(_estimates[k - 1], pick[i] * size, x0, i * size, size);
        }
        var noise = rng.Normal([n, .. _sampleShape], device);
        var perSample = Enumerable.Repeat(1, noise.Rank).ToArray();
        perSample[0] = n;
        var x = F.Add(Tensor.FromSpan(x0, [n, .. _sampleShape], device), F.Mul(noise, Tensor.FromSpan(sigma, perSample, device)));
        var labels = _labels == null ? null : Tensor.FromSpan(pick.Select(j => _labels[j]).ToArray(), [n], device);
        return (x, labels);
    }

    /// <inheritdoc/>
    public void Save(CheckpointWriter checkpoint)
    {
        if (FilledAt < 0) return;
        checkpoint.AddMetadata(CheckpointKeys.DdilBufferStep, FilledAt.ToString(CultureInfo.InvariantCulture));
        checkpoint.AddMetadata(CheckpointKeys.DdilBufferLevels, _levels);
        var tensors = new Dictionary<string, Tensor>();
        for (int j = 0; j < _estimates.Length; j++)
            tensors[CheckpointKeys.DdilBuffer + j.ToString(CultureInfo.InvariantCulture)] = Tensor.FromSpan(_estimates[j], [Count, .. _sampleShape]);
        if (_labels != null) tensors[CheckpointKeys.DdilBuffer + "labels"] = Tensor.FromSpan(_labels, [Count]);
        checkpoint.AddTensors(tensors);
    }

    /// <inheritdoc/>
    public void Load(CheckpointReader checkpoint)
    {
        FilledAt = checkpoint.Metadata.ContainsKey(CheckpointKeys.DdilBufferStep) ? checkpoint.Count(CheckpointKeys.DdilBufferStep) : -1;
        if (FilledAt < 0) return;
        _levels = checkpoint.Meta(CheckpointKeys.DdilBufferLevels);
        var stored = checkpoint.Prefixed(CheckpointKeys.DdilBuffer);
        int count = _levels.Split(',').Length;
        _estimates = new float[count - 1][];
        for (int j = 0; j < count - 1; j++)
            _estimates[j] = Read(checkpoint, stored, CheckpointKeys.DdilBuffer + j.ToString(CultureInfo.InvariantCulture), Count * (int)_sampleShape.Numel);
        _labels = _classes > 0 ? Read(checkpoint, stored, CheckpointKeys.DdilBuffer + "labels", Count) : null;
    }

    private static float[] Read(CheckpointReader checkpoint, Dictionary<string, Tensor> stored, string key, int length)
    {
        var values = stored.TryGetValue(key, out var t) ? t.ToArray()
            : throw new ArgumentException($"{checkpoint.Path}: the DDIL replay buffer's tensor '{key}' is missing");
        if (values.Length != length) throw new ArgumentException($"{checkpoint.Path}: the DDIL replay buffer's tensor '{key}' holds {values.Length} values, not {length}");
        return values;
    }
}
