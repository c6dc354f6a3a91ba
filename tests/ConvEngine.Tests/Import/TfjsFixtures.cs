using System.Text.Json.Nodes;
using NUnit.Framework;

namespace ConvEngine.Tests.Import;

/// <summary>
/// The fixtures tests/tfjs/models.mjs writes with TensorFlow.js 4.22 (an independent implementation of Keras's layers
/// and of the TF.js format), copied beside the test assembly: models/&lt;name&gt;/ (model.json, shards, expected.json
/// with the inputs and tfjs's outputs after tfjs's own loader read the files back), weights/dtypes/, oracle/.
/// </summary>
internal static class TfjsFixtures
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures", "tfjs");

    public static string ModelDir(string name) => Path.Combine(Root, "models", name);

    public static IEnumerable<string> ModelNames =>
        Directory.Exists(Path.Combine(Root, "models"))
            ? Directory.GetDirectories(Path.Combine(Root, "models")).Select(Path.GetFileName).Order(StringComparer.Ordinal)!
            : [];

    public static JsonObject Json(string path) => (JsonObject)JsonNode.Parse(File.ReadAllText(path))!;

    public static float[] Floats(JsonNode? node) => ((JsonArray)node!).Select(v => (float)v!.GetValue<double>()).ToArray();

    public static int[] Ints(JsonNode? node) => ((JsonArray)node!).Select(v => v!.GetValue<int>()).ToArray();

    /// <summary>expected.json of a model fixture: the batch fed to tfjs and what tfjs returned.</summary>
    public sealed record Expected(int[] InputShape, float[] Input, int[] OutputShape, float[] Output, string[] Layers);

    public static Expected ExpectedOf(string name)
    {
        var e = Json(Path.Combine(ModelDir(name), "expected.json"));
        return new Expected(Ints(e["input_shape"]), Floats(e["input"]), Ints(e["output_shape"]), Floats(e["output"]),
            ((JsonArray)e["layers"]!).Select(l => l!.GetValue<string>()).ToArray());
    }

    /// <summary>Copies a fixture folder to a fresh temp folder (for tests that damage it).</summary>
    public static string CopyToTemp(string name)
    {
        string target = Directory.CreateTempSubdirectory("convengine-tfjs-").FullName;
        foreach (string file in Directory.GetFiles(ModelDir(name))) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        return target;
    }

    /// <summary>|got − expected| ≤ atol + rtol·|expected| everywhere; a failure names the first bad index.</summary>
    public static void AssertClose(float[] actual, float[] expected, double atol, double rtol, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        double worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double diff = Math.Abs((double)actual[i] - expected[i]);
            worst = Math.Max(worst, diff);
            if (!(diff <= atol + rtol * Math.Abs(expected[i])))
                Assert.Fail($"{what}: value {i} is {actual[i]:R}, tfjs gives {expected[i]:R} (|diff| {diff:G3}).");
        }
        TestContext.Out.WriteLine($"{what}: largest |diff| {worst:G3} over {actual.Length} values");
    }
}
