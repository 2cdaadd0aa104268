using System.Reflection;
using DiffKernels.Gpu.Checks;
using DiffKernels.Kernels;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace DiffKernels.Tests.Gpu;

/// <summary>
/// Every kernel entry point translates to PTX. The emulator runs kernels as .NET code, so it cannot
/// catch what the ILGPU front end or the PTX back end reject; compiling here proves the CUDA path
/// builds on machines without a GPU (ptxas itself still runs only where a driver is present).
/// </summary>
public class KernelCompileTests
{
    private static Context? _context;
    private static PTXBackend? _backend;

    // Generic entry points are compiled at every shape their constraints admit (GEMM tiles, attention head widths, and
    // the tensor-core GEMM as inline PTX and as its C# twin).
    private static IEnumerable<TestCaseData> Kernels() =>
        typeof(KernelAttribute).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Where(m => m.GetCustomAttribute<KernelAttribute>() != null)
            .SelectMany(m => PtxReport.Instantiate(m, Shapes))
            .Select(m => new TestCaseData(m).SetName($"Ptx({PtxReport.Name(m)})"));

    private static readonly Type[] Shapes = [typeof(GemmLarge), typeof(GemmSmall), typeof(GemmMid), typeof(GemmNarrow), typeof(AttentionD32), typeof(AttentionD64), typeof(Mma), typeof(MmaTwin)];

    [OneTimeSetUp]
    public void CreateBackend()
    {
        _context = Context.Create(b => b.Optimize(OptimizationLevel.O2).EnableAlgorithms());
        _backend = new PTXBackend(_context, new CudaCapabilityContext(CudaArchitecture.SM_75), CudaArchitecture.SM_75, CudaInstructionSet.ISA_70, null);
    }

    [OneTimeTearDown]
    public void DisposeBackend()
    {
        _backend?.Dispose();
        _context?.Dispose();
    }

    [Test]
    public void FindsTheKernels() => Assert.That(Kernels().Count(), Is.GreaterThanOrEqualTo(30));

    [TestCaseSource(nameof(Kernels))]
    public void CompilesToPtx(MethodInfo kernel)
    {
        bool grouped = kernel.GetCustomAttribute<KernelAttribute>()!.Grouped;
        var entry = grouped ? EntryPointDescription.FromExplicitlyGroupedKernel(kernel) : EntryPointDescription.FromImplicitlyGroupedKernel(kernel);
        var compiled = (PTXCompiledKernel)_backend!.Compile(entry, KernelSpecialization.Empty);
        Assert.That(compiled.PTXAssembly, Does.Contain(".entry"));
    }
}
