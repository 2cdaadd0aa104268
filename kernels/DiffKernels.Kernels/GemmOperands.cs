using System.Runtime.CompilerServices;
using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>A stored row-major matrix read as op(A) (transposed when Trans ≠ 0); matrix z starts at Offset + z·Stride.</summary>
internal struct MatA : IGemmA
{
    public ArrayView<float> Data;
    public int Offset, Ld, Stride;
    /// <summary>Nonzero to read the stored matrix transposed (kernel arguments must be blittable: no bool).</summary>
    public int Trans;
    /// <summary>Nonzero when Offset, Ld and Stride are multiples of 4, so aligned runs of four are 16-byte aligned.</summary>
    public int Aligned;

    public readonly bool KFast => Trans == 0;
    public readonly bool Vector => Aligned != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Load(int z, int row, int p) =>
        Data[Offset + z * Stride + (Trans != 0 ? p * Ld + row : row * Ld + p)];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Float4 Load4(int z, int row, int p) =>
        Float4.Load(Data, Offset + z * Stride + (Trans != 0 ? p * Ld + row : row * Ld + p));
}

/// <summary>A stored row-major matrix read as op(B).</summary>
internal struct MatB : IGemmB
{
    public ArrayView<float> Data;
    public int Offset, Ld, Stride;
    /// <summary>Nonzero to read the stored matrix transposed (kernel arguments must be blittable: no bool).</summary>
    public int Trans;
    /// <summary>Nonzero when Offset, Ld and Stride are multiples of 4.</summary>
    public int Aligned;

    public readonly bool KFast => Trans != 0;
    public readonly bool Vector => Aligned != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Load(int z, int p, int col) =>
        Data[Offset + z * Stride + (Trans != 0 ? col * Ld + p : p * Ld + col)];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Float4 Load4(int z, int p, int col) =>
        Float4.Load(Data, Offset + z * Stride + (Trans != 0 ? col * Ld + p : p * Ld + col));
}

/// <summary>
/// C ← α·acc + β·C on a row-major matrix z at Offset + z·Stride; with β = 0 the old C is never read
/// (it may hold NaN). Split-K partials use it with α = 1, β = 0 on a workspace.
/// </summary>
internal struct DenseC : IGemmC
{
    public ArrayView<float> Data;
    public int Offset, Ld, Stride;
    public float Alpha, Beta;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(int z, int row, int col, float acc)
    {
        int i = Offset + z * Stride + row * Ld + col;
        Data[i] = Beta == 0f ? Alpha * acc : Alpha * acc + Beta * Data[i];
    }
}
