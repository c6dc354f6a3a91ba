using System.Text.Json.Nodes;
using ConvEngine.Import.Keras;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Tests.OpTests;
using NUnit.Framework;
using Fill = ConvEngine.Tests.Augment.AugmentReference.Fill;

namespace ConvEngine.Tests.Augment;

/// <summary>
/// TensorFlow.js 4.22 as an outside oracle (fixtures written by tests/tfjs/augment.mjs): tf.image.transform
/// (ImageProjectiveTransformV3) for every fill mode and interpolation, tf.image.resizeBilinear/NearestNeighbor with
/// half-pixel centres, flips, and the Keras layers tfjs has, with their configs as tfjs serialises them.
/// Two tfjs deviations from TensorFlow are allowed for and named where they apply.
/// </summary>
public class TfjsAugmentFixtureTests
{
    private static string FixtureDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "Fixtures", "tfjs", "augment");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("Fixtures/tfjs/augment not found above the test assembly; tests/tfjs/augment.mjs writes it.");
    }

    private static IEnumerable<TestCaseData> Fixtures(string prefix) =>
        Directory.GetFiles(FixtureDirectory(), prefix + "*.json").Order()
            .SelectMany(f => new[] { BackendCase.Cpu(ConvEngine.Kernels.Cpu.SimdSupport.Detected), BackendCase.IlgpuCpu() }
                .Select(b => new TestCaseData(b, Path.GetFileName(f)).SetArgDisplayNames(b.ToString(), Path.GetFileNameWithoutExtension(f))));

    private static JsonObject Read(string file) => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(FixtureDirectory(), file)))!;
    private static float[] Floats(JsonNode? node) => node!.AsArray().Select(v => (float)v!.GetValue<double>()).ToArray();
    private static int[] Ints(JsonNode? node) => node!.AsArray().Select(v => v!.GetValue<int>()).ToArray();

    [TestCaseSource(nameof(Fixtures), new object[] { "transform-" })]
    public void ImageTransform_MatchesTfjs(BackendCase backendCase, string file)
    {
        var f = Read(file);
        var shape = Ints(f["shape"]);
        var (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3]);
        var input = Floats(f["input"]);
        var rows = Floats(f["transforms"]);
        string fillMode = f["fillMode"]!.GetValue<string>(), interpolation = f["interpolation"]!.GetValue<string>();
        float fillValue = (float)f["fillValue"]!.GetValue<double>();
        var expected = Floats(f["output"]);

        var backend = backendCase.Acquire();
        using var images = Tensor.FromArray(backend, input, shape);
        using var y = Ops.ImageTransform(images, rows, PreprocessingOptions.ParseFillMode("test", fillMode), PreprocessingOptions.ParseInterpolation("test", interpolation), fillValue);
        var got = y.ToArray();

        // Points on a discontinuity (a nearest half) may fall either way between tfjs's float64 and our float32 arithmetic.
        var reference = AugmentReference.Transform(input, n, h, w, c, h, w,
            (b, ox, oy) => AugmentReference.Project(Array.ConvertAll(rows[(8 * b)..(8 * b + 8)], v => (double)v), ox, oy),
            Enum.Parse<Fill>(fillMode, true), interpolation == "nearest", fillValue);
        int compared = 0, bad = 0, first = -1;
        for (int i = 0; i < got.Length; i++)
        {
            if (reference[i].Ambiguous) continue;
            int b = i / (h * w * c), pixel = i / c % (h * w);
            var (sx, sy) = AugmentReference.Project(Array.ConvertAll(rows[(8 * b)..(8 * b + 8)], v => (double)v), pixel % w, pixel / w);
            bool outside = !(sx >= 0 && sx <= w - 1 && sy >= 0 && sy <= h - 1);
            if (fillMode == "constant" && outside)
            {
                // tfjs's cpu kernel lacks TensorFlow's "outside the image → fill_value" check (image_ops.h) and blends
                // the edge pixels with the fill there; TensorFlow, and the engine, give the fill value.
                Assert.That(got[i], Is.EqualTo(fillValue), $"{file}: value {i}, source ({sx:F3}, {sy:F3}) outside the image");
                continue;
            }
            compared++;
            if (!(Math.Abs(got[i] - expected[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i]))) && bad++ == 0) first = i;
        }
        Assert.That(bad, Is.Zero, bad == 0 ? "" : $"{file} on {backendCase}: {bad} values differ from tfjs; first {first}: tfjs {expected[first]:G9}, got {got[first]:G9}");
        Assert.That(compared, Is.GreaterThan(got.Length / 4), "a good part of the values is compared");
    }

    [TestCaseSource(nameof(Fixtures), new object[] { "resize-" })]
    public void Resize_MatchesTfjsHalfPixelCentres(BackendCase backendCase, string file)
    {
        var f = Read(file);
        var shape = Ints(f["shape"]);
        var size = Ints(f["size"]);
        var backend = backendCase.Acquire();
        using var images = Tensor.FromArray(backend, Floats(f["input"]), shape);
        using var y = Ops.Resize(images, size[0], size[1], PreprocessingOptions.ParseInterpolation("test", f["interpolation"]!.GetValue<string>()));
        Assert.That(y.Shape.ToArray(), Is.EqualTo(Ints(f["outputShape"])));
        Approx.AssertWithin(TestData.Widen(Floats(f["output"])), TestData.Widen(y.ToArray()), 1e-6, 1e-6, $"{file} on {backendCase}");
    }

    [TestCaseSource(nameof(Fixtures), new object[] { "flip-" })]
    public void Flip_MatchesTfjs(BackendCase backendCase, string file)
    {
        var f = Read(file);
        var shape = Ints(f["shape"]);
        var backend = backendCase.Acquire();
        using var images = Tensor.FromArray(backend, Floats(f["input"]), shape);
        var horizontal = Enumerable.Repeat(f["horizontal"]!.GetValue<bool>(), shape[0]).ToArray();
        var vertical = Enumerable.Repeat(f["vertical"]!.GetValue<bool>(), shape[0]).ToArray();
        using var y = Ops.Flip(images, horizontal, vertical);
        Assert.That(y.ToArray(), Is.EqualTo(Floats(f["output"])));
    }

    /// <summary>The configs tfjs writes (model.toJSON) import; Rescaling and CenterCrop give tfjs's outputs.</summary>
    [TestCase("layer-rescaling.json", true)]
    [TestCase("layer-center-crop.json", true)]
    // tfjs's Resizing resizes with align_corners (not Keras's half-pixel centres), so only its config is checked.
    [TestCase("layer-resizing.json", false)]
    [TestCase("layer-resizing-nearest.json", false)]
    public void TfjsLayerConfigs_Import_AndKerasConsistentOnesMatchItsOutputs(string file, bool compareOutputs)
    {
        var f = Read(file);
        var topology = (JsonObject)f["modelTopology"]!;
        using var model = KerasModels.FromJson(topology, source: file);
        var layer = model.Layers.Single();
        Assert.That(layer.ClassName, Is.EqualTo(f["className"]!.GetValue<string>()));
        var config = (JsonObject)f["config"]!;
        switch (layer)
        {
            case Resizing r:
                Assert.That((r.Height, r.Width, PreprocessingOptions.Name(r.Interpolation), r.CropToAspectRatio),
                    Is.EqualTo((config["height"]!.GetValue<int>(), config["width"]!.GetValue<int>(), config["interpolation"]!.GetValue<string>(), false)));
                break;
            case CenterCrop cc:
                Assert.That((cc.Height, cc.Width), Is.EqualTo((config["height"]!.GetValue<int>(), config["width"]!.GetValue<int>())));
                break;
            case Rescaling rs:
                Assert.That((rs.Scale, rs.Offset), Is.EqualTo((config["scale"]!.GetValue<double>(), config["offset"]!.GetValue<double>())));
                break;
        }
        if (!compareOutputs) return;
        var shape = Ints(f["shape"]);
        // Applied to the fixture's own input (tfjs's toJSON records its own input size), in training mode as tfjs ran it.
        using var pipeline = new AugmentationPipeline([LayerRegistry.Create(layer.ClassName, (JsonObject)topology["config"]!["layers"]![1]!["config"]!.DeepClone())],
            shape[1..], BackendCase.Cpu(ConvEngine.Kernels.Cpu.SimdSupport.Detected).Acquire());
        var (output, outShape) = pipeline.Run(Floats(f["input"]), shape[0], training: true, seed: 1);
        Assert.That(outShape, Is.EqualTo(Ints(f["outputShape"])));
        Approx.AssertWithin(TestData.Widen(Floats(f["output"])), TestData.Widen(output), 1e-5, 1e-6, file);
    }
}
