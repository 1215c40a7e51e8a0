using Joinery.EndToEnd.Support;

namespace Joinery.EndToEnd.Deployment;

/// <summary>
/// Messaging:QuorumQueues (on in deploy/k8s, off by default) makes every consumer queue a quorum queue. Checked on the
/// local broker in a virtual host of its own, since an existing classic queue cannot become a quorum queue in place.
/// </summary>
[Collection(LocalModeCollection.Name)]
public sealed class Quorum_queues_on_the_broker(LocalModeFixture local)
{
    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task With_quorum_queues_on_a_service_declares_each_of_its_consumer_queues_as_a_quorum_queue()
    {
        var original = LocalProcess.Of(local, "crm-sync");
        var vhost = $"joinery-e2e-quorum-{Environment.ProcessId}";
        var data = Directory.CreateTempSubdirectory("joinery-quorum-");
        await LocalBroker.CreateVhost(vhost);
        try
        {
            await using (var crm = original.StartAnother(Path.Combine(local.StateDir, "logs", "crm-sync-quorum.log"),
                             new Dictionary<string, string>
                             {
                                 ["Messaging__QuorumQueues"] = "true",
                                 ["ConnectionStrings__RabbitMq"] = $"amqp://guest:guest@127.0.0.1:5672/{vhost}",
                                 ["Persistence__DataDirectory"] = data.FullName,
                             }))
            {
                await crm.WaitUntilReady(StartTimeout);
                var queues = await LocalBroker.Queues(vhost);

                foreach (var name in new[] { "sync-contact", "delete-contact" })
                {
                    var queue = queues.SingleOrDefault(q => q.Name == name);
                    Assert.True(queue is not null, $"{name} was not declared on {vhost}: [{string.Join(", ", queues)}]");
                    Assert.Equal("quorum", queue.Type);
                    Assert.True(queue.Durable);
                }
                // The bus's own temporary queue (when MassTransit has made one) stays classic: quorum queues cannot auto-delete.
                Assert.All(queues.Where(q => q.AutoDelete), q => Assert.Equal("classic", q.Type));
            }

            // And by default (the local mode's own vhost) the same queues are classic.
            var defaults = await LocalBroker.Queues(original.RabbitMqVhost);
            Assert.Equal("classic", defaults.Single(q => q.Name == "sync-contact").Type);
        }
        finally
        {
            await LocalBroker.DeleteVhost(vhost);
            data.Delete(recursive: true);
        }
    }
}
