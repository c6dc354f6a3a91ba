using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Import.Onnx;

/// <summary>
/// An ONNX ConvTranspose node's attributes, read once for both ONNX paths (<see cref="OnnxPlanBuilder"/> and
/// <see cref="OnnxToModel"/>). Weight (Cin, Cout/group, k…); strides, dilations, output_padding default 1, 1, 0; the
/// pads come from pads (NOTSET), from output_shape, or from auto_pad, as ONNX Runtime resolves them
/// (conv_transpose_attributes.h): total = s(n − 1) + output_padding + dk − out, with out = output_shape, or n·s for SAME_*
/// (then at least 0); SAME_UPPER puts the odd pad last, NOTSET and SAME_LOWER first; VALID pads nothing. An output_shape larger
/// than the natural size would need negative pads and is refused.
/// </summary>
internal sealed record OnnxConvTransposeSpec(int InputChannels, int OutputChannelsPerGroup, int Groups, int[] Kernel, int[] Strides,
    int[] Dilations, int[] OutputPadding, int[] Before, int[] After)
{
    public int OutputChannels => OutputChannelsPerGroup * Groups;
    public int Spatial => Kernel.Length;

    public static OnnxConvTransposeSpec Read(OnnxNode node, int[] inputDims, OnnxTensorData weight,
        Func<string, Exception> invalid, Func<string, string?, Exception> unsupported)
    {
        int spatial = inputDims.Length - 2;
        int channels = inputDims[1];
        if (weight.Dims.Length != inputDims.Length)
            throw invalid($"weight dims ({string.Join(", ", weight.Dims)}) do not match a rank-{inputDims.Length} input.");
        if (weight.Dims[0] != channels)
            throw invalid($"weight dims ({string.Join(", ", weight.Dims)}) are for {weight.Dims[0]} input channels but the input ({string.Join(", ", inputDims)}) has {channels}.");
        int[] kernel = weight.Dims[2..];
        if (OnnxAttributes.Ints(node, "kernel_shape") is { } ks && !ks.Select(k => (int)k).SequenceEqual(kernel))
            throw invalid($"kernel_shape ({string.Join(", ", ks)}) disagrees with the weight dims ({string.Join(", ", weight.Dims)}).");
        int groups = checked((int)OnnxAttributes.Int(node, "group", 1));
        if (groups <= 0 || channels % groups != 0)
            throw invalid($"group {groups} does not divide the {channels} input channels.");
        int[] strides = PerAxis(node, "strides", spatial, 1, invalid), dilations = PerAxis(node, "dilations", spatial, 1, invalid);
        int[] outputPadding = PerAxis(node, "output_padding", spatial, 0, invalid);
        if (strides.Concat(dilations).Any(v => v <= 0)) throw invalid($"strides ({string.Join(", ", strides)}) and dilations ({string.Join(", ", dilations)}) must be positive.");
        if (outputPadding.Any(v => v < 0)) throw invalid($"output_padding ({string.Join(", ", outputPadding)}) must be non-negative.");
        for (int i = 0; i < spatial; i++)
            if (outputPadding[i] >= strides[i])
                throw unsupported($"output_padding {outputPadding[i]} on axis {i} is not below its stride {strides[i]} (ONNX allows up to the dilation; the engine's transposed conv needs it below the stride).", "output_padding");

        string autoPad = OnnxAttributes.String(node, "auto_pad", "NOTSET");
        long[]? outputShape = OnnxAttributes.Ints(node, "output_shape");
        if (outputShape is not null && outputShape.Length != spatial && outputShape.Length != spatial + 2)
            throw invalid($"output_shape has {outputShape.Length} entries; it needs {spatial} or {spatial + 2}.");
        var before = new int[spatial];
        var after = new int[spatial];
        for (int i = 0; i < spatial; i++)
        {
            int n = inputDims[i + 2];
            long natural = (long)strides[i] * (n - 1) + outputPadding[i] + WindowMath.DilatedExtent(kernel[i], dilations[i]);
            long? wanted = outputShape is not null ? outputShape[outputShape.Length - spatial + i]
                : autoPad is "SAME_UPPER" or "SAME_LOWER" ? (long)n * strides[i] : null;
            if (wanted is { } size)
            {
                if (size <= 0) throw invalid($"output_shape ({string.Join(", ", outputShape!)}) has a non-positive size.");
                // auto_pad aims at n·s but never pads negatively (the output is then the natural size, as ONNX Runtime makes it).
                long total = outputShape is null ? Math.Max(0, natural - size) : natural - size;
                if (total < 0)
                    throw unsupported($"output_shape ({string.Join(", ", outputShape!)}) asks for an output of {size} on axis {i}, larger than the {natural} " +
                        "the transposed conv produces (it would need negative pads).", "output_shape");
                // The ONNX spec's split, which ONNX Runtime follows: SAME_UPPER puts the odd pad at the end, NOTSET and SAME_LOWER at the start.
                int small = (int)(total / 2), large = (int)(total - total / 2);
                (before[i], after[i]) = autoPad == "SAME_UPPER" ? (small, large) : (large, small);
                continue;
            }
            if (autoPad is "NOTSET" or "")
            {
                long[] pads = OnnxAttributes.Ints(node, "pads") ?? new long[2 * spatial];
                if (pads.Length != 2 * spatial)
                    throw invalid($"attribute pads has {pads.Length} entries for {spatial} spatial axes (needs {2 * spatial}).");
                if (pads.Any(p => p < 0)) throw unsupported($"negative pads ({string.Join(", ", pads)}).", "pads");
                (before[i], after[i]) = (checked((int)pads[i]), checked((int)pads[i + spatial]));
            }
            else if (autoPad != "VALID")
                throw unsupported($"auto_pad {QuotedName.Of(autoPad)}.", "auto_pad");
        }
        return new OnnxConvTransposeSpec(channels, weight.Dims[1], groups, kernel, strides, dilations, outputPadding, before, after);
    }

    /// <summary>The engine's options for this node: 1-D runs as 2-D with height 1.</summary>
    public ConvTranspose2DOptions Options(Kernels.KernelActivation activation = default)
    {
        bool oneD = Spatial == 1;
        return new ConvTranspose2DOptions
        {
            StrideH = oneD ? 1 : Strides[0], StrideW = Strides[^1],
            DilationH = oneD ? 1 : Dilations[0], DilationW = Dilations[^1],
            Padding = Padding.Explicit(oneD ? 0 : Before[0], oneD ? 0 : After[0], Before[^1], After[^1]),
            OutputPaddingH = oneD ? 0 : OutputPadding[0], OutputPaddingW = OutputPadding[^1],
            Groups = Groups, Activation = activation,
        };
    }

    /// <summary>(KH, KW, Cout/group, Cin) for the engine: ONNX's (Cin, Cout/group, KH, KW) with its axes moved (1-D: KH = 1).</summary>
    public (int KH, int KW) Window => Spatial == 1 ? (1, Kernel[0]) : (Kernel[0], Kernel[1]);

    public float[] EngineFilter(OnnxTensorData weight)
    {
        var (kh, kw) = Window;
        return OnnxConstantFolding.Transpose(weight.Floats ?? weight.ToFloats(), [InputChannels, OutputChannelsPerGroup, kh, kw], [2, 3, 1, 0]);
    }

    private static int[] PerAxis(OnnxNode node, string name, int spatial, int fallback, Func<string, Exception> invalid)
    {
        long[]? values = OnnxAttributes.Ints(node, name);
        if (values is null) return Enumerable.Repeat(fallback, spatial).ToArray();
        if (values.Length != spatial) throw invalid($"attribute {name} has {values.Length} entries for {spatial} spatial axes.");
        return values.Select(v => checked((int)v)).ToArray();
    }
}
