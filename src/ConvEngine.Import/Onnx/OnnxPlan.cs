using ConvEngine.Kernels;

namespace ConvEngine.Import.Onnx;

/// <summary>How a step produces its output slot.</summary>
internal enum OnnxStepKind
{
    /// <summary>A reshaped view sharing its first input's buffer (no kernel, no copy).</summary>
    View,
    /// <summary>Returns a tensor of its own (freed after the slot's last reader).</summary>
    Allocating,
    /// <summary>Writes into the planned tensor of its <see cref="OnnxStep.Target"/> slot (allocated once per plan).</summary>
    Into,
}

/// <summary>
/// One kernel launch (or free view) of a plan: reads the tensors in <see cref="Inputs"/>' slots and fills
/// <see cref="Output"/>'s. An <see cref="OnnxStepKind.Into"/> step writes the planned tensor of <see cref="Target"/>,
/// which is its own output slot, or the slot of a concatenation it writes a channel slice of (then its own output
/// slot holds nothing and only that concatenation reads it).
/// </summary>
internal sealed class OnnxStep
{
    public required string Label { get; init; }
    public required int[] Inputs { get; set; }
    public required int Output { get; init; }
    public required OnnxStepKind Kind { get; init; }
    public Func<Tensor[], Tensor>? Produce { get; init; }
    public Action<Tensor[], Tensor>? Into { get; init; }
    /// <summary>The slot whose planned tensor an Into step writes.</summary>
    public int Target { get; set; }
    /// <summary>The engine dims of the planned tensor of an Into step's own output.</summary>
    public int[] OutputDims { get; init; } = [];
    /// <summary>Floating-point operations of the step (convs and matrix products; 0 for the rest), for profiles.</summary>
    public double Flops { get; set; }
    public bool IsView => Kind == OnnxStepKind.View;
}

/// <summary>
/// An executable plan of the graph for one set of input shapes: a list of steps over numbered slots. The tensors
/// the steps write are planned once, on the first run: each gets a buffer from a pool, reused by a later tensor once
/// every reader of the earlier one has run (best fit by size), so a run allocates nothing but its outputs (copied
/// out, owned by the caller) and memory stays near the largest set of live activations. Built by <see cref="OnnxPlanBuilder"/>.
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
    /// <summary>What the plan holds besides its slots (packed filters); disposed with it.</summary>
    public List<IDisposable> Owned { get; init; } = [];

    public int[] OutputDims(string name) => OutputOnnxDims[name];

    private List<int>[]? _freeAfter;
    private Tensor?[]? _planned;
    private readonly List<Tensor> _pool = [];
    private Tensor[][]? _arguments;

    /// <summary>Floats of the buffers the plan allocated for its tensors (after the first run).</summary>
    public long PlannedFloats => _pool.Sum(t => t.Length);

    /// <summary>Runs the steps on inputs already in engine layout; returns the outputs, each owned by the caller.</summary>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs) => Run(inputs, null);

    /// <summary>
    /// <see cref="Run(IReadOnlyDictionary{string, Tensor})"/>, adding each step's wall time (after a backend
    /// synchronize, so asynchronous backends are timed too) to <paramref name="stepMilliseconds"/> when given.
    /// </summary>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, double[]? stepMilliseconds)
    {
        if (_planned is null) PlanBuffers();
        var slots = new Tensor?[SlotCount];
        foreach (var (slot, tensor) in ConstantSlots) slots[slot] = tensor;
        foreach (var (name, slot) in InputSlots) slots[slot] = inputs[name];
        var results = new Dictionary<string, Tensor>();
        var allocated = new List<Tensor>();
        try
        {
            for (int s = 0; s < Steps.Count; s++)
            {
                var step = Steps[s];
                long started = stepMilliseconds is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
                var args = _arguments![s];
                for (int i = 0; i < args.Length; i++)
                    args[i] = slots[step.Inputs[i]] ?? throw new InvalidOperationException($"{step.Label}: input slot {step.Inputs[i]} is empty (plan bug).");
                switch (step.Kind)
                {
                    case OnnxStepKind.Into:
                        var target = _planned![step.Target]!;
                        step.Into!(args, target);
                        slots[step.Target] = target;
                        if (step.Target != step.Output) slots[step.Output] = target;
                        break;
                    case OnnxStepKind.Allocating:
                        var produced = step.Produce!(args);
                        allocated.Add(produced);
                        slots[step.Output] = produced;
                        break;
                    default:
                        slots[step.Output] = step.Produce!(args);
                        break;
                }
                if (stepMilliseconds is not null)
                {
                    Backend.Synchronize();
                    stepMilliseconds[s] += System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                }
                foreach (int dead in _freeAfter![s])
                {
                    if (slots[dead] is { } t && allocated.Remove(t)) t.Dispose();
                    slots[dead] = null;
                }
                Array.Clear(args);
            }
            foreach (var (name, slot) in OutputSlots)
            {
                var tensor = slots[slot]!;
                var copy = Tensor.Zeros(Backend, tensor.Shape);
                Backend.Copy(tensor.Buffer, copy.Buffer, tensor.Length);
                results[name] = copy;
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
            foreach (var t in allocated) t.Dispose();
        }
    }

    /// <summary>
    /// Gives every Into step's target slot a tensor over a pooled buffer: taken (best fit) at the slot's first
    /// write and returned after its last read, counting the readers of its views; graph outputs stay to the end.
    /// Also schedules when each allocating step's tensor can go.
    /// </summary>
    private void PlanBuffers()
    {
        int n = Steps.Count;
        var firstWrite = new int[SlotCount];
        var lastUse = new int[SlotCount];
        var dims = new int[SlotCount][];
        Array.Fill(firstWrite, int.MaxValue);
        Array.Fill(lastUse, -1);
        for (int s = 0; s < n; s++)
        {
            var step = Steps[s];
            int owner = Owner[step.Output];
            lastUse[owner] = Math.Max(lastUse[owner], s);
            if (step.Kind == OnnxStepKind.Into)
            {
                firstWrite[step.Target] = Math.Min(firstWrite[step.Target], s);
                lastUse[step.Target] = Math.Max(lastUse[step.Target], s);
                if (step.Target == step.Output) dims[step.Output] = step.OutputDims;
            }
            foreach (int input in step.Inputs) lastUse[Owner[input]] = Math.Max(lastUse[Owner[input]], s);
        }
        foreach (var (_, slot) in OutputSlots) lastUse[Owner[slot]] = int.MaxValue;

        var startAt = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
        var endAfter = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
        for (int slot = 0; slot < SlotCount; slot++)
        {
            if (firstWrite[slot] == int.MaxValue) continue;
            startAt[firstWrite[slot]].Add(slot);
            if (lastUse[slot] < n) endAfter[lastUse[slot]].Add(slot);
        }

        _planned = new Tensor?[SlotCount];
        var free = new List<Tensor>();
        var bufferOf = new Dictionary<int, Tensor>();
        for (int s = 0; s < n; s++)
        {
            foreach (int slot in startAt[s])
            {
                var shape = new TensorShape(dims[slot] ?? throw new InvalidOperationException($"Slot {slot} is written but has no planned dims (plan bug)."));
                var buffer = free.Where(t => t.Length >= shape.Length).MinBy(t => t.Length);
                if (buffer is null)
                {
                    buffer = Tensor.Zeros(Backend, checked((int)shape.Length));
                    _pool.Add(buffer);
                }
                else free.Remove(buffer);
                bufferOf[slot] = buffer;
                _planned[slot] = Tensor.View(buffer.Buffer, shape);
            }
            foreach (int slot in endAfter[s]) free.Add(bufferOf[slot]);
        }

        _freeAfter = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
        for (int slot = 0; slot < SlotCount; slot++)
            if (Owner[slot] == slot && IsProduced(slot) && firstWrite[slot] == int.MaxValue && lastUse[slot] >= 0 && lastUse[slot] < n)
                _freeAfter[lastUse[slot]].Add(slot);
        _arguments = Steps.Select(step => new Tensor[step.Inputs.Length]).ToArray();
    }

    private bool IsProduced(int slot) => !ConstantSlots.ContainsKey(slot) && !InputSlots.ContainsValue(slot);

    public void Dispose()
    {
        foreach (var t in ConstantSlots.Values) t.Dispose();
        foreach (var t in _pool) t.Dispose();
        foreach (var d in Owned) d.Dispose();
        _pool.Clear();
    }
}
