using System.Reflection;

namespace ConvEngine.Tests.Import;

/// <summary>Where the ONNX tests find their files: shared/ (conformance cases) and the ResNet18 NuGet package.</summary>
internal static class OnnxTestFiles
{
    /// <summary>The shared/ folder (see <see cref="SharedFiles"/>), or null.</summary>
    public static string? SharedDirectory() => SharedFiles.Directory();

    public static string? ConformanceDirectory() =>
        SharedDirectory() is { } shared ? Path.Combine(shared, "conformance", "onnx-pytorch-converted") : null;

    /// <summary>The NuGet folder of Microsoft.ML.DnnImageFeaturizer.ResNet18 (downloaded by the test project's PackageDownload).</summary>
    public static string ResNet18PackageDirectory() =>
        typeof(OnnxTestFiles).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "ResNet18PackageDir")?.Value ?? "";

    public static string ResNet18Model => Path.Combine(ResNet18PackageDirectory(), "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
    public static string ResNet18Preprocess => Path.Combine(ResNet18PackageDirectory(), "tools", "DnnImageModels", "ResNetPrepOnnx", "ResNetPreprocess.onnx");
}
