using System.CommandLine;
using DiffKernels.Gpu.Checks;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk ptx-report [--out FILE]`: compiles the hot kernels to PTX (no GPU needed) and prints, per
/// kernel, its main loop's FMAs per shared load, load widths, div/rem and registers; exits 1 when
/// the GEMM or the tiled attention kernels miss their thresholds.
/// </summary>
internal static class PtxReportCommand
{
    public static Command Create()
    {
        var output = new Option<string?>("--out") { Description = "Also write the report to this file" };
        var force = OutputGuard.ForceOption("an existing --out file");
        var cmd = new Command("ptx-report", "Static PTX report of the hot kernels' main loops, with the GEMM and attention thresholds checked") { output, force };
        cmd.SetAction(parseResult =>
        {
            var o = parseResult.InvocationConfiguration.Output;
            return DiffusionCli.Run("ptx-report", parseResult.InvocationConfiguration.Error, () =>
            {
                string? path = OutputGuard.File(parseResult.GetValue(output), "--out", parseResult.GetValue(force));
                var reports = PtxReport.Run();
                string text = PtxReport.Format(reports);
                o.Write(text);
                if (path != null) File.WriteAllText(path, text);
                return PtxReport.GemmViolations(reports).Count + PtxReport.AttentionViolations(reports).Count == 0 ? 0 : 1;
            });
        });
        return cmd;
    }
}
