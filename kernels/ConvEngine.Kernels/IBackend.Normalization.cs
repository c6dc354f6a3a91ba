using ConvEngine.Kernels.Geometry;

namespace ConvEngine.Kernels;

/// <summary>
/// Per-channel and layout kernels that imported models (ONNX, Caffe) need: batch normalisation at
/// inference as a channel affine map, local response normalisation, and axis permutation.
/// </summary>
public partial interface IBackend
{
    /// <summary>
    /// output[p, c] = input[p, c] · scale[c] + shift[c] over (pixels, channels) channels-last data.
    /// BatchNormalization at inference is this with scale = γ/√(var+ε), shift = β − mean·scale.
    /// </summary>
    void ChannelAffine(DeviceBuffer input, DeviceBuffer scale, DeviceBuffer shift, DeviceBuffer output, long pixels, int channels);

    /// <summary>Local response normalisation across the last (channel) axis; see <see cref="LrnGeometry"/>.</summary>
    void Lrn(DeviceBuffer input, DeviceBuffer output, in LrnGeometry g);

    /// <summary>output = input with its (up to 4) axes permuted; see <see cref="TransposeGeometry"/>.</summary>
    void Transpose(DeviceBuffer input, DeviceBuffer output, in TransposeGeometry g);
}
