using ConvEngine.Kernels.Geometry;
using ConvEngine.Serialization;

namespace ConvEngine.Import.Onnx;

/// <summary>
/// ONNX pad resolution shared by the inference importer (<see cref="OnnxPlanBuilder"/>) and the layer
/// converter (<see cref="OnnxToModel"/>), so auto_pad and pads are read one way.
/// </summary>
internal static class OnnxPads
{
    /// <summary>
    /// Pads (before, after) per spatial axis from auto_pad and pads. SAME_UPPER is TensorFlow's SAME
    /// (odd pixel after); SAME_LOWER puts it before; both give output ceil(in/stride).
    /// Errors come from the caller's factories so each names its node in its own words.
    /// </summary>
    public static (int[] Before, int[] After) Resolve(
        OnnxNode node, int[] input, int[] kernel, int[] strides, int[] dilations,
        Func<string, Exception> invalid, Func<string, string, Exception> unsupported)
    {
        int spatial = input.Length;
        string autoPad = OnnxAttributes.String(node, "auto_pad", "NOTSET");
        var before = new int[spatial];
        var after = new int[spatial];
        switch (autoPad)
        {
            case "NOTSET" or "":
            {
                long[] pads = OnnxAttributes.Ints(node, "pads") ?? new long[2 * spatial];
                if (pads.Length != 2 * spatial)
                    throw invalid($"attribute pads has {pads.Length} entries for {spatial} spatial axes (needs {2 * spatial}).");
                if (pads.Any(p => p < 0))
                    throw unsupported($"negative pads ({string.Join(", ", pads)}).", "pads");
                for (int i = 0; i < spatial; i++) { before[i] = checked((int)pads[i]); after[i] = checked((int)pads[i + spatial]); }
                break;
            }
            case "VALID":
                break;
            case "SAME_UPPER" or "SAME_LOWER":
                for (int i = 0; i < spatial; i++)
                {
                    var (b, a, _) = WindowMath.Resolve(input[i], kernel[i], strides[i], dilations[i], PaddingMode.Same);
                    (before[i], after[i]) = autoPad == "SAME_UPPER" ? (b, a) : (a, b);
                }
                break;
            default:
                throw unsupported($"auto_pad {QuotedName.Of(autoPad)}.", "auto_pad");
        }
        return (before, after);
    }
}
