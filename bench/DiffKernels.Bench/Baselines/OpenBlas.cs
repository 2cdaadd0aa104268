using System.Runtime.InteropServices;

namespace DiffKernels.Bench.Baselines;

/// <summary>
/// OpenBLAS's <c>cblas_sgemm</c>, reached by P/Invoke when the library is installed (Debian:
/// libopenblas0-pthread). Nothing in the engine depends on it; it is only the CPU yardstick.
/// </summary>
public static unsafe class OpenBlas
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;
    private static readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> Sgemm;
    private static readonly delegate* unmanaged<int, void> SetThreads;

    private static readonly string[] Candidates =
    [
        "libopenblas.so.0", "libopenblas.so",
        "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
        "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
        "libopenblas.dylib", "libopenblas.dll", "openblas.dll",
    ];

    static OpenBlas()
    {
        // OpenBLAS's idle threads spin for a while after each call; on a small machine that spinning
        // would run into the timing of whatever follows it, so ask them to sleep at once.
        if (OperatingSystem.IsLinux()) SetEnvIfUnset("OPENBLAS_THREAD_TIMEOUT", "4");
        foreach (var name in Candidates)
        {
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm", out var gemm)) continue;
            Sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)gemm;
            if (NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out var threads))
                SetThreads = (delegate* unmanaged<int, void>)threads;
            string config = NativeLibrary.TryGetExport(handle, "openblas_get_config", out var cfg)
                ? Marshal.PtrToStringAnsi(((delegate* unmanaged<nint>)cfg)()) ?? "" : "";
            string core = NativeLibrary.TryGetExport(handle, "openblas_get_corename", out var cn)
                ? Marshal.PtrToStringAnsi(((delegate* unmanaged<nint>)cn)()) ?? "" : "";
            Status = $"{name}: {config}{(core.Length > 0 ? $", core {core}" : "")}".Trim();
            return;
        }
        Status = "OpenBLAS not found (tried libopenblas.so.0 and the usual paths; on Debian: apt-get install libopenblas0-pthread)";
    }

    /// <summary>True when cblas_sgemm was found.</summary>
    public static bool Available => Sgemm != null;

    /// <summary>Which library was loaded and how it was built, or why none was.</summary>
    public static string Status { get; }

    /// <summary>Sets OpenBLAS's thread count (a no-op when the library lacks the call).</summary>
    public static void Threads(int n)
    {
        if (SetThreads != null) SetThreads(n);
    }

    /// <summary>Row-major C = α·op(A)·op(B) + β·C, arguments as in CBLAS.</summary>
    public static void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (Sgemm == null) throw new InvalidOperationException(Status);
        Sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    private static void SetEnvIfUnset(string name, string value)
    {
        try
        {
            SetEnv(name, value, 0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Without libc's setenv the library keeps its default; the timing is still valid, just noisier.
        }
    }

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv(string name, string value, int overwrite);
}
