using System.CommandLine;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Sampling;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// The --classes option of sample and eval: balanced labels over a range of a conditional model's classes, written as
/// `dk finetune --classes` and the data spec's classes= are (FIRST-LAST, or one class).
/// </summary>
internal static class ClassesOption
{
    /// <summary>The option, described by <paramref name="description"/>.</summary>
    public static Option<string?> Create(string description) => new("--classes") { Description = description };

    /// <summary>The range <paramref name="text"/> names, checked against <paramref name="model"/> (read from <paramref name="path"/>); null when the option is absent.</summary>
    public static (int First, int Last)? Resolve(string? text, PretrainedModel model, string path)
    {
        if (text == null) return null;
        var (first, last) = ImageSubset.ParseClasses(text, "--classes");
        if (model.NumClasses == 0) throw new ArgumentException($"--classes {text}: {path} is unconditional; it draws no class");
        if (last >= model.NumClasses)
            throw new ArgumentException($"--classes {text} is not a range of this model's classes ({model.NumClasses} classes: 0-{model.NumClasses - 1})");
        return (first, last);
    }

    /// <summary>The range in words, "classes 5-9" or "class 7".</summary>
    public static string Describe((int First, int Last) range) =>
        range.First == range.Last ? DiffusionCli.Inv($"class {range.First}") : DiffusionCli.Inv($"classes {range.First}-{range.Last}");
}
