using DiffKernels.Backends;

namespace DiffKernels.Tensors;

// What a parameter arena (Optim/ParameterArena.cs) changes on the tensors it holds, and nothing else may.
public sealed partial class Tensor
{
    /// <summary>
    /// The arena slot the first gradient accumulated into this leaf is copied to (see Autograd's Backprop), or null:
    /// then that gradient is a new tensor, as for any leaf.
    /// </summary>
    internal DeviceBuffer? GradSlot { get; set; }

    /// <summary>
    /// Moves this tensor onto <paramref name="storage"/>, whose one reference the caller hands over, and releases the
    /// old storage. Only for an arena, which copies the values across first and checks that no other tensor shares
    /// the old storage (a view would go on reading it).
    /// </summary>
    internal void RebindStorage(DeviceBuffer storage)
    {
        var old = Storage;
        if (storage.Length != old.Length || !ReferenceEquals(storage.Backend, old.Backend))
            throw new ArgumentException($"RebindStorage: a buffer of {storage.Length} elements on {storage.Backend.Name} cannot hold tensor {Shape} on {old.Backend.Name}");
        _buffer = storage;
        old.Release();
    }
}
