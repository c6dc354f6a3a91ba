using ConvEngine.Serialization;
using PureHDF;

namespace ConvEngine.Import.Keras;

/// <summary>
/// Keras 3's layout (saving_lib's H5IOStore, written by <c>model.save("m.keras")</c> inside the zip and by
/// <c>save_weights("m.weights.h5")</c>): no <c>layer_names</c>; each object's variables sit in a <c>vars</c> group at
/// its path — <c>vars/</c> for the model, <c>layers/conv2d/vars/0</c>, <c>/1</c>, … for its layers, nested models
/// recursing under <c>layers/&lt;entry&gt;/layers/…</c> — and since Keras 3.6 each <c>vars</c> group carries the
/// object's name in an attribute <c>name</c>. tf.keras 2.13–2.15's .keras files use <c>_layer_checkpoint_dependencies</c>
/// where Keras 3 writes <c>layers</c>; they are read as the same thing.
/// </summary>
public sealed partial class KerasWeightsFile
{
    /// <summary>Nesting deeper than this is refused: real models nest a few levels.</summary>
    private const int MaxKeras3Depth = 64;
    /// <summary>More groups than this is refused before reading any data: keras.applications models have a few hundred.</summary>
    private const int MaxKeras3Groups = 200_000;
    private const string LegacyLayersGroup = "_layer_checkpoint_dependencies";

    /// <summary>True for Keras 3's layout (layers/…/vars groups); <see cref="Layers"/> are then named by group path ("layers/conv2d", "" for the model).</summary>
    public bool IsKeras3 { get; private init; }

    /// <summary>For Keras 3 files: each group path's <c>name</c> attribute (the object's name), where the file has one.</summary>
    public IReadOnlyDictionary<string, string> Keras3Names { get; private init; } = new Dictionary<string, string>();

    private static bool IsKeras3Layout(IH5Group root) =>
        root.LinkExists("layers") || root.LinkExists("vars") || root.LinkExists(LegacyLayersGroup);

    private static KerasWeightsFile ReadKeras3(IH5Group root, string path, long fileLength, GuardedHdf5Stream stream)
    {
        var found = new List<(string GroupPath, IH5Group Vars)>();
        var pending = new Stack<(string Path, IH5Group Group, int Depth)>();
        pending.Push(("", root, 0));
        int groups = 0;
        while (pending.Count > 0)
        {
            var (groupPath, group, depth) = pending.Pop();
            if (++groups > MaxKeras3Groups)
                throw new KerasImportException($"{path}: more than {MaxKeras3Groups} groups; this is not a Keras weights file a model could have written.");
            if (depth > MaxKeras3Depth)
                throw new KerasImportException($"{path}: group /{groupPath} is nested {depth} levels deep; Keras models nest a few.");
            foreach (var child in group.Children().OrderBy(c => c.Name, StringComparer.Ordinal))
            {
                if (child is not IH5Group childGroup) continue;
                if (child.Name == "vars") found.Add((groupPath, childGroup));
                else
                {
                    string name = child.Name == LegacyLayersGroup ? "layers" : child.Name;
                    pending.Push((groupPath.Length == 0 ? name : $"{groupPath}/{name}", childGroup, depth + 1));
                }
            }
        }

        long storedBytes = 0;
        var plans = new List<(string GroupPath, string? Name, List<DatasetPlan> Datasets)>();
        foreach (var (groupPath, vars) in found.OrderBy(f => f.GroupPath, StringComparer.Ordinal))
        {
            string where = groupPath.Length == 0 ? "/vars" : $"/{groupPath}/vars";
            var datasets = vars.Children().ToList();
            var plan = new List<DatasetPlan>();
            var byIndex = new SortedDictionary<int, IH5Object>();
            foreach (var d in datasets)
            {
                if (!int.TryParse(d.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index)
                    || d is not IH5Dataset || !byIndex.TryAdd(index, d))
                    throw new KerasImportException($"{path}: {QuotedName.Of($"{where}/{d.Name}")} is not one of Keras 3's numbered variables (datasets 0, 1, 2, …).");
            }
            int expected = 0;
            foreach (var (index, d) in byIndex)
            {
                if (index != expected++)
                    throw new KerasImportException($"{path}: {QuotedName.Of(where)} holds variables {string.Join(", ", byIndex.Keys)}; Keras 3 numbers them 0 to {byIndex.Count - 1} without gaps.");
                plan.Add(PlanDataset(d.Name, $"{where}/{d.Name}", (IH5Dataset)d, path, fileLength, ref storedBytes));
            }
            plans.Add((groupPath, ReadString(vars, "name", path, where), plan));
        }

        var layers = plans.Select(p => new KerasLayerWeights(p.GroupPath, p.Datasets.Select(d => ReadDataset(d, path, stream)).ToList())).ToList();
        var names = plans.Where(p => p.Name is not null).ToDictionary(p => p.GroupPath, p => p.Name!, StringComparer.Ordinal);
        return new KerasWeightsFile(path, null, null, null, layers) { IsKeras3 = true, Keras3Names = names };
    }
}
