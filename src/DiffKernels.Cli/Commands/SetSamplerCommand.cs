using System.CommandLine;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.IO;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk set-sampler --model PATH [--sampler K] [--steps N] [--sigma-max S] [--reset] (--force | --out NEW)`: records in a
/// checkpoint the sampler `dk sample` and `dk eval` use when given no sampler flags, in place with --force (the file is
/// not this call's, so it is rewritten only when asked) or in a copy written to --out. Options not given keep the recorded value;
/// --reset first removes all three, back to the generic Heun with 18 levels from σ_max = 80. Weights and training
/// state are left as they are (a `dk train --resume` writes a fresh checkpoint, so set them again after one).
/// </summary>
internal static class SetSamplerCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A model checkpoint (.safetensors), rewritten in place with --force", Required = true };
        var sampler = new Option<string?>("--sampler") { Description = "heun, euler or ddim" };
        var steps = new Option<int?>("--steps") { Description = "Noise levels (heun: 2N − 1 evaluations)" };
        sampler.Parses(k => SamplerOptions.ParseKind(k));
        steps.AtLeast(1);
        var sigmaMax = SampleCommand.SigmaMaxLimit(new Option<double?>("--sigma-max") { Description = "Largest level of the Karras grid (heun, euler)" });
        var reset = new Option<bool>("--reset") { Description = "Remove the recorded defaults before applying the options given" };
        var output = new Option<string?>("--out") { Description = "Write the result to this new file instead of rewriting --model" };
        var force = OutputGuard.ForceOption("--model in place (or an existing --out)");
        var cmd = new Command("set-sampler", "Set the default sampler a model checkpoint records for dk sample and dk eval")
        {
            model, sampler, steps, sigmaMax, reset, output, force,
        };
        cmd.SetAction(parseResult =>
        {
            var console = DiffusionCli.Console(parseResult.InvocationConfiguration.Output);
            return DiffusionCli.Run("set-sampler", parseResult.InvocationConfiguration.Error, () =>
            {
                string path = parseResult.GetValue(model)!;
                SamplerDefaults.RequireTeacher(path);
                var before = SamplerDefaults.Of(SafeTensors.ReadHeader(path).Metadata);
                var start = parseResult.GetValue(reset) ? new SamplerDefaults() : before;
                var after = new SamplerDefaults(
                    parseResult.GetValue(sampler) is { } k ? SamplerOptions.ParseKind(k) : start.Kind,
                    parseResult.GetValue(steps) ?? start.Steps,
                    parseResult.GetValue(sigmaMax) ?? start.SigmaMax);
                after.Validate();
                if (after == before)
                {
                    console.MarkupLine(Markup.Escape($"{path}: unchanged ({before})"));
                    return 0;
                }
                string target = path;
                if (parseResult.GetValue(output) is { } copy)
                {
                    target = OutputGuard.File(copy, "--out", parseResult.GetValue(force))!;
                    File.Copy(path, target, overwrite: true);
                }
                else if (!parseResult.GetValue(force))
                {
                    throw new ArgumentException($"--model {path} would be rewritten in place; pass --force to rewrite it or --out NEW to write a copy");
                }
                try
                {
                    SamplerDefaults.Write(target, after);
                }
                catch when (target != path)
                {
                    File.Delete(target);
                    throw;
                }
                var effective = after.ApplyTo(new SamplerOptions());
                console.MarkupLine(Markup.Escape(target == path ? $"{path}: {before} -> {after}" : $"{target}: {before} -> {after} (a copy of {path})"));
                console.MarkupLine(Markup.Escape(DiffusionCli.Inv(
                    $"dk sample and dk eval now default to {effective.Kind.ToString().ToLowerInvariant()} with {effective.Steps} levels from σ_max {effective.SigmaMax}: {effective.Nfe} NFE")));
                return 0;
            });
        });
        return cmd;
    }
}
