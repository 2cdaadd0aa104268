namespace DiffKernels.Backends;

/// <summary>
/// Shape of a 2-D convolution over NHWC input x [N, H, W, Cin] with weight [Cout, KH, KW, Cin],
/// giving output [N, OH, OW, Cout]. Padding is zeros on both sides of each spatial axis.
/// </summary>
/// <param name="N">Batch size.</param>
/// <param name="H">Input height.</param>
/// <param name="W">Input width.</param>
/// <param name="Cin">Input channels.</param>
/// <param name="Cout">Output channels.</param>
/// <param name="KH">Kernel height.</param>
/// <param name="KW">Kernel width.</param>
/// <param name="StrideH">Vertical stride (≥ 1).</param>
/// <param name="StrideW">Horizontal stride (≥ 1).</param>
/// <param name="PadH">Zero rows added above and below.</param>
/// <param name="PadW">Zero columns added left and right.</param>
public readonly record struct Conv2dGeometry(int N, int H, int W, int Cin, int Cout, int KH, int KW, int StrideH, int StrideW, int PadH, int PadW)
{
    /// <summary>Output height.</summary>
    public int OH => (H + 2 * PadH - KH) / StrideH + 1;

    /// <summary>Output width.</summary>
    public int OW => (W + 2 * PadW - KW) / StrideW + 1;

    /// <summary>Length of one flattened input patch, KH·KW·Cin (a row of the im2col matrix, of the flattened weight).</summary>
    public int PatchSize => KH * KW * Cin;

    /// <summary>True for a 1×1, stride-1, unpadded convolution: a plain product over pixels.</summary>
    public bool IsPointwise => KH == 1 && KW == 1 && StrideH == 1 && StrideW == 1 && PadH == 0 && PadW == 0;
}
