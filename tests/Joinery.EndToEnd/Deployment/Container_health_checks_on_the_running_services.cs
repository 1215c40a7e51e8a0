using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Joinery.EndToEnd.Support;

namespace Joinery.EndToEnd.Deployment;

/// <summary>
/// The images have no curl or wget, so their HEALTHCHECK (and compose's readiness check) is a bash one-liner. It is run
/// here, exactly as written in the Dockerfiles and docker-compose.yml, against the running services of the local mode.
/// </summary>
[Collection(LocalModeCollection.Name)]
public sealed class Container_health_checks_on_the_running_services(LocalModeFixture local)
{
    static readonly string[] Services = ["gateway", "store", "crm-sync", "slack-invite"];

    [Fact]
    public async Task Each_image_healthcheck_passes_against_its_running_service_and_fails_where_nothing_listens()
    {
        foreach (var name in Services)
        {
            var port = LocalProcess.Of(local, name).Url.Port;
            var command = DeploymentManifests.HealthcheckCommand(local.Root, Path.Combine("services", name, "Dockerfile"));

            var (code, output) = await Run(command, port);
            Assert.True(code == 0, $"{name}'s HEALTHCHECK failed against port {port} ({code}): {output}");
        }

        var fake = DeploymentManifests.HealthcheckCommand(local.Root, Path.Combine("tests", "Joinery.FakeApis", "Dockerfile"));
        var (fakeCode, fakeOutput) = await Run(fake, local.FakeApisUrl.Port);
        Assert.True(fakeCode == 0, $"the fake API server's HEALTHCHECK failed ({fakeCode}): {fakeOutput}");

        // Not vacuous: where nothing listens, the check fails.
        var (closed, _) = await Run(DeploymentManifests.HealthcheckCommand(local.Root, Path.Combine("services", "store", "Dockerfile")), UnusedPort());
        Assert.NotEqual(0, closed);
    }

    [Fact]
    public async Task The_compose_readiness_check_passes_against_each_running_service()
    {
        var command = DeploymentManifests.ComposeReadyCheck(local.Root);

        foreach (var name in Services)
        {
            var port = LocalProcess.Of(local, name).Url.Port;
            // Compose runs it inside the container, on port 8080; here each service has its own port.
            var (code, output) = await Run(command.Select(a => a.Replace("/127.0.0.1/8080", $"/127.0.0.1/{port}")).ToArray(), port);
            Assert.True(code == 0, $"compose's readiness check failed against {name} on port {port} ({code}): {output}");
        }
    }

    static async Task<(int ExitCode, string Output)> Run(string[] command, int port)
    {
        var start = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in command.Skip(1))
            start.ArgumentList.Add(arg);
        start.Environment["ASPNETCORE_HTTP_PORTS"] = port.ToString();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await process.WaitForExitAsync(cancel.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
