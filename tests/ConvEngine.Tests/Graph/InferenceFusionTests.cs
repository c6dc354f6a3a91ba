using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.Reference;
using ConvEngine.Training;
using NUnit.Framework;

namespace ConvEngine.Tests.Graph;

/// <summary>
/// Model inference on the cpu backend, where convs keep a packed filter and run fused into the residual Add (and the
/// activation after it) or the Concatenate they feed: the outputs against the double-precision reference computed from
/// the layers' weights, the profile naming the node each fused layer ran in (so the fused path is the one checked), and
/// the packed filters following every change of the weights.
/// </summary>
public class InferenceFusionTests
{
    private static Conv2DOptions Same(KernelActivation activation = default, int groups = 1) =>
        new() { Padding = Padding.Same, Groups = groups, Activation = activation };

    private static Nd Weights(Parameter p) => Nd.FromFloats(p.ToArray(), p.Shape.ToArray());

    /// <summary>The double reference of a Conv2D layer with the weights it holds now.</summary>
    private static Nd Conv(Nd x, Conv2D layer, KernelActivation activation = default) =>
        DoubleReference.Conv2D(x, Weights(layer.Kernel!), layer.Bias is null ? null : Weights(layer.Bias).Data,
            Same(activation, layer.Groups) with { StrideH = layer.Strides.Height, StrideW = layer.Strides.Width });

    /// <summary>Keras BatchNormalization at inference on the last axis, from the layer's weights.</summary>
    private static Nd BatchNorm(Nd x, BatchNormalization bn)
    {
        int channels = x.Shape[^1];
        var y = GraphReference.Normalize(x.Data, channels, Weights(bn.MovingMean!).Data, Weights(bn.MovingVariance!).Data, bn.Epsilon,
            bn.Gamma is null ? null : Weights(bn.Gamma).Data, bn.Beta is null ? null : Weights(bn.Beta).Data);
        return x.WithData(y);
    }

    /// <summary>Moving statistics, γ and β away from their initial values, so a fold that dropped one of them shows.</summary>
    private static void Randomize(BatchNormalization bn, int seed)
    {
        int c = bn.Channels;
        bn.MovingMean!.Assign(GraphReference.Uniform(c, seed));
        bn.MovingVariance!.Assign(GraphReference.Uniform(c, seed + 1, 0.3f, 2f));
        bn.Gamma?.Assign(GraphReference.Uniform(c, seed + 2, 0.5f, 1.5f));
        bn.Beta?.Assign(GraphReference.Uniform(c, seed + 3));
    }

    private static void AssertClose(float[] got, Nd expected, string what)
    {
        Assert.That(got, Has.Length.EqualTo(expected.Length), what);
        double scale = expected.Data.Max(Math.Abs);
        for (int i = 0; i < got.Length; i++)
            Assert.That(got[i], Is.EqualTo(expected.Data[i]).Within(1e-5 * (1 + scale)), $"{what}: element {i}");
    }

    private static float[] Predict(Model model, CpuBackend backend, float[] x, int batch)
    {
        using var input = Tensor.FromArray(backend, x, [batch, .. model.InputShape]);
        using var output = Tensor.Zeros(backend, [batch, .. model.OutputShape]);
        model.Predict(input, output);
        return output.ToArray();
    }

    private static Dictionary<string, string?> RunsIn(Model model, CpuBackend backend, float[] x, int batch)
    {
        using var input = Tensor.FromArray(backend, x, [batch, .. model.InputShape]);
        return model.ProfilePredict(input, runs: 1).ToDictionary(t => t.Layer, t => t.RunsIn);
    }

    // A residual block as ResNet's: relu(conv(relu(conv(x))) + x), then a projection shortcut whose conv is the Add's first
    // operand, and a residual sum that ends the model (no activation after it).
    [TestCase(1)]
    [TestCase(3)]
    public void ResidualAdd_RunsInTheConv_MatchesTheReference(int batch)
    {
        using var backend = new CpuBackend(threads: 2);
        var input = new InputLayer([7, 6, 8], "x");
        var c1 = new Conv2D(8, 3, padding: "same", activation: "relu", name: "c1");
        var c2 = new Conv2D(8, 3, padding: "same", name: "c2");
        var sum1 = new Add(name: "sum1").Apply(c2.Apply(c1.Apply(input)), input);
        var relu1 = new Activation("relu", "relu1").Apply(sum1);
        var project = new Conv2D(12, 1, name: "project");
        var c3 = new Conv2D(12, 3, padding: "same", name: "c3");
        var sum2 = new Add(name: "sum2").Apply(project.Apply(relu1), c3.Apply(relu1));
        var relu2 = new Activation("relu", "relu2").Apply(sum2);
        var c4 = new Conv2D(12, 3, padding: "same", groups: 4, name: "c4");
        var sum3 = new Add(name: "sum3").Apply(relu2, c4.Apply(relu2));
        using var model = new Model(input, sum3, backend: backend, seed: 4);
        model.Initialize();
        foreach (var conv in new[] { c1, c2, project, c3, c4 })
            conv.Bias!.Assign(GraphReference.Uniform(conv.Filters, conv.Filters + 7));
        float[] x = GraphReference.Uniform(batch * 7 * 6 * 8, 11);

        var xs = Nd.FromFloats(x, batch, 7, 6, 8);
        var r1 = DoubleReference.Activate(DoubleReference.Add(Conv(Conv(xs, c1, KernelActivation.Relu), c2).Data, xs.Data), KernelActivation.Relu);
        var n1 = xs.WithData(r1);
        var r2 = new Nd(DoubleReference.Activate(DoubleReference.Add(Conv(n1, project).Data, Conv(n1, c3).Data), KernelActivation.Relu), batch, 7, 6, 12);
        var expected = r2.WithData(DoubleReference.Add(r2.Data, Conv(r2, c4).Data));
        AssertClose(Predict(model, backend, x, batch), expected, "output");

        var runsIn = RunsIn(model, backend, x, batch);
        Assert.That(runsIn["c2"], Is.EqualTo("sum1"), "c2 runs in the residual sum");
        Assert.That(runsIn["relu1"], Is.EqualTo("sum1"), "the relu after it too");
        Assert.That(runsIn["c3"], Is.EqualTo("sum2"), "one conv of a sum of two convs");
        Assert.That(runsIn["project"], Is.Null, "the other runs on its own");
        Assert.That(runsIn["c4"], Is.EqualTo("sum3"), "a grouped conv, second operand of the sum that ends the model");
        Assert.That(runsIn["c1"], Is.Null, "a conv read by a conv is not moved");
    }

    // Inception-like: 1×1, 3×3 and pool→1×1 branches and the max pool itself joined on channels, then a conv reads the join.
    [TestCase(1)]
    [TestCase(2)]
    public void Concatenate_ConvsWriteTheirChannelsInPlace_MatchesTheReference(int batch)
    {
        using var backend = new CpuBackend(threads: 2);
        var input = new InputLayer([6, 5, 6], "x");
        var b1 = new Conv2D(5, 1, activation: "relu", name: "b1");
        var b2 = new Conv2D(7, 3, padding: "same", name: "b2");
        var pool = new MaxPool2D(3, strides: 1, padding: "same", name: "pool");
        var b3 = new Conv2D(4, 1, activation: "sigmoid", name: "b3");
        var pooled = pool.Apply(input);
        var joined = new Concatenate(name: "join").Apply(b1.Apply(input), pooled, b2.Apply(input), b3.Apply(pooled));
        var head = new Conv2D(3, 3, padding: "same", activation: "tanh", name: "head");
        using var model = new Model(input, head.Apply(joined), backend: backend, seed: 9);
        model.Initialize();
        foreach (var conv in new[] { b1, b2, b3, head })
            conv.Bias!.Assign(GraphReference.Uniform(conv.Filters, conv.Filters + 3));
        float[] x = GraphReference.Uniform(batch * 6 * 5 * 6, 5);

        var xs = Nd.FromFloats(x, batch, 6, 5, 6);
        var pooledRef = DoubleReference.Pool2D(xs, Pool2DOptions.Square(3, 1, Padding.Same), PoolKind.Max);
        var joinedRef = DoubleReference.Concat(Conv(xs, b1, KernelActivation.Relu), pooledRef, Conv(xs, b2), Conv(pooledRef, b3, KernelActivation.Sigmoid));
        AssertClose(Predict(model, backend, x, batch), Conv(joinedRef, head, KernelActivation.Tanh), "output");

        var runsIn = RunsIn(model, backend, x, batch);
        Assert.That(new[] { runsIn["b1"], runsIn["b2"], runsIn["b3"] }, Is.All.EqualTo("join"), "the branch convs write into the join");
        Assert.That(runsIn["pool"], Is.Null, "the pool is copied in: it also feeds b3");
    }

    // Keras's conv2d_bn (conv without bias → BatchNormalization(scale=False) → relu) alone, a conv with bias → full batch
    // norm → Concatenate, and conv → batch norm → Add → relu (ResNet's unfolded block): the batch norm folds into the conv.
    [TestCase(1)]
    [TestCase(2)]
    public void BatchNormChains_FoldIntoTheConv_MatchTheReference(int batch)
    {
        using var backend = new CpuBackend(threads: 2);
        var input = new InputLayer([6, 7, 5], "x");
        var stem = new Conv2D(8, 3, padding: "same", useBias: false, name: "stem");
        var stemBn = new BatchNormalization(scale: false, name: "stem_bn");
        var h = new Activation("relu", "stem_relu").Apply(stemBn.Apply(stem.Apply(input)));
        var left = new Conv2D(6, 1, name: "left");
        var leftBn = new BatchNormalization(epsilon: 0.01, name: "left_bn");
        var right = new Conv2D(4, 3, padding: "same", activation: "relu", name: "right");
        var joined = new Concatenate(name: "join").Apply(leftBn.Apply(left.Apply(h)), right.Apply(h));
        var body = new Conv2D(10, 3, padding: "same", name: "body");
        var bodyBn = new BatchNormalization(name: "body_bn");
        var sum = new Add(name: "sum").Apply(joined, bodyBn.Apply(body.Apply(joined)));
        var output = new Conv2D(3, 1, name: "out").Apply(new Activation("relu", "sum_relu").Apply(sum));
        using var model = new Model(input, output, backend: backend, seed: 12);
        model.Initialize();
        int seed = 50;
        foreach (var bn in new[] { stemBn, leftBn, bodyBn }) Randomize(bn, seed += 10);
        foreach (var conv in new[] { left, right, body }) conv.Bias!.Assign(GraphReference.Uniform(conv.Filters, seed++));
        float[] x = GraphReference.Uniform(batch * 6 * 7 * 5, 13);

        var xs = Nd.FromFloats(x, batch, 6, 7, 5);
        var hs = BatchNorm(Conv(xs, stem), stemBn);
        hs = hs.WithData(DoubleReference.Activate(hs.Data, KernelActivation.Relu));
        var joinedRef = DoubleReference.Concat(BatchNorm(Conv(hs, left), leftBn), Conv(hs, right, KernelActivation.Relu));
        var sumRef = joinedRef.WithData(DoubleReference.Activate(DoubleReference.Add(joinedRef.Data, BatchNorm(Conv(joinedRef, body), bodyBn).Data), KernelActivation.Relu));
        var outConv = (Conv2D)model.GetLayer("out");
        AssertClose(Predict(model, backend, x, batch), Conv(sumRef, outConv), "output");

        var runsIn = RunsIn(model, backend, x, batch);
        Assert.That(new[] { runsIn["stem"], runsIn["stem_bn"], runsIn["stem_relu"] }, Is.EqualTo(new[] { "stem_relu", "stem_relu", null }), "conv2d_bn runs as one conv");
        Assert.That(new[] { runsIn["left"], runsIn["left_bn"], runsIn["right"] }, Is.All.EqualTo("join"), "the join's chains write into it");
        Assert.That(new[] { runsIn["body"], runsIn["body_bn"], runsIn["sum_relu"] }, Is.All.EqualTo("sum"), "conv → batch norm runs at the sum");
    }

    // The packed (and batch-norm-folded) filter is prepared again after every kind of weight change: assignments, training
    // steps (which move the batch norm's statistics too), a new batch size, another kernel selected.
    [Test]
    public void PackedFilters_FollowTheWeights()
    {
        using var backend = new CpuBackend(threads: 2);
        var input = new InputLayer([6, 6, 3], "x");
        var c1 = new Conv2D(16, 3, padding: "same", name: "c1");
        var bn1 = new BatchNormalization(name: "bn1");
        var c2 = new Conv2D(16, 3, padding: "same", name: "c2");
        var c3 = new Conv2D(16, 1, name: "c3");
        var body = new Activation("relu", "relu1").Apply(bn1.Apply(c1.Apply(input)));
        var sum = new Add(name: "sum").Apply(c2.Apply(body), c3.Apply(body));
        var head = new Dense(2, name: "head").Apply(new Flatten(name: "flat").Apply(sum));
        using var model = new Model(input, head, backend: backend, seed: 2);
        model.Compile("adam", "mse");
        float[] x = GraphReference.Uniform(2 * 6 * 6 * 3, 21);

        Nd Expected(int batch, float[] values)
        {
            var xs = Nd.FromFloats(values, batch, 6, 6, 3);
            var h = BatchNorm(Conv(xs, c1), bn1);
            h = h.WithData(DoubleReference.Activate(h.Data, KernelActivation.Relu));
            var s = DoubleReference.Add(Conv(h, c2).Data, Conv(h, c3).Data);
            var dense = (Dense)model.GetLayer("head");
            return DoubleReference.Dense(new Nd(s, batch, 6 * 6 * 16), Weights(dense.Kernel!), Weights(dense.Bias!).Data);
        }

        AssertClose(Predict(model, backend, x, 2), Expected(2, x), "first run");
        Assert.That(RunsIn(model, backend, x, 2)["bn1"], Is.EqualTo("relu1"), "the batch norm is folded");
        Randomize(bn1, 70);
        AssertClose(Predict(model, backend, x, 2), Expected(2, x), "after new batch norm weights");
        c2.Kernel!.Assign(GraphReference.Uniform((int)c2.Kernel.Length, 33));
        c1.Kernel!.Assign(GraphReference.Uniform((int)c1.Kernel.Length, 34));
        AssertClose(Predict(model, backend, x, 2), Expected(2, x), "after Assign");
        for (int step = 0; step < 2; step++)
            model.TrainOnBatch(new Batch(x, [2, 6, 6, 3], GraphReference.Uniform(4, 40 + step), [2, 2]));
        AssertClose(Predict(model, backend, x, 2), Expected(2, x), "after training steps (moving statistics, γ and β too)");
        float[] one = x[..(6 * 6 * 3)];
        AssertClose(Predict(model, backend, one, 1), Expected(1, one), "batch 1");
        backend.Variants.Select("conv2d", CpuBackend.DirectConvVariant);
        AssertClose(Predict(model, backend, x, 2), Expected(2, x), "another conv kernel selected");
    }

    // A Sequential grows after it has run: the fusions are found again for the new graph (the batch norm that ended the
    // model now folds into a chain with the activation added after it).
    [Test]
    public void Sequential_GrownAfterARun_FusesTheNewGraph()
    {
        using var backend = new CpuBackend(threads: 2);
        var conv = new Conv2D(6, 3, padding: "same", name: "conv");
        var bn = new BatchNormalization(name: "bn");
        using var model = new Sequential(backend: backend, seed: 3) { new InputLayer(5, 4, 3), conv, bn };
        model.Initialize();
        Randomize(bn, 90);
        float[] x = GraphReference.Uniform(2 * 5 * 4 * 3, 14);
        var expected = BatchNorm(Conv(Nd.FromFloats(x, 2, 5, 4, 3), conv), bn);
        AssertClose(Predict(model, backend, x, 2), expected, "conv → batch norm");

        model.Add(new Activation("relu", "relu"));
        model.Add(new Conv2D(2, 1, name: "head"));
        var head = (Conv2D)model.GetLayer("head");
        model.Initialize();
        var relu = expected.WithData(DoubleReference.Activate(expected.Data, KernelActivation.Relu));
        AssertClose(Predict(model, backend, x, 2), Conv(relu, head), "after adding relu and a head");
        Assert.That(RunsIn(model, backend, x, 2)["bn"], Is.EqualTo("relu"));
    }

    // Training passes, and passes that look at every node, run the layers one by one: feature maps still see each conv's own output.
    [Test]
    public void FeatureMaps_SeeTheConvBeforeTheSum()
    {
        using var backend = new CpuBackend(threads: 2);
        var input = new InputLayer([5, 5, 4], "x");
        var conv = new Conv2D(4, 3, padding: "same", name: "conv");
        using var model = new Model(input, new Activation("relu", "relu").Apply(new Add(name: "sum").Apply(conv.Apply(input), input)),
            backend: backend, seed: 6);
        model.Initialize();
        float[] x = GraphReference.Uniform(5 * 5 * 4, 8);
        var maps = ConvEngine.Inspection.FeatureMaps.Of(model, x, 1, "conv");
        try
        {
            AssertClose(maps[0].Values.ToArray(), Conv(Nd.FromFloats(x, 1, 5, 5, 4), conv), "conv's own output");
        }
        finally
        {
            foreach (var map in maps) map.Dispose();
        }
    }
}
