using System.CommandLine;
using DiffKernels.Diffusion.Models;
using DiffKernels.IO;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk export --model RUN/model.safetensors --out models/X.safetensors [--dtype f16] [--force]`: writes the release
/// checkpoint of a training checkpoint (EMA weights, config, sampler defaults and provenance, no training state); how
/// models/ is filled. F16 halves the file, which is what lets a few-step student's whole family fit the size budget.
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A training checkpoint (e.g. runs/t8/model.safetensors)", Required = true };
        var output = new Option<string>("--out") { Description = "The release checkpoint to write", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace --out when it exists" };
        var dtype = new Option<string>("--dtype") { Description = "Storage of the weights: f32 (bit for bit), f16 or bf16 (rounded, half the size)", DefaultValueFactory = _ => "f32" };
        var cmd = new Command("export", "Write the release checkpoint of a training checkpoint: sampling weights, config and provenance only") { model, output, dtype, force };
        cmd.SetAction(parseResult =>
        {
            var console = DiffusionCli.Console(parseResult.InvocationConfiguration.Output);
            return DiffusionCli.Run("export", parseResult.InvocationConfiguration.Error, () =>
            {
                string source = parseResult.GetValue(model)!, destination = parseResult.GetValue(output)!;
                var stored = parseResult.GetValue(dtype) switch
                {
                    "f32" => DType.F32, "f16" => DType.F16, "bf16" => DType.BF16,
                    var other => throw new ArgumentException($"--dtype {other}: expected f32, f16 or bf16"),
                };
                if (!File.Exists(source)) throw new ArgumentException($"--model {source} does not exist; expected a training checkpoint (e.g. runs/NAME/model.safetensors)");
                // The export names the case of --out being its own source itself; any other destination is checked here first.
                if (Path.GetFullPath(source) != Path.GetFullPath(destination)) OutputGuard.File(destination, "--out", parseResult.GetValue(force));
                var summary = ReleaseCheckpoint.Export(source, destination, parseResult.GetValue(force), stored);
                console.MarkupLine(Markup.Escape(DiffusionCli.Inv(
                    $"wrote {destination}: {summary.Tensors} {stored} tensors, {summary.Bytes:N0} bytes, from {summary.Source.Description} ({summary.Dropped} training-state tensors left behind)")));
                return 0;
            });
        });
        return cmd;
    }
}
