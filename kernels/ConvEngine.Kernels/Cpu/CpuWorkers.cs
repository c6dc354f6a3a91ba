namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// The cpu kernels' own worker threads. A split into parts wakes as many workers as it needs, and the caller and
/// the workers then each take the next part nobody has taken yet, until none is left. Which thread computes a
/// part never changes what it computes (the parts themselves are fixed by the sizes), so results do not depend on
/// the schedule; but a thread the OS holds back on a shared machine no longer stalls the op: the others take its
/// share. (The .NET thread pool's Parallel.For, used before, often let the caller run both parts of a two-part
/// split while the pool thread woke, leaving the second core idle through most GEMMs.) Workers spin briefly
/// between ops (a network issues them microseconds apart) and then sleep. A split asked for from inside a part,
/// or while another thread uses the workers, runs its parts one after another on the calling thread.
/// </summary>
internal static class CpuWorkers
{
    /// <summary>How long an idle worker spins for the next op before it sleeps, and a caller for the parts still running.</summary>
    private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 5000;   // 200 µs

    private static readonly object s_gate = new();
    private static Worker[] s_workers = [];
    [ThreadStatic] private static bool t_inPart;

    /// <summary>Runs <paramref name="body"/>(part) once for every part in [0, parts) on up to <paramref name="threads"/> threads (the caller included).</summary>
    public static void Run(int threads, int parts, Action<int> body)
    {
        int helpers = Math.Min(threads, parts) - 1;
        if (helpers <= 0 || t_inPart || !Monitor.TryEnter(s_gate))
        {
            RunInline(parts, body);
            return;
        }
        try
        {
            var workers = Workers(helpers);
            var job = new Job(body, parts);
            for (int w = 0; w < helpers; w++) workers[w].Start(job);
            t_inPart = true;
            try { job.Participate(); }
            finally { t_inPart = false; }
            job.Wait();
            if (job.Errors.Count > 0) throw new AggregateException(job.Errors);
        }
        finally
        {
            Monitor.Exit(s_gate);
        }
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

    /// <summary>One split in flight: the body, the next part to take, the parts finished, and what they threw.</summary>
    private sealed class Job(Action<int> body, int parts)
    {
        private int _next = -1, _finished;
        public List<Exception> Errors { get; } = [];

        /// <summary>Takes and runs parts until none is left.</summary>
        public void Participate()
        {
            for (int part = Interlocked.Increment(ref _next); part < parts; part = Interlocked.Increment(ref _next))
            {
                try { body(part); }
                catch (Exception e) { lock (Errors) Errors.Add(e); }
                Interlocked.Increment(ref _finished);
            }
        }

        /// <summary>Spins while the parts others took are likely about to finish, then yields the core between looks.</summary>
        public void Wait()
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            var spinner = new SpinWait();
            while (Volatile.Read(ref _finished) < parts)
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

        public Worker(int index)
        {
            new Thread(Loop) { IsBackground = true, Name = $"ConvEngine cpu worker {index + 1}" }.Start();
        }

        public void Start(Job job)
        {
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
                Volatile.Read(ref _job)!.Participate();
            }
        }
    }
}
