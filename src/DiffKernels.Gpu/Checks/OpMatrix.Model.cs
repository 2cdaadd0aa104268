using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Gpu.Checks;

public static partial class OpMatrix
{
    /// <summary>
    /// Tolerance of the model step: about thirty ops deep, so float rounding compounds; 1e-9 is a
    /// relative RMS error of 3e-5 on every compared tensor.
    /// </summary>
    public const double ModelTolerance = 1e-9;

    /// <summary>
    /// One training step of <see cref="TinyUNet"/>: the output, the loss, every parameter gradient
    /// and every parameter after one Adam step. Parameters are drawn from the same Philox stream on
    /// each device (bit-identical), so both backends start from the same model.
    /// </summary>
    public static IReadOnlyList<Tensor> ModelStep(OpInputs c)
    {
        var model = new TinyUNet(new Generator(2024), c.Device);
        try
        {
            var x = c.Uniform([2, 8, 8, 1]);
            var t = c.Uniform([2], 0, 4);
            var y = model.Forward(x, t);
            var loss = F.MseLoss(y, c.Uniform(y.Shape));
            loss.Backward();
            var outputs = new List<Tensor> { y, loss };
            // Softmax ignores a shift shared by all keys, so the key bias gradient is zero in exact
            // arithmetic: both backends hold only rounding noise there, which no relative error can compare.
            foreach (var (name, p) in model.NamedParameters())
                if (name != "attn.k.bias") outputs.Add(F.Copy(p.Grad!));
            // Adam's first step moves each weight by about lr·sign(g); a large ε keeps that continuous
            // where g is near zero, so rounding noise in tiny gradients cannot flip a whole step.
            using (var opt = new Adam(model.Parameters(), lr: 1e-2f, eps: 1e-3f)) opt.Step();
            foreach (var p in model.Parameters()) outputs.Add(F.Copy(p));
            return outputs;
        }
        finally
        {
            // Outputs are copies owned by the caller's scope; the parameters go with the model.
            model.Dispose();
        }
    }

    private static IEnumerable<OpCase> Models()
    {
        yield return Case("model", "unet-xs-like training step", ModelStep, ModelTolerance);
    }
}
