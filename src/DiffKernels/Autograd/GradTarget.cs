using DiffKernels.Tensors;

namespace DiffKernels.Autograd;

/// <summary>
/// Where a backward function writes the gradient of one of its inputs. For a parameter of an arena (see
/// Optim/ParameterArena.cs) that has no gradient yet and none pending in the running backward sweep, that is a tensor
/// over the parameter's arena slot, so the gradient is made where it will stay instead of made elsewhere and copied
/// in: one copy, and on a GPU one launch, less per parameter and step. Anything else gets a new tensor.
/// </summary>
/// <remarks>
/// A slot tensor handed out is only a place to write: if another consumer of the same parameter later adds a
/// gradient of its own, the sweep sums the two into a new tensor and copies that into the slot as before, so the
/// result never depends on who was handed the slot.
/// </remarks>
internal static class GradTarget
{
    [ThreadStatic] private static Sweep? t_sweep;

    /// <summary>The gradients pending in one backward sweep and the slots it has handed out.</summary>
    internal sealed class Sweep : IDisposable
    {
        private readonly Sweep? _outer;

        internal Sweep(Dictionary<Tensor, Tensor> pending)
        {
            Pending = pending;
            _outer = t_sweep;
            t_sweep = this;
        }

        internal Dictionary<Tensor, Tensor> Pending { get; }

        internal HashSet<Tensor> Given { get; } = new(ReferenceEqualityComparer.Instance);

        /// <summary>Ends the sweep (restoring an enclosing one, should a backward function run a backward of its own).</summary>
        public void Dispose() => t_sweep = _outer;
    }

    /// <summary>
    /// An uninitialised tensor of <paramref name="input"/>'s shape for its gradient, which the caller must write in
    /// full: the parameter's arena slot when it may take the gradient directly, else a new tensor.
    /// </summary>
    public static Tensor For(Tensor input)
    {
        if (t_sweep is { } sweep && input.IsLeaf && input.GradSlot is { } slot && input.Grad == null
            && !sweep.Pending.ContainsKey(input) && sweep.Given.Add(input))
        {
            slot.AddRef();
            return new Tensor(input.Shape, slot, input.Device);
        }
        return Tensor.Empty(input.Shape, input.Device);
    }
}
