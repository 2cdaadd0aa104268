using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Ddil;

/// <summary>The covariate shift at one student step: distances of the student's and the teacher's states to forward-diffused data there.</summary>
/// <param name="Step">The student step k (0-based; 0 is σ_max·z).</param>
/// <param name="Sigma">Its level σ_k.</param>
/// <param name="Student">Distance of the student's own states x(σ_k) to the data noised to σ_k.</param>
/// <param name="Teacher">The same for the teacher's trajectory from the same noises.</param>
public sealed record ShiftRow(int Step, double Sigma, double Student, double Teacher);

/// <summary>
/// DDIL's covariate-shift measurement. A few-step student is trained on inputs at its levels σ_k; at sampling time it
/// visits its own states x(σ_k) instead. This compares, at each σ_k, the student's states (its own sampler from σ_1·z:
/// Euler or the re-noising walk, with its x0 thresholding) and the teacher's (Euler on Karras-spaced substeps between
/// the student's levels, from the same z) with held-out data forward-diffused to σ_k, by a distance between two
/// sample sets (sliced Wasserstein for 2D toys, Fréchet distance in the metric classifier's features for images).
/// </summary>
public static class CovariateShift
{
    /// <summary>
    /// The rows for a student (<paramref name="student"/> preconditioned by <paramref name="edm"/>, sampling as
    /// <paramref name="sampler"/> records: explicit levels required) against <paramref name="teacher"/>, with
    /// <paramref name="reference"/> [N, …] held-out data (class ids <paramref name="labels"/> condition both walks when
    /// the models are conditional). Walks run in chunks of <paramref name="batch"/>; noises come from
    /// <paramref name="seed"/>. <paramref name="distance"/> compares two host sample sets of N samples each.
    /// </summary>
    public static IReadOnlyList<ShiftRow> Measure(INoiseNet student, Edm edm, SamplerDefaults sampler, FrozenTeacher teacher, float[] reference,
        float[]? labels, Func<float[], float[], double> distance, int teacherSubsteps = 8, ulong seed = 0, int batch = 500)
    {
        var levels = sampler.Sigmas ?? throw new ArgumentException("shift: the model records no σ levels; it is not a few-step student (distil one with dk distill pd, dmd2 or ddil)");
        var shape = student.SampleShape;
        int size = (int)shape.Numel, n = reference.Length / size;
        if (n < 2 || reference.Length != n * size) throw new ArgumentException($"shift: the reference holds {reference.Length} values, not N ≥ 2 samples of shape {shape}");
        if (teacher.Net.SampleShape != shape) throw new ArgumentException($"shift: the teacher draws {teacher.Net.SampleShape}, the student {shape}");
        var walker = new LoadedStudent(student, edm, levels, sampler.Kind == SamplerKind.Renoise, teacher);
        int k = levels.Count;
        var studentStates = Enumerable.Range(0, k).Select(_ => new float[n * size]).ToArray();
        var teacherStates = Enumerable.Range(0, k).Select(_ => new float[n * size]).ToArray();
        var zRng = new Generator(seed);
        var walkRng = new Generator(seed ^ 0x5_41F7UL);
        for (int start = 0; start < n; start += batch)
        {
            using var scope = Tensor.Scope();
            int b = Math.Min(batch, n - start);
            var z = zRng.Normal([b, .. shape], teacher.Device);
            var y = labels == null || student.NumClasses == 0 ? null : Tensor.FromSpan(labels.AsSpan(start, b), [b], teacher.Device);
            var own = DdilRollouts.Walk(walker, z, k - 1, y, 0, teacherSubsteps, sampler.Threshold, walkRng).States;
            var expert = DdilRollouts.Walk(walker, z, k - 1, y, 1, teacherSubsteps, sampler.Threshold, walkRng).States;
            for (int j = 0; j < k; j++)
            {
                own[j].ToArray().CopyTo(studentStates[j], start * size);
                expert[j].ToArray().CopyTo(teacherStates[j], start * size);
            }
        }
        var noiseRng = new Generator(seed ^ 0xF0_4A2DUL);
        var rows = new List<ShiftRow>();
        for (int j = 0; j < k; j++)
        {
            var noised = noiseRng.Normal([n * size], Device.Cpu).ToArray();
            for (int i = 0; i < noised.Length; i++) noised[i] = reference[i] + (float)levels[j] * noised[i];
            rows.Add(new ShiftRow(j, levels[j], distance(studentStates[j], noised), distance(teacherStates[j], noised)));
        }
        return rows;
    }

    /// <summary>A loaded few-step student at its recorded levels, walked as its sampler walks, beside its teacher.</summary>
    private sealed class LoadedStudent(INoiseNet net, Edm edm, IReadOnlyList<double> levels, bool renoises, FrozenTeacher teacher) : IDdilBase
    {
        public FrozenTeacher Expert => teacher;

        public IReadOnlyList<double> StudentLevels => levels;

        public bool StudentRenoises => renoises;

        public Tensor StudentDenoise(Tensor x, double sigma, Tensor? labels)
        {
            using var noGrad = Tensor.NoGrad();
            return edm.Denoise(net, x, sigma, labels);
        }
    }
}
