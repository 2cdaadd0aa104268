using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace GenerateGrid;

/// <summary>Rows of equally sized images, each row with its label in a column on the left.</summary>
public static class LabelledGrid
{
    private const int Gutter = 4;

    /// <summary>
    /// One image of the <paramref name="rows"/>, each image enlarged <paramref name="scale"/> times (nearest
    /// neighbour), its label written in <see cref="PixelFont"/> at the same scale, on a dark grey ground.
    /// </summary>
    public static Image<Rgb24> Compose(IReadOnlyList<(string Label, Image<Rgb24>[] Images)> rows, int scale)
    {
        int h = rows[0].Images[0].Height * scale, w = rows[0].Images[0].Width * scale;
        int columns = rows.Max(r => r.Images.Length);
        int labelWidth = rows.Max(r => PixelFont.Width(r.Label)) * scale + 2 * Gutter;
        var grid = new Image<Rgb24>(labelWidth + columns * (w + Gutter), rows.Count * (h + Gutter) + Gutter, new Rgb24(40, 40, 40));
        for (int r = 0; r < rows.Count; r++)
        {
            int top = Gutter + r * (h + Gutter);
            PixelFont.Draw(grid, rows[r].Label, Gutter, top + (h - PixelFont.Height * scale) / 2, scale, new Rgb24(230, 230, 230));
            for (int k = 0; k < rows[r].Images.Length; k++)
            {
                var image = rows[r].Images[k];
                int left = labelWidth + k * (w + Gutter);
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        grid[left + x, top + y] = image[x / scale, y / scale];
            }
        }
        return grid;
    }
}
