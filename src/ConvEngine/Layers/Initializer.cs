using System.Text.Json.Nodes;
using ConvEngine.Kernels;

namespace ConvEngine.Layers;

/// <summary>
/// How a weight starts. Values come from <see cref="CounterRng"/> keyed by the model's seed and the
/// weight's position, so the same seed gives the same weights on every backend.
/// </summary>
public abstract class Initializer
{
    /// <summary>Keras class name, e.g. "GlorotUniform".</summary>
    public abstract string ClassName { get; }
    /// <summary>Fills <paramref name="values"/> from <paramref name="seed"/>; the same seed gives the same values.</summary>
    public abstract void Fill(Span<float> values, ulong seed);
    /// <summary>The settings as Keras's get_config() spells them.</summary>
    public virtual JsonObject GetConfig() => [];

    /// <summary>The initializer as Keras's serialized form: class_name and config.</summary>
    public JsonObject ToJson() => new() { ["class_name"] = ClassName, ["config"] = GetConfig() };

    /// <summary>All zeros.</summary>
    public static Initializer Zeros { get; } = new ConstantInitializer("Zeros", 0f);
    /// <summary>All ones.</summary>
    public static Initializer Ones { get; } = new ConstantInitializer("Ones", 1f);
    /// <summary>Every value <paramref name="value"/>.</summary>
    public static Initializer Constant(float value) => new ConstantInitializer("Constant", value);

    /// <summary>Keras glorot_uniform: U(±√(6/(fan_in+fan_out))); for conv kernels fan_in = kh·kw·in, fan_out = kh·kw·out.</summary>
    public static Initializer GlorotUniform(long fanIn, long fanOut) => new GlorotUniformInitializer(fanIn, fanOut);
}

internal sealed class ConstantInitializer(string className, float value) : Initializer
{
    public override string ClassName => className;
    public override void Fill(Span<float> values, ulong seed) => values.Fill(value);
    public override JsonObject GetConfig() => className == "Constant" ? new JsonObject { ["value"] = value } : [];
}

internal sealed class GlorotUniformInitializer(long fanIn, long fanOut) : Initializer
{
    public override string ClassName => "GlorotUniform";
    public double Limit => Math.Sqrt(6.0 / (fanIn + fanOut));

    public override void Fill(Span<float> values, ulong seed)
    {
        double limit = Limit;
        for (int i = 0; i < values.Length; i++)
            values[i] = (float)((2.0 * CounterRng.Uniform(seed, (ulong)i) - 1.0) * limit);
    }

    public override JsonObject GetConfig() => new() { ["seed"] = null };
}
