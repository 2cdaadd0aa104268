using System.Runtime.InteropServices;

namespace DiffKernels.Distributed;

/// <summary>NCCL's 128-byte communicator id, made by one rank and handed to all.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NcclUniqueId
{
    /// <summary>The id's size in bytes (NCCL_UNIQUE_ID_BYTES).</summary>
    public const int Bytes = 128;

    /// <summary>The opaque id.</summary>
    public fixed byte Internal[Bytes];
}

/// <summary>
/// The NCCL calls a process group needs, bound at run time to the system's libnccl.so.2; a failed call becomes an
/// exception with NCCL's message. Not exercised on hardware in this repository's tests (no GPU in CI).
/// </summary>
internal sealed unsafe class NcclLibrary
{
    /// <summary>ncclFloat32.</summary>
    private const int Float32 = 7;

    /// <summary>ncclSum.</summary>
    private const int Sum = 0;

    private readonly delegate* unmanaged<NcclUniqueId*, int> _getUniqueId;
    private readonly delegate* unmanaged<IntPtr*, int, NcclUniqueId, int, int> _commInitRank;
    private readonly delegate* unmanaged<IntPtr, int> _commDestroy;
    private readonly delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int> _allReduce;
    private readonly delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int> _broadcast;
    private readonly delegate* unmanaged<int> _groupStart;
    private readonly delegate* unmanaged<int> _groupEnd;
    private readonly delegate* unmanaged<int, IntPtr> _errorString;

    /// <summary>Loads libnccl and resolves every symbol.</summary>
    public NcclLibrary()
    {
        const string name = "libnccl";
        IntPtr lib = NativeLoader.Open(["libnccl.so.2", "libnccl.so"], "install NCCL (NVIDIA's libnccl2 package) on every GPU node");
        IntPtr F(string symbol) => NativeLoader.Symbol(lib, symbol, name);
        _getUniqueId = (delegate* unmanaged<NcclUniqueId*, int>)F("ncclGetUniqueId");
        _commInitRank = (delegate* unmanaged<IntPtr*, int, NcclUniqueId, int, int>)F("ncclCommInitRank");
        _commDestroy = (delegate* unmanaged<IntPtr, int>)F("ncclCommDestroy");
        _allReduce = (delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int>)F("ncclAllReduce");
        _broadcast = (delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int>)F("ncclBroadcast");
        _groupStart = (delegate* unmanaged<int>)F("ncclGroupStart");
        _groupEnd = (delegate* unmanaged<int>)F("ncclGroupEnd");
        _errorString = (delegate* unmanaged<int, IntPtr>)F("ncclGetErrorString");
    }

    /// <summary>A fresh communicator id (rank 0 makes it).</summary>
    public NcclUniqueId UniqueId()
    {
        NcclUniqueId id;
        Check(_getUniqueId(&id), "ncclGetUniqueId");
        return id;
    }

    /// <summary>Joins the communicator <paramref name="id"/> as <paramref name="rank"/> of <paramref name="size"/> (on the current CUDA device).</summary>
    public IntPtr InitRank(NcclUniqueId id, int size, int rank)
    {
        IntPtr comm;
        Check(_commInitRank(&comm, size, id, rank), "ncclCommInitRank");
        return comm;
    }

    /// <summary>Releases a communicator.</summary>
    public void Destroy(IntPtr comm) => _commDestroy(comm);

    /// <summary>Queues an in-place sum of <paramref name="count"/> floats at device address <paramref name="data"/> on <paramref name="stream"/>.</summary>
    public void AllReduceSum(IntPtr data, long count, IntPtr comm, IntPtr stream) =>
        Check(_allReduce(data, data, (nuint)count, Float32, Sum, comm, stream), "ncclAllReduce");

    /// <summary>Queues an in-place broadcast from <paramref name="root"/> of <paramref name="count"/> floats at <paramref name="data"/>.</summary>
    public void Broadcast(IntPtr data, long count, int root, IntPtr comm, IntPtr stream) =>
        Check(_broadcast(data, data, (nuint)count, Float32, root, comm, stream), "ncclBroadcast");

    /// <summary>Starts fusing the calls that follow into one launch.</summary>
    public void GroupStart() => Check(_groupStart(), "ncclGroupStart");

    /// <summary>Launches the calls fused since <see cref="GroupStart"/>.</summary>
    public void GroupEnd() => Check(_groupEnd(), "ncclGroupEnd");

    private void Check(int result, string call)
    {
        if (result == 0) return;
        string message = Marshal.PtrToStringUTF8(_errorString(result)) ?? $"error {result}";
        throw new MpiException($"{call} failed: {message}");
    }
}
