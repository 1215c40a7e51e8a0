using Joinery.EndToEnd.Support;

namespace Joinery.EndToEnd.Deployment;

/// <summary>
/// KEDA scales each Deployment on the length of the queues named in its ScaledObject. A name that differs from the
/// queue MassTransit really declares scales on a queue that is always empty: nothing fails, the service just never
/// scales. So the names are checked against the running local broker, not against a copy of the constants.
/// </summary>
[Collection(LocalModeCollection.Name)]
public sealed class Scaling_on_the_queues_the_services_declare(LocalModeFixture local)
{
    [Fact]
    public async Task Each_ScaledObject_watches_exactly_the_queues_its_service_consumes_on_the_running_broker()
    {
        var vhost = LocalProcess.Of(local, "crm-sync").RabbitMqVhost;
        var durable = (await LocalBroker.Queues(vhost)).Where(q => q.Durable && !q.AutoDelete).Select(q => q.Name).ToHashSet();
        // Which process (by the assembly MassTransit names in its connection) consumes which durable queue.
        var consumedBy = (await LocalBroker.Consumers(vhost))
            .Where(c => durable.Contains(c.Queue))
            .GroupBy(c => c.Assembly)
            .ToDictionary(g => g.Key, g => g.Select(c => c.Queue).Distinct().Order(StringComparer.Ordinal).ToList());
        var scaledObjects = DeploymentManifests.ScaledObjects(local.Root);

        Assert.NotEmpty(scaledObjects);
        foreach (var scaled in scaledObjects)
        {
            // The Deployment runs the image built from services/<name>/Dockerfile; its ENTRYPOINT names the assembly.
            var assembly = DeploymentManifests.ImageAssembly(local.Root, Path.Combine("services", scaled.Target, "Dockerfile"));
            Assert.True(consumedBy.TryGetValue(assembly, out var consumed),
                $"{scaled.File}: {scaled.Name} scales {scaled.Target} ({assembly}), which consumes no queue on vhost {vhost}. " +
                $"Consumers seen: {Describe(consumedBy)}");
            Assert.True(consumed.SequenceEqual(scaled.Queues),
                $"{scaled.File}: {scaled.Name} watches [{string.Join(", ", scaled.Queues)}] but {assembly} consumes [{string.Join(", ", consumed)}] on the broker");
        }

        // And every queue a Joinery service consumes is watched by its ScaledObject: none left unscaled.
        var watched = scaledObjects.SelectMany(s => s.Queues).ToHashSet();
        var unwatched = consumedBy.Where(kv => kv.Key.StartsWith("Joinery.", StringComparison.Ordinal))
            .SelectMany(kv => kv.Value.Where(q => !watched.Contains(q)).Select(q => $"{q} ({kv.Key})"))
            .ToList();
        Assert.True(unwatched.Count == 0, "consumed but watched by no ScaledObject: " + string.Join(", ", unwatched));
    }

    static string Describe(Dictionary<string, List<string>> consumedBy) =>
        string.Join("; ", consumedBy.Select(kv => $"{kv.Key}: {string.Join(", ", kv.Value)}"));
}
