using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DiffKernels.Backends.Cpu;

/// <summary>
/// The elements of a <see cref="CpuBuffer"/> as kernels address them: the pinned array that holds them and the
/// element where the buffer starts in it (0, or a sub-buffer's offset). Indices are relative to the buffer and
/// checked against its length, so a kernel cannot touch a neighbouring slice of the same array; <c>fixed</c> pins
/// the buffer's first element, so pointer code sees the buffer at index 0 too.
/// </summary>
public readonly struct CpuFloats
{
    internal CpuFloats(float[] array, int offset, int length)
    {
        Array = array;
        Offset = offset;
        Length = length;
    }

    /// <summary>All of <paramref name="array"/> (scratch a kernel rents for itself), from its element 0.</summary>
    internal static CpuFloats Whole(float[] array) => new(array, 0, array.Length);

    /// <summary>The whole backing array (shared with the buffer's parent and sibling slices).</summary>
    public float[] Array { get; }

    /// <summary>Index in <see cref="Array"/> of the buffer's element 0.</summary>
    public int Offset { get; }

    /// <summary>Number of elements of the buffer.</summary>
    public int Length { get; }

    /// <summary>Element <paramref name="i"/> of the buffer.</summary>
    public ref float this[long i]
    {
        get
        {
            if ((ulong)i >= (ulong)Length) ThrowOutside(i);
            return ref Array[Offset + i];
        }
    }

    /// <summary>All elements of the buffer.</summary>
    public Span<float> AsSpan() => new(Array, Offset, Length);

    /// <summary>Elements from <paramref name="start"/> to the end of the buffer.</summary>
    public Span<float> AsSpan(int start) => AsSpan().Slice(start);

    /// <summary><paramref name="length"/> elements from <paramref name="start"/>.</summary>
    public Span<float> AsSpan(int start, int length) => AsSpan().Slice(start, length);

    /// <summary>The buffer's element 0, for <c>fixed</c>.</summary>
    public ref float GetPinnableReference() => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Array), Offset);

    private void ThrowOutside(long i) =>
        throw new IndexOutOfRangeException($"cpu buffer: index {i} is outside its {Length} elements");
}
