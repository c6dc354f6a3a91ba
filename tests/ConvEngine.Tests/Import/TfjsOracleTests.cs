using System.Text.Json.Nodes;
using ConvEngine.Data.Images;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using NUnit.Framework;

namespace ConvEngine.Tests.Import;

/// <summary>
/// TensorFlow.js as a second oracle for TensorFlow's arithmetic (tests/tfjs/models.mjs, oracle/): SAME padding of
/// conv and pools on odd sizes and strides (keras-semantics.md: the odd pixel of padding goes bottom/right; average
/// pooling divides by the cells inside the image), and tf.image.resize bilinear with half-pixel centres.
/// </summary>
[TestFixture]
public sealed class TfjsOracleTests
{
    private static JsonObject Oracle(string file) => TfjsFixtures.Json(Path.Combine(TfjsFixtures.Root, "oracle", file));

    private static IEnumerable<TestCaseData> PaddingCases() =>
        ((JsonArray)Oracle("same_padding.json")["cases"]!).Select((c, i) =>
            new TestCaseData(i).SetName($"SamePadding_{c!["op"]}_{string.Join("x", TfjsFixtures.Ints(c["input_shape"]))}_case{i}"));

    [TestCaseSource(nameof(PaddingCases))]
    public void SamePadding_MatchesTensorFlowJs(int index)
    {
        var c = (JsonObject)((JsonArray)Oracle("same_padding.json")["cases"]!)[index]!;
        using var backend = Backends.Create("cpu");
        using var input = Tensor.FromArray(backend, TfjsFixtures.Floats(c["input"]), TfjsFixtures.Ints(c["input_shape"]));
        int[] strides = TfjsFixtures.Ints(c["strides"]);
        string op = c["op"]!.GetValue<string>();
        Tensor output;
        if (op == "conv2d")
        {
            int[] dilation = TfjsFixtures.Ints(c["dilation"]);
            using var kernel = Tensor.FromArray(backend, TfjsFixtures.Floats(c["kernel"]), TfjsFixtures.Ints(c["kernel_shape"]));
            output = Ops.Conv2D(input, kernel, null, new Conv2DOptions
            {
                Padding = Padding.Same, StrideH = strides[0], StrideW = strides[1], DilationH = dilation[0], DilationW = dilation[1],
            });
        }
        else
        {
            int[] pool = TfjsFixtures.Ints(c["pool_size"]);
            var options = new Pool2DOptions { PoolH = pool[0], PoolW = pool[1], StrideH = strides[0], StrideW = strides[1], Padding = Padding.Same };
            output = op == "max_pool" ? Ops.MaxPool2D(input, options) : Ops.AveragePool2D(input, options);
        }
        using (output)
        {
            Assert.That(output.Shape.ToArray(), Is.EqualTo(TfjsFixtures.Ints(c["output_shape"])), "output shape");
            TfjsFixtures.AssertClose(output.ToArray(), TfjsFixtures.Floats(c["output"]), 1e-5, 1e-5, op);
        }
    }

    private static IEnumerable<TestCaseData> ResizeCases() =>
        ((JsonArray)Oracle("resize_bilinear.json")["cases"]!).Select((c, i) =>
            new TestCaseData(i).SetName($"ResizeBilinear_{string.Join("x", TfjsFixtures.Ints(c!["input_shape"]))}_to_{string.Join("x", TfjsFixtures.Ints(c["size"]))}"));

    [TestCaseSource(nameof(ResizeCases))]
    public void HalfPixelBilinearResize_MatchesTensorFlowJs(int index)
    {
        var c = (JsonObject)((JsonArray)Oracle("resize_bilinear.json")["cases"]!)[index]!;
        int[] from = TfjsFixtures.Ints(c["input_shape"]), to = TfjsFixtures.Ints(c["size"]);
        var output = new float[to[0] * to[1] * from[2]];
        Resize.Into(TfjsFixtures.Floats(c["input"]), from[0], from[1], from[2], output, to[0], to[1], Interpolation.Bilinear);
        // Pixel values up to 255 in float32: a few ulps of 255.
        TfjsFixtures.AssertClose(output, TfjsFixtures.Floats(c["output"]), 1e-4, 1e-6, "resize");
    }
}
