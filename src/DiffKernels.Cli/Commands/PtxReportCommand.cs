using System.CommandLine;
using DiffKernels.Gpu.Checks;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk ptx-report [--out FILE]`: compiles the hot kernels to PTX (no GPU needed) and prints, per
/// kernel, its main loop's FMAs per shared load, load widths, div/rem and registers, then every
/// kernel's approximate and double-precision instruction counts; exits 1 when the GEMM, a
/// convolution, the tiled attention kernels or the tensor-core GEMM miss their thresholds, or a kernel
/// uses an approximate instruction or unlisted double precision.
/// </summary>
internal static class PtxReportCommand
{
    public static Command Create()
    {
        var output = new Option<string?>("--out") { Description = "Also write the report to this file" };
        var force = OutputGuard.ForceOption("an existing --out file");
        var cmd = new Command("ptx-report", "Static PTX report of the hot kernels' main loops and of every kernel's math instructions, with the GEMM, convolution and attention thresholds and precise math checked") { output, force };
        cmd.SetAction(parseResult =>
        {
            var o = parseResult.InvocationConfiguration.Output;
            return DiffusionCli.Run("ptx-report", parseResult.InvocationConfiguration.Error, () =>
            {
                string? path = OutputGuard.File(parseResult.GetValue(output), "--out", parseResult.GetValue(force));
                var reports = PtxReport.Run();
                var math = PtxMath.Run();
                string text = PtxReport.Format(reports) + Environment.NewLine + PtxMath.Format(math);
                o.Write(text);
                if (path != null) File.WriteAllText(path, text);
                return PtxReport.GemmViolations(reports).Count + PtxReport.ConvViolations(reports).Count
                    + PtxReport.AttentionViolations(reports).Count + PtxReport.TensorViolations(reports).Count + PtxMath.Violations(math).Count == 0 ? 0 : 1;
            });
        });
        return cmd;
    }
}
