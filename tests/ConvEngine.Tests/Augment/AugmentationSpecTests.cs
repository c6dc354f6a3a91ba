using ConvEngine.Cli.Commands;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;
using NUnit.Framework;

namespace ConvEngine.Tests.Augment;

/// <summary>The course's Python spelling of <c>--augment</c> / <c>--layers</c>, read into layers; errors name the place and the value.</summary>
public class AugmentationSpecTests
{
    [Test]
    public void PythonSpelling_PositionalKeywordTuplesStringsNumbersNone_BuildTheLayers()
    {
        var spec = AugmentationSpec.Parse("""
            [layers.RandomRotation(factor=(-0.1, .2), fill_mode="constant", fill_value=-1.5e-1),
             preprocessing.RandomZoom(0.2, None, 'nearest'), RandomContrast(0.5, semantics='keras3'),
             tf.keras.layers.RandomFlip(mode='vertical', seed=12345678901234567891), RandomCrop(5, 6), ]
            """);
        Assert.That(spec.ClassNames, Is.EqualTo(new[] { "RandomRotation", "RandomZoom", "RandomContrast", "RandomFlip", "RandomCrop" }));
        var layers = spec.CreateLayers();
        var rotation = (RandomRotation)layers[0];
        Assert.That((rotation.Lower, rotation.Upper, rotation.FillMode, rotation.FillValue), Is.EqualTo((-0.1, 0.2, FillMode.Constant, -0.15)));
        var zoom = (RandomZoom)layers[1];
        Assert.That((zoom.HeightRange, zoom.WidthRange, zoom.FillMode), Is.EqualTo(((-0.2, 0.2), ((double, double)?)null, FillMode.Nearest)),
            "positional in Keras's order: height_factor, width_factor, fill_mode");
        Assert.That(((RandomContrast)layers[2]).Semantics, Is.EqualTo(KerasSemantics.Keras3));
        // Above 2^63 and far above 2^53: an exact integer, not the nearest double.
        Assert.That(((RandomFlip)layers[3]).Seed, Is.EqualTo(12345678901234567891UL));
        Assert.That(((RandomCrop)layers[4]).Height, Is.EqualTo(5));
    }

    [Test]
    public void Description_ReadsBackAsTheSameLayers()
    {
        var spec = AugmentationSpec.Parse("RandomRotation(0.2, 'wrap', seed=123456789012345678), RandomTranslation((-0.1, 0.3), 0.2), RandomFlip()");
        var again = AugmentationSpec.Parse(spec.Description);
        Assert.That(again.LayerConfigs().Select(c => c.ToJsonString()), Is.EqualTo(spec.LayerConfigs().Select(c => c.ToJsonString())));
        Assert.That(spec.Description, Does.Contain("seed=123456789012345678)"), "the seed as given (123456789012345680 as a double)");
    }

    [TestCase("RandomFlip('horizontal', 1, 2)", "RandomFlip takes at most 2 positional arguments")]
    [TestCase("RandomRotation(0.2, factor=0.3)", "RandomRotation got 'factor' twice")]
    [TestCase("RandomRotation(maybe)", "'maybe' is not a value")]
    [TestCase("RandomContrast(1e)", "'1e' is not a number")]
    [TestCase("RandomFlip('horizontal') RandomContrast(0.5)", "expected ',' between layers")]
    [TestCase("RandomFlip", "'RandomFlip' must be called with its arguments")]
    [TestCase("RandomFlip(seed=-3)", "'seed' must be a non-negative integer")]
    public void BadSpelling_IsRefused_NamingTheValueAndWhere(string text, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => AugmentationSpec.Parse(text))!;
        Assert.That(e.Message, Does.StartWith("--augment: ").And.Contain(expected));
    }
}
