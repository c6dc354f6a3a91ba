using ConvEngine.Layers;

namespace ConvEngine.Import.Onnx;

public static partial class OnnxToModel
{
    private sealed partial class Builder
    {
        /// <summary>A Reshape: of pooled features (dropping 1×1 axes), or one step of a channel shuffle.</summary>
        private void ReshapeNode()
        {
            var x = Get(_node.Inputs[0], "data");
            if (_node.OpType == "Reshape" && x.Kind is ValueKind.Image or ValueKind.GroupedImage) ReshapeOfImage(x);
            else ReshapeOfFeatures();
        }

        /// <summary>
        /// ShuffleNet's channel shuffle, (N, C, H, W) → Reshape (N, g, C/g, H, W) → Transpose (0, 2, 1, 3, 4) → Reshape
        /// (N, C, H, W), in channels-last layers: the engine sample (H, W, C) is (H·W, g, C/g) in memory (channel
        /// i·C/g + j), Permute (1, 3, 2) swaps the groups, and (H·W, C/g, g) read as (H, W, C) is the shuffled image.
        /// </summary>
        private void ReshapeOfImage(Value x)
        {
            long[] onnxDims = x.Kind == ValueKind.Image
                ? [x.Channels, x.Tensor.Shape[0], x.Tensor.Shape[1]]
                : [x.Tensor.Shape[1], x.Tensor.Shape[2], x.ImageShape![0], x.ImageShape[1]];
            long[] target = ReshapeTarget(onnxDims);
            int h = x.Kind == ValueKind.Image ? x.Tensor.Shape[0] : x.ImageShape![0], w = x.Kind == ValueKind.Image ? x.Tensor.Shape[1] : x.ImageShape![1];
            string Text(long[] dims) => "(N, " + string.Join(", ", dims) + ")";
            if (x.Kind == ValueKind.Image && target.Length == 4 && target[2] == h && target[3] == w)
            {
                int groups = checked((int)target[0]), perGroup = checked((int)target[1]);
                var y = Apply(new Reshape([h * w, groups, perGroup], LayerName()), x.Tensor);
                Set(new Value(y, ValueKind.GroupedImage, [h, w]));
                return;
            }
            if (x.Kind == ValueKind.GroupedImage && target.Length == 3 && target[1] == h && target[2] == w)
            {
                var y = Apply(new Reshape([h, w, checked((int)target[0])], LayerName()), x.Tensor);
                Set(new Value(y, ValueKind.Image));
                return;
            }
            throw Unsupported($"Reshape of {Text(onnxDims)} to {Text(target)}; of images only the channel split (N, g, C/g, H, W) of a channel shuffle and its merge back convert.", "shape");
        }

        /// <summary>The target dims after the batch, with ONNX's 0 (copy the input's) and one −1 (the rest) resolved.</summary>
        private long[] ReshapeTarget(long[] sampleDims)
        {
            if (OnnxAttributes.Int(_node, "allowzero", 0) != 0) throw Unsupported("allowzero 1.", "allowzero");
            long[] target = Constant(1, "shape").ToInts(graph.Context).Select(v => (long)v).ToArray();
            long total = sampleDims.Aggregate(1L, (a, d) => a * d);
            // The batch stays first: 0 copies it, −1 infers it (then every other entry is explicit), a positive number is
            // the batch the graph was traced with (PyTorch's exporter writes it); what follows must hold one sample.
            if (target.Length == 0 || target[0] < -1)
                throw Unsupported($"Reshape to ({string.Join(", ", target)}) has no batch axis first.", "shape");
            var sample = target[1..];
            for (int i = 0; i < sample.Length; i++)
                if (sample[i] == 0)
                {
                    if (i >= sampleDims.Length) throw Invalid($"shape entry {i + 1} is 0 but the input has no such axis.");
                    sample[i] = sampleDims[i];
                }
            int unknown = Array.IndexOf(sample, -1L);
            long known = sample.Where(d => d != -1).Aggregate(1L, (a, d) => a * d);
            if (target[0] == -1 && unknown >= 0) throw Invalid($"shape ({string.Join(", ", target)}) has two −1 entries.");
            if (unknown >= 0)
            {
                if (known <= 0 || total % known != 0) throw Invalid($"shape ({string.Join(", ", target)}) does not divide the {total} values per sample.");
                sample[unknown] = total / known;
            }
            if (sample.Any(d => d <= 0) || sample.Aggregate(1L, (a, d) => a * d) != total)
                throw Invalid($"shape ({string.Join(", ", target)}) does not hold the {total} values of a sample.");
            return sample;
        }

        /// <summary>Transpose: the group swap (0, 2, 1, 3, 4) of a channel shuffle, or the identity.</summary>
        private void TransposeNode()
        {
            var x = Get(_node.Inputs[0], "data");
            long[]? perm = OnnxAttributes.Ints(_node, "perm");
            int rank = x.Kind == ValueKind.GroupedImage ? 5 : x.Kind == ValueKind.Image ? 4 : 2;
            perm ??= Enumerable.Range(0, rank).Reverse().Select(a => (long)a).ToArray();
            if (perm.SequenceEqual(Enumerable.Range(0, rank).Select(a => (long)a)))
            {
                Set(x);
                return;
            }
            if (x.Kind == ValueKind.GroupedImage && perm.SequenceEqual(new long[] { 0, 2, 1, 3, 4 }))
            {
                Set(x with { Tensor = Apply(new Permute([1, 3, 2], LayerName()), x.Tensor) });
                return;
            }
            throw Unsupported($"Transpose ({string.Join(", ", perm)}) of a {DescribeKind(x)}; only the group swap (0, 2, 1, 3, 4) of a channel shuffle converts.", "perm");
        }
    }
}
