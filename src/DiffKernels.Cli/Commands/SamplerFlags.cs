using System.CommandLine;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// The sampler flags of sample and eval (--sampler, --steps, --sigma-max, --threshold, --guidance, --batch) and their one
/// resolution against the loaded model, before any sampling: limits are checked as the command line is parsed, and
/// what the model cannot take is refused naming the flag: a sampler or grid other than its own on a distilled student or
/// a generator (they were trained for one), guidance on an unconditional model or a generator.
/// </summary>
internal sealed class SamplerFlags
{
    /// <summary>The flags, with <paramref name="defaultBatch"/> samples integrated together by default.</summary>
    public SamplerFlags(int defaultBatch)
    {
        Sampler = new Option<string?>("--sampler") { Description = "heun, euler or ddim (default: the model's own, else heun; students and generators: only their own)" };
        Sampler.Parses(s => SamplerOptions.ParseKind(s));
        Steps = new Option<int?>("--steps") { Description = "Noise levels, ≥ 1 (default: the model's own, else 18: 35 evaluations with heun)" };
        Steps.AtLeast(1);
        SigmaMax = SampleCommand.SigmaMaxOption();
        Threshold = SampleCommand.ThresholdOption();
        Guidance = new Option<double>("--guidance") { Description = "Classifier-free guidance scale, ≥ 0 (class-conditional denoisers only; 1: none)", DefaultValueFactory = _ => 1.0 };
        Guidance.NonNegative();
        Batch = new Option<int>("--batch") { Description = "Samples integrated together, ≥ 1", DefaultValueFactory = _ => defaultBatch };
        Batch.AtLeast(1);
    }

    /// <summary>--sampler.</summary>
    public Option<string?> Sampler { get; }

    /// <summary>--steps.</summary>
    public Option<int?> Steps { get; }

    /// <summary>--sigma-max.</summary>
    public Option<double?> SigmaMax { get; }

    /// <summary>--threshold.</summary>
    public Option<string?> Threshold { get; }

    /// <summary>--guidance.</summary>
    public Option<double> Guidance { get; }

    /// <summary>--batch.</summary>
    public Option<int> Batch { get; }

    /// <summary>The flags in the order help lists them.</summary>
    public Option[] All => [Sampler, Steps, SigmaMax, Threshold, Guidance, Batch];

    /// <summary>The sampler settings for <paramref name="model"/> (read from <paramref name="path"/>) with <paramref name="seed"/>.</summary>
    public SamplerOptions Resolve(ParseResult parse, PretrainedModel model, string path, ulong seed)
    {
        var own = model.DefaultOptions;
        SamplerOptions options;
        try
        {
            options = SampleCommand.Options(model, parse.GetValue(Sampler), parse.GetValue(Steps), seed, parse.GetValue(Batch), parse.GetValue(SigmaMax), parse.GetValue(Threshold)) with
            {
                Guidance = parse.GetValue(Guidance),
            };
        }
        catch (InvalidInputException) when (model.IsGenerator)
        {
            // The library refuses any sampler setting on a generator; the command line says which flags to drop.
            throw FixedSampler(parse, model, own, path);
        }
        bool fixedSampler = model.IsGenerator || CheckpointKind.Of(path).Role == ModelRole.Student;
        if (fixedSampler && (options.Kind != own.Kind || options.Steps != own.Steps || options.SigmaMax != own.SigmaMax || !SameLevels(options.Sigmas, own.Sigmas)))
            throw FixedSampler(parse, model, own, path);
        if (options.Guidance != 1 && (model.NumClasses == 0 || model.IsGenerator))
            throw new ArgumentException(DiffusionCli.Inv($"--guidance {options.Guidance}: {path} is {(model.IsGenerator ? "a generator" : "unconditional")}; guidance needs a class-conditional denoiser"));
        return options;
    }

    private ArgumentException FixedSampler(ParseResult parse, PretrainedModel model, SamplerOptions own, string path)
    {
        string given = string.Join(" ", new Option[] { Sampler, Steps, SigmaMax, Threshold }.Where(o => RunCommand.Given(parse, o)).Select(o => $"{o.Name} {parse.GetResult(o)!.Tokens.FirstOrDefault()?.Value}"));
        string what = model.IsGenerator ? $"a {model.Kind} generator: it draws each sample in one evaluation" : $"a distilled student: it samples with {own.Kind.ToString().ToLowerInvariant()} on the {(own.Steps == 1 ? "one level" : $"{own.Steps} levels")} it was trained for";
        return new ArgumentException($"{given}: {path} is {what}; remove --sampler, --steps and --sigma-max{(model.IsGenerator ? " (and --threshold)" : "")}");
    }

    private static bool SameLevels(IReadOnlyList<double>? a, IReadOnlyList<double>? b) =>
        a == null ? b == null : b != null && a.SequenceEqual(b);
}
