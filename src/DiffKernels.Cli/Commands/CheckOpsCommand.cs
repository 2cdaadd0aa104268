using System.CommandLine;
using System.Diagnostics;
using DiffKernels.Gpu;
using DiffKernels.Gpu.Checks;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk check-ops`: runs the op matrix (every backend op, forward and backward) on a GPU backend and
/// compares each result with the CPU backend. Prints each op's normalised error and verdict, then a
/// summary; exits 1 when any op fails, 2 when the backend is not available.
/// </summary>
internal static class CheckOpsCommand
{
    public static Command Create()
    {
        var backend = new Option<string>("--backend")
        {
            Description = "Accelerator to check: auto, cuda, opencl or cpu-emulator",
            DefaultValueFactory = _ => "auto",
        };
        backend.AcceptOnlyFromAmong("auto", "cuda", "opencl", "cpu-emulator");
        var filter = new Option<string?>("--filter") { Description = "Only the cases whose family or name contains this text" };
        var cmd = new Command("check-ops", "Check every GPU op against the CPU backend and print a pass/fail table") { backend, filter };
        cmd.SetAction(parseResult =>
        {
            var o = parseResult.InvocationConfiguration.Output;
            var err = parseResult.InvocationConfiguration.Error;
            var kind = parseResult.GetValue(backend) switch
            {
                "cuda" => GpuKind.Cuda,
                "opencl" => GpuKind.OpenCL,
                "cpu-emulator" => GpuKind.CpuEmulator,
                _ => GpuKind.Auto,
            };
            string? text = parseResult.GetValue(filter);
            var cases = OpMatrix.All
                .Where(c => text == null || c.Name.Contains(text, StringComparison.OrdinalIgnoreCase) || c.Family.Contains(text, StringComparison.OrdinalIgnoreCase))
                .ToList();
            // Checked before the accelerator opens: a filter that matches nothing would otherwise pass with nothing checked.
            if (cases.Count == 0)
            {
                err.WriteLine($"dk check-ops: --filter {text} matches no case; families: {string.Join(", ", OpMatrix.All.Select(c => c.Family).Distinct())}");
                return CliErrors.UserError;
            }
            GpuBackend gpu;
            try
            {
                // FP32 whatever DK_GPU_MATMUL says: the matrix checks the FP32 contract, and its tensor-core cases set their own precision.
                gpu = GpuBackend.Create(kind, MatmulPrecision.Fp32);
            }
            catch (GpuUnavailableException e)
            {
                err.WriteLine($"dk check-ops: {e.Message}");
                return CliErrors.UserError;
            }
            using (gpu) return Run(o, gpu, cases);
        });
        return cmd;
    }

    internal static int Run(TextWriter o, GpuBackend gpu, IReadOnlyList<OpCase> cases)
    {
        int skipped = 0;
        if (!gpu.HasTensorCores)
        {
            skipped = cases.Count(c => c.Family == OpMatrix.TensorFamily);
            cases = cases.Where(c => c.Family != OpMatrix.TensorFamily).ToList();
        }
        o.WriteLine($"op matrix on {gpu.Device} ({gpu.AcceleratorName}) against cpu: {cases.Count} cases");
        if (skipped > 0) o.WriteLine($"skipped the {skipped} {OpMatrix.TensorFamily} cases: this accelerator has no TF32 tensor cores");
        o.WriteLine();
        int nameWidth = Math.Max(4, cases.Select(c => c.Name.Length).DefaultIfEmpty(0).Max());
        int familyWidth = Math.Max(6, cases.Select(c => c.Family.Length).DefaultIfEmpty(0).Max());
        string Row(string family, string name, string error, string tol, string verdict, string ms) =>
            $"{family.PadRight(familyWidth)}  {name.PadRight(nameWidth)}  {error,10}  {tol,9}  {verdict,-6}  {ms,8}";
        o.WriteLine(Row("family", "case", "error", "tolerance", "result", "ms"));
        o.WriteLine(Row(new string('-', familyWidth), new string('-', nameWidth), "----------", "---------", "------", "--------"));
        var total = Stopwatch.StartNew();
        var failed = new List<OpResult>();
        foreach (var c in cases)
        {
            var r = OpMatrixRunner.Run(c, gpu.Device);
            if (!r.Passed) failed.Add(r);
            o.WriteLine(Row(r.Family, r.Name, double.IsNaN(r.Error) ? "-" : r.Error.ToString("0.00e+00"), r.Tolerance.ToString("0.0e+00"),
                r.Passed ? "pass" : "FAIL", r.Elapsed.TotalMilliseconds.ToString("0.0")));
        }
        o.WriteLine();
        foreach (var r in failed) o.WriteLine(r);
        o.WriteLine($"{cases.Count - failed.Count} passed, {failed.Count} failed of {cases.Count} ops on {gpu.Device} in {total.Elapsed.TotalSeconds:0.0} s");
        return failed.Count == 0 ? 0 : 1;
    }
}
