using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Models;

/// <summary>
/// How tensors are laid out in checkpoint files as opposed to memory. Convolution weights are
/// [Cout, kh, kw, Cin] in memory (channels-last kernels) but PyTorch's OIHW [Cout, Cin, kh, kw] in files,
/// so a checkpoint loads by name in PyTorch and a PyTorch state dict loads here. A tensor that mirrors a
/// convolution weight (its EMA, its raw copy, Adam's moments of it) is stored the same way. Every
/// checkpoint writer and reader converts through this class and nowhere else.
/// </summary>
public static class CheckpointLayout
{
    /// <summary>Metadata key naming the layout of convolution weights in the file.</summary>
    public const string ConvLayoutKey = "conv_layout";

    /// <summary>The only value of <see cref="ConvLayoutKey"/> written and accepted.</summary>
    public const string ConvLayout = "OIHW";

    /// <summary>The dotted names of every convolution weight of <paramref name="model"/> and its descendants.</summary>
    public static IReadOnlySet<string> ConvWeightNames(Module model)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        void Walk(Module m, string prefix)
        {
            if (m is Conv2d) names.Add(prefix + "weight");
            foreach (var (name, child) in m.Children()) Walk(child, prefix + name + ".");
        }
        Walk(model, "");
        return names;
    }

    /// <summary>[Cout, kh, kw, Cin] → [Cout, Cin, kh, kw] (a new tensor in the current scope, no graph).</summary>
    public static Tensor ToFile(Tensor weight) => Reorder(weight, [0, 3, 1, 2]);

    /// <summary>[Cout, Cin, kh, kw] → [Cout, kh, kw, Cin] (a new tensor in the current scope, no graph).</summary>
    public static Tensor FromFile(Tensor weight) => Reorder(weight, [0, 2, 3, 1]);

    /// <summary>
    /// <paramref name="tensors"/> as they go into a file: every entry that <paramref name="parameterOf"/>
    /// maps to a convolution weight of <paramref name="model"/> is converted to OIHW, the rest pass through.
    /// </summary>
    public static Dictionary<string, Tensor> ToFile(IReadOnlyDictionary<string, Tensor> tensors, Module model, Func<string, string?> parameterOf) =>
        Convert(tensors, model, parameterOf, ToFile);

    /// <summary>The inverse of <see cref="ToFile(IReadOnlyDictionary{string, Tensor}, Module, Func{string, string?})"/>, for tensors read from a file.</summary>
    public static Dictionary<string, Tensor> FromFile(IReadOnlyDictionary<string, Tensor> tensors, Module model, Func<string, string?> parameterOf) =>
        Convert(tensors, model, parameterOf, FromFile);

    /// <summary>Throws unless the file's metadata records OIHW convolution weights or no layout at all (PyTorch's own).</summary>
    public static void CheckMetadata(string path, IReadOnlyDictionary<string, string> metadata)
    {
        if (metadata.TryGetValue(ConvLayoutKey, out var layout) && layout != ConvLayout)
            throw new IO.SafeTensorsFormatException(path, $"convolution weights are stored as '{layout}'; only '{ConvLayout}' is supported");
    }

    private static Dictionary<string, Tensor> Convert(IReadOnlyDictionary<string, Tensor> tensors, Module model, Func<string, string?> parameterOf, Func<Tensor, Tensor> convert)
    {
        var convs = ConvWeightNames(model);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in tensors)
            result.Add(name, parameterOf(name) is { } p && convs.Contains(p) ? convert(t) : t);
        return result;
    }

    private static Tensor Reorder(Tensor weight, int[] perm)
    {
        if (weight.Rank != 4)
            throw new ArgumentException($"CheckpointLayout: convolution weight '{weight.Name}' must have rank 4, got {weight.Shape}");
        using var noGrad = Tensor.NoGrad();
        return F.Permute(weight, perm);
    }
}
