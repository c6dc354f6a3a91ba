using System.Globalization;
using ConvEngine.Layers;

namespace ConvEngine.Visualization;

/// <summary>How a conv layer's kernels are drawn.</summary>
public enum KernelView
{
    /// <summary>RGB colour tiles for a kernel reading 3 channels (a first layer on RGB images), else per input channel up to 4 channels, else summed.</summary>
    Auto,
    /// <summary>One colour tile per filter: its weights on the R, G and B input channels as the tile's colour.</summary>
    Rgb,
    /// <summary>A row per filter, a tile per input channel, in grey (mid-grey 0).</summary>
    PerInputChannel,
    /// <summary>One tile per filter: its weights summed over the input channels, in grey (mid-grey 0).</summary>
    Summed,
}

/// <summary>
/// The learned kernels of a Conv2D or Conv1D layer as a grid: the view (<see cref="KernelView"/>) is written in the
/// image's legend. Grey tiles share one symmetric scale over the whole kernel, so tiles compare: black is −max|w|,
/// mid-grey 0, white +max|w|. RGB tiles scale every weight together from the kernel's minimum to its maximum.
/// </summary>
public static class KernelGrid
{
    /// <summary>The view <see cref="KernelView.Auto"/> resolves to for a kernel reading <paramref name="inputChannels"/> channels.</summary>
    public static KernelView Resolve(KernelView view, int inputChannels) => view switch
    {
        KernelView.Auto when inputChannels == 3 => KernelView.Rgb,
        KernelView.Auto when inputChannels <= 4 => KernelView.PerInputChannel,
        KernelView.Auto => KernelView.Summed,
        KernelView.Rgb when inputChannels != 3 => throw new ArgumentException($"RGB kernel tiles need kernels reading 3 channels; this one reads {inputChannels}."),
        _ => view,
    };

    /// <summary>The PNG of <paramref name="layer"/>'s kernels; at most <paramref name="maxFilters"/> filters and 16 input channels per row are drawn.</summary>
    public static byte[] RenderPng(ConvolutionLayer layer, KernelView view = KernelView.Auto, int maxFilters = 256)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var kernel = layer.Kernel ?? throw new InvalidOperationException($"{layer.ClassName} '{layer.Name}' has no kernel yet: apply it to an input first.");
        int[] dims = kernel.Shape.ToArray();
        // Conv1D stores (k, in, out): drawn as 1 × k tiles.
        var (kh, kw, cin, cout) = dims.Length == 4 ? (dims[0], dims[1], dims[2], dims[3]) : (1, dims[0], dims[1], dims[2]);
        return RenderPng($"{layer.Name} ({layer.ClassName}) kernels", kernel.ToArray(), kh, kw, cin, cout, view, maxFilters);
    }

    /// <summary>
    /// The PNG of a depthwise kernel (DepthwiseConv2D, or SeparableConv2D's depthwise half): (kh, kw, C, multiplier), one
    /// tile per output channel c·multiplier + m, each the 2-D filter that reads input channel c alone.
    /// </summary>
    public static byte[] RenderDepthwisePng(Layer layer, int maxFilters = 256)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var kernel = layer switch
        {
            DepthwiseConv2D d => d.DepthwiseKernel,
            SeparableConv2D s => s.DepthwiseKernel,
            _ => throw new ArgumentException($"{layer.ClassName} '{layer.Name}' has no depthwise kernel."),
        } ?? throw new InvalidOperationException($"{layer.ClassName} '{layer.Name}' has no kernel yet: apply it to an input first.");
        int[] d4 = kernel.Shape.ToArray();
        // (kh, kw, C, m) in memory is (kh, kw, 1, C·m): output channel c·m + j reads input channel c only.
        return RenderPng($"{layer.Name} ({layer.ClassName}) depthwise kernels", kernel.ToArray(), d4[0], d4[1], 1, d4[2] * d4[3], KernelView.PerInputChannel, maxFilters,
            $"depthwise kernel ({d4[0]}, {d4[1]}, {d4[2]}, {d4[3]}) = (height, width, channels, multiplier): tile k is what output channel k applies to input channel k / {d4[3]} alone");
    }

    /// <summary>The PNG of a kernel laid out (<paramref name="kh"/>, <paramref name="kw"/>, <paramref name="cin"/>, <paramref name="cout"/>) row-major, as Keras stores it.</summary>
    /// <param name="title">The picture's title.</param>
    /// <param name="weights">kh · kw · cin · cout weights, index ((y · kw + x) · cin + c) · cout + o.</param>
    /// <param name="kh">Kernel height (1 for a Conv1D kernel, drawn as a strip).</param>
    /// <param name="kw">Kernel width.</param>
    /// <param name="cin">Input channels the kernel reads.</param>
    /// <param name="cout">Filters (output channels).</param>
    /// <param name="view">How to draw the filters; <see cref="KernelView.Auto"/> picks from <paramref name="cin"/> (<see cref="Resolve"/>).</param>
    /// <param name="maxFilters">Draw at most this many filters, the first ones.</param>
    /// <param name="note">A first legend line to add, saying how to read the layout (depthwise kernels).</param>
    /// <exception cref="ArgumentException">The weights do not fill the shape, or <see cref="KernelView.Rgb"/> is asked for with <paramref name="cin"/> ≠ 3.</exception>
    public static byte[] RenderPng(string title, float[] weights, int kh, int kw, int cin, int cout, KernelView view = KernelView.Auto, int maxFilters = 256, string? note = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Length != kh * kw * cin * cout)
            throw new ArgumentException($"{weights.Length} weights are not a ({kh}, {kw}, {cin}, {cout}) kernel.");
        var resolved = Resolve(view, cin);
        int filters = Math.Min(cout, maxFilters);
        int band = kh == 1 ? Math.Max(1, kw / 4) : 1;   // 1-D kernels: repeat the row so the strip can be seen
        float W(int y, int x, int c, int o) => weights[((y * kw + x) * cin + c) * cout + o];
        var (min, max) = TileColors.Range(weights);
        float absMax = Math.Max(Math.Abs(min), Math.Abs(max));
        string filtersText = filters < cout ? $"the first {filters} of {cout} filters" : $"{cout} filters";
        var legend = new List<string>
        {
            note ?? $"kernel ({kh}, {kw}, {cin}, {cout}) = (height, width, input channels, filters)",
            $"weights {FeatureMapGrid.Number(min)} to {FeatureMapGrid.Number(max)}",
        };
        var rows = new List<IReadOnlyList<GridTile?>>();

        switch (resolved)
        {
            case KernelView.Rgb:
            {
                legend.Add($"RGB: one colour tile per filter ({filtersText}), its weights on input channels 0, 1, 2 drawn as R, G, B, scaled together from min to max");
                var tiles = new List<GridTile>();
                for (int o = 0; o < filters; o++)
                {
                    var rgb = new float[kh * band * kw * 3];
                    for (int y = 0; y < kh; y++)
                        for (int b = 0; b < band; b++)
                            for (int x = 0; x < kw; x++)
                                for (int c = 0; c < 3; c++)
                                    rgb[((y * band + b) * kw + x) * 3 + c] = W(y, x, c, o);
                    tiles.Add(new GridTile(TileColors.Rgb(rgb, min, max), kh * band, kw, o.ToString(CultureInfo.InvariantCulture)));
                }
                rows.AddRange(tiles.Chunk((int)Math.Ceiling(Math.Sqrt(filters))).Select(r => (IReadOnlyList<GridTile?>)r));
                break;
            }
            case KernelView.PerInputChannel:
            {
                int channels = Math.Min(cin, 16);
                string layout = cin == 1 ? $"one tile per filter ({filtersText})"
                    : $"a row per filter ({filtersText}), a tile per input channel ({(channels < cin ? $"the first {channels} of {cin}" : $"{cin}")})";
                legend.Add($"per input channel: {layout}; grey: black −{FeatureMapGrid.Number(absMax)}, mid-grey 0, white +{FeatureMapGrid.Number(absMax)}");
                var tiles = new List<GridTile>();
                for (int o = 0; o < filters; o++)
                    for (int c = 0; c < channels; c++)
                        tiles.Add(new GridTile(TileColors.SymmetricGrey(Slice(W, kh, kw, band, (y, x) => W(y, x, c, o)), absMax), kh * band, kw,
                            channels == 1 ? $"{o}" : $"f{o} c{c}"));
                // One input channel: the filters in a square grid rather than a column of rows of one.
                int perRow = channels == 1 ? (int)Math.Ceiling(Math.Sqrt(filters)) : channels;
                rows.AddRange(tiles.Chunk(perRow).Select(r => (IReadOnlyList<GridTile?>)r));
                break;
            }
            default:
            {
                var sums = new List<float[]>();
                for (int o = 0; o < filters; o++)
                    sums.Add(Slice(W, kh, kw, band, (y, x) => Enumerable.Range(0, cin).Sum(c => W(y, x, c, o))));
                float sumMax = sums.Max(s => s.Max(Math.Abs));
                legend.Add($"summed: one tile per filter ({filtersText}), its weights summed over the {cin} input channels; grey: black −{FeatureMapGrid.Number(sumMax)}, mid-grey 0, white +{FeatureMapGrid.Number(sumMax)}");
                var tiles = sums.Select((s, o) => new GridTile(TileColors.SymmetricGrey(s, sumMax), kh * band, kw, o.ToString(CultureInfo.InvariantCulture))).ToList();
                rows.AddRange(tiles.Chunk((int)Math.Ceiling(Math.Sqrt(filters))).Select(r => (IReadOnlyList<GridTile?>)r));
                break;
            }
        }
        return TileGrid.RenderPng(title, legend, rows, minTileSide: 48);
    }

    private static float[] Slice(Func<int, int, int, int, float> _, int kh, int kw, int band, Func<int, int, float> at)
    {
        var tile = new float[kh * band * kw];
        for (int y = 0; y < kh; y++)
            for (int b = 0; b < band; b++)
                for (int x = 0; x < kw; x++)
                    tile[(y * band + b) * kw + x] = at(y, x);
        return tile;
    }
}
