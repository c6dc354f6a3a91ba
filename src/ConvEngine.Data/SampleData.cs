namespace ConvEngine.Data;

/// <summary>Finds the sample datasets bundled in the repository (src/ConvEngine.Data/SampleData).</summary>
public static class SampleData
{
    /// <summary>The bundled two-class Fashion-MNIST subset: train/ and valid/, each with ankle_boot/ and sneaker/.</summary>
    public const string ShoesName = "fashion-mnist-shoes";

    /// <summary>Overrides the search: the folder that holds the sample datasets.</summary>
    public const string EnvironmentVariable = "CONVENGINE_SAMPLEDATA";

    private const string SolutionFile = "ConvEngine.sln";
    private static readonly string RepositoryRelativePath = Path.Combine("src", "ConvEngine.Data", "SampleData");

    /// <summary>The folder of the bundled <c>fashion-mnist-shoes</c> dataset.</summary>
    public static string FindDefault() => Find(ShoesName);

    /// <summary>
    /// The folder of bundled dataset <paramref name="name"/>: under $CONVENGINE_SAMPLEDATA when set, else found by walking
    /// up from the running program (<see cref="AppContext.BaseDirectory"/>) to the repository root, the folder holding
    /// ConvEngine.sln, or to a SampleData folder copied beside the program.
    /// </summary>
    public static string Find(string name)
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } overridden)
        {
            string candidate = Path.Combine(overridden, name);
            return Directory.Exists(candidate) ? candidate
                : throw new DirectoryNotFoundException($"Sample dataset '{name}' is not in '{overridden}' (from ${EnvironmentVariable}).");
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string beside = Path.Combine(dir.FullName, "SampleData", name);
            if (HoldsFiles(beside))   // an empty folder tree left by a cleaned build is not the dataset
                return beside;
            if (File.Exists(Path.Combine(dir.FullName, SolutionFile)))
            {
                string inRepository = Path.Combine(dir.FullName, RepositoryRelativePath, name);
                return Directory.Exists(inRepository) ? inRepository
                    : throw new DirectoryNotFoundException($"Sample dataset '{name}' is missing from the repository at '{inRepository}'.");
            }
        }
        throw new DirectoryNotFoundException(
            $"Sample dataset '{name}' not found: no folder above '{AppContext.BaseDirectory}' holds {SolutionFile} or SampleData/{name}. " +
            $"Pass a data directory explicitly, or set ${EnvironmentVariable}.");
    }

    private static bool HoldsFiles(string directory) =>
        Directory.Exists(directory) && Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Any();
}
