using DiffKernels.Diffusion.Models;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// Every metadata key and tensor-name prefix that run checkpoints use, for all run kinds. Changing a value breaks
/// every checkpoint already written; new run kinds add their keys here. The model's own keys (kind, config, conv
/// layout) and the sampling keys belong to <see cref="ModelFactory"/> and the samplers.
/// </summary>
public static class CheckpointKeys
{
    /// <summary>What every training-state key and tensor name starts with (the model loaders skip it).</summary>
    public const string Prefix = ModelFactory.TrainingPrefix;

    /// <summary>Iterations completed.</summary>
    public const string Step = Prefix + "step";

    /// <summary>Updates skipped for non-finite values.</summary>
    public const string Skipped = Prefix + "skipped";

    /// <summary>Iterations in a row, up to the checkpoint, that skipped an update.</summary>
    public const string ConsecutiveSkips = Prefix + "consecutive_skips";

    /// <summary>The run's options as JSON.</summary>
    public const string Options = Prefix + "options";

    /// <summary>The run kind that wrote the checkpoint (absent for EDM teachers, which predate it).</summary>
    public const string Method = Prefix + "method";

    /// <summary>The training data's spec (for a student: its teacher's), which evaluation compares against.</summary>
    public const string Data = Prefix + "data";

    /// <summary>Pixels per side that exported image samples drop (see <see cref="Data.IDataSource.Crop"/>).</summary>
    public const string Crop = "crop";

    /// <summary>Offset of the data stream.</summary>
    public const string DataRng = Prefix + "rng.data";

    /// <summary>Offset of the noise (or latent) stream.</summary>
    public const string NoiseRng = Prefix + "rng.noise";

    /// <summary>Offset of a run's single stream.</summary>
    public const string Rng = Prefix + "rng";

    /// <summary>The teacher checkpoint's path, as it was given.</summary>
    public const string Teacher = Prefix + "teacher";

    /// <summary>The teacher checkpoint's SHA-256.</summary>
    public const string TeacherHash = Prefix + "teacher_sha256";

    /// <summary>The run's sessions as JSON: the command and code commit that started it and each that resumed it.</summary>
    public const string Sessions = Prefix + "sessions";

    /// <summary>A warm start's source checkpoint, as it was given.</summary>
    public const string InitFrom = Prefix + "init_from";

    /// <summary>A warm start's source checkpoint's SHA-256.</summary>
    public const string InitFromHash = Prefix + "init_from_sha256";

    /// <summary>The discriminator's config JSON.</summary>
    public const string DiscriminatorConfig = Prefix + "disc_config";

    /// <summary>The auxiliary network's model kind.</summary>
    public const string AuxiliaryKind = Prefix + "aux_model";

    /// <summary>The auxiliary network's config JSON.</summary>
    public const string AuxiliaryConfig = Prefix + "aux_config";

    /// <summary>Tensor prefix of an EDM teacher's raw weights.</summary>
    public const string Weights = Prefix + "weights.";

    /// <summary>Tensor prefix of an EDM teacher's Adam state.</summary>
    public const string Adam = Prefix + "adam.";

    /// <summary>Tensor prefix of a generator's raw weights.</summary>
    public const string Generator = Prefix + "generator.";

    /// <summary>Tensor prefix of a generator's Adam state.</summary>
    public const string GeneratorAdam = Prefix + "adam_generator.";

    /// <summary>Tensor prefix of a discriminator's weights.</summary>
    public const string Discriminator = Prefix + "disc.";

    /// <summary>Tensor prefix of a discriminator's Adam state.</summary>
    public const string DiscriminatorAdam = Prefix + "adam_disc.";

    /// <summary>Tensor prefix of an auxiliary network's weights.</summary>
    public const string Auxiliary = Prefix + "aux.";

    /// <summary>Tensor prefix of an auxiliary network's Adam state.</summary>
    public const string AuxiliaryAdam = Prefix + "adam_aux.";

    /// <summary>Tensor prefix of progressive distillation's current teacher (the previous round's student, frozen).</summary>
    public const string RoundTeacher = Prefix + "pd_teacher.";

    /// <summary>Tensor prefix of progressive distillation's student Adam state.</summary>
    public const string StudentAdam = Prefix + "adam_student.";

    /// <summary>Prefix of DMD2's GAN head weights.</summary>
    public const string GanHead = Prefix + "gan_head.";

    /// <summary>Prefix of the GAN head's AdamW state.</summary>
    public const string GanHeadAdam = Prefix + "adam_gan_head.";

    /// <summary>DDIL's options as JSON (present when a base distillation trains on DDIL's inputs).</summary>
    public const string Ddil = Prefix + "ddil";

    /// <summary>Offset of DDIL's random stream (sources, rollouts, re-noising).</summary>
    public const string DdilRng = Prefix + "rng.ddil";

    /// <summary>Tensor prefix of DDIL's replay buffer: the student's x0 estimates per level ("{prefix}J") and class ids ("{prefix}labels").</summary>
    public const string DdilBuffer = Prefix + "ddil_buffer.";

    /// <summary>The iteration DDIL's replay buffer was rolled out at (absent: not yet).</summary>
    public const string DdilBufferStep = Prefix + "ddil_buffer_step";

    /// <summary>The student levels DDIL's replay buffer was rolled out on.</summary>
    public const string DdilBufferLevels = Prefix + "ddil_buffer_levels";
}
