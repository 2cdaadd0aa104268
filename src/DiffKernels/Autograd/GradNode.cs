using DiffKernels.Tensors;

namespace DiffKernels.Autograd;

/// <summary>
/// One recorded op: its inputs and a function from the output gradient to the input gradients
/// (null where an input needs none). Backward functions run under NoGrad and may return the
/// output gradient itself when the local Jacobian is the identity.
/// </summary>
internal sealed class GradNode(string op, Tensor[] inputs, Func<Tensor, Tensor?[]> backward)
{
    public string Op { get; } = op;

    public Tensor[] Inputs { get; } = inputs;

    public Func<Tensor, Tensor?[]> Backward { get; } = backward;
}
