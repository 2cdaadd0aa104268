using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Data;

/// <summary>One training batch: samples [B, …sample shape] and, for labelled data, class ids as floats [B].</summary>
/// <param name="X">The clean samples.</param>
/// <param name="Labels">Class ids, or null for unlabelled data.</param>
public readonly record struct DataBatch(Tensor X, Tensor? Labels);

/// <summary>
/// Training data for a run (<see cref="Training.EdmTrainer"/>, the GAN trainer, data-fed distillations). A batch must be a function of the step and the generator's
/// state only, so that saving the generator's offset makes a resumed run draw the same batches.
/// </summary>
public interface IDataSource
{
    /// <summary>The spec that recreates this source (e.g. "toy:8gaussians"); stored in checkpoints.</summary>
    string Name { get; }

    /// <summary>Shape of one sample, e.g. [2] or [32, 32, 1].</summary>
    Shape SampleShape { get; }

    /// <summary>Number of classes the labels range over (0 for unlabelled data).</summary>
    int NumClasses { get; }

    /// <summary>
    /// Pixels of padding around each image that exported samples drop again (e.g. 2 when 28×28 images are
    /// padded to 32×32); 0 for everything else. Checkpoints record it under "crop".
    /// </summary>
    int Crop => 0;

    /// <summary>Draws the batch for training step <paramref name="step"/>.</summary>
    DataBatch Batch(long step, int batchSize, Generator gen, Device? device = null);
}
