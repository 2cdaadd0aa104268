using System.Runtime.CompilerServices;
using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>
/// A GEMM tile shape fixed at compile time: kernels are generic over it, so ILGPU folds every tile
/// size into constants (shifts and masks instead of division, unrolled staging loops, static
/// shared memory). A group is WarpsM × WarpsN warps of 32 threads; each warp owns a 64 × 32 block
/// of C, each thread an 8 × 8 block of it; slabs are 8 deep. The core stages one, two or four runs
/// of four of each A slab per thread and one or two of each B slab, which bounds the shapes to
/// WarpsN ≥ 1 and WarpsM ≤ 2.
/// </summary>
internal interface IGemmShape
{
    /// <summary>Warps along the rows of C.</summary>
    int WarpsM { get; }

    /// <summary>Warps along the columns of C.</summary>
    int WarpsN { get; }
}

/// <summary>128 × 128 tiles, 256 threads: the shape for products with enough tiles to fill the device.</summary>
internal struct GemmLarge : IGemmShape
{
    public readonly int WarpsM => 2;
    public readonly int WarpsN => 4;
}

/// <summary>64 × 64 tiles, 64 threads: four times the groups of <see cref="GemmLarge"/> for small products.</summary>
internal struct GemmSmall : IGemmShape
{
    public readonly int WarpsM => 1;
    public readonly int WarpsN => 2;
}

/// <summary>128 × 64 tiles, 128 threads: products 64 columns wide (convolutions with 64 output channels).</summary>
internal struct GemmMid : IGemmShape
{
    public readonly int WarpsM => 2;
    public readonly int WarpsN => 2;
}

/// <summary>128 × 32 tiles, 64 threads: products 32 columns wide or less (convolutions with 16 or 32 output channels).</summary>
internal struct GemmNarrow : IGemmShape
{
    public readonly int WarpsM => 2;
    public readonly int WarpsN => 1;
}

/// <summary>Four floats moved as one 128-bit load or store (ld.global.v4.f32 / ld.shared.v4.f32 on CUDA).</summary>
internal struct Float4
{
    public float X, Y, Z, W;

    /// <summary>The 16-byte-aligned four floats at <paramref name="i"/> (a multiple of 4) of a view whose start is 16-byte aligned.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float4 Load(ArrayView<float> v, int i) => v.Cast<Float4>()[i >> 2];

    /// <summary>
    /// The first <paramref name="count"/> (0 to 4) of the four floats at <paramref name="i"/>, zeros
    /// after them: one 128-bit load when all four are wanted and <paramref name="aligned"/> says i is a
    /// multiple of 4, scalar loads otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float4 Load(ArrayView<float> v, int i, int count, bool aligned)
    {
        if (aligned && count == 4) return Load(v, i);
        return new Float4
        {
            X = count > 0 ? v[i] : 0f,
            Y = count > 1 ? v[i + 1] : 0f,
            Z = count > 2 ? v[i + 2] : 0f,
            W = count > 3 ? v[i + 3] : 0f,
        };
    }
}
