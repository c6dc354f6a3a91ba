using ConvEngine.Cli.Commands;
using ConvEngine.Import.Onnx.Proto;
using Google.Protobuf;
using NUnit.Framework;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Tests.Import;

/// <summary>`convengine conformance DIR` in-process, on copies of shared/ cases (one altered so it must fail).</summary>
[NonParallelizable] // swaps Console.Error and AnsiConsole.Console
public class OnnxConformanceCommandTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        string source = SharedFiles.Require("conformance/onnx-pytorch-converted");
        _dir = Directory.CreateTempSubdirectory("convengine-conformance-").FullName;
        foreach (string name in new[] { "test_Conv2d", "test_ConvTranspose2d", "test_Sigmoid" })
            CopyDirectory(Path.Combine(source, name), Path.Combine(_dir, name));
        // Every shared case now imports; a case with an operator the importer refuses (Erf) keeps the "unsupported" row tested.
        CopyDirectory(Path.Combine(source, "test_Sigmoid"), Path.Combine(_dir, "test_Erf"));
        File.WriteAllBytes(Path.Combine(_dir, "test_Erf", "model.onnx"),
            new OnnxTestModel().Input("x", 1, 2, 3).Node("Erf", ["x"], ["y"]).Output("y").Bytes());
    }

    [TearDown]
    public void TearDown()
    {
        if (_dir is not null && Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (string dir in Directory.GetDirectories(from)) CopyDirectory(dir, Path.Combine(to, Path.GetFileName(dir)));
    }

    private static (int Code, string Out) Run(params string[] args)
    {
        var result = Cli.CliHarness.Run<ConformanceCommand>(args);
        return (result.ExitCode, result.Out);
    }

    private static string Line(string output, string name) => output.Split('\n').Single(l => l.Contains(name + " "));

    [Test]
    public void Table_ListsEachCaseWithItsOpsAndStatus_AndTheSummary()
    {
        var (code, output) = Run(_dir, "--backend", "cpu");
        Assert.That(code, Is.Zero, output);
        Assert.That(Line(output, "test_Conv2d"), Does.Contain("Conv").And.Contain("pass"));
        Assert.That(Line(output, "test_Sigmoid"), Does.Contain("Sigmoid").And.Contain("pass"));
        Assert.That(Line(output, "test_ConvTranspose2d"), Does.Contain("ConvTranspose").And.Contain("pass"));
        Assert.That(Line(output, "test_Erf"), Does.Contain("Erf").And.Contain("unsupported"));
        Assert.That(output, Does.Contain("conformance on cpu: 3 pass, 0 fail, 1 unsupported, 0 error of 4 cases"));
    }

    // A recorded output nudged by 1e-2 (far outside 1e-5 + 1e-3·|expected|) must be reported as a failure with exit code 1.
    [Test]
    public void AlteredExpectedOutput_IsAFailure_AndTheExitCodeSaysSo()
    {
        string outputFile = Path.Combine(_dir, "test_Sigmoid", "test_data_set_0", "output_0.pb");
        var tensor = TensorProto.Parser.ParseFrom(File.ReadAllBytes(outputFile));
        float[] values = tensor.HasRawData ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray() : tensor.FloatData.ToArray();
        values[5] += 1e-2f;
        tensor.FloatData.Clear();
        tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        File.WriteAllBytes(outputFile, tensor.ToByteArray());

        var (code, output) = Run(_dir, "--details");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(Line(output, "test_Sigmoid"), Does.Contain("fail").And.Contain("first at 5"));
        Assert.That(output, Does.Contain("2 pass, 1 fail, 1 unsupported"));
    }

    [Test]
    public void TruncatedModel_IsAnError_NotACrash()
    {
        string model = Path.Combine(_dir, "test_Conv2d", "model.onnx");
        byte[] bytes = File.ReadAllBytes(model);
        File.WriteAllBytes(model, bytes[..(bytes.Length / 2)]);
        var (code, output) = Run(_dir, "--details");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(Line(output, "test_Conv2d"), Does.Contain("error"));
    }
}
