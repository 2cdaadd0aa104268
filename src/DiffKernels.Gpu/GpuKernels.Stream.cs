using ILGPU;
using ILGPU.Runtime;

namespace DiffKernels.Gpu;

// Loaders that bind a kernel to the backend's own stream: each compiles the kernel with ILGPU's explicit-stream
// loader and returns a launcher of the same shape as ILGPU's default-stream one, so launch sites stay as they are
// while every launch is queued on the stream the copies and synchronisations use. While a replay list records (a
// captured region off CUDA, GpuGraph), a launcher appends the launch with its arguments instead of queuing it.
internal sealed partial class GpuKernels
{
    private List<Action>? _recorder;

    /// <summary>
    /// Starts appending every launch to <paramref name="launches"/> instead of queuing it, or with null stops; a replay
    /// of the list queues the same kernels with the same arguments on the same stream.
    /// </summary>
    public void Record(List<Action>? launches) => _recorder = launches;

    private Action<TIndex, T1> Auto<TIndex, T1>(Action<TIndex, T1> kernel) where TIndex : struct, IIndex where T1 : struct
    {
        var launch = acc.LoadAutoGroupedKernel(kernel);
        return (index, a1) => { if (_recorder is { } r) r.Add(() => launch(stream, index, a1)); else launch(stream, index, a1); };
    }

    private Action<TIndex, T1, T2> Auto<TIndex, T1, T2>(Action<TIndex, T1, T2> kernel) where TIndex : struct, IIndex where T1 : struct where T2 : struct
    {
        var launch = acc.LoadAutoGroupedKernel(kernel);
        return (index, a1, a2) => { if (_recorder is { } r) r.Add(() => launch(stream, index, a1, a2)); else launch(stream, index, a1, a2); };
    }

    private Action<TIndex, T1, T2, T3> Auto<TIndex, T1, T2, T3>(Action<TIndex, T1, T2, T3> kernel) where TIndex : struct, IIndex where T1 : struct where T2 : struct where T3 : struct
    {
        var launch = acc.LoadAutoGroupedKernel(kernel);
        return (index, a1, a2, a3) => { if (_recorder is { } r) r.Add(() => launch(stream, index, a1, a2, a3)); else launch(stream, index, a1, a2, a3); };
    }

    private Action<TIndex, T1, T2, T3, T4> Auto<TIndex, T1, T2, T3, T4>(Action<TIndex, T1, T2, T3, T4> kernel) where TIndex : struct, IIndex where T1 : struct where T2 : struct where T3 : struct where T4 : struct
    {
        var launch = acc.LoadAutoGroupedKernel(kernel);
        return (index, a1, a2, a3, a4) => { if (_recorder is { } r) r.Add(() => launch(stream, index, a1, a2, a3, a4)); else launch(stream, index, a1, a2, a3, a4); };
    }

    private Action<TIndex, T1, T2, T3, T4, T5> Auto<TIndex, T1, T2, T3, T4, T5>(Action<TIndex, T1, T2, T3, T4, T5> kernel) where TIndex : struct, IIndex where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct
    {
        var launch = acc.LoadAutoGroupedKernel(kernel);
        return (index, a1, a2, a3, a4, a5) => { if (_recorder is { } r) r.Add(() => launch(stream, index, a1, a2, a3, a4, a5)); else launch(stream, index, a1, a2, a3, a4, a5); };
    }

    private Action<TIndex, T1, T2, T3, T4, T5, T6> Auto<TIndex, T1, T2, T3, T4, T5, T6>(Action<TIndex, T1, T2, T3, T4, T5, T6> kernel) where TIndex : struct, IIndex where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct
    {
        var launch = acc.LoadAutoGroupedKernel(kernel);
        return (index, a1, a2, a3, a4, a5, a6) => { if (_recorder is { } r) r.Add(() => launch(stream, index, a1, a2, a3, a4, a5, a6)); else launch(stream, index, a1, a2, a3, a4, a5, a6); };
    }

    private Action<TIndex, T1, T2, T3, T4, T5, T6, T7> Auto<TIndex, T1, T2, T3, T4, T5, T6, T7>(Action<TIndex, T1, T2, T3, T4, T5, T6, T7> kernel) where TIndex : struct, IIndex where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct
    {
        var launch = acc.LoadAutoGroupedKernel(kernel);
        return (index, a1, a2, a3, a4, a5, a6, a7) => { if (_recorder is { } r) r.Add(() => launch(stream, index, a1, a2, a3, a4, a5, a6, a7)); else launch(stream, index, a1, a2, a3, a4, a5, a6, a7); };
    }

    private Action<TIndex, T1, T2, T3, T4, T5, T6, T7, T8> Auto<TIndex, T1, T2, T3, T4, T5, T6, T7, T8>(Action<TIndex, T1, T2, T3, T4, T5, T6, T7, T8> kernel) where TIndex : struct, IIndex where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct
    {
        var launch = acc.LoadAutoGroupedKernel(kernel);
        return (index, a1, a2, a3, a4, a5, a6, a7, a8) => { if (_recorder is { } r) r.Add(() => launch(stream, index, a1, a2, a3, a4, a5, a6, a7, a8)); else launch(stream, index, a1, a2, a3, a4, a5, a6, a7, a8); };
    }

    private Action<TIndex, T1, T2, T3, T4, T5, T6, T7, T8, T9> Auto<TIndex, T1, T2, T3, T4, T5, T6, T7, T8, T9>(Action<TIndex, T1, T2, T3, T4, T5, T6, T7, T8, T9> kernel) where TIndex : struct, IIndex where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct
    {
        var launch = acc.LoadAutoGroupedKernel(kernel);
        return (index, a1, a2, a3, a4, a5, a6, a7, a8, a9) => { if (_recorder is { } r) r.Add(() => launch(stream, index, a1, a2, a3, a4, a5, a6, a7, a8, a9)); else launch(stream, index, a1, a2, a3, a4, a5, a6, a7, a8, a9); };
    }

    private Action<KernelConfig, T1> Grouped<T1>(Action<T1> kernel) where T1 : struct
    {
        var launch = acc.LoadKernel(kernel);
        return (config, a1) => { if (_recorder is { } r) r.Add(() => launch(stream, config, a1)); else launch(stream, config, a1); };
    }

    private Action<KernelConfig, T1, T2> Grouped<T1, T2>(Action<T1, T2> kernel) where T1 : struct where T2 : struct
    {
        var launch = acc.LoadKernel(kernel);
        return (config, a1, a2) => { if (_recorder is { } r) r.Add(() => launch(stream, config, a1, a2)); else launch(stream, config, a1, a2); };
    }

    private Action<KernelConfig, T1, T2, T3> Grouped<T1, T2, T3>(Action<T1, T2, T3> kernel) where T1 : struct where T2 : struct where T3 : struct
    {
        var launch = acc.LoadKernel(kernel);
        return (config, a1, a2, a3) => { if (_recorder is { } r) r.Add(() => launch(stream, config, a1, a2, a3)); else launch(stream, config, a1, a2, a3); };
    }

    private Action<KernelConfig, T1, T2, T3, T4> Grouped<T1, T2, T3, T4>(Action<T1, T2, T3, T4> kernel) where T1 : struct where T2 : struct where T3 : struct where T4 : struct
    {
        var launch = acc.LoadKernel(kernel);
        return (config, a1, a2, a3, a4) => { if (_recorder is { } r) r.Add(() => launch(stream, config, a1, a2, a3, a4)); else launch(stream, config, a1, a2, a3, a4); };
    }

    private Action<KernelConfig, T1, T2, T3, T4, T5> Grouped<T1, T2, T3, T4, T5>(Action<T1, T2, T3, T4, T5> kernel) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct
    {
        var launch = acc.LoadKernel(kernel);
        return (config, a1, a2, a3, a4, a5) => { if (_recorder is { } r) r.Add(() => launch(stream, config, a1, a2, a3, a4, a5)); else launch(stream, config, a1, a2, a3, a4, a5); };
    }

    private Action<KernelConfig, T1, T2, T3, T4, T5, T6> Grouped<T1, T2, T3, T4, T5, T6>(Action<T1, T2, T3, T4, T5, T6> kernel) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct
    {
        var launch = acc.LoadKernel(kernel);
        return (config, a1, a2, a3, a4, a5, a6) => { if (_recorder is { } r) r.Add(() => launch(stream, config, a1, a2, a3, a4, a5, a6)); else launch(stream, config, a1, a2, a3, a4, a5, a6); };
    }

    private Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7> Grouped<T1, T2, T3, T4, T5, T6, T7>(Action<T1, T2, T3, T4, T5, T6, T7> kernel) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct
    {
        var launch = acc.LoadKernel(kernel);
        return (config, a1, a2, a3, a4, a5, a6, a7) => { if (_recorder is { } r) r.Add(() => launch(stream, config, a1, a2, a3, a4, a5, a6, a7)); else launch(stream, config, a1, a2, a3, a4, a5, a6, a7); };
    }

    private Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8> Grouped<T1, T2, T3, T4, T5, T6, T7, T8>(Action<T1, T2, T3, T4, T5, T6, T7, T8> kernel) where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct
    {
        var launch = acc.LoadKernel(kernel);
        return (config, a1, a2, a3, a4, a5, a6, a7, a8) => { if (_recorder is { } r) r.Add(() => launch(stream, config, a1, a2, a3, a4, a5, a6, a7, a8)); else launch(stream, config, a1, a2, a3, a4, a5, a6, a7, a8); };
    }
}
