using DiffKernels.Tensors;

namespace DiffKernels.Nn;

/// <summary>A module whose forward maps one tensor to one tensor, so it can be chained in a <see cref="Sequential"/>.</summary>
public interface ILayer
{
    /// <summary>Applies the layer.</summary>
    Tensor Forward(Tensor x);
}
