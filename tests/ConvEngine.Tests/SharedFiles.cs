using NUnit.Framework;

namespace ConvEngine.Tests;

/// <summary>
/// The shared/ folder beside the repository (fixtures, conformance cases, fuzz reproducers): $CONVENGINE_SHARED, else
/// the first ancestor of the test assembly's folder that has shared/reference/keras-semantics.md. A test that needs it
/// is skipped where it is absent, except in CI (CI=true, as .ci/run sets it), where a missing fixture fails the test:
/// a check that silently stops running proves nothing.
/// </summary>
internal static class SharedFiles
{
    public static bool InCi => Environment.GetEnvironmentVariable("CI") is { } ci && (ci.Equals("true", StringComparison.OrdinalIgnoreCase) || ci == "1");

    /// <summary>The shared/ folder, or null when there is none.</summary>
    public static string? Directory()
    {
        if (Environment.GetEnvironmentVariable("CONVENGINE_SHARED") is { Length: > 0 } env && System.IO.Directory.Exists(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared");
            if (File.Exists(Path.Combine(candidate, "reference", "keras-semantics.md"))) return candidate;
        }
        return null;
    }

    /// <summary>The path of <paramref name="relative"/> (a file or folder) under shared/; ends the test when it is missing (fails in CI).</summary>
    public static string Require(string relative)
    {
        string? root = Directory();
        string? path = root is null ? null : Path.Combine(root, relative);
        if (path is not null && (File.Exists(path) || System.IO.Directory.Exists(path))) return path;
        string why = root is null
            ? $"shared/ was not found beside the repository (needed: shared/{relative}); set CONVENGINE_SHARED"
            : $"shared/{relative} is missing from {root}";
        if (InCi) Assert.Fail($"{why}. In CI (CI=true) the shared fixtures are required.");
        Assert.Ignore(why + ".");
        return "";
    }
}
