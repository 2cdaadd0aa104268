using DiffKernels.Tensors;

namespace DiffKernels.Ops;

public static partial class F
{
    /// <summary>Mean squared error over all elements of <paramref name="pred"/>; <paramref name="target"/> may broadcast to it.</summary>
    public static Tensor MseLoss(Tensor pred, Tensor target)
    {
        SameDevice("MseLoss", pred, target);
        if (Shape.Broadcast(pred.Shape, target.Shape, "MseLoss") != pred.Shape)
            throw new ArgumentException($"MseLoss: target shape {target.Shape} does not broadcast to prediction shape {pred.Shape}");
        return Mean(Square(Sub(pred, target)));
    }

    /// <summary>
    /// Mean over the batch of −log softmax(<paramref name="logits"/>)[n, labels[n]] for logits [N, C]
    /// and integer class labels in [0, C).
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, int[] labels)
    {
        if (logits.Rank != 2) throw new ArgumentException($"CrossEntropy: logits must have shape [N, C], got {logits.Shape}");
        int n = logits.Shape[0], c = logits.Shape[1];
        if (n == 0) throw new ArgumentException($"CrossEntropy: logits {logits.Shape} hold an empty batch");
        if (labels.Length != n)
            throw new ArgumentException($"CrossEntropy: {labels.Length} labels given for logits of shape {logits.Shape} (expected {n})");
        // The one-hot mask carries −1/N, so one product and sum give the mean negative log-likelihood.
        var mask = new float[(long)n * c];
        for (int i = 0; i < n; i++)
        {
            if (labels[i] < 0 || labels[i] >= c)
                throw new ArgumentException($"CrossEntropy: label {labels[i]} at index {i} is outside [0, {c}) for logits of shape {logits.Shape}");
            mask[(long)i * c + labels[i]] = -1f / n;
        }
        var weights = Tensor.FromSpan(mask, logits.Shape, logits.Device);
        return Sum(Mul(LogSoftmax(logits, 1), weights));
    }

    /// <summary>Cross-entropy with class indices given as a float tensor [N] of whole numbers (see the int[] overload).</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels)
    {
        if (labels.Rank != 1)
            throw new ArgumentException($"CrossEntropy: labels must have shape [N], got {labels.Shape} for logits of shape {logits.Shape}");
        var values = labels.ToArray();
        var ints = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (v != MathF.Round(v) || v < int.MinValue || v > int.MaxValue)
                throw new ArgumentException($"CrossEntropy: label {v} at index {i} is not a class index (labels shape {labels.Shape})");
            ints[i] = (int)v;
        }
        return CrossEntropy(logits, ints);
    }

    /// <summary>Non-saturating GAN generator loss: mean softplus(−l) over the discriminator's logits on fakes.</summary>
    public static Tensor GanGeneratorLoss(Tensor fakeLogits) => Mean(Softplus(Neg(fakeLogits)));

    /// <summary>GAN discriminator loss: mean softplus(−l_real) + mean softplus(l_fake) (logistic loss on both batches).</summary>
    public static Tensor GanDiscriminatorLoss(Tensor realLogits, Tensor fakeLogits)
    {
        SameDevice("GanDiscriminatorLoss", realLogits, fakeLogits);
        return Add(Mean(Softplus(Neg(realLogits))), Mean(Softplus(fakeLogits)));
    }
}
