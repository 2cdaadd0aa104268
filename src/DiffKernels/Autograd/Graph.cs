using DiffKernels.Tensors;

namespace DiffKernels.Autograd;

/// <summary>Records ops on the tape.</summary>
public static class Graph
{
    /// <summary>True when an op on <paramref name="inputs"/> must be recorded.</summary>
    public static bool Needs(params Tensor[] inputs)
    {
        if (!GradMode.IsEnabled) return false;
        foreach (var t in inputs) if (t.RequiresGrad) return true;
        return false;
    }

    /// <summary>
    /// Attaches a backward function to <paramref name="result"/> when any input requires grad and
    /// recording is on. <paramref name="backward"/> maps dy to one gradient per input (null allowed).
    /// Returns <paramref name="result"/>.
    /// </summary>
    public static Tensor Record(Tensor result, string op, Tensor[] inputs, Func<Tensor, Tensor?[]> backward)
    {
        if (!Needs(inputs)) return result;
        result.Node = new GradNode(op, inputs, backward);
        result.MarkRequiresGrad();
        return result;
    }
}
