using System.Security.Cryptography;
using System.Text;
using ConvEngine.Import.Applications;
using ConvEngine.Kernels;
using ConvEngine.Layers;
using ConvEngine.Models;

namespace ConvEngine.Import.Transfer;

/// <summary>
/// A convolutional base to reuse: an engine model that takes RGB pixels 0–255 of <see cref="ImageSize"/> (its
/// preprocessing is its first layer) and gives features, with where its weights come from.
/// </summary>
public sealed class TransferBase
{
    private string? _fingerprint;

    /// <summary>Wraps <paramref name="model"/>, which must take (None, H, W, 3) images, as a base named <paramref name="name"/>.</summary>
    public TransferBase(string name, Model model, bool pretrained, string weightsDescription)
    {
        if (model.InputShape.Length != 3 || model.InputShape[2] != 3)
            throw new ArgumentException($"Base '{name}' takes {SymbolicTensor.FormatShape(model.InputShape)}; a base for images takes (None, H, W, 3).");
        Name = name;
        Model = model;
        Pretrained = pretrained;
        WeightsDescription = weightsDescription;
    }

    /// <summary>"resnet18", "vgg16", "inceptionv1", or a caller's name.</summary>
    public string Name { get; }
    /// <summary>The network: (H, W, 3) RGB pixels 0–255 → features.</summary>
    public Model Model { get; }
    /// <summary>Whether the weights are pretrained (not a random initialisation).</summary>
    public bool Pretrained { get; }
    /// <summary>Where the weights come from, for the user: a file and its origin, or "random initialisation".</summary>
    public string WeightsDescription { get; }
    /// <summary>The (height, width) of the images the base takes.</summary>
    public (int Height, int Width) ImageSize => (Model.InputShape[0], Model.InputShape[1]);
    /// <summary>One image's features: (512) for ResNet18, (H', W', C) for a base without pooling.</summary>
    public int[] FeatureShape => Model.OutputShape;

    /// <summary>
    /// What identifies the base's computation: its name, architecture and a SHA-256 of every weight's value
    /// (so cached features of one base are never read for another, nor after its weights change).
    /// </summary>
    public string Fingerprint()
    {
        if (_fingerprint is not null) return _fingerprint;
        Model.Initialize();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(Name + "\n" + Model.ToJson() + "\n"));
        foreach (var (path, parameter) in Model.NamedParameters)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(path + "\n"));
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(parameter.ToArray().AsSpan()));
        }
        return _fingerprint = $"{Name}:{Convert.ToHexStringLower(hash.GetHashAndReset())[..32]}";
    }
}

/// <summary>
/// The bases `convengine train --base` knows. Each starts with its own preprocessing layer, so it takes RGB 0–255:
/// <list type="bullet">
/// <item>resnet18: the real ImageNet ResNet18 of NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 (224×224 only,
/// its mean image is that size), BGR minus the mean image, 512 features.</item>
/// <item>vgg16: Keras's VGG16 without top, global average pooling (512 features), Keras's "caffe" preprocessing (BGR minus
/// the ImageNet channel means). Its ImageNet weights are not downloadable here: random initialisation unless a
/// weights file (Keras .h5 or converted .safetensors) is given.</item>
/// <item>inceptionv1: TF-Slim InceptionV1 (1024 features), Inception preprocessing x/127.5 − 1; random unless given weights;
/// needs the engine's BatchNormalization and Concatenate layers.</item>
/// </list>
/// </summary>
public static class TransferBases
{
    /// <summary>The names <see cref="Create"/> knows.</summary>
    public static IReadOnlyList<string> Names { get; } = ["resnet18", "vgg16", "inceptionv1"];

    /// <summary>Builds base <paramref name="name"/>; <paramref name="imageSize"/> defaults to 224×224.</summary>
    /// <param name="weights">resnet18: the package folder or ResNet18.onnx (default: the NuGet cache); vgg16/inceptionv1: a .h5 or .safetensors file.</param>
    /// <param name="name">One of <see cref="Names"/> (case, '-' and '_' ignored).</param>
    /// <param name="imageSize">The (height, width) of the images; resnet18 takes only 224×224.</param>
    /// <param name="backend">Where the model's tensors live; null for a new cpu backend.</param>
    /// <param name="seed">Seed of the initialisation of weights no file gives.</param>
    public static TransferBase Create(string name, string? weights, (int Height, int Width)? imageSize, IBackend? backend, ulong seed)
    {
        TransferLayers.Register();
        string key = name.Trim().ToLowerInvariant().Replace("-", "").Replace("_", "");
        return key switch
        {
            "resnet18" => ResNet18Base(weights, imageSize, backend, seed),
            "vgg16" => KerasApplicationBase("vgg16", weights, imageSize, backend, seed),
            "inceptionv1" or "googlenet" => KerasApplicationBase("inceptionv1", weights, imageSize, backend, seed),
            _ => throw new ArgumentException($"Unknown base '{name}'; known: {string.Join(", ", Names)}."),
        };
    }

    private static TransferBase ResNet18Base(string? weights, (int Height, int Width)? imageSize, IBackend? backend, ulong seed)
    {
        if (imageSize is { } size && size != (ResNet18.Size, ResNet18.Size))
            throw new ArgumentException($"The resnet18 base takes {ResNet18.Size}x{ResNet18.Size} images (its preprocessing mean image has that size); got an image size of {size.Height}x{size.Width}.");
        var files = ResNet18Files.Locate(weights);
        var model = ResNet18.Create(files.Model, includePreprocessing: true, foldBatchNorm: true, backend, seed);
        return new TransferBase("resnet18", model, pretrained: true,
            $"ImageNet weights from {files.Model} ({ResNet18Files.PackageId} {ResNet18Files.PackageVersion}), preprocessing (BGR − mean image) from {files.Preprocess}");
    }

    private static TransferBase KerasApplicationBase(string name, string? weights, (int Height, int Width)? imageSize, IBackend? backend, ulong seed)
    {
        var (h, w) = imageSize ?? (224, 224);
        var input = new InputLayer([h, w, 3], "image");
        ImagePreprocessing preprocessing;
        float[] mean;
        Model network;
        if (name == "vgg16")
        {
            // Keras's preprocess_input(mode="caffe"): RGB → BGR, minus the ImageNet means in B, G, R order.
            preprocessing = new ImagePreprocessing(reverseChannels: true, scale: 1, [3], "vgg16_preprocessing");
            mean = [103.939f, 116.779f, 123.68f];
            network = Vgg16.Create(includeTop: false, inputShape: [h, w, 3], weights: weights, pooling: "avg", backend: backend, seed: seed);
        }
        else
        {
            // Inception's preprocessing (Keras mode "tf"): x / 127.5 − 1.
            preprocessing = new ImagePreprocessing(reverseChannels: false, scale: 1 / 127.5, [3], "inceptionv1_preprocessing");
            mean = [1f, 1f, 1f];
            network = InceptionV1.Create(inputShape: [h, w, 3], weights: weights, backend: backend, seed: seed);
        }
        var output = network.Apply(preprocessing.Apply(input));
        var model = new Model(input, output, $"{name}_base", backend, seed);
        preprocessing.Mean!.Assign(model.Backend, mean);
        string description = weights is null
            ? $"random initialisation (seed {seed}): no pretrained {name} weights are available on this machine; give a weights file (.h5 or .safetensors) for ImageNet ones"
            : $"weights from {Path.GetFullPath(weights)}";
        return new TransferBase(name, model, pretrained: weights is not null, description);
    }
}
