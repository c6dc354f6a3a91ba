using ConvEngine.Import.Keras;
using ConvEngine.Serialization;
using ConvEngine.Tests.Import;
using NUnit.Framework;
using PureHDF;

namespace ConvEngine.Tests.Hardening;

/// <summary>
/// Names read from a file are quoted bounded and escaped in every error message (fuzz case keras-h5-weights 139: a
/// mutated layer_names entry of ~4,000 NUL and line-break characters was quoted whole, twice, over several lines).
/// </summary>
public class QuotedNameTests
{
    [Test]
    public void PlainName_IsQuotedAsIs()
    {
        Assert.That(QuotedName.Of("conv2d_1/kernel:0"), Is.EqualTo("'conv2d_1/kernel:0'"));
        Assert.That(QuotedName.Of("couche_é_😀"), Is.EqualTo("'couche_é_😀'"), "letters and whole surrogate pairs are shown");
    }

    [Test]
    public void ControlFormatAndLoneSurrogateCharacters_AreEscaped()
    {
        Assert.That(QuotedName.Of("a\0b\nc\r\td\u0008e\u202Ef\uD800"), Is.EqualTo(@"'a\0b\nc\r\td\u0008e\u202Ef\uD800'"));
    }

    [Test]
    public void LongName_IsCutAtSixtyCharacters_WithItsLength()
    {
        string name = new string('x', 59) + "yz" + new string('\0', 4000);
        Assert.That(QuotedName.Of(name), Is.EqualTo($"'{new string('x', 59)}y…' ({name.Length} chars)"));
    }

    [Test]
    public void List_StopsAfterTwentyNames_AndCountsTheRest()
    {
        Assert.That(QuotedName.List([]), Is.EqualTo("none"));
        var names = Enumerable.Range(0, 1000).Select(i => $"w{i}").ToList();
        string list = QuotedName.List(names);
        Assert.That(list, Does.StartWith("'w0', 'w1', ").And.EndWith("'w19', … (1000 in all)"));
    }

    [Test]
    public void KerasH5_LayerNameOfNulsAndLineBreaks_IsAOneLineBoundedError()
    {
        using var temp = new TempFolder("convengine-quoted-name-");
        string path = temp.File("weights.h5");
        string hostile = "flatten" + string.Concat(Enumerable.Repeat("\0\u0008\n\r", 1000)) + "dense";
        var file = new H5File { ["dense"] = new H5Group { Attributes = new() { ["weight_names"] = new[] { "kernel:0" } } } };
        file.Attributes["layer_names"] = new[] { hostile };
        file.Write(path);

        var e = Assert.Throws<KerasImportException>(() => KerasWeightsFile.Read(path))!;
        Assert.That(e.Message, Does.Contain(path).And.Contain(@"'flatten\0\u0008\n\r").And.Contain($"({hostile.Length} chars)"));
        Assert.That(e.Message, Does.Not.Contain('\n').And.Not.Contain('\0'));
        Assert.That(e.Message.Length, Is.LessThan(path.Length + 400), e.Message);
    }
}
