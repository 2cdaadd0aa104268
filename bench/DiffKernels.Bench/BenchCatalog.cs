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
    /// The cases named by <paramref name="names"/> (a case name or a group name each, in catalogue
    /// order), or all of them when none is given. Unknown names throw with the list of known ones.
    /// </summary>
    public static IReadOnlyList<BenchCase> Select(IReadOnlyCollection<string> names)
    {
        if (names.Count == 0) return All;
        foreach (var n in names)
            if (!All.Any(c => c.Name == n || c.Group == n))
                throw new ArgumentException($"bench: unknown case '{n}'; cases: {string.Join(", ", All.Select(c => c.Name))}; groups: {string.Join(", ", All.Select(c => c.Group).Distinct())}");
        return All.Where(c => names.Contains(c.Name) || names.Contains(c.Group)).ToList();
    }
}
