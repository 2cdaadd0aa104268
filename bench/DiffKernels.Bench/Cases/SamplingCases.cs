using DiffKernels.Backends;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Tensors;

namespace DiffKernels.Bench.Cases;

/// <summary>
/// Sampling throughput of the committed Fashion-MNIST models (UNet-XS) as `dk sample` draws them: the one-step
/// Diff-Instruct student, and its teacher with the sampler the teacher's checkpoint records (none, so the default: EDM
/// Heun on 18 Karras levels from σ 80 to 0.002, 35 evaluations). Each run draws fresh samples from noise with balanced
/// labels, checks them for NaN as `dk sample` does, and counts as its work the images it drew.
/// </summary>
internal static class SamplingCases
{
    /// <summary>Images per run of the student, all in one batch.</summary>
    public const int StudentImages = 256;

    /// <summary>
    /// Images per run of the teacher, in one batch, as for the student: the batch a user samples at, where per-call
    /// overheads are amortised on both sides (a run is 35 evaluations of 256 images, about 15–30 s on two cores).
    /// </summary>
    public const int TeacherImages = 256;

    /// <summary>The one-step student's checkpoint under models/.</summary>
    public const string StudentFile = "fmnist-diff-instruct-xs.safetensors";

    /// <summary>The teacher's checkpoint under models/.</summary>
    public const string TeacherFile = "fmnist-teacher-xs.safetensors";

    /// <summary>Images per run of the student's tiny shape (<c>dk bench --tiny</c>).</summary>
    public const int TinyImages = 2;

    /// <summary>The student case at <paramref name="images"/> images per run.</summary>
    private static BenchCase Student(int images) =>
        new("sample-student-xs", "sampling", $"one-step Diff-Instruct student, UNet-XS (models/{StudentFile}): {images} images in one batch, 1 evaluation each",
            BenchUnit.ImagesPerSecond, images, be => new Run(be, StudentFile, images), Target);

    /// <summary>The speed ratio against PyTorch both cases are to reach.</summary>
    public const double Target = 1.5;

    public static IEnumerable<BenchCase> All()
    {
        yield return new("sample-student-xs", "sampling", $"one-step Diff-Instruct student, UNet-XS (models/{StudentFile}): {StudentImages} images in one batch, 1 evaluation each",
            BenchUnit.ImagesPerSecond, StudentImages, be => new Run(be, StudentFile, StudentImages), Target, Student(TinyImages));
        yield return new("sample-teacher-heun35", "sampling", $"UNet-XS teacher (models/{TeacherFile}), EDM Heun on 18 Karras levels (35 evaluations): {TeacherImages} images in one batch",
            BenchUnit.ImagesPerSecond, TeacherImages, be => new Run(be, TeacherFile, TeacherImages), Target);
    }

    /// <summary>
    /// The committed checkpoint <paramref name="file"/>, looked for under models/ of the source tree that holds the
    /// current directory, else the one that holds this program; a one-line error when neither has it.
    /// </summary>
    public static string ModelPath(string file)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            string path = Path.Combine(BenchSession.RepoRoot(start), "models", file);
            if (File.Exists(path)) return path;
        }
        throw new ArgumentException($"bench: models/{file} not found above {Directory.GetCurrentDirectory()} or {AppContext.BaseDirectory}; the sampling cases run in the source tree");
    }

    private sealed class Run : CaseRun
    {
        private readonly PretrainedModel _model;
        private readonly SamplerOptions _options;
        private readonly int _images;

        public Run(IBackend be, string file, int images)
        {
            // A wrapped backend (the profiler) gets a device of its own, so tensors reach it rather than the shared CPU one.
            var device = ReferenceEquals(be, Device.Cpu.Backend) ? Device.Cpu : new Device(be.Name, be);
            _model = PretrainedModel.Load(ModelPath(file), device);
            _options = _model.DefaultOptions with { BatchSize = images };
            _images = images;
        }

        public override void Ours()
        {
            using var scope = Tensor.Scope();
            _model.Sample(_images, options: _options).Samples.Backend.Synchronize();
        }

        protected override void Release() => _model.Dispose();
    }
}
