using ConvEngine.Data;
using NUnit.Framework;

namespace ConvEngine.Tests.Data;

public class PrefetchTests
{
    [Test]
    public void Items_ComeOutInIndexOrder()
    {
        Assert.That(Prefetch.Run(50, (i, _) => i * i, capacity: 2), Is.EqualTo(Enumerable.Range(0, 50).Select(i => i * i)));
        Assert.That(Prefetch.Run(0, (i, _) => i), Is.Empty);
    }

    [Test]
    public void ProducerException_ReachesTheConsumer_AfterTheItemsBeforeIt()
    {
        var received = new List<int>();
        var ex = Assert.Throws<InvalidOperationException>(() =>
        {
            foreach (int item in Prefetch.Run(10, (i, _) => i == 4 ? throw new InvalidOperationException("decode failed at 4") : i))
                received.Add(item);
        });
        Assert.That(ex!.Message, Is.EqualTo("decode failed at 4"));
        Assert.That(received, Is.EqualTo(new[] { 0, 1, 2, 3 }));
    }

    [Test]
    public void Producer_StaysWithinCapacityOfTheConsumer()
    {
        // When item i is produced, items 0..i−1 were written; the channel holds at most `capacity` of them and the
        // consumer may hold one more it has read but not yet handed over, so i − consumed ≤ capacity + 1.
        const int capacity = 2;
        int consumed = 0, worstLead = 0;
        foreach (int _ in Prefetch.Run(200, (i, _) =>
                 {
                     worstLead = Math.Max(worstLead, i - Volatile.Read(ref consumed));
                     return i;
                 }, capacity))
            Interlocked.Increment(ref consumed);
        Assert.That(worstLead, Is.LessThanOrEqualTo(capacity + 1));
    }

    [Test]
    public void StoppingEarly_CancelsTheProducer()
    {
        int produced = 0;
        foreach (int item in Prefetch.Run(1000, (i, _) => { Interlocked.Increment(ref produced); return i; }, capacity: 2))
            if (item == 3)
                break;
        // Disposal waited for the producer; it cannot have got further than capacity + 1 past the last item read.
        int atDisposal = Volatile.Read(ref produced);
        Assert.That(atDisposal, Is.LessThanOrEqualTo(4 + 3));
        Assert.That(Volatile.Read(ref produced), Is.EqualTo(atDisposal), "no production after disposal");
    }

    [Test]
    public void CancelledToken_StopsTheConsumer()
    {
        using var cancel = new CancellationTokenSource();
        Assert.Catch<OperationCanceledException>(() =>
        {
            foreach (int item in Prefetch.Run(1000, (i, _) => i, 2, cancel.Token))
                if (item == 5)
                    cancel.Cancel();
        });
    }
}
