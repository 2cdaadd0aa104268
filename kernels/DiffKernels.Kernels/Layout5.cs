namespace DiffKernels.Kernels;

/// <summary>
/// A logical shape of rank ≤ 5 with the strides of up to three operands, passed by value to the
/// strided kernels. Dimensions are right-aligned (D4 is innermost; unused leading dimensions are 1
/// with stride 0), so every kernel decomposes an index with the same five fixed steps.
/// </summary>
internal struct Layout5
{
    public int D0, D1, D2, D3, D4;
    public int A0, A1, A2, A3, A4;
    public int B0, B1, B2, B3, B4;
    public int C0, C1, C2, C3, C4;

    /// <summary>Offsets of element <paramref name="i"/> (row-major over the shape) in the three operands.</summary>
    public readonly void Offsets(int i, out int a, out int b, out int c)
    {
        int r = i, k;
        k = r % D4; r /= D4; a = k * A4; b = k * B4; c = k * C4;
        k = r % D3; r /= D3; a += k * A3; b += k * B3; c += k * C3;
        k = r % D2; r /= D2; a += k * A2; b += k * B2; c += k * C2;
        k = r % D1; r /= D1; a += k * A1; b += k * B1; c += k * C1;
        a += r * A0; b += r * B0; c += r * C0;
    }
}
