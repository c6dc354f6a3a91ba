using ConvEngine.Inspection;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Tests.Training;
using NUnit.Framework;

namespace ConvEngine.Tests.Inspection;

/// <summary>The two-dot demonstration against a hand computation of where the dots land after each 2×2 max pool.</summary>
public class TranslationInvarianceTests
{
    // Dots at (11, 11) and (20, 20) of a 32×32 image, copy shifted by (1, 1): (12, 12) and (21, 21). A 2×2 pool with
    // stride 2 sends row r to ⌊r/2⌋ (no padding is needed at 32, 16, 8):
    //   level 0 (32×32): the four dot pixels differ                           4 of 1024
    //   level 1 (16×16): 11→5 vs 12→6 differ (2 cells); 20→10 and 21→10 agree   2 of 256
    //   level 2 (8×8):   5→2 vs 6→3 differ (2 cells); 10→5 and 10→5 agree       2 of 64
    //   level 3 (4×4):   2→1 and 3→1 agree: identical                           0 of 16
    // Every difference is a whole dot (value 1), so the largest is 1 until it is 0; the mean is differing cells / cells.
    [Test]
    public void TwoDots_ShiftedByOnePixel_DifferenceVanishesAfterThreePools_AsComputedByHand()
    {
        var levels = TranslationInvariance.Measure(TestBackend.Instance, TranslationInvariance.TwoDots(), 32, 32, dx: 1, dy: 1, pool: 2, repeat: 3);
        Assert.That(levels.Select(l => (l.Height, l.Width)), Is.EqualTo(new[] { (32, 32), (16, 16), (8, 8), (4, 4) }));
        Assert.That(levels.Select(l => l.DifferingCells), Is.EqualTo(new[] { 4, 2, 2, 0 }));
        Assert.That(levels.Select(l => l.FractionDiffering), Is.EqualTo(new[] { 4 / 1024.0, 2 / 256.0, 2 / 64.0, 0 }));
        Assert.That(levels.Select(l => l.MaxAbsDifference), Is.EqualTo(new[] { 1.0, 1.0, 1.0, 0.0 }));
        Assert.That(levels.Select(l => l.MeanAbsDifference), Is.EqualTo(new[] { 4 / 1024.0, 2 / 256.0, 2 / 64.0, 0 }));
        // Level 3: both dots sit at (1, 1) and (2, 2) of the 4×4 map, in both images.
        var expected = new float[16];
        expected[1 * 4 + 1] = expected[2 * 4 + 2] = 1;
        Assert.That(levels[3].Original, Is.EqualTo(expected));
        Assert.That(levels[3].Shifted, Is.EqualTo(expected));
    }

    // Keras RandomTranslation's sign: positive dx moves right, positive dy down; what comes in is 0.
    [Test]
    public void Shift_MovesRightAndDown_FillingWithZeros()
    {
        float[] image = [1, 2, 3, 4, 5, 6];   // 2 rows × 3 columns
        Assert.That(TranslationInvariance.Shift(image, 2, 3, dx: 1, dy: 0), Is.EqualTo(new float[] { 0, 1, 2, 0, 4, 5 }));
        Assert.That(TranslationInvariance.Shift(image, 2, 3, dx: 0, dy: 1), Is.EqualTo(new float[] { 0, 0, 0, 1, 2, 3 }));
        Assert.That(TranslationInvariance.Shift(image, 2, 3, dx: -2, dy: -1), Is.EqualTo(new float[] { 6, 0, 0, 0, 0, 0 }));
    }

    // The same two-dot numbers through ILGPU's kernels (the cuda/opencl code path).
    [Test]
    public void TwoDots_OnIlgpuCpu_GiveTheSameLevels()
    {
        using var ilgpu = ConvEngine.Kernels.Backends.Create("ilgpu-cpu");
        var onIlgpu = TranslationInvariance.Measure(ilgpu, TranslationInvariance.TwoDots(), 32, 32, 1, 1);
        var onCpu = TranslationInvariance.Measure(TestBackend.Instance, TranslationInvariance.TwoDots(), 32, 32, 1, 1);
        Assert.That(onIlgpu.Select(l => l.Shifted), Is.EqualTo(onCpu.Select(l => l.Shifted)));
    }

    // Valid padding drops the last row and column of an odd map: 5 → 2 → 1.
    [Test]
    public void ValidPoolPadding_DropsTheRemainder()
    {
        var levels = TranslationInvariance.Measure(TestBackend.Instance, new float[25], 5, 5, 1, 0, pool: 2, repeat: 2, poolPadding: Padding.Valid);
        Assert.That(levels.Select(l => l.Height), Is.EqualTo(new[] { 5, 2, 1 }));
    }
}
