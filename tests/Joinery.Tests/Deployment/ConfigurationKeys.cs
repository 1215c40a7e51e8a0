using System.Text.RegularExpressions;

namespace Joinery.Tests.Deployment;

/// <summary>One configuration key the code reads, and where. A section is satisfied by any key below it.</summary>
sealed record ConfigKey(string Key, bool IsSection, string Where)
{
    /// <summary>The environment-variable spelling: Section__Key.</summary>
    public string EnvironmentName => Key.Replace(":", "__");

    public bool IsSatisfiedBy(IEnumerable<string> environmentNames) =>
        environmentNames.Select(n => n.Replace("__", ":")).Any(n =>
            n.Equals(Key, StringComparison.OrdinalIgnoreCase)
            || (IsSection && n.StartsWith(Key + ":", StringComparison.OrdinalIgnoreCase)));

    public override string ToString() => $"{Key} ({Where})";
}

/// <summary>
/// Finds, in the services' source, every configuration key the code reads, so that the deployment tests follow the
/// code instead of a list kept by hand:
/// <list type="bullet">
/// <item><c>configuration[key]</c> (any receiver whose name ends in configuration/Configuration),
/// <c>GetValue&lt;T&gt;(key)</c>, <c>GetConnectionString(name)</c> (ConnectionStrings:name) and <c>GetSection(key)</c>,
/// where the key is a string literal or a string constant (<c>Key</c> in the same file, or <c>Type.Key</c>);</item>
/// <item>options classes: a <c>const string Section = "A"</c> plus each public settable property P gives A:P.</item>
/// </list>
/// A file under services/&lt;service&gt;/ counts for that service; a file under services/defaults/ counts for every
/// service whose code uses one of the types or extension methods it declares (directly or through another defaults
/// file), so that a service is asked only for what it really reads (crm-sync gets no Slack token).
/// A read whose key the scan cannot resolve is reported by <see cref="UnreadableReads"/>, unless it is one of the
/// <see cref="DynamicReads"/> below, which say which keys they stand for.
/// </summary>
static class ConfigurationKeys
{
    /// <summary>
    /// Reads whose key is computed, as "file: expression", with the keys the deployments must set for them. Each entry
    /// says why; a new computed read fails <c>Every_configuration_read_names_its_key_so_the_scan_sees_it</c> until it
    /// is listed here.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string[]> DynamicReads = new Dictionary<string, string[]>
    {
        // Export is on when any of OtlpEndpointVariables (the general and the per-signal OTLP endpoints) is set; the
        // deployments set the general one, OTEL_EXPORTER_OTLP_ENDPOINT.
        ["services/defaults/ServiceDefaultsExtensions.cs: configuration[name]"] = ["OTEL_EXPORTER_OTLP_ENDPOINT"],
    };

    const string DefaultsFolder = "defaults";

    static readonly Regex[] Reads =
    [
        new(@"\b\w*[cC]onfiguration\s*\[\s*(?<arg>[^\]]+?)\s*\]"),
        new(@"\.GetValue\s*<[^>]+>\s*\(\s*(?<arg>[^,)]+?)\s*[,)]"),
        new(@"\.(?<kind>GetConnectionString)\s*\(\s*(?<arg>[^)]+?)\s*\)"),
        new(@"\.(?<kind>GetSection)\s*\(\s*(?<arg>[^)]+?)\s*\)"),
    ];
    static readonly Regex StringConstant = new(@"const\s+string\s+(?<name>\w+)\s*=\s*""(?<value>[^""]*)""");
    static readonly Regex OptionsSection = new(@"const\s+string\s+Section\s*=\s*""(?<key>[^""]+)""");
    static readonly Regex SettableProperty = new(@"public\s+(?!static|const)[\w<>\[\]?,.\s]+?\s+(?<name>\w+)\s*\{\s*get;\s*(set|init);");
    static readonly Regex TypeDeclaration = new(@"\b(class|record|struct|enum|interface)\s+(?<name>[A-Z]\w*)");
    static readonly Regex ExtensionMethod = new(@"\bstatic\s+[\w<>\[\]?,.\s]+?\s+(?<name>\w+)\s*(<[^>]*>)?\s*\(\s*this\s");

    /// <summary>Every key the service's code (and the defaults it uses) reads.</summary>
    public static IReadOnlyList<ConfigKey> ReadBy(JoineryService service)
    {
        var files = SourceFiles(service.Folder).Concat(DefaultsUsedBy(service)).ToList();
        return files.SelectMany(f => KeysIn(f).Keys)
            .GroupBy(k => k.Key, StringComparer.OrdinalIgnoreCase)
            .Select(g => g.First())
            .OrderBy(k => k.Key, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Configuration reads whose key is neither a literal nor a constant, as "file: expression".</summary>
    public static IReadOnlyList<string> UnreadableReads() =>
        SourceFiles(Repo.PathOf("services")).SelectMany(f => KeysIn(f).Unreadable).ToList();

    /// <summary>The defaults files a service uses, closed over the defaults files those use in turn.</summary>
    public static IReadOnlyList<string> DefaultsUsedBy(JoineryService service)
    {
        var defaults = SourceFiles(Repo.PathOf("services", DefaultsFolder))
            .ToDictionary(f => f, f => Declarations(File.ReadAllText(f)));
        var used = new HashSet<string>();
        var pending = new Queue<string>(SourceFiles(service.Folder));
        while (pending.TryDequeue(out var file))
        {
            var text = Strip(File.ReadAllText(file));
            foreach (var (candidate, symbols) in defaults)
                if (!used.Contains(candidate) && candidate != file && symbols.Any(s => Regex.IsMatch(text, $@"\b{Regex.Escape(s)}\b")))
                {
                    used.Add(candidate);
                    pending.Enqueue(candidate);
                }
        }
        return used.Order(StringComparer.Ordinal).ToList();
    }

    static (List<ConfigKey> Keys, List<string> Unreadable) KeysIn(string file)
    {
        var text = Strip(File.ReadAllText(file));
        var where = Repo.Relative(file);
        var keys = new List<ConfigKey>();
        var unreadable = new List<string>();

        foreach (var read in Reads)
            foreach (Match m in read.Matches(text))
            {
                var kind = m.Groups["kind"].Value;
                if (Resolve(m.Groups["arg"].Value, text) is not { } key)
                {
                    var expression = $"{where}: {m.Value.TrimStart('.')}";
                    if (DynamicReads.TryGetValue(expression, out var standsFor))
                        keys.AddRange(standsFor.Select(k => new ConfigKey(k, false, where)));
                    else
                        unreadable.Add(expression);
                    continue;
                }
                keys.Add(kind switch
                {
                    "GetConnectionString" => new ConfigKey("ConnectionStrings:" + key, false, where),
                    "GetSection" => new ConfigKey(key, true, where),
                    _ => new ConfigKey(key, false, where),
                });
            }

        // Options classes, one by one (a file may declare several, each with its own Section).
        foreach (var declaration in ClassBodies(text))
            if (OptionsSection.Match(declaration) is { Success: true } section)
                foreach (Match p in SettableProperty.Matches(declaration))
                    keys.Add(new ConfigKey($"{section.Groups["key"].Value}:{p.Groups["name"].Value}", false, where));
        return (keys, unreadable);
    }

    /// <summary>The text from each type declaration to the next: enough to keep two options classes of one file apart.</summary>
    static IEnumerable<string> ClassBodies(string text)
    {
        var starts = TypeDeclaration.Matches(text).Select(m => m.Index).Append(text.Length).ToList();
        for (var i = 0; i < starts.Count - 1; i++)
            yield return text[starts[i]..starts[i + 1]];
    }

    /// <summary>A string literal, a constant of the same file, or Type.Constant of the file that declares Type.</summary>
    static string? Resolve(string argument, string text)
    {
        argument = argument.Trim();
        if (Regex.Match(argument, @"^""([^""]*)""$") is { Success: true } literal)
            return literal.Groups[1].Value;
        if (Regex.Match(argument, @"^(?:(?<type>[A-Z]\w*)\.)?(?<name>[A-Za-z_]\w*)$") is not { Success: true } reference)
            return null;
        var source = reference.Groups["type"].Success ? DeclaringFileText(reference.Groups["type"].Value) : text;
        return source is null ? null : Constants(source).GetValueOrDefault(reference.Groups["name"].Value);
    }

    static string? DeclaringFileText(string type) =>
        SourceFiles(Repo.PathOf("services"))
            .Select(f => Strip(File.ReadAllText(f)))
            .FirstOrDefault(t => Regex.IsMatch(t, $@"\b(class|record|struct)\s+{Regex.Escape(type)}\b"));

    static Dictionary<string, string> Constants(string text) =>
        StringConstant.Matches(text).GroupBy(m => m.Groups["name"].Value).ToDictionary(g => g.Key, g => g.First().Groups["value"].Value);

    /// <summary>Public or internal types and extension methods a defaults file declares: how a service is seen to use it.</summary>
    static IReadOnlyList<string> Declarations(string text)
    {
        text = Strip(text);
        return TypeDeclaration.Matches(text).Select(m => m.Groups["name"].Value)
            .Concat(ExtensionMethod.Matches(text).Select(m => m.Groups["name"].Value))
            .Distinct()
            .ToList();
    }

    static IEnumerable<string> SourceFiles(string folder) =>
        Directory.GetFiles(folder, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")
                        && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Order(StringComparer.Ordinal);

    /// <summary>
    /// Drops comments, so that a key named in documentation is not taken for one the code reads. String literals are
    /// matched first and kept, so "amqp://..." is not mistaken for a comment.
    /// </summary>
    static string Strip(string text) =>
        Regex.Replace(text, @"""(?:\\.|[^""\\\n])*""|//[^\n]*|/\*.*?\*/",
            m => m.Value.StartsWith('"') ? m.Value : "", RegexOptions.Singleline);
}
