using DiffKernels.Tensors;

namespace DiffKernels.Gpu.Checks;

public static partial class OpMatrix
{
    private const int B = 3, P = 37;

    private static IEnumerable<OpCase> Schedule()
    {
        const string f = "schedule";
        yield return Case(f, "edm training inputs", c =>
        {
            var x0 = c.Uniform([B, P]);
            var n = c.Uniform([B, P], -2, 2);
            var s = c.Values(0.002f, 0.7f, 80f);
            Tensor x = Tensor.Empty(x0.Shape, c.Device), netIn = Tensor.Empty(x0.Shape, c.Device), target = Tensor.Empty(x0.Shape, c.Device);
            var cNoise = Tensor.Empty([B], c.Device);
            x0.Backend.EdmTrainingInputs(x0.Storage, n.Storage, s.Storage, x.Storage, netIn.Storage, target.Storage, cNoise.Storage, B, P, 0.5f);
            return [x, netIn, target, cNoise];
        });
        yield return Case(f, "edm denoise", c =>
        {
            var x = c.Uniform([B, P], -5, 5);
            var net = c.Uniform([B, P]);
            var s = c.Values(0.01f, 1.3f, 40f);
            var d = Tensor.Empty(x.Shape, c.Device);
            x.Backend.EdmDenoise(x.Storage, net.Storage, s.Storage, d.Storage, B, P, 0.5f);
            return [d];
        });
        yield return Case(f, "euler step", c =>
        {
            var (x, d) = (c.Uniform([B, P], -5, 5), c.Uniform([B, P]));
            var y = Tensor.Empty(x.Shape, c.Device);
            x.Backend.EulerStep(x.Storage, d.Storage, c.Values(80f, 2f, 0.5f).Storage, c.Values(60f, 1f, 0f).Storage, y.Storage, B, P);
            return [y];
        });
        yield return Case(f, "heun step (last step Euler)", c =>
        {
            var (x, d, xn, dn) = (c.Uniform([B, P], -5, 5), c.Uniform([B, P]), c.Uniform([B, P], -4, 4), c.Uniform([B, P]));
            var y = Tensor.Empty(x.Shape, c.Device);
            x.Backend.HeunStep(x.Storage, d.Storage, xn.Storage, dn.Storage, c.Values(80f, 2f, 0.5f).Storage, c.Values(60f, 1f, 0f).Storage,
                y.Storage, B, P);
            return [y];
        });
        yield return Case(f, "edm denoise (one σ)", c =>
        {
            var (x, net) = (c.Uniform([B, P], -5, 5), c.Uniform([B, P]));
            var d = Tensor.Empty(x.Shape, c.Device);
            x.Backend.EdmDenoiseUniform(x.Storage, net.Storage, d.Storage, x.Numel, 0.0302f, 0.4923f);
            return [d];
        });
        yield return Case(f, "euler step (one σ)", c =>
        {
            var (x, d) = (c.Uniform([B, P], -5, 5), c.Uniform([B, P]));
            var y = Tensor.Empty(x.Shape, c.Device);
            x.Backend.EulerStepUniform(x.Storage, d.Storage, y.Storage, x.Numel, 0.7316f);
            return [y];
        });
        yield return Case(f, "heun step (one σ)", c =>
        {
            var (x, d, xn, dn) = (c.Uniform([B, P], -5, 5), c.Uniform([B, P]), c.Uniform([B, P], -4, 4), c.Uniform([B, P]));
            var y = Tensor.Empty(x.Shape, c.Device);
            x.Backend.HeunStepUniform(x.Storage, d.Storage, xn.Storage, dn.Storage, y.Storage, x.Numel, 0.0125f, 0.0167f, -10f);
            return [y];
        });
        yield return Case(f, "ddim step (vp)", c =>
        {
            var (x, d) = (c.Uniform([B, P], -2, 2), c.Uniform([B, P]));
            var y = Tensor.Empty(x.Shape, c.Device);
            x.Backend.DdimStep(x.Storage, d.Storage, c.Values(0.1f, 0.6f, 1f).Storage, c.Values(0.995f, 0.8f, 0f).Storage,
                c.Values(0.3f, 0.9f, 1f).Storage, c.Values(0.954f, 0.436f, 0f).Storage, y.Storage, B, P);
            return [y];
        });
        foreach (bool normalise in new[] { false, true })
            yield return Case(f, normalise ? "score difference (dmd2 normaliser)" : "score difference (diff-instruct)", c =>
            {
                var (xg, real, fake) = (c.Uniform([B, P]), c.Uniform([B, P]), c.Uniform([B, P]));
                var g = Tensor.Empty(xg.Shape, c.Device);
                xg.Backend.ScoreDifference(xg.Storage, real.Storage, fake.Storage, g.Storage, B, P, normalise, 1e-6f, 1f / (B * P));
                return [g];
            });
        yield return Case(f, "boot target", c =>
        {
            var (y, d) = (c.Uniform([B, P]), c.Uniform([B, P]));
            Tensor t = Tensor.Empty(y.Shape, c.Device), w = Tensor.Empty([B], c.Device);
            y.Backend.BootTarget(y.Storage, d.Storage, c.Values(80f, 1f, 0.5f).Storage, c.Values(60f, 0.999f, 0.2f).Storage, t.Storage, w.Storage, B, P, 0.01f);
            return [t, w];
        });
        yield return Case(f, "pd target", c =>
        {
            var (xa, xc) = (c.Uniform([B, P], -5, 5), c.Uniform([B, P]));
            Tensor t = Tensor.Empty(xa.Shape, c.Device), w = Tensor.Empty([B], c.Device);
            xa.Backend.PdTarget(xa.Storage, xc.Storage, c.Values(80f, 0.5f, 2f).Storage, c.Values(40f, 0.2f, 0f).Storage, t.Storage, w.Storage, B, P);
            return [t, w];
        });
        foreach (float q in new[] { 0f, 0.995f, 0.5f })
            yield return Case(f, q == 0 ? "x0 clip" : $"x0 dynamic threshold q={q}", c =>
            {
                var x = c.Uniform([B, P], -3, 3);
                var y = Tensor.Empty(x.Shape, c.Device);
                x.Backend.ThresholdX0(x.Storage, y.Storage, B, P, q);
                return [y];
            }, 0);
    }
}
