using ConvEngine.Kernels.Cpu;
using NUnit.Framework;

namespace ConvEngine.Tests.Kernels;

/// <summary>The cpu backend's worker threads and the machine description its blocking comes from.</summary>
public class CpuPlumbingTests
{
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(5)]
    public void For_RunsEveryPartExactlyOnce_OnDistinctThreads(int parts)
    {
        var counts = new int[parts];
        var threads = new int[parts];
        CpuParallel.For(parts, part =>
        {
            Interlocked.Increment(ref counts[part]);
            threads[part] = Environment.CurrentManagedThreadId;
        });
        Assert.That(counts, Is.All.EqualTo(1));
        Assert.That(threads.Distinct().Count(), Is.EqualTo(parts), "one thread per part");
        Assert.That(threads[0], Is.EqualTo(Environment.CurrentManagedThreadId), "the caller takes part 0");
    }

    [Test]
    public void ForChunks_RunsEveryChunkExactlyOnce()
    {
        var counts = new int[37];
        CpuParallel.ForChunks(3, counts.Length, chunk => Interlocked.Increment(ref counts[chunk]));
        Assert.That(counts, Is.All.EqualTo(1));
    }

    [Test]
    public void For_PassesAWorkersExceptionToTheCaller()
    {
        var error = Assert.Throws<AggregateException>(() => CpuParallel.For(3, part =>
        {
            if (part == 2) throw new InvalidOperationException("part 2 failed");
        }))!;
        Assert.That(error.InnerExceptions.Single().Message, Is.EqualTo("part 2 failed"));
        // The workers are still usable afterwards.
        var counts = new int[3];
        CpuParallel.For(3, part => Interlocked.Increment(ref counts[part]));
        Assert.That(counts, Is.All.EqualTo(1));
    }

    [Test]
    public void For_InsideAPart_RunsItsPartsOnThatThread()
    {
        var inner = new int[2][];
        CpuParallel.For(2, part =>
        {
            int outerThread = Environment.CurrentManagedThreadId;
            var seen = new int[3];
            CpuParallel.For(3, p => seen[p] = Environment.CurrentManagedThreadId);
            Assert.That(seen, Is.All.EqualTo(outerThread));
            inner[part] = seen;
        });
        Assert.That(inner, Has.None.Null);
    }

    [Test]
    public void Caches_AreReadFromASysfsCacheFolder()
    {
        string root = Path.Combine(Path.GetTempPath(), $"convengine-caches-{Guid.NewGuid():N}");
        try
        {
            void Index(int i, int level, string type, string size)
            {
                string dir = Directory.CreateDirectory(Path.Combine(root, $"index{i}")).FullName;
                File.WriteAllText(Path.Combine(dir, "level"), $"{level}\n");
                File.WriteAllText(Path.Combine(dir, "type"), $"{type}\n");
                File.WriteAllText(Path.Combine(dir, "size"), $"{size}\n");
            }
            Index(0, 1, "Data", "48K");
            Index(1, 1, "Instruction", "32K");
            Index(2, 2, "Unified", "1024K");
            Index(3, 3, "Unified", "32768K");
            var caches = CpuCaches.Read(root);
            Assert.That((caches.L1Data, caches.L2, caches.L3), Is.EqualTo((48L << 10, 1L << 20, 32L << 20)));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Test]
    public void Caches_WithoutSysfs_FallBackToConservativeSizes()
    {
        var caches = CpuCaches.Read(Path.Combine(Path.GetTempPath(), $"convengine-no-such-{Guid.NewGuid():N}"));
        Assert.That(caches, Is.EqualTo(CpuCaches.Fallback));
    }

    [Test]
    public void FmaPeak_IsPositiveAtEveryAvailableLevel()
    {
        foreach (var level in Enum.GetValues<SimdLevel>().Where(l => l <= SimdSupport.Detected))
            Assert.That(CpuFmaPeak.Measure(1, level, TimeSpan.FromMilliseconds(2)), Is.GreaterThan(0), level.ToString());
    }
}
