using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Joinery.Tests.Deployment;

/// <summary>The repository's files, found from the test assembly's folder.</summary>
static class Repo
{
    public static readonly string Root = Find();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string Read(params string[] parts) => File.ReadAllText(PathOf(parts));

    public static string Relative(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');

    static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Joinery.slnx")))
                return dir.FullName;
        throw new InvalidOperationException($"No Joinery.slnx above {AppContext.BaseDirectory}");
    }
}

/// <summary>
/// A deployable Joinery service: a folder under services/ with a Program.cs (contracts and defaults are libraries).
/// Its Docker image, compose service, Deployment and ScaledObject all carry the folder's name.
/// </summary>
sealed record JoineryService(string Name, string Folder, string ProjectFile, string AssemblyName)
{
    public static readonly IReadOnlyList<JoineryService> All = Discover();

    public static JoineryService Named(string name) => All.Single(s => s.Name == name);

    /// <summary>The one service that faces the outside (page and API); the others only consume messages.</summary>
    public const string Gateway = "gateway";

    public string Dockerfile => Path.Combine(Folder, "Dockerfile");

    public Assembly Assembly => Assembly.Load(AssemblyName);

    /// <summary>
    /// The queues this service's consumers and sagas receive from: the endpoint names their MassTransit definitions
    /// give (the kebab-case formatter is the one the services use).
    /// </summary>
    public IReadOnlyList<string> EndpointNames()
    {
        // Definitions may take options (IOptions<T>) or logging: give them what a host would, with default settings.
        using var services = new ServiceCollection()
            .AddOptions()
            .AddLogging()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .BuildServiceProvider();
        var names = new List<string>();
        foreach (var type in Assembly.GetTypes().Where(t => t is { IsAbstract: false, IsGenericTypeDefinition: false }))
        {
            if (typeof(IConsumerDefinition).IsAssignableFrom(type))
                names.Add(((IConsumerDefinition)ActivatorUtilities.CreateInstance(services, type)).GetEndpointName(KebabCaseEndpointNameFormatter.Instance));
            else if (typeof(ISagaDefinition).IsAssignableFrom(type))
                names.Add(((ISagaDefinition)ActivatorUtilities.CreateInstance(services, type)).GetEndpointName(KebabCaseEndpointNameFormatter.Instance));
        }
        return names.Distinct().Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Projects the service's project references, transitively, as repository-relative folders (itself first).</summary>
    public IReadOnlyList<string> ProjectFolders()
    {
        var seen = new List<string>();
        void Visit(string projectFile)
        {
            var folder = Repo.Relative(Path.GetDirectoryName(projectFile)!);
            if (seen.Contains(folder))
                return;
            seen.Add(folder);
            foreach (Match m in Regex.Matches(File.ReadAllText(projectFile), "<ProjectReference\\s+Include=\"([^\"]+)\""))
                Visit(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(projectFile)!, m.Groups[1].Value.Replace('\\', '/'))));
        }
        Visit(ProjectFile);
        return seen;
    }

    static IReadOnlyList<JoineryService> Discover() =>
        Directory.GetDirectories(Repo.PathOf("services"))
            .Where(d => File.Exists(Path.Combine(d, "Program.cs")))
            .Select(d =>
            {
                var project = Directory.GetFiles(d, "*.csproj").Single();
                var assembly = Regex.Match(File.ReadAllText(project), "<AssemblyName>([^<]+)</AssemblyName>") is { Success: true } m
                    ? m.Groups[1].Value
                    : Path.GetFileNameWithoutExtension(project);
                return new JoineryService(Path.GetFileName(d), d, project, assembly);
            })
            .OrderBy(s => s.Name, StringComparer.Ordinal)
            .ToList();
}

static class Yaml
{
    /// <summary>Every document of a YAML file; merge keys (&lt;&lt;: *anchor) resolved as docker compose does.</summary>
    public static IReadOnlyList<YamlMappingNode> LoadAll(string path)
    {
        using var reader = new StringReader(File.ReadAllText(path));
        var stream = new YamlStream();
        stream.Load(new MergingParser(new Parser(reader)));
        return stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList();
    }

    public static YamlNode? Get(this YamlNode? node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public static YamlMappingNode? Map(this YamlNode? node, string key) => node.Get(key) as YamlMappingNode;

    public static YamlSequenceNode? Seq(this YamlNode? node, string key) => node.Get(key) as YamlSequenceNode;

    public static string? Str(this YamlNode? node, string key) => (node.Get(key) as YamlScalarNode)?.Value;

    public static string? Scalar(this YamlNode? node) => (node as YamlScalarNode)?.Value;

    /// <summary>Follows a path of keys and sequence indexes ("spec.template.spec.containers.0").</summary>
    public static YamlNode? At(this YamlNode? node, string path)
    {
        foreach (var part in path.Split('.'))
            node = node is YamlSequenceNode seq && int.TryParse(part, out var i) ? (i < seq.Children.Count ? seq.Children[i] : null) : node.Get(part);
        return node;
    }

    public static IEnumerable<YamlMappingNode> Maps(this YamlSequenceNode? seq) =>
        seq?.Children.OfType<YamlMappingNode>() ?? [];

    public static IEnumerable<string> Strings(this YamlSequenceNode? seq) =>
        seq?.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? "") ?? [];

    public static IEnumerable<KeyValuePair<string, YamlNode>> Entries(this YamlMappingNode? map) =>
        map?.Children.Select(kv => new KeyValuePair<string, YamlNode>(((YamlScalarNode)kv.Key).Value ?? "", kv.Value)) ?? [];
}

/// <summary>docker-compose.yml, read the way docker compose reads it (merge keys, ${VAR} interpolation from .env).</summary>
sealed class ComposeFile
{
    public static readonly ComposeFile Instance = new();

    ComposeFile()
    {
        Text = Repo.Read("docker-compose.yml");
        Root = Yaml.LoadAll(Repo.PathOf("docker-compose.yml")).Single();
        EnvExample = DotEnv.Parse(Repo.Read(".env.example"));
    }

    public string Text { get; }
    public YamlMappingNode Root { get; }

    /// <summary>.env.example: the committed list of every variable the compose file interpolates.</summary>
    public IReadOnlyDictionary<string, string> EnvExample { get; }

    public IReadOnlyDictionary<string, YamlMappingNode> Services =>
        Root.Map("services").Entries().ToDictionary(e => e.Key, e => (YamlMappingNode)e.Value);

    public YamlMappingNode Service(string name) =>
        Services.TryGetValue(name, out var s) ? s : throw new Xunit.Sdk.XunitException($"docker-compose.yml has no service {name}");

    /// <summary>A service's environment (map or list form), values as written (before interpolation).</summary>
    public IReadOnlyDictionary<string, string> Environment(string service)
    {
        var env = Service(service).Get("environment");
        return env switch
        {
            YamlMappingNode map => map.Entries().ToDictionary(e => e.Key, e => e.Value.Scalar() ?? ""),
            YamlSequenceNode list => list.Strings().Select(s => s.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : ""),
            _ => new Dictionary<string, string>(),
        };
    }

    /// <summary>Interpolates as docker compose does, with .env.example standing in for .env.</summary>
    public string Resolve(string value) => Interpolation.Replace(value, m =>
    {
        if (m.Value == "$$")
            return "$";
        var name = m.Groups["name"].Value;
        var op = m.Groups["op"].Value;
        var arg = m.Groups["arg"].Value;
        EnvExample.TryGetValue(name, out var set);
        return op switch
        {
            ":-" => string.IsNullOrEmpty(set) ? arg : set,
            "-" => set ?? arg,
            _ => set ?? "",
        };
    });

    /// <summary>The names of every variable interpolated anywhere in the file.</summary>
    public IReadOnlySet<string> InterpolatedVariables() =>
        Interpolation.Matches(Text).Where(m => m.Value != "$$").Select(m => m.Groups["name"].Value).ToHashSet();

    public static bool IsInterpolated(string value) => Interpolation.Matches(value).Any(m => m.Value != "$$");

    static readonly Regex Interpolation = new(@"\$\$|\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?<op>:-|-|:\?|\?)(?<arg>[^}]*))?\}|\$(?<name>[A-Za-z_][A-Za-z0-9_]*)");
}

static class DotEnv
{
    public static IReadOnlyDictionary<string, string> Parse(string text) =>
        text.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#') && l.Contains('='))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim().Trim('"'));
}

/// <summary>One Dockerfile, parsed enough to check what matters: stages, COPY sources, ENV, USER, HEALTHCHECK, ENTRYPOINT.</summary>
sealed class Dockerfile
{
    public Dockerfile(string path)
    {
        Path = path;
        var logical = new List<(string Instruction, string Args)>();
        var current = "";
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.TrimEnd();
            if (current.Length == 0 && (line.TrimStart().StartsWith('#') || line.Trim().Length == 0))
                continue;
            if (line.EndsWith('\\'))
            {
                current += line[..^1] + " ";
                continue;
            }
            current += line;
            var trimmed = current.Trim();
            var space = trimmed.IndexOfAny([' ', '\t']);
            logical.Add(space < 0 ? (trimmed.ToUpperInvariant(), "") : (trimmed[..space].ToUpperInvariant(), trimmed[(space + 1)..].Trim()));
            current = "";
        }

        foreach (var (instruction, args) in logical)
        {
            if (instruction == "FROM")
            {
                var parts = args.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(p => !p.StartsWith("--")).ToArray();
                Stages.Add(new Stage(parts[0], parts.Length >= 3 && parts[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? parts[2] : null));
            }
            else if (Stages.Count > 0)
                Stages[^1].Instructions.Add((instruction, args));
        }
    }

    public string Path { get; }
    public List<Stage> Stages { get; } = [];
    public Stage Final => Stages[^1];

    public sealed record Stage(string Image, string? Alias)
    {
        public List<(string Instruction, string Args)> Instructions { get; } = [];

        public IEnumerable<string> Args(string instruction) =>
            Instructions.Where(i => i.Instruction == instruction).Select(i => i.Args);

        /// <summary>ENV in both spellings: <c>ENV a=b c=d</c> and <c>ENV a b</c>.</summary>
        public IReadOnlyDictionary<string, string> Env()
        {
            var env = new Dictionary<string, string>();
            foreach (var args in Args("ENV"))
            {
                if (!args.Contains('=') || Regex.IsMatch(args, @"^\S+\s+[^=]*$"))
                {
                    var p = args.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
                    env[p[0]] = p.Length > 1 ? p[1] : "";
                    continue;
                }
                foreach (Match m in Regex.Matches(args, "(\\S+?)=(\"[^\"]*\"|\\S*)"))
                    env[m.Groups[1].Value] = m.Groups[2].Value.Trim('"');
            }
            return env;
        }

        /// <summary>The sources of each COPY without --from (what the build context must hold).</summary>
        public IEnumerable<string> ContextCopies() =>
            Args("COPY").Where(a => !a.Contains("--from", StringComparison.Ordinal))
                .SelectMany(a =>
                {
                    var parts = a.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(p => !p.StartsWith("--")).ToArray();
                    return parts[..^1];
                });
    }

    /// <summary>An exec-form (JSON array) argument of an instruction, e.g. ENTRYPOINT or HEALTHCHECK's CMD.</summary>
    public static string[]? ExecForm(string args)
    {
        var start = args.IndexOf('[');
        return start < 0 ? null : JsonSerializer.Deserialize<string[]>(args[start..]);
    }

    public string[]? HealthcheckCommand() =>
        Final.Args("HEALTHCHECK").Select(ExecForm).LastOrDefault();

    public string[]? Entrypoint() => Final.Args("ENTRYPOINT").Select(ExecForm).LastOrDefault();

    public string? User() => Final.Args("USER").LastOrDefault();
}

/// <summary>Every manifest under deploy/k8s (each file may hold several documents).</summary>
sealed class KubernetesManifests
{
    public static readonly KubernetesManifests Instance = new();
    public const string Folder = "deploy/k8s";
    public const string SecretsTemplate = "secrets.example.yaml";

    KubernetesManifests()
    {
        Documents = System.IO.Directory.GetFiles(Repo.PathOf("deploy", "k8s"), "*.yaml", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .SelectMany(f => Yaml.LoadAll(f).Select(d => new Manifest(Repo.Relative(f), d)))
            .ToList();
    }

    public IReadOnlyList<Manifest> Documents { get; }

    public IEnumerable<Manifest> OfKind(string kind) => Documents.Where(d => d.Kind == kind);

    public Manifest? Find(string kind, string name) => OfKind(kind).SingleOrDefault(d => d.Name == name);

    public sealed record Manifest(string File, YamlMappingNode Node)
    {
        public string? Kind => Node.Str("kind");
        public string? ApiVersion => Node.Str("apiVersion");
        public string? Name => Node.At("metadata.name").Scalar();
        public string? Namespace => Node.At("metadata.namespace").Scalar();
        public override string ToString() => $"{Kind} {Name} ({File})";
    }
}

/// <summary>What makes a configuration value a secret: its key's name.</summary>
static class Secrets
{
    static readonly Regex SecretName = new("token|password|passwd|secret|apikey|api_key|credential", RegexOptions.IgnoreCase);

    /// <summary>
    /// Keys such as ActiveCampaign__ApiToken, Admin__PasswordHash or RABBITMQ_PASSWORD (judged by the last segment);
    /// connection strings may carry credentials too.
    /// </summary>
    public static bool IsSecretKey(string key) =>
        SecretName.IsMatch(key.Replace("__", ":").Split(':')[^1]) || IsConnectionString(key);

    public static bool IsConnectionString(string key) =>
        key.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase)
        || key.StartsWith("ConnectionStrings:", StringComparison.OrdinalIgnoreCase)
        || key.Equals("MONGODB_URI", StringComparison.OrdinalIgnoreCase);

    /// <summary>The password of a URI's user info (amqp://user:password@host), or null.</summary>
    public static string? UriPassword(string value)
    {
        var m = Regex.Match(value, "^[a-z+]+://[^:/@]*:(?<password>[^@]*)@", RegexOptions.IgnoreCase);
        return m.Success ? m.Groups["password"].Value : null;
    }
}
