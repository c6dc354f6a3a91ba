using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels;

/// <summary>Which loss a fused loss kernel computes. See shared/reference/keras-semantics.md, section A.</summary>
public enum LossKind
{
    /// <summary>Sigmoid + binary cross-entropy from logits: max(z,0) − z·t + log(1 + e^−|z|), no clipping (Keras 2 with a sigmoid output).</summary>
    SigmoidBinaryCrossEntropy,
    /// <summary>Binary cross-entropy on probabilities clipped to [1e−7, 1−1e−7].</summary>
    BinaryCrossEntropy,
    /// <summary>Softmax + categorical cross-entropy from logits, one-hot targets.</summary>
    SoftmaxCategoricalCrossEntropy,
    /// <summary>Softmax + sparse categorical cross-entropy from logits, targets are class indices stored as floats.</summary>
    SoftmaxSparseCategoricalCrossEntropy,
    /// <summary>Categorical cross-entropy on probabilities, clipped to [1e−7, 1−1e−7], one-hot targets.</summary>
    CategoricalCrossEntropy,
    /// <summary>Mean of the squared differences.</summary>
    MeanSquaredError,
}

/// <summary>
/// Backward kernels, fused losses and optimizer updates. Every gradient output is overwritten,
/// never accumulated, unless a parameter says so; the model graph sums gradients where a
/// tensor feeds several consumers.
/// </summary>
public partial interface IBackend
{
    /// <summary>gradInput (N,H,W,C) = full correlation of gradOutput with the flipped filter (transposed conv).</summary>
    void Conv2DBackwardData(DeviceBuffer gradOutput, DeviceBuffer filter, DeviceBuffer gradInput, in Conv2DGeometry g);
    /// <summary>gradFilter (KH,KW,C/groups,OC) = Σ over batch and output pixels of input patch × gradOutput.</summary>
    void Conv2DBackwardFilter(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradFilter, in Conv2DGeometry g);
    /// <summary>gradBias (channels) = Σ over rows of gradOutput (rows, channels).</summary>
    void BiasBackward(DeviceBuffer gradOutput, DeviceBuffer gradBias, long rows, int channels);
    /// <summary>Max: gradient to the first max in each window (ties go to the earliest in scan order). Average: spread over the divisor's cells.</summary>
    void Pool2DBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, in Pool2DGeometry g, PoolKind kind);
    /// <summary>Gradient of <see cref="IBackend.GlobalPool"/>: max routes each channel's gradient to its first maximum, average spreads it evenly.</summary>
    void GlobalPoolBackward(DeviceBuffer input, DeviceBuffer gradOutput, DeviceBuffer gradInput, int n, int spatial, int channels, PoolKind kind);
    /// <summary>c (M,N) = op(a) · op(b) [+ c if accumulate], op = transpose when asked; a is (M,K) or (K,M), b is (K,N) or (N,K).</summary>
    void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, int m, int k, int n, bool transposeA, bool transposeB, bool accumulate);
    /// <summary>gradInput = gradOutput · act'(x), written from the activation's output y (relu: y>0, sigmoid: y(1−y), tanh: 1−y², leaky: y>0 ? 1 : α).</summary>
    void ActivationBackward(DeviceBuffer output, DeviceBuffer gradOutput, DeviceBuffer gradInput, long length, KernelActivation activation);
    /// <summary>From the (log-)softmax output y: softmax g·y − y·Σ(g·y); log-softmax g − e^y·Σg.</summary>
    void SoftmaxBackward(DeviceBuffer output, DeviceBuffer gradOutput, DeviceBuffer gradInput, int rows, int cols, bool log);
    /// <summary>Inverse of Concat: splits (pixels, Σ channels) into (pixels, channels[i]).</summary>
    void Split(DeviceBuffer input, IReadOnlyList<DeviceBuffer> outputs, IReadOnlyList<int> channels, long pixels);
    /// <summary>Gradient of Pad2D: each input cell sums the output cells that copied it.</summary>
    void Pad2DBackward(DeviceBuffer gradOutput, DeviceBuffer gradInput, in Pad2DGeometry g, PadMode mode);

    /// <summary>output = a ⊙ b.</summary>
    void Multiply(DeviceBuffer a, DeviceBuffer b, DeviceBuffer output, long length);
    /// <summary>y = alpha·x + y.</summary>
    void Axpy(float alpha, DeviceBuffer x, DeviceBuffer y, long length);
    /// <summary>Sets the first <paramref name="length"/> floats of <paramref name="buffer"/> to <paramref name="value"/>.</summary>
    void Fill(DeviceBuffer buffer, float value, long length);
    /// <summary>
    /// Inverted dropout: mask[i] = 1/(1−rate) with probability 1−rate, else 0, from a counter-based
    /// hash of (seed, i) so every backend draws the same mask; output = input ⊙ mask.
    /// </summary>
    void Dropout(DeviceBuffer input, DeviceBuffer mask, DeviceBuffer output, long length, float rate, ulong seed);

    /// <summary>
    /// Fused loss over (rows, cols) predictions (logits for the Softmax/Sigmoid kinds): writes each
    /// row's loss (Keras reduction of the last axis: mean for BCE and MSE, sum over classes for the cross-entropies) into lossPerRow and d(mean loss over rows)/d(prediction) into gradPrediction.
    /// </summary>
    void Loss(LossKind kind, DeviceBuffer prediction, DeviceBuffer target, DeviceBuffer lossPerRow, DeviceBuffer gradPrediction, int rows, int cols);

    /// <summary>
    /// Keras Adam step with the bias correction folded into <paramref name="stepSize"/> = lr·√(1−β2^t)/(1−β1^t):
    /// m += (g−m)(1−β1); v += (g²−v)(1−β2); θ −= stepSize·m/(√v + ε).
    /// </summary>
    void AdamUpdate(DeviceBuffer parameters, DeviceBuffer gradient, DeviceBuffer m, DeviceBuffer v, long length,
        float stepSize, float beta1, float beta2, float epsilon);
    /// <summary>Keras SGD: velocity = momentum·velocity − lr·g; θ += velocity (Nesterov: θ += momentum·velocity − lr·g).</summary>
    void SgdUpdate(DeviceBuffer parameters, DeviceBuffer gradient, DeviceBuffer velocity, long length,
        float learningRate, float momentum, bool nesterov);
}
