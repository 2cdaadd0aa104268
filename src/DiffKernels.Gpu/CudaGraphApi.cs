using System.Runtime.InteropServices;

namespace DiffKernels.Gpu;

/// <summary>
/// The CUDA driver's stream-capture and graph entry points, bound at first use from the driver library ILGPU itself
/// loads (libcuda.so.1, nvcuda.dll). ILGPU 1.5 has no graph API, so these are called on its stream handle directly.
/// </summary>
internal static unsafe class CudaGraphApi
{
    private const int CaptureModeGlobal = 0;

    private static readonly Lazy<Entry> Api = new(Load);

    private sealed class Entry
    {
        public delegate* unmanaged<IntPtr, int, int> BeginCapture;
        public delegate* unmanaged<IntPtr, IntPtr*, int> EndCapture;
        public delegate* unmanaged<IntPtr*, IntPtr, ulong, int> Instantiate;
        public delegate* unmanaged<IntPtr, IntPtr, int> Launch;
        public delegate* unmanaged<IntPtr, int> ExecDestroy;
        public delegate* unmanaged<IntPtr, int> GraphDestroy;
        public delegate* unmanaged<int, byte**, int> ErrorName;
    }

    private static Entry Load()
    {
        string name = OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";
        if (!NativeLibrary.TryLoad(name, out var lib))
            throw new GpuUnavailableException("cuda", $"the CUDA driver library {name} could not be loaded for graph capture");
        IntPtr Get(string symbol) => NativeLibrary.TryGetExport(lib, symbol, out var f)
            ? f
            : throw new GpuUnavailableException("cuda", $"the CUDA driver has no {symbol} (graph capture needs CUDA 11.4 or later)");
        return new Entry
        {
            BeginCapture = (delegate* unmanaged<IntPtr, int, int>)Get("cuStreamBeginCapture_v2"),
            EndCapture = (delegate* unmanaged<IntPtr, IntPtr*, int>)Get("cuStreamEndCapture"),
            Instantiate = (delegate* unmanaged<IntPtr*, IntPtr, ulong, int>)Get("cuGraphInstantiateWithFlags"),
            Launch = (delegate* unmanaged<IntPtr, IntPtr, int>)Get("cuGraphLaunch"),
            ExecDestroy = (delegate* unmanaged<IntPtr, int>)Get("cuGraphExecDestroy"),
            GraphDestroy = (delegate* unmanaged<IntPtr, int>)Get("cuGraphDestroy"),
            ErrorName = (delegate* unmanaged<int, byte**, int>)Get("cuGetErrorName"),
        };
    }

    /// <summary>Starts capturing <paramref name="stream"/> in global mode: the driver refuses unsafe calls from any thread meanwhile.</summary>
    public static void BeginCapture(IntPtr stream) => Check(Api.Value.BeginCapture(stream, CaptureModeGlobal), "cuStreamBeginCapture");

    /// <summary>Ends the capture and instantiates its graph; the graph itself is destroyed once instantiated.</summary>
    public static IntPtr EndCaptureAndInstantiate(IntPtr stream)
    {
        var api = Api.Value;
        IntPtr graph = IntPtr.Zero, exec = IntPtr.Zero;
        Check(api.EndCapture(stream, &graph), "cuStreamEndCapture");
        try
        {
            Check(api.Instantiate(&exec, graph, 0), "cuGraphInstantiateWithFlags");
        }
        finally
        {
            api.GraphDestroy(graph);
        }
        return exec;
    }

    /// <summary>Ends a capture that failed on the host, dropping what it recorded.</summary>
    public static void AbandonCapture(IntPtr stream)
    {
        var api = Api.Value;
        IntPtr graph = IntPtr.Zero;
        if (api.EndCapture(stream, &graph) == 0 && graph != IntPtr.Zero) api.GraphDestroy(graph);
    }

    /// <summary>Queues one replay of an instantiated graph on <paramref name="stream"/>.</summary>
    public static void Launch(IntPtr exec, IntPtr stream) => Check(Api.Value.Launch(exec, stream), "cuGraphLaunch");

    /// <summary>Frees an instantiated graph.</summary>
    public static void Destroy(IntPtr exec) => Api.Value.ExecDestroy(exec);

    private static void Check(int result, string call)
    {
        if (result == 0) return;
        byte* name = null;
        string text = Api.Value.ErrorName(result, &name) == 0 && name != null ? Marshal.PtrToStringAnsi((IntPtr)name)! : $"error {result}";
        throw new InvalidOperationException($"cuda backend: {call} failed: {text}");
    }
}
