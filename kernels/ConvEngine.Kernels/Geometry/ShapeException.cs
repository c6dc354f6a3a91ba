namespace ConvEngine.Kernels.Geometry;

/// <summary>An op was given tensors whose shapes do not fit; the message names the op and the shapes.</summary>
public sealed class ShapeException(string message) : ArgumentException(message);
