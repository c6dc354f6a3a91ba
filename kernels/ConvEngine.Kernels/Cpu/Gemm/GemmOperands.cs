namespace ConvEngine.Kernels.Cpu;

/// <summary>
/// Where the GEMM's A panels come from. <see cref="CpuGemm"/> is generic over it (struct type
/// arguments, so each source gets its own compiled loop and no virtual calls): a stored matrix,
/// a transposed one, or a conv's column matrix that is never stored (see <see cref="Im2colPanels"/>).
/// </summary>
internal interface IAPanelSource
{
    /// <summary>True when panels are packed in <see cref="KMajorPanel"/> layout, false for <see cref="RowPanel"/>.</summary>
    bool KMajor { get; }

    /// <summary>Writes rows i0..i0+rows (zero rows up to <paramref name="mr"/>) of columns k0..k0+kc into <paramref name="panel"/>.</summary>
    unsafe void Pack(int i0, int k0, int rows, int kc, int mr, float* panel);
}

/// <summary>A stored row-major: element (i, k) at a[i·lda + k].</summary>
internal readonly unsafe struct RowMajorA(float* a, nint lda) : IAPanelSource
{
    public bool KMajor => false;
    public void Pack(int i0, int k0, int rows, int kc, int mr, float* panel) => GemmPacking.ARows(a, lda, i0, k0, rows, kc, mr, panel);
}

/// <summary>A stored transposed (k×m): element (i, k) at a[k·lda + i].</summary>
internal readonly unsafe struct TransposedA(float* a, nint lda) : IAPanelSource
{
    public bool KMajor => true;
    public void Pack(int i0, int k0, int rows, int kc, int mr, float* panel) => GemmPacking.AColumns(a, lda, i0, k0, rows, kc, mr, panel);
}
