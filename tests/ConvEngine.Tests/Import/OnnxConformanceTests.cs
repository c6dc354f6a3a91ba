using ConvEngine.Import.Onnx;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Ilgpu;
using NUnit.Framework;

namespace ConvEngine.Tests.Import;

/// <summary>
/// The 46 cases of the ONNX backend test suite's pytorch-converted folder (shared/conformance):
/// each model imported and run on its recorded input_0.pb must match output_0.pb within the
/// suite's tolerances, |got − expected| ≤ 1e-5 + 1e-3·|expected|, or — for the cases listed in
/// <see cref="KnownUnsupported"/> — be refused with an <see cref="OnnxUnsupportedException"/>
/// naming the node, never answered wrongly.
///
/// Supported (all 46): AvgPool1d(_stride), AvgPool2d(_stride), BatchNorm2d(_momentum)_eval, Conv1d (plain,
/// dilated, groups, pad1, pad1size1, pad2, pad2size1, stride), Conv2d (plain, depthwise ×4, dilated,
/// groups(_thnn), no_bias, padding, strided), ConvTranspose2d(_no_bias), LeakyReLU(_with_negval), Linear(_no_bias),
/// LogSoftmax, MaxPool1d (plain, stride, stride_padding_dilation), MaxPool2d(_stride_padding_dilation), ReLU,
/// ReflectionPad2d, ReplicationPad2d, Sigmoid, Softmax, Tanh, ZeroPad2d, log_softmax_lastdim, softmax_lastdim.
/// None is refused today; the refusal path stays for cases added later.
/// </summary>
[TestFixture]
public class OnnxConformanceTests
{
    /// <summary>Cases that use an operator the importer refuses, with that operator.</summary>
    public static readonly IReadOnlyDictionary<string, string> KnownUnsupported = new Dictionary<string, string>();

    private const double Rtol = 1e-3, Atol = 1e-5;

    private CpuBackend _cpu = null!;
    private IlgpuBackend? _ilgpu;

    [OneTimeSetUp]
    public void Open() => _cpu = new CpuBackend(threads: 2);

    [OneTimeTearDown]
    public void Close()
    {
        _cpu.Dispose();
        _ilgpu?.Dispose();
    }

    public static IEnumerable<TestCaseData> Cases()
    {
        string? dir = OnnxTestFiles.ConformanceDirectory();
        if (dir is null || !Directory.Exists(dir))
        {
            // One case that fails in CI (SharedFiles.Require) and is skipped elsewhere, so a missing folder is never silent.
            yield return new TestCaseData("(shared/conformance not found)").SetName("ConformanceCases_AreFound");
            yield break;
        }
        foreach (string caseDir in Directory.GetDirectories(dir).Order())
            yield return new TestCaseData(Path.GetFileName(caseDir)).SetName($"Conformance_{Path.GetFileName(caseDir)}");
    }

    private static string CaseDirectory(string name)
    {
        string root = SharedFiles.Require("conformance/onnx-pytorch-converted");
        if (!Directory.Exists(Path.Combine(root, name)))
            Assert.Fail($"Conformance case '{name}' not found in {root}.");
        return Path.Combine(root, name);
    }

    [TestCaseSource(nameof(Cases))]
    public void Case_MatchesRecordedOutput_OrIsRefusedAsUnsupported(string name)
    {
        string dir = CaseDirectory(name);
        if (KnownUnsupported.TryGetValue(name, out string? op))
        {
            var error = Assert.Throws<OnnxUnsupportedException>(() => OnnxImporter.Load(Path.Combine(dir, "model.onnx"), _cpu).Dispose())!;
            Assert.That(error.OpType, Is.EqualTo(op));
            Assert.That(error.NodeIndex, Is.Not.Null);
            Assert.That(error.Message, Does.Contain(op).And.Contain("node 0").And.Contain("model.onnx"));
            return;
        }
        double worst = RunAndCompare(_cpu, dir);
        TestContext.Out.WriteLine($"{name}: max |got − expected| = {worst:G3}");
    }

    /// <summary>The suite's check: every element within atol + rtol·|expected|; returns the largest absolute error.</summary>
    private static double RunAndCompare(IBackend backend, string dir)
    {
        var input = OnnxTensorData.ReadFile(Path.Combine(dir, "test_data_set_0", "input_0.pb"));
        var expected = OnnxTensorData.ReadFile(Path.Combine(dir, "test_data_set_0", "output_0.pb"));
        using var model = OnnxImporter.Load(Path.Combine(dir, "model.onnx"), backend);
        using var x = Tensor.FromArray(backend, input.ToFloats(), input.Dims);
        using var y = model.Run(x);
        Assert.That(y.Shape.ToArray(), Is.EqualTo(expected.Dims), "output shape");
        float[] got = y.ToArray(), want = expected.ToFloats();
        double worst = 0;
        for (int i = 0; i < want.Length; i++)
        {
            double error = Math.Abs((double)got[i] - want[i]);
            worst = Math.Max(worst, error);
            if (error > Atol + Rtol * Math.Abs(want[i]))
                Assert.Fail($"element {i}: got {got[i]}, expected {want[i]} (|error| {error:G3} > {Atol} + {Rtol}·|expected|)");
        }
        return worst;
    }

    // The same import on ILGPU's CPU accelerator (the kernels CUDA and OpenCL run): small cases only,
    // since it simulates every GPU thread.
    [TestCase("test_Conv2d_depthwise_padded")]
    [TestCase("test_Conv1d_dilated")]
    [TestCase("test_AvgPool1d_stride")]
    [TestCase("test_MaxPool2d")]
    [TestCase("test_BatchNorm2d_eval")]
    [TestCase("test_Linear")]
    [TestCase("test_Linear_no_bias")]
    [TestCase("test_ReflectionPad2d")]
    [TestCase("test_log_softmax_lastdim")]
    [TestCase("test_ConvTranspose2d")]
    [TestCase("test_ConvTranspose2d_no_bias")]
    public void SmallCases_AlsoPassOnIlgpuCpu(string name)
    {
        _ilgpu ??= IlgpuBackend.Create(IlgpuDeviceKind.Cpu); // one accelerator for all cases: kernels compile once
        RunAndCompare(_ilgpu, CaseDirectory(name));
    }

    [Test]
    public void EveryCaseIsClassified_46Supported()
    {
        string dir = SharedFiles.Require("conformance/onnx-pytorch-converted");
        var names = Directory.GetDirectories(dir).Select(Path.GetFileName).ToList();
        Assert.That(names, Has.Count.EqualTo(46));
        Assert.That(KnownUnsupported.Keys, Is.SubsetOf(names));
    }
}
