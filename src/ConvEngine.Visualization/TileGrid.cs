using SkiaSharp;

namespace ConvEngine.Visualization;

/// <summary>One picture in a grid: RGBA pixels (4 bytes each, row-major) and the caption under it.</summary>
/// <param name="Rgba">Height · Width · 4 bytes: R, G, B, A per pixel, rows top to bottom (as <see cref="TileColors"/> returns them).</param>
/// <param name="Height">Rows of pixels.</param>
/// <param name="Width">Pixels per row.</param>
/// <param name="Caption">The text drawn under the tile.</param>
public sealed record GridTile(byte[] Rgba, int Height, int Width, string Caption)
{
    /// <summary>A tile of <paramref name="height"/> × <paramref name="width"/> from values coloured by <paramref name="colour"/>.</summary>
    public static GridTile From(ReadOnlySpan<float> values, int height, int width, string caption, Func<float[], byte[]> colour) =>
        new(colour(values.ToArray()), height, width, caption);
}

/// <summary>
/// Lays tiles out in rows under a title and a legend, with optional row labels on the left, and encodes the whole as
/// PNG. Small tiles are enlarged by whole pixel factors (nearest neighbour, so every cell stays a crisp square) to at
/// least <c>minTileSide</c>; tiles larger than <c>maxTileSide</c> are shrunk (nearest neighbour) and say so.
/// With <c>equalTiles</c> each tile gets its own whole factor instead, so maps of different sizes (pooling levels)
/// are drawn at about the same size.
/// </summary>
public static class TileGrid
{
    private const int Margin = 12, Gap = 8, TitleSize = 18, TextSize = 13;

    /// <summary>The PNG of <paramref name="rows"/> (null leaves a cell empty).</summary>
    /// <param name="title">The title line.</param>
    /// <param name="legend">Lines of text under the title.</param>
    /// <param name="rows">The tiles, row by row; rows may differ in length.</param>
    /// <param name="rowLabels">Text left of each row, or null for none.</param>
    /// <param name="minTileSide">Tiles whose longer side is shorter are enlarged by a whole factor to at least this many pixels.</param>
    /// <param name="maxTileSide">Tiles whose longer side is longer are shrunk to this many pixels.</param>
    /// <param name="equalTiles">Scale each tile on its own (maps of different sizes drawn about equally large) rather than all by one factor.</param>
    /// <exception cref="ArgumentException">No tiles, or a tile's pixels do not match its size.</exception>
    public static byte[] RenderPng(string title, IReadOnlyList<string> legend, IReadOnlyList<IReadOnlyList<GridTile?>> rows,
        IReadOnlyList<string>? rowLabels = null, int minTileSide = 64, int maxTileSide = 256, bool equalTiles = false)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var tiles = rows.SelectMany(r => r).OfType<GridTile>().ToList();
        if (tiles.Count == 0) throw new ArgumentException("A grid needs at least one tile.");
        int columns = rows.Max(r => r.Count);

        // One scale for the whole grid, so cells of equal size look equal.
        int largest = tiles.Max(t => Math.Max(t.Height, t.Width));
        double scale = largest > maxTileSide ? (double)maxTileSide / largest : Math.Max(1, minTileSide / largest);
        double ScaleOf(GridTile t)
        {
            if (!equalTiles) return scale;
            int side = Math.Max(t.Height, t.Width);
            return side > maxTileSide ? (double)maxTileSide / side : Math.Max(1, minTileSide / side);
        }
        int CellWidth(GridTile t) => Math.Max(1, (int)Math.Round(t.Width * ScaleOf(t)));
        int CellHeight(GridTile t) => Math.Max(1, (int)Math.Round(t.Height * ScaleOf(t)));

        using var typeface = SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default;
        using var titleFont = new SKFont(typeface, TitleSize);
        using var textFont = new SKFont(typeface, TextSize);

        var columnWidths = new int[columns];
        var rowHeights = new int[rows.Count];
        for (int r = 0; r < rows.Count; r++)
            for (int c = 0; c < rows[r].Count; c++)
                if (rows[r][c] is { } t)
                {
                    columnWidths[c] = Math.Max(columnWidths[c], Math.Max(CellWidth(t), (int)Math.Ceiling(textFont.MeasureText(t.Caption)) + 2));
                    rowHeights[r] = Math.Max(rowHeights[r], CellHeight(t));
                }
        int labelWidth = rowLabels is null ? 0 : (int)Math.Ceiling(rowLabels.Max(l => textFont.MeasureText(l))) + Gap;
        int captionHeight = TextSize + 6;
        var lines = legend.ToList();
        if (tiles.Any(t => ScaleOf(t) < 1))
            lines.Add(equalTiles ? $"Maps larger than {maxTileSide} pixels are shown shrunk (nearest neighbour)." : $"Shown at {scale:0.##}x (nearest neighbour).");

        int gridWidth = labelWidth + columnWidths.Sum() + Gap * (columns - 1);
        int headerHeight = TitleSize + 8 + lines.Count * (TextSize + 4) + Gap;
        int width = Math.Max(gridWidth, (int)Math.Ceiling(Math.Max(titleFont.MeasureText(title), lines.Count == 0 ? 0 : lines.Max(l => textFont.MeasureText(l))))) + 2 * Margin;
        int height = headerHeight + rowHeights.Sum(h => h + captionHeight) + Gap * (rows.Count - 1) + 2 * Margin;

        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var ink = new SKPaint { Color = new SKColor(20, 20, 20), IsAntialias = true };
        using var frame = new SKPaint { Color = new SKColor(200, 200, 200), Style = SKPaintStyle.Stroke, StrokeWidth = 1 };

        float y = Margin + TitleSize;
        canvas.DrawText(title, Margin, y, SKTextAlign.Left, titleFont, ink);
        y += 8;
        foreach (var line in lines)
        {
            y += TextSize + 4;
            canvas.DrawText(line, Margin, y, SKTextAlign.Left, textFont, ink);
        }

        int top = Margin + headerHeight;
        for (int r = 0; r < rows.Count; r++)
        {
            if (rowLabels is not null && r < rowLabels.Count)
                canvas.DrawText(rowLabels[r], Margin, top + rowHeights[r] / 2f + TextSize / 2f, SKTextAlign.Left, textFont, ink);
            int left = Margin + labelWidth;
            for (int c = 0; c < rows[r].Count; c++)
            {
                if (rows[r][c] is { } tile)
                {
                    var destination = new SKRect(left, top, left + CellWidth(tile), top + CellHeight(tile));
                    using (var image = ToImage(tile))
                        canvas.DrawImage(image, destination, new SKSamplingOptions(SKFilterMode.Nearest));
                    // The frame sits just outside the tile, so no cell loses its edge pixels.
                    canvas.DrawRect(new SKRect(destination.Left - 0.5f, destination.Top - 0.5f, destination.Right + 0.5f, destination.Bottom + 0.5f), frame);
                    canvas.DrawText(tile.Caption, left, top + rowHeights[r] + TextSize + 2, SKTextAlign.Left, textFont, ink);
                }
                left += columnWidths[c] + Gap;
            }
            top += rowHeights[r] + captionHeight + Gap;
        }

        using var snapshot = surface.Snapshot();
        using var png = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    private static SKImage ToImage(GridTile tile)
    {
        if (tile.Rgba.Length != tile.Height * tile.Width * 4)
            throw new ArgumentException($"Tile '{tile.Caption}': {tile.Rgba.Length} bytes are not {tile.Height}x{tile.Width} RGBA pixels.");
        var info = new SKImageInfo(tile.Width, tile.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var data = SKData.CreateCopy(tile.Rgba);
        return SKImage.FromPixels(info, data, tile.Width * 4);
    }
}
