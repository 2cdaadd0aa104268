namespace GenerateGrid;

/// <summary>Rows of equally sized grey images, each row with its label in a column on the left.</summary>
public static class LabelledGrid
{
    private const int Gutter = 4;

    /// <summary>
    /// One picture of the <paramref name="rows"/>: each row's images are its values laid out N×H×W in
    /// [−1, 1] (as <c>PretrainedModel.Generate</c> returns a one-channel model's samples), each enlarged
    /// <paramref name="scale"/> times (nearest neighbour), the label written in <see cref="PixelFont"/> at the same
    /// scale, on a dark grey ground.
    /// </summary>
    public static RgbCanvas Compose(IReadOnlyList<(string Label, float[] Values)> rows, int height, int width, int scale)
    {
        int h = height * scale, w = width * scale;
        int columns = rows.Max(r => r.Values.Length / (height * width));
        int labelWidth = rows.Max(r => PixelFont.Width(r.Label)) * scale + 2 * Gutter;
        var grid = new RgbCanvas(labelWidth + columns * (w + Gutter), rows.Count * (h + Gutter) + Gutter, 40);
        for (int r = 0; r < rows.Count; r++)
        {
            int top = Gutter + r * (h + Gutter);
            PixelFont.Draw(grid, rows[r].Label, Gutter, top + (h - PixelFont.Height * scale) / 2, scale, 230);
            var values = rows[r].Values;
            for (int k = 0; k < values.Length / (height * width); k++)
            {
                int left = labelWidth + k * (w + Gutter), offset = k * height * width;
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        grid.SetGrey(left + x, top + y, Byte(values[offset + y / scale * width + x / scale]));
            }
        }
        return grid;
    }

    private static byte Byte(float v) => (byte)MathF.Round((Math.Clamp(v, -1f, 1f) + 1) * 127.5f);
}
