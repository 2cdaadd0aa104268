using System.Security.Cryptography;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Models;
using DiffKernels.IO;
using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Evaluation;

/// <summary>The image metrics of one sample set against the Fashion-MNIST test set.</summary>
/// <param name="Count">Number of samples.</param>
/// <param name="Fd">Fréchet distance in the classifier's penultimate features.</param>
/// <param name="Precision">k-NN precision (NaN when not computed).</param>
/// <param name="Recall">k-NN recall (NaN when not computed).</param>
/// <param name="Classes">Histogram of the classifier's predictions.</param>
public sealed record SampleMetrics(int Count, double Fd, double Precision, double Recall, ClassHistogram Classes);

/// <summary>
/// Scores generated images with the metric classifier: its penultimate features against those of the
/// Fashion-MNIST test set (computed once, kept in memory and, given a cache directory, on disk keyed by
/// a hash of the classifier's weights), giving Fréchet distance, precision/recall and the class
/// histogram; <see cref="Floor"/> is the same distance for real training images, the best a generator
/// can expect. Given a range of <see cref="Classes"/>, every real set is that of those classes only: the test images
/// compared with and the training images of the floor (the cache still holds the whole test set's features).
/// </summary>
public sealed class FrechetEvaluator
{
    private const int Batch = 500;
    private readonly string? _dataDir;
    private readonly string? _cacheDir;
    private float[]? _testFeatures;
    private FeatureStatistics? _testStats;
    private string? _fingerprint;

    /// <summary>
    /// Evaluates with <paramref name="classifier"/> against the test split in <paramref name="dataDir"/>
    /// (default <see cref="FashionMnist.DefaultDirectory"/>), caching test features under <paramref name="cacheDir"/> when given;
    /// with <paramref name="classes"/>, against the images of those classes only.
    /// </summary>
    public FrechetEvaluator(Classifier classifier, string? dataDir = null, string? cacheDir = null, (int First, int Last)? classes = null)
    {
        if (classes is var (first, last) && (first < 0 || first > last || last >= classifier.Config.NumClasses))
            throw new ArgumentException($"FrechetEvaluator: classes {first}-{last} are not a range of the classifier's classes 0-{classifier.Config.NumClasses - 1}");
        Classifier = classifier;
        Classes = classes;
        _dataDir = dataDir;
        _cacheDir = cacheDir;
    }

    /// <summary>The feature extractor.</summary>
    public Classifier Classifier { get; }

    /// <summary>The range of classes whose real images are compared with (null: all of them).</summary>
    public (int First, int Last)? Classes { get; }

    /// <summary>Where test features are cached by default: $XDG_CACHE_HOME/diffkernels or ~/.cache/diffkernels.</summary>
    public static string DefaultCacheDirectory
    {
        get
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string root = string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg;
            return Path.Combine(root, "diffkernels");
        }
    }

    /// <summary>Features of the test images (those of <see cref="Classes"/>, in the test set's order), row-major [N, FeatureDim].</summary>
    public float[] TestFeatures => PrepareTestFeatures();

    /// <summary>
    /// <see cref="TestFeatures"/>, loaded from the cache or computed now; <paramref name="progress"/> hears (images
    /// embedded, test images) while they are computed.
    /// </summary>
    public float[] PrepareTestFeatures(Action<long, long>? progress = null) =>
        _testFeatures ??= InClasses(LoadOrComputeTestFeatures(progress), FashionSplit.Test);

    /// <summary>Mean and covariance of <see cref="TestFeatures"/>.</summary>
    public FeatureStatistics TestStatistics => _testStats ??= FeatureStatistics.From(TestFeatures, TestFeatures.Length / Dim, Dim);

    private int Dim => Classifier.Config.FeatureDim;

    /// <summary>Penultimate features [N·FeatureDim] and predicted classes [N] of images [N, H, W, C] (any device; evaluation mode, no graph).</summary>
    public (float[] Features, int[] Predicted) Embed(Tensor images)
    {
        int n = images.Shape[0], d = Dim, k = Classifier.Config.NumClasses;
        var features = new float[(long)n * d];
        var predicted = new int[n];
        Classifier.Eval();
        using var noGrad = Tensor.NoGrad();
        for (int start = 0; start < n; start += Batch)
        {
            using var scope = Tensor.Scope();
            int b = Math.Min(Batch, n - start);
            var x = F.Narrow(images, 0, start, b);
            if (x.Device != Classifier.Head.Weight.Device) x = Tensor.FromSpan(x.ToArray(), x.Shape, Classifier.Head.Weight.Device);
            var h = Classifier.Features(x);
            h.ToArray().CopyTo(features, (long)start * d);
            ClassifierTraining.ArgMaxRows(Classifier.Head.Forward(h).ToArray(), k).CopyTo(predicted, start);
        }
        return (features, predicted);
    }

    /// <summary>Features of a dataset's images (see <see cref="Embed(Tensor)"/>); <paramref name="progress"/> hears (images embedded, images).</summary>
    public float[] Features(ImageDataset data, Action<long, long>? progress = null)
    {
        var features = new float[(long)data.Count * Dim];
        for (int start = 0; start < data.Count; start += Batch)
        {
            using var scope = Tensor.Scope();
            int b = Math.Min(Batch, data.Count - start);
            Embed(data.Range(start, b).Images).Features.CopyTo(features, (long)start * Dim);
            progress?.Invoke(start + b, data.Count);
        }
        return features;
    }

    /// <summary>Fréchet distance of <paramref name="samples"/> [N, 32, 32, 1] (N ≥ 2) to the test set.</summary>
    public double Fd(Tensor samples)
    {
        var (f, _) = Embed(samples);
        return FrechetDistance.Compute(FeatureStatistics.From(f, samples.Shape[0], Dim), TestStatistics);
    }

    /// <summary>Fréchet distance, precision/recall (k-NN with <paramref name="k"/>; skipped when false) and class histogram of <paramref name="samples"/>.</summary>
    public SampleMetrics Evaluate(Tensor samples, bool precisionRecall = true, int k = 3)
    {
        var (f, predicted) = Embed(samples);
        return Evaluate(f, predicted, precisionRecall, k);
    }

    /// <summary>
    /// The metrics of <see cref="Evaluate(Tensor, bool, int)"/> from the samples' features [N·FeatureDim] and predicted
    /// classes [N] (<see cref="Embed"/>), so a large sample set can be embedded a part at a time and its images dropped.
    /// <paramref name="progress"/> hears the test set's embedding (when it is computed now) and precision/recall's rows.
    /// </summary>
    public SampleMetrics Evaluate(float[] f, int[] predicted, bool precisionRecall = true, int k = 3, Action<EvaluationStage, long, long>? progress = null)
    {
        int n = predicted.Length;
        if (f.Length != (long)n * Dim) throw new ArgumentException($"FrechetEvaluator: {f.Length} feature values for {n} samples of {Dim}");
        PrepareTestFeatures(progress == null ? null : (done, total) => progress(EvaluationStage.TestFeatures, done, total));
        double fd = FrechetDistance.Compute(FeatureStatistics.From(f, n, Dim), TestStatistics);
        var pr = precisionRecall
            ? PrecisionRecall.Compute(TestFeatures, f, Dim, k, progress == null ? null : (done, total) => progress(EvaluationStage.PrecisionRecall, done, total))
            : new PrecisionRecallResult(double.NaN, double.NaN);
        return new SampleMetrics(n, fd, pr.Precision, pr.Recall, ClassHistogram.From(predicted, Classifier.Config.NumClasses, Classes));
    }

    /// <summary>
    /// The floor: Fréchet distance of the first <paramref name="trainCount"/> training images (the
    /// sample size of an evaluation, 10,000 by default; of <see cref="Classes"/> only, when given) to the test set;
    /// <paramref name="progress"/> hears (images embedded, images).
    /// </summary>
    public double Floor(int trainCount = 10_000, Action<long, long>? progress = null)
    {
        var train = Classes is { } range ? ClassTrainingImages(range, trainCount) : FashionMnist.Load(FashionSplit.Train, _dataDir, trainCount);
        var f = Features(train, progress);
        return FrechetDistance.Compute(FeatureStatistics.From(f, train.Count, Dim), TestStatistics);
    }

    /// <summary>How many training images <see cref="Floor"/> can take: those of <see cref="Classes"/> (all, without), counted from the labels alone.</summary>
    public int TrainingImages() => Picked(FashionSplit.Train) is { } picked ? picked.Length : FashionMnist.Labels(FashionSplit.Train, _dataDir).Length;

    // Indices of the split's images of Classes (null without a range), in the split's order.
    private int[]? Picked(FashionSplit split)
    {
        if (Classes is not var (first, last)) return null;
        var labels = FashionMnist.Labels(split, _dataDir);
        return Enumerable.Range(0, labels.Length).Where(i => labels[i] >= first && labels[i] <= last).ToArray();
    }

    // The rows of features of the whole split that belong to Classes.
    private float[] InClasses(float[] features, FashionSplit split)
    {
        if (Picked(split) is not { } picked) return features;
        if (picked.Length < 2)
            throw new ArgumentException($"FrechetEvaluator: the Fashion-MNIST {split.ToString().ToLowerInvariant()} split has {picked.Length} images of classes {Classes!.Value.First}-{Classes!.Value.Last}; the Fréchet distance needs at least 2");
        var rows = new float[(long)picked.Length * Dim];
        for (int k = 0; k < picked.Length; k++) features.AsSpan(picked[k] * Dim, Dim).CopyTo(rows.AsSpan(k * Dim));
        return rows;
    }

    // The first n training images of the range; only the training images up to the last of them are loaded.
    private ImageDataset ClassTrainingImages((int First, int Last) range, int n)
    {
        var picked = Picked(FashionSplit.Train)!;
        if (n < 1 || picked.Length < n)
            throw new ArgumentException($"FrechetEvaluator: the floor takes {n} training images of classes {range.First}-{range.Last}; there are {picked.Length}");
        var train = FashionMnist.Load(FashionSplit.Train, _dataDir, picked[n - 1] + 1);
        return ImageSubset.Select(new ImageDataSource(train, ImageDataSource.FashionSpec), range, n).Data;
    }

    /// <summary>A hash of the classifier's config and weights, naming its cache file.</summary>
    public string Fingerprint => _fingerprint ??= ComputeFingerprint();

    private string ComputeFingerprint()
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(System.Text.Encoding.UTF8.GetBytes(Classifier.Config.ToJson()));
        foreach (var (name, p) in Classifier.NamedParameters())
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(name));
            sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(p.ToArray().AsSpan()));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..16];
    }

    private float[] LoadOrComputeTestFeatures(Action<long, long>? progress)
    {
        string? cache = _cacheDir == null ? null : Path.Combine(_cacheDir, $"fmnist-test-features-{Fingerprint}.safetensors");
        if (cache != null && File.Exists(cache))
        {
            try
            {
                var file = SafeTensors.Load(cache, Device.Cpu);
                try
                {
                    if (file.Tensors.TryGetValue("features", out var t) && t.Rank == 2 && t.Shape[1] == Dim) return t.ToArray();
                }
                finally
                {
                    foreach (var t in file.Tensors.Values) t.Dispose();
                }
            }
            catch (Exception e) when (e is SafeTensorsFormatException or IOException)
            {
                // A damaged cache is recomputed and overwritten below.
            }
        }
        var test = FashionMnist.Load(FashionSplit.Test, _dataDir);
        var features = Features(test, progress);
        if (cache != null)
        {
            Directory.CreateDirectory(_cacheDir!);
            using var scope = Tensor.Scope();
            SafeTensors.Save(cache, new Dictionary<string, Tensor> { ["features"] = Tensor.FromSpan(features, new Shape(test.Count, Dim), Device.Cpu) },
                new Dictionary<string, string> { ["classifier"] = Fingerprint });
        }
        return features;
    }
}
