namespace ConvEngine.Layers;

/// <summary>
/// Keras's projective transforms (keras 2.15 image_preprocessing.py), each a row [a0 a1 a2 b0 b1 b2 c0 c1] mapping an
/// output pixel (x, y) to the input point ((a0 x + a1 y + a2)/k, (b0 x + b1 y + b2)/k), k = c0 x + c1 y + 1. Computed in
/// float32, as Keras computes them.
/// </summary>
public static class TransformMatrix
{
    /// <summary>Rotation by <paramref name="angle"/> radians about the image centre, counter-clockwise positive (get_rotation_matrix).</summary>
    public static void Rotation(float angle, int height, int width, Span<float> row)
    {
        float cos = MathF.Cos(angle), sin = MathF.Sin(angle);
        float w = width - 1f, h = height - 1f;
        row[0] = cos;
        row[1] = -sin;
        row[2] = (w - (cos * w - sin * h)) / 2f;
        row[3] = sin;
        row[4] = cos;
        row[5] = (h - (sin * w + cos * h)) / 2f;
        row[6] = 0;
        row[7] = 0;
    }

    /// <summary>Translation by (dx, dy) pixels, positive right and down (get_translation_matrix).</summary>
    public static void Translation(float dx, float dy, Span<float> row)
    {
        row[0] = 1;
        row[1] = 0;
        row[2] = -dx;
        row[3] = 0;
        row[4] = 1;
        row[5] = -dy;
        row[6] = 0;
        row[7] = 0;
    }

    /// <summary>Zoom by (zx, zy) about the centre; a factor above 1 shows more of the image (zooms out) (get_zoom_matrix).</summary>
    public static void Zoom(float zx, float zy, int height, int width, Span<float> row)
    {
        row[0] = zx;
        row[1] = 0;
        row[2] = (width - 1f) / 2f * (1f - zx);
        row[3] = 0;
        row[4] = zy;
        row[5] = (height - 1f) / 2f * (1f - zy);
        row[6] = 0;
        row[7] = 0;
    }
}
