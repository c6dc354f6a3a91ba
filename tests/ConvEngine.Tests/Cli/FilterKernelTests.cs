using System.Globalization;
using System.Text.RegularExpressions;
using ConvEngine.Cli.Commands;
using NUnit.Framework;

namespace ConvEngine.Tests.Cli;

public class FilterKernelTests
{
    // keras-semantics.md A, "Course image kernels" (learntools visiontools.py): the named kernels are
    // read from that line of the reference file, so a typo on either side fails here.
    [TestCase("edge")]
    [TestCase("blur")]
    [TestCase("bottom_sobel")]
    [TestCase("emboss")]
    [TestCase("sharpen")]
    public void NamedKernel_IsTheCourseKernel(string name)
    {
        var expected = CourseKernelsFromReference()[name];
        var kernel = FilterKernel.Parse(name);
        Assert.That(kernel.Size, Is.EqualTo(3));
        Assert.That(kernel.Values, Is.EqualTo(expected));
    }

    [Test]
    public void NamedKernel_IgnoresCaseAndSurroundingSpace() =>
        Assert.That(FilterKernel.Parse("  Bottom_Sobel ").Name, Is.EqualTo("bottom_sobel"));

    [Test]
    public void Custom_RowsSeparatedBySemicolons_AreReadRowMajor()
    {
        var kernel = FilterKernel.Parse("1 2 3; 4 5 6; 7 8 9");
        Assert.That(kernel.Size, Is.EqualTo(3));
        Assert.That((kernel[0, 2], kernel[1, 0], kernel[2, 1]), Is.EqualTo((3f, 4f, 8f)));
    }

    [Test]
    public void Custom_CommasAndSpaces_MakeAnEvenSizedKernel()
    {
        var kernel = FilterKernel.Parse("0.5, -1,\t2e-1 ,3");
        Assert.That(kernel.Size, Is.EqualTo(2));
        Assert.That(kernel.Values, Is.EqualTo(new[] { 0.5f, -1f, 0.2f, 3f }));
    }

    [Test]
    public void Custom_SingleNumber_IsOneByOne() =>
        Assert.That(FilterKernel.Parse("2.5"), Has.Property("Size").EqualTo(1).And.Property("Values").EqualTo(new[] { 2.5f }));

    [Test]
    public void Custom_TrailingSemicolon_IsAllowed() =>
        Assert.That(FilterKernel.Parse("1 0; 0 1;").Size, Is.EqualTo(2));

    [Test]
    public void Custom_NonSquareCount_SaysHowManyNumbers()
    {
        var e = Assert.Throws<ArgumentException>(() => FilterKernel.Parse("1 2 3"));
        Assert.That(e!.Message, Does.Contain("3 numbers").And.Contain("not a square"));
    }

    [Test]
    public void Custom_NonNumber_NamesTheToken()
    {
        var e = Assert.Throws<ArgumentException>(() => FilterKernel.Parse("1 2 x 4"));
        Assert.That(e!.Message, Does.Contain("'x'").And.Contain("value 3"));
    }

    [Test]
    public void Custom_NaN_IsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => FilterKernel.Parse("1 1 1 NaN"));
        Assert.That(e!.Message, Does.Contain("not a finite number"));
    }

    [Test]
    public void Custom_RaggedRows_AreRejectedEvenWithASquareCount()
    {
        var e = Assert.Throws<ArgumentException>(() => FilterKernel.Parse("1 2 3; 4; 5 6 7 8 9"));
        Assert.That(e!.Message, Does.Contain("3 rows of 3").And.Contain("3, 1, 5"));
    }

    [Test]
    public void UnknownName_ListsTheNamedKernels()
    {
        var e = Assert.Throws<ArgumentException>(() => FilterKernel.Parse("sobel"));
        Assert.That(e!.Message, Does.Contain("Unknown kernel 'sobel'").And.Contain("bottom_sobel"));
    }

    [Test]
    public void Empty_IsRejected() =>
        Assert.Throws<ArgumentException>(() => FilterKernel.Parse(" ; "));

    private static Dictionary<string, float[]> CourseKernelsFromReference()
    {
        string text = File.ReadAllText(SharedFile("reference/keras-semantics.md"));
        int start = text.IndexOf("**Course image kernels**", StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), "keras-semantics.md has no 'Course image kernels' entry");
        string entry = text[start..text.IndexOf("Its feature-extraction demo", start, StringComparison.Ordinal)];
        var kernels = new Dictionary<string, float[]>();
        foreach (Match m in Regex.Matches(entry, @"(\w+)\s+(\[\[[^\]]*\](?:,\[[^\]]*\])*\])"))
            kernels[m.Groups[1].Value] = Regex.Matches(m.Groups[2].Value, @"-?\d*\.?\d+")
                .Select(n => float.Parse(n.Value, CultureInfo.InvariantCulture)).ToArray();
        return kernels;
    }

    private static string SharedFile(string relative) => SharedFiles.Require(relative);
}
