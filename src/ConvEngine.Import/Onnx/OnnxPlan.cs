using ConvEngine.Kernels;

namespace ConvEngine.Import.Onnx;

/// <summary>
/// One kernel launch (or free view) of a plan: reads the tensors in <see cref="Inputs"/>' slots,
/// returns the tensor for <see cref="Output"/>'s slot. A view step returns a reshaped view that
/// shares its first input's buffer.
/// </summary>
internal sealed record OnnxStep(string Label, int[] Inputs, int Output, bool IsView, Func<Tensor[], Tensor> Run);

/// <summary>
/// An executable plan of the graph for one set of input shapes: a list of steps over numbered slots.
/// Slot buffers are freed as soon as their last reader has run, so peak memory stays near the
/// largest pair of live activations. Built by <see cref="OnnxPlanBuilder"/>.
/// </summary>
internal sealed class OnnxPlan : IDisposable
{
    public required IBackend Backend { get; init; }
    public required List<OnnxStep> Steps { get; init; }
    public required int SlotCount { get; init; }
    /// <summary>The slot each fed input (in engine layout) goes into, by input name.</summary>
    public required Dictionary<string, int> InputSlots { get; init; }
    /// <summary>Constant tensors uploaded for this plan, by slot; they live as long as the plan.</summary>
    public required Dictionary<int, Tensor> ConstantSlots { get; init; }
    /// <summary>The slot of each graph output, in ONNX layout, by output name in graph order.</summary>
    public required List<(string Name, int Slot)> OutputSlots { get; init; }
    /// <summary>For each slot, the slot that owns its buffer (itself unless it is a view).</summary>
    public required int[] Owner { get; init; }

    /// <summary>Each output's ONNX dims (its tensor's shape in ONNX layout).</summary>
    public required Dictionary<string, int[]> OutputOnnxDims { get; init; }

    public int[] OutputDims(string name) => OutputOnnxDims[name];

    private List<int>[]? _freeAfter;

    /// <summary>Runs the steps on inputs already in engine layout; returns the outputs, each owned by the caller.</summary>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs)
    {
        _freeAfter ??= ScheduleFrees();
        var slots = new Tensor?[SlotCount];
        foreach (var (slot, tensor) in ConstantSlots) slots[slot] = tensor;
        foreach (var (name, slot) in InputSlots) slots[slot] = inputs[name];
        var results = new Dictionary<string, Tensor>();
        try
        {
            for (int s = 0; s < Steps.Count; s++)
            {
                var step = Steps[s];
                var args = new Tensor[step.Inputs.Length];
                for (int i = 0; i < args.Length; i++)
                    args[i] = slots[step.Inputs[i]] ?? throw new InvalidOperationException($"{step.Label}: input slot {step.Inputs[i]} is empty (plan bug).");
                slots[step.Output] = step.Run(args);
                foreach (int dead in _freeAfter[s])
                {
                    slots[dead]?.Dispose();
                    slots[dead] = null;
                }
            }
            var handedOver = new HashSet<int>();
            foreach (var (name, slot) in OutputSlots)
            {
                var tensor = slots[slot]!;
                int owner = Owner[slot];
                // Hand over an owned, produced buffer once; anything else (a view, a fed input, a constant, a repeat) is copied.
                if (owner == slot && IsProduced(slot) && handedOver.Add(slot))
                {
                    results[name] = tensor;
                    slots[slot] = null;
                }
                else
                {
                    var copy = Tensor.Zeros(Backend, tensor.Shape);
                    Backend.Copy(tensor.Buffer, copy.Buffer, tensor.Length);
                    results[name] = copy;
                }
            }
            return results;
        }
        catch
        {
            foreach (var t in results.Values) t.Dispose();
            throw;
        }
        finally
        {
            // Every produced buffer still held (outputs' sources that were copied, unread values) is freed here.
            for (int slot = 0; slot < SlotCount; slot++)
                if (slots[slot] is { } t && IsProduced(slot) && !results.ContainsValue(t)) t.Dispose();
        }
    }

    private bool IsProduced(int slot) => !ConstantSlots.ContainsKey(slot) && !InputSlots.ContainsValue(slot);

    /// <summary>
    /// After which step each produced slot can go: the last step that reads it or any view of it.
    /// Views are never disposed themselves (they do not own data); their owner goes when all are read.
    /// Slots that feed outputs stay to the end.
    /// </summary>
    private List<int>[] ScheduleFrees()
    {
        var lastUse = new int[SlotCount];
        Array.Fill(lastUse, -1);
        for (int s = 0; s < Steps.Count; s++)
        {
            lastUse[Owner[Steps[s].Output]] = Math.Max(lastUse[Owner[Steps[s].Output]], s);
            foreach (int input in Steps[s].Inputs) lastUse[Owner[input]] = s;
        }
        foreach (var (_, slot) in OutputSlots) lastUse[Owner[slot]] = int.MaxValue;
        var freeAfter = Enumerable.Range(0, Steps.Count).Select(_ => new List<int>()).ToArray();
        for (int slot = 0; slot < SlotCount; slot++)
            if (Owner[slot] == slot && IsProduced(slot) && lastUse[slot] >= 0 && lastUse[slot] < Steps.Count)
                freeAfter[lastUse[slot]].Add(slot);
        return freeAfter;
    }

    public void Dispose()
    {
        foreach (var t in ConstantSlots.Values) t.Dispose();
    }
}
