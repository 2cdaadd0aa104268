using System.Globalization;

namespace DiffKernels.Diffusion.Data;

/// <summary>
/// A selection of an image source's images, for training on part of a data set (e.g. fine-tuning onto new classes):
/// the images whose class lies in a range, then the first N of those, in the data set's order. Its spec is the
/// source's with a suffix, "fmnist@classes=5-9,limit=1000", so checkpoints record it and a resume selects the same
/// images. Labels keep their ids and the class count stays the source's, so a conditional model sees the classes it
/// was built for.
/// </summary>
public static class ImageSubset
{
    /// <summary>What separates a source's spec from its selection.</summary>
    public const char Separator = '@';

    /// <summary>The spec of <paramref name="source"/> with the selection (null parts select everything).</summary>
    public static string Spec(string source, (int First, int Last)? classes, int? limit)
    {
        var parts = new List<string>();
        if (classes is var (first, last)) parts.Add(first == last ? Inv($"classes={first}") : Inv($"classes={first}-{last}"));
        if (limit is int n) parts.Add(Inv($"limit={n}"));
        return parts.Count == 0 ? source : source + Separator + string.Join(",", parts);
    }

    /// <summary>
    /// Splits <paramref name="spec"/> into its source's spec and its selection; false when it ends in no selection (a
    /// folder's path may hold the separator itself).
    /// </summary>
    public static bool TrySplit(string spec, out string source, out string selection)
    {
        int at = spec.LastIndexOf(Separator);
        bool selects = at >= 0 && spec[(at + 1)..].Split(',').All(p => p.StartsWith("classes=", StringComparison.Ordinal) || p.StartsWith("limit=", StringComparison.Ordinal));
        source = selects ? spec[..at] : spec;
        selection = selects ? spec[(at + 1)..] : "";
        return selects;
    }

    /// <summary>The spec <paramref name="spec"/> without its selection.</summary>
    public static string Whole(string spec) => TrySplit(spec, out var source, out _) ? source : spec;

    /// <summary>Parses a class range "5-9" (or one class "7") given as <paramref name="what"/>.</summary>
    public static (int First, int Last) ParseClasses(string text, string what)
    {
        var ends = text.Split('-');
        if (ends.Length is 1 or 2 && ends.All(e => int.TryParse(e, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            int first = int.Parse(ends[0], CultureInfo.InvariantCulture), last = int.Parse(ends[^1], CultureInfo.InvariantCulture);
            if (first <= last) return (first, last);
        }
        throw new ArgumentException($"{what} '{text}' is not a class range FIRST-LAST (e.g. 5-9) with FIRST ≤ LAST");
    }

    /// <summary>The images of <paramref name="source"/> that <paramref name="selection"/> ("classes=A-B", "limit=N", or both, comma-separated) picks.</summary>
    public static ImageDataSource Select(IDataSource source, string selection)
    {
        (int First, int Last)? classes = null;
        int? limit = null;
        foreach (string part in selection.Split(','))
        {
            var kv = part.Split('=', 2);
            if (kv.Length == 2 && kv[0] == "classes") classes = ParseClasses(kv[1], $"data '{source.Name}{Separator}{selection}': classes");
            else if (kv.Length == 2 && kv[0] == "limit")
                limit = int.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 ? n
                    : throw new ArgumentException($"data '{source.Name}{Separator}{selection}': limit '{kv[1]}' is not a positive number of images");
            else throw new ArgumentException($"data '{source.Name}{Separator}{selection}': '{part}' is not classes=FIRST-LAST or limit=N");
        }
        return Select(source, classes, limit);
    }

    /// <summary>The images of <paramref name="source"/> with a class in <paramref name="classes"/> (null: all), the first <paramref name="limit"/> of them (null: all).</summary>
    public static ImageDataSource Select(IDataSource source, (int First, int Last)? classes, int? limit)
    {
        string name = Spec(source.Name, classes, limit);
        if (source is not ImageDataSource images)
            throw new ArgumentException($"data '{name}': only image data can be subset; {source.Name} draws fresh samples for every batch");
        if (limit is < 1) throw new ArgumentException($"data '{name}': limit {limit} must be ≥ 1");
        var data = images.Data;
        if (classes != null && data.NumClasses == 0) throw new ArgumentException($"data '{name}': {source.Name} has no class labels to select by");
        var picked = new List<int>();
        for (int i = 0; i < data.Count && (limit is not int n || picked.Count < n); i++)
            if (classes is not var (first, last) || data.Labels[i] >= first && data.Labels[i] <= last) picked.Add(i);
        if (picked.Count == 0)
            throw new ArgumentException($"data '{name}': the selection leaves no images ({source.Name} has classes 0-{data.NumClasses - 1})");
        int size = data.ImageSize;
        var pixels = new float[picked.Count * size];
        var labels = new int[picked.Count];
        for (int k = 0; k < picked.Count; k++)
        {
            data.Image(picked[k]).CopyTo(pixels.AsSpan(k * size));
            labels[k] = data.Labels[picked[k]];
        }
        return new ImageDataSource(new ImageDataset(pixels, labels, data.Height, data.Width, data.Channels, data.NumClasses), name, images.Crop);
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
