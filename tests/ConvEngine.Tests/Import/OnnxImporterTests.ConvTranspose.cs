using ConvEngine.Import.Onnx;
using ConvEngine.Kernels.Ilgpu;
using NUnit.Framework;

namespace ConvEngine.Tests.Import;

/// <summary>
/// ConvTranspose through the importer against ONNX Runtime on the same bytes: odd sizes, strides, asymmetric pads,
/// output_padding, dilations, group, no bias, output_shape, auto_pad, 1-D; on cpu and on ILGPU's CPU accelerator.
/// </summary>
public partial class OnnxImporterTests
{
    private static OnnxTestModel ConvTransposeModel(long[] x, long[] w, bool bias, params (string Name, object Value)[] attributes)
    {
        var m = new OnnxTestModel().Input("X", x).Random("W", 11, w);
        if (bias) m.Random("B", 12, w[1] * attributes.Where(a => a.Name == "group").Select(a => (long)a.Value).DefaultIfEmpty(1).First());
        return m.Node("ConvTranspose", bias ? ["X", "W", "B"] : ["X", "W"], ["Y"], attributes).Output("Y");
    }

    private static IEnumerable<TestCaseData> ConvTransposeCases()
    {
        yield return new TestCaseData(new long[] { 1, 3, 5, 4 }, new long[] { 3, 2, 3, 3 }, true,
            new (string, object)[] { ("strides", new long[] { 2, 3 }), ("output_padding", new long[] { 1, 2 }) }).SetName("ConvTranspose_StridesOutputPadding");
        yield return new TestCaseData(new long[] { 2, 4, 3, 5 }, new long[] { 4, 3, 2, 3 }, true,
            new (string, object)[] { ("group", 2L), ("dilations", new long[] { 2, 1 }), ("pads", new long[] { 1, 0, 0, 2 }), ("strides", new long[] { 1, 2 }) })
            .SetName("ConvTranspose_GroupsDilationsAsymmetricPads");
        yield return new TestCaseData(new long[] { 1, 2, 4, 4 }, new long[] { 2, 3, 4, 4 }, false,
            new (string, object)[] { ("strides", new long[] { 2, 2 }), ("output_shape", new long[] { 9, 8 }) }).SetName("ConvTranspose_OutputShape_NoBias");
        yield return new TestCaseData(new long[] { 1, 3, 3, 5 }, new long[] { 3, 1, 3, 2 }, true,
            new (string, object)[] { ("strides", new long[] { 2, 3 }), ("auto_pad", "SAME_UPPER") }).SetName("ConvTranspose_SameUpper");
        yield return new TestCaseData(new long[] { 1, 3, 3, 5 }, new long[] { 3, 1, 3, 2 }, true,
            new (string, object)[] { ("strides", new long[] { 2, 3 }), ("auto_pad", "SAME_LOWER") }).SetName("ConvTranspose_SameLower");
        yield return new TestCaseData(new long[] { 1, 6, 4, 3 }, new long[] { 6, 1, 3, 3 }, true,
            new (string, object)[] { ("group", 6L), ("strides", new long[] { 3, 2 }), ("pads", new long[] { 2, 1, 1, 0 }), ("output_padding", new long[] { 2, 1 }) })
            .SetName("ConvTranspose_Depthwise_OddPadsOutputPadding");
        yield return new TestCaseData(new long[] { 2, 3, 7 }, new long[] { 3, 2, 4 }, true,
            new (string, object)[] { ("strides", new long[] { 3 }), ("pads", new long[] { 1, 2 }), ("output_padding", new long[] { 1 }), ("dilations", new long[] { 2 }) })
            .SetName("ConvTranspose1d_StridesPadsDilation");
    }

    [TestCaseSource(nameof(ConvTransposeCases))]
    public void ConvTranspose_MatchesOnnxRuntime(long[] x, long[] w, bool bias, (string, object)[] attributes) =>
        Check(ConvTransposeModel(x, w, bias, attributes), X(x.Select(d => (int)d).ToArray()));

    [Test]
    public void ConvTranspose_AlsoMatchesOnIlgpuCpu()
    {
        using var ilgpu = IlgpuBackend.Create(IlgpuDeviceKind.Cpu);
        foreach (var data in ConvTransposeCases())
        {
            var args = data.Arguments;
            var (x, w, bias, attributes) = ((long[])args[0]!, (long[])args[1]!, (bool)args[2]!, ((string, object)[])args[3]!);
            MatchesOnnxRuntime(ConvTransposeModel(x, w, bias, attributes), [X(x.Select(d => (int)d).ToArray())], backend: ilgpu).Dispose();
        }
    }

    // An output_shape larger than the transposed conv produces would need negative pads: refused, naming the node and attribute.
    [Test]
    public void ConvTranspose_OutputShapeLargerThanNatural_IsRefused()
    {
        string path = Save(ConvTransposeModel([1, 2, 3, 3], [2, 2, 3, 3], true, ("output_shape", new long[] { 9, 9 })));
        var e = Assert.Throws<OnnxUnsupportedException>(() => OnnxImporter.Load(path, _cpu).Dispose())!;
        Assert.That(e.OpType, Is.EqualTo("ConvTranspose"));
        Assert.That(e.Message, Does.Contain("output_shape (9, 9) asks for an output of 9 on axis 0, larger than the 5"));
    }
}
