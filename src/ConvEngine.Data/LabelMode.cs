namespace ConvEngine.Data;

/// <summary>How class labels become targets, as Keras' <c>label_mode</c>.</summary>
public enum LabelMode
{
    /// <summary>The class index as a float, target shape (N, 1) (Keras yields int32 (N,); sparse losses read either).</summary>
    Int,
    /// <summary>0 or 1 as a float, target shape (N, 1); exactly two classes.</summary>
    Binary,
    /// <summary>One-hot, target shape (N, K).</summary>
    Categorical,
    /// <summary>No targets: target shape (N, 0).</summary>
    None,
}

/// <summary>Turns class indices into the float targets of a <see cref="ConvEngine.Training.Batch"/>.</summary>
internal static class LabelEncoding
{
    /// <summary>Floats per sample in the targets.</summary>
    public static int Width(LabelMode mode, int classCount) => mode switch
    {
        LabelMode.Int or LabelMode.Binary => 1,
        LabelMode.Categorical => classCount,
        _ => 0,
    };

    /// <summary>Refuses a label mode the classes cannot have; <paramref name="source"/> names the dataset in the message.</summary>
    public static void Validate(LabelMode mode, IReadOnlyList<string> classNames, string source)
    {
        // keras/utils/image_dataset.py: 'When passing label_mode="binary", there must be exactly 2 class_names.'
        if (mode == LabelMode.Binary && classNames.Count != 2)
            throw new ArgumentException(
                $"{source}: label mode 'binary' needs exactly 2 classes, found {classNames.Count}: [{string.Join(", ", classNames)}]. Use 'int' or 'categorical' for more.");
        if (mode is LabelMode.Int or LabelMode.Categorical && classNames.Count == 0)
            throw new ArgumentException($"{source}: label mode '{mode.ToString().ToLowerInvariant()}' needs at least one class.");
    }

    /// <summary>Writes the targets of <paramref name="labels"/> (class indices) into <paramref name="targets"/> (N × Width floats).</summary>
    public static void Encode(ReadOnlySpan<int> labels, LabelMode mode, int classCount, Span<float> targets)
    {
        int width = Width(mode, classCount);
        if (targets.Length != labels.Length * width)
            throw new ArgumentException($"LabelEncoding: {targets.Length} target floats for {labels.Length} labels of width {width}.");
        if (mode == LabelMode.None)
            return;
        for (int i = 0; i < labels.Length; i++)
        {
            int label = labels[i];
            if ((uint)label >= (uint)classCount)
                throw new ArgumentOutOfRangeException(nameof(labels), $"LabelEncoding: label {label} at {i} is outside [0, {classCount}).");
            if (mode == LabelMode.Categorical)
            {
                targets.Slice(i * width, width).Clear();
                targets[i * width + label] = 1f;
            }
            else
                targets[i] = label;
        }
    }
}
