using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Joinery.EndToEnd.Deployment;

/// <summary>A KEDA ScaledObject of deploy/k8s: the Deployment it scales and the queues its rabbitmq triggers watch.</summary>
public sealed record ScaledObject(string File, string Name, string Target, IReadOnlyList<string> Queues);

/// <summary>The few facts the end-to-end deployment tests need from deploy/k8s, the Dockerfiles and docker-compose.yml.</summary>
public static class DeploymentManifests
{
    public static IReadOnlyList<ScaledObject> ScaledObjects(string root) =>
        Directory.GetFiles(Path.Combine(root, "deploy", "k8s"), "*.yaml")
            .Order(StringComparer.Ordinal)
            .SelectMany(file => Documents(file)
                .Where(d => Scalar(d, "kind") == "ScaledObject")
                .Select(d => new ScaledObject(
                    Path.GetRelativePath(root, file),
                    Scalar(d, "metadata", "name")!,
                    Scalar(d, "spec", "scaleTargetRef", "name")!,
                    ((YamlSequenceNode)Node(d, "spec", "triggers")!).Children.OfType<YamlMappingNode>()
                        .Where(t => Scalar(t, "type") == "rabbitmq")
                        .Select(t => Scalar(t, "metadata", "queueName")!)
                        .Order(StringComparer.Ordinal)
                        .ToList())))
            .ToList();

    /// <summary>The assembly a service's image runs: the dll of its Dockerfile's ENTRYPOINT ["dotnet", "X.dll"].</summary>
    public static string ImageAssembly(string root, string dockerfile)
    {
        var entrypoint = Regex.Match(Logical(File.ReadAllText(Path.Combine(root, dockerfile))), @"^ENTRYPOINT\s+(\[.*\])\s*$", RegexOptions.Multiline);
        Assert.True(entrypoint.Success, $"{dockerfile} has no exec-form ENTRYPOINT");
        var args = JsonSerializer.Deserialize<string[]>(entrypoint.Groups[1].Value)!;
        return Path.GetFileNameWithoutExtension(args.Single(a => a.EndsWith(".dll", StringComparison.Ordinal)));
    }

    /// <summary>The exec-form command of a Dockerfile's HEALTHCHECK (["bash", "-c", "..."]).</summary>
    public static string[] HealthcheckCommand(string root, string dockerfile)
    {
        var healthcheck = Regex.Match(Logical(File.ReadAllText(Path.Combine(root, dockerfile))), @"^HEALTHCHECK\s.*?\bCMD\s+(\[.*\])\s*$", RegexOptions.Multiline);
        Assert.True(healthcheck.Success, $"{dockerfile} has no exec-form HEALTHCHECK CMD");
        return JsonSerializer.Deserialize<string[]>(healthcheck.Groups[1].Value)!;
    }

    /// <summary>
    /// The readiness check docker-compose.yml gives the Joinery services (x-ready-check), as the container would run
    /// it: "CMD" dropped and compose's $$ escape undone.
    /// </summary>
    public static string[] ComposeReadyCheck(string root)
    {
        var compose = Documents(Path.Combine(root, "docker-compose.yml")).Single();
        var test = ((YamlSequenceNode)Node(compose, "x-ready-check", "test")!).Children.Select(c => ((YamlScalarNode)c).Value!).ToList();
        Assert.Equal("CMD", test[0]);
        return test.Skip(1).Select(a => a.Replace("$$", "$")).ToArray();
    }

    static string Logical(string dockerfile) => dockerfile.Replace("\\\n", " ");

    static IEnumerable<YamlMappingNode> Documents(string file)
    {
        using var reader = new StringReader(File.ReadAllText(file));
        var stream = new YamlStream();
        stream.Load(new MergingParser(new Parser(reader)));
        return stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList();
    }

    static YamlNode? Node(YamlNode node, params string[] path)
    {
        YamlNode? current = node;
        foreach (var key in path)
            current = current is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var next) ? next : null;
        return current;
    }

    static string? Scalar(YamlNode node, params string[] path) => (Node(node, path) as YamlScalarNode)?.Value;
}
