using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Autograd;

/// <summary>The reverse sweep over the recorded graph.</summary>
internal static class Backprop
{
    public static void Run(Tensor root, Tensor? dy)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException($"Backward: tensor {root.Shape} does not require grad (no input requires grad, or it was made under NoGrad)");
        if (dy == null && root.Numel != 1)
            throw new InvalidOperationException($"Backward: output of shape {root.Shape} is not a scalar; pass the output gradient dy");
        if (dy != null && dy.Shape != root.Shape)
            throw new ArgumentException($"Backward: dy shape {dy.Shape} does not match output shape {root.Shape}");

        var order = TopologicalOrder(root);
        // Intermediate gradients live in this scope; only leaf gradients leave it.
        using var scope = Tensor.Scope();
        using var noGrad = GradMode.Disable();
        var grads = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
        using var sweep = new GradTarget.Sweep(grads);
        grads[root] = dy ?? Tensor.Ones(root.Shape, root.Device);

        for (int i = order.Count - 1; i >= 0; i--)
        {
            var t = order[i];
            if (!grads.Remove(t, out var g)) continue;
            if (t.Node == null)
            {
                AccumulateLeaf(t, g);
                continue;
            }
            var inGrads = t.Node.Backward(g);
            var inputs = t.Node.Inputs;
            var consumed = new List<Tensor> { g };
            for (int k = 0; k < inputs.Length; k++)
            {
                var x = inputs[k];
                var gx = inGrads[k];
                if (gx == null || !x.RequiresGrad) continue;
                if (gx.Shape != x.Shape)
                    throw new InvalidOperationException($"Backward of {t.Node.Op}: gradient for input {k} has shape {gx.Shape}, expected {x.Shape}");
                if (grads.TryGetValue(x, out var prev))
                {
                    grads[x] = F.Add(prev, gx);
                    consumed.Add(prev);
                    consumed.Add(gx);
                }
                else
                {
                    grads[x] = gx;
                }
            }
            FreeConsumed(consumed, grads, scope);
        }
    }

    /// <summary>
    /// Frees gradients made during this sweep that no pending entry still holds, so the sweep's
    /// memory stays near its frontier instead of growing with the whole graph.
    /// </summary>
    private static void FreeConsumed(List<Tensor> consumed, Dictionary<Tensor, Tensor> grads, TensorScope scope)
    {
        foreach (var c in consumed)
            if (c.OwnerScope == scope && !c.IsDisposed && !grads.Values.Any(v => ReferenceEquals(v, c))) c.Dispose();
    }

    private static void AccumulateLeaf(Tensor leaf, Tensor g)
    {
        if (leaf.Grad == null && leaf.GradSlot is { } target && ReferenceEquals(g.Storage, target))
        {
            // Made in its slot by the backward function (GradTarget): it only changes owner scope.
            TensorScope.Adopt(leaf.OwnerScope, g);
            leaf.Grad = g;
        }
        else if (leaf.Grad == null)
        {
            // The gradient lives as long as its tensor: same owner scope (untracked for parameters). A parameter of
            // an arena takes it in its slot of the arena's gradient buffer.
            var copy = leaf.GradSlot is { } slot ? F.CopyRawInto(g, slot) : F.CopyRaw(g);
            TensorScope.Adopt(leaf.OwnerScope, copy);
            leaf.Grad = copy;
        }
        else
        {
            F.AddInPlace(leaf.Grad, g);
        }
    }

    /// <summary>Post-order DFS (iterative, so deep graphs cannot overflow the stack).</summary>
    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor t, int next)>();
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (t, next) = stack.Pop();
            var inputs = t.Node?.Inputs ?? [];
            if (next < inputs.Length)
            {
                stack.Push((t, next + 1));
                var x = inputs[next];
                if (x.RequiresGrad && visited.Add(x)) stack.Push((x, 0));
            }
            else
            {
                order.Add(t);
            }
        }
        return order;
    }
}
