using System.Security.Cryptography;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.Nn;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Common;

/// <summary>
/// A teacher denoiser D_T that distillation never trains: its parameters (when it is a module) stop requiring
/// gradients and every evaluation runs under NoGrad, so no graph is ever recorded through it. Knows where it
/// came from (path and SHA-256 of its file, when loaded from one) so checkpoints can name it and a resume can
/// check it is the same. Disposing it releases the network.
/// </summary>
public sealed class FrozenTeacher : IDisposable
{
    /// <summary>Freezes <paramref name="net"/> (typically a <see cref="Module"/>), evaluated with <paramref name="edm"/>.</summary>
    public FrozenTeacher(INoiseNet net, Edm edm, IReadOnlyDictionary<string, string>? metadata = null, string? path = null, string? sha256 = null)
    {
        Net = net;
        Edm = edm;
        Metadata = metadata ?? new Dictionary<string, string>();
        Path = path;
        Sha256 = sha256;
        if (net is Module m)
        {
            m.Eval();
            foreach (var p in m.Parameters()) p.RequiresGrad = false;
            Device = m.Parameters().FirstOrDefault()?.Device ?? Device.Cpu;
        }
        else
        {
            Device = Device.Cpu;
        }
    }

    /// <summary>
    /// Loads and freezes the model checkpoint at <paramref name="path"/>, hashing the file. The path is kept as given
    /// (relative paths stay relative, so a checkpoint that records it names no machine-specific directory).
    /// </summary>
    public static FrozenTeacher Load(string path, Device? device = null)
    {
        CheckpointKind.RequireRelease(path, "a distillation teacher (--teacher)", ModelRole.Teacher);
        string hash = FileSha256(path);
        var loaded = ModelFactory.Load(path, device);
        try
        {
            return new FrozenTeacher(loaded.Net, Edm.FromMetadata(loaded.Metadata), loaded.Metadata, path, hash);
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    /// <summary>Lower-case hex SHA-256 of a file's bytes.</summary>
    public static string FileSha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>The frozen network.</summary>
    public INoiseNet Net { get; }

    /// <summary>The teacher's preconditioning; networks derived from it use the same σd.</summary>
    public Edm Edm { get; }

    /// <summary>Metadata of the teacher's checkpoint (empty for an in-memory teacher).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The path of the checkpoint it was loaded from, as given, or null.</summary>
    public string? Path { get; }

    /// <summary>SHA-256 of that checkpoint, or null.</summary>
    public string? Sha256 { get; }

    /// <summary>Where its weights live.</summary>
    public Device Device { get; }

    /// <summary>The data spec the teacher was trained on, or null.</summary>
    public string? DataSpec => CheckpointKind.DataSpec(Metadata);

    /// <summary>
    /// The checkpoint metadata a student records of this teacher: its path and SHA-256 (when it came from a file) and,
    /// with <paramref name="withData"/>, its data spec and crop, so the student evaluates against the teacher's data.
    /// </summary>
    public IEnumerable<KeyValuePair<string, string>> Provenance(bool withData = true)
    {
        if (Path is { } path) yield return new(CheckpointKeys.Teacher, path);
        if (Sha256 is { } hash) yield return new(CheckpointKeys.TeacherHash, hash);
        if (!withData) yield break;
        if (DataSpec is { } data) yield return new(CheckpointKeys.Data, data);
        if (Metadata.TryGetValue(CheckpointKeys.Crop, out var crop)) yield return new(CheckpointKeys.Crop, crop);
    }

    /// <summary>
    /// The teacher a resumed distillation continues with: <paramref name="given"/>, which must hash like the teacher the
    /// checkpoint records, else the recorded file loaded onto <paramref name="device"/>. Owned is true when the teacher
    /// was loaded here (the caller disposes it); a missing or different teacher throws in one line.
    /// </summary>
    public static (FrozenTeacher Teacher, bool Owned) ForResume(CheckpointReader checkpoint, FrozenTeacher? given, Device? device)
    {
        var teacher = given;
        if (teacher == null)
        {
            string teacherPath = checkpoint.Metadata.GetValueOrDefault(CheckpointKeys.Teacher)
                ?? throw new ArgumentException($"{checkpoint.Path} does not record its teacher's file; pass the teacher");
            if (!File.Exists(teacherPath))
                throw new ArgumentException($"{checkpoint.Path}: its teacher {teacherPath} does not exist; pass the teacher");
            teacher = Load(teacherPath, device);
        }
        string? recorded = checkpoint.Metadata.GetValueOrDefault(CheckpointKeys.TeacherHash);
        if (recorded != null && teacher.Sha256 != null && teacher.Sha256 != recorded)
        {
            if (given == null) teacher.Dispose();
            throw new ArgumentException($"{checkpoint.Path}: the teacher {teacher.Path} (SHA-256 {teacher.Sha256[..12]}…) is not the one this run distils (SHA-256 {recorded[..Math.Min(12, recorded.Length)]}…)");
        }
        return (teacher, given == null);
    }

    /// <summary>D_T(x; σ, c) with per-sample σ [N], never recorded.</summary>
    public Tensor Denoise(Tensor x, Tensor sigma, Tensor? labels = null)
    {
        using var noGrad = Tensor.NoGrad();
        return Edm.Denoise(Net, x, sigma, labels);
    }

    /// <summary>
    /// The guided D_w(x; σ, c) = D(x; σ, ∅) + w·(D(x; σ, c) − D(x; σ, ∅)) with per-sample σ [N], never recorded;
    /// w = 1 or no labels is <see cref="Denoise(Tensor, Tensor, Tensor?)"/>.
    /// </summary>
    public Tensor Denoise(Tensor x, Tensor sigma, Tensor? labels, double guidance)
    {
        using var noGrad = Tensor.NoGrad();
        return Edm.GuidedDenoise(Net, x, sigma, labels, guidance);
    }

    /// <summary>
    /// A fresh trainable copy of the teacher network (same kind, config and weights) — the initial generator
    /// or auxiliary denoiser of a distillation.
    /// </summary>
    public Module TrainableCopy()
    {
        var source = Net as Module ?? throw new InvalidOperationException($"FrozenTeacher: {Net.GetType().Name} is not a module and cannot be copied");
        var (kind, config) = ModelFactory.Describe(source);
        var copy = ModelFactory.Create(kind, config, new Generator(0), Device);
        copy.LoadStateDict(source.StateDict());
        copy.Eval();
        return copy;
    }

    /// <summary>Releases the network when it is a module.</summary>
    public void Dispose() => (Net as Module)?.Dispose();
}
