using System.Runtime.CompilerServices;
using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>
/// The head width the tiled attention kernels are compiled for: kernels are generic over it, so the
/// width, the shared tile sizes and every per-thread register tile are constants in the PTX (shifts
/// and masks, static shared memory). A head of width d ≤ D runs zero-padded to D.
/// </summary>
internal interface IAttentionShape
{
    /// <summary>Padded head width: 32 or 64.</summary>
    int D { get; }
}

/// <summary>Heads of width up to 32 (UNet-XS attention at 8×8).</summary>
internal struct AttentionD32 : IAttentionShape
{
    public readonly int D => 32;
}

/// <summary>Heads of width 33 to 64 (DiT-S/4, UNet-S attention at 8×8).</summary>
internal struct AttentionD64 : IAttentionShape
{
    public readonly int D => 64;
}

/// <summary>Dot products, scaled updates and bounded stores of <see cref="Float4"/> register values.</summary>
internal static class Float4Math
{
    /// <summary>acc + a·b, as a chain of four multiply-adds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float acc, Float4 a, Float4 b) => acc + a.X * b.X + a.Y * b.Y + a.Z * b.Z + a.W * b.W;

    /// <summary>acc += s·v.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(ref Float4 acc, float s, Float4 v)
    {
        acc.X += s * v.X;
        acc.Y += s * v.Y;
        acc.Z += s * v.Z;
        acc.W += s * v.W;
    }

    /// <summary>acc += v.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add(ref Float4 acc, Float4 v)
    {
        acc.X += v.X;
        acc.Y += v.Y;
        acc.Z += v.Z;
        acc.W += v.W;
    }

    /// <summary>acc ·= s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scale(ref Float4 acc, float s)
    {
        acc.X *= s;
        acc.Y *= s;
        acc.Z *= s;
        acc.W *= s;
    }

    /// <summary>Sets component <paramref name="i"/> (a constant after inlining) of <paramref name="v"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Set(ref Float4 v, int i, float x)
    {
        if (i == 0) v.X = x;
        else if (i == 1) v.Y = x;
        else if (i == 2) v.Z = x;
        else v.W = x;
    }

    /// <summary>Columns <paramref name="c"/> .. c + 3 of the row at <paramref name="at"/>, zero at or past <paramref name="d"/> or when not <paramref name="inside"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float4 Load(ArrayView<float> src, int at, int c, int d, bool inside) => new()
    {
        X = inside && c < d ? src[at + c] : 0f,
        Y = inside && c + 1 < d ? src[at + c + 1] : 0f,
        Z = inside && c + 2 < d ? src[at + c + 2] : 0f,
        W = inside && c + 3 < d ? src[at + c + 3] : 0f,
    };

    /// <summary>Writes v to columns <paramref name="c"/> .. c + 3 of the row at <paramref name="at"/>, those below <paramref name="d"/> only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(ArrayView<float> dst, int at, int c, int d, Float4 v)
    {
        if (c < d) dst[at + c] = v.X;
        if (c + 1 < d) dst[at + c + 1] = v.Y;
        if (c + 2 < d) dst[at + c + 2] = v.Z;
        if (c + 3 < d) dst[at + c + 3] = v.W;
    }
}

/// <summary>
/// The head-width columns a thread owns, as up to four 128-bit chunks in registers: chunk n is columns
/// 4·(lane + 4n) .. +3 of a 4-lane quad, so the quad's lanes read adjacent 16 bytes of a shared row and
/// a head of width D takes D/16 chunks (the rest stay unused and ILGPU drops them).
/// </summary>
internal struct HeadChunks
{
    public Float4 C0, C1, C2, C3;

    /// <summary>Reads the lane's chunks of row <paramref name="row"/> of a shared tile with <paramref name="ld4"/> Float4s per row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static HeadChunks Load<TS>(ArrayView<Float4> tile, int row, int ld4, int lane) where TS : struct, IAttentionShape
    {
        int o = row * ld4 + lane;
        var r = default(HeadChunks);
        r.C0 = tile[o];
        r.C1 = tile[o + 4];
        if (default(TS).D > 32)
        {
            r.C2 = tile[o + 8];
            r.C3 = tile[o + 12];
        }
        return r;
    }

    /// <summary>Reads the lane's columns of the global row at <paramref name="at"/> (zero past the head width <paramref name="d"/> or when not <paramref name="inside"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static HeadChunks LoadGlobal<TS>(ArrayView<float> src, int at, int lane, int d, bool inside) where TS : struct, IAttentionShape
    {
        var r = default(HeadChunks);
        r.C0 = Float4Math.Load(src, at, 4 * lane, d, inside);
        r.C1 = Float4Math.Load(src, at, 4 * lane + 16, d, inside);
        if (default(TS).D > 32)
        {
            r.C2 = Float4Math.Load(src, at, 4 * lane + 32, d, inside);
            r.C3 = Float4Math.Load(src, at, 4 * lane + 48, d, inside);
        }
        return r;
    }

    /// <summary>Writes the lane's columns below the head width <paramref name="d"/> to the global row at <paramref name="at"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store<TS>(ArrayView<float> dst, int at, int lane, int d) where TS : struct, IAttentionShape
    {
        Float4Math.Store(dst, at, 4 * lane, d, C0);
        Float4Math.Store(dst, at, 4 * lane + 16, d, C1);
        if (default(TS).D > 32)
        {
            Float4Math.Store(dst, at, 4 * lane + 32, d, C2);
            Float4Math.Store(dst, at, 4 * lane + 48, d, C3);
        }
    }

    /// <summary>acc + Σ this·b over the owned chunks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Dot<TS>(HeadChunks b, float acc) where TS : struct, IAttentionShape
    {
        acc = Float4Math.Dot(Float4Math.Dot(acc, C0, b.C0), C1, b.C1);
        if (default(TS).D > 32) acc = Float4Math.Dot(Float4Math.Dot(acc, C2, b.C2), C3, b.C3);
        return acc;
    }

    /// <summary>this += s·v over the owned chunks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Axpy<TS>(float s, HeadChunks v) where TS : struct, IAttentionShape
    {
        Float4Math.Axpy(ref C0, s, v.C0);
        Float4Math.Axpy(ref C1, s, v.C1);
        if (default(TS).D > 32)
        {
            Float4Math.Axpy(ref C2, s, v.C2);
            Float4Math.Axpy(ref C3, s, v.C3);
        }
    }

    /// <summary>this += b over all sixteen values (used as a packed set of partial sums, whatever the head width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(HeadChunks b)
    {
        Float4Math.Add(ref C0, b.C0);
        Float4Math.Add(ref C1, b.C1);
        Float4Math.Add(ref C2, b.C2);
        Float4Math.Add(ref C3, b.C3);
    }

    /// <summary>this ·= s over the owned chunks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Scale<TS>(float s) where TS : struct, IAttentionShape
    {
        Float4Math.Scale(ref C0, s);
        Float4Math.Scale(ref C1, s);
        if (default(TS).D > 32)
        {
            Float4Math.Scale(ref C2, s);
            Float4Math.Scale(ref C3, s);
        }
    }
}
