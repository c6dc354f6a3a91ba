using ConvEngine.Import.Onnx.Proto;
using ConvEngine.Kernels;
using ConvEngine.Kernels.Geometry;
using ConvEngine.Layers;

namespace ConvEngine.Import.Onnx;

public static partial class OnnxExporter
{
    private sealed partial class GraphWriter
    {
        /// <summary>TensorFlow's pads for the model's input size (SAME: the odd pixel bottom/right), as ONNX's [top, left, bottom, right].</summary>
        private static long[] Pads(Padding padding, int h, int w, Size2D kernel, Size2D strides, Size2D dilation)
        {
            var (top, bottom, _) = WindowMath.Resolve(h, kernel.Height, strides.Height, dilation.Height, padding.Mode, padding.Top, padding.Bottom);
            var (left, right, _) = WindowMath.Resolve(w, kernel.Width, strides.Width, dilation.Width, padding.Mode, padding.Left, padding.Right);
            return [top, left, bottom, right];
        }

        /// <summary>A 1-D window's pads [begin, end] (causal: dilation·(k − 1) before, as Keras's Conv1D).</summary>
        private static long[] Pads1D(Padding padding, int length, int kernel, int stride, int dilation)
        {
            var (before, after, _) = WindowMath.Resolve(length, kernel, stride, dilation, padding.Mode, padding.Left, padding.Right);
            return [before, after];
        }

        /// <summary>A kernel stored (spatial…, I, O) — Keras's HWIO — as ONNX's (O, I, spatial…).</summary>
        private static float[] SpatialLastToOnnx(float[] kernel, int spatial, int cin, int oc)
        {
            var onnx = new float[kernel.Length];
            for (int s = 0; s < spatial; s++)
                for (int i = 0; i < cin; i++)
                    for (int o = 0; o < oc; o++)
                        onnx[(o * cin + i) * spatial + s] = kernel[(s * cin + i) * oc + o];
            return onnx;
        }

        /// <summary>Conv2D, and Conv1D as a Conv over one spatial axis of (N, C, L).</summary>
        private Value Conv(ConvolutionLayer conv, Value x, int[] outputShape)
        {
            var kernel = conv.Kernel!;
            int cin = kernel.Shape[-2], oc = kernel.Shape[-1];
            bool oneD = conv is Conv1D;
            int kh = oneD ? 1 : kernel.Shape[0], kw = kernel.Shape[oneD ? 0 : 1];
            float[] weights = SpatialLastToOnnx(kernel.ToArray(), kh * kw, cin, oc);
            long[] dims = oneD ? [oc, cin, kw] : [oc, cin, kh, kw];
            var inputs = new List<string> { x.Name, Initializer($"{conv.Name}/kernel", weights, dims) };
            if (conv.Bias is { } bias) inputs.Add(Initializer($"{conv.Name}/bias", bias.ToArray(), oc));
            AttributeProto[] attributes = oneD
                ?
                [
                    Ints("kernel_shape", kw), Ints("strides", conv.Strides.Width), Ints("dilations", conv.DilationRate.Width),
                    Ints("pads", Pads1D(conv.Padding, x.Shape[0], kw, conv.Strides.Width, conv.DilationRate.Width)), Int("group", conv.Groups),
                ]
                :
                [
                    Ints("kernel_shape", kh, kw), Ints("strides", conv.Strides.Height, conv.Strides.Width),
                    Ints("dilations", conv.DilationRate.Height, conv.DilationRate.Width),
                    Ints("pads", Pads(conv.Padding, x.Shape[0], x.Shape[1], conv.KernelSize, conv.Strides, conv.DilationRate)), Int("group", conv.Groups),
                ];
            string y = Node("Conv", conv.Activation.IsLinear ? conv.Name : $"{conv.Name}/linear", inputs, attributes);
            return new Value(Activate(conv, conv.Activation, y, conv.Name), outputShape);
        }

        /// <summary>
        /// A depthwise conv as a Conv with one group per input channel: Keras's (kh, kw, C, M) kernel is, in memory, the
        /// HWIO filter (kh, kw, 1, C·M), whose output channel c·M + m is ONNX's group c.
        /// </summary>
        private string DepthwiseConv(Layer layer, string name, Value x, float[] kernel, Size2D kernelSize, Size2D strides, Padding padding,
            Size2D dilation, int multiplier, float[]? bias)
        {
            int kh = kernelSize.Height, kw = kernelSize.Width, channels = x.Channels, oc = channels * multiplier;
            var inputs = new List<string> { x.Name, Initializer($"{name}/depthwise_kernel", SpatialLastToOnnx(kernel, kh * kw, 1, oc), oc, 1, kh, kw) };
            if (bias is not null) inputs.Add(Initializer($"{name}/bias", bias, oc));
            if (x.Rank != 3) throw Refuse(layer, $"its input {SymbolicTensor.FormatShape(x.Shape)} is not an image");
            return Node("Conv", name, inputs,
                Ints("kernel_shape", kh, kw), Ints("strides", strides.Height, strides.Width), Ints("dilations", dilation.Height, dilation.Width),
                Ints("pads", Pads(padding, x.Shape[0], x.Shape[1], kernelSize, strides, dilation)), Int("group", channels));
        }

        private Value Depthwise(DepthwiseConv2D layer, Value x, int[] outputShape)
        {
            string y = DepthwiseConv(layer, layer.Activation.IsLinear ? layer.Name : $"{layer.Name}/linear", x, layer.DepthwiseKernel!.ToArray(),
                layer.KernelSize, layer.Strides, layer.Padding, layer.DilationRate, layer.DepthMultiplier, layer.Bias?.ToArray());
            return new Value(Activate(layer, layer.Activation, y, layer.Name), outputShape);
        }

        /// <summary>SeparableConv2D: the depthwise Conv (strides, padding, dilation) then a 1×1 Conv with the bias and the activation.</summary>
        private Value Separable(SeparableConv2D layer, Value x, int[] outputShape)
        {
            string middle = DepthwiseConv(layer, $"{layer.Name}/depthwise", x, layer.DepthwiseKernel!.ToArray(), layer.KernelSize, layer.Strides,
                layer.Padding, layer.DilationRate, layer.DepthMultiplier, bias: null);
            var pointwise = layer.PointwiseKernel!;
            int cin = pointwise.Shape[2], oc = pointwise.Shape[3];
            var inputs = new List<string> { middle, Initializer($"{layer.Name}/pointwise_kernel", SpatialLastToOnnx(pointwise.ToArray(), 1, cin, oc), oc, cin, 1, 1) };
            if (layer.Bias is { } bias) inputs.Add(Initializer($"{layer.Name}/bias", bias.ToArray(), oc));
            string y = Node("Conv", layer.Activation.IsLinear ? layer.Name : $"{layer.Name}/pointwise", inputs, Ints("kernel_shape", 1, 1));
            return new Value(Activate(layer, layer.Activation, y, layer.Name), outputShape);
        }

        /// <summary>
        /// Conv2DTranspose as ConvTranspose with explicit pads and output_padding: the engine's geometry (Keras's
        /// deconv_output_length, or the layer's explicit pads) gives the pads of the conv this op is the gradient of;
        /// ONNX's size s(n − 1) + output_padding + dk − pads then fixes output_padding to reach the engine's size.
        /// </summary>
        private Value ConvTranspose(Conv2DTranspose layer, Value x, int[] outputShape)
        {
            var kernel = layer.Kernel!;
            int kh = kernel.Shape[0], kw = kernel.Shape[1], perGroup = kernel.Shape[2], cin = kernel.Shape[3];
            var options = new ConvTranspose2DOptions
            {
                StrideH = layer.Strides.Height, StrideW = layer.Strides.Width, DilationH = layer.DilationRate.Height, DilationW = layer.DilationRate.Width,
                Padding = layer.Padding, OutputPaddingH = layer.OutputPadding?.Height, OutputPaddingW = layer.OutputPadding?.Width, Groups = layer.Groups,
            };
            var g = ConvTranspose2DGeometry.Create($"{layer.ClassName} '{layer.Name}'", new TensorShape(1, x.Shape[0], x.Shape[1], cin), kernel.Shape, options).Conv;
            int OutputPadding(int output, int input, int k, int stride, int dilation, int before, int after) =>
                output - (stride * (input - 1) + WindowMath.DilatedExtent(k, dilation) - before - after);
            int opH = OutputPadding(g.H, g.OH, kh, g.StrideH, g.DilationH, g.PadTop, g.PadBottom);
            int opW = OutputPadding(g.W, g.OW, kw, g.StrideW, g.DilationW, g.PadLeft, g.PadRight);
            if (opH < 0 || opW < 0 || opH >= Math.Max(g.StrideH, g.DilationH) || opW >= Math.Max(g.StrideW, g.DilationW))
                throw Refuse(layer, $"its output {g.H}x{g.W} needs output_padding ({opH}, {opW}), outside ONNX's range [0, max(stride, dilation))");

            // (kh, kw, Cout/groups, Cin) → ONNX's (Cin, Cout/groups, kh, kw).
            float[] hwoi = kernel.ToArray();
            var onnx = new float[hwoi.Length];
            for (int y = 0; y < kh; y++)
                for (int xk = 0; xk < kw; xk++)
                    for (int m = 0; m < perGroup; m++)
                        for (int c = 0; c < cin; c++)
                            onnx[((c * perGroup + m) * kh + y) * kw + xk] = hwoi[((y * kw + xk) * perGroup + m) * cin + c];
            var inputs = new List<string> { x.Name, Initializer($"{layer.Name}/kernel", onnx, cin, perGroup, kh, kw) };
            if (layer.Bias is { } bias) inputs.Add(Initializer($"{layer.Name}/bias", bias.ToArray(), layer.Filters));
            string output = Node("ConvTranspose", layer.Activation.IsLinear ? layer.Name : $"{layer.Name}/linear", inputs,
                Ints("kernel_shape", kh, kw), Ints("strides", g.StrideH, g.StrideW), Ints("dilations", g.DilationH, g.DilationW),
                Ints("pads", g.PadTop, g.PadLeft, g.PadBottom, g.PadRight), Ints("output_padding", opH, opW), Int("group", layer.Groups));
            return new Value(Activate(layer, layer.Activation, output, layer.Name), outputShape);
        }

        private Value Pool(Pooling2DLayer pool, Value x, int[] outputShape)
        {
            bool max = pool.ClassName == "MaxPooling2D";
            var pads = Pads(pool.Padding, x.Shape[0], x.Shape[1], pool.PoolSize, pool.Strides, 1);
            var attributes = new List<AttributeProto>
            {
                Ints("kernel_shape", pool.PoolSize.Height, pool.PoolSize.Width), Ints("strides", pool.Strides.Height, pool.Strides.Width), Ints("pads", pads),
            };
            if (pool.CeilMode) attributes.Add(Int("ceil_mode", 1));
            if (!max) attributes.Add(Int("count_include_pad", pool.CountIncludePad ? 1 : 0));
            return new Value(Node(max ? "MaxPool" : "AveragePool", pool.Name, [x.Name], [.. attributes]), outputShape);
        }

        private Value Pool(Pooling1DLayer pool, Value x, int[] outputShape)
        {
            bool max = pool is MaxPooling1D;
            var attributes = new List<AttributeProto>
            {
                Ints("kernel_shape", pool.PoolSize), Ints("strides", pool.Strides), Ints("pads", Pads1D(pool.Padding, x.Shape[0], pool.PoolSize, pool.Strides, 1)),
            };
            if (!max) attributes.Add(Int("count_include_pad", 0));
            return new Value(Node(max ? "MaxPool" : "AveragePool", pool.Name, [x.Name], [.. attributes]), outputShape);
        }
    }
}
