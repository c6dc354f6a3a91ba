using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;

namespace ConvEngine.Models;

public partial class Model
{
    /// <summary>
    /// Inference on a batch that is already on <see cref="Backend"/>: <paramref name="input"/> (N, input shape),
    /// the result written into <paramref name="output"/> (N, output shape). Nothing moves between host and device
    /// and, after the first call for a batch size, nothing is allocated.
    /// </summary>
    public void Predict(Tensor input, Tensor output)
    {
        RequireGraph();
        Initialize();
        if (input.Shape.Rank != InputShape.Length + 1 || !input.Shape.Dims[1..].SequenceEqual(InputShape))
            throw new ShapeException($"Predict: model '{Name}' takes (N, {string.Join(", ", InputShape)}); got input {input.Shape}.");
        int n = input.Shape[0];
        if (output.Shape.Rank != OutputShape.Length + 1 || output.Shape[0] != n || !output.Shape.Dims[1..].SequenceEqual(OutputShape))
            throw new ShapeException($"Predict: model '{Name}' gives ({n}, {string.Join(", ", OutputShape)}) for input {input.Shape}; got output {output.Shape}.");
        if (!ReferenceEquals(input.Backend, Backend) || !ReferenceEquals(output.Backend, Backend))
            throw new ArgumentException($"Predict: model '{Name}' runs on backend '{Backend.Name}'; input and output must live there.");
        var y = RunGraph(input, ForwardContext.Inference);
        Backend.Copy(y.Buffer, output.Buffer, y.Length);
    }
}
