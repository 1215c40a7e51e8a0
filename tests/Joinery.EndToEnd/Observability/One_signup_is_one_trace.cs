using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Joinery.EndToEnd.Support;

namespace Joinery.EndToEnd.Observability;

/// <summary>
/// What an SRE opens in Jaeger: the local mode (each service its own process on a real RabbitMQ) exports its spans
/// over OTLP to a receiver inside the test, and one signup must be exactly one connected trace, rooted at the
/// gateway's POST, through the saga, store, crm-sync and slack-invite.
/// </summary>
[Collection(ObservabilityCollection.Name)]
public sealed class One_signup_is_one_trace(ObservedLocalMode local)
{
    static readonly TimeSpan SpanDeadline = TimeSpan.FromSeconds(30);
    /// <summary>The first signup after start-up takes the local mode some 15-20 s (cold consumers); later ones well under 1 s.</summary>
    static readonly TimeSpan SignupDeadline = TimeSpan.FromSeconds(60);
    static readonly string[] Services = ["gateway", "store", "crm-sync", "slack-invite"];

    /// <summary>Sends no traceparent of its own, so the gateway's span is the root as it is for a browser.</summary>
    static HttpClient Untraced(Uri baseAddress) =>
        new(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(15) };

    [Fact]
    public async Task A_completed_signup_is_one_trace_rooted_at_the_gateway_with_every_service_and_the_saga_correctly_parented()
    {
        using var http = Untraced(local.ServiceUrl("gateway"));
        using var response = await http.PostAsJsonAsync("/api/signups",
            new { name = "Ada Lovelace", email = GatewayClient.UniqueEmail("trace"), consent = true });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        var final = await local.Gateway.WaitUntilFinal(id, SignupDeadline);
        Assert.True(final.Status == "Completed", $"expected Completed: {final}");
        var traceId = final.Body.GetProperty("traceId").GetString();
        Assert.Matches("^[0-9a-f]{32}$", traceId);
        Assert.Equal($"{ObservedLocalMode.JaegerUi}/trace/{traceId}", final.Body.GetProperty("traceUrl").GetString());

        // Spans arrive in batches from four processes, parents after their children: wait until the trace is whole.
        var trace = await Eventually.Until(
            () => Task.FromResult(local.Receiver.Spans.Where(s => s.TraceId == traceId).ToList()),
            spans => Services.All(service => spans.Any(s => s.Service == service))
                     && spans.Any(IsSagaCompleting)
                     && Orphans(spans).Count == 0
                     && spans.Count(s => s.ParentSpanId is null) == 1,
            SpanDeadline, $"the whole trace {traceId} of signup {id}", Describe);

        Assert.Empty(local.Receiver.Errors);

        // Exactly one trace: every span that names this signup, in any process, is in it.
        var tagged = local.Receiver.Spans.Where(s => s.Attribute("joinery.signup_id") == id.ToString("D")).ToList();
        Assert.True(tagged.Select(s => s.TraceId).Distinct().SequenceEqual([traceId]),
            $"spans of signup {id} in more than one trace: {string.Join("; ", tagged.GroupBy(s => s.TraceId).Select(g => $"{g.Key}: {g.Count()}"))}");

        // Rooted at the gateway's POST span.
        var root = Assert.Single(trace, s => s.ParentSpanId is null);
        Assert.Equal("gateway", root.Service);
        Assert.Equal(ReceivedSpan.KindServer, root.Kind);
        Assert.StartsWith("POST", root.Name);
        Assert.Equal(id.ToString("D"), root.Attribute("joinery.signup_id"));

        // Correctly parented: every other span's parent is in the trace.
        Assert.True(Orphans(trace).Count == 0, Describe(trace));

        // Every consumer's span and the saga's carry the signup id and their step.
        foreach (var (service, step) in new[] { ("store", "store"), ("crm-sync", "crm"), ("slack-invite", "slack"), ("gateway", "saga") })
            Assert.True(trace.Any(s => s.Service == service && s.Kind == ReceivedSpan.KindConsumer
                                       && s.Attribute("joinery.step") == step && s.Attribute("joinery.signup_id") == id.ToString("D")),
                $"no {service} consumer span tagged step={step}: {Describe(trace)}");

        // The calls to the CRM and to Slack hang under their consumers.
        Assert.Contains(trace, s => s.Service == "crm-sync" && s.Kind == ReceivedSpan.KindClient && (s.Attribute("url.full") ?? "").Contains("/api/3/contact/sync"));
        Assert.Contains(trace, s => s.Service == "slack-invite" && s.Kind == ReceivedSpan.KindClient && (s.Attribute("url.full") ?? "").Contains("admin.users.invite"));
        // Each saga transition is a span of its own, ending in Completed.
        Assert.True(trace.Count(s => s.Service == "gateway" && s.Attribute("messaging.masstransit.end_state") is not null) >= 3, Describe(trace));
    }

    [Fact]
    public async Task Every_service_serves_its_metrics_and_health_and_every_MassTransit_metric_the_dashboard_queries_exists()
    {
        // A signup first, so every service has consumed something.
        var id = await local.Gateway.SignUp(GatewayClient.UniqueEmail("metrics"));
        Assert.Equal("Completed", (await local.Gateway.WaitUntilFinal(id, SignupDeadline)).Status);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        var exposed = new System.Text.StringBuilder();
        foreach (var service in Services)
        {
            var url = local.ServiceUrl(service);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(url, "/health/live"))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(url, "/health/ready"))).StatusCode);
            using var metrics = await http.GetAsync(new Uri(url, "/metrics"));
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            var text = await metrics.Content.ReadAsStringAsync();
            Assert.Contains("messaging_masstransit_receive_ea_total", text);   // MassTransit's meter is exported
            exposed.AppendLine(text);
        }

        var queried = DashboardSeries("messaging_masstransit");
        Assert.NotEmpty(queried);
        var missing = queried.Where(name => !Regex.IsMatch(exposed.ToString(), $@"^{name}[{{ ]", RegexOptions.Multiline)).ToList();
        Assert.True(missing.Count == 0, $"queried by deploy/grafana but exposed by no service: {string.Join(", ", missing)}");
    }

    static bool IsSagaCompleting(ReceivedSpan span) =>
        span.Service == "gateway" && span.Attribute("messaging.masstransit.end_state") == "Completed";

    static List<ReceivedSpan> Orphans(IReadOnlyCollection<ReceivedSpan> spans)
    {
        var ids = spans.Select(s => s.SpanId).ToHashSet();
        return spans.Where(s => s.ParentSpanId is not null && !ids.Contains(s.ParentSpanId)).ToList();
    }

    static string Describe(IReadOnlyCollection<ReceivedSpan> spans) =>
        $"{spans.Count} spans, orphans [{string.Join("; ", Orphans(spans))}]:\n  " + string.Join("\n  ", spans);

    IReadOnlyList<string> DashboardSeries(string prefix)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(Path.Combine(local.Root, "deploy", "grafana", "dashboards"), "*.json"))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var expr in Expressions(document.RootElement))
            {
                var series = Regex.Replace(Regex.Replace(expr, @"\{[^}]*\}", " "), @"\b(by|without)\s*\([^)]*\)", " ");
                foreach (Match m in Regex.Matches(series, $@"\b{prefix}_[a-z0-9_]+\b"))
                    names.Add(m.Value);
            }
        }
        return names.ToList();
    }

    static IEnumerable<string> Expressions(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p =>
            p.Name == "expr" && p.Value.ValueKind == JsonValueKind.String ? [p.Value.GetString()!] : Expressions(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(Expressions),
        _ => [],
    };
}
