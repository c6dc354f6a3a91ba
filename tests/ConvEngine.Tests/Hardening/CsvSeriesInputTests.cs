using ConvEngine.Data.Series;
using NUnit.Framework;

namespace ConvEngine.Tests.Hardening;

/// <summary>
/// The series command's CSV reader opened whatever path it was given with a StreamReader: /dev/zero is one endless
/// line (memory grows until the process dies) and a FIFO blocks on open. Now only a regular file of bounded size is read.
/// </summary>
public class CsvSeriesInputTests
{
    [Test]
    public void DeviceThatNeverEnds_IsRefusedWithoutReadingIt()
    {
        if (!File.Exists("/dev/zero")) Assert.Ignore("no /dev/zero here");
        var e = Assert.Throws<IOException>(() => CsvSeries.Read("/dev/zero"))!;
        Assert.That(e.Message, Does.Contain("/dev/zero").And.Contain("character device"));
    }

    [Test]
    public void Folder_IsRefusedNamingIt()
    {
        string folder = Directory.CreateTempSubdirectory("convengine-csv-").FullName;
        try
        {
            var e = Assert.Throws<IOException>(() => CsvSeries.Read(folder))!;
            Assert.That(e.Message, Does.Contain(folder).And.Contain("not a regular file"));
        }
        finally { Directory.Delete(folder); }
    }
}

/// <summary>`convengine curves` read history.csv with File.ReadAllLines: /dev/zero exhausted memory, a FIFO blocked.</summary>
public class HistoryCsvInputTests
{
    [Test]
    public void DeviceAsHistoryCsv_IsRefusedWithoutReadingIt()
    {
        if (!File.Exists("/dev/zero")) Assert.Ignore("no /dev/zero here");
        var e = Assert.Throws<IOException>(() => ConvEngine.Cli.Commands.HistoryFiles.ReadCsv("/dev/zero"))!;
        Assert.That(e.Message, Does.Contain("/dev/zero").And.Contain("character device"));
    }
}
