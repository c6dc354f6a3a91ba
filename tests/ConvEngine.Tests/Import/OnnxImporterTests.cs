using ConvEngine.Import.Onnx;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Ilgpu;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NUnit.Framework;

namespace ConvEngine.Tests.Import;

/// <summary>
/// The importer on small models built in memory, each checked against ONNX Runtime running the same
/// bytes (an independent implementation of the ONNX operator definitions), plus the refusals and
/// format errors it must raise.
/// </summary>
[TestFixture]
public partial class OnnxImporterTests
{
    private CpuBackend _cpu = null!;
    private readonly List<string> _files = [];

    [OneTimeSetUp]
    public void Open() => _cpu = new CpuBackend(threads: 2);

    [OneTimeTearDown]
    public void Close()
    {
        _cpu.Dispose();
        foreach (var f in _files) File.Delete(f);
    }

    private string Save(OnnxTestModel m)
    {
        string path = m.Save();
        _files.Add(path);
        return path;
    }

    /// <summary>
    /// Runs the model on random inputs in ONNX Runtime and in our import; every output must agree
    /// within 1e-5 + 1e-4·|ORT|. Returns our model for further checks (the caller disposes it).
    /// </summary>
    private OnnxModel MatchesOnnxRuntime(OnnxTestModel m, (string Name, int[] Dims)[] inputs, OnnxImportOptions? options = null, IBackend? backend = null)
    {
        backend ??= _cpu;
        string path = Save(m);
        var data = inputs.Select((input, i) => OnnxTestModel.RandomValues(input.Dims.Aggregate(1, (p, d) => p * d), 100 + i, -2f, 2f)).ToArray();
        Dictionary<string, float[]> expected;
        Dictionary<string, int[]> expectedDims;
        using (var session = new InferenceSession(path))
        {
            var feeds = inputs.Select((input, i) => NamedOnnxValue.CreateFromTensor(input.Name, new DenseTensor<float>(data[i], input.Dims))).ToList();
            using var results = session.Run(feeds);
            expected = results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
            expectedDims = results.ToDictionary(r => r.Name, r => r.AsTensor<float>().Dimensions.ToArray());
        }
        var model = OnnxImporter.Load(path, backend, options);
        var tensors = inputs.Select((input, i) => Tensor.FromArray(backend, data[i], input.Dims)).ToArray();
        try
        {
            var outputs = model.Run(inputs.Select((input, i) => (input.Name, tensors[i])).ToDictionary(p => p.Name, p => p.Item2));
            foreach (var (name, tensor) in outputs)
                using (tensor)
                {
                    Assert.That(tensor.Shape.ToArray(), Is.EqualTo(expectedDims[name]), $"shape of output '{name}'");
                    float[] got = tensor.ToArray();
                    for (int i = 0; i < got.Length; i++)
                        if (!(Math.Abs(got[i] - expected[name][i]) <= 1e-5 + 1e-4 * Math.Abs(expected[name][i])))
                            Assert.Fail($"output '{name}' element {i}: got {got[i]}, ONNX Runtime {expected[name][i]}");
                }
        }
        finally
        {
            foreach (var t in tensors) t.Dispose();
        }
        return model;
    }

    private void Check(OnnxTestModel m, params (string Name, int[] Dims)[] inputs) => MatchesOnnxRuntime(m, inputs).Dispose();

    private static (string, int[]) X(params int[] dims) => ("X", dims);

    // ---------------------------------------------------------------- Conv

    // ONNX Conv auto_pad: SAME_UPPER puts the odd padded pixel at the end (TF SAME), SAME_LOWER at the start; VALID none.
    // Both axes need an odd total pad or the two modes coincide: H 8, k 3, s 2 → out 4, pad 3·2 + 3 − 8 = 1;
    // W 7, k 2, s 3 → out 3, pad 2·3 + 2 − 7 = 1.
    [TestCase("SAME_UPPER")]
    [TestCase("SAME_LOWER")]
    [TestCase("VALID")]
    public void Conv_AutoPad_MatchesOnnxRuntime(string autoPad) => Check(new OnnxTestModel()
        .Input("X", 1, 3, 8, 7).Random("W", 1, 4, 3, 3, 2).Random("B", 2, 4)
        .Node("Conv", ["X", "W", "B"], ["Y"], ("auto_pad", autoPad), ("strides", new long[] { 2, 3 }))
        .Output("Y"), X(1, 3, 8, 7));

    // CNTK exports (ResNet18) use asymmetric pads [top, left, bottom, right] = [1, 1, 0, 0]; here also dilation, groups, no bias.
    [Test]
    public void Conv_AsymmetricPads_Dilation_Groups_NoBias_MatchesOnnxRuntime() => Check(new OnnxTestModel()
        .Input("X", 2, 4, 7, 6).Random("W", 3, 6, 2, 3, 2)
        .Node("Conv", ["X", "W"], ["Y"], ("pads", new long[] { 1, 2, 0, 1 }), ("dilations", new long[] { 2, 1 }), ("group", 2L), ("strides", new long[] { 1, 2 }))
        .Output("Y"), X(2, 4, 7, 6));

    [Test]
    public void Conv1d_SameLower_MatchesOnnxRuntime() => Check(new OnnxTestModel()
        .Input("X", 2, 3, 11).Random("W", 4, 5, 3, 4)
        .Node("Conv", ["X", "W"], ["Y"], ("auto_pad", "SAME_LOWER"), ("strides", new long[] { 2 }))
        .Output("Y"), X(2, 3, 11));

    private static OnnxTestModel ConvBatchNormRelu(bool convOutputAlsoUsed)
    {
        var m = new OnnxTestModel()
            .Input("X", 1, 3, 6, 6).Random("W", 11, 5, 3, 3, 3).Random("B", 12, 5)
            .Random("gamma", 13, 5).Random("beta", 14, 5).Random("mean", 15, 5)
            .Floats("var", OnnxTestModel.RandomValues(5, 16, 0.1f, 2f), 5)
            .Node("Conv", ["X", "W", "B"], ["c"], ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["bn"], ("epsilon", 1e-3f))
            .Node("Relu", ["bn"], ["Y"]).Output("Y");
        if (convOutputAlsoUsed) m.Node("Sigmoid", ["c"], ["S"]).Output("S");
        return m;
    }

    // BatchNormalization (inference): y = γ(x − mean)/√(var + ε) + β; folded into the conv it must give the same answer.
    [Test]
    public void ConvBatchNormRelu_FoldsIntoOneConvStep_AndMatchesOnnxRuntime()
    {
        using var model = MatchesOnnxRuntime(ConvBatchNormRelu(false), [X(1, 3, 6, 6)]);
        Assert.That(model.PlanSteps.Count(s => s.Contains("(BatchNormalization)") || s.Contains("(Relu)")), Is.Zero, string.Join("; ", model.PlanSteps));
        Assert.That(model.PlanSteps.Count(s => s.Contains("(Conv)")), Is.EqualTo(1));
    }

    [Test]
    public void BatchNorm_WithoutFolding_RunsAsChannelAffine_AndMatchesOnnxRuntime()
    {
        using var unfolded = MatchesOnnxRuntime(ConvBatchNormRelu(false), [X(1, 3, 6, 6)], new OnnxImportOptions { FoldBatchNorm = false, FuseActivations = false });
        Assert.That(unfolded.PlanSteps.Count(s => s.Contains("(BatchNormalization)")), Is.EqualTo(1));
        // The conv's output also feeds a Sigmoid, so folding would change that output: the BatchNorm must stay.
        using var shared = MatchesOnnxRuntime(ConvBatchNormRelu(true), [X(1, 3, 6, 6)]);
        Assert.That(shared.PlanSteps.Count(s => s.Contains("(BatchNormalization)")), Is.EqualTo(1));
    }

    // ---------------------------------------------------------------- pooling

    // PyTorch/ONNX ceil_mode: the output rounds up, but no window starts in the trailing pad.
    [TestCase("MaxPool", 0L)]
    [TestCase("AveragePool", 0L)]
    [TestCase("AveragePool", 1L)]
    public void Pool_CeilMode_Pads_MatchOnnxRuntime(string op, long countIncludePad)
    {
        var attributes = new List<(string, object)> { ("kernel_shape", new long[] { 3, 2 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 0, 1, 1 }), ("ceil_mode", 1L) };
        if (op == "AveragePool") attributes.Add(("count_include_pad", countIncludePad));
        Check(new OnnxTestModel().Input("X", 2, 3, 8, 7).Node(op, ["X"], ["Y"], [.. attributes]).Output("Y"), X(2, 3, 8, 7));
    }

    [Test]
    public void MaxPool_Dilations_And_GlobalPools_MatchOnnxRuntime() => Check(new OnnxTestModel()
        .Input("X", 1, 4, 9, 9)
        .Node("MaxPool", ["X"], ["m"], ("kernel_shape", new long[] { 2, 3 }), ("dilations", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }))
        .Node("GlobalMaxPool", ["m"], ["gm"]).Node("GlobalAveragePool", ["X"], ["ga"])
        .Node("Add", ["gm", "ga"], ["Y"]).Output("Y"), X(1, 4, 9, 9));

    [Test]
    public void MaxPool_StorageOrder1_IsRefused_NamingTheAttribute()
    {
        string path = Save(new OnnxTestModel(11).Input("X", 1, 1, 4, 4)
            .Node("MaxPool", ["X"], ["Y"], ("kernel_shape", new long[] { 2, 2 }), ("storage_order", 1L)).Output("Y"));
        var error = Assert.Throws<OnnxUnsupportedException>(() => OnnxImporter.Load(path, _cpu).Dispose())!;
        Assert.That(error.Attribute, Is.EqualTo("storage_order"));
        Assert.That(error.Message, Does.Contain("node 0 'maxpool_0' (MaxPool)").And.Contain("storage_order"));
    }

    // ---------------------------------------------------------------- dense, flatten, reshape

    // Flatten of (N,C,H,W) flattens in C,H,W order (ONNX); our NHWC data must be reordered first, so a Gemm after it sees ONNX's order.
    [Test]
    public void Flatten_Of4D_KeepsOnnxOrder_ForGemm_WithAlphaBetaTransB() => Check(new OnnxTestModel()
        .Input("X", 2, 3, 4, 5).Random("W", 21, 7, 60).Random("C", 22, 7)
        .Node("Flatten", ["X"], ["f"])
        .Node("Gemm", ["f", "W", "C"], ["Y"], ("transB", 1L), ("alpha", 0.5f), ("beta", 2f))
        .Output("Y"), X(2, 3, 4, 5));

    // The pattern exporters emit for x.view(x.size(0), -1): Shape → Gather(0) → Unsqueeze → Concat(−1) → Reshape.
    [Test]
    public void Reshape_FromShapeGatherConcat_IsFoldedAtImport() => Check(new OnnxTestModel()
        .Input("X", 2, 3, 4, 4).Random("W", 31, 2, 3, 3, 3)
        .Ints("zero", [0], []).Ints("axes0", [0], 1).Ints("minus1", [-1], 1)
        .Node("Conv", ["X", "W"], ["c"])
        .Node("Shape", ["c"], ["s"]).Node("Gather", ["s", "zero"], ["n"], ("axis", 0L))
        .Node("Unsqueeze", ["n", "axes0"], ["n1"]).Node("Concat", ["n1", "minus1"], ["shape"], ("axis", 0L))
        .Node("Reshape", ["c", "shape"], ["Y"]).Output("Y"), X(2, 3, 4, 4));

    [Test]
    public void Gemm_TransA_And_MatMul_And_Transpose_MatchOnnxRuntime() => Check(new OnnxTestModel()
        .Input("X", 6, 4).Random("B", 41, 6, 5).Random("M", 42, 5, 3)
        .Node("Gemm", ["X", "B"], ["g"], ("transA", 1L))
        .Node("MatMul", ["g", "M"], ["mm"])
        .Node("Transpose", ["mm"], ["Y"], ("perm", new long[] { 1, 0 }))
        .Output("Y"), X(6, 4));

    [Test]
    public void Transpose_Reshape_Squeeze_Unsqueeze_OnActivations_MatchOnnxRuntime() => Check(new OnnxTestModel()
        .Input("X", 2, 3, 4, 5).Ints("shape", [2, 4, 15], 3).Ints("axes", [1], 1)
        .Node("Transpose", ["X"], ["t"], ("perm", new long[] { 0, 2, 3, 1 }))
        .Node("Reshape", ["t", "shape"], ["r"])
        .Node("Unsqueeze", ["r", "axes"], ["u"])
        .Node("Relu", ["u"], ["v"])
        .Node("Squeeze", ["v", "axes"], ["Y"])
        .Output("Y"), X(2, 3, 4, 5));

    // ---------------------------------------------------------------- elementwise, softmax, LRN, pad

    [Test]
    public void Concat_Sum_PerChannelArithmetic_MatchOnnxRuntime() => Check(new OnnxTestModel()
        .Input("X", 2, 3, 5, 4).Random("W1", 51, 2, 3, 1, 1).Random("W2", 52, 4, 3, 3, 3)
        .Random("k", 53, 1, 6, 1, 1).Random("k2", 54, 6, 1, 1).Floats("two", [2f], [])
        .Node("Conv", ["X", "W1"], ["a"]).Node("Conv", ["X", "W2"], ["b"], ("pads", new long[] { 1, 1, 1, 1 }))
        .Node("Concat", ["a", "b"], ["c"], ("axis", 1L))
        .Node("Add", ["c", "k"], ["d"]).Node("Mul", ["d", "k2"], ["e"]).Node("Sub", ["two", "e"], ["f"]).Node("Div", ["f", "two"], ["g"])
        .Node("Sum", ["c", "g", "d"], ["Y"])
        .Output("Y"), X(2, 3, 5, 4));

    // Opset 13: softmax over the one axis (here the channel axis of NCHW data, the storage's last axis).
    // Opset 11: the input is coerced to 2-D at axis and softmax runs over all of C·H·W.
    [TestCase(13L, "Softmax")]
    [TestCase(13L, "LogSoftmax")]
    [TestCase(11L, "Softmax")]
    [TestCase(11L, "LogSoftmax")]
    public void Softmax_OnFourDimensions_FollowsTheOpsetsAxisRule(long opset, string op) => Check(new OnnxTestModel(opset)
        .Input("X", 2, 3, 4, 2).Node(op, ["X"], ["Y"], ("axis", 1L)).Output("Y"), X(2, 3, 4, 2));

    [Test]
    public void Softmax_Opset13_OverTheLastSpatialAxis_MatchesOnnxRuntime() => Check(new OnnxTestModel(13)
        .Input("X", 2, 3, 4, 5).Node("Softmax", ["X"], ["Y"], ("axis", -1L)).Output("Y"), X(2, 3, 4, 5));

    // ONNX Runtime accepts odd sizes only; the even-size window is checked against the definition in OnnxNormalizationKernelTests.
    [TestCase(5L, 1e-4f, 0.75f, 1f)]
    [TestCase(3L, 0.5f, 0.6f, 2f)]
    public void Lrn_MatchesOnnxRuntime(long size, float alpha, float beta, float bias) => Check(new OnnxTestModel()
        .Input("X", 1, 7, 3, 4).Node("LRN", ["X"], ["Y"], ("size", size), ("alpha", alpha), ("beta", beta), ("bias", bias)).Output("Y"), X(1, 7, 3, 4));

    [TestCase("reflect")]
    [TestCase("edge")]
    [TestCase("constant")]
    public void Pad_Opset11_PadsAsInput_MatchesOnnxRuntime(string mode) => Check(new OnnxTestModel(11)
        .Input("X", 1, 2, 5, 4).Ints("pads", [0, 0, 2, 1, 0, 0, 1, 3], 8)
        .Node("Pad", ["X", "pads"], ["Y"], ("mode", mode)).Output("Y"), X(1, 2, 5, 4));

    [Test]
    public void Pad_OnTheChannelAxis_IsRefused_NamingPads()
    {
        string path = Save(new OnnxTestModel(11).Input("X", 1, 2, 5, 4).Ints("pads", [0, 1, 0, 0, 0, 0, 0, 0], 8)
            .Node("Pad", ["X", "pads"], ["Y"]).Output("Y"));
        var error = Assert.Throws<OnnxUnsupportedException>(() => OnnxImporter.Load(path, _cpu).Dispose())!;
        Assert.That(error.Attribute, Is.EqualTo("pads"));
        Assert.That(error.Message, Does.Contain("(Pad)").And.Contain("channel"));
    }

    [Test]
    public void Dropout_And_Identity_PassThrough_AndLeakyReluDefaultsTo001() => Check(new OnnxTestModel(12)
        .Input("X", 3, 5).Node("Dropout", ["X"], ["d"]).Node("Identity", ["d"], ["i"]).Node("LeakyRelu", ["i"], ["Y"]).Output("Y"), X(3, 5));

    // ---------------------------------------------------------------- run-time behaviour

    // An intermediate that is both a graph output and read later must survive until the end of the run.
    [Test]
    public void IntermediateOutputs_AndSeveralOutputs_AreAllReturned() => Check(new OnnxTestModel()
        .Input("X", 1, 2, 4, 4).Random("W", 61, 3, 2, 3, 3)
        .Node("Conv", ["X", "W"], ["c"], ("pads", new long[] { 1, 1, 1, 1 })).Node("Relu", ["c"], ["r"])
        .Node("GlobalAveragePool", ["r"], ["g"]).Node("Flatten", ["g"], ["Y"])
        .Output("r").Output("Y").Output("c"), X(1, 2, 4, 4));

    // A symbolic batch dim: one plan per input shape, built when that shape is first run.
    [Test]
    public void SymbolicBatch_RunsAtSeveralBatchSizes()
    {
        var m = new OnnxTestModel().InputWithBatch("X", -1, 3, 5, 5).Random("W", 71, 4, 3, 3, 3)
            .Node("Conv", ["X", "W"], ["Y"]).Output("Y");
        Check(m, X(1, 3, 5, 5));
        Check(m, X(3, 3, 5, 5));
    }

    [Test]
    public void RunChannelsLast_EqualsRun_WithTheLayoutsSwapped()
    {
        string path = Save(new OnnxTestModel().Input("X", 2, 3, 5, 4).Random("W", 81, 4, 3, 3, 3)
            .Node("Conv", ["X", "W"], ["Y"], ("pads", new long[] { 1, 0, 1, 2 })).Output("Y"));
        using var model = OnnxImporter.Load(path, _cpu);
        float[] data = OnnxTestModel.RandomValues(2 * 3 * 5 * 4, 5);
        using var nchw = Tensor.FromArray(_cpu, data, 2, 3, 5, 4);
        using var nhwc = Ops.NchwToNhwc(nchw);
        using var a = model.Run(nchw);
        using var b = model.RunChannelsLast(nhwc);
        using var bAsNchw = Ops.NhwcToNchw(b);
        Assert.That(a.ToArray(), Is.EqualTo(bAsNchw.ToArray()));
    }

    [Test]
    public void ConvPoolGemm_AlsoMatchesOnIlgpuCpu()
    {
        using var ilgpu = IlgpuBackend.Create(IlgpuDeviceKind.Cpu);
        MatchesOnnxRuntime(new OnnxTestModel()
            .Input("X", 1, 3, 6, 6).Random("W", 91, 4, 3, 3, 3).Random("G", 92, 5, 16)
            .Node("Conv", ["X", "W"], ["c"], ("auto_pad", "SAME_UPPER")).Node("Relu", ["c"], ["r"])
            .Node("MaxPool", ["r"], ["p"], ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 3, 3 }))
            .Node("LRN", ["p"], ["l"], ("size", 3L))
            .Node("Flatten", ["l"], ["f"]).Node("Gemm", ["f", "G"], ["Y"], ("transB", 1L)).Output("Y"),
            [X(1, 3, 6, 6)], backend: ilgpu).Dispose();
    }

    // ---------------------------------------------------------------- refusals and format errors

    [Test]
    public void UnsupportedOperator_IsRefused_NamingNodeIndexAndOp()
    {
        string path = Save(new OnnxTestModel().Input("X", 1, 2, 3, 3).Random("W", 1, 2, 2, 3, 3)
            .Node("Relu", ["X"], ["r"]).Node("Erf", ["r"], ["Y"]).Output("Y"));
        var error = Assert.Throws<OnnxUnsupportedException>(() => OnnxImporter.Load(path, _cpu).Dispose())!;
        Assert.That((error.NodeIndex, error.NodeName, error.OpType), Is.EqualTo((1, "erf_1", "Erf")));
        Assert.That(error.Message, Does.Contain(path).And.Contain("node 1 'erf_1' (Erf)"));
    }

    [Test]
    public void ConcatAlongASpatialAxis_IsRefused()
    {
        string path = Save(new OnnxTestModel().Input("X", 1, 2, 3, 3).Node("Concat", ["X", "X"], ["Y"], ("axis", 2L)).Output("Y"));
        var error = Assert.Throws<OnnxUnsupportedException>(() => OnnxImporter.Load(path, _cpu).Dispose())!;
        Assert.That(error.Attribute, Is.EqualTo("axis"));
    }

    [Test]
    public void TruncatedFile_IsAFormatError_NamingTheFile()
    {
        var model = new OnnxTestModel().Input("X", 1, 2, 3, 3).Random("W", 1, 4, 2, 3, 3).Node("Conv", ["X", "W"], ["Y"]).Output("Y");
        byte[] bytes = model.Bytes();
        string path = Path.Combine(Path.GetTempPath(), $"convengine-truncated-{Guid.NewGuid():N}.onnx");
        _files.Add(path);
        // Cut inside the weight tensor's 72 floats (found by their bytes), not in the declarations after it: either
        // protobuf reports the truncation or the tensor's length check does.
        var weights = model.Proto().Graph.Initializer.Single(t => t.Name == "W");
        byte[] first = weights.RawData.Length > 0 ? weights.RawData.Span[..16].ToArray()
            : weights.FloatData.Take(4).SelectMany(BitConverter.GetBytes).ToArray();
        int start = bytes.AsSpan().IndexOf(first);
        Assert.That(start, Is.GreaterThan(0), "the weights' bytes are in the file");
        File.WriteAllBytes(path, bytes[..(start + 72 * sizeof(float) / 2)]);
        var error = Assert.Throws<OnnxFormatException>(() => OnnxImporter.Load(path, _cpu).Dispose())!;
        Assert.That(error.Message, Does.Contain(path));
    }

    // Fuzz run seed 3, onnx case 1094 (2026-12-04): a variance of -Inf was refused without the file's name; folded into
    // a conv, a negative variance gave NaN weights silently.
    [TestCase(-1f, false)]
    [TestCase(float.NegativeInfinity, false)]
    [TestCase(float.NaN, false)]
    [TestCase(-1f, true)]
    [TestCase(float.NaN, true)]
    public void BatchNormWithAVarianceThatIsNotPositive_IsAFormatError_NamingTheFileAndNode(float variance, bool afterConv)
    {
        var m = new OnnxTestModel().Input("X", 1, 2, 3, 3)
            .Random("gamma", 13, 2).Random("beta", 14, 2).Random("mean", 15, 2).Floats("var", [0.5f, variance], 2);
        if (afterConv) m.Random("W", 11, 2, 2, 1, 1).Node("Conv", ["X", "W"], ["c"]);
        m.Node("BatchNormalization", [afterConv ? "c" : "X", "gamma", "beta", "mean", "var"], ["Y"]).Output("Y");
        string path = m.Save();
        _files.Add(path);
        var error = Assert.Throws<OnnxFormatException>(() => OnnxImporter.Load(path, _cpu).Dispose())!;
        Assert.That(error.Message, Does.Contain(path).And.Contain("(BatchNormalization)").And.Contain("channel 1"));
    }

    [Test]
    public void InitializerShorterThanItsDims_IsAFormatError_NamingTheTensor()
    {
        var m = new OnnxTestModel().Input("X", 1, 2, 3, 3).Node("Conv", ["X", "W"], ["Y"]).Output("Y");
        var proto = m.Proto();
        proto.Graph.Initializer.Add(OnnxTestModel.FloatTensor("W", new float[10], 4, 2, 3, 3)); // 72 values declared, 10 present
        string path = Path.Combine(Path.GetTempPath(), $"convengine-short-{Guid.NewGuid():N}.onnx");
        _files.Add(path);
        File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(proto));
        var error = Assert.Throws<OnnxFormatException>(() => OnnxImporter.Load(path, _cpu).Dispose())!;
        Assert.That(error.Message, Does.Contain("tensor 'W'").And.Contain("40 bytes").And.Contain("288"));
    }

    [Test]
    public void FileOverTheLimit_IsRefusedBeforeReading()
    {
        string path = Save(new OnnxTestModel().Input("X", 2, 2).Node("Relu", ["X"], ["Y"]).Output("Y"));
        var error = Assert.Throws<OnnxFormatException>(() => OnnxImporter.Load(path, _cpu, new OnnxImportOptions { MaxFileBytes = 16 }).Dispose())!;
        Assert.That(error.Message, Does.Contain(path).And.Contain("16"));
    }

    [Test]
    public void NodeReadingAnUnknownValue_IsAFormatError_NamingTheNode()
    {
        string path = Save(new OnnxTestModel().Input("X", 2, 2).Node("Add", ["X", "nowhere"], ["Y"]).Output("Y"));
        var error = Assert.Throws<OnnxFormatException>(() => OnnxImporter.Load(path, _cpu).Dispose())!;
        Assert.That(error.Message, Does.Contain("node 0 'add_0' (Add)").And.Contain("'nowhere'"));
    }

    [Test]
    public void MissingOrEmptyFile_AreClearErrors()
    {
        Assert.Throws<FileNotFoundException>(() => OnnxImporter.Load("/no/such/model.onnx", _cpu));
        string empty = Path.Combine(Path.GetTempPath(), $"convengine-empty-{Guid.NewGuid():N}.onnx");
        _files.Add(empty);
        File.WriteAllBytes(empty, []);
        Assert.That(Assert.Throws<OnnxFormatException>(() => OnnxImporter.Load(empty, _cpu))!.Message, Does.Contain("empty"));
    }

    [Test]
    public void InputOfTheWrongShape_IsRefused_NamingTheDeclaredShape()
    {
        string path = Save(new OnnxTestModel().Input("X", 1, 3, 4, 4).Node("Relu", ["X"], ["Y"]).Output("Y"));
        using var model = OnnxImporter.Load(path, _cpu);
        using var wrong = Tensor.Zeros(_cpu, 1, 4, 4, 3);
        var error = Assert.Throws<ArgumentException>(() => model.Run(wrong).Dispose())!;
        Assert.That(error.Message, Does.Contain("X (1, 3, 4, 4)").And.Contain("(1, 4, 4, 3)"));
    }
}
