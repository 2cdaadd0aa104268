namespace DiffKernels.Backends;

public partial interface IBackend
{
    /// <summary>
    /// Group normalisation of x viewed as [n, spatial, c] (channels last) with <paramref name="groups"/>
    /// groups of c/groups consecutive channels: y = act((x − μ)·rstd·γ + β), statistics per (sample,
    /// group) over all spatial positions and the group's channels. Writes <paramref name="mean"/> and
    /// <paramref name="rstd"/> ([n, groups]). γ/β ([c]) may be null (1 and 0); act is SiLU when
    /// <paramref name="silu"/> is set, else the identity.
    /// </summary>
    void GroupNormForward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd,
        int n, long spatial, int c, int groups, float eps, bool silu);

    /// <summary>
    /// Gradients of <see cref="GroupNormForward"/> from the saved <paramref name="mean"/>/<paramref name="rstd"/>:
    /// dx (required), dγ and dβ ([c], skipped when null). dγ/dβ are overwritten, not accumulated.
    /// </summary>
    void GroupNormBackward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
        DeviceBuffer dx, DeviceBuffer? dgamma, DeviceBuffer? dbeta, int n, long spatial, int c, int groups, bool silu);

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
