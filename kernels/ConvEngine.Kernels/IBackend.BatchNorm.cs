using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels;

/// <summary>
/// Batch normalisation for training (statistics, normalise + affine, backward, moving averages) and
/// the backward pass of LRN. Data is (rows, channels) channels-last: rows = N·H·W for an image batch.
/// A null gamma means 1 (Keras scale=False), a null beta means 0 (center=False).
/// </summary>
public partial interface IBackend
{
    /// <summary>Per-channel mean and biased variance (divided by rows) of (rows, channels) data.</summary>
    void BatchNormStatistics(DeviceBuffer input, DeviceBuffer mean, DeviceBuffer variance, long rows, int channels);

    /// <summary>
    /// y = x·s[c] + (beta[c] − mean[c]·s[c]) with s = gamma/√(variance + ε): TensorFlow's
    /// tf.nn.batch_normalization form. Training passes the batch statistics, inference the moving ones.
    /// </summary>
    void BatchNormForward(DeviceBuffer input, DeviceBuffer mean, DeviceBuffer variance, DeviceBuffer? gamma, DeviceBuffer? beta,
        DeviceBuffer output, long rows, int channels, float epsilon);

    /// <summary>
    /// From d(loss)/d(y): gradBeta = Σ dy, gradGamma = Σ dy·x̂ with x̂ = (x − mean)/√(var + ε) (each skipped when null),
    /// and gradInput (skipped when null). With <paramref name="batchStatistics"/> the mean and variance are the batch's own,
    /// functions of x: dx = γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂)); otherwise they are constants: dx = γ/σ·dy.
    /// </summary>
    void BatchNormBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer mean, DeviceBuffer variance, DeviceBuffer? gamma,
        DeviceBuffer? gradInput, DeviceBuffer? gradGamma, DeviceBuffer? gradBeta, long rows, int channels, float epsilon, bool batchStatistics);

    /// <summary>
    /// moving = momentum·moving + (1 − momentum)·batchScale·batch, elementwise over <paramref name="length"/> values
    /// (batchScale n/(n−1) turns a biased batch variance into the unbiased one TensorFlow's fused batch norm averages).
    /// </summary>
    void MovingAverageUpdate(DeviceBuffer moving, DeviceBuffer batch, int length, float momentum, float batchScale);

    /// <summary>
    /// Gradient of <see cref="Lrn"/>: with s_i = bias + α/size·Σ_window(i) x², y_i = x_i·s_i^−β,
    /// dx_j = dy_j·s_j^−β − (2αβ/size)·x_j·Σ_{i: j ∈ window(i)} dy_i·x_i·s_i^(−β−1).
    /// </summary>
    void LrnBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, in LrnGeometry g);
}
