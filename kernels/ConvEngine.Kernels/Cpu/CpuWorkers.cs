namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// The cpu kernels' own worker threads: part p of a parallel split always runs on worker p − 1 (part 0 on the
/// caller), so every part starts at once and the split stays the one the sizes decided. The .NET thread pool's
/// Parallel.For let the calling thread run both parts of a two-part split whenever the pool thread woke late,
/// which on 2 cores left the second core idle through most GEMMs. Workers spin briefly between ops (a network
/// issues ops microseconds apart) and then sleep. A split asked for from inside a part, or while another thread
/// uses the workers, runs its parts one after another on the calling thread.
/// </summary>
internal static class CpuWorkers
{
    /// <summary>How long an idle worker spins for the next op before it sleeps, and a caller for its workers.</summary>
    private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 5000;   // 200 µs

    private static readonly object s_gate = new();
    private static Worker[] s_workers = [];
    [ThreadStatic] private static bool t_inPart;

    /// <summary>Runs <paramref name="body"/>(part) for every part in [0, parts) on <paramref name="parts"/> threads (the caller takes part 0).</summary>
    public static void Run(int parts, Action<int> body)
    {
        if (parts <= 1 || t_inPart || !Monitor.TryEnter(s_gate))
        {
            RunInline(parts, body);
            return;
        }
        try
        {
            var workers = Workers(parts - 1);
            var job = new Job(body, parts - 1);
            for (int w = 0; w < parts - 1; w++) workers[w].Start(job, w + 1);
            Exception? own = null;
            t_inPart = true;
            try { body(0); }
            catch (Exception e) { own = e; }
            finally { t_inPart = false; }
            job.Wait();
            var errors = job.Errors;
            if (own is not null) errors.Insert(0, own);
            if (errors.Count > 0) throw new AggregateException(errors);
        }
        finally
        {
            Monitor.Exit(s_gate);
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/>(chunk) for every chunk in [0, chunks) on up to <paramref name="threads"/> threads
    /// that each take the next unclaimed chunk, so a thread the OS holds back (a shared machine) leaves its share to the
    /// others instead of stalling the op. Only for chunks whose results do not depend on which thread computes them.
    /// </summary>
    public static void RunChunks(int threads, int chunks, Action<int> body)
    {
        int used = Math.Min(threads, chunks);
        if (used <= 1)
        {
            RunInline(chunks, body);
            return;
        }
        int next = -1;
        Run(used, _ =>
        {
            for (int chunk = Interlocked.Increment(ref next); chunk < chunks; chunk = Interlocked.Increment(ref next))
                body(chunk);
        });
    }

    private static void RunInline(int parts, Action<int> body)
    {
        bool outer = !t_inPart;
        t_inPart = true;
        try
        {
            for (int part = 0; part < Math.Max(parts, 0); part++) body(part);
        }
        finally
        {
            if (outer) t_inPart = false;
        }
    }

    /// <summary>At least <paramref name="count"/> started workers (called under the gate).</summary>
    private static Worker[] Workers(int count)
    {
        if (s_workers.Length < count)
        {
            var grown = new Worker[count];
            Array.Copy(s_workers, grown, s_workers.Length);
            for (int i = s_workers.Length; i < count; i++) grown[i] = new Worker(i);
            s_workers = grown;
        }
        return s_workers;
    }

    /// <summary>One split in flight: the body, the parts still running, and what they threw.</summary>
    private sealed class Job(Action<int> body, int workerParts)
    {
        private int _pending = workerParts;
        public Action<int> Body { get; } = body;
        public List<Exception> Errors { get; } = [];

        public void Done(Exception? error)
        {
            if (error is not null) lock (Errors) Errors.Add(error);
            Interlocked.Decrement(ref _pending);
        }

        /// <summary>Spins while the other parts are likely about to finish, then yields the core.</summary>
        public void Wait()
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            var spinner = new SpinWait();
            while (Volatile.Read(ref _pending) > 0)
            {
                if (System.Diagnostics.Stopwatch.GetTimestamp() - start < SpinTicks) Thread.SpinWait(20);
                else spinner.SpinOnce(sleep1Threshold: -1);
            }
        }
    }

    private sealed class Worker
    {
        private readonly SemaphoreSlim _wake = new(0);
        private Job? _job;
        private int _part;

        public Worker(int index)
        {
            new Thread(Loop) { IsBackground = true, Name = $"ConvEngine cpu worker {index + 1}" }.Start();
        }

        public void Start(Job job, int part)
        {
            _part = part;
            Volatile.Write(ref _job, job);
            _wake.Release();
        }

        private void Loop()
        {
            t_inPart = true;
            while (true)
            {
                // Spin for a new job first: the next op of a network usually comes within microseconds.
                long start = System.Diagnostics.Stopwatch.GetTimestamp();
                while (_wake.CurrentCount == 0 && System.Diagnostics.Stopwatch.GetTimestamp() - start < SpinTicks) Thread.SpinWait(20);
                _wake.Wait();
                var job = Volatile.Read(ref _job)!;
                Exception? error = null;
                try { job.Body(_part); }
                catch (Exception e) { error = e; }
                job.Done(error);
            }
        }
    }
}
