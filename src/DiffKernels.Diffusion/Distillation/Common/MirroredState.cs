using System.Globalization;
using DiffKernels.Nn;

namespace DiffKernels.Diffusion.Distillation.Common;

/// <summary>
/// Names of training-state tensors that mirror a network's parameters, so a checkpoint can store each in its
/// parameter's file layout (convolution weights OIHW): "{weights}NAME" is the parameter NAME; Adam's
/// "{adam}I.exp_avg" and "{adam}I.exp_avg_sq" belong to parameter I in <see cref="Module.Parameters"/> order (the
/// order an Adam over that module sees them).
/// </summary>
public static class MirroredState
{
    /// <summary>The parameter of <paramref name="model"/> a state name mirrors, or null for any other name.</summary>
    public static Func<string, string?> ParameterOf(Module model, string weightsPrefix, string adamPrefix)
    {
        var names = model.NamedParameters().Select(p => p.Name).ToArray();
        return key =>
        {
            if (key.StartsWith(weightsPrefix, StringComparison.Ordinal)) return key[weightsPrefix.Length..];
            if (!key.StartsWith(adamPrefix, StringComparison.Ordinal)) return null;
            var parts = key[adamPrefix.Length..].Split('.');
            return parts.Length == 2 && parts[1] is "exp_avg" or "exp_avg_sq"
                && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i < names.Length
                ? names[i] : null;
        };
    }
}
