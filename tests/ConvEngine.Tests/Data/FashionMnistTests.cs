using ConvEngine.Data;
using ConvEngine.Data.Idx;
using NUnit.Framework;

namespace ConvEngine.Tests.Data;

// Fashion-MNIST (Zalando Research): 60,000 training and 10,000 test 28×28 images, 10 balanced classes
// (6,000 and 1,000 of each). Needs Debian's dataset-fashion-mnist; skipped without it.
public class FashionMnistTests
{
    private static readonly Lazy<FashionMnistData> Loaded = new(() => FashionMnist.Load());

    /// <summary>The installed dataset, read once for all tests (a couple of seconds).</summary>
    internal static FashionMnistData Installed => Loaded.Value;

    internal static void RequireInstalled()
    {
        if (!FashionMnist.IsAvailable())
            Assert.Ignore($"Fashion-MNIST is not installed in {FashionMnist.DefaultDirectory} (apt-get install dataset-fashion-mnist).");
    }

    [Test]
    public void Load_GivesBothSplits_BalancedOverTenClasses()
    {
        RequireInstalled();
        var data = Installed;
        Assert.That((data.Train.Count, data.Train.Height, data.Train.Width), Is.EqualTo((60000, 28, 28)));
        Assert.That((data.Test.Count, data.Test.Height, data.Test.Width), Is.EqualTo((10000, 28, 28)));
        Assert.That(data.Train.Labels.CountBy(l => l).Select(g => g.Value), Is.All.EqualTo(6000));
        Assert.That(data.Test.Labels.CountBy(l => l).Select(g => g.Value), Is.All.EqualTo(1000));
        Assert.That(data.Train.ClassNames[9], Is.EqualTo("Ankle boot"));
    }

    [Test]
    public void ToBatchSource_GivesImagesShapedHW1()
    {
        RequireInstalled();
        var source = Installed.Test.ToBatchSource(batchSize: 128, labelMode: LabelMode.Categorical, scale: 1f / 255);
        Assert.That(source.SampleShape, Is.EqualTo(new[] { 28, 28, 1 }));
        Assert.That(source.BatchCount, Is.EqualTo(79));
        var batch = source.GetBatches(0).First();
        Assert.That(batch.InputShape, Is.EqualTo(new[] { 128, 28, 28, 1 }));
        Assert.That(batch.TargetShape, Is.EqualTo(new[] { 128, 10 }));
        Assert.That(batch.Inputs.Max(), Is.InRange(0.5f, 1f));
    }

    [Test]
    public void MissingDirectory_Throws_WithTheInstallHint()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load("/nonexistent/fashion"));
        Assert.That(ex!.Message, Does.Contain("/nonexistent/fashion").And.Contain("dataset-fashion-mnist"));
    }
}
