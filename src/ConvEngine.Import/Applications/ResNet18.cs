using ConvEngine.Import.Onnx;
using ConvEngine.Import.Transfer;
using ConvEngine.Kernels;
using ConvEngine.Models;

namespace ConvEngine.Import.Applications;

/// <summary>
/// Where the ImageNet ResNet18 of NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 lies: the network
/// (tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx) and its preprocessing graph (ResNetPrepOnnx/ResNetPreprocess.onnx).
/// </summary>
public sealed record ResNet18Files(string Model, string Preprocess)
{
    /// <summary>The NuGet package that ships the ResNet18 ONNX files.</summary>
    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";
    /// <summary>The version of that package the files were checked against.</summary>
    public const string PackageVersion = "0.23.1";
    private const string ModelInPackage = "tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx";
    private const string PreprocessInPackage = "tools/DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx";

    /// <summary>How to get the files, for error messages.</summary>
    public static string HowToGet =>
        $"ResNet18 comes from the NuGet package {PackageId} {PackageVersion}. Restore it into the NuGet global packages folder with " +
        "`dotnet restore tests/ConvEngine.Tests` (that project's PackageDownload fetches it), or download the .nupkg and unzip it, " +
        "then give its folder (or its ResNet18.onnx) as the weights path.";

    /// <summary>
    /// Finds the two files. <paramref name="path"/> may be null (the NuGet global packages folder: $NUGET_PACKAGES or
    /// ~/.nuget/packages), the package folder, a folder holding both files, or ResNet18.onnx itself (the preprocessing
    /// graph is then looked for beside it and in the package's ResNetPrepOnnx folder).
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message says how to get the package.</exception>
    public static ResNet18Files Locate(string? path = null)
    {
        string model, preprocess;
        if (path is null)
        {
            var manifest = WeightsManifest.BuiltIn;
            model = manifest.Entries.First(e => e.Name == "nuget-resnet18").NuGetCachePath()!;
            preprocess = manifest.Entries.First(e => e.Name == "nuget-resnet18-preprocess").NuGetCachePath()!;
        }
        else if (Directory.Exists(path))
        {
            string inPackage = Path.Combine(path, ModelInPackage);
            (model, preprocess) = File.Exists(inPackage)
                ? (inPackage, Path.Combine(path, PreprocessInPackage))
                : (Path.Combine(path, "ResNet18.onnx"), Path.Combine(path, "ResNetPreprocess.onnx"));
        }
        else
        {
            model = path;
            string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
            string beside = Path.Combine(folder, "ResNetPreprocess.onnx");
            string packageSibling = Path.Combine(folder, "..", "ResNetPrepOnnx", "ResNetPreprocess.onnx");
            preprocess = File.Exists(beside) ? beside : packageSibling;
        }
        if (!File.Exists(model))
            throw new FileNotFoundException($"The ResNet18 network is not at '{model}'. {HowToGet}", model);
        if (!File.Exists(preprocess))
            throw new FileNotFoundException($"ResNet18's preprocessing graph (ResNetPreprocess.onnx, its mean image) is not at '{Path.GetFullPath(preprocess)}'. {HowToGet}", preprocess);
        return new ResNet18Files(Path.GetFullPath(model), Path.GetFullPath(preprocess));
    }
}

/// <summary>
/// The ImageNet ResNet18 of ML.NET's featurizer as an engine model: ResNet18.onnx (a CNTK export: 7×7/2 stem with
/// pads [3,3,2,2], 3×3/2 max pool, eight basic residual blocks of two 3×3 convs in four stages of 64, 128, 256, 512
/// filters, 1×1/2 projection shortcuts, asymmetric pads [1,1,0,0] on the strided convs, a 7×7 average pool)
/// converted to Conv2D, ZeroPadding2D, KernelActivation, MaxPooling2D, Add and GlobalAveragePooling2D layers by
/// <see cref="OnnxToModel"/>, so it can be frozen or partly unfrozen for fine-tuning. With
/// <c>includePreprocessing</c> it starts with the featurizer's input preparation as an <see cref="ImagePreprocessing"/>
/// layer (RGB → BGR, minus the 224×224 mean image of ResNetPreprocess.onnx, see <see cref="ResNet18Preprocessing"/>),
/// so it takes RGB pixels 0–255 of 224×224 images and gives 512 features.
/// </summary>
public static class ResNet18
{
    /// <summary>Image height and width the network takes (224; its preprocessing mean image has that size).</summary>
    public const int Size = ResNet18Preprocessing.Size;
    /// <summary>Features the network gives per image.</summary>
    public const int FeatureCount = 512;

    /// <summary>Builds "resnet18": (224, 224, 3) RGB 0–255 → (512) when <paramref name="includePreprocessing"/>, else the bare network (BGR − mean in).</summary>
    /// <param name="path">Where the files are; see <see cref="ResNet18Files.Locate"/>.</param>
    /// <param name="foldBatchNorm">Fold the 22 BatchNormalizations into their convs (exact; the frozen fast path) or keep them as layers.</param>
    /// <param name="includePreprocessing">Put the preprocessing layer (RGB → BGR, minus the mean image) in front, so the model takes RGB 0–255.</param>
    /// <param name="backend">Where the model's tensors live; null for a new cpu backend.</param>
    /// <param name="seed">Seed of the model's initialisation before the file's weights are assigned; null for a random seed.</param>
    public static Model Create(string? path = null, bool includePreprocessing = true, bool foldBatchNorm = true, IBackend? backend = null, ulong? seed = null)
    {
        var files = ResNet18Files.Locate(path);
        ImagePreprocessing? preprocessing = null;
        float[]? meanImage = null;
        if (includePreprocessing)
        {
            meanImage = MeanImageChannelsLast(ResNet18Preprocessing.Load(files.Preprocess));
            preprocessing = new ImagePreprocessing(reverseChannels: true, scale: 1, [Size, Size, 3], "resnet18_preprocessing");
        }
        var model = OnnxToModel.Convert(files.Model, new OnnxToModelOptions
        {
            Name = "resnet18",
            FoldBatchNorm = foldBatchNorm,
            InputTransform = preprocessing is null ? null : x => preprocessing.Apply(x),
        }, backend, seed);
        if (preprocessing is not null) preprocessing.Mean!.Assign(model.Backend, meanImage);
        return model;
    }

    /// <summary>
    /// The mean image as (224, 224, 3) channels-last in B, G, R order, as the reordered input is: the file holds
    /// (1, 3, 224, 224) planes B, G, R (ResNetPreprocess.onnx subtracts it after Concat(B, G, R)).
    /// </summary>
    public static float[] MeanImageChannelsLast(ResNet18Preprocessing preprocessing)
    {
        var planes = preprocessing.MeanImage;
        var hwc = new float[planes.Length];
        int pixels = Size * Size;
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < pixels; p++)
                hwc[p * 3 + c] = planes[c * pixels + p];
        return hwc;
    }
}
