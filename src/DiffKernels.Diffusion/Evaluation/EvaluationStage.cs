namespace DiffKernels.Diffusion.Evaluation;

/// <summary>The stages of an image evaluation, in order, as its progress reports name them.</summary>
public enum EvaluationStage
{
    /// <summary>Drawing the samples and embedding them (images).</summary>
    Sampling,

    /// <summary>Embedding the test set (skipped when its features are cached or already in memory).</summary>
    TestFeatures,

    /// <summary>The k-NN radii and membership tests of precision/recall (rows of distances).</summary>
    PrecisionRecall,

    /// <summary>Embedding the training images of the floor (images).</summary>
    FloorFeatures,
}
