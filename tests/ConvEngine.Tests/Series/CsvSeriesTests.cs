using ConvEngine.Data;
using ConvEngine.Data.Series;
using NUnit.Framework;

namespace ConvEngine.Tests.Series;

/// <summary>CSV columns as series: the bundled public series, missing cells, and the errors naming file, line and column.</summary>
public class CsvSeriesTests
{
    private string _dir = null!;

    [SetUp] public void SetUp() => _dir = Directory.CreateTempSubdirectory("convengine-csv-tests-").FullName;
    [TearDown] public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string Write(string text, string name = "series.csv")
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    // statsmodels' co2.csv as Debian ships it: weekly Mauna Loa CO2 from 1958-03-29 to 2001-12-29, 59 weeks empty.
    [Test]
    public void BundledCo2_ReadsWeeklyDates_AndFillsTheEmptyWeeks()
    {
        var series = CsvSeries.Read(Path.Combine(SampleData.Find("series"), "co2.csv"));
        Assert.That(series.Column, Is.EqualTo("co2"));
        Assert.That(series.XColumn, Is.EqualTo("date"));
        Assert.That(series.Values, Has.Length.EqualTo(2284));
        Assert.That(series.FilledMissing, Is.EqualTo(59));
        Assert.That(series.XDates![0], Is.EqualTo(new DateTime(1958, 3, 29)));
        Assert.That(series.XDates[^1], Is.EqualTo(new DateTime(2001, 12, 29)));
        Assert.That(series.Values[0], Is.EqualTo(316.1f));
        Assert.That(series.Values.All(float.IsFinite));
    }

    // sunspots.csv has a quoted header, "YEAR","SUNACTIVITY": yearly numbers 1700–2008.
    [Test]
    public void BundledSunspots_ReadsQuotedHeaderAndYears()
    {
        var series = CsvSeries.Read(Path.Combine(SampleData.Find("series"), "sunspots.csv"), "SUNACTIVITY");
        Assert.That(series.Values, Has.Length.EqualTo(309));
        Assert.That(series.XNumbers![0], Is.EqualTo(1700));
        Assert.That(series.XNumbers[^1], Is.EqualTo(2008));
        Assert.That(series.XDates, Is.Null, "years are numbers, not dates");
    }

    [Test]
    public void EmptyCells_AreInterpolatedLinearly_OrRefusedNamingTheLine()
    {
        string path = Write("t,v\n0,1\n1,\n2,\n3,7\n4,\n");
        var series = CsvSeries.Read(path);
        Assert.That(series.Values, Is.EqualTo(new[] { 1f, 3f, 5f, 7f, 7f }), "inner runs interpolate, the end takes the last value");
        Assert.That(series.FilledMissing, Is.EqualTo(3));
        var e = Assert.Throws<FormatException>(() => CsvSeries.Read(path, missing: MissingValues.Error));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("line 3").And.Contain("'v'"));
    }

    [Test]
    public void MissingColumn_IsAnErrorListingTheColumns()
    {
        string path = Write("date,co2\n19580329,316.1\n");
        var e = Assert.Throws<FormatException>(() => CsvSeries.Read(path, "ch4"));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("no column 'ch4'").And.Contain("date, co2"));
    }

    [Test]
    public void NonNumericCell_IsAnErrorNamingTheLineAndValue()
    {
        string path = Write("x,y\n1,2.5\n2,n/a\n3,4\n");
        var e = Assert.Throws<FormatException>(() => CsvSeries.Read(path));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("line 3").And.Contain("'n/a'").And.Contain("column 'y'"));
    }

    [Test]
    public void RowOfTheWrongWidth_IsAnErrorNamingTheLine()
    {
        string path = Write("x,y\n1,2\n2,3,4\n");
        Assert.That(Assert.Throws<FormatException>(() => CsvSeries.Read(path))!.Message, Does.Contain("line 3").And.Contain("3 field(s)"));
    }

    [Test]
    public void OneColumn_UsesTheRowIndex_AndCommasInQuotesStayInTheField()
    {
        var single = CsvSeries.Read(Write("value\n5\n6\n", "one.csv"));
        Assert.That(single.XColumn, Is.Null);
        Assert.That(single.XNumbers, Is.EqualTo(new double[] { 0, 1 }));
        var quoted = CsvSeries.Read(Write("label,value\n\"a, b\",1\n\"say \"\"hi\"\"\",2\n", "quoted.csv"));
        Assert.That(quoted.XLabels, Is.EqualTo(new[] { "a, b", "say \"hi\"" }));
    }

    [Test]
    public void MissingFile_NamesIt() =>
        Assert.That(Assert.Throws<FileNotFoundException>(() => CsvSeries.Read(Path.Combine(_dir, "absent.csv")))!.Message, Does.Contain("absent.csv"));
}
