using System.Net;

namespace Joinery.EndToEnd.Observability;

/// <summary>
/// /health/ready reports the broker: every service turns unready while its RabbitMQ is stopped and ready again, in the
/// same process, once it is back, while /health/live stays 200 throughout (a restart would not help). The broker is a
/// private node (<see cref="PrivateRabbitMq"/>), so stopping it disturbs nothing else.
/// </summary>
[Collection(ObservabilityCollection.Name)]
public sealed class Readiness_follows_RabbitMQ(ObservedLocalMode local)
{
    static readonly (string Name, string Project, string Assembly)[] Services =
    [
        ("store", "services/store", "Joinery.Store"),
        ("crm-sync", "services/crm-sync", "Joinery.CrmSync"),
        ("slack-invite", "services/slack-invite", "Joinery.SlackInvite"),
        ("gateway", "services/gateway", "Joinery.Gateway"),
    ];

    [Fact]
    public async Task Every_service_is_unready_while_RabbitMQ_is_stopped_and_ready_again_after_it_restarts_without_restarting()
    {
        var dir = Path.Combine(local.StateDir, "readiness");
        if (Directory.Exists(dir))
            Directory.Delete(dir, recursive: true);
        await using var rabbit = await PrivateRabbitMq.Start(local.StateDir);
        var settings = new Dictionary<string, string>
        {
            ["Messaging__Transport"] = "RabbitMq",
            ["ConnectionStrings__RabbitMq"] = rabbit.Uri,
            ["Persistence__DataDirectory"] = Path.Combine(dir, "data"),
        };
        var services = Services
            .Select(s => ServiceProcess.Start(local.Root, local.Configuration, s.Name, s.Project, s.Assembly, settings, Path.Combine(dir, "logs")))
            .ToList();
        try
        {
            await AllAnswer(services, "/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(90), "ready once started");
            var pids = services.Select(s => s.Pid).ToList();

            try
            {
                await rabbit.StopApp();
                await AllAnswer(services, "/health/ready", HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(60),
                    "not ready while RabbitMQ is stopped");
                await AllAnswer(services, "/health/live", HttpStatusCode.OK, TimeSpan.FromSeconds(10), "still live while RabbitMQ is stopped");
            }
            finally
            {
                // Whatever happened above, the broker runs again before anything else.
                if (!rabbit.AppRunning)
                    await rabbit.StartApp();
            }

            await AllAnswer(services, "/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(120), "ready again once RabbitMQ is back");
            Assert.All(services, s => Assert.False(s.HasExited, $"{s.Name} exited:\n{s.Tail()}"));
            Assert.Equal(pids, services.Select(s => s.Pid));
        }
        finally
        {
            foreach (var service in services)
                await service.DisposeAsync();
        }
    }

    /// <summary>Polls every service until <paramref name="path"/> answers <paramref name="expected"/>, or fails naming who did not.</summary>
    static async Task AllAnswer(IReadOnlyList<ServiceProcess> services, string path, HttpStatusCode expected, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var statuses = await Task.WhenAll(services.Select(s => s.Status(path)));
            if (statuses.All(s => s == expected))
                return;
            var exited = services.FirstOrDefault(s => s.HasExited);
            if (exited is not null)
                throw new InvalidOperationException($"{exited.Name} exited while waiting for: {what}\n{exited.Tail()}");
            if (DateTime.UtcNow >= deadline)
            {
                var report = services.Zip(statuses, (s, status) => $"{s.Name}: {(status is null ? "no answer" : (int)status)}");
                var logs = services.Zip(statuses, (s, status) => status == expected ? "" : $"--- {s.Name} ---\n{s.Tail()}");
                throw new TimeoutException(
                    $"Not within {timeout.TotalSeconds:0}s: every service {what} ({path} {(int)expected}); " +
                    $"{string.Join(", ", report)}\n{string.Join("\n", logs.Where(l => l.Length > 0))}");
            }
            await Task.Delay(250);
        }
    }
}
