using ConvEngine.Layers;
using ConvEngine.Models;
using NUnit.Framework;
using Activation = ConvEngine.Layers.Activation;

namespace ConvEngine.Tests.Training;

public class SummaryTests
{
    [SetUp]
    public void FreshNames() => LayerNames.Reset();

    /// <summary>The course's custom convnet at 128×128×3.</summary>
    private static Sequential CourseConvnet() => new(backend: TestBackend.Instance, seed: 1)
    {
        new InputLayer(128, 128, 3),
        new Conv2D(32, 5, padding: "same", activation: "relu"),
        new MaxPool2D(),
        new Conv2D(64, 3, padding: "same", activation: "relu"),
        new MaxPool2D(),
        new Conv2D(128, 3, padding: "same", activation: "relu"),
        new MaxPool2D(),
        new Flatten(),
        new Dense(6, activation: "relu"),
        new Dense(1, activation: "sigmoid"),
    };

    // Parameter counts by hand: a conv has (kh·kw·in + 1)·filters, a dense (in + 1)·units.
    //   conv2d   (5·5·3 + 1)·32   =   2,432   → (128, 128, 32), pool → (64, 64, 32)
    //   conv2d_1 (3·3·32 + 1)·64  =  18,496   → (64, 64, 64),   pool → (32, 32, 64)
    //   conv2d_2 (3·3·64 + 1)·128 =  73,856   → (32, 32, 128),  pool → (16, 16, 128)
    //   flatten  16·16·128        =  32,768 features
    //   dense    (32768 + 1)·6    = 196,614
    //   dense_1  (6 + 1)·1        =       7
    //   total                       291,405 (× 4 bytes = 1,165,620 B = 1.11 MB)
    [Test]
    public void CourseConvnet_ParamCountsAndShapes_MatchHandComputation()
    {
        using var model = CourseConvnet();
        Assert.That(model.Layers.Select(l => l.ParameterCount), Is.EqualTo(new long[] { 2432, 0, 18496, 0, 73856, 0, 0, 196614, 7 }));
        Assert.That(model.Layers.Select(l => SymbolicTensor.FormatShape(l.OutputShape)), Is.EqualTo(new[]
        {
            "(None, 128, 128, 32)", "(None, 64, 64, 32)", "(None, 64, 64, 64)", "(None, 32, 32, 64)",
            "(None, 32, 32, 128)", "(None, 16, 16, 128)", "(None, 32768)", "(None, 6)", "(None, 1)",
        }));
        Assert.That(model.ParameterCount, Is.EqualTo(291405));
        Assert.That(model.TrainableParameterCount, Is.EqualTo(291405));
        Assert.That(model.NonTrainableParameterCount, Is.EqualTo(0));
    }

    // tf-keras 2.15 print_summary: width 65, columns end at int(65·.45)=29, int(65·.85)=55, 65; a cell holds
    // (column width − 3) characters and wraps; a blank line follows each layer; totals with their float32 size.
    [Test]
    public void CourseConvnet_Summary_IsKerasTable()
    {
        using var model = CourseConvnet();
        var lines = model.Summary().Split('\n');
        static string Row(string a, string b, string c) => (" " + a).PadRight(29) + b.PadRight(26) + c.PadRight(10);

        Assert.That(lines[0], Is.EqualTo("Model: \"sequential\""));
        Assert.That(lines[1], Is.EqualTo(new string('_', 65)));
        Assert.That(lines[2], Is.EqualTo(Row("Layer (type)", "Output Shape", "Param #")));
        Assert.That(lines[3], Is.EqualTo(new string('=', 65)));
        Assert.That(lines[4], Is.EqualTo(Row("conv2d (Conv2D)", "(None, 128, 128, 32)", "2432")));
        Assert.That(lines[5], Is.EqualTo(new string(' ', 65)));
        // "max_pooling2d (MaxPooling2D)" is 28 characters; 26 fit, the rest wraps.
        Assert.That(lines[6], Is.EqualTo(Row("max_pooling2d (MaxPooling2", "(None, 64, 64, 32)", "0")));
        Assert.That(lines[7], Is.EqualTo(Row("D)", "", "")));
        Assert.That(lines, Does.Contain(Row("dense (Dense)", "(None, 6)", "196614")));
        Assert.That(lines, Does.Contain(Row("flatten (Flatten)", "(None, 32768)", "0")));
        Assert.That(lines, Does.Contain("Total params: 291405 (1.11 MB)"));
        Assert.That(lines, Does.Contain("Trainable params: 291405 (1.11 MB)"));
        Assert.That(lines, Does.Contain("Non-trainable params: 0 (0.00 Byte)"));
    }

    [Test]
    public void FrozenLayer_CountsAsNonTrainable()
    {
        using var model = CourseConvnet();
        model.Layers[0].Trainable = false;
        Assert.That(model.NonTrainableParameterCount, Is.EqualTo(2432));
        Assert.That(model.Summary(), Does.Contain("Trainable params: 288973 (").And.Contain("Non-trainable params: 2432 (9.50 KB)"));
    }

    // A functional graph that is not a chain gets Keras's 98-wide table with "Connected to".
    [Test]
    public void BranchingGraph_Summary_ListsConnections()
    {
        var input = new InputLayer([4], "in");
        var a = new Dense(3, name: "a").Apply(input);
        var b = new Dense(3, name: "b").Apply(a);
        var sum = new SumOfTwo("sum").Apply(a, b);
        using var model = new Model(input, new Dense(1, name: "out").Apply(sum), "branchy", TestBackend.Instance, 1);
        var lines = model.Summary().Split('\n');
        static string Row(string a, string b, string c, string d) => (" " + a).PadRight(32) + b.PadRight(21) + c.PadRight(12) + d.PadRight(33);
        Assert.That(lines[2], Is.EqualTo(Row("Layer (type)", "Output Shape", "Param #", "Connected to")));
        Assert.That(lines[4], Is.EqualTo(Row("in (InputLayer)", "[(None, 4)]", "0", "[]")));
        // Keras breaks the connection list after "',".
        int sumRow = Array.FindIndex(lines, l => l.StartsWith(" sum (SumOfTwo)", StringComparison.Ordinal));
        Assert.That(lines[sumRow], Is.EqualTo(Row("sum (SumOfTwo)", "(None, 3)", "0", "['a[0][0]',")));
        Assert.That(lines[sumRow + 1], Is.EqualTo(Row("", "", "", " 'b[0][0]']")));
        Assert.That(model.ParameterCount, Is.EqualTo((4 + 1) * 3 + (3 + 1) * 3 + (3 + 1) * 1));
    }

    [Test]
    public void NestedModel_IsOneRowWithAllItsParameters()
    {
        var baseInput = new InputLayer([8, 8, 3], "base_in");
        var features = new Conv2D(4, 3, name: "base_conv").Apply(baseInput);
        using var baseModel = new Model(baseInput, features, "base", TestBackend.Instance, 1);
        var model = new Sequential(backend: TestBackend.Instance, seed: 1) { baseModel, new Flatten(name: "flat"), new Dense(1, activation: "sigmoid", name: "head") };
        baseModel.Trainable = false;
        Assert.That(model.Summary(), Does.Contain(" base (Functional)".PadRight(29) + "(None, 6, 6, 4)".PadRight(26) + "112"));
        Assert.That(model.NonTrainableParameterCount, Is.EqualTo((3 * 3 * 3 + 1) * 4));
        Assert.That(model.TrainableParameterCount, Is.EqualTo(6 * 6 * 4 + 1));
        Assert.That(model.NamedParameters.Select(p => p.Path), Is.EqualTo(new[] { "base/base_conv/kernel", "base/base_conv/bias", "head/kernel", "head/bias" }));
    }

    [Test]
    public void AutoNames_FollowKeras()
    {
        Assert.That(LayerNames.ToSnakeCase("MaxPooling2D"), Is.EqualTo("max_pooling2d"));
        Assert.That(LayerNames.ToSnakeCase("GlobalAveragePooling2D"), Is.EqualTo("global_average_pooling2d"));
        Assert.That(LayerNames.ToSnakeCase("Conv2D"), Is.EqualTo("conv2d"));
        Assert.That(LayerNames.ToSnakeCase("BatchNormalization"), Is.EqualTo("batch_normalization"));
        Assert.That(new[] { new Dense(1).Name, new Dense(1).Name, new Activation("relu").Name, new InputLayer(3).Name, new InputLayer(3).Name },
            Is.EqualTo(new[] { "dense", "dense_1", "activation", "input_1", "input_2" }));
    }
}
