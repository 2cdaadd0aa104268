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
        CheckFilm("GroupNorm", x, scale, shift);
        return GroupNorm(x, groups, gamma, beta, eps, silu, scale == null ? null : new Film(scale, shift!, null));
    }

    /// <summary>
    /// <see cref="GroupNorm(Tensor, int, Tensor?, Tensor?, float, bool, Tensor?, Tensor?)"/> with the FiLM scale and
    /// shift as the two halves of one tensor <paramref name="film"/> [N, 2C] or [N, 1, …, 1, 2C] (scale the first C
    /// channels, shift the last C), as one projection of an embedding makes them: the same values, read in place
    /// rather than split into two tensors first (and the gradient made as one tensor rather than two scattered back).
    /// </summary>
    public static Tensor GroupNorm(Tensor x, int groups, Tensor? gamma, Tensor? beta, Tensor film, float eps = 1e-5f, bool silu = false)
    {
        const string op = "GroupNorm";
        var sh = film.Shape;
        if (x.Rank < 2 || !(sh.Rank >= 2 && sh[0] == x.Shape[0] && sh[-1] == 2 * x.Shape[-1] && sh.Numel == 2L * x.Shape[0] * x.Shape[-1]))
            throw new ArgumentException($"{op}: film {sh} must be [N, 2C] or [N, 1, …, 1, 2C] for x {x.Shape}");
        SameDevice(op, x, film);
        return GroupNorm(x, groups, gamma, beta, eps, silu, new Film(null, null, film));
    }

    /// <summary>The FiLM of a GroupNorm: separate scale and shift, or one tensor holding both halves.</summary>
    private readonly record struct Film(Tensor? Scale, Tensor? Shift, Tensor? Both);

    private static Tensor GroupNorm(Tensor x, int groups, Tensor? gamma, Tensor? beta, float eps, bool silu, Film? film)
    {
        const string op = "GroupNorm";
        if (x.Rank < 2) throw new ArgumentException($"{op}: x must be [N, ..., C] (rank ≥ 2), got {x.Shape}");
        int n = x.Shape[0], c = x.Shape[-1];
        if (groups < 1 || c % groups != 0)
            throw new ArgumentException($"{op}: x {x.Shape} has {c} channels, which {groups} groups do not divide");
        CheckAffine(op, x, c, gamma, beta);
        if (!(eps >= 0)) throw new ArgumentException($"{op}: eps must be non-negative, got {eps}");
        long spatial = x.Shape.Prod(1, x.Rank - 1);

        var both = film?.Both;
        var y = Tensor.Empty(x.Shape, x.Device);
        var mean = Tensor.Empty([n, groups], x.Device);
        var rstd = Tensor.Empty([n, groups], x.Device);
        if (both != null)
            Halves(both, c, (scale, shift) => x.Backend.GroupNormForward(x.Storage, gamma?.Storage, beta?.Storage,
                y.Storage, mean.Storage, rstd.Storage, n, spatial, c, groups, eps, silu, scale, shift, 2 * c));
        else
            x.Backend.GroupNormForward(x.Storage, gamma?.Storage, beta?.Storage, y.Storage, mean.Storage, rstd.Storage,
                n, spatial, c, groups, eps, silu, film?.Scale?.Storage, film?.Shift?.Storage);
        Tensor[] filmInputs = both != null ? [both] : film is { } f ? [f.Scale!, f.Shift!] : [];
        Tensor[] inputs = [.. AffineInputs(x, gamma, beta), .. filmInputs];
        if (!Graph.Needs(inputs))
        {
            mean.Dispose();
            rstd.Dispose();
            return y;
        }
        string name = (film != null ? "group_norm_film" : "group_norm") + (silu ? "_silu" : "");
        return Graph.Record(y, name, inputs, dy =>
        {
            var dx = Tensor.Empty(x.Shape, x.Device);
            var dgamma = gamma is { RequiresGrad: true } ? GradTarget.For(gamma) : null;
            var dbeta = beta is { RequiresGrad: true } ? GradTarget.For(beta) : null;
            Tensor?[] filmGrads;
            if (both != null)
            {
                var dboth = both.RequiresGrad ? Tensor.Empty(both.Shape, x.Device) : null;
                Halves(both, c, (scale, shift) =>
                {
                    void Backward(Backends.DeviceBuffer? dscale, Backends.DeviceBuffer? dshift) =>
                        x.Backend.GroupNormBackward(x.Storage, gamma?.Storage, beta?.Storage, mean.Storage, rstd.Storage, dy.Storage,
                            dx.Storage, dgamma?.Storage, dbeta?.Storage, n, spatial, c, groups, silu, scale, shift, dscale, dshift, 2 * c);
                    if (dboth == null) Backward(null, null);
                    else Halves(dboth, c, Backward);
                });
                filmGrads = [dboth];
            }
            else
            {
                var (scale, shift) = (film?.Scale, film?.Shift);
                var dscale = scale is { RequiresGrad: true } ? Tensor.Empty(scale.Shape, x.Device) : null;
                var dshift = shift is { RequiresGrad: true } ? Tensor.Empty(shift.Shape, x.Device) : null;
                x.Backend.GroupNormBackward(x.Storage, gamma?.Storage, beta?.Storage, mean.Storage, rstd.Storage, dy.Storage,
                    dx.Storage, dgamma?.Storage, dbeta?.Storage, n, spatial, c, groups, silu,
                    scale?.Storage, shift?.Storage, dscale?.Storage, dshift?.Storage);
                filmGrads = film != null ? [dscale, dshift] : [];
            }
            var grads = AffineGrads(x, dx, gamma, dgamma, beta, dbeta);
            return [.. grads, .. filmGrads];
        });
    }

    /// <summary>
    /// Runs <paramref name="body"/> on the two halves of an [N, 2C] buffer as slices at offsets 0 and C (each row
    /// 2C apart), released afterwards.
    /// </summary>
    private static void Halves(Tensor both, int c, Action<Backends.DeviceBuffer, Backends.DeviceBuffer> body)
    {
        var first = both.Storage.Slice(0, both.Numel - c);
        var second = both.Storage.Slice(c, both.Numel - c);
        try { body(first, second); }
        finally
        {
            first.Release();
            second.Release();
        }
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
