using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffKernels.Diffusion.Evaluation;

/// <summary>One line of a <see cref="LinePlot"/>: points (x, y); non-finite or non-positive y values break the line.</summary>
/// <param name="X">Abscissae.</param>
/// <param name="Y">Ordinates, drawn on a log scale.</param>
public sealed record LineSeries(double[] X, double[] Y);

/// <summary>
/// A PNG of lines on a log₁₀ y axis (and optionally a log₁₀ x axis), without text: faint grid lines mark every power
/// of ten, and the lines are coloured from dark blue (first series) to orange (last), so a series over training
/// time reads from early to late. Numbers belong in a JSON file written beside it.
/// </summary>
public static class LinePlot
{
    private static readonly Rgba32 Background = new(255, 255, 255);
    private static readonly Rgba32 GridColour = new(225, 225, 225);
    private static readonly Rgba32 First = new(30, 50, 140);
    private static readonly Rgba32 Last = new(240, 130, 20);

    /// <summary>Draws <paramref name="series"/> and writes the PNG to <paramref name="path"/>.</summary>
    public static void Save(string path, IReadOnlyList<LineSeries> series, bool logX = false, int width = 640, int height = 400)
    {
        if (width < 32 || height < 32) throw new ArgumentOutOfRangeException(nameof(width), $"LinePlot: size {width}×{height} must be at least 32×32");
        double Tx(double x) => logX ? Math.Log10(x) : x;
        var xs = series.SelectMany(s => s.X).Where(x => double.IsFinite(Tx(x))).Select(Tx).ToList();
        var ys = series.SelectMany(s => s.Y).Where(y => y > 0 && double.IsFinite(y)).Select(Math.Log10).ToList();
        using var image = new Image<Rgba32>(width, height, Background);
        if (xs.Count > 0 && ys.Count > 0)
        {
            double x0 = xs.Min(), x1 = xs.Max(), y0 = Math.Floor(ys.Min()), y1 = Math.Ceiling(ys.Max());
            if (x1 == x0) x1 = x0 + 1;
            if (y1 == y0) y1 = y0 + 1;
            const int Margin = 12;
            double Px(double x) => Margin + (Tx(x) - x0) / (x1 - x0) * (width - 2 * Margin);
            double Py(double y) => height - Margin - (Math.Log10(y) - y0) / (y1 - y0) * (height - 2 * Margin);
            for (double decade = y0; decade <= y1; decade++)
            {
                int row = (int)Math.Round(Py(Math.Pow(10, decade)));
                for (int c = 0; c < width; c++) Put(image, c, row, GridColour);
            }
            for (int k = 0; k < series.Count; k++)
            {
                double t = series.Count == 1 ? 0 : (double)k / (series.Count - 1);
                var colour = new Rgba32(Mix(First.R, Last.R, t), Mix(First.G, Last.G, t), Mix(First.B, Last.B, t));
                var s = series[k];
                for (int i = 0; i + 1 < Math.Min(s.X.Length, s.Y.Length); i++)
                {
                    if (!Drawable(s.Y[i]) || !Drawable(s.Y[i + 1]) || !double.IsFinite(Tx(s.X[i])) || !double.IsFinite(Tx(s.X[i + 1]))) continue;
                    Segment(image, Px(s.X[i]), Py(s.Y[i]), Px(s.X[i + 1]), Py(s.Y[i + 1]), colour);
                }
            }
        }
        image.SaveAsPng(path);
    }

    private static bool Drawable(double y) => y > 0 && double.IsFinite(y);

    private static byte Mix(byte a, byte b, double t) => (byte)Math.Round(a + (b - a) * t);

    private static void Segment(Image<Rgba32> image, double xa, double ya, double xb, double yb, Rgba32 colour)
    {
        int steps = (int)Math.Ceiling(Math.Max(Math.Abs(xb - xa), Math.Abs(yb - ya))) + 1;
        for (int i = 0; i <= steps; i++)
        {
            double t = (double)i / steps;
            int x = (int)Math.Round(xa + t * (xb - xa)), y = (int)Math.Round(ya + t * (yb - ya));
            for (int d = 0; d < 2; d++)
            {
                Put(image, x, y + d, colour);
                Put(image, x + d, y, colour);
            }
        }
    }

    private static void Put(Image<Rgba32> image, int x, int y, Rgba32 colour)
    {
        if (x >= 0 && y >= 0 && x < image.Width && y < image.Height) image[x, y] = colour;
    }
}
