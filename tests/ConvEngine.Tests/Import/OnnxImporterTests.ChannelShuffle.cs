using ConvEngine.Import.Onnx;
using ConvEngine.Kernels.Ilgpu;
using NUnit.Framework;

namespace ConvEngine.Tests.Import;

/// <summary>
/// Tensors of rank 5 and 6 between convolutions, against ONNX Runtime: ShuffleNet's channel shuffle (Reshape to
/// (N, g, C/g, H, W) → Transpose (0, 2, 1, 3, 4) → Reshape back), a rank-6 transpose, Flatten of a rank-5 tensor.
/// </summary>
public partial class OnnxImporterTests
{
    private static OnnxTestModel ChannelShuffle() => new OnnxTestModel()
        .Input("X", 2, 6, 3, 5).Random("W1", 21, 6, 3, 1, 1).Random("B1", 22, 6).Random("W2", 23, 4, 6, 3, 3)
        .Ints("to5", [2, 3, 2, 3, 5], 5).Ints("to4", [2, 6, 3, 5], 4)
        .Node("Conv", ["X", "W1", "B1"], ["c1"], ("group", 2L))
        .Node("Reshape", ["c1", "to5"], ["r5"])
        .Node("Transpose", ["r5"], ["t5"], ("perm", new long[] { 0, 2, 1, 3, 4 }))
        .Node("Reshape", ["t5", "to4"], ["shuffled"])
        .Node("Conv", ["shuffled", "W2"], ["Y"], ("pads", new long[] { 1, 1, 1, 1 }))
        .Output("Y");

    [Test]
    public void ChannelShuffle_ThroughARank5Transpose_MatchesOnnxRuntime() => Check(ChannelShuffle(), X(2, 6, 3, 5));

    [Test]
    public void ChannelShuffle_AlsoMatchesOnIlgpuCpu()
    {
        using var ilgpu = IlgpuBackend.Create(IlgpuDeviceKind.Cpu);
        MatchesOnnxRuntime(ChannelShuffle(), [X(2, 6, 3, 5)], backend: ilgpu).Dispose();
    }

    // (1, 8, 4, 3) → (1, 2, 4, 2, 2, 3) → perm (0, 1, 2, 4, 3, 5) → back to 4-D; and Flatten(axis 2) of a rank-5 value.
    [Test]
    public void Rank6Transpose_AndRank5Flatten_MatchOnnxRuntime() => Check(new OnnxTestModel()
        .Input("X", 1, 8, 4, 3).Ints("to6", [1, 2, 4, 2, 2, 3], 6).Ints("to4", [1, 8, 4, 3], 4).Ints("to5", [1, 2, 4, 4, 3], 5)
        .Node("Reshape", ["X", "to6"], ["r6"])
        .Node("Transpose", ["r6"], ["t6"], ("perm", new long[] { 0, 1, 2, 4, 3, 5 }))
        .Node("Reshape", ["t6", "to4"], ["r4"])
        .Node("Relu", ["r4"], ["a"])
        .Node("Reshape", ["a", "to5"], ["r5"])
        .Node("Flatten", ["r5"], ["Y"], ("axis", 2L))
        .Output("Y"), X(1, 8, 4, 3));

    // A rank-6 permutation that moves five separate blocks of axes is beyond the transpose kernels: refused by name.
    [Test]
    public void Rank6TransposeOfFiveBlocks_IsRefusedNamingTheNode()
    {
        string path = Save(new OnnxTestModel()
            .Input("X", 1, 6, 4, 4).Ints("to6", [1, 2, 3, 2, 2, 4], 6)
            .Node("Reshape", ["X", "to6"], ["r6"])
            .Node("Transpose", ["r6"], ["Y"], ("perm", new long[] { 0, 2, 1, 3, 5, 4 }))
            .Output("Y"));
        var e = Assert.Throws<OnnxUnsupportedException>(() => OnnxImporter.Load(path, _cpu).Dispose())!;
        Assert.That(e.OpType, Is.EqualTo("Transpose"));
        Assert.That(e.Message, Does.Contain("5 separate blocks"));
    }
}
