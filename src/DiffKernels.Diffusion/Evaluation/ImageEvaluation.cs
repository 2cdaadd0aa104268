using DiffKernels.Diffusion.Sampling;
using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Evaluation;

/// <summary>An image model's scores against the Fashion-MNIST test set.</summary>
/// <param name="Metrics">Fréchet distance, precision/recall and class histogram of the samples.</param>
/// <param name="Floor">Fréchet distance of as many real training images to the test set (null: not computed).</param>
/// <param name="Sampler">The sampler used.</param>
/// <param name="Nfe">Denoiser evaluations per sample.</param>
/// <param name="MsPerSample">Sampling time per image.</param>
/// <param name="Guidance">Classifier-free guidance scale.</param>
public sealed record ImageReport(SampleMetrics Metrics, double? Floor, SamplerKind Sampler, int Nfe, double MsPerSample, double Guidance)
{
    /// <summary>FD relative to the floor (null without a floor).</summary>
    public double? FloorRatio => Floor is { } f ? Metrics.Fd / f : null;
}

/// <summary>Samples an image model and scores it in the metric classifier's features (the evaluation protocol for images).</summary>
public static class ImageEvaluation
{
    /// <summary>
    /// Draws <paramref name="n"/> images from <paramref name="model"/> as <see cref="PretrainedModel.Sample"/> does
    /// with <paramref name="options"/> (null: the model's own sampler; balanced labels for conditional models, over the
    /// evaluator's <see cref="FrechetEvaluator.Classes"/> when it has a range) and scores them with <paramref name="evaluator"/>. The border the model was trained to pad with
    /// (<see cref="PretrainedModel.Crop"/>) is reset to the background value −1 and the values are clipped to the data
    /// range [−1, 1] first, so the score is that of the images <c>dk sample --npy</c> exports (cropped, clipped), padded
    /// back as the data is. With <paramref name="floor"/> the
    /// same distance is measured for the first n training images. The images are drawn and embedded a part at a time
    /// (the same values as one draw): only their features stay, so memory holds n features, not n images;
    /// <paramref name="progress"/> hears each stage's (done, total): after each part of the samples, then while the test
    /// set is embedded (when not cached), precision/recall's rows and the floor's images. Returns the report and the first
    /// <see cref="KeptImages"/> samples [k, H, W, C] with their border reset (owned by the current scope), for a grid.
    /// </summary>
    public static (ImageReport Report, Tensor Samples) Evaluate(PretrainedModel model, FrechetEvaluator evaluator, int n, SamplerOptions? options = null,
        bool floor = true, bool precisionRecall = true, Action<EvaluationStage, long, long>? progress = null)
    {
        CheckShape(model.RawSampleShape, evaluator, n);
        var o = options ?? model.DefaultOptions;
        int dim = evaluator.Classifier.Config.FeatureDim;
        var features = new float[(long)n * dim];
        var predicted = new int[n];
        var shape = model.RawSampleShape;
        int kept = Math.Min(n, KeptImages);
        var head = new float[kept * shape.Numel];
        var (nfe, seconds) = model.SampleInParts(n, o.Seed, null, o, PartSize(o.BatchSize), (part, first) =>
        {
            var images = AsExported(part.Samples, model.Crop);
            var (f, p) = evaluator.Embed(images);
            f.CopyTo(features, first * dim);
            p.CopyTo(predicted, first);
            if (first < kept) images.ToArray().AsSpan(0, (int)((Math.Min(kept, first + p.Length) - first) * shape.Numel)).CopyTo(head.AsSpan((int)(first * shape.Numel)));
            progress?.Invoke(EvaluationStage.Sampling, first + p.Length, n);
        }, evaluator.Classes);
        var metrics = evaluator.Evaluate(features, predicted, precisionRecall, progress: progress);
        double? floorFd = floor ? evaluator.Floor(n, progress == null ? null : (done, total) => progress(EvaluationStage.FloorFeatures, done, total)) : null;
        var report = new ImageReport(metrics, floorFd, o.Kind, nfe, 1000 * seconds / n, o.Guidance);
        return (report, Tensor.FromArray(head, [kept, .. shape.ToArray()]));
    }

    /// <summary>Images <see cref="Evaluate"/> returns at most: what a grid shows.</summary>
    public const int KeptImages = 100;

    // Parts hold whole sampler batches and whole feature batches of 500, so their results are those of one draw.
    private static int PartSize(int batch)
    {
        int part = batch;
        while (part % 500 != 0 && part < 5000) part += batch;
        return part;
    }

    internal static void CheckShape(Shape sampleShape, FrechetEvaluator evaluator, int n)
    {
        var c = evaluator.Classifier.Config;
        if (sampleShape != new Shape(c.ImageSize, c.ImageSize, c.Channels))
            throw new ArgumentException($"ImageEvaluation: the model draws samples of shape {sampleShape}, the classifier reads [{c.ImageSize}, {c.ImageSize}, {c.Channels}]");
        if (n < 2) throw new ArgumentException($"ImageEvaluation: {n} samples; the Fréchet distance needs at least 2");
    }

    /// <summary>
    /// Raw samples [N, H, W, C] as <see cref="SampleExport.ForNpy"/> exports them, laid out as the data is: the border of
    /// <paramref name="crop"/> pixels set to −1 and every value clipped to [−1, 1] (a denoiser's last step may overshoot).
    /// </summary>
    public static Tensor AsExported(Tensor samples, int crop)
    {
        using var noGrad = Tensor.NoGrad();
        return F.Clamp(crop > 0 ? ResetBorder(samples, crop) : samples, -1f, 1f);
    }

    /// <summary>
    /// <paramref name="images"/> [N, H, W, C] with a border of <paramref name="crop"/> pixels set to −1: the
    /// same as cropping them and padding them back the way the training data was padded.
    /// </summary>
    public static Tensor ResetBorder(Tensor images, int crop)
    {
        if (images.Rank != 4) throw new ArgumentException($"ImageEvaluation.ResetBorder: images must be [N, H, W, C], got {images.Shape}");
        int n = images.Shape[0], h = images.Shape[1], w = images.Shape[2], ch = images.Shape[3];
        if (crop < 0 || 2 * crop >= Math.Min(h, w)) throw new ArgumentException($"ImageEvaluation.ResetBorder: crop {crop} does not fit {h}×{w} images");
        var v = images.ToArray();
        for (int i = 0; i < n; i++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    if (y >= crop && y < h - crop && x >= crop && x < w - crop) continue;
                    v.AsSpan((int)((((long)i * h + y) * w + x) * ch), ch).Fill(-1f);
                }
        return Tensor.FromSpan(v, images.Shape, images.Device);
    }
}
