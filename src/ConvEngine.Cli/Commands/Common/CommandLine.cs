using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
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
public static partial class CommandLine
{
    public const int UsageExitCode = 2, InterruptedExitCode = 130;

    /// <summary>Runs <paramref name="app"/> (its commands configured) on <paramref name="args"/> with the rules above.</summary>
    public static int Run(ICommandApp app, string[] args, TextWriter? errors = null, CancellationToken cancellationToken = default)
    {
        errors ??= Console.Error;
        bool debug = args.Contains("--debug");
        string[] rest = args.Where(a => a != "--debug").ToArray();
        app.Configure(config =>
        {
            config.UseStrictParsing();
            config.PropagateExceptions();
        });
        try
        {
            return app.Run(rest, cancellationToken);
        }
        catch (Exception e)
        {
            var (code, message) = Describe(e, rest);
            errors.WriteLine($"convengine{Label(rest)}: {message}");
            if (debug) errors.WriteLine(e.ToString());
            return code;
        }
    }

    /// <summary>The exit code and the one-line message for an exception that left a command.</summary>
    public static (int Code, string Message) Describe(Exception e, IReadOnlyList<string> args)
    {
        string message = OneLine(e.Message);
        switch (e)
        {
            case CommandParseException when UnknownOption().Match(message) is { Success: true } m:
            {
                string given = m.Groups["name"].Value;
                string shown = given.StartsWith('-') ? given : (given.Length == 1 ? "-" : "--") + given;
                var options = OptionsOf(args);
                string hint = Closest(shown, options) is { } best ? $"; did you mean {best}?" : "";
                return (UsageExitCode, $"unknown option '{shown}'{hint} (convengine{Label(args)} --help lists the options)");
            }
            case CommandParseException when CouldNotMatch().Match(message) is { Success: true } m:
                return (UsageExitCode, $"unexpected argument '{m.Groups["value"].Value}' (convengine{Label(args)} --help lists what it takes)");
            case CommandParseException when UnknownCommand().Match(message) is { Success: true } m:
            {
                string name = m.Groups["name"].Value, label = Label(args).Trim();
                var names = CommandNames();
                if (names.Contains(label))   // a command without arguments given one ("devices extra")
                    return (UsageExitCode, $"unexpected argument '{name}' (convengine {label} --help lists what it takes)");
                // Under a branch ("weights lst") the candidates are its sub-commands.
                var candidates = label.Length == 0 ? names.Select(n => n.Split(' ')[0]).Distinct()
                    : names.Where(n => n.StartsWith(label + " ", StringComparison.Ordinal)).Select(n => n[(label.Length + 1)..]);
                string hint = Closest(name, candidates) is { } best ? $"; did you mean '{best}'?" : "";
                return (UsageExitCode, $"unknown command '{name}'{hint} (convengine{(label.Length == 0 ? "" : " " + label)} --help lists the commands)");
            }
            case CommandRuntimeException when FailedToConvert().Match(message) is { Success: true } m:
            {
                string value = m.Groups["value"].Value;
                string option = OptionGiven(args, value) ?? "a value";
                return (UsageExitCode, $"{option} got '{value}', which is not {Expected(args, option)}");
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

    /// <summary>" train", " weights convert": the command words at the start of the arguments.</summary>
    private static string Label(IReadOnlyList<string> args)
    {
        var names = CommandNames();
        var branches = names.Where(n => n.Contains(' ')).Select(n => n.Split(' ')[0]).ToHashSet(StringComparer.Ordinal);
        if (args.Count == 0 || !(names.Contains(args[0]) || branches.Contains(args[0]))) return "";
        // A second word belongs to the command only under a branch ("weights convert"), not as an argument ("filter img").
        return args.Count > 1 && names.Contains($"{args[0]} {args[1]}") ? $" {args[0]} {args[1]}" : $" {args[0]}";
    }

    /// <summary>The commands, from the command types' names: TrainCommand is "train", WeightsConvertCommand "weights convert".</summary>
    private static HashSet<string> CommandNames() => CommandTypes().Select(t => t.Name).ToHashSet(StringComparer.Ordinal);

    private static IEnumerable<(string Name, Type Type)> CommandTypes() =>
        typeof(CommandLine).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(ICommand).IsAssignableFrom(t) && t.Name.EndsWith("Command", StringComparison.Ordinal))
            .Select(t => (string.Join(' ', Words().Matches(t.Name[..^"Command".Length]).Select(w => w.Value.ToLowerInvariant())), t));

    /// <summary>Every option of the command the arguments name ("--epochs", "-e"); every command's when it is not known.</summary>
    private static List<string> OptionsOf(IReadOnlyList<string> args)
    {
        string label = Label(args).Trim();
        var types = CommandTypes().Where(c => c.Name == label).Select(c => c.Type).ToList();
        if (types.Count == 0) types = CommandTypes().Select(c => c.Type).ToList();
        return types.SelectMany(t => OptionProperties(SettingsType(t))).SelectMany(o => o.Attribute.LongNames.Select(n => "--" + n)
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
    private static string Expected(IReadOnlyList<string> args, string option)
    {
        string label = Label(args).Trim();
        var property = CommandTypes().Where(c => c.Name == label).SelectMany(c => OptionProperties(SettingsType(c.Type)))
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
            .OrderBy(x => x.Distance).ThenBy(x => x.Name, StringComparer.Ordinal).FirstOrDefault();
        // Far from everything (more than half its letters wrong): no suggestion is better than a random one.
        return best.Name is not null && best.Distance <= Math.Max(2, given.TrimStart('-').Length / 2) ? best.Name : null;
    }

    /// <summary>Levenshtein distance: insertions, deletions and substitutions.</summary>
    public static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
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
