using DiffKernels.Gpu.Checks;

namespace DiffKernels.Tests.Gpu;

/// <summary>
/// The precise-math proof of `dk ptx-report`: the instruction counts on hand-written PTX, and no
/// approximate special-function instruction in any compiled kernel, double precision only where a
/// reason is listed.
/// </summary>
public class PtxMathTests
{
    private const string Mixed = """
        .visible .entry k(
        )
        {
        	.reg .f32	%f<9>;
        	.reg .f64	%fd<4>;
        	ex2.approx.f32	%f2, %f1;
        	@%p1 ex2.approx.ftz.f32	%f3, %f2;
        	lg2.approx.f32	%f4, %f3;
        	div.full.f32	%f5, %f4, %f3;
        	div.rn.f32	%f6, %f4, %f3;
        	sqrt.rn.f32	%f7, %f6;
        	div.s32	%r1, %r2, %r3;
        	cvt.f64.f32	%fd1, %f7;
        	mul.f64	%fd2, %fd1, %fd1;
        	setp.lt.f64	%p2, %fd2, 0d0000000000000000;
        	cvt.rn.f32.f64	%f8, %fd2;
        	ret;
        }
        """;

    [Test]
    public void CountsApproximateAndDoubleInstructions()
    {
        var r = PtxMath.Analyze("k", Mixed);
        Assert.That(r.Approximate, Is.EquivalentTo(new Dictionary<string, int>
        {
            ["ex2.approx.f32"] = 1, ["ex2.approx.ftz.f32"] = 1, ["lg2.approx.f32"] = 1, ["div.full.f32"] = 1,
        }), "div.rn and sqrt.rn are exact roundings, not approximations");
        Assert.That(r.F64, Is.EqualTo(4), "the .reg declaration is not an instruction");
        Assert.That(r.IntDivRem, Is.EqualTo(1));
        Assert.That(PtxMath.Violations([r]), Has.Count.EqualTo(2));
    }

    [Test]
    public void NoKernelUsesAnApproximateInstructionAndDoubleOnlyWhereListed()
    {
        var reports = PtxMath.Run();
        TestContext.Out.WriteLine(PtxMath.Format(reports));
        Assert.That(reports.Select(r => r.Kernel), Does.Contain("ElementwiseKernels.Unary").And.Contain("SoftmaxKernels.Rows").And.Contain("RandomKernels.Normal"));
        Assert.That(PtxMath.Violations(reports), Is.Empty);
        Assert.That(reports.Where(r => r.F64 > 0).Select(r => r.Kernel), Is.EquivalentTo(PtxMath.DoubleAllowed.Keys),
            "a kernel that no longer needs double leaves the list");
    }
}
