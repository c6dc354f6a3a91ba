using ConvEngine.Data.Images;
using ConvEngine.Kernels;

namespace ConvEngine.Import.Onnx;

/// <summary>
/// The input preparation of ML.NET's ResNet18 featurizer (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18,
/// tools/DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx), redone in the engine. That model
/// takes an RGB image (1,3,224,224) with values 0–255 and computes
/// Split(axis 1) → Concat(B, G, R) → Sub(MeanImage): BGR order, minus a per-pixel mean image
/// (1,3,224,224, also 0–255 scale), no further scaling. <see cref="Load"/> reads the mean image
/// from that file and checks that its graph is exactly this.
/// </summary>
public sealed class ResNet18Preprocessing
{
    /// <summary>Height and width of ResNet18.onnx's input.</summary>
    public const int Size = 224;

    /// <summary>The mean image in ONNX order (channel B, G, R planes of Size × Size).</summary>
    private readonly float[] _meanBgrPlanes;

    private ResNet18Preprocessing(float[] meanBgrPlanes) => _meanBgrPlanes = meanBgrPlanes;

    /// <summary>The mean image, (1,3,224,224) planes in B, G, R order as the file holds it.</summary>
    public ReadOnlySpan<float> MeanImage => _meanBgrPlanes;

    /// <summary>Reads ResNetPreprocess.onnx and checks that it is Split → Concat(B,G,R) → Sub(mean image).</summary>
    public static ResNet18Preprocessing Load(string preprocessModelPath)
    {
        var model = OnnxImporter.ReadModel(preprocessModelPath);
        string context = $"ONNX model '{preprocessModelPath}'";
        var graph = OnnxGraph.FromProto(model, context);
        OnnxFormatException NotTheExpectedGraph(string why) =>
            new($"{context} is not the ResNet18 preprocessing graph (Split → Concat(B,G,R) → Sub(mean image)): {why}");

        if (graph.Nodes.Count != 3 || graph.Nodes[0].OpType != "Split" || graph.Nodes[1].OpType != "Concat" || graph.Nodes[2].OpType != "Sub")
            throw NotTheExpectedGraph($"its nodes are {string.Join(", ", graph.Nodes.Select(n => n.OpType))}.");
        var (split, concat, sub) = (graph.Nodes[0], graph.Nodes[1], graph.Nodes[2]);
        if (OnnxAttributes.Int(split, "axis", 0) != 1 || split.Outputs.Length != 3 || OnnxAttributes.Int(concat, "axis", -1) != 1)
            throw NotTheExpectedGraph("Split and Concat must act on the channel axis, in three parts.");
        // Split gives R, G, B (the input's channel order); Concat must take them back as B, G, R.
        if (!concat.Inputs.SequenceEqual([split.Outputs[2], split.Outputs[1], split.Outputs[0]]))
            throw NotTheExpectedGraph($"Concat reads ({string.Join(", ", concat.Inputs)}) from Split's ({string.Join(", ", split.Outputs)}), not in reversed order.");
        if (sub.Inputs.Length != 2 || sub.Inputs[0] != concat.Outputs[0] || !graph.Initializers.TryGetValue(sub.Inputs[1], out var mean))
            throw NotTheExpectedGraph("Sub must subtract an initializer from the reordered image.");
        if (!mean.IsFloat || !mean.Dims.SequenceEqual([1, 3, Size, Size]))
            throw NotTheExpectedGraph($"the mean image '{mean.Name}' has dims ({string.Join(", ", mean.Dims)}), not (1, 3, {Size}, {Size}).");
        return new ResNet18Preprocessing(mean.Floats!);
    }

    /// <summary>
    /// The model's input from an RGB image already resized to 224×224, values 0–255 (ImageIO's
    /// range): BGR − mean image, as (1,224,224,3) channels-last data for <see cref="OnnxModel.RunChannelsLast(Tensor)"/>.
    /// </summary>
    public float[] ToChannelsLast(ImageData rgb)
    {
        Check(rgb);
        var output = new float[Size * Size * 3];
        for (int p = 0; p < Size * Size; p++)
            for (int c = 0; c < 3; c++)
                output[p * 3 + c] = rgb.Pixels[p * 3 + (2 - c)] - _meanBgrPlanes[c * Size * Size + p];
        return output;
    }

    /// <summary>The same input in ONNX layout (1,3,224,224), for <see cref="OnnxModel.Run(Tensor)"/> and ONNX Runtime.</summary>
    public float[] ToNchw(ImageData rgb)
    {
        Check(rgb);
        var output = new float[3 * Size * Size];
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < Size * Size; p++)
                output[c * Size * Size + p] = rgb.Pixels[p * 3 + (2 - c)] - _meanBgrPlanes[c * Size * Size + p];
        return output;
    }

    /// <summary>The input as a (1,224,224,3) tensor on <paramref name="backend"/>.</summary>
    public Tensor ToTensor(IBackend backend, ImageData rgb) => Tensor.FromArray(backend, ToChannelsLast(rgb), 1, Size, Size, 3);

    private static void Check(ImageData rgb)
    {
        if (rgb.Channels != 3 || rgb.Height != Size || rgb.Width != Size)
            throw new ArgumentException($"ResNet18 preprocessing needs an RGB image of {Size}x{Size} (resize it first); got {rgb.Height}x{rgb.Width}x{rgb.Channels}.");
    }
}
