namespace GenerateGrid;

/// <summary>
/// A 3×5 pixel font of capitals, digits and a few signs, enough to label a grid without a font file (lower case is
/// drawn as capitals; unknown characters as blanks).
/// </summary>
public static class PixelFont
{
    /// <summary>Glyph height in pixels.</summary>
    public const int Height = 5;

    private const int Advance = 4;

    // Each glyph's five rows of three pixels, top row first, as the bits of one number read left to right.
    private static readonly Dictionary<char, int> Glyphs = new()
    {
        ['A'] = 0b010_101_111_101_101, ['B'] = 0b110_101_110_101_110, ['C'] = 0b011_100_100_100_011,
        ['D'] = 0b110_101_101_101_110, ['E'] = 0b111_100_110_100_111, ['F'] = 0b111_100_110_100_100,
        ['G'] = 0b011_100_101_101_011, ['H'] = 0b101_101_111_101_101, ['I'] = 0b111_010_010_010_111,
        ['J'] = 0b001_001_001_101_010, ['K'] = 0b101_101_110_101_101, ['L'] = 0b100_100_100_100_111,
        ['M'] = 0b101_111_111_101_101, ['N'] = 0b110_101_101_101_101, ['O'] = 0b010_101_101_101_010,
        ['P'] = 0b110_101_110_100_100, ['Q'] = 0b010_101_101_110_011, ['R'] = 0b110_101_110_101_101,
        ['S'] = 0b011_100_010_001_110, ['T'] = 0b111_010_010_010_010, ['U'] = 0b101_101_101_101_111,
        ['V'] = 0b101_101_101_101_010, ['W'] = 0b101_101_111_111_101, ['X'] = 0b101_101_010_101_101,
        ['Y'] = 0b101_101_010_010_010, ['Z'] = 0b111_001_010_100_111,
        ['0'] = 0b111_101_101_101_111, ['1'] = 0b010_110_010_010_111, ['2'] = 0b110_001_010_100_111,
        ['3'] = 0b110_001_010_001_110, ['4'] = 0b101_101_111_001_001, ['5'] = 0b111_100_110_001_110,
        ['6'] = 0b011_100_111_101_111, ['7'] = 0b111_001_010_010_010, ['8'] = 0b111_101_111_101_111,
        ['9'] = 0b111_101_111_001_110, ['-'] = 0b000_000_111_000_000, ['/'] = 0b001_001_010_100_100,
    };

    /// <summary>Width of <paramref name="text"/> in pixels at scale 1.</summary>
    public static int Width(string text) => Math.Max(text.Length * Advance - 1, 0);

    /// <summary>Draws <paramref name="text"/> in grey level <paramref name="grey"/> with its top-left corner at (<paramref name="x"/>, <paramref name="y"/>).</summary>
    public static void Draw(RgbCanvas image, string text, int x, int y, int scale, byte grey)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (!Glyphs.TryGetValue(char.ToUpperInvariant(text[i]), out int bits)) continue;
            for (int row = 0; row < Height; row++)
                for (int col = 0; col < 3; col++)
                {
                    if ((bits >> ((Height - 1 - row) * 3 + (2 - col)) & 1) == 0) continue;
                    for (int dy = 0; dy < scale; dy++)
                        for (int dx = 0; dx < scale; dx++)
                            image.SetGrey(x + (i * Advance + col) * scale + dx, y + row * scale + dy, grey);
                }
        }
    }
}
