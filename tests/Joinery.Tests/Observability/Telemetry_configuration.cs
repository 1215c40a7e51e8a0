using System.Diagnostics;
using Joinery.ServiceDefaults.Telemetry;
using Microsoft.Extensions.Configuration;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Joinery.Tests.Observability;

public sealed class Telemetry_configuration
{
    [Theory]
    [InlineData("Joinery.Gateway", "gateway")]
    [InlineData("Joinery.Store", "store")]
    [InlineData("Joinery.CrmSync", "crm-sync")]
    [InlineData("Joinery.SlackInvite", "slack-invite")]
    [InlineData("Joinery.Standalone", "standalone")]
    [InlineData("", "joinery")]
    public void Without_OTEL_SERVICE_NAME_each_process_is_named_after_its_application(string application, string expected) =>
        Assert.Equal(expected, TelemetryServiceName.FromApplicationName(application));

    [Theory]
    [InlineData("OTEL_SERVICE_NAME", "gateway", true)]
    [InlineData("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,service.name=gateway", true)]
    [InlineData("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod", false)]
    public void The_environment_naming_the_service_takes_precedence(string variable, string value, bool configured)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [variable] = value }).Build();
        Assert.Equal(configured, TelemetryServiceName.IsConfigured(configuration));
    }

    [Fact]
    public void A_trace_link_is_given_only_for_a_configured_Jaeger_and_a_real_trace_id()
    {
        const string traceId = "0af7651916cd43dd8448eb211c80319c";

        Assert.Equal($"http://localhost:16686/trace/{traceId}", TraceLinks.JaegerTraceUrl("http://localhost:16686/", traceId));
        Assert.Equal($"https://jaeger.example.com/ui/trace/{traceId}", TraceLinks.JaegerTraceUrl("https://jaeger.example.com/ui", traceId.ToUpperInvariant()));
        Assert.Null(TraceLinks.JaegerTraceUrl((string?)null, traceId));
        Assert.Null(TraceLinks.JaegerTraceUrl("http://localhost:16686", null));
        Assert.Null(TraceLinks.JaegerTraceUrl("javascript:alert(1)", traceId));
        Assert.Null(TraceLinks.JaegerTraceUrl("http://localhost:16686", "../../admin"));
    }

    [Fact]
    public void Child_spans_in_the_same_process_inherit_the_signup_tags_and_remote_children_do_not()
    {
        using var source = new ActivitySource($"Joinery.Tests.{Guid.NewGuid():N}");
        var ended = new List<Activity>();
        using var provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(source.Name)
            .SetSampler(new AlwaysOnSampler())
            .AddProcessor(new SignupTagProcessor())
            .AddProcessor(new CollectingProcessor(ended))
            .Build();
        var id = Guid.NewGuid();

        using (var parent = source.StartActivity("receive"))
        {
            JoineryTelemetry.TagSignup(parent, id, SignupSteps.Crm);
            using (source.StartActivity("process"))
            using (source.StartActivity("POST contact/sync", ActivityKind.Client)) { }
            using (source.StartActivity("remote child", ActivityKind.Consumer, new ActivityContext(parent!.TraceId, parent.SpanId, ActivityTraceFlags.Recorded, isRemote: true))) { }
        }

        var byName = ended.ToDictionary(a => a.DisplayName);
        foreach (var name in new[] { "process", "POST contact/sync" })
        {
            Assert.Equal(id.ToString("D"), byName[name].GetTagItem(JoineryTelemetry.SignupIdTag));
            Assert.Equal(SignupSteps.Crm, byName[name].GetTagItem(JoineryTelemetry.StepTag));
        }
        Assert.Null(byName["remote child"].GetTagItem(JoineryTelemetry.SignupIdTag));
    }

    [Fact]
    public void Work_picked_up_later_continues_the_trace_of_the_request_that_stored_it()
    {
        var ended = new List<Activity>();
        using var provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(JoineryTelemetry.SourceName)
            .SetSampler(new AlwaysOnSampler())
            .AddProcessor(new CollectingProcessor(ended))
            .Build();
        var stored = $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01";

        using (var continued = JoineryTelemetry.ContinueTrace(stored, "outbox publish", ActivityKind.Producer))
        {
            Assert.NotNull(continued);
            Assert.Equal(stored.Split('-')[1], continued.TraceId.ToHexString());
            Assert.Equal(stored.Split('-')[2], continued.ParentSpanId.ToHexString());
        }
        using (var fresh = JoineryTelemetry.ContinueTrace("not a traceparent", "outbox publish"))
        {
            Assert.NotNull(fresh);
            Assert.NotEqual(stored.Split('-')[1], fresh.TraceId.ToHexString());
        }
    }

    sealed class CollectingProcessor(List<Activity> ended) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data)
        {
            lock (ended)
                ended.Add(data);
        }
    }
}
