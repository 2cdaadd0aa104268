namespace DiffKernels.Backends;

public partial interface IBackend
{
    /// <summary>
    /// y[n,oh,ow,co] = bias[co] + Σ_{kh,kw,ci} x[n, oh·sh − ph + kh, ow·sw − pw + kw, ci]·w[co,kh,kw,ci],
    /// reading zeros outside x. Layouts: x [N,H,W,Cin], w [Cout,KH,KW,Cin], y [N,OH,OW,Cout] (overwritten).
    /// </summary>
    void Conv2dForward(Conv2dGeometry g, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y);

    /// <summary>The input gradient dx [N,H,W,Cin] (overwritten) of <see cref="Conv2dForward"/> given dy [N,OH,OW,Cout].</summary>
    void Conv2dBackwardData(Conv2dGeometry g, DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx);

    /// <summary>The weight gradient dw [Cout,KH,KW,Cin] (overwritten) of <see cref="Conv2dForward"/> given x and dy.</summary>
    void Conv2dBackwardWeight(Conv2dGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw);
}
