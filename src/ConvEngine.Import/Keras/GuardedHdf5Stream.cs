using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;
using PureHDF;
using PureHDF.VOL.Native;

namespace ConvEngine.Import.Keras;

/// <summary>
/// The HDF5 file as PureHDF reads it, with two guards PureHDF lacks. A soft link that leads back to itself sends
/// PureHDF's path lookup round the loop until the stack overflows (which no catch survives); each turn reads the
/// file, so a read made with the stack nearly used up is refused here, and so is a structure that loops without
/// recursing (reading more than <see cref="ReadBudget"/> bytes). Both trips are sticky: PureHDF swallows some
/// exceptions around link resolution, and every later read must fail too. The byte count also tells the reader
/// whether a dataset's values really came from this file.
/// </summary>
internal sealed class GuardedHdf5Stream(FileStream inner) : Stream
{
    private string? _trip;

    /// <summary>Bytes delivered so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>Reading the structure and every weight touches each byte a few times; far more means a loop.</summary>
    public long ReadBudget { get; } = 64 * inner.Length + (256L << 20);

    /// <summary>Why reading was stopped, or null.</summary>
    public string? Trip => _trip;

    public override int Read(Span<byte> buffer)
    {
        if (_trip is null && !RuntimeHelpers.TryEnsureSufficientExecutionStack())
            _trip = "its groups and links nest deeper than the stack allows (a soft link that leads back to itself?)";
        if (_trip is null && BytesRead + buffer.Length > ReadBudget)
            _trip = $"reading its structure took more than {ReadBudget} bytes, {ReadBudget / Math.Max(1, inner.Length)} times its length (its B-trees or heaps loop)";
        if (_trip is not null) throw new InvalidDataException(_trip);
        int read = inner.Read(buffer);
        BytesRead += read;
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => inner.Length;
    public override long Position { get => inner.Position; set => inner.Position = value; }
    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>
/// What PureHDF 2.2 knows about a dataset but does not make public: whether its values live in other files
/// (external storage, which would let a weights file read any local file) and whether a filter (deflate) may have
/// compressed it. Read by reflection on the pinned version; if the members are gone the answers are the cautious
/// ones (external storage is then caught after reading, by the byte count).
/// </summary>
internal static class Hdf5DatasetFacts
{
    private static readonly PropertyInfo? ExternalFileList =
        typeof(NativeDataset).GetProperty("InternalExternalFileList", BindingFlags.Instance | BindingFlags.NonPublic);
    private static readonly PropertyInfo? FilterPipeline =
        typeof(NativeDataset).GetProperty("InternalFilterPipeline", BindingFlags.Instance | BindingFlags.NonPublic);

    /// <summary>The dataset's data is stored in other files (HDF5 external storage), as far as can be told before reading.</summary>
    public static bool HasExternalStorage(IH5Dataset dataset) =>
        dataset is NativeDataset native && ExternalFileList?.GetValue(native) is not null;

    /// <summary>A filter pipeline is present (or cannot be ruled out), so stored bytes may be fewer than the values need.</summary>
    public static bool MayBeCompressed(IH5Dataset dataset)
    {
        if (dataset is not NativeDataset native || FilterPipeline is null) return true;
        var pipeline = FilterPipeline.GetValue(native);
        if (pipeline is null) return false;
        var descriptions = pipeline.GetType().GetProperty("FilterDescriptions")?.GetValue(pipeline) as ICollection;
        return descriptions is null || descriptions.Count > 0;
    }
}
