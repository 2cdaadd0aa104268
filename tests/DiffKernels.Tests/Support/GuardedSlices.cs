using DiffKernels.Backends;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Support;

/// <summary>
/// Makes tensors whose storage is a slice of a larger buffer, <c>pad</c> elements in from each end, the padding
/// filled with a guard value: a kernel that ignored the slice's offset would read the guard or the neighbour, and
/// one that wrote outside the slice would change it. Dispose releases the parents (the slices keep theirs alive).
/// </summary>
public sealed class GuardedSlices(Device device, int pad) : IDisposable
{
    /// <summary>A NaN with a payload no op produces, compared by its bits.</summary>
    private static readonly float Guard = BitConverter.Int32BitsToSingle(0x7FC0BEEF);

    private readonly List<DeviceBuffer> _parents = [];

    /// <summary>A tensor of <paramref name="shape"/> holding <paramref name="values"/>, in a slice of a guarded buffer.</summary>
    public Tensor Place(float[] values, Shape shape)
    {
        var parent = device.Backend.Allocate(values.Length + 2L * pad);
        device.Backend.Fill(parent, 0, parent.Length, Guard);
        _parents.Add(parent);
        var slice = parent.Slice(pad, values.Length);
        device.Backend.Upload(values, slice, 0);
        return new Tensor(shape, slice, device);
    }

    /// <summary>Fails when any element outside the slices no longer holds the guard.</summary>
    public void AssertGuardsIntact()
    {
        int guard = BitConverter.SingleToInt32Bits(Guard);
        foreach (var parent in _parents)
        {
            var all = new float[parent.Length];
            device.Backend.Download(parent, 0, all);
            for (int i = 0; i < all.Length; i++)
                if ((i < pad || i >= all.Length - pad) && BitConverter.SingleToInt32Bits(all[i]) != guard)
                    Assert.Fail($"element {i} of a guarded buffer of {all.Length} (slice [{pad}, {all.Length - pad})) was overwritten with {all[i]}");
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var parent in _parents) parent.Release();
        _parents.Clear();
    }
}
