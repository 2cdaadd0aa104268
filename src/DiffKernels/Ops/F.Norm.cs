using DiffKernels.Autograd;
using DiffKernels.Tensors;

namespace DiffKernels.Ops;

public static partial class F
{
    /// <summary>
    /// Group normalisation of channels-last <paramref name="x"/> [N, ..., C]: channels split into
    /// <paramref name="groups"/> runs of C/groups consecutive channels, each normalised per sample over
    /// all positions and its channels, then scaled by <paramref name="gamma"/> and shifted by
    /// <paramref name="beta"/> ([C] each; null means no scale / no shift). With <paramref name="scale"/> and
    /// <paramref name="shift"/> (given together, [N, C] or [N, 1, …, 1, C]: one value per sample and channel)
    /// the result is then multiplied by 1 + scale and shifted by shift (FiLM). With <paramref name="silu"/>
    /// a SiLU follows. All of it is one kernel; on the CPU the forward equals, bit for bit,
    /// <c>Silu(GroupNorm(x, groups, gamma, beta) * (scale + 1) + shift)</c>.
    /// </summary>
    public static Tensor GroupNorm(Tensor x, int groups, Tensor? gamma, Tensor? beta, float eps = 1e-5f, bool silu = false,
        Tensor? scale = null, Tensor? shift = null)
    {
        const string op = "GroupNorm";
        if (x.Rank < 2) throw new ArgumentException($"{op}: x must be [N, ..., C] (rank ≥ 2), got {x.Shape}");
        int n = x.Shape[0], c = x.Shape[-1];
        if (groups < 1 || c % groups != 0)
            throw new ArgumentException($"{op}: x {x.Shape} has {c} channels, which {groups} groups do not divide");
        CheckAffine(op, x, c, gamma, beta);
        CheckFilm(op, x, scale, shift);
        if (!(eps >= 0)) throw new ArgumentException($"{op}: eps must be non-negative, got {eps}");
        long spatial = x.Shape.Prod(1, x.Rank - 1);

        var y = Tensor.Empty(x.Shape, x.Device);
        var mean = Tensor.Empty([n, groups], x.Device);
        var rstd = Tensor.Empty([n, groups], x.Device);
        x.Backend.GroupNormForward(x.Storage, gamma?.Storage, beta?.Storage, y.Storage, mean.Storage, rstd.Storage,
            n, spatial, c, groups, eps, silu, scale?.Storage, shift?.Storage);
        Tensor[] inputs = [.. AffineInputs(x, gamma, beta), .. scale == null ? Array.Empty<Tensor>() : [scale, shift!]];
        if (!Graph.Needs(inputs))
        {
            mean.Dispose();
            rstd.Dispose();
            return y;
        }
        string name = (scale != null ? "group_norm_film" : "group_norm") + (silu ? "_silu" : "");
        return Graph.Record(y, name, inputs, dy =>
        {
            var dx = Tensor.Empty(x.Shape, x.Device);
            var dgamma = gamma is { RequiresGrad: true } ? GradTarget.For(gamma) : null;
            var dbeta = beta is { RequiresGrad: true } ? GradTarget.For(beta) : null;
            var dscale = scale is { RequiresGrad: true } ? Tensor.Empty(scale.Shape, x.Device) : null;
            var dshift = shift is { RequiresGrad: true } ? Tensor.Empty(shift.Shape, x.Device) : null;
            x.Backend.GroupNormBackward(x.Storage, gamma?.Storage, beta?.Storage, mean.Storage, rstd.Storage, dy.Storage,
                dx.Storage, dgamma?.Storage, dbeta?.Storage, n, spatial, c, groups, silu,
                scale?.Storage, shift?.Storage, dscale?.Storage, dshift?.Storage);
            var grads = AffineGrads(x, dx, gamma, dgamma, beta, dbeta);
            return scale == null ? grads : [.. grads, dscale, dshift];
        });
    }

    /// <summary>
    /// Layer normalisation over the last dimension of <paramref name="x"/>, then the optional affine
    /// <paramref name="gamma"/>·x̂ + <paramref name="beta"/> ([D] each; null means no scale / no shift).
    /// </summary>
    public static Tensor LayerNorm(Tensor x, Tensor? gamma = null, Tensor? beta = null, float eps = 1e-5f)
    {
        const string op = "LayerNorm";
        if (x.Rank < 1 || x.Shape[-1] == 0) throw new ArgumentException($"{op}: x needs a non-empty last dimension, got {x.Shape}");
        int d = x.Shape[-1];
        CheckAffine(op, x, d, gamma, beta);
        if (!(eps >= 0)) throw new ArgumentException($"{op}: eps must be non-negative, got {eps}");
        long rows = x.Numel / d;

        var y = Tensor.Empty(x.Shape, x.Device);
        var mean = Tensor.Empty([(int)rows], x.Device);
        var rstd = Tensor.Empty([(int)rows], x.Device);
        x.Backend.LayerNormForward(x.Storage, gamma?.Storage, beta?.Storage, y.Storage, mean.Storage, rstd.Storage, rows, d, eps);
        var inputs = AffineInputs(x, gamma, beta);
        if (!Graph.Needs(inputs))
        {
            mean.Dispose();
            rstd.Dispose();
            return y;
        }
        return Graph.Record(y, "layer_norm", inputs, dy =>
        {
            var dx = Tensor.Empty(x.Shape, x.Device);
            var dgamma = gamma is { RequiresGrad: true } ? GradTarget.For(gamma) : null;
            var dbeta = beta is { RequiresGrad: true } ? GradTarget.For(beta) : null;
            x.Backend.LayerNormBackward(x.Storage, gamma?.Storage, mean.Storage, rstd.Storage, dy.Storage,
                dx.Storage, dgamma?.Storage, dbeta?.Storage, rows, d);
            return AffineGrads(x, dx, gamma, dgamma, beta, dbeta);
        });
    }

    private static void CheckAffine(string op, Tensor x, int channels, Tensor? gamma, Tensor? beta)
    {
        if (gamma != null && gamma.Shape != new Shape(channels))
            throw new ArgumentException($"{op}: gamma {gamma.Shape} must be [{channels}] for x {x.Shape}");
        if (beta != null && beta.Shape != new Shape(channels))
            throw new ArgumentException($"{op}: beta {beta.Shape} must be [{channels}] for x {x.Shape}");
        if (gamma != null) SameDevice(op, x, gamma);
        if (beta != null) SameDevice(op, x, beta);
    }

    private static void CheckFilm(string op, Tensor x, Tensor? scale, Tensor? shift)
    {
        if (scale == null && shift == null) return;
        if (scale == null || shift == null) throw new ArgumentException($"{op}: FiLM scale and shift must be given together");
        foreach (var (name, t) in new[] { ("scale", scale), ("shift", shift) })
        {
            var sh = t.Shape;
            bool ok = sh.Rank >= 2 && sh[0] == x.Shape[0] && sh[-1] == x.Shape[-1] && sh.Numel == (long)x.Shape[0] * x.Shape[-1];
            if (!ok) throw new ArgumentException($"{op}: {name} {sh} must be [N, C] or [N, 1, …, 1, C] for x {x.Shape}");
            SameDevice(op, x, t);
        }
    }

    /// <summary>[x, gamma?, beta?]: the recorded inputs, absent affine parameters left out.</summary>
    private static Tensor[] AffineInputs(Tensor x, Tensor? gamma, Tensor? beta) =>
        [x, .. gamma == null ? Array.Empty<Tensor>() : [gamma], .. beta == null ? Array.Empty<Tensor>() : [beta]];

    /// <summary>Gradients in the order of <see cref="AffineInputs"/>; dx is dropped when x needs none.</summary>
    private static Tensor?[] AffineGrads(Tensor x, Tensor dx, Tensor? gamma, Tensor? dgamma, Tensor? beta, Tensor? dbeta)
    {
        var grads = new List<Tensor?>(3);
        if (x.RequiresGrad) grads.Add(dx);
        else
        {
            dx.Dispose();
            grads.Add(null);
        }
        if (gamma != null) grads.Add(dgamma);
        if (beta != null) grads.Add(dbeta);
        return [.. grads];
    }
}
