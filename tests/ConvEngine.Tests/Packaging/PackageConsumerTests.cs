using NUnit.Framework;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ConvEngine.Tests.Packaging;

/// <summary>
/// ConvEngine as a user gets it: the six shipped projects are packed (from this build's outputs) into a temporary local
/// feed, a fresh console project outside the solution adds the packages from that feed and builds and runs the
/// README's library example (the course's convnet fitted for one epoch on a few images), and the `convengine` tool
/// is installed from the feed into a temporary tool path and runs `devices` and a one-epoch `train`.
/// The consumer restores into its own packages folder, so it never sees a stale ConvEngine from the user's cache;
/// every other package comes from the user's folder as a fallback (no download).
/// </summary>
[TestFixture, NonParallelizable, Category("Packaging")]
public sealed class PackageConsumerTests
{
    private static readonly string[] ShippedProjects =
    [
        "kernels/ConvEngine.Kernels/ConvEngine.Kernels.csproj",
        "src/ConvEngine/ConvEngine.csproj",
        "src/ConvEngine.Data/ConvEngine.Data.csproj",
        "src/ConvEngine.Import/ConvEngine.Import.csproj",
        "src/ConvEngine.Visualization/ConvEngine.Visualization.csproj",
        "src/ConvEngine.Cli/ConvEngine.Cli.csproj",
    ];

    private string _root = "";
    private string _work = "";
    private string _feed = "";
    private string _version = "";
    private Dictionary<string, string> _env = new();

    [OneTimeSetUp]
    public void PackIntoLocalFeed()
    {
        _root = RepositoryRoot();
        _work = Directory.CreateTempSubdirectory("convengine-packages-").FullName;
        _feed = Directory.CreateDirectory(Path.Combine(_work, "feed")).FullName;
        _version = Regex.Match(File.ReadAllText(Path.Combine(_root, "Directory.Build.props")), @"<Version>([^<]+)</Version>").Groups[1].Value;
        Assert.That(_version, Is.Not.Empty, "Directory.Build.props must hold the one <Version> of all packages");

        string userPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(_work, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{_feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <fallbackPackageFolders>
                <add key="user" value="{userPackages}" />
              </fallbackPackageFolders>
            </configuration>
            """);
        _env = new()
        {
            ["NUGET_PACKAGES"] = Path.Combine(_work, "packages"),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
        };

        foreach (string project in ShippedProjects)
            Run("dotnet", ["pack", Path.Combine(_root, project), "-c", Configuration, "--no-build", "-o", _feed, "-nologo"], _root);
    }

    [Test]
    public void Packing_LeavesTheBuildOutputAlone()
    {
        // The tool's bundled sample goes into the publish output only: a copy in bin/ would be removed by the next
        // incremental build and leave empty class folders there, which the repository's `dotnet run … train` found
        // first and refused ("holds no images").
        string bin = Path.Combine(_root, "src", "ConvEngine.Cli", "bin", Configuration, "net10.0");
        Assert.That(Directory.Exists(Path.Combine(bin, "SampleData")), Is.False, $"{bin} holds no SampleData after packing");
    }

    [OneTimeTearDown]
    public void RemoveWorkFolder()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Test]
    public void Feed_HoldsEveryPackage_WithReadmeLicenceSymbolsAndOneVersion()
    {
        foreach (string id in new[] { "ConvEngine.Kernels", "ConvEngine", "ConvEngine.Data", "ConvEngine.Import", "ConvEngine.Visualization", "ConvEngine.Cli" })
        {
            string package = Path.Combine(_feed, $"{id}.{_version}.nupkg");
            Assert.That(File.Exists(package), $"{id} {_version} packed");
            Assert.That(File.Exists(Path.ChangeExtension(package, ".snupkg")), $"{id}'s symbols package");
            using var zip = System.IO.Compression.ZipFile.OpenRead(package);
            Assert.That(zip.GetEntry("README.md"), Is.Not.Null, $"{id} carries the README");
            using var nuspec = new StreamReader(zip.GetEntry($"{id}.nuspec")!.Open());
            string text = nuspec.ReadToEnd();
            Assert.That(text, Does.Contain("<license type=\"expression\">MIT</license>"), id);
            Assert.That(text, Does.Match("<repository type=\"git\" url=\"https://"), id);
        }
        using var core = System.IO.Compression.ZipFile.OpenRead(Path.Combine(_feed, $"ConvEngine.Kernels.{_version}.nupkg"));
        using var reader = new StreamReader(core.GetEntry("ConvEngine.Kernels.nuspec")!.Open());
        var dependencies = Regex.Matches(reader.ReadToEnd(), "<dependency id=\"([^\"]+)\"").Select(m => m.Groups[1].Value).Order();
        Assert.That(dependencies, Is.EqualTo(new[] { "ILGPU", "ILGPU.Algorithms", "System.Numerics.Tensors" }),
            "the kernels (and so the core) depend on ILGPU and System.Numerics.Tensors only");
    }

    [Test]
    public void ReadmeLibraryExample_BuildsAndTrainsFromThePackages()
    {
        string example = ReadmeExample();
        string app = Directory.CreateDirectory(Path.Combine(_work, "consumer")).FullName;
        File.WriteAllText(Path.Combine(app, "consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="ConvEngine" Version="{_version}" />
                <PackageReference Include="ConvEngine.Data" Version="{_version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), example);
        string data = SmallImageFolder(Path.Combine(_work, "images"), perClass: 24);

        Run("dotnet", ["build", app, "-c", "Release", "--configfile", Path.Combine(_work, "nuget.config"), "-nologo", "-v", "q"], _work);
        string output = Run("dotnet", ["run", "--project", app, "-c", "Release", "--no-build", "--", data], _work);

        var epochLine = Regex.Match(output, @"epoch 1: loss (\d+\.\d+), binary_accuracy (\d+\.\d+), val_loss (\d+\.\d+), val_binary_accuracy (\d+\.\d+)");
        Assert.That(epochLine.Success, $"the example prints its history; it printed:\n{output}");
        double loss = double.Parse(epochLine.Groups[1].Value);
        Assert.That(loss, Is.GreaterThan(0).And.LessThan(5), "binary cross-entropy of one epoch is finite and positive");
        Assert.That(double.Parse(epochLine.Groups[2].Value), Is.InRange(0, 1));
    }

    [Test]
    public void Tool_InstallsFromTheFeed_ListsDevicesAndTrainsOneEpoch()
    {
        string tools = Path.Combine(_work, "tools");
        Run("dotnet", ["tool", "install", "ConvEngine.Cli", "--version", _version, "--tool-path", tools,
            "--configfile", Path.Combine(_work, "nuget.config")], _work);
        string convengine = Path.Combine(tools, "convengine");
        Assert.That(File.Exists(convengine), "the tool's command is `convengine`");

        string devices = Run(convengine, ["devices"], _work);
        Assert.That(devices, Does.Contain("cpu"));

        string output = Path.Combine(_work, "train-out");
        string log = Run(convengine, ["train", "--epochs", "1", "--out", output], _work);
        Assert.That(log, Does.Contain("Epoch 1/1"));
        Assert.That(File.Exists(Path.Combine(output, "history.csv")), "the installed tool trains on its bundled sample and writes history.csv");
        Assert.That(File.ReadAllLines(Path.Combine(output, "history.csv")), Has.Length.EqualTo(2), "a header and one epoch");

        // Without the runtime it needs (a .NET root holding the host but no Microsoft.NETCore.App 10 or later), the
        // tool's launcher stops with the host's message naming the framework and version to install, not a crash.
        string bareRoot = Path.Combine(_work, "dotnet-without-runtime");
        string hostFxr = Directory.GetDirectories(Path.Combine(DotnetRoot(), "host", "fxr")).Order(StringComparer.Ordinal).Last();
        CopyDirectory(hostFxr, Path.Combine(bareRoot, "host", "fxr", Path.GetFileName(hostFxr)));
        var bare = new ProcessStartInfo(convengine, "devices") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string name in bare.Environment.Keys.Where(k => k.StartsWith("DOTNET_ROOT", StringComparison.Ordinal)).ToList())
            bare.Environment.Remove(name);   // the test host may set DOTNET_ROOT_X64, which wins over DOTNET_ROOT
        bare.Environment["DOTNET_ROOT"] = bareRoot;
        using var process = Process.Start(bare)!;
        string message = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Not.EqualTo(0));
        Assert.That(message, Does.Contain("You must install or update .NET").And.Contain("'Microsoft.NETCore.App', version '10.0"));
    }

    private static string DotnetRoot()
    {
        string? path = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (string.IsNullOrEmpty(path))
        {
            string dotnet = Environment.GetEnvironmentVariable("PATH")!.Split(Path.PathSeparator)
                .Select(d => Path.Combine(d, "dotnet")).First(File.Exists);
            path = Path.GetDirectoryName(new FileInfo(dotnet).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? dotnet)!;
        }
        return path;
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (string dir in Directory.GetDirectories(from)) CopyDirectory(dir, Path.Combine(to, Path.GetFileName(dir)));
    }

    /// <summary>The first C# block of README.md's "Use it from your code" section, compiled as the consumer's Program.cs.</summary>
    private string ReadmeExample()
    {
        string readme = File.ReadAllText(Path.Combine(_root, "README.md"));
        int section = readme.IndexOf("## Use it from your code", StringComparison.Ordinal);
        Assert.That(section, Is.GreaterThanOrEqualTo(0), "README.md has a 'Use it from your code' section");
        var block = Regex.Match(readme[section..], "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.That(block.Success, "the section holds a ```csharp example");
        return block.Groups[1].Value;
    }

    /// <summary>A few of the bundled sample's images in train/ and valid/ class folders.</summary>
    private string SmallImageFolder(string target, int perClass)
    {
        string sample = Path.Combine(_root, "src", "ConvEngine.Data", "SampleData", "fashion-mnist-shoes");
        foreach (string split in new[] { "train", "valid" })
        foreach (string classDir in Directory.GetDirectories(Path.Combine(sample, split)))
        {
            string to = Directory.CreateDirectory(Path.Combine(target, split, Path.GetFileName(classDir))).FullName;
            foreach (string file in Directory.GetFiles(classDir, "*.png").Order(StringComparer.Ordinal).Take(perClass))
                File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        return target;
    }

    private string Run(string program, string[] arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in arguments) start.ArgumentList.Add(a);
        foreach (var (k, v) in _env) start.Environment[k] = v;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} {string.Join(' ', arguments)} did not finish in 5 minutes");
        }
        Assert.That(process.ExitCode, Is.EqualTo(0), $"{program} {string.Join(' ', arguments)} failed:\n{stdout}\n{stderr.Result}");
        return stdout + stderr.Result;
    }

    private static string Configuration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ConvEngine.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException("ConvEngine.sln not found above the test assembly");
    }
}
