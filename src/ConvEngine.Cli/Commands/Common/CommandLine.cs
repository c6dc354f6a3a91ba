using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// How `convengine` runs any of its commands and reports every failure the same way, one line on standard error:
/// <c>convengine COMMAND: what went wrong, naming the file, option or layer</c>. Exit code 1 for bad input, 2 for a
/// usage error (an unknown option or command, a stray argument, a value of the wrong type or out of range, with the
/// closest valid name suggested), 130 when interrupted. The stack trace is printed only with <c>--debug</c> (accepted
/// anywhere on the command line). Options are parsed strictly, so a misspelt option is an error instead of being
/// ignored. This wraps the whole app, so commands added later get it without doing anything.
/// </summary>
internal partial class CommandLine
{
    public const int UsageExitCode = 2, InterruptedExitCode = 130;

    /// <summary>--debug was given: errors a command reports itself (<see cref="CommandErrors.Report"/>) add their stack trace too.</summary>
    public static bool Debug { get; private set; }

    /// <summary>Runs <paramref name="app"/> (its commands configured) on <paramref name="args"/> with the rules above.</summary>
    public static int Run(ICommandApp app, string[] args, TextWriter? errors = null, CancellationToken cancellationToken = default)
    {
        errors ??= Console.Error;
        bool debug = args.Contains("--debug");
        string[] rest = args.Where(a => a != "--debug").ToArray();
        Debug = debug;
        app.Configure(config =>
        {
            config.UseStrictParsing();
            config.PropagateExceptions();
            // Help and errors go where the commands write (AnsiConsole.Console), one console for all.
            config.ConfigureConsole(AnsiConsole.Console);
        });
        try
        {
            return app.Run(rest, cancellationToken);
        }
        catch (Exception e)
        {
            var commands = RegisteredCommands(app);
            var (code, message) = Describe(e, rest, commands);
            errors.WriteLine($"convengine{Label(rest, commands)}: {message}");
            if (debug) errors.WriteLine(e.ToString());
            return code;
        }
    }

    /// <summary>The exit code and the one-line message for an exception that left a command.</summary>
    /// <param name="commands">The app's commands ("train", "weights convert") and their settings types, for suggestions.</param>
    public static (int Code, string Message) Describe(Exception e, IReadOnlyList<string> args, IReadOnlyList<(string Name, Type Settings)> commands)
    {
        string message = OneLine(e.Message);
        string label = Label(args, commands);
        switch (e)
        {
            case CommandParseException when UnknownOption().Match(message) is { Success: true } m:
            {
                string given = m.Groups["name"].Value;
                string shown = given.StartsWith('-') ? given : (given.Length == 1 ? "-" : "--") + given;
                string hint = Closest(shown, OptionsOf(label.Trim(), commands)) is { } best ? $"; did you mean {best}?" : "";
                return (UsageExitCode, $"unknown option '{shown}'{hint} (convengine{label} --help lists the options)");
            }
            case CommandParseException when CouldNotMatch().Match(message) is { Success: true } m:
                return (UsageExitCode, $"unexpected argument '{m.Groups["value"].Value}' (convengine{label} --help lists what it takes)");
            case CommandParseException when UnknownCommand().Match(message) is { Success: true } m:
            {
                string name = m.Groups["name"].Value, parent = label.Trim();
                var names = commands.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
                bool branch = names.Any(n => n.StartsWith(parent + " ", StringComparison.Ordinal));
                if (parent.Length > 0 && !branch)   // a command without arguments given one ("devices extra")
                    return (UsageExitCode, $"unexpected argument '{name}' (convengine {parent} --help lists what it takes)");
                // Under a branch ("weights lst") the candidates are its sub-commands.
                var candidates = parent.Length == 0 ? names.Where(n => !n.Contains(' '))
                    : names.Where(n => n.StartsWith(parent + " ", StringComparison.Ordinal)).Select(n => n[(parent.Length + 1)..]);
                string hint = Closest(name, candidates) is { } best ? $"; did you mean '{best}'?" : "";
                return (UsageExitCode, $"unknown command '{name}'{hint} (convengine{label} --help lists the commands)");
            }
            case CommandRuntimeException when FailedToConvert().Match(message) is { Success: true } m:
            {
                string value = m.Groups["value"].Value;
                string option = OptionGiven(args, value) ?? "a value";
                return (UsageExitCode, $"{option} got '{value}', which is not {Expected(label.Trim(), option, commands)}");
            }
            case CommandAppException:   // the other parse and binding failures, a validation error, a missing argument
                return (UsageExitCode, message.TrimEnd('.'));
            case OperationCanceledException:
                return (InterruptedExitCode, "interrupted");
            default:
                return CommandErrors.IsUserError(e)
                    ? (1, message)
                    : (1, $"internal error ({e.GetType().Name}: {message}); this is a bug in convengine — run it again with --debug for the stack trace");
        }
    }

    /// <summary>" train", " weights convert": the command words at the start of the arguments ("" when they name none).</summary>
    private static string Label(IReadOnlyList<string> args, IReadOnlyList<(string Name, Type Settings)> commands)
    {
        var names = commands.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        if (args.Count == 0 || !names.Contains(args[0])) return "";
        // A second word belongs to the command only under a branch ("weights convert"), not as an argument ("filter img").
        return args.Count > 1 && names.Contains($"{args[0]} {args[1]}") ? $" {args[0]} {args[1]}" : $" {args[0]}";
    }

    /// <summary>
    /// The commands the app registered ("train", "weights", "weights convert") with their settings types. Spectre keeps
    /// them in its internal configurator, read here by reflection (for messages only); failing that, the command types
    /// of this assembly by name (TrainCommand is "train").
    /// </summary>
    private static List<(string Name, Type Settings)> RegisteredCommands(ICommandApp app)
    {
        const BindingFlags Private = BindingFlags.Instance | BindingFlags.NonPublic;
        var found = new List<(string, Type)>();
        try
        {
            object inner = app.GetType().GetField("_app", Private)?.GetValue(app) ?? app;
            object? configurator = inner.GetType().GetField("_configurator", Private)?.GetValue(inner);
            void Walk(System.Collections.IEnumerable? list, string prefix)
            {
                foreach (object command in list ?? Array.Empty<object>())
                {
                    var type = command.GetType();
                    string name = type.GetProperty("Name")?.GetValue(command) as string ?? "";
                    if (name.Length == 0 || name.StartsWith("__", StringComparison.Ordinal)) continue;   // default and hidden built-ins
                    found.Add((prefix + name, type.GetProperty("SettingsType")?.GetValue(command) as Type ?? typeof(CommandSettings)));
                    Walk(type.GetProperty("Children")?.GetValue(command) as System.Collections.IEnumerable, prefix + name + " ");
                }
            }
            Walk(configurator?.GetType().GetProperty("Commands")?.GetValue(configurator) as System.Collections.IEnumerable, "");
        }
        catch (Exception e) when (e is TargetException or MemberAccessException or InvalidCastException) { found.Clear(); }
        if (found.Count > 0) return found;
        return typeof(CommandLine).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(ICommand).IsAssignableFrom(t) && t.Name.EndsWith("Command", StringComparison.Ordinal))
            .Select(t => (string.Join(' ', Words().Matches(t.Name[..^"Command".Length]).Select(w => w.Value.ToLowerInvariant())), SettingsType(t)))
            .ToList();
    }

    /// <summary>Every option of the named command ("--epochs", "-e"); every command's when none is named.</summary>
    private static List<string> OptionsOf(string command, IReadOnlyList<(string Name, Type Settings)> commands)
    {
        var types = commands.Where(c => c.Name == command).Select(c => c.Settings).ToList();
        if (types.Count == 0) types = commands.Select(c => c.Settings).ToList();
        return types.SelectMany(OptionProperties).SelectMany(o => o.Attribute.LongNames.Select(n => "--" + n)
            .Concat(o.Attribute.ShortNames.Select(n => "-" + n))).Append("--help").Distinct().ToList();
    }

    private static Type SettingsType(Type command)
    {
        for (var t = command; t is not null; t = t.BaseType)
            if (t.IsGenericType && t.GetGenericArguments() is [var settings] && typeof(CommandSettings).IsAssignableFrom(settings)) return settings;
        return typeof(CommandSettings);
    }

    private static IEnumerable<(PropertyInfo Property, CommandOptionAttribute Attribute)> OptionProperties(Type settings) =>
        settings.GetProperties(BindingFlags.Instance | BindingFlags.Public)
            .Select(p => (p, p.GetCustomAttribute<CommandOptionAttribute>()))
            .Where(x => x.Item2 is not null)!;

    /// <summary>The option whose value was <paramref name="value"/> ("--validation-split x" or "--validation-split=x").</summary>
    private static string? OptionGiven(IReadOnlyList<string> args, string value)
    {
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i].StartsWith('-') && args[i].EndsWith("=" + value, StringComparison.Ordinal)) return args[i][..args[i].IndexOf('=')];
            if (i > 0 && args[i] == value && args[i - 1].StartsWith('-')) return args[i - 1];
        }
        return null;
    }

    /// <summary>"a number", "an integer", "true or false": what the option's property takes.</summary>
    private static string Expected(string command, string option, IReadOnlyList<(string Name, Type Settings)> commands)
    {
        var property = commands.Where(c => c.Name == command).SelectMany(c => OptionProperties(c.Settings))
            .FirstOrDefault(o => o.Attribute.LongNames.Select(n => "--" + n).Concat(o.Attribute.ShortNames.Select(n => "-" + n)).Contains(option)).Property;
        var type = property is null ? null : Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        return type == typeof(int) || type == typeof(long) ? "an integer"
            : type == typeof(double) || type == typeof(float) ? "a number"
            : type == typeof(bool) ? "true or false"
            : "a value it takes";
    }

    /// <summary>The candidate nearest to <paramref name="given"/> by edit distance (case-insensitive), or null when none is close.</summary>
    public static string? Closest(string given, IEnumerable<string> candidates)
    {
        var best = candidates.Select(c => (Name: c, Distance: EditDistance(given.ToLowerInvariant(), c.ToLowerInvariant())))
            .OrderBy(x => x.Distance).ThenBy(x => Math.Abs(x.Name.Length - given.Length)).ThenBy(x => x.Name, StringComparer.Ordinal).FirstOrDefault();
        // Far from everything (more than half its letters wrong): no suggestion is better than a random one.
        return best.Name is not null && best.Distance <= Math.Max(2, given.TrimStart('-').Length / 2) ? best.Name : null;
    }

    /// <summary>Edit distance with adjacent transpositions (optimal string alignment): "--modle" is one edit from "--model".</summary>
    public static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }

    /// <summary>One line without control characters (a message may quote bytes of a corrupt file).</summary>
    internal static string OneLine(string text) =>
        Regex.Replace(new string(text.ReplaceLineEndings(" ").Select(c => char.IsControl(c) ? '?' : c).ToArray()), @"\s{2,}", " ").Trim();

    [GeneratedRegex(@"^(Unknown|Unexpected) option '(?<name>[^']*)'")]
    private static partial Regex UnknownOption();

    [GeneratedRegex(@"^Could not match '(?<value>[^']*)' with an argument")]
    private static partial Regex CouldNotMatch();

    [GeneratedRegex(@"^Unknown command '(?<name>[^']*)'")]
    private static partial Regex UnknownCommand();

    [GeneratedRegex(@"^Failed to convert '(?<value>[^']*)'")]
    private static partial Regex FailedToConvert();

    [GeneratedRegex(@"[A-Z][a-z0-9]*")]
    private static partial Regex Words();
}
