namespace ConvEngine.Tests.Reference;

/// <summary>A row-major double array with its shape: the only data type of <see cref="DoubleReference"/>.</summary>
public sealed class Nd
{
    public Nd(double[] data, params int[] shape)
    {
        long length = 1;
        foreach (int d in shape) length *= d;
        if (length != data.Length)
            throw new ArgumentException($"Nd: {data.Length} values do not fill shape ({string.Join(", ", shape)}).");
        Data = data;
        Shape = shape;
    }

    public double[] Data { get; }
    public int[] Shape { get; }
    public int Length => Data.Length;

    public static Nd Zeros(params int[] shape)
    {
        long length = 1;
        foreach (int d in shape) length *= d;
        return new Nd(new double[length], shape);
    }

    /// <summary>The float32 values a kernel sees, widened exactly to double.</summary>
    public static Nd FromFloats(float[] data, params int[] shape) => new(Array.ConvertAll(data, v => (double)v), shape);

    public Nd WithData(double[] data) => new(data, Shape);

    /// <summary>Element (a, b, c, d) of a rank-4 array.</summary>
    public ref double At(int a, int b, int c, int d) => ref Data[((a * Shape[1] + b) * Shape[2] + c) * Shape[3] + d];

    /// <summary>Element (a, b, c) of a rank-3 array.</summary>
    public ref double At(int a, int b, int c) => ref Data[(a * Shape[1] + b) * Shape[2] + c];

    /// <summary>Element (a, b) of a rank-2 array.</summary>
    public ref double At(int a, int b) => ref Data[a * Shape[1] + b];

    public override string ToString() => "(" + string.Join(", ", Shape) + ")";
}
