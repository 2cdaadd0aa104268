using System.Runtime.CompilerServices;
using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>
/// A stored row-major matrix read as op(A) (transposed when Trans ≠ 0); matrix z starts at Offset + z·Stride.
/// The cursor is the index of its run's first element: the run is contiguous either way.
/// </summary>
internal struct MatA : IGemmA
{
    public ArrayView<float> Data;
    public int Offset, Ld, Stride;
    /// <summary>Nonzero to read the stored matrix transposed (kernel arguments must be blittable: no bool).</summary>
    public int Trans;
    /// <summary>Nonzero when Offset, Ld and Stride are multiples of 4, so aligned runs of four are 16-byte aligned.</summary>
    public int Aligned;
    private int _at;

    public readonly bool KFast => Trans == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Start(int z, int row, int p) => _at = Offset + z * Stride + (Trans != 0 ? p * Ld + row : row * Ld + p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Float4 Fetch(int count) => Float4.Load(Data, _at, count, Aligned != 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Advance() => _at += Trans != 0 ? GemmTile.BK * Ld : GemmTile.BK;
}

/// <summary>A stored row-major matrix read as op(B) (cursor as in <see cref="MatA"/>).</summary>
internal struct MatB : IGemmB
{
    public ArrayView<float> Data;
    public int Offset, Ld, Stride;
    /// <summary>Nonzero to read the stored matrix transposed (kernel arguments must be blittable: no bool).</summary>
    public int Trans;
    /// <summary>Nonzero when Offset, Ld and Stride are multiples of 4.</summary>
    public int Aligned;
    private int _at;

    public readonly bool KFast => Trans != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Start(int z, int p, int col) => _at = Offset + z * Stride + (Trans != 0 ? col * Ld + p : p * Ld + col);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Float4 Fetch(int count) => Float4.Load(Data, _at, count, Aligned != 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Advance() => _at += Trans != 0 ? GemmTile.BK : GemmTile.BK * Ld;
}

/// <summary>
/// C ← α·acc + β·C on a row-major matrix z at Offset + z·Stride; with β = 0 the old C is never read
/// (it may hold NaN).
/// </summary>
internal struct DenseC : IGemmC
{
    public ArrayView<float> Data;
    public int Offset, Ld, Stride;
    public float Alpha, Beta;

    /// <summary>A per-column bias added to every row when <see cref="HasBias"/> ≠ 0 (then Beta is 0); any view otherwise.</summary>
    public ArrayView<float> Bias;
    public int HasBias;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(int z, int row, int col, float acc)
    {
        int i = Offset + z * Stride + row * Ld + col;
        Data[i] = HasBias != 0 ? Alpha * acc + Bias[col] : Beta == 0f ? Alpha * acc : Alpha * acc + Beta * Data[i];
    }
}
