using DiffKernels.Gpu;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Gpu;

/// <summary>
/// Choosing the GPU matrix products' precision: the names, DK_GPU_MATMUL as GpuBackend.Create reads it, one-line
/// errors for a bad name, and dk bench naming the results of a TF32 run after their precision.
/// </summary>
[NonParallelizable]
public class MatmulPrecisionTests
{
    private string? _saved;

    [SetUp]
    public void Save() => _saved = Environment.GetEnvironmentVariable(MatmulPrecisions.EnvironmentVariable);

    [TearDown]
    public void Restore() => Environment.SetEnvironmentVariable(MatmulPrecisions.EnvironmentVariable, _saved);

    [TestCase("fp32", MatmulPrecision.Fp32)]
    [TestCase("TF32", MatmulPrecision.Tf32)]
    [TestCase(" 3xtf32 ", MatmulPrecision.Tf32x3)]
    public void NamesParse(string text, MatmulPrecision expected)
    {
        Assert.That(MatmulPrecisions.Parse(text, "--x"), Is.EqualTo(expected));
        Assert.That(MatmulPrecisions.Parse(MatmulPrecisions.Name(expected), "--x"), Is.EqualTo(expected));
    }

    [Test]
    public void AnUnknownNameNamesItsSubjectAndTheChoices()
    {
        var e = Assert.Throws<InvalidInputException>(() => MatmulPrecisions.Parse("bf16", "DK_GPU_MATMUL"))!;
        Assert.That(e.Message, Is.EqualTo("DK_GPU_MATMUL: 'bf16' is not a matmul precision; expected one of fp32, tf32, 3xtf32"));
    }

    [Test]
    public void CreateReadsTheVariableAndAnExplicitPrecisionWins()
    {
        Environment.SetEnvironmentVariable(MatmulPrecisions.EnvironmentVariable, null);
        Assert.That(MatmulPrecisions.FromEnvironment(), Is.EqualTo(MatmulPrecision.Fp32));
        Environment.SetEnvironmentVariable(MatmulPrecisions.EnvironmentVariable, "3xtf32");
        using (var gpu = GpuBackend.Create(GpuKind.CpuEmulator))
        {
            Assert.That(gpu.MatmulPrecision, Is.EqualTo(MatmulPrecision.Tf32x3));
            Assert.That(gpu.HasTensorCores, Is.True, "the emulator runs the C# twin");
        }
        using (var gpu = GpuBackend.Create(GpuKind.CpuEmulator, MatmulPrecision.Fp32))
            Assert.That(gpu.MatmulPrecision, Is.EqualTo(MatmulPrecision.Fp32));
    }

    [Test]
    public void ABadVariableIsAOneLineBenchError()
    {
        Environment.SetEnvironmentVariable(MatmulPrecisions.EnvironmentVariable, "fp16");
        AssertOneLineError(Dk("bench", "gemm-4096", "--backend", "cpu-emulator", "--tiny"), "dk bench: --backend cpu-emulator: DK_GPU_MATMUL: 'fp16' is not a matmul precision");
    }

    [Test]
    public void BenchNamesTf32ResultsAfterTheirPrecision()
    {
        Environment.SetEnvironmentVariable(MatmulPrecisions.EnvironmentVariable, "tf32");
        var (code, stdout, stderr) = Dk("bench", "gemm-4096", "--backend", "cpu-emulator", "--tiny", "--json");
        Assert.That(code, Is.EqualTo(0), stderr);
        var result = DiffKernels.Bench.BenchResult.FromJsonLine(stdout.Split('\n').Single(l => l.StartsWith('{')));
        Assert.That(result.Case, Is.EqualTo("gemm-4096-tf32"));
        Assert.That(result.Backend, Is.EqualTo("cpu-emulator"));
    }
}
