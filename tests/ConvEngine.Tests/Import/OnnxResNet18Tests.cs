using ConvEngine.Data.Images;
using ConvEngine.Import.Onnx;
using ConvEngine.Kernels.Cpu;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NUnit.Framework;

namespace ConvEngine.Tests.Import;

/// <summary>
/// A real ImageNet-trained ResNet18 (CNTK export inside NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18
/// 0.23.1) imported by our importer and run on the cpu backend, against ONNX Runtime 1.31.1 running the
/// same file on the same preprocessed input, on real photos. The preprocessing is checked against ONNX
/// Runtime running the package's ResNetPreprocess.onnx.
/// </summary>
[TestFixture]
[NonParallelizable]
public class OnnxResNet18Tests
{
    private CpuBackend _cpu = null!;
    private OnnxModel _model = null!;
    private ResNet18Preprocessing _preprocessing = null!;
    private InferenceSession _ortModel = null!;
    private InferenceSession _ortPreprocess = null!;

    [OneTimeSetUp]
    public void Open()
    {
        Assert.That(File.Exists(OnnxTestFiles.ResNet18Model), Is.True,
            $"ResNet18.onnx not found at '{OnnxTestFiles.ResNet18Model}': the test project's PackageDownload of Microsoft.ML.DnnImageFeaturizer.ResNet18 should have put it there (dotnet restore).");
        _cpu = new CpuBackend();
        _model = OnnxImporter.Load(OnnxTestFiles.ResNet18Model, _cpu);
        _preprocessing = ResNet18Preprocessing.Load(OnnxTestFiles.ResNet18Preprocess);
        _ortModel = new InferenceSession(OnnxTestFiles.ResNet18Model);
        _ortPreprocess = new InferenceSession(OnnxTestFiles.ResNet18Preprocess);
    }

    [OneTimeTearDown]
    public void Close()
    {
        _model?.Dispose();
        _cpu?.Dispose();
        _ortModel?.Dispose();
        _ortPreprocess?.Dispose();
    }

    private static string Photo(string name) => name == "chelsea.png"
        ? Path.Combine(AppContext.BaseDirectory, "Assets", "chelsea.png")   // from src/ConvEngine.Cli/Assets
        : Path.Combine(AppContext.BaseDirectory, "Assets", name);

    private static ImageData Load224(string name) =>
        Resize.Apply(ImageIO.Load(Photo(name), ColorMode.Rgb), ResNet18Preprocessing.Size, ResNet18Preprocessing.Size, Interpolation.Bilinear);

    private static float[] RunOrt(InferenceSession session, float[] nchw)
    {
        var input = new DenseTensor<float>(nchw, [1, 3, ResNet18Preprocessing.Size, ResNet18Preprocessing.Size]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.First(), input)]);
        return results.First().AsTensor<float>().ToArray();
    }

    // The package's description (and ARCHITECTURE.md): 22 Conv, 22 BatchNormalization, 9 Add, output [1,512,1,1].
    [Test]
    public void ResNet18_HasTheExpectedGraph_AndImportsWithAllBatchNormsFolded()
    {
        Assert.That(_model.OpTypes.Count(o => o == "Conv"), Is.EqualTo(22));
        Assert.That(_model.OpTypes.Count(o => o == "BatchNormalization"), Is.EqualTo(22));
        Assert.That(_model.OpTypes.Count(o => o == "Add"), Is.EqualTo(9));
        Assert.That(_model.Inputs.Single().Dims, Is.EqualTo(new int?[] { 1, 3, 224, 224 }));
        Assert.That(_model.OutputDims.Values.Single(), Is.EqualTo(new[] { 1, 512, 1, 1 }));
        TestContext.Out.WriteLine(string.Join("\n", _model.PlanSteps));
        Assert.That(_model.PlanSteps.Count(s => s.EndsWith("(Conv)")), Is.EqualTo(22));
        Assert.That(_model.PlanSteps.Count(s => s.Contains("(BatchNormalization)")), Is.EqualTo(0), "every BatchNorm folds into its conv");
    }

    // ResNetPreprocess.onnx: Split → Concat(B,G,R) → Sub(mean image); ours must agree exactly (one float subtraction each).
    [TestCase("chelsea.png")]
    [TestCase("coffee.png")]
    public void Preprocessing_MatchesOnnxRuntimeRunningResNetPreprocess(string photo)
    {
        var image = Load224(photo);
        var rgbPlanes = new float[3 * 224 * 224];
        for (int p = 0; p < 224 * 224; p++)
            for (int c = 0; c < 3; c++) rgbPlanes[c * 224 * 224 + p] = image.Pixels[p * 3 + c];
        float[] expected = RunOrt(_ortPreprocess, rgbPlanes);
        Assert.That(_preprocessing.ToNchw(image), Is.EqualTo(expected));
    }

    // Acceptance: max |ours − ORT| ≤ 1e-3 · max |ORT| on the 512 features of each photo.
    [TestCase("chelsea.png")]
    [TestCase("coffee.png")]
    [TestCase("astronaut.png")]
    public void ResNet18_MatchesOnnxRuntime_OnARealPhoto(string photo)
    {
        var image = Load224(photo);
        float[] nchw = _preprocessing.ToNchw(image);
        float[] expected = RunOrt(_ortModel, nchw);
        Assert.That(expected, Has.Length.EqualTo(512));

        using var input = _preprocessing.ToTensor(_cpu, image);
        using var output = _model.RunChannelsLast(input);
        Assert.That(output.Shape.ToArray(), Is.EqualTo(new[] { 1, 1, 1, 512 }));
        float[] got = output.ToArray();

        double scale = expected.Max(v => Math.Abs(v));
        double worst = got.Zip(expected, (a, b) => Math.Abs((double)a - b)).Max();
        TestContext.Out.WriteLine($"{photo}: max |ours − ORT| = {worst:G3}, max |ORT| = {scale:G4}, ratio {worst / scale:G3}");
        Assert.That(scale, Is.GreaterThan(0), "ORT's features are all zero");
        Assert.That(worst, Is.LessThanOrEqualTo(1e-3 * scale));
    }
}
