using DiffKernels.Backends;
using DiffKernels.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace DiffKernels.Gpu;

// Split-K products (GEMM, convolution weight gradient) sum their partials in the launch that computes them: the
// last group to finish each output tile reduces it (GemmSplitK), counting arrivals on this backend's tile counters.
public sealed partial class GpuBackend
{
    private MemoryBuffer1D<int, Stride1D.Dense>? _splitCounters;

    /// <summary>
    /// The tile counters, created zeroed on first use. Only products of fewer than <see cref="LaunchPlan.TargetGroups"/>
    /// tiles split (<see cref="LaunchPlan.SplitK"/>), so that many counters serve every split launch; each launch
    /// leaves them zero (the last group of a tile resets its counter), and the stream runs launches one after another,
    /// so no launch clears them.
    /// </summary>
    private ArrayView<int> SplitCounters(long tiles)
    {
        if (_splitCounters == null)
        {
            _splitCounters = _acc.Allocate1D<int>(_plan.TargetGroups);
            _splitCounters.View.MemSetToZero(_stream);
        }
        if (tiles > _splitCounters.Length)
            throw new InvalidOperationException($"{Name} backend: a split-K product of {tiles} tiles exceeds the {_splitCounters.Length} tile counters");
        return (ArrayView<int>)_splitCounters.View;
    }

    /// <summary>
    /// The epilogue of a product that is not split: <paramref name="c"/> as it is. The kernel touches neither the
    /// workspace nor the counters then; <paramref name="any"/> (a view of the product's own) stands in for the workspace.
    /// </summary>
    private SplitKC<TC> Whole<TC>(TC c, ArrayView<float> any) where TC : struct, IGemmC =>
        new() { Out = c, Ws = any, Counters = SplitCounters(0), Rows = 0, Cols = 0, Splits = 1 };

    /// <summary>
    /// The epilogue of a rows × cols product of <paramref name="tiles"/> output tiles split over k into
    /// <paramref name="splits"/> partials, which <paramref name="ws"/> (splits·rows·cols floats) holds until the last
    /// group of each tile sums them into <paramref name="c"/>.
    /// </summary>
    private SplitKC<TC> SplitOver<TC>(TC c, int rows, int cols, int splits, DeviceBuffer ws, long tiles) where TC : struct, IGemmC =>
        new() { Out = c, Ws = V(ws), Counters = SplitCounters(tiles), Rows = rows, Cols = cols, Splits = splits };
}
