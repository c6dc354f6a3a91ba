using System.Text.Json.Nodes;
using ConvEngine.Serialization;

namespace ConvEngine.Layers;

/// <summary>
/// Keras RandomFlip: in training each image flips left-right ("horizontal"), top-bottom ("vertical") or both
/// independently ("horizontal_and_vertical", the default), each with probability 1/2 (TensorFlow flips when its
/// uniform draw rounds to 1, u &gt; 0.5). Keras 2 and 3 agree. Identity at inference.
/// </summary>
public sealed class RandomFlip : RandomPreprocessingLayer
{
    /// <summary>The flip modes Keras names.</summary>
    public const string Horizontal = "horizontal", Vertical = "vertical", HorizontalAndVertical = "horizontal_and_vertical";

    /// <summary>Flips each image at random in training, along <paramref name="mode"/>.</summary>
    public RandomFlip(string mode = HorizontalAndVertical, ulong? seed = null, string? name = null) : base(seed, name)
    {
        (FlipsHorizontally, FlipsVertically) = mode switch
        {
            Horizontal => (true, false),
            Vertical => (false, true),
            HorizontalAndVertical => (true, true),
            _ => throw new ArgumentException($"RandomFlip '{Name}': unknown mode '{mode}'; it is one of {Horizontal}, {Vertical}, {HorizontalAndVertical}."),
        };
        Mode = mode;
    }

    /// <inheritdoc/>
    public override string ClassName => "RandomFlip";
    /// <summary>The mode as Keras spells it.</summary>
    public string Mode { get; }
    /// <summary>Whether images may be flipped left to right.</summary>
    public bool FlipsHorizontally { get; }
    /// <summary>Whether images may be flipped top to bottom.</summary>
    public bool FlipsVertically { get; }

    /// <summary>This step's flags for image <paramref name="index"/>: (left-right, top-bottom).</summary>
    public (bool Horizontal, bool Vertical) Draw(ulong seed, int index) =>
        (FlipsHorizontally && AugmentDraws.Unit(seed, 0, index) > 0.5f, FlipsVertically && AugmentDraws.Unit(seed, 1, index) > 0.5f);

    /// <inheritdoc/>
    protected override Tensor Augment(Tensor images, ulong seed, int n, int height, int width, int channels)
    {
        var flags = HostParameters(2 * n);
        for (int b = 0; b < n; b++)
        {
            var (h, v) = Draw(seed, b);
            flags[2 * b] = h ? 1 : 0;
            flags[2 * b + 1] = v ? 1 : 0;
        }
        var backend = images.Backend;
        var output = Output(backend, n, height, width, channels);
        backend.Flip(images.Buffer, UploadParameters(backend, "flags", flags.AsSpan(0, 2 * n)), output.Buffer, n, height, width, channels);
        return output;
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["mode"] = Mode;
        return config;
    }

    internal static RandomFlip FromConfig(JsonObject c)
    {
        const string owner = "RandomFlip";
        JsonConfig.RequireChannelsLast(c, owner);
        return new RandomFlip(JsonConfig.String(c, owner, "mode", HorizontalAndVertical), JsonConfig.OptionalULong(c, owner, "seed"), JsonConfig.OptionalString(c, owner, "name"))
        { Trainable = JsonConfig.Bool(c, owner, "trainable", true) };
    }
}
