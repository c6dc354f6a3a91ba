using ConvEngine.Data;
using NUnit.Framework;

namespace ConvEngine.Tests.Data;

public class SeededShuffleTests
{
    [Test]
    public void Permutation_IsDeterministic_AndAPermutation()
    {
        var a = SeededShuffle.Permutation(100, 42);
        Assert.That(a, Is.EquivalentTo(Enumerable.Range(0, 100)));
        Assert.That(SeededShuffle.Permutation(100, 42), Is.EqualTo(a));
        Assert.That(SeededShuffle.Permutation(100, 43), Is.Not.EqualTo(a));
    }

    [Test]
    public void Permutation_PutsEachElementEverywhereAboutEqually()
    {
        // 4000 shuffles of 4 elements: each (element, position) pair expected 1000 times; 5 σ ≈ 5·√(4000·¼·¾) ≈ 137.
        var counts = new int[4, 4];
        for (ulong seed = 0; seed < 4000; seed++)
        {
            var p = SeededShuffle.Permutation(4, seed);
            for (int position = 0; position < 4; position++)
                counts[p[position], position]++;
        }
        foreach (int count in counts)
            Assert.That(count, Is.InRange(1000 - 137, 1000 + 137));
    }

    [Test]
    public void BufferedOrder_OfOne_IsTheIdentity_AndOfAllIsAPermutation()
    {
        Assert.That(SeededShuffle.BufferedOrder(20, 1, 5), Is.EqualTo(Enumerable.Range(0, 20)));
        Assert.That(SeededShuffle.BufferedOrder(20, 64, 5), Is.EquivalentTo(Enumerable.Range(0, 20)));
    }

    [Test]
    public void BufferedOrder_NeverMovesAnElementMoreThanBufferMinusOneEarlier()
    {
        // Element e ≥ B enters the buffer only after position e − B is emitted, so it appears at position ≥ e − B + 1.
        for (ulong seed = 0; seed < 20; seed++)
        {
            var order = SeededShuffle.BufferedOrder(200, 8, seed);
            Assert.That(order, Is.EquivalentTo(Enumerable.Range(0, 200)));
            for (int position = 0; position < order.Length; position++)
                Assert.That(order[position] - position, Is.LessThanOrEqualTo(7));
        }
    }
}
