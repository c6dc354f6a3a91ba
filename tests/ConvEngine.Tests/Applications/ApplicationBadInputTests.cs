using ConvEngine.Import.Keras;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using ConvEngine.Tests.Import;
using NUnit.Framework;

namespace ConvEngine.Tests.Applications;

/// <summary>
/// What a Keras config or a caller gets wrong, answered with one message naming the layer (and the file) and the value:
/// a class the engine lacks, negative pads, a crop larger than the input, a reshape whose sizes do not match, ReLU
/// arguments Keras refuses too, an unsupported noise_shape, a broadcast Multiply cannot do.
/// </summary>
public class ApplicationBadInputTests
{
    private static string Model(string entries) =>
        "{\"class_name\": \"Model\", \"config\": {\"name\": \"net\", \"layers\": [" +
        "{\"name\": \"input_1\", \"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, 6, 6, 3], \"dtype\": \"float32\", \"name\": \"input_1\"}, \"inbound_nodes\": []}, " +
        entries + "], \"input_layers\": [[\"input_1\", 0, 0]], \"output_layers\": [[\"last\", 0, 0]]}}";

    private static string Layer(string className, string config) =>
        "{\"name\": \"last\", \"class_name\": \"" + className + "\", \"config\": {\"name\": \"last\"" + (config.Length > 0 ? ", " + config : "") +
        "}, \"inbound_nodes\": [[[\"input_1\", 0, 0, {}]]]}";

    [Test]
    public void ALayerTheEngineLacks_IsNamedWithItsClassAndTheFile()
    {
        var e = Assert.Throws<UnsupportedLayerException>(() =>
            KerasModels.FromJson(Model(Layer("PReLU", "\"alpha_initializer\": {\"class_name\": \"Zeros\", \"config\": {}}")), source: "models/net.json"))!;
        Assert.That(e.Message, Does.Contain("'last'").And.Contain("PReLU").And.Contain("'net'").And.Contain("models/net.json"));
    }

    [Test]
    public void ALayerTheEngineLacks_InAFullModelH5_NamesTheH5File()
    {
        using var temp = new TempFolder("convengine-bad-layer-");
        string path = temp.File("prelu_model.h5");
        KerasTestFiles.Write(path, [new TestLayer("input_1")], modelConfig: Model(Layer("PReLU", "")), kerasVersion: "2.15.0");
        var e = Assert.Throws<UnsupportedLayerException>(() => KerasModels.LoadH5(path))!;
        Assert.That(e.Message, Does.Contain("PReLU").And.Contain("'last'").And.Contain("prelu_model.h5"));
    }

    [TestCase("ZeroPadding2D", "\"padding\": [[-1, 0], [0, 0]]", "padding must be non-negative", "top -1")]
    [TestCase("Cropping2D", "\"cropping\": [[0, 0], [-2, 1]]", "cropping must be non-negative", "left -2")]
    [TestCase("ReLU", "\"max_value\": -6.0", "max_value must be non-negative", "-6")]
    [TestCase("ReLU", "\"negative_slope\": -0.5", "negative_slope must be a non-negative", "-0.5")]
    [TestCase("DepthwiseConv2D", "\"kernel_size\": [3, 3], \"depth_multiplier\": 0", "depth_multiplier must be positive", "0")]
    [TestCase("SeparableConv2D", "\"filters\": 4, \"kernel_size\": [3, 3], \"padding\": \"causal\"", "padding must be 'valid' or 'same'", "causal")]
    [TestCase("Dropout", "\"rate\": 0.2, \"noise_shape\": [null, 6, 1, 1]", "noise_shape", "6, 1, 1")]
    [TestCase("Reshape", "\"target_shape\": [-1, -1]", "at most one", "-1, -1")]
    public void BadArguments_NameTheLayerAndTheValue(string className, string config, string why, string value)
    {
        var e = Assert.Throws<FormatException>(() => KerasModels.FromJson(Model(Layer(className, config)), source: "bad.json"))!;
        Assert.That(e.Message, Does.Contain("'last'").And.Contain(className).And.Contain(why).And.Contain(value).And.Contain("bad.json"));
    }

    [TestCase("Cropping2D", "\"cropping\": [[3, 3], [0, 0]]", "leaves nothing", "top 3, bottom 3")]
    [TestCase("Reshape", "\"target_shape\": [5, 20]", "cannot reshape", "(5, 20)")]
    [TestCase("Reshape", "\"target_shape\": [-1, 7]", "not a multiple of 7", "(-1, 7)")]
    public void ArgumentsThatDoNotFitTheInput_NameTheLayerTheValueAndTheInput(string className, string config, string why, string value)
    {
        var e = Assert.Throws<FormatException>(() => KerasModels.FromJson(Model(Layer(className, config)), source: "shape.json"))!;
        Assert.That(e.Message, Does.Contain("'last'").And.Contain(why).And.Contain(value).And.Contain("(None, 6, 6, 3)").And.Contain("shape.json"));
    }

    [Test]
    public void Multiply_OfShapesThatDoNotBroadcast_NamesBothInputs()
    {
        var input = new InputLayer([4, 4, 3], "x");
        var half = new Cropping2D((1, 1), (0, 0), name: "half").Apply(input);
        var e = Assert.Throws<ShapeException>(() => new Multiply(name: "gate").Apply(input, half))!;
        Assert.That(e.Message, Does.Contain("Multiply 'gate'").And.Contain("'x' outputs (None, 4, 4, 3)").And.Contain("'half' outputs (None, 2, 4, 3)"));
    }
}
