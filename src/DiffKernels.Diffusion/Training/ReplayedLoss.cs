using DiffKernels.Backends;
using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// A training loss's forward and backward, captured once on a backend that replays (<see cref="IGraphCapture"/>: a CUDA
/// graph on a GPU) and replayed on every later step, whose inputs change but whose kernels do not. The step's inputs are
/// copied into fixed tensors the region reads, and the loss into a fixed scalar the host reads after the replay; the
/// gradients land in the optimiser's arena slots, as an eager backward leaves them. The values are the eager step's bit
/// for bit: the same kernels run with the same arguments in the same order. The region is captured on the first
/// <see cref="Run"/>, which must follow at least one eager step of the same shapes (kernels compiled, memory pooled).
/// </summary>
internal sealed class ReplayedLoss(IGraphCapture backend, Func<IReadOnlyList<Tensor?>, Tensor> loss) : IDisposable
{
    private Tensor?[]? _inputs;
    private Tensor? _value;
    private ICapturedRegion? _graph;

    /// <summary>The kernel launches each replay repeats (0 before the capture).</summary>
    public long KernelLaunches => _graph?.KernelLaunches ?? 0;

    /// <summary>
    /// Writes <paramref name="inputs"/> into the region's fixed inputs (capturing the region on the first call, after
    /// dropping <paramref name="adam"/>'s gradients so that backward writes each into its slot), replays it, and returns
    /// the fixed loss scalar, to be read after the call.
    /// </summary>
    public Tensor Run(IReadOnlyList<Tensor?> inputs, Adam adam)
    {
        if (_graph == null)
        {
            _inputs = inputs.Select(t => t == null ? null : Tensor.Empty(t.Shape, t.Device).Untrack()).ToArray();
            Write(inputs);
            var fixedInputs = _inputs;
            var value = _value = Tensor.Empty(new Shape(), inputs.First(t => t != null)!.Device).Untrack();
            adam.ZeroGrad();
            _graph = backend.Capture(() =>
            {
                using var scope = Tensor.Scope();
                var l = loss(fixedInputs);
                l.Backward();
                F.CopyInto(value, l);
            });
        }
        else
        {
            Write(inputs);
        }
        _graph.Replay();
        return _value!;
    }

    private void Write(IReadOnlyList<Tensor?> inputs)
    {
        if (inputs.Count != _inputs!.Length) throw new ArgumentException($"ReplayedLoss: {inputs.Count} inputs for a region captured with {_inputs.Length}");
        for (int i = 0; i < inputs.Count; i++)
        {
            if ((inputs[i] == null) != (_inputs[i] == null))
                throw new ArgumentException($"ReplayedLoss: input {i} is {(inputs[i] == null ? "missing" : "given")}, unlike at capture");
            if (inputs[i] is { } t) F.CopyInto(_inputs[i]!, t);
        }
    }

    /// <summary>Frees the region (after its queued replays) and the fixed tensors.</summary>
    public void Dispose()
    {
        _graph?.Dispose();
        _graph = null;
        if (_inputs != null)
            foreach (var t in _inputs) t?.Dispose();
        _value?.Dispose();
    }
}
