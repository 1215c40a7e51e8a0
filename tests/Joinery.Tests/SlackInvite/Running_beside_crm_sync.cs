using System.Net;
using Joinery.Contracts;
using Joinery.CrmSync;
using Joinery.ServiceDefaults;
using Joinery.SlackInvite;
using Joinery.Tests.CrmSync;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Joinery.Tests.SlackInvite;

/// <summary>The standalone host runs every module in one process: crm-sync's and slack-invite's must not collide.</summary>
public sealed class Running_beside_crm_sync
{
    [Fact]
    public async Task Should_keep_each_service_on_its_own_client_options_and_queue()
    {
        var dataDirectory = CrmSyncTestHost.NewDataDirectory();
        var crm = new StubActiveCampaign().Then(HttpStatusCode.Created, StubActiveCampaign.Contact("11"));
        var slack = new StubSlack().ThenOk();
        try
        {
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Persistence:DataDirectory"] = dataDirectory,
                ["ActiveCampaign:BaseUrl"] = CrmSyncTestHost.BaseUrl,
                ["ActiveCampaign:ApiToken"] = CrmSyncTestHost.ApiToken,
                ["Slack:BaseUrl"] = SlackInviteTestHost.BaseUrl,
                ["Slack:Token"] = SlackInviteTestHost.Token,
            });
            builder.AddCrmSyncService();
            builder.AddSlackInviteService();
            builder.Services.AddHttpClient(CrmSyncServiceExtensions.ActiveCampaignHttpClient).ConfigurePrimaryHttpMessageHandler(() => crm);
            builder.Services.AddHttpClient(SlackInviteServiceExtensions.SlackHttpClient).ConfigurePrimaryHttpMessageHandler(() => slack);
            var modules = builder.Services.MessagingModules();
            builder.Services.AddMassTransitTestHarness(bus =>
            {
                foreach (var module in modules)
                    module.Configure(bus);
            });

            await using var provider = builder.Services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
            var harness = provider.GetRequiredService<ITestHarness>();
            await harness.Start();
            var signupId = Guid.NewGuid();

            await harness.Bus.Publish(new SignupRequested(signupId, "Ada Lovelace", "ada@example.org", "ada@example.org", DateTimeOffset.UtcNow));
            await harness.Bus.Publish(new InviteToSlack(signupId, "Ada Lovelace", "ada@example.org"));

            Assert.True(await harness.Published.Any<ContactSynced>(x => x.Context.Message.SignupId == signupId && x.Context.Message.Created));
            Assert.True(await harness.Published.Any<SlackInvited>(x => x.Context.Message.SignupId == signupId));
            Assert.Equal(["crm-sync", "slack-invite"], modules.Select(m => m.Name).Order().ToArray());

            var crmRequest = Assert.Single(crm.Requests);
            Assert.Equal(CrmSyncTestHost.ApiToken, crmRequest.Headers["Api-Token"]);
            Assert.False(crmRequest.Headers.ContainsKey("Authorization"));

            var slackRequest = Assert.Single(slack.Requests);
            Assert.Equal("Bearer " + SlackInviteTestHost.Token, slackRequest.Headers["Authorization"]);
            Assert.False(slackRequest.Headers.ContainsKey("Api-Token"));
        }
        finally
        {
            CrmSyncTestHost.DeleteDataDirectory(dataDirectory);
        }
    }
}
