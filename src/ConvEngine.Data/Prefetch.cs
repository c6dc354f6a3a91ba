using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace ConvEngine.Data;

/// <summary>
/// Runs a producer on a background task a bounded number of items ahead of the consumer, so that decoding overlaps
/// training. Items come out in index order; an exception thrown by the producer reaches the consumer, with its
/// original stack, after the items produced before it; disposing the enumerator cancels and waits for the producer.
/// </summary>
internal static class Prefetch
{
    /// <summary>Yields <c>produce(0) … produce(count − 1)</c>, producing at most <paramref name="capacity"/> items ahead.</summary>
    public static IEnumerable<T> Run<T>(int count, Func<int, CancellationToken, T> produce, int capacity = 2,
                                        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentNullException.ThrowIfNull(produce);
        if (capacity < 1)
            throw new ArgumentOutOfRangeException(nameof(capacity), $"Prefetch: capacity must be at least 1, got {capacity}.");
        return Iterate(count, produce, capacity, cancellationToken);
    }

    private static IEnumerable<T> Iterate<T>(int count, Func<int, CancellationToken, T> produce, int capacity,
                                             CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        ExceptionDispatchInfo? failure = null;
        var producer = Task.Run(async () =>
        {
            try
            {
                for (int i = 0; i < count; i++)
                {
                    stop.Token.ThrowIfCancellationRequested();
                    await channel.Writer.WriteAsync(produce(i, stop.Token), stop.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The consumer stopped early or was cancelled; nothing to report.
            }
            catch (Exception e)
            {
                // Written before Complete, so the consumer sees it once the channel drains (Complete is a release).
                failure = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                channel.Writer.Complete();
            }
        });
        try
        {
            var reader = channel.Reader;
            while (reader.WaitToReadAsync(cancellationToken).AsTask().GetAwaiter().GetResult())
            {
                while (reader.TryRead(out var item))
                    yield return item;
            }
            failure?.Throw();
        }
        finally
        {
            stop.Cancel();
            producer.GetAwaiter().GetResult();
        }
    }
}
