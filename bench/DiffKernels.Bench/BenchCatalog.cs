using DiffKernels.Bench.Cases;

namespace DiffKernels.Bench;

/// <summary>Every named case, and selection by case or group name.</summary>
public static class BenchCatalog
{
    /// <summary>All cases in the order they run.</summary>
    public static IReadOnlyList<BenchCase> All { get; } =
    [
        .. GemmCases.All(), .. ConvCases.All(), .. AttentionCases.All(), .. MemoryBoundCases.All(), .. ModelCases.All(), .. SamplingCases.All(),
    ];

    /// <summary>
    /// Cases at the shapes a GPU run measures (UNet-S at batch 256, 4096³ SGEMM, ...): named only, never part of a
    /// run without names, since on the CPU they take minutes.
    /// </summary>
    public static IReadOnlyList<BenchCase> Device { get; } = [.. DeviceCases.All()];

    /// <summary>
    /// The cases named by <paramref name="names"/> (a case name or a group name each, in catalogue
    /// order), or all of <see cref="All"/> when none is given. Unknown names throw with the list of known ones.
    /// With <paramref name="tiny"/> each case is replaced by its <see cref="BenchCase.Tiny"/> shape; a case without one throws.
    /// </summary>
    public static IReadOnlyList<BenchCase> Select(IReadOnlyCollection<string> names, bool tiny = false)
    {
        var known = All.Concat(Device).ToList();
        foreach (var n in names)
            if (!known.Any(c => c.Name == n || c.Group == n))
                throw new ArgumentException($"bench: unknown case '{n}'; cases: {string.Join(", ", known.Select(c => c.Name))}; groups: {string.Join(", ", known.Select(c => c.Group).Distinct())}");
        var chosen = names.Count == 0 ? All : known.Where(c => names.Contains(c.Name) || names.Contains(c.Group)).ToList();
        if (!tiny) return chosen;
        foreach (var c in chosen)
            if (c.Tiny == null)
                throw new ArgumentException($"bench: --tiny: {c.Name} has no tiny shape; cases with one: {string.Join(", ", known.Where(k => k.Tiny != null).Select(k => k.Name))}");
        return chosen.Select(c => c.Tiny!).ToList();
    }
}
