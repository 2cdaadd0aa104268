using DiffKernels.Tensors;

namespace DiffKernels.Optim;

/// <summary>Adam with decoupled weight decay: p ← p·(1 − lr·wd) before the Adam update (Loshchilov and Hutter).</summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates the optimiser over <paramref name="parameters"/>.</summary>
    public AdamW(IEnumerable<Tensor> parameters, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 1e-2f)
        : base(parameters, lr, beta1, beta2, eps, weightDecay, decoupled: true)
    {
    }
}
