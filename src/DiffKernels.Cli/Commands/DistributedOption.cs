using System.CommandLine;
using DiffKernels.Distributed;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// --distributed of every run verb: none (one process), mpi (the ranks mpirun or srun started, reducing over MPI) or
/// nccl (the same ranks, one GPU each, reducing device buffers over NCCL).
/// </summary>
internal static class DistributedOption
{
    /// <summary>The values --distributed takes.</summary>
    public static readonly string[] Names = ["none", "mpi", "nccl"];

    /// <summary>The flag.</summary>
    public static Option<string> Create()
    {
        var option = new Option<string>("--distributed")
        {
            Description = "Data-parallel over the processes of mpirun/srun: none, mpi (CPU ranks), nccl (one CUDA GPU per rank; set CUDA_VISIBLE_DEVICES per rank)",
            DefaultValueFactory = _ => "none",
        };
        option.Check(v => Names.Contains(v) ? null : $"--distributed {v}: expected one of {string.Join(", ", Names)}");
        return option;
    }

    /// <summary>The group <paramref name="name"/> names (MPI or NCCL joined here: the launcher must have started this process).</summary>
    public static IProcessGroup Open(string name)
    {
        try
        {
            return name switch
            {
                "mpi" => new MpiProcessGroup(),
                "nccl" => new NcclProcessGroup(),
                _ => SingleProcessGroup.Instance,
            };
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or MpiException)
        {
            throw new ArgumentException($"--distributed {name}: {e.Message}");
        }
    }

    /// <summary>Ends every rank of <paramref name="group"/> with <paramref name="code"/>, so that none waits on this failed one.</summary>
    public static void Abort(IProcessGroup group, int code)
    {
        switch (group)
        {
            case MpiProcessGroup mpi: mpi.Abort(code); break;
            case NcclProcessGroup nccl: nccl.Abort(code); break;
        }
    }
}
