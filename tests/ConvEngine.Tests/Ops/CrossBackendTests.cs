using ConvEngine.Kernels;
using ConvEngine.Kernels.Cpu;
using ConvEngine.Kernels.Geometry;
using NUnit.Framework;

namespace ConvEngine.Tests.OpTests;

/// <summary>
/// ARCHITECTURE.md decision 5, third check: the same op on the same data gives the same numbers on cpu and
/// ilgpu-cpu, for every forward and training op (small shapes: ILGPU's CPU accelerator simulates GPU threads).
/// Dropout must agree bit for bit, since both draw from the same counter-based hash.
/// </summary>
public class CrossBackendTests
{
    /// <summary>An op run on one backend from seeded data; returns every output it writes.</summary>
    public sealed record Scenario(string Name, int ReductionLength, Func<IBackend, float[][]> Run, bool BitExact = false)
    {
        public override string ToString() => Name;
    }

    private static float[] Rand(int seed, long length, float lo = -1, float hi = 1) => TestData.Uniform(new Random(seed), length, lo, hi);

    /// <summary>Uploads inputs and garbage-filled outputs, runs the kernel, downloads the outputs.</summary>
    private static float[][] Kernel(IBackend backend, float[][] inputs, long[] outputLengths, Action<DeviceBuffer[], DeviceBuffer[]> run)
    {
        var ins = inputs.Select(d => Device.Put(backend, d)).ToArray();
        var outs = outputLengths.Select(n => Device.Garbage(backend, n)).ToArray();
        try
        {
            run(ins.Select(t => t.Buffer).ToArray(), outs.Select(t => t.Buffer).ToArray());
            return outs.Select(t => t.ToArray()).ToArray();
        }
        finally
        {
            foreach (var t in ins.Concat(outs)) t.Dispose();
        }
    }

    private static float[][] Forward(IBackend backend, Func<IBackend, Tensor> op)
    {
        using var y = op(backend);
        return [y.ToArray()];
    }

    private static Tensor T(IBackend b, int seed, params int[] dims) => Tensor.FromArray(b, Rand(seed, dims.Aggregate(1L, (x, y) => x * y)), dims);

    private static readonly (string Name, int[] X, int[] F, Conv2DOptions O)[] Convs =
    [
        ("s2 same bias relu", [1, 5, 6, 3], [3, 3, 3, 4], new Conv2DOptions { Padding = Padding.Same, Activation = KernelActivation.Relu }.WithStrides(2)),
        ("depthwise d2 same", [1, 6, 6, 4], [3, 3, 1, 4], new Conv2DOptions { Padding = Padding.Same, Groups = 4 }.WithDilation(2)),
        ("explicit s2 groups 2", [2, 6, 5, 2], [2, 3, 1, 4], new Conv2DOptions { Padding = Padding.Explicit(1, 0, 2, 1), Groups = 2 }.WithStrides(2)),
    ];

    private static readonly (string Name, Pool2DOptions O)[] Pools =
    [
        ("3x3 s2 same", Pool2DOptions.Square(3, 2, Padding.Same)),
        ("2x2 valid", new Pool2DOptions()),
        ("3x3 s2 explicit 1 ceil include-pad", Pool2DOptions.Square(3, 2, Padding.Explicit(1)) with { CeilMode = true, CountIncludePad = true }),
    ];

    private static readonly KernelActivation[] Activations =
        [KernelActivation.None, KernelActivation.Relu, KernelActivation.LeakyRelu(), KernelActivation.Sigmoid, KernelActivation.Tanh];

    public static IEnumerable<Scenario> Scenarios()
    {
        // ---- forward, through Ops
        foreach (var (name, xd, fd, o) in Convs)
        {
            yield return new($"Conv2D {name}", fd[0] * fd[1] * fd[2], b =>
            {
                using var x = T(b, 1, xd);
                using var f = T(b, 2, fd);
                using var bias = T(b, 3, fd[3]);
                return Forward(b, _ => Ops.Conv2D(x, f, bias, o));
            });
        }
        yield return new("Conv1D causal d2", 6, b =>
        {
            using var x = T(b, 4, 2, 9, 2);
            using var f = T(b, 5, 3, 2, 3);
            return Forward(b, _ => Ops.Conv1D(x, f, null, dilation: 2, padding: Padding.Causal));
        });
        foreach (var kind in new[] { PoolKind.Max, PoolKind.Average })
            foreach (var (name, o) in Pools)
                yield return new($"Pool2D {kind} {name}", 9, b =>
                {
                    using var x = T(b, 6, 2, 7, 6, 3);
                    return Forward(b, _ => kind == PoolKind.Max ? Ops.MaxPool2D(x, o) : Ops.AveragePool2D(x, o));
                });
        yield return new("GlobalAveragePool2D", 20, b => { using var x = T(b, 7, 2, 4, 5, 3); return Forward(b, _ => Ops.GlobalAveragePool2D(x)); });
        yield return new("GlobalMaxPool2D", 1, b => { using var x = T(b, 7, 2, 4, 5, 3); return Forward(b, _ => Ops.GlobalMaxPool2D(x)); });
        yield return new("Dense sigmoid bias", 10, b =>
        {
            using var x = T(b, 8, 3, 10);
            using var w = T(b, 9, 10, 4);
            using var bias = T(b, 10, 4);
            return Forward(b, _ => Ops.Dense(x, w, bias, KernelActivation.Sigmoid));
        });
        foreach (var a in Activations)
            yield return new($"Activate {a}", 1, b => { using var x = T(b, 11, 37); return Forward(b, _ => Ops.Activate(x, a)); });
        yield return new("Softmax", 7, b => { using var x = T(b, 12, 3, 7); return Forward(b, _ => Ops.Softmax(x)); });
        yield return new("LogSoftmax", 7, b => { using var x = T(b, 12, 3, 7); return Forward(b, _ => Ops.LogSoftmax(x)); });
        yield return new("Add", 1, b =>
        {
            using var x = T(b, 13, 2, 3, 3, 2);
            using var y = T(b, 14, 2, 3, 3, 2);
            return Forward(b, _ => Ops.Add(x, y));
        });
        yield return new("Concat", 1, b =>
        {
            using var x = T(b, 15, 1, 3, 3, 2);
            using var y = T(b, 16, 1, 3, 3, 5);
            using var z = T(b, 17, 1, 3, 3, 1);
            return Forward(b, _ => Ops.Concat(x, y, z));
        });
        foreach (var mode in Enum.GetValues<PadMode>())
            yield return new($"Pad2D {mode}", 1, b => { using var x = T(b, 18, 1, 4, 5, 2); return Forward(b, _ => Ops.Pad2D(x, 2, 1, 0, 3, mode)); });

        // ---- training kernels, called directly
        foreach (var (name, xd, fd, o) in Convs)
        {
            var g = Conv2DGeometry.Create("Conv2D", new TensorShape(xd), new TensorShape(fd), o);
            yield return new($"Conv2DBackwardData {name}", fd[0] * fd[1] * fd[3], b =>
                Kernel(b, [Rand(20, g.OutputShape.Length), Rand(21, g.FilterShape.Length)], [g.InputShape.Length],
                    (i, r) => b.Conv2DBackwardData(i[0], i[1], r[0], g)));
            yield return new($"Conv2DBackwardFilter {name}", g.N * g.OH * g.OW, b =>
                Kernel(b, [Rand(22, g.InputShape.Length), Rand(20, g.OutputShape.Length)], [g.FilterShape.Length],
                    (i, r) => b.Conv2DBackwardFilter(i[0], i[1], r[0], g)));
        }
        yield return new("BiasBackward", 30, b => Kernel(b, [Rand(23, 30 * 5)], [5], (i, r) => b.BiasBackward(i[0], r[0], 30, 5)));
        foreach (var kind in new[] { PoolKind.Max, PoolKind.Average })
            foreach (var (name, o) in Pools)
            {
                var g = Pool2DGeometry.Create("Pool2D", new TensorShape(2, 7, 6, 3), o);
                yield return new($"Pool2DBackward {kind} {name}", 9, b =>
                    Kernel(b, [TestData.Distinct(new Random(24), g.InputShape.Length), Rand(25, g.OutputShape.Length)], [g.InputShape.Length],
                        (i, r) => b.Pool2DBackward(i[0], i[1], r[0], g, kind)));
            }
        foreach (var kind in new[] { PoolKind.Max, PoolKind.Average })
            yield return new($"GlobalPoolBackward {kind}", 1, b =>
                Kernel(b, [TestData.Distinct(new Random(26), 2 * 20 * 3), Rand(27, 2 * 3)], [2 * 20 * 3],
                    (i, r) => b.GlobalPoolBackward(i[0], i[1], r[0], 2, 20, 3, kind)));
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                yield return new($"MatMul{(ta ? " aT" : "")}{(tb ? " bT" : "")} accumulate", 9, b =>
                {
                    // c is both input (accumulated into) and output: upload it, then read it back.
                    using var c = Device.Put(b, Rand(30, 5 * 7));
                    Kernel(b, [Rand(28, 5 * 9), Rand(29, 9 * 7)], [], (i, _) => b.MatMul(i[0], i[1], c.Buffer, 5, 9, 7, ta, tb, accumulate: true));
                    return [c.ToArray()];
                });
        foreach (var a in Activations)
            yield return new($"ActivationBackward {a}", 1, b =>
            {
                using var x = T(b, 31, 37);
                using var y = Ops.Activate(x, a);
                return Kernel(b, [y.ToArray(), Rand(32, 37)], [37], (i, r) => b.ActivationBackward(i[0], i[1], r[0], 37, a));
            });
        foreach (bool log in new[] { false, true })
            yield return new($"SoftmaxBackward{(log ? " log" : "")}", 7, b =>
            {
                using var x = T(b, 33, 3, 7);
                using var y = log ? Ops.LogSoftmax(x) : Ops.Softmax(x);
                return Kernel(b, [y.ToArray(), Rand(34, 21)], [21], (i, r) => b.SoftmaxBackward(i[0], i[1], r[0], 3, 7, log));
            });
        yield return new("Split", 1, b => Kernel(b, [Rand(35, 9 * 8)], [9 * 2, 9 * 5, 9 * 1],
            (i, r) => b.Split(i[0], r, [2, 5, 1], 9)));
        foreach (var mode in Enum.GetValues<PadMode>())
        {
            var g = Pad2DGeometry.Create("Pad2D", new TensorShape(1, 4, 5, 2), 2, 1, 0, 3, mode);
            yield return new($"Pad2DBackward {mode}", 4, b => Kernel(b, [Rand(36, g.OutputShape.Length)], [g.InputShape.Length],
                (i, r) => b.Pad2DBackward(i[0], r[0], g, mode)));
        }
        yield return new("Multiply", 1, b => Kernel(b, [Rand(37, 41), Rand(38, 41)], [41], (i, r) => b.Multiply(i[0], i[1], r[0], 41)));
        yield return new("Axpy", 2, b =>
        {
            using var y = Device.Put(b, Rand(40, 41));
            Kernel(b, [Rand(39, 41)], [], (i, _) => b.Axpy(0.75f, i[0], y.Buffer, 41));
            return [y.ToArray()];
        });
        yield return new("Fill", 1, b => Kernel(b, [], [41], (_, r) => b.Fill(r[0], 3.5f, 40)), BitExact: true);
        yield return new("Dropout", 1, b => Kernel(b, [Rand(41, 500)], [500, 500],
            (i, r) => b.Dropout(i[0], r[0], r[1], 500, 0.3f, 77)), BitExact: true);
        foreach (var kind in Enum.GetValues<LossKind>())
            yield return new($"Loss {kind}", 5, b =>
            {
                float[] prediction = kind switch
                {
                    LossKind.BinaryCrossEntropy => Rand(42, 20, 0.05f, 0.95f),
                    LossKind.CategoricalCrossEntropy => Rand(42, 20, 0.05f, 0.5f),
                    _ => Rand(42, 20, -3, 3),
                };
                float[] target = kind switch
                {
                    LossKind.SoftmaxSparseCategoricalCrossEntropy => [0, 3, 4, 1],
                    LossKind.MeanSquaredError => Rand(43, 20),
                    _ => [1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0],
                };
                return Kernel(b, [prediction, target], [4, 20], (i, r) => b.Loss(kind, i[0], i[1], r[0], r[1], 4, 5));
            });
        yield return new("AdamUpdate ×2, epsilon 0.01", 1, b =>
        {
            using var theta = Device.Put(b, Rand(44, 33));
            using var m = Device.Put(b, new float[33]);
            using var v = Device.Put(b, new float[33]);
            for (int step = 1; step <= 2; step++)
            {
                float stepSize = (float)(0.001 * Math.Sqrt(1 - Math.Pow(0.999, step)) / (1 - Math.Pow(0.9, step)));
                Kernel(b, [Rand(44 + step, 33, -0.05f, 0.05f)], [], (i, _) => b.AdamUpdate(theta.Buffer, i[0], m.Buffer, v.Buffer, 33, stepSize, 0.9f, 0.999f, 0.01f));
            }
            return [theta.ToArray(), m.ToArray(), v.ToArray()];
        });
        yield return new("SgdUpdate ×2, Nesterov", 1, b =>
        {
            using var theta = Device.Put(b, Rand(47, 33));
            using var velocity = Device.Put(b, new float[33]);
            for (int step = 1; step <= 2; step++)
                Kernel(b, [Rand(47 + step, 33)], [], (i, _) => b.SgdUpdate(theta.Buffer, i[0], velocity.Buffer, 33, 0.01f, 0.9f, nesterov: true));
            return [theta.ToArray(), velocity.ToArray()];
        });
    }

    private static IEnumerable<TestCaseData> Cases() =>
        from name in BackendCases.IlgpuNames
        from s in Scenarios()
        select new TestCaseData(name, s).SetArgDisplayNames(name, s.Name);

    /// <summary>cpu against ilgpu-cpu (and against cuda/opencl when CONVENGINE_TEST_BACKENDS names them).</summary>
    [TestCaseSource(nameof(Cases))]
    public void CpuAndIlgpu_Agree(string ilgpuBackend, Scenario s)
    {
        var onCpu = s.Run(BackendCase.Cpu(SimdSupport.Detected).Acquire());
        var onIlgpu = s.Run(BackendCase.Ilgpu(ilgpuBackend).Acquire());
        Assert.That(onIlgpu, Has.Length.EqualTo(onCpu.Length));
        for (int i = 0; i < onCpu.Length; i++)
        {
            if (s.BitExact)
                Assert.That(onIlgpu[i], Is.EqualTo(onCpu[i]), $"{s.Name}: output {i} bit for bit");
            else
                Approx.AssertClose(onCpu[i], onIlgpu[i], s.ReductionLength, $"{s.Name}: output {i}");
        }
    }
}
