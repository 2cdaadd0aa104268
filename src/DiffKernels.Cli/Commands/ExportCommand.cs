using System.CommandLine;
using DiffKernels.Diffusion.Models;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk export --model RUN/model.safetensors --out models/X.safetensors [--force]`: writes the release checkpoint of a
/// training checkpoint (EMA weights, config, sampler defaults and provenance, F32, no training state); how models/ is filled.
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A training checkpoint (e.g. runs/t8/model.safetensors)", Required = true };
        var output = new Option<string>("--out") { Description = "The release checkpoint to write", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace --out when it exists" };
        var cmd = new Command("export", "Write the release checkpoint of a training checkpoint: sampling weights, config and provenance only") { model, output, force };
        cmd.SetAction(parseResult =>
        {
            var console = DiffusionCli.Console(parseResult.InvocationConfiguration.Output);
            return DiffusionCli.Run("export", parseResult.InvocationConfiguration.Error, () =>
            {
                string source = parseResult.GetValue(model)!, destination = parseResult.GetValue(output)!;
                // The export names the case of --out being its own source itself; any other destination is checked here first.
                if (Path.GetFullPath(source) != Path.GetFullPath(destination)) OutputGuard.File(destination, "--out", parseResult.GetValue(force));
                var summary = ReleaseCheckpoint.Export(source, destination, parseResult.GetValue(force));
                console.MarkupLine(Markup.Escape(DiffusionCli.Inv(
                    $"wrote {destination}: {summary.Tensors} tensors, {summary.Bytes:N0} bytes, from {summary.Source.Description} ({summary.Dropped} training-state tensors left behind)")));
                return 0;
            });
        });
        return cmd;
    }
}
