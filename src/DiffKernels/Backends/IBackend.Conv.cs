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

    /// <summary>
    /// <see cref="Conv2dBackwardWeight"/> and the bias gradient db[co] = Σ_{n,oh,ow} dy[n,oh,ow,co] [Cout]
    /// (overwritten) in one call, so that a backend may reduce dy for both in one pass. By default the
    /// weight gradient and then the sum (<see cref="Reduce"/>).
    /// </summary>
    void Conv2dBackwardWeightBias(Conv2dGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer db)
    {
        Conv2dBackwardWeight(g, x, dy, dw);
        Reduce(ReduceOp.Sum, dy, db, 1, (long)g.N * g.OH * g.OW, g.Cout);
    }
}
