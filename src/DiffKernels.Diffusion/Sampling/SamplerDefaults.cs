using System.Globalization;
using DiffKernels.Diffusion.Models;
using DiffKernels.IO;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Sampling;

/// <summary>
/// The default sampler a checkpoint names in its metadata (<see cref="SamplerOptions.KindKey"/>,
/// <see cref="SamplerOptions.StepsKey"/>, <see cref="SamplerOptions.SigmaMaxKey"/>): what `dk sample` and `dk eval`
/// use when no sampler flags are given. A null member means the key is absent, so the generic default applies.
/// </summary>
/// <param name="Kind">The ODE solver.</param>
/// <param name="Steps">Number of σ levels before the final 0.</param>
/// <param name="SigmaMax">Largest level of the Karras grid.</param>
/// <param name="Sigmas">Explicit levels in place of the Karras grid (a distilled few-step student's), or null.</param>
/// <param name="Threshold">x0 thresholding (see <see cref="X0Threshold"/>), or null for none.</param>
public sealed record SamplerDefaults(SamplerKind? Kind = null, int? Steps = null, double? SigmaMax = null, IReadOnlyList<double>? Sigmas = null, float? Threshold = null)
{
    /// <summary>The defaults recorded in <paramref name="metadata"/>; malformed values throw with the key and value.</summary>
    public static SamplerDefaults Of(IReadOnlyDictionary<string, string> metadata)
    {
        SamplerKind? kind = metadata.TryGetValue(SamplerOptions.KindKey, out var k) ? SamplerOptions.ParseKind(k) : null;
        int? steps = null;
        if (metadata.TryGetValue(SamplerOptions.StepsKey, out var s))
            steps = int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
                : throw new ArgumentException($"sampler defaults: metadata '{SamplerOptions.StepsKey}' = '{s}' is not an integer");
        double? sigmaMax = null;
        if (metadata.TryGetValue(SamplerOptions.SigmaMaxKey, out var m))
            sigmaMax = double.TryParse(m, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new ArgumentException($"sampler defaults: metadata '{SamplerOptions.SigmaMaxKey}' = '{m}' is not a number");
        double[]? sigmas = null;
        if (metadata.TryGetValue(SamplerOptions.SigmasKey, out var list))
            sigmas = list.Split(',').Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x
                : throw new ArgumentException($"sampler defaults: metadata '{SamplerOptions.SigmasKey}' = '{list}' is not a list of numbers")).ToArray();
        float? threshold = metadata.TryGetValue(SamplerOptions.ThresholdKey, out var t) ? X0Threshold.Parse(t) : null;
        var defaults = new SamplerDefaults(kind, steps, sigmaMax, sigmas, threshold);
        // Recorded levels must drive a sampler as they stand; a malformed list is refused where it is read.
        if (sigmas != null) defaults.Validate();
        return defaults;
    }

    /// <summary>Throws with the offending value when these defaults could not drive a sampler.</summary>
    public void Validate()
    {
        if (Kind is { } k && !Enum.IsDefined(k)) throw new ArgumentException($"sampler defaults: unknown sampler {k}");
        if (Steps is { } s && s < 1) throw new ArgumentException($"sampler defaults: steps {s} must be ≥ 1");
        var min = new SamplerOptions().SigmaMin;
        if (SigmaMax is { } m && !(m > min && double.IsFinite(m)))
            throw new ArgumentException($"sampler defaults: σ_max {m} must be finite and above σ_min = {min.ToString(CultureInfo.InvariantCulture)}");
        if (Sigmas is { } levels)
        {
            if (Steps != levels.Count) throw new ArgumentException($"sampler defaults: {levels.Count} explicit levels for {Steps?.ToString(CultureInfo.InvariantCulture) ?? "default"} steps; their counts must agree");
            for (int i = 0; i < levels.Count; i++)
                if (!(levels[i] > 0 && double.IsFinite(levels[i])) || (i > 0 && !(levels[i] < levels[i - 1])))
                    throw new ArgumentException($"sampler defaults: explicit levels must be finite, positive and decreasing; level {i} is {levels[i].ToString("R", CultureInfo.InvariantCulture)}");
        }
        X0Threshold.Validate(Threshold, "sampler defaults");
    }

    /// <summary><paramref name="options"/> with every recorded member of these defaults in place of its own.</summary>
    public SamplerOptions ApplyTo(SamplerOptions options) => options with
    {
        Kind = Kind ?? options.Kind,
        Steps = Steps ?? options.Steps,
        SigmaMax = SigmaMax ?? options.SigmaMax,
        Sigmas = Sigmas ?? options.Sigmas,
        Threshold = Threshold ?? options.Threshold,
    };

    /// <summary>Writes these defaults into <paramref name="metadata"/>: set members replace their key, null members remove it.</summary>
    public void ApplyTo(IDictionary<string, string> metadata)
    {
        Validate();
        Put(metadata, SamplerOptions.KindKey, Kind?.ToString().ToLowerInvariant());
        Put(metadata, SamplerOptions.StepsKey, Steps?.ToString(CultureInfo.InvariantCulture));
        Put(metadata, SamplerOptions.SigmaMaxKey, SigmaMax?.ToString("R", CultureInfo.InvariantCulture));
        Put(metadata, SamplerOptions.SigmasKey, Sigmas == null ? null : FormatSigmas(Sigmas));
        Put(metadata, SamplerOptions.ThresholdKey, Threshold == null ? null : X0Threshold.Format(Threshold));
    }

    /// <summary>σ levels as <see cref="SamplerOptions.SigmasKey"/> records them: round-trip decimals, comma-separated.</summary>
    public static string FormatSigmas(IEnumerable<double> levels) => string.Join(",", levels.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    private static void Put(IDictionary<string, string> metadata, string key, string? value)
    {
        if (value == null) metadata.Remove(key);
        else metadata[key] = value;
    }

    /// <summary>
    /// Rewrites the checkpoint at <paramref name="path"/> with <paramref name="defaults"/> as its default sampler,
    /// leaving every tensor (weights and training state) and every other metadata entry as it was. The write is
    /// atomic. Distilled students are refused: their one-step sampler is how their generator is defined.
    /// </summary>
    public static void Write(string path, SamplerDefaults defaults)
    {
        defaults.Validate();
        RequireTeacher(path);
        var header = SafeTensors.ReadHeader(path);
        var dtypes = header.Tensors.Select(t => t.DType).Distinct().ToList();
        if (dtypes.Count > 1)
            throw new ArgumentException($"{path} mixes element types ({string.Join(", ", dtypes)}); rewriting it would convert some of them");
        var metadata = new Dictionary<string, string>(header.Metadata);
        defaults.ApplyTo(metadata);
        using var scope = Tensor.Scope();
        var file = SafeTensors.Load(path);
        SafeTensors.Save(path, file.Tensors, metadata, dtypes.Count == 1 ? dtypes[0] : DType.F32);
    }

    /// <summary>
    /// Throws unless <paramref name="path"/> holds a teacher (release or training checkpoint): a student's one-step
    /// sampler is how its generator is defined, a generator has no sampler, and a classifier draws no samples.
    /// </summary>
    public static void RequireTeacher(string path) =>
        CheckpointKind.RequireModel(path, "dk set-sampler (a student's or generator's sampler is part of the model)", ModelRole.Teacher);

    /// <summary>Reads and writes like "heun, 40 levels, σ_max 80" (absent members: "default").</summary>
    public override string ToString() => string.Join(", ",
        Kind?.ToString().ToLowerInvariant() ?? "default sampler",
        Steps is { } s ? $"{s} levels" : "default levels",
        Sigmas is { } l ? $"σ levels {FormatSigmas(l)}"
        : SigmaMax is { } m ? $"σ_max {m.ToString("R", CultureInfo.InvariantCulture)}" : "default σ_max");
}
