namespace DiffKernels.Backends;

public partial interface IBackend
{
    /// <summary>
    /// Sinusoidal features of <paramref name="n"/> scalars t into y [n, 2·half]: with
    /// fᵢ = exp(−ln(maxPeriod)·i/half), y[r] = [cos(t_r·f₀), …, cos(t_r·f_{half−1}), sin(t_r·f₀), …].
    /// </summary>
    void TimestepEmbedding(DeviceBuffer t, DeviceBuffer y, int n, int half, float maxPeriod);

    /// <summary>
    /// dt[r] = Σᵢ fᵢ·(dy_sin[r,i]·y_cos[r,i] − dy_cos[r,i]·y_sin[r,i]), the gradient of
    /// <see cref="TimestepEmbedding"/> from its output <paramref name="y"/>.
    /// </summary>
    void TimestepEmbeddingBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dt, int n, int half, float maxPeriod);
}
