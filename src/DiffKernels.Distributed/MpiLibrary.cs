using System.Text;

namespace DiffKernels.Distributed;

/// <summary>
/// The MPI calls a process group needs, bound at run time to the system's Open MPI (libmpi.so.40), whose handles
/// (communicator, datatype, operation) are addresses of globals in the library. Every call's error code is turned
/// into an exception with MPI's own message (the world communicator returns errors instead of aborting).
/// </summary>
internal sealed unsafe class MpiLibrary
{
    private const string Hint = "install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev) and launch with mpirun or srun";
    // Open MPI's MPI_IN_PLACE is the address 1.
    private static readonly IntPtr InPlace = 1;

    private readonly delegate* unmanaged<int*, byte***, int> _init;
    private readonly delegate* unmanaged<int*, int> _initialized;
    private readonly delegate* unmanaged<int*, int> _finalized;
    private readonly delegate* unmanaged<int> _finalize;
    private readonly delegate* unmanaged<IntPtr, int*, int> _commRank;
    private readonly delegate* unmanaged<IntPtr, int*, int> _commSize;
    private readonly delegate* unmanaged<IntPtr, IntPtr, int> _setErrhandler;
    private readonly delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, int> _allreduce;
    private readonly delegate* unmanaged<IntPtr, int, IntPtr, int, IntPtr, int> _bcast;
    private readonly delegate* unmanaged<IntPtr, int> _barrier;
    private readonly delegate* unmanaged<IntPtr, int, int> _abort;
    private readonly delegate* unmanaged<int, byte*, int*, int> _errorString;
    private readonly IntPtr _world, _float, _byte, _sum, _errorsReturn;

    /// <summary>Loads libmpi and resolves every symbol (a missing one is a one-line error naming it).</summary>
    public MpiLibrary()
    {
        const string name = "libmpi";
        IntPtr lib = NativeLoader.Open(["libmpi.so.40", "libmpi.so"], Hint);
        IntPtr F(string symbol) => NativeLoader.Symbol(lib, symbol, name);
        if (!System.Runtime.InteropServices.NativeLibrary.TryGetExport(lib, "ompi_mpi_comm_world", out _world))
            throw new DllNotFoundException($"{name} is not Open MPI (no ompi_mpi_comm_world): only Open MPI's ABI is bound; {Hint}");
        _float = F("ompi_mpi_float");
        _byte = F("ompi_mpi_byte");
        _sum = F("ompi_mpi_op_sum");
        _errorsReturn = F("ompi_mpi_errors_return");
        _init = (delegate* unmanaged<int*, byte***, int>)F("MPI_Init");
        _initialized = (delegate* unmanaged<int*, int>)F("MPI_Initialized");
        _finalized = (delegate* unmanaged<int*, int>)F("MPI_Finalized");
        _finalize = (delegate* unmanaged<int>)F("MPI_Finalize");
        _commRank = (delegate* unmanaged<IntPtr, int*, int>)F("MPI_Comm_rank");
        _commSize = (delegate* unmanaged<IntPtr, int*, int>)F("MPI_Comm_size");
        _setErrhandler = (delegate* unmanaged<IntPtr, IntPtr, int>)F("MPI_Comm_set_errhandler");
        _allreduce = (delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, int>)F("MPI_Allreduce");
        _bcast = (delegate* unmanaged<IntPtr, int, IntPtr, int, IntPtr, int>)F("MPI_Bcast");
        _barrier = (delegate* unmanaged<IntPtr, int>)F("MPI_Barrier");
        _abort = (delegate* unmanaged<IntPtr, int, int>)F("MPI_Abort");
        _errorString = (delegate* unmanaged<int, byte*, int*, int>)F("MPI_Error_string");
    }

    /// <summary>Initialises MPI once per process and makes the world communicator return errors.</summary>
    public void Init()
    {
        int done;
        Check(_initialized(&done), "MPI_Initialized");
        if (done == 0) Check(_init(null, null), "MPI_Init");
        Check(_setErrhandler(_world, _errorsReturn), "MPI_Comm_set_errhandler");
    }

    /// <summary>This process's rank in the world communicator.</summary>
    public int Rank()
    {
        int r;
        Check(_commRank(_world, &r), "MPI_Comm_rank");
        return r;
    }

    /// <summary>The world communicator's size.</summary>
    public int Size()
    {
        int n;
        Check(_commSize(_world, &n), "MPI_Comm_size");
        return n;
    }

    /// <summary>Sums <paramref name="count"/> floats at <paramref name="data"/> over all ranks, in place.</summary>
    public void AllReduceSum(float* data, int count) => Check(_allreduce(InPlace, (IntPtr)data, count, _float, _sum, _world), "MPI_Allreduce");

    /// <summary>Copies <paramref name="count"/> bytes at <paramref name="data"/> from rank <paramref name="root"/> to all.</summary>
    public void BroadcastBytes(void* data, int count, int root) => Check(_bcast((IntPtr)data, count, _byte, root, _world), "MPI_Bcast");

    /// <summary>Copies <paramref name="count"/> floats at <paramref name="data"/> from rank <paramref name="root"/> to all.</summary>
    public void Broadcast(float* data, int count, int root) => Check(_bcast((IntPtr)data, count, _float, root, _world), "MPI_Bcast");

    /// <summary>Waits for every rank.</summary>
    public void Barrier() => Check(_barrier(_world), "MPI_Barrier");

    /// <summary>Ends every rank's process with <paramref name="code"/> (what a failing rank does so that no other waits on it).</summary>
    public void Abort(int code) => _abort(_world, code);

    /// <summary>Finalises MPI unless that already happened.</summary>
    public void FinalizeOnce()
    {
        int done;
        if (_finalized(&done) == 0 && done == 0) _finalize();
    }

    private void Check(int code, string call)
    {
        if (code == 0) return;
        byte* text = stackalloc byte[512];
        int length = 0;
        string message = _errorString(code, text, &length) == 0 ? Encoding.UTF8.GetString(text, length) : $"error {code}";
        throw new MpiException($"{call} failed: {message}");
    }
}
