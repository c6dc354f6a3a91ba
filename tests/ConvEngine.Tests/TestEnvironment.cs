using NUnit.Framework;

/// <summary>
/// For the whole test assembly (no namespace, so NUnit runs it before every fixture): the cpu backend's autotuning
/// is off (kernel choices must not depend on timing) and its cache points into a temporary folder, so no test reads
/// or writes the user's tuning cache. Child processes started by the CLI tests inherit both.
/// </summary>
[SetUpFixture]
public sealed class TestEnvironment
{
    [OneTimeSetUp]
    public void TurnTuningOff()
    {
        Environment.SetEnvironmentVariable("CONVENGINE_TUNING", "off");
        Environment.SetEnvironmentVariable("CONVENGINE_TUNING_CACHE", Path.Combine(Path.GetTempPath(), $"convengine-tests-{Environment.ProcessId}", "tuning.json"));
    }
}
