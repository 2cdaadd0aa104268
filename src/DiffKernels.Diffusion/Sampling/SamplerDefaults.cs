using System.Globalization;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
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
public sealed record SamplerDefaults(SamplerKind? Kind = null, int? Steps = null, double? SigmaMax = null)
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
        return new SamplerDefaults(kind, steps, sigmaMax);
    }

    /// <summary>Throws with the offending value when these defaults could not drive a sampler.</summary>
    public void Validate()
    {
        if (Kind is { } k && !Enum.IsDefined(k)) throw new ArgumentException($"sampler defaults: unknown sampler {k}");
        if (Steps is { } s && s < 1) throw new ArgumentException($"sampler defaults: steps {s} must be ≥ 1");
        var min = new SamplerOptions().SigmaMin;
        if (SigmaMax is { } m && !(m > min && double.IsFinite(m)))
            throw new ArgumentException($"sampler defaults: σ_max {m} must be finite and above σ_min = {min.ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary><paramref name="options"/> with every recorded member of these defaults in place of its own.</summary>
    public SamplerOptions ApplyTo(SamplerOptions options) => options with
    {
        Kind = Kind ?? options.Kind,
        Steps = Steps ?? options.Steps,
        SigmaMax = SigmaMax ?? options.SigmaMax,
    };

    /// <summary>Writes these defaults into <paramref name="metadata"/>: set members replace their key, null members remove it.</summary>
    public void ApplyTo(IDictionary<string, string> metadata)
    {
        Validate();
        Put(metadata, SamplerOptions.KindKey, Kind?.ToString().ToLowerInvariant());
        Put(metadata, SamplerOptions.StepsKey, Steps?.ToString(CultureInfo.InvariantCulture));
        Put(metadata, SamplerOptions.SigmaMaxKey, SigmaMax?.ToString("R", CultureInfo.InvariantCulture));
    }

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
        var header = SafeTensors.ReadHeader(path);
        if (!header.Metadata.ContainsKey(ModelFactory.KindKey))
            throw new SafeTensorsFormatException(path, $"not a model checkpoint: metadata '{ModelFactory.KindKey}' is missing");
        if (header.Metadata.TryGetValue(CheckpointKeys.Method, out var method))
            throw new ArgumentException($"{path} is a {method} student: its sampler is part of its generator and cannot change");
        var dtypes = header.Tensors.Select(t => t.DType).Distinct().ToList();
        if (dtypes.Count > 1)
            throw new ArgumentException($"{path} mixes element types ({string.Join(", ", dtypes)}); rewriting it would convert some of them");
        var metadata = new Dictionary<string, string>(header.Metadata);
        defaults.ApplyTo(metadata);
        using var scope = Tensor.Scope();
        var file = SafeTensors.Load(path);
        SafeTensors.Save(path, file.Tensors, metadata, dtypes.Count == 1 ? dtypes[0] : DType.F32);
    }

    /// <summary>Reads and writes like "heun, 40 levels, σ_max 80" (absent members: "default").</summary>
    public override string ToString() => string.Join(", ",
        Kind?.ToString().ToLowerInvariant() ?? "default sampler",
        Steps is { } s ? $"{s} levels" : "default levels",
        SigmaMax is { } m ? $"σ_max {m.ToString("R", CultureInfo.InvariantCulture)}" : "default σ_max");
}
