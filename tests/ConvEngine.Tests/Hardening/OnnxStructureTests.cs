using ConvEngine.Import.Onnx;
using ConvEngine.Import.Onnx.Proto;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Tests.Import;
using Google.Protobuf;
using NUnit.Framework;

namespace ConvEngine.Tests.Hardening;

/// <summary>
/// Issue 10's ONNX findings without a reproducer folder: a model with no graph was a NullReferenceException; IR
/// version, opset, arity and single assignment were not checked (ONNX IR spec, onnx.checker), so a damaged file
/// was interpreted anyway. Each is now a one-line <see cref="OnnxFormatException"/> naming the file and what is wrong.
/// </summary>
public class OnnxStructureTests
{
    private CpuBackend _cpu = null!;
    private readonly List<string> _files = [];

    [OneTimeSetUp] public void Open() => _cpu = new CpuBackend(threads: 1);

    [OneTimeTearDown]
    public void Close()
    {
        _cpu.Dispose();
        foreach (var f in _files) File.Delete(f);
    }

    private string Write(ModelProto model)
    {
        string path = Path.Combine(Path.GetTempPath(), $"convengine-onnx-structure-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        _files.Add(path);
        return path;
    }

    private string Refused(ModelProto model)
    {
        string path = Write(model);
        var e = Assert.Throws<OnnxFormatException>(() => OnnxImporter.Load(path, _cpu).Dispose())!;
        Assert.That(e.Message, Does.Contain(path).And.Not.Contain('\n'));
        return e.Message;
    }

    private static OnnxTestModel Relu() => new OnnxTestModel().Input("X", 1, 2).Node("Relu", ["X"], ["Y"]).Output("Y");

    [Test]
    public void ModelWithoutAGraph_IsAFormatError() =>
        Assert.That(Refused(new ModelProto { IrVersion = 7 }), Does.Contain("no graph"));

    [TestCase(0L)]
    [TestCase(99L)]
    public void UnknownIrVersion_IsAFormatError(long ir)
    {
        var model = Relu().Proto();
        model.IrVersion = ir;
        Assert.That(Refused(model), Does.Contain($"ir_version {ir}"));
    }

    [Test]
    public void DefaultOpsetBeyondTheImportersKnowledge_IsAFormatError() =>
        Assert.That(Refused(new OnnxTestModel(opset: 99).Input("X", 1, 2).Node("Relu", ["X"], ["Y"]).Output("Y").Proto()), Does.Contain("opset is 99"));

    [Test]
    public void TwoNodesWritingOneValue_IsAFormatError() =>
        Assert.That(Refused(new OnnxTestModel().Input("X", 1, 2).Node("Relu", ["X"], ["Y"]).Node("Sigmoid", ["X"], ["Y"]).Output("Y").Proto()),
            Does.Contain("'Y' is defined twice"));

    [Test]
    public void ReluWithTwoInputs_IsAnArityError() =>
        Assert.That(Refused(new OnnxTestModel().Input("X", 1, 2).Node("Relu", ["X", "X"], ["Y"]).Output("Y").Proto()),
            Does.Contain("Relu takes 1 input(s)"));

    // Fuzz case onnx 189: the attribute-type check knew only the node, so its message named no file.
    [Test]
    public void AttributeOfTheWrongType_NamesTheFileAndTheNode() =>
        Assert.That(Refused(new OnnxTestModel().Input("X", 1, 1, 4, 4)
                .Node("MaxPool", ["X"], ["Y"], ("kernel_shape", new long[] { 2, 2 }), ("pads", "oops")).Output("Y").Proto()),
            Does.Contain("node 0 'maxpool_0' (MaxPool): attribute 'pads' has type String, expected Ints"));

    [Test]
    public void OpTypeOfControlBytes_IsRefusedQuotedBounded()
    {
        var model = Relu().Proto();
        model.Graph.Node[0].OpType = "Relu" + new string('\n', 5000);
        string message = Refused(model);
        Assert.That(message, Does.Contain(@"op_type 'Relu\n\n").And.Contain("(5004 chars)").And.Contain("not an operator name"));
        Assert.That(message.Length, Is.LessThan(600));
    }
}
