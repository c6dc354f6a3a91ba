using ConvEngine.Layers;
using ConvEngine.Models;
using ConvEngine.Tests.Training;
using NUnit.Framework;

namespace ConvEngine.Tests.Graph;

/// <summary>
/// model.summary() of a functional graph that is not a chain: tf-keras 2.15 print_summary uses line length 98,
/// columns ending at int(98·.33) = 32, int(98·.55) = 53, int(98·.67) = 65 and 98, and adds "Connected to"
/// with each input as 'layer[node][tensor]'.
/// </summary>
public class GraphSummaryTests
{
    [SetUp]
    public void FreshNames() => LayerNames.Reset();

    /// <summary>Conv → [Conv 1×1, Conv 3×3] → Concatenate → Add(with the first conv) → BN → GAP → Dense, all auto-named as Keras would.</summary>
    private static Model TwoBranches()
    {
        var inputs = new InputLayer(8, 8, 3);                                        // input_1
        var trunk = new Conv2D(4, 3, padding: "same").Apply(inputs);            // conv2d   (3·3·3 + 1)·4 = 112
        var left = new Conv2D(2, 1).Apply(trunk);                               // conv2d_1 (4 + 1)·2     = 10
        var right = new Conv2D(2, 3, padding: "same").Apply(trunk);             // conv2d_2 (3·3·4 + 1)·2 = 74
        var joined = new Concatenate().Apply(left, right);                      // concatenate (None, 8, 8, 4)
        var sum = new Add().Apply(joined, trunk);                               // add
        var normalized = new BatchNormalization().Apply(sum);                   // 4·4 = 16, moving 8 non-trainable
        var pooled = new GlobalAveragePooling2D().Apply(normalized);
        return new Model(inputs, new Dense(1, activation: "sigmoid").Apply(pooled), backend: TestBackend.Instance, seed: 1);  // dense (4 + 1)·1 = 5
    }

    private static string Row(string a, string b, string c, string d) => (" " + a).PadRight(32) + b.PadRight(21) + c.PadRight(12) + d.PadRight(33);

    [Test]
    public void TwoBranchModel_Summary_IsKerasTableWithConnections()
    {
        using var model = TwoBranches();
        var lines = model.Summary().Split('\n');
        Assert.That(lines[0], Is.EqualTo("Model: \"model\""));
        Assert.That(lines[1], Is.EqualTo(new string('_', 98)));
        Assert.That(lines[2], Is.EqualTo(Row("Layer (type)", "Output Shape", "Param #", "Connected to")));
        Assert.That(lines[3], Is.EqualTo(new string('=', 98)));
        Assert.That(lines[4], Is.EqualTo(Row("input_1 (InputLayer)", "[(None, 8, 8, 3)]", "0", "[]")));
        Assert.That(lines, Does.Contain(Row("conv2d (Conv2D)", "(None, 8, 8, 4)", "112", "['input_1[0][0]']")));
        Assert.That(lines, Does.Contain(Row("conv2d_1 (Conv2D)", "(None, 8, 8, 2)", "10", "['conv2d[0][0]']")));
        Assert.That(lines, Does.Contain(Row("conv2d_2 (Conv2D)", "(None, 8, 8, 2)", "74", "['conv2d[0][0]']")));

        // A list of inputs wraps after "',", one connection per line, as Keras's print_row does.
        int concatenate = Array.IndexOf(lines, Row("concatenate (Concatenate)", "(None, 8, 8, 4)", "0", "['conv2d_1[0][0]',"));
        Assert.That(concatenate, Is.GreaterThan(0));
        Assert.That(lines[concatenate + 1], Is.EqualTo(Row("", "", "", " 'conv2d_2[0][0]']")));
        int add = Array.IndexOf(lines, Row("add (Add)", "(None, 8, 8, 4)", "0", "['concatenate[0][0]',"));
        Assert.That(add, Is.GreaterThan(concatenate));
        Assert.That(lines[add + 1], Is.EqualTo(Row("", "", "", " 'conv2d[0][0]']")));

        // "batch_normalization (BatchNormalization)" is 40 characters: 32 − 2 − 1 = 29 fit the first column, the rest wraps.
        int bn = Array.IndexOf(lines, Row("batch_normalization (BatchNor", "(None, 8, 8, 4)", "16", "['add[0][0]']"));
        Assert.That(bn, Is.GreaterThan(add));
        Assert.That(lines[bn + 1], Is.EqualTo(Row("malization)", "", "", "")));
        // A connection longer than the 33-character column is cut there, as Keras does.
        int dense = Array.IndexOf(lines, Row("dense (Dense)", "(None, 1)", "5", "['global_average_pooling2d[0][0]'"));
        Assert.That(dense, Is.GreaterThan(bn));
        Assert.That(lines[dense + 1], Is.EqualTo(Row("", "", "", "]")));

        // 112 + 10 + 74 + 16 + 5 = 217 weights; the moving mean and variance (8) are not trainable.
        Assert.That(lines, Does.Contain("Total params: 217 (868.00 Byte)"));
        Assert.That(lines, Does.Contain("Trainable params: 209 (836.00 Byte)"));
        Assert.That(lines, Does.Contain("Non-trainable params: 8 (32.00 Byte)"));
    }

    // Keras's model.layers for this graph: the input, then each layer once its inputs exist.
    [Test]
    public void TwoBranchModel_ListsLayersInGraphOrder()
    {
        using var model = TwoBranches();
        Assert.That(model.Layers.Select(l => l.Name), Is.EqualTo(new[]
        {
            "input_1", "conv2d", "conv2d_1", "conv2d_2", "concatenate", "add", "batch_normalization", "global_average_pooling2d", "dense",
        }));
    }
}
