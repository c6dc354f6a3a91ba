using ConvEngine.Kernels;
using ConvEngine.Layers;

namespace ConvEngine.Import.Onnx;

public static partial class OnnxExporter
{
    private sealed partial class GraphWriter
    {
        /// <summary>
        /// The activation as ONNX ops on <paramref name="x"/>, from the kernel's own definition (its kind and constants,
        /// not its config name); softmax over the channels (ONNX axis 1). Opset 13 lacks Gelu, HardSwish and Mish,
        /// which are composed from the ops of their formulas; the last node is called <paramref name="name"/>.
        /// </summary>
        private string Activate(Layer layer, ActivationFunction function, string x, string name)
        {
            if (function.IsSoftmax) return Node("Softmax", name, [x], Int("axis", 1));
            var a = function.Kernel;
            string Part(string what) => $"{name}/{what}";
            switch (a.Kind)
            {
                case ActivationKind.None: return x;
                case ActivationKind.Relu: return Node("Relu", name, [x]);
                case ActivationKind.LeakyRelu: return Node("LeakyRelu", name, [x], Float("alpha", a.Alpha));
                case ActivationKind.Sigmoid: return Node("Sigmoid", name, [x]);
                case ActivationKind.Tanh: return Node("Tanh", name, [x]);
                case ActivationKind.ClippedRelu: return ClippedRelu(a, x, name);
                case ActivationKind.Elu: return Node("Elu", name, [x], Float("alpha", a.Alpha));
                // ONNX's default alpha and gamma are SELU's constants rounded to float, as the engine's.
                case ActivationKind.Selu: return Node("Selu", name, [x]);
                case ActivationKind.Swish: return Node("Mul", name, [x, Node("Sigmoid", Part("sigmoid"), [x])]);
                case ActivationKind.Gelu:
                {
                    // ½x(1 + erf(x/√2)), the exact form.
                    string erf = Node("Erf", Part("erf"), [Node("Mul", Part("scaled"), [x, Scalar(Part("inv_sqrt2"), MathF.Sqrt(0.5f))])]);
                    string onePlus = Node("Add", Part("one_plus"), [erf, Scalar(Part("one"), 1f)]);
                    return Node("Mul", name, [Node("Mul", Part("half_x"), [x, Scalar(Part("half"), 0.5f)]), onePlus]);
                }
                case ActivationKind.GeluTanh:
                {
                    // ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
                    string cube = Node("Mul", Part("cube"), [Node("Mul", Part("square"), [x, x]), x]);
                    string inner = Node("Add", Part("inner"), [x, Node("Mul", Part("cubic"), [cube, Scalar(Part("c"), 0.044715f)])]);
                    string tanh = Node("Tanh", Part("tanh"), [Node("Mul", Part("scaled"), [inner, Scalar(Part("sqrt_2_over_pi"), MathF.Sqrt(2f / MathF.PI))])]);
                    string onePlus = Node("Add", Part("one_plus"), [tanh, Scalar(Part("one"), 1f)]);
                    return Node("Mul", name, [Node("Mul", Part("half_x"), [x, Scalar(Part("half"), 0.5f)]), onePlus]);
                }
                // Keras 2 / TF.js: clamp(0.2x + 0.5, 0, 1), ONNX HardSigmoid's own defaults.
                case ActivationKind.HardSigmoid: return Node("HardSigmoid", name, [x], Float("alpha", 0.2f), Float("beta", 0.5f));
                // Keras 3: relu6(x + 3)/6 = clamp(x/6 + 0.5, 0, 1).
                case ActivationKind.HardSigmoidKeras3: return Node("HardSigmoid", name, [x], Float("alpha", 1f / 6f), Float("beta", 0.5f));
                case ActivationKind.HardSwish:
                    return Node("Mul", name, [x, Node("HardSigmoid", Part("hard_sigmoid"), [x], Float("alpha", 1f / 6f), Float("beta", 0.5f))]);
                case ActivationKind.Softplus: return Node("Softplus", name, [x]);
                case ActivationKind.Softsign: return Node("Softsign", name, [x]);
                case ActivationKind.Exponential: return Node("Exp", name, [x]);
                case ActivationKind.Mish: return Node("Mul", name, [x, Node("Tanh", Part("tanh"), [Node("Softplus", Part("softplus"), [x])])]);
                default: throw Refuse(layer, $"activation '{function.Name}' has no ONNX translation here");
            }
        }

        /// <summary>
        /// Keras's ReLU(max_value, negative_slope, threshold): x &gt; t ? min(x, cap) : slope·(x − t). With t ≥ 0 the
        /// upper branch has x &gt; 0, so: Clip when there is neither slope nor threshold, LeakyRelu (then Min) without a
        /// threshold, else Where(x &gt; t, min(x, cap), slope·(x − t)), the definition itself.
        /// </summary>
        private string ClippedRelu(ConvEngine.Kernels.KernelActivation a, string x, string name)
        {
            string Part(string what) => $"{name}/{what}";
            bool capped = float.IsFinite(a.Cap);
            if (a.Threshold == 0f && a.Alpha == 0f)
                return capped ? Node("Clip", name, [x, Scalar(Part("min"), 0f), Scalar(Part("max"), a.Cap)]) : Node("Relu", name, [x]);
            if (a.Threshold == 0f)
            {
                // For x ≤ 0 the slope gives a value ≤ 0 ≤ cap, so the Min changes only the upper branch.
                string leaky = Node("LeakyRelu", capped ? Part("leaky") : name, [x], Float("alpha", a.Alpha));
                return capped ? Node("Min", name, [leaky, Scalar(Part("max"), a.Cap)]) : leaky;
            }
            string threshold = Scalar(Part("threshold"), a.Threshold);
            string above = Node("Greater", Part("above"), [x, threshold]);
            string upper = capped ? Node("Min", Part("capped"), [x, Scalar(Part("max"), a.Cap)]) : x;
            string lower = Node("Mul", Part("below"), [Node("Sub", Part("shifted"), [x, threshold]), Scalar(Part("slope"), a.Alpha)]);
            return Node("Where", name, [above, upper, lower]);
        }
    }
}
