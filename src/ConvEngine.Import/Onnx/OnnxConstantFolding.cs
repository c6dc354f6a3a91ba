using ConvEngine.Serialization;
namespace ConvEngine.Import.Onnx;

/// <summary>
/// Host-side evaluation of ops on constants (weights, shapes): the Shape → Gather → Concat →
/// Reshape pattern exporters emit, constant transposes of weights, Constant nodes.
/// </summary>
internal static class OnnxConstantFolding
{
    /// <summary>numpy.transpose of row-major data: output axis i is input axis perm[i].</summary>
    public static T[] Transpose<T>(T[] data, int[] dims, int[] perm)
    {
        int rank = dims.Length;
        var inStride = new long[rank];
        for (int i = rank - 1; i >= 0; i--) inStride[i] = i == rank - 1 ? 1 : inStride[i + 1] * dims[i + 1];
        int[] outDims = perm.Select(p => dims[p]).ToArray();
        var result = new T[data.Length];
        var coord = new int[rank];
        long from = 0;
        for (int o = 0; o < result.Length; o++)
        {
            result[o] = data[from];
            // Odometer over the output coordinates, keeping the input offset in step.
            for (int i = rank - 1; i >= 0; i--)
            {
                coord[i]++;
                from += inStride[perm[i]];
                if (coord[i] < outDims[i]) break;
                from -= inStride[perm[i]] * outDims[i];
                coord[i] = 0;
            }
        }
        return result;
    }

    /// <summary>numpy broadcasting of the tensor to <paramref name="target"/> dims.</summary>
    public static float[] Broadcast(OnnxTensorData data, int[] target, Func<string, Exception> invalid)
    {
        int[] dims = data.Dims;
        if (dims.Length > target.Length) throw invalid($"cannot broadcast ({string.Join(", ", dims)}) to ({string.Join(", ", target)}).");
        int offset = target.Length - dims.Length;
        for (int i = 0; i < dims.Length; i++)
            if (dims[i] != 1 && dims[i] != target[i + offset])
                throw invalid($"cannot broadcast ({string.Join(", ", dims)}) to ({string.Join(", ", target)}).");
        float[] values = data.ToFloats();
        long count = target.Aggregate(1L, (p, d) => p * d);
        var result = new float[count];
        var coord = new int[target.Length];
        for (long o = 0; o < count; o++)
        {
            long rest = o;
            for (int i = target.Length - 1; i >= 0; i--) { coord[i] = (int)(rest % target[i]); rest /= target[i]; }
            long from = 0;
            for (int i = 0; i < dims.Length; i++) from = from * dims[i] + (dims[i] == 1 ? 0 : coord[i + offset]);
            result[o] = values[from];
        }
        return result;
    }

    /// <summary>Add/Sub/Mul/Div of two constants with numpy broadcasting; integer inputs stay integer.</summary>
    public static OnnxTensorData Binary(string op, OnnxTensorData a, OnnxTensorData b, Func<string, Exception> invalid)
    {
        int rank = Math.Max(a.Dims.Length, b.Dims.Length);
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i - (rank - a.Dims.Length) >= 0 ? a.Dims[i - (rank - a.Dims.Length)] : 1;
            int db = i - (rank - b.Dims.Length) >= 0 ? b.Dims[i - (rank - b.Dims.Length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw invalid($"{op} of shapes ({string.Join(", ", a.Dims)}) and ({string.Join(", ", b.Dims)}) does not broadcast.");
            dims[i] = Math.Max(da, db);
        }
        if (!a.IsFloat && !b.IsFloat)
        {
            long[] x = Broadcast(a, dims, invalid).Select(v => (long)v).ToArray(), y = Broadcast(b, dims, invalid).Select(v => (long)v).ToArray();
            // Shape arithmetic: exact in float for the small integers shapes hold; Div is integer division as in numpy.
            return OnnxTensorData.FromInts(a.Name, dims, x.Zip(y, (p, q) => op switch
            {
                "Add" => p + q, "Sub" => p - q, "Mul" => p * q,
                _ => q == 0 ? throw invalid("integer division by zero.") : p / q,
            }).ToArray());
        }
        float[] u = Broadcast(a, dims, invalid), w = Broadcast(b, dims, invalid);
        return OnnxTensorData.FromFloats(a.Name, dims, u.Zip(w, (p, q) => op switch
        {
            "Add" => p + q, "Sub" => p - q, "Mul" => p * q, _ => p / q,
        }).ToArray());
    }

    public static OnnxTensorData Concat(OnnxTensorData[] parts, int axis, Func<string, Exception> invalid)
    {
        int rank = parts[0].Dims.Length;
        foreach (var p in parts)
            if (p.Dims.Length != rank || Enumerable.Range(0, rank).Any(i => i != axis && p.Dims[i] != parts[0].Dims[i]))
                throw invalid($"constants ({string.Join("), (", parts.Select(q => string.Join(", ", q.Dims)))}) differ outside axis {axis}.");
        int[] dims = (int[])parts[0].Dims.Clone();
        dims[axis] = parts.Sum(p => p.Dims[axis]);
        int outer = dims[..axis].Aggregate(1, (x, d) => x * d);
        bool floats = parts.Any(p => p.IsFloat);
        var values = new List<double>();
        for (int o = 0; o < outer; o++)
            foreach (var p in parts)
            {
                int inner = p.Dims[axis..].Aggregate(1, (x, d) => x * d);
                for (int i = 0; i < inner; i++)
                    values.Add(p.IsFloat ? p.Floats![o * inner + i] : p.Ints![o * inner + i]);
            }
        return floats
            ? OnnxTensorData.FromFloats(parts[0].Name, dims, values.Select(v => (float)v).ToArray())
            : OnnxTensorData.FromInts(parts[0].Name, dims, values.Select(v => (long)v).ToArray());
    }

    /// <summary>numpy.take(data, indices, axis): negative indices count from the end.</summary>
    public static OnnxTensorData Gather(OnnxTensorData data, long[] indices, int[] indexDims, int axis, Func<string, Exception> invalid)
    {
        int[] d = data.Dims;
        int outer = d[..axis].Aggregate(1, (x, v) => x * v), inner = d[(axis + 1)..].Aggregate(1, (x, v) => x * v);
        int n = d[axis];
        var picks = indices.Select(i => i < 0 ? i + n : i).ToArray();
        if (picks.Any(i => i < 0 || i >= n)) throw invalid($"Gather indices ({string.Join(", ", indices)}) are out of range for axis {axis} of size {n}.");
        int[] dims = [.. d[..axis], .. indexDims, .. d[(axis + 1)..]];
        var order = new List<int>();
        for (int o = 0; o < outer; o++)
            foreach (long i in picks)
                for (int k = 0; k < inner; k++) order.Add((int)((o * n + i) * inner + k));
        return data.IsFloat
            ? OnnxTensorData.FromFloats(data.Name, dims, order.Select(i => data.Floats![i]).ToArray())
            : OnnxTensorData.FromInts(data.Name, dims, order.Select(i => data.Ints![i]).ToArray());
    }

    /// <summary>ONNX Reshape's target: 0 copies the input's dim (unless allowzero), one −1 is inferred.</summary>
    public static int[] ResolveReshape(int[] input, long[] shape, bool allowZero, Func<string, Exception> invalid)
    {
        long total = input.Aggregate(1L, (p, d) => p * d);
        var dims = new long[shape.Length];
        int inferred = -1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1)
            {
                if (inferred >= 0) throw invalid($"shape ({string.Join(", ", shape)}) has more than one -1.");
                inferred = i;
                dims[i] = 1;
            }
            else if (shape[i] == 0 && !allowZero)
            {
                if (i >= input.Length) throw invalid($"shape ({string.Join(", ", shape)}) copies dim {i}, which the rank-{input.Length} input lacks.");
                dims[i] = input[i];
            }
            else if (shape[i] < 0) throw invalid($"shape ({string.Join(", ", shape)}) has a negative dim.");
            else dims[i] = shape[i];
        }
        long known = dims.Aggregate(1L, (p, d) => p * d);
        if (inferred >= 0)
        {
            if (known == 0 || total % known != 0)
                throw invalid($"cannot reshape ({string.Join(", ", input)}) to ({string.Join(", ", shape)}).");
            dims[inferred] = total / known;
        }
        if (dims.Aggregate(1L, (p, d) => p * d) != total)
            throw invalid($"cannot reshape ({string.Join(", ", input)}) ({total} values) to ({string.Join(", ", dims)}).");
        return dims.Select(d => (int)d).ToArray();
    }

    /// <summary>A Constant node's value: value (tensor), value_float(s) or value_int(s).</summary>
    public static OnnxTensorData ConstantNode(OnnxNode node, string context)
    {
        string name = node.Outputs.FirstOrDefault() ?? "";
        if (OnnxAttributes.Tensor(node, "value") is { } t) return OnnxTensorData.FromProto(t, $"{context}: {node.Label}");
        if (OnnxAttributes.Has(node, "value_float")) return OnnxTensorData.FromFloats(name, [], [OnnxAttributes.Float(node, "value_float", 0f)]);
        if (OnnxAttributes.Floats(node, "value_floats") is { } fs) return OnnxTensorData.FromFloats(name, [fs.Length], fs);
        if (OnnxAttributes.Has(node, "value_int")) return OnnxTensorData.FromInts(name, [], [OnnxAttributes.Int(node, "value_int", 0)]);
        if (OnnxAttributes.Ints(node, "value_ints") is { } ints) return OnnxTensorData.FromInts(name, [ints.Length], ints);
        string attribute = node.Attributes.Keys.FirstOrDefault() ?? "(none)";
        throw new OnnxUnsupportedException($"{context}: {node.Label} is not supported: its value is given as {QuotedName.Of(attribute)}; tensor, float(s) and int(s) values are supported.",
            node.Name, node.Index, node.OpType, attribute);
    }
}
