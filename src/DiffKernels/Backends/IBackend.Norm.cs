namespace DiffKernels.Backends;

public partial interface IBackend
{
    /// <summary>
    /// Group normalisation of x viewed as [n, spatial, c] (channels last) with <paramref name="groups"/>
    /// groups of c/groups consecutive channels, with an optional per-(sample, channel) FiLM:
    /// y = act(((x − μ)·rstd·γ + β)·(1 + scale) + shift), statistics per (sample, group) over all spatial
    /// positions and the group's channels. Writes <paramref name="mean"/> and <paramref name="rstd"/>
    /// ([n, groups]). γ/β ([c]) may be null (1 and 0); <paramref name="scale"/> and <paramref name="shift"/>
    /// ([n, c]) are given together or not at all (no FiLM); act is SiLU when <paramref name="silu"/> is set,
    /// else the identity. On the CPU the result is bit for bit that of the unfused ops (norm, multiply by
    /// scale + 1 rounded once per (sample, channel), add, SiLU). <paramref name="filmStride"/> is the distance between
    /// the samples' rows of scale and shift in elements (0 means c): with 2c they can be the two halves of one
    /// [n, 2c] tensor, passed as slices of it at offsets 0 and c, as a FiLM projection makes them.
    /// </summary>
    void GroupNormForward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd,
        int n, long spatial, int c, int groups, float eps, bool silu, DeviceBuffer? scale = null, DeviceBuffer? shift = null, int filmStride = 0);

    /// <summary>
    /// Gradients of <see cref="GroupNormForward"/> from the saved <paramref name="mean"/>/<paramref name="rstd"/>
    /// and the forward's <paramref name="scale"/>/<paramref name="shift"/> (null without FiLM): dx (required),
    /// dγ and dβ ([c]), dscale and dshift ([n, c], only with FiLM, rows <paramref name="filmStride"/> apart like
    /// scale and shift), each skipped when null. All are overwritten, not accumulated; with a stride above c only
    /// the first c elements of each row are written.
    /// </summary>
    void GroupNormBackward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
        DeviceBuffer dx, DeviceBuffer? dgamma, DeviceBuffer? dbeta, int n, long spatial, int c, int groups, bool silu,
        DeviceBuffer? scale = null, DeviceBuffer? shift = null, DeviceBuffer? dscale = null, DeviceBuffer? dshift = null, int filmStride = 0);

    /// <summary>
    /// Layer normalisation of each of <paramref name="rows"/> rows of width <paramref name="d"/>:
    /// y = (x − μ)·rstd·γ + β with γ/β ([d]) optional. Writes <paramref name="mean"/> and <paramref name="rstd"/> ([rows]).
    /// </summary>
    void LayerNormForward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd,
        long rows, int d, float eps);

    /// <summary>
    /// Gradients of <see cref="LayerNormForward"/>: dx (required), dγ and dβ ([d], skipped when null, overwritten).
    /// </summary>
    void LayerNormBackward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
        DeviceBuffer dx, DeviceBuffer? dgamma, DeviceBuffer? dbeta, long rows, int d);
}
