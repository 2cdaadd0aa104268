using DiffKernels.Diffusion.Data.Toys;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffKernels.Diffusion.Evaluation;

/// <summary>
/// A square PNG of 2D samples over the data density: the density is a log-scaled histogram of reference
/// points (blue), samples are dark dots, and each mode's 3-std circle is drawn in orange. The view spans
/// [−extent, extent]² with y up.
/// </summary>
public static class ToyScatterPlot
{
    private static readonly Rgba32 Background = new(255, 255, 255);
    private static readonly Rgba32 DensityColour = new(70, 130, 200);
    private static readonly Rgba32 PointColour = new(25, 25, 35);
    private static readonly Rgba32 ModeColour = new(235, 120, 20);
    private static readonly Rgba32 AxisColour = new(215, 215, 215);

    /// <summary>Draws <paramref name="points"/> (interleaved x, y) and writes the PNG.</summary>
    public static void Save(string path, float[] points, float[]? density = null, IReadOnlyList<ToyMode>? modes = null, int size = 512, double extent = 3)
    {
        if (size < 16) throw new ArgumentOutOfRangeException(nameof(size), $"ToyScatterPlot: size {size} must be ≥ 16");
        if (!(extent > 0)) throw new ArgumentOutOfRangeException(nameof(extent), $"ToyScatterPlot: extent {extent} must be positive");
        using var image = new Image<Rgba32>(size, size, Background);
        double scale = size / (2 * extent);
        int Px(double x) => (int)Math.Floor((x + extent) * scale);
        int Py(double y) => (int)Math.Floor((extent - y) * scale);

        if (density != null) DrawDensity(image, density, Px, Py);
        for (int i = 0; i < size; i++)
        {
            Blend(image, Px(0), i, AxisColour, 1);
            Blend(image, i, Py(0), AxisColour, 1);
        }
        for (int i = 0; i + 1 < points.Length; i += 2)
        {
            int x = Px(points[i]), y = Py(points[i + 1]);
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++)
                    Blend(image, x + dx, y + dy, PointColour, 0.55);
        }
        foreach (var m in modes ?? [])
        {
            double r = 3 * m.Std * scale;
            int steps = Math.Max(16, (int)(2 * Math.PI * r * 2));
            for (int k = 0; k < steps; k++)
            {
                double a = 2 * Math.PI * k / steps;
                Blend(image, (int)Math.Floor((m.X + extent) * scale + r * Math.Cos(a)), (int)Math.Floor((extent - m.Y) * scale - r * Math.Sin(a)), ModeColour, 1);
            }
        }
        image.SaveAsPng(path);
    }

    /// <summary>A 4-pixel-cell histogram of the reference points, shaded by log(1 + count).</summary>
    private static void DrawDensity(Image<Rgba32> image, float[] density, Func<double, int> px, Func<double, int> py)
    {
        const int Cell = 4;
        int cells = (image.Width + Cell - 1) / Cell;
        var counts = new int[cells, cells];
        for (int i = 0; i + 1 < density.Length; i += 2)
        {
            int cx = px(density[i]) / Cell, cy = py(density[i + 1]) / Cell;
            if (cx >= 0 && cy >= 0 && cx < cells && cy < cells) counts[cx, cy]++;
        }
        int max = counts.Cast<int>().DefaultIfEmpty(0).Max();
        if (max == 0) return;
        double norm = Math.Log(1 + max);
        for (int cx = 0; cx < cells; cx++)
            for (int cy = 0; cy < cells; cy++)
            {
                if (counts[cx, cy] == 0) continue;
                double w = 0.15 + 0.6 * Math.Log(1 + counts[cx, cy]) / norm;
                for (int dy = 0; dy < Cell; dy++)
                    for (int dx = 0; dx < Cell; dx++)
                        Blend(image, cx * Cell + dx, cy * Cell + dy, DensityColour, w);
            }
    }

    private static void Blend(Image<Rgba32> image, int x, int y, Rgba32 colour, double alpha)
    {
        if (x < 0 || y < 0 || x >= image.Width || y >= image.Height) return;
        var p = image[x, y];
        byte Mix(byte under, byte over) => (byte)Math.Round(under + (over - under) * alpha);
        image[x, y] = new Rgba32(Mix(p.R, colour.R), Mix(p.G, colour.G), Mix(p.B, colour.B));
    }
}
