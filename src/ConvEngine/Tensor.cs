using ConvEngine.Kernels;

namespace ConvEngine;

/// <summary>
/// A float32 tensor, channels-last (N,H,W,C for images), whose data lives on one backend.
/// Host↔device copies are explicit: <see cref="FromArray"/> and <see cref="ToArray"/>.
/// </summary>
public sealed class Tensor : IDisposable
{
    private bool _ownsBuffer;

    private Tensor(IBackend backend, TensorShape shape, DeviceBuffer buffer, bool ownsBuffer)
    {
        Backend = backend;
        Shape = shape;
        Buffer = buffer;
        _ownsBuffer = ownsBuffer;
    }

    /// <summary>The backend that holds the values.</summary>
    public IBackend Backend { get; }
    /// <summary>The dimensions, batch first.</summary>
    public TensorShape Shape { get; }
    /// <summary>The backend memory of the values, row-major.</summary>
    public DeviceBuffer Buffer { get; }
    /// <summary>The number of values.</summary>
    public long Length => Shape.Length;

    /// <summary>A zero-filled tensor on <paramref name="backend"/>.</summary>
    public static Tensor Zeros(IBackend backend, params int[] dims) => Zeros(backend, new TensorShape(dims));

    /// <summary>A tensor of <paramref name="shape"/> filled with zeros on <paramref name="backend"/>.</summary>
    public static Tensor Zeros(IBackend backend, TensorShape shape) =>
        new(backend, shape, backend.Allocate(shape.Length), ownsBuffer: true);

    /// <summary>
    /// A tensor of <paramref name="shape"/> over the first <c>shape.Length</c> floats of <paramref name="buffer"/>, which it
    /// does not own: for buffer planners that give successive tensors of a run the same allocation.
    /// </summary>
    public static Tensor View(DeviceBuffer buffer, TensorShape shape)
    {
        if (shape.Length > buffer.Length)
            throw new ArgumentException($"Tensor.View: shape {shape} needs {shape.Length} floats; the buffer holds {buffer.Length}.");
        return new Tensor(buffer.Backend, shape, buffer, ownsBuffer: false);
    }

    /// <summary>Copies host data (row-major, channels-last) to the backend.</summary>
    public static Tensor FromArray(IBackend backend, ReadOnlySpan<float> data, params int[] dims)
    {
        var shape = new TensorShape(dims);
        if (data.Length != shape.Length)
            throw new ArgumentException($"Data of length {data.Length} does not fill a tensor of shape {shape} ({shape.Length} values).");
        var t = Zeros(backend, shape);
        backend.Upload(data, t.Buffer);
        return t;
    }

    /// <summary>Copies the data back to the host.</summary>
    public float[] ToArray()
    {
        var host = new float[Length];
        Backend.Download(Buffer, host);
        return host;
    }

    /// <summary>The same data seen with another shape of equal length (no copy; the view does not own the data).</summary>
    public Tensor Reshape(params int[] dims)
    {
        var shape = new TensorShape(dims);
        if (shape.Length != Length)
            throw new Kernels.Geometry.ShapeException($"Reshape: cannot view a tensor of shape {Shape} ({Length} values) as {shape} ({shape.Length} values).");
        return new Tensor(Backend, shape, Buffer, ownsBuffer: false);
    }

    /// <summary>Like <see cref="Reshape"/>, but the new tensor takes over ownership of the data from this one.</summary>
    internal Tensor ReshapeOwning(params int[] dims)
    {
        var view = Reshape(dims);
        view._ownsBuffer = _ownsBuffer;
        _ownsBuffer = false;
        return view;
    }

    /// <summary>Copies this tensor to another backend.</summary>
    public Tensor To(IBackend backend) => ReferenceEquals(backend, Backend) ? Reshape(Shape.ToArray()) : FromArray(backend, ToArray(), Shape.ToArray());

    /// <summary>Frees the backend memory.</summary>
    public void Dispose()
    {
        if (_ownsBuffer) Buffer.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"Tensor{Shape} on {Backend.Name}";
}
