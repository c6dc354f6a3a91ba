namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Cache blocking of the GEMM: KC (the K block: one packed A panel of MR × KC floats stays in L1 while B streams
/// past it), NC (the N block: the KC × NC floats of B that every A panel of an M block meets, from L2) and MC
/// (the M block: the MC × NC rows of C that stay in L3 while every K block adds into them). Derived from the machine's
/// cache sizes (<see cref="CpuCaches"/>), or set explicitly (the tuning cache and tests do).
/// </summary>
internal readonly record struct GemmBlocking(int KC, int NC, int MC)
{
    /// <summary>
    /// Row stride of a packed <see cref="RowPanel"/>, the largest KC: a constant, so the micro-kernels address
    /// each A row with an immediate offset.
    /// </summary>
    public const int PanelStride = 512;

    /// <summary>
    /// The blocking for <paramref name="simd"/> on a machine with <paramref name="caches"/>: KC 384 where L1d holds
    /// 48 KiB or more (measured best on a Zen 5 with AVX-512), else 256; NC the widest multiple of NR whose KC × NC
    /// block fills half of L2 (the other half keeps C rows and the A panels' sources); MC the rows whose MC × NC
    /// C block fills a quarter of L3 (shared with the other cores), at least 32 panels.
    /// </summary>
    public static GemmBlocking For(SimdLevel simd, CpuCaches caches)
    {
        var (mr, nr) = GemmMicroKernels.TileShape(simd);
        int kc = caches.L1Data >= 48 << 10 ? 384 : 256;
        int nc = (int)Math.Clamp(caches.L2 / 2 / (kc * sizeof(float)) / nr * nr, 4L * nr, 1024);
        int mc = (int)Math.Clamp(caches.L3 / 4 / (nc * sizeof(float)) / mr * mr, 32L * mr, 1 << 16);
        return new GemmBlocking(kc, nc, mc);
    }

    private static readonly GemmBlocking[] s_defaults =
        [For(SimdLevel.Scalar, CpuCaches.Current), For(SimdLevel.Avx2, CpuCaches.Current), For(SimdLevel.Avx512, CpuCaches.Current)];

    /// <summary>This machine's blocking for <paramref name="simd"/> (from <see cref="CpuCaches.Current"/>).</summary>
    public static GemmBlocking Default(SimdLevel simd) => s_defaults[(int)simd];

    /// <summary>Refuses a KC above <see cref="PanelStride"/> or any non-positive block.</summary>
    public GemmBlocking Checked()
    {
        if (KC <= 0 || KC > PanelStride || NC <= 0 || MC <= 0)
            throw new ArgumentOutOfRangeException(nameof(KC), $"GEMM blocking KC={KC}, NC={NC}, MC={MC}: each must be positive and KC at most {PanelStride}.");
        return this;
    }

    public override string ToString() => $"KC {KC}, NC {NC}, MC {MC}";
}
