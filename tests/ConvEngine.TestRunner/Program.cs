using System.Security;
using NUnit.Framework.Api;
using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;

// convengine-tests [--filter REGEX]... [--list-skips]: runs the tests of ConvEngine.Tests whose full name matches any
// of the regular expressions (all tests without one) through NUnit's own runner, prints each failure, then
// "N passed, N failed, N skipped". Exit code 0 only when nothing failed and something ran. For machines without
// the .NET SDK (the GPU checks of benchmarks/gpu/); `dotnet test` stays the way to run the suite elsewhere.
var patterns = new List<string>();
bool listSkips = false;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--filter" && i + 1 < args.Length) patterns.Add(args[++i]);
    else if (args[i] == "--list-skips") listSkips = true;
    else
    {
        Console.Error.WriteLine($"convengine-tests: unknown option '{args[i]}'; use --filter REGEX (repeatable) and --list-skips.");
        return 1;
    }
}

var runner = new NUnitTestAssemblyRunner(new DefaultTestAssemblyBuilder());
runner.Load(typeof(ConvEngine.Tests.Reference.DoubleReference).Assembly, new Dictionary<string, object>());
var filter = patterns.Count == 0 ? TestFilter.Empty : TestFilter.FromXml(
    "<filter><or>" + string.Concat(patterns.Select(p => $"<test re=\"1\">{SecurityElement.Escape(p)}</test>")) + "</or></filter>");
var listener = new Listener(listSkips);
var result = runner.Run(listener, filter);
Console.WriteLine($"{listener.Passed} passed, {listener.Failed} failed, {listener.Skipped} skipped");
return listener.Failed == 0 && listener.Passed > 0 && result.ResultState.Status != TestStatus.Failed ? 0 : 1;

/// <summary>Counts test cases (not suites) and prints each failure with its message, and skips on request.</summary>
sealed class Listener(bool listSkips) : ITestListener
{
    public int Passed, Failed, Skipped;

    public void TestStarted(ITest test) { }
    public void TestOutput(TestOutput output) { }
    public void SendMessage(TestMessage message) { }

    public void TestFinished(ITestResult result)
    {
        if (result.Test.IsSuite)
        {
            // A fixture whose one-time setup failed fails its cases without running them: they are counted there.
            return;
        }
        switch (result.ResultState.Status)
        {
            case TestStatus.Passed: Passed++; break;
            case TestStatus.Failed:
                Failed++;
                Console.WriteLine($"FAILED {result.FullName}: {result.Message?.Trim()}");
                break;
            default:
                Skipped++;
                if (listSkips) Console.WriteLine($"skipped {result.FullName}: {result.Message?.Trim()}");
                break;
        }
    }
}
