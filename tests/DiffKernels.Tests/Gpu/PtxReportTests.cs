using DiffKernels.Gpu.Checks;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Gpu;

/// <summary>
/// The static PTX proof: the loop analysis on hand-written PTX, and the hot kernels' report, whose
/// GEMM thresholds (FMAs per shared load, no div/rem, 128-bit loads) guard the structure of the GEMM
/// and of the three convolutions on its core; attention thresholds (FMAs per shared load, no div/rem)
/// that of the tiled attention kernels; the tensor-core thresholds (mma.sync and cvt.rna per slab, no
/// div/rem) that of the TF32 GEMM as CUDA compiles it.
/// </summary>
public class PtxReportTests
{
    private const string TwoLoops = """
        .visible .entry k(
        )
        {
        	.reg .f32	%f<9>;
        	.reg .b32	%r<5>;
        L_outer:
        	div.s32	%r1, %r2, %r3;
        L_inner:
        	ld.shared.v4.f32	{%f1, %f2, %f3, %f4}, [%rd1];
        	mul.f32	%f5, %f1, %f2;
        	add.f32	%f6, %f6, %f5;
        	fma.rn.f32	%f7, %f3, %f4, %f7;
        	@%p1 bra	L_inner;
        	ld.global.f32	%f8, [%rd2];
        	@%p2 bra.uni	L_outer;
        	ret;
        }
        """;

    [Test]
    public void MainLoopIsTheInnerLoopWithItsOwnCounts()
    {
        var r = PtxAnalysis.Analyze("k", TwoLoops);
        Assert.That(r.MainLoopFmas, Is.EqualTo(2), "fma and a contractible mul+add");
        Assert.That(r.MainLoopSharedLoads, Is.EqualTo(1));
        Assert.That(r.VectorSharedLoads, Is.True);
        Assert.That(r.MainLoopLoads.Keys, Is.EquivalentTo(new[] { "ld.shared.v4.f32" }), "the outer loop's global load is not the main loop's");
        Assert.That(r.MainLoopDivRem, Is.Zero);
        Assert.That(r.LoopDivRem, Is.EqualTo(1));
        Assert.That(r.VirtualRegisters, Is.EqualTo(14));
    }

    private const string MmaLoop = """
        .visible .entry k(
        )
        {
        L_fma:
        	fma.rn.f32	%f1, %f2, %f3, %f1;
        	fma.rn.f32	%f4, %f2, %f3, %f4;
        	@%p1 bra	L_fma;
        L_mma:
        	ld.shared.f32	%f5, [%rd1];
        	cvt.rna.tf32.f32 	%r1, %f5;
        	st.local.b32	[%rd2], %r1;
        	ld.local.b32	%r2, [%rd2];
        	mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%f6, %f7, %f8, %f9}, {%r2, %r2, %r2, %r2}, {%r2, %r2}, {%f6, %f7, %f8, %f9};
        	@%p2 bra	L_mma;
        	ret;
        }
        """;

    [Test]
    public void TheMainLoopOfATensorKernelIsTheOneWithTheMma()
    {
        var r = PtxAnalysis.Analyze("k", MmaLoop);
        Assert.That(r.MainLoopMmas, Is.EqualTo(1), "the mma loop wins over a loop with more FMAs");
        Assert.That(r.MainLoopFmas, Is.Zero);
        Assert.That(r.MainLoopTf32Cvts, Is.EqualTo(1));
        Assert.That(r.MainLoopLocal, Is.EqualTo(2));
        Assert.That(r.MainLoopSharedLoads, Is.EqualTo(1));
    }

    [Test]
    public void HotKernelsReportAndTheGemmConvolutionsAndAttentionMeetTheirThresholds()
    {
        var reports = PtxReport.Run();
        TestContext.Out.WriteLine(PtxReport.Format(reports));
        Assert.That(reports.Select(r => r.Kernel), Does.Contain("GemmKernels.Gemm<GemmLarge>").And.Contain("GemmKernels.Gemm<GemmSmall>").And.Contain("ConvKernels.Forward<GemmLarge>")
            .And.Contain("ConvKernels.BackwardData<GemmNarrow>").And.Contain("ConvKernels.BackwardWeight<GemmNarrow>"));
        Assert.That(reports.All(r => r.MainLoopFmas > 0 || r.MainLoopMmas > 0), Is.True, "every hot kernel has a main loop with arithmetic");
        Assert.That(PtxReport.GemmViolations(reports), Is.Empty);
        Assert.That(PtxReport.ConvViolations(reports), Is.Empty);
        Assert.That(reports.Where(r => r.Kernel.StartsWith("ConvKernels.", StringComparison.Ordinal)).Select(r => r.LoopDivRem), Is.All.Zero,
            "no conv loop divides, the loops that walk a tap or a pixel row included");
        Assert.That(reports.Select(r => r.Kernel), Does.Contain("AttentionKernels.Forward<AttentionD64>").And.Contain("AttentionKernels.Backward<AttentionD32>"));
        Assert.That(PtxReport.AttentionViolations(reports), Is.Empty);
        var tensor = reports.Where(r => r.Kernel.EndsWith(", Mma>", StringComparison.Ordinal)).ToList();
        Assert.That(tensor.Select(r => r.Kernel), Is.EquivalentTo(new[]
        {
            "GemmKernels.GemmTf32<GemmLarge, Mma>", "GemmKernels.GemmTf32<GemmSmall, Mma>",
            "GemmKernels.Gemm3xTf32<GemmLarge, Mma>", "GemmKernels.Gemm3xTf32<GemmSmall, Mma>",
        }));
        foreach (var r in tensor)
        {
            Assert.That(r.MainLoopMmas, Is.EqualTo(PtxReport.MmasPerSlab(r.Kernel)), $"{r.Kernel}: one mma.sync per 16 × 8 block and pass, per slab");
            Assert.That(r.MainLoopTf32Cvts, Is.EqualTo(PtxReport.CvtsPerSlab(r.Kernel)), $"{r.Kernel}: each fragment register rounded once per slab");
            Assert.That(r.MainLoopDivRem, Is.Zero, r.Kernel);
            Assert.That(r.MainLoopFmas, Is.Zero, $"{r.Kernel}: the C# twin left no arithmetic in the CUDA kernel");
        }
        Assert.That(PtxReport.TensorViolations(reports), Is.Empty);
    }

    [Test]
    public void DkPtxReportWritesTheReportAndExitsZero()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ptx-report-{Guid.NewGuid():N}.txt");
        try
        {
            var (code, stdout, stderr) = Dk("ptx-report", "--out", path);
            Assert.That(code, Is.EqualTo(0), stderr);
            Assert.That(stdout, Does.Contain("GemmKernels.Gemm<GemmLarge>").And.Contain("GEMM thresholds met").And.Contain("Convolution thresholds met")
                .And.Contain("Attention thresholds met").And.Contain("Tensor-core thresholds met").And.Contain("Precise math met"));
            Assert.That(File.ReadAllText(path), Is.EqualTo(stdout));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
