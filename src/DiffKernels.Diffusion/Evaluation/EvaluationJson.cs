using System.Text.Json;
using System.Text.Json.Nodes;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Sampling;

namespace DiffKernels.Diffusion.Evaluation;

/// <summary>
/// Evaluation reports as the JSON objects `dk eval --json` and quickstart write, one schema for the CLI and for
/// library callers (models/*.eval.json are these objects).
/// </summary>
public static class EvaluationJson
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>A toy report as one JSON object; with <paramref name="sampler"/>, its levels and σ_max too.</summary>
    public static string Of(string model, ToyReport r, SamplerOptions? sampler = null) => new JsonObject
    {
        ["model"] = model,
        ["data"] = "toy:" + r.Toy,
        ["samples"] = r.Samples,
        ["sampler"] = r.Sampler.ToString().ToLowerInvariant(),
        ["nfe"] = r.Nfe,
        ["levels"] = sampler?.Steps,
        ["sigma_max"] = sampler?.SigmaMax,
        ["sigmas"] = Array(sampler?.Sigmas),
        ["threshold"] = sampler?.Threshold is { } q ? X0Threshold.Format(q) : null,
        ["sliced_wasserstein"] = r.SlicedWasserstein,
        ["floor"] = r.Floor,
        ["ratio_to_floor"] = r.FloorRatio,
        ["modes_covered"] = r.Coverage?.Covered,
        ["modes"] = r.Coverage?.Total,
        ["off_mode_fraction"] = r.Coverage?.OffModeFraction,
        ["ms_per_sample"] = r.MsPerSample,
    }.ToJsonString(Indented);

    /// <summary>The image report as one JSON object; with <paramref name="sampler"/>, its explicit levels and x0 thresholding where it has them.</summary>
    public static string Of(string model, ImageReport r, SamplerOptions? sampler = null) => new JsonObject
    {
        ["model"] = model,
        ["data"] = ImageSubset.Spec(ImageDataSource.FashionSpec, r.Metrics.Classes.Subset, null),
        ["samples"] = r.Metrics.Count,
        ["sampler"] = r.Sampler.ToString().ToLowerInvariant(),
        ["nfe"] = r.Nfe,
        ["guidance"] = r.Guidance,
        ["fd"] = r.Metrics.Fd,
        ["floor"] = r.Floor,
        ["ratio_to_floor"] = r.FloorRatio,
        ["precision"] = double.IsNaN(r.Metrics.Precision) ? null : r.Metrics.Precision,
        ["recall"] = double.IsNaN(r.Metrics.Recall) ? null : r.Metrics.Recall,
        ["class_entropy"] = double.IsNaN(r.Metrics.Classes.NormalisedEntropy) ? null : r.Metrics.Classes.NormalisedEntropy,
        ["class_counts"] = new JsonArray(r.Metrics.Classes.Counts.Select(c => (JsonNode?)c).ToArray()),
        ["ms_per_sample"] = r.MsPerSample,
    }.With(SubsetExtras(r.Metrics.Classes)).With(SamplerExtras(sampler)).ToJsonString(Indented);

    // A class subset adds its range and the share of samples classified inside it; a whole-set report keeps its keys.
    private static IEnumerable<KeyValuePair<string, JsonNode?>> SubsetExtras(ClassHistogram classes)
    {
        if (classes.Subset is not var (first, last)) yield break;
        yield return new("classes", new JsonArray(Enumerable.Range(first, last - first + 1).Select(c => (JsonNode?)c).ToArray()));
        yield return new("in_classes_fraction", classes.InSubset);
    }

    private static IEnumerable<KeyValuePair<string, JsonNode?>> SamplerExtras(SamplerOptions? sampler)
    {
        if (sampler?.Sigmas is { } levels) yield return new("sigmas", Array(levels));
        if (sampler?.Threshold is { } q) yield return new("threshold", X0Threshold.Format(q));
    }

    // Built as JSON nodes, not serialised by reflection, so trimmed and native-AOT applications write the same text.
    private static JsonArray? Array(IReadOnlyList<double>? values) => values == null ? null : new JsonArray(values.Select(v => (JsonNode?)v).ToArray());

    private static JsonObject With(this JsonObject o, IEnumerable<KeyValuePair<string, JsonNode?>> extras)
    {
        foreach (var (key, value) in extras) o.Add(key, value);
        return o;
    }
}
