using System.Net;
using Joinery.Gateway.Persistence;
using Joinery.Gateway.Saga;
using Joinery.Gateway.SagaRepository;
using Joinery.Tests.Support;
using MassTransit;
using MassTransit.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Joinery.Tests.Gateway;

/// <summary>
/// The gateway in memory (as <see cref="GatewayApiFactory"/>) with an admin configured and a code of conduct, or with
/// whatever settings a test class gives it.
/// </summary>
public class AdminGatewayFactory : WebApplicationFactory<SignupStateMachine>
{
    public const string Username = "admin";
    public const string Password = "correct horse battery staple";
    public const string CodeOfConductUrl = "https://example.org/code-of-conduct";

    readonly TempDirectory _directory = new();

    protected virtual IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Admin:Username"] = Username,
        ["Admin:Password"] = Password,
        ["Signup:CodeOfConductUrl"] = CodeOfConductUrl,
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Persistence:DataDirectory", _directory.Path);
        builder.UseSetting("Messaging:Transport", "InMemory");
        foreach (var (key, value) in Settings)
            builder.UseSetting(key, value);
        builder.ConfigureTestServices(services => services.AddMassTransitTestHarness());
    }

    public ITestHarness Harness => Services.GetRequiredService<ITestHarness>();

    public ISagaStore<SignupState> Sagas => Services.GetRequiredService<ISagaStore<SignupState>>();

    public ISignupLedger Ledger => Services.GetRequiredService<ISignupLedger>();

    /// <summary>A client that keeps cookies and shows redirects as they are.</summary>
    public HttpClient Browser() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    /// <summary>A client signed in as the admin (through the sign-in form, as a browser would).</summary>
    public async Task<HttpClient> SignedIn()
    {
        var client = Browser();
        using var response = await client.PostAsync("/admin/login", new FormUrlEncodedContent(
            new Dictionary<string, string> { ["username"] = Username, ["password"] = Password }));
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        return client;
    }

    /// <summary>Puts a saga instance straight into the store, as the saga would have left it.</summary>
    public async Task<SignupState> Seed(string state, string email, Action<SignupState>? change = null, DateTimeOffset? createdAt = null)
    {
        var saga = new SignupState
        {
            CorrelationId = Guid.NewGuid(),
            CurrentState = state,
            Requested = true,
            Name = "Grace Hopper",
            Email = email,
            NormalizedEmail = email.Trim().ToLowerInvariant(),
            StoreStatus = StepStatus.Done,
            CrmStatus = StepStatus.Done,
            SlackStatus = state == "Completed" ? StepStatus.Done : StepStatus.Pending,
            CreatedAt = createdAt ?? DateTimeOffset.UtcNow,
            UpdatedAt = createdAt ?? DateTimeOffset.UtcNow,
        };
        change?.Invoke(saga);
        await Sagas.Insert(saga);
        return saga;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _directory.Dispose();
    }
}

/// <summary>The gateway with no admin configured: the admin side must be absent.</summary>
public sealed class NoAdminGatewayFactory : AdminGatewayFactory
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>();
}
