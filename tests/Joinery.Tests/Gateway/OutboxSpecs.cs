using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using Joinery.Contracts;
using Joinery.Tests.Support;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Joinery.Tests.Gateway;

/// <summary>The broker refuses the request's publish: the signup is still accepted, because it is on disk, and goes out later.</summary>
public sealed class Submitting_while_the_broker_refuses_publishes : IDisposable
{
    readonly GatewayApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Should_accept_the_signup_and_publish_it_from_the_outbox()
    {
        using var refusing = _factory.WithWebHostBuilder(b => b.ConfigureTestServices(services =>
            services.AddScoped<IPublishEndpoint>(_ => RefusingPublishEndpoint.Create())));
        var client = refusing.CreateClient();
        var email = $"outbox.{Guid.NewGuid():N}@example.com";

        var response = await client.PostAsJsonAsync("/api/signups", new { name = "Ada", email, consent = true });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var harness = refusing.Services.GetRequiredService<MassTransit.Testing.ITestHarness>();
        await Eventually.True(() => harness.Published.Select<SignupRequested>().Any(x => x.Context.Message.SignupId == id),
            TimeSpan.FromSeconds(30), "the outbox to publish the signup");
        Assert.Equal(email, harness.Published.Select<SignupRequested>().Single(x => x.Context.Message.SignupId == id).Context.Message.NormalizedEmail);
    }

    /// <summary>An IPublishEndpoint whose every publish fails, as MassTransit's does while RabbitMQ is unreachable.</summary>
    public class RefusingPublishEndpoint : DispatchProxy
    {
        public static IPublishEndpoint Create() => DispatchProxy.Create<IPublishEndpoint, RefusingPublishEndpoint>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            typeof(Task).IsAssignableFrom(targetMethod?.ReturnType)
                ? Task.FromException(new InvalidOperationException("The broker is unreachable"))
                : null;
    }
}
