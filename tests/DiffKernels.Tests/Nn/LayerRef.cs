namespace DiffKernels.Tests.Nn;

/// <summary>Double-precision references of the layers, on flat row-major arrays, channels last.</summary>
public static class LayerRef
{
    /// <summary>y[r, o] = Σᵢ x[r, i]·w[o, i] + b[o].</summary>
    public static double[] Linear(double[] x, double[] w, double[]? b, int inF, int outF)
    {
        int rows = x.Length / inF;
        var y = new double[rows * outF];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                double s = b?[o] ?? 0;
                for (int i = 0; i < inF; i++) s += x[r * inF + i] * w[o * inF + i];
                y[r * outF + o] = s;
            }
        return y;
    }

    /// <summary>Group norm of x [n, spatial, c] with biased variance; gamma/beta optional.</summary>
    public static double[] GroupNorm(double[] x, int n, int c, int groups, double eps, double[]? gamma, double[]? beta)
    {
        int spatial = x.Length / (n * c), cg = c / groups;
        var y = new double[x.Length];
        for (int s = 0; s < n; s++)
            for (int g = 0; g < groups; g++)
            {
                double sum = 0, sq = 0;
                int count = spatial * cg;
                for (int p = 0; p < spatial; p++)
                    for (int k = 0; k < cg; k++) sum += x[(s * spatial + p) * c + g * cg + k];
                double mean = sum / count;
                for (int p = 0; p < spatial; p++)
                    for (int k = 0; k < cg; k++) { double d = x[(s * spatial + p) * c + g * cg + k] - mean; sq += d * d; }
                double rstd = 1 / Math.Sqrt(sq / count + eps);
                for (int p = 0; p < spatial; p++)
                    for (int k = 0; k < cg; k++)
                    {
                        int ch = g * cg + k, i = (s * spatial + p) * c + ch;
                        y[i] = (x[i] - mean) * rstd * (gamma?[ch] ?? 1) + (beta?[ch] ?? 0);
                    }
            }
        return y;
    }

    /// <summary>Layer norm over the last dimension d.</summary>
    public static double[] LayerNorm(double[] x, int d, double eps, double[]? gamma, double[]? beta) =>
        GroupNorm(x, x.Length / d, d, 1, eps, gamma, beta);

    /// <summary>Softmax attention per head: q [b, nq, h·dh], k/v [b, nk, h·dh], scale 1/√dh.</summary>
    public static double[] Attention(double[] q, double[] k, double[] v, int b, int nq, int nk, int heads, int width)
    {
        int dh = width / heads;
        double scale = 1 / Math.Sqrt(dh);
        var o = new double[b * nq * width];
        var p = new double[nk];
        for (int s = 0; s < b; s++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < nq; i++)
                {
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < nk; j++)
                    {
                        double dot = 0;
                        for (int e = 0; e < dh; e++) dot += q[(s * nq + i) * width + h * dh + e] * k[(s * nk + j) * width + h * dh + e];
                        p[j] = dot * scale;
                        max = Math.Max(max, p[j]);
                    }
                    double z = 0;
                    for (int j = 0; j < nk; j++) { p[j] = Math.Exp(p[j] - max); z += p[j]; }
                    for (int e = 0; e < dh; e++)
                    {
                        double acc = 0;
                        for (int j = 0; j < nk; j++) acc += p[j] / z * v[(s * nk + j) * width + h * dh + e];
                        o[(s * nq + i) * width + h * dh + e] = acc;
                    }
                }
        return o;
    }

    /// <summary>Cross-correlation of NHWC x [n, h, w, cin] with w [cout, k, k, cin], zero padding, → [n, oh, ow, cout].</summary>
    public static double[] Conv2d(double[] x, double[] w, double[]? b, int n, int h, int wd, int cin, int cout, int k, int stride, int pad)
    {
        int oh = (h + 2 * pad - k) / stride + 1, ow = (wd + 2 * pad - k) / stride + 1;
        var y = new double[n * oh * ow * cout];
        for (int s = 0; s < n; s++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    for (int o = 0; o < cout; o++)
                    {
                        double acc = b?[o] ?? 0;
                        for (int di = 0; di < k; di++)
                            for (int dj = 0; dj < k; dj++)
                            {
                                int yi = i * stride + di - pad, xj = j * stride + dj - pad;
                                if (yi < 0 || yi >= h || xj < 0 || xj >= wd) continue;
                                for (int c = 0; c < cin; c++)
                                    acc += x[((s * h + yi) * wd + xj) * cin + c] * w[((o * k + di) * k + dj) * cin + c];
                            }
                        y[((s * oh + i) * ow + j) * cout + o] = acc;
                    }
        return y;
    }
}
