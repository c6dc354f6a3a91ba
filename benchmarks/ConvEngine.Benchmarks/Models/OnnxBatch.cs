using ConvEngine.Import.Onnx.Proto;
using Google.Protobuf;

namespace ConvEngine.Benchmarks.Models;

/// <summary>Sets the batch dimension of a fixed-batch ONNX file (e.g. ResNet18.onnx's [1,3,224,224]) so both engines run it at batch N.</summary>
public static class OnnxBatch
{
    public static byte[] WithBatch(byte[] onnx, int batch)
    {
        var model = ModelProto.Parser.ParseFrom(onnx);
        var graph = model.Graph;
        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet();
        foreach (var value in graph.Input.Where(v => !initializers.Contains(v.Name)).Concat(graph.Output))
            if (value.Type?.TensorType?.Shape is { Dim.Count: > 0 } shape)
                shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimValue = batch };
        // Intermediate shapes recorded for batch 1 would contradict the new batch; both engines infer them.
        graph.ValueInfo.Clear();
        return model.ToByteArray();
    }
}
