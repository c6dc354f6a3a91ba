using System.Text.Json.Nodes;
using ConvEngine.Tests.Cli;
using NUnit.Framework;

namespace ConvEngine.Tests.Hardening;

/// <summary>
/// Issue 10's findings that have no folder in ../shared/fuzz-repro: stamps ("format"/"format_version") that were never
/// checked, a resume that trusted training.json's epochs_completed over the checkpoint folder's name, malformed
/// training.json quoted as raw parser text, and --save-outputs leaving the earlier inputs' .npy after a later one failed.
/// </summary>
public partial class FuzzReproducerTests
{
    private string CopyOfTheModel(string name)
    {
        string folder = Out(name);
        CopyDirectory(_model, folder);
        return folder;
    }

    private static string Checkpoint1(string output) => Path.Combine(output, "checkpoints", "epoch-0001", "training.json");

    private static void Edit(string path, Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    private static CliHarness.Result Resume(string output) =>
        CliHarness.RunProgram("train", "--resume", "--epochs", "2", "--steps-per-epoch", "1", "--validation-steps", "1", "--out", output);

    /// <summary>
    /// Fuzz run seed 2, gif case 684 (2026-12-04): a signature "GIF8\n " was quoted raw, so the refusal spanned two lines.
    /// </summary>
    [Test]
    public void Filter_GifSignatureWithALineBreak_IsOneLineNamingTheFile()
    {
        string path = Out("signature.gif");
        var bytes = new byte[64];
        "GIF8\n "u8.CopyTo(bytes);
        File.WriteAllBytes(path, bytes);
        var run = CliHarness.RunProgram("filter", path, "--out", Out("filter-signature"));
        Assert.That(AssertCleanError(run, path, "filter"), Does.Contain(@"'GIF8\n '").And.Contain("not GIF87a or GIF89a"));
    }

    [Test]
    public void Resume_TrainingJsonWhoseEpochsDisagreeWithTheFolderName_IsRefused()
    {
        string output = CopyOfTheModel("resume-epochs");
        Edit(Checkpoint1(output), json => json["epochs_completed"] = 5);
        Assert.That(AssertCleanError(Resume(output), "training.json", "train"), Does.Contain("epochs_completed 5").And.Contain("epoch-0001"));
    }

    [Test]
    public void Resume_TrainingJsonThatIsNotJson_NamesTheFile()
    {
        string output = CopyOfTheModel("resume-malformed");
        string state = Checkpoint1(output);
        File.WriteAllText(state, File.ReadAllText(state)[..40]);
        AssertCleanError(Resume(output), state, "train");
    }

    [TestCase("training.json", "format_version", 99, "newer ConvEngine")]
    [TestCase("training.json", "format", "keras", "expected")]
    [TestCase("config.json", "format_version", 99, "newer ConvEngine")]
    [TestCase("dataset.json", "format", "something-else", "expected")]
    public void EngineFileWithAForeignOrNewerStamp_IsRefused(string file, string key, object value, string why)
    {
        string output = CopyOfTheModel($"stamp-{file}-{key}");
        string path = file switch
        {
            "training.json" => Checkpoint1(output),
            "config.json" => Path.Combine(output, "model", "config.json"),
            _ => Path.Combine(output, "model", "dataset.json"),   // predict reads the one beside the model first
        };
        Edit(path, json => json[key] = JsonValue.Create(value));
        var run = file == "training.json" ? Resume(output) : CliHarness.RunProgram("predict", "--model", output, _small);
        Assert.That(AssertCleanError(run, file, file == "training.json" ? "train" : "predict"), Does.Contain(key == "format" ? "\"format\"" : "format_version 99").And.Contain(why));
    }

    [Test]
    public void Predict_SaveOutputs_WritesNothingWhenALaterInputFails()
    {
        string outputs = Out("save-outputs");
        string bad = Repro("bmp_bitcount0_divide_by_zero", "bitcount0.bmp");
        var run = CliHarness.RunProgram("predict", "--model", _model, "--save-outputs", outputs, _small, bad);
        AssertCleanError(run, bad, "predict");
        Assert.That(Directory.Exists(outputs) ? Directory.GetFiles(outputs) : [], Is.Empty, "no .npy of the first input is left behind");
    }
}
