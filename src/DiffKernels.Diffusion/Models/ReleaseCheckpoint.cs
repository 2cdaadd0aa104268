using System.Globalization;
using System.Security.Cryptography;
using DiffKernels.IO;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Models;

/// <summary>What <see cref="ReleaseCheckpoint.Export"/> wrote.</summary>
/// <param name="Source">The training checkpoint it read.</param>
/// <param name="Tensors">Tensors kept: the sampling weights.</param>
/// <param name="Dropped">Training-state tensors left behind.</param>
/// <param name="Bytes">Size of the release file.</param>
public sealed record ExportSummary(CheckpointKind Source, int Tensors, int Dropped, long Bytes);

/// <summary>
/// Makes a release checkpoint from a training checkpoint: the EMA weights under the model's parameter names (bit for
/// bit in F32, or rounded to nearest even in F16/BF16 to halve the file), every metadata entry sampling and evaluation read (kind, config, layout, σ_data, sampler defaults, crop,
/// generator metadata) and the run's provenance — method, step, data spec, teacher path and hash, warm-start source,
/// the commands and commits of its sessions, the source file's hash and the export's own command and commit — under
/// plain keys. Nothing under <see cref="ModelFactory.TrainingPrefix"/> is kept, so the file cannot be resumed.
/// </summary>
public static class ReleaseCheckpoint
{
    /// <summary>Training facts carried over under their plain names (see <see cref="CheckpointKind.Recorded"/>).</summary>
    private static readonly string[] Carried = ["data", "teacher", "teacher_sha256", "init_from", "init_from_sha256", "sessions"];

    /// <summary>
    /// Writes the release checkpoint of the training checkpoint <paramref name="source"/> to <paramref name="destination"/>
    /// atomically, its weights stored as <paramref name="dtype"/> (loading widens them back to F32). An existing
    /// destination is refused unless <paramref name="overwrite"/>; the source itself never.
    /// </summary>
    public static ExportSummary Export(string source, string destination, bool overwrite = false, DType dtype = DType.F32)
    {
        var kind = CheckpointKind.RequireTraining(source, "dk export --model");
        if (Path.GetFullPath(source) == Path.GetFullPath(destination))
            throw new ArgumentException($"--out {destination} is the training checkpoint itself; write the release checkpoint to another file");
        if (File.Exists(destination) && !overwrite)
            throw new ArgumentException($"--out {destination} already exists; pass --force to replace it");
        // Building the model checks that the sampling weights fit its config before anything is written.
        ModelFactory.Load(source).Dispose();

        using var scope = Tensor.Scope();
        var file = SafeTensors.Load(source);
        var tensors = file.Tensors.Where(kv => !IsTraining(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        var metadata = file.Metadata.Where(kv => !IsTraining(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var key in Carried)
            if (CheckpointKind.Recorded(file.Metadata, key) is { } value) metadata[key] = value;
        metadata["method"] = kind.Method!;
        if (kind.Step is { } step) metadata["step"] = step.ToString(CultureInfo.InvariantCulture);
        metadata["source_sha256"] = Sha256(source);
        metadata["exported_by"] = RunProvenance.ToJson(RunProvenance.Current);
        SafeTensors.Save(destination, tensors, metadata, dtype);
        return new ExportSummary(kind, tensors.Count, file.Tensors.Count - tensors.Count, new FileInfo(destination).Length);
    }

    private static bool IsTraining(string name) => name.StartsWith(ModelFactory.TrainingPrefix, StringComparison.Ordinal);

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
