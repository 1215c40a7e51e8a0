using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Joinery.Contracts;
using Joinery.ServiceDefaults;
using Joinery.ServiceDefaults.Health;
using Joinery.ServiceDefaults.Telemetry;
using Joinery.Tests.Support;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;

namespace Joinery.Tests.Observability;

/// <summary>
/// A service built the way every Joinery service is (AddServiceDefaults, a SQLite database, the bus on the in-memory
/// transport, MapDefaultEndpoints) in a test server: /metrics, /health/live, /health/ready and the logs.
/// </summary>
public sealed class Service_endpoints : IAsyncLifetime
{
    readonly TempDirectory _directory = new();
    readonly List<(ActivityTraceId TraceId, ActivitySpanId SpanId, string? Message)> _logs = [];
    WebApplication _app = null!;
    HttpClient _client = null!;
    SqliteDatabase _database = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ApplicationName = "Joinery.Store" });
        builder.WebHost.UseTestServer();
        builder.Configuration["Messaging:Transport"] = "InMemory";
        builder.Configuration["Persistence:DataDirectory"] = _directory.Path;
        builder.AddServiceDefaults();
        _database = builder.AddSqliteDatabase("observability-test");
        builder.AddMessagingModule("observability-test", bus => bus.AddConsumer<NoOpStoreConsumer, NoOpStoreConsumerDefinition>());
        builder.AddMessaging();
        builder.Services.ConfigureOpenTelemetryLoggerProvider(logging => logging.AddProcessor(new LogCollector(_logs)));

        _app = builder.Build();
        _app.MapDefaultEndpoints();
        await _database.Execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)");
        await _app.StartAsync();
        _client = _app.GetTestClient();
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task Metrics_are_exposed_for_Prometheus_under_their_documented_names()
    {
        var reason = $"test:metrics_{Guid.NewGuid():N}";
        JoineryMetrics.SignupFailed(reason, TimeSpan.FromSeconds(1));

        var text = await Scrape();

        Assert.Matches(new Regex($@"^joinery_signups_failed_total\{{[^}}]*reason=""{Regex.Escape(reason)}""[^}}]*\}} 1$", RegexOptions.Multiline), text);
        Assert.Contains("# TYPE joinery_signup_duration_seconds histogram", text);
    }

    [Fact]
    public async Task Every_Joinery_and_ASP_NET_Core_metric_the_Grafana_dashboard_queries_is_exposed()
    {
        // One of each of Joinery's instruments, and one HTTP request.
        JoineryMetrics.SignupAccepted();
        JoineryMetrics.SignupCompleted(TimeSpan.FromSeconds(1));
        JoineryMetrics.SignupFailed("test:dashboard", TimeSpan.FromSeconds(1));
        JoineryMetrics.StepAttempt("test-dashboard", succeeded: true, TimeSpan.FromMilliseconds(5), retry: false);
        JoineryMetrics.RateLimitWait("test-dashboard", TimeSpan.FromSeconds(1));
        (await _client.GetAsync("/health/live")).Dispose();
        // The request's duration is recorded once the request has ended, which may be just after the client has its answer.
        await Eventually.True(async () => (await Scrape()).Contains("http_server_request_duration_seconds_count"),
            what: "ASP.NET Core's request metrics");

        var exposed = await Scrape();
        var queried = DashboardMetricNames();

        Assert.NotEmpty(queried);
        var missing = queried.Where(name => !Regex.IsMatch(exposed, $@"^{name}[{{ ]", RegexOptions.Multiline)).ToList();
        var names = Regex.Matches(exposed, @"^[a-z_0-9]+", RegexOptions.Multiline).Select(m => m.Value).Distinct();
        Assert.True(missing.Count == 0,
            $"queried by deploy/grafana but not exposed at /metrics: {string.Join(", ", missing)}; exposed: {string.Join(", ", names)}");
    }

    [Fact]
    public async Task Ready_and_live_answer_200_while_the_bus_and_the_database_are_up()
    {
        var ready = await Get("/health/ready");
        var live = await Get("/health/live");

        Assert.Equal(HttpStatusCode.OK, ready.Status);
        Assert.Equal("Healthy", ready.Body.GetProperty("checks").GetProperty("sqlite-observability-test").GetProperty("status").GetString());
        Assert.Equal("Healthy", ready.Body.GetProperty("checks").GetProperty("masstransit-bus").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, live.Status);
    }

    [Fact]
    public async Task Ready_is_503_while_the_database_file_is_gone_and_200_again_once_it_is_back_while_live_stays_200()
    {
        var moved = _database.Path + ".away";
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Move(_database.Path, moved);
        try
        {
            var down = await Get("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.Status);
            var sqlite = down.Body.GetProperty("checks").GetProperty("sqlite-observability-test");
            Assert.Equal("Unhealthy", sqlite.GetProperty("status").GetString());
            Assert.Contains("observability-test.db", sqlite.GetProperty("description").GetString());
            Assert.Equal(HttpStatusCode.OK, (await Get("/health/live")).Status);
            Assert.False(File.Exists(_database.Path), "the check must not create an empty database in place of the missing one");
        }
        finally
        {
            File.Move(moved, _database.Path);
        }

        Assert.Equal(HttpStatusCode.OK, (await Get("/health/ready")).Status);
    }

    [Fact]
    public async Task Logs_written_inside_a_span_carry_its_trace_and_span_ids()
    {
        using var source = new ActivitySource(JoineryTelemetry.SourceName);
        var marker = Guid.NewGuid().ToString("N");
        var logger = _app.Services.GetRequiredService<ILogger<Service_endpoints>>();

        ActivityTraceId traceId;
        ActivitySpanId spanId;
        using (var activity = source.StartActivity("log-test"))
        {
            Assert.NotNull(activity);
            traceId = activity.TraceId;
            spanId = activity.SpanId;
            logger.LogWarning("marker {Marker}", marker);
        }

        var record = await Eventually.Get(() => Task.FromResult(Snapshot().FirstOrDefault(l => l.Message?.Contains(marker) == true)),
            l => l.Message is not null, what: "the log record");
        Assert.Equal(traceId, record.TraceId);
        Assert.Equal(spanId, record.SpanId);
    }

    List<(ActivityTraceId TraceId, ActivitySpanId SpanId, string? Message)> Snapshot()
    {
        lock (_logs)
            return [.. _logs];
    }

    async Task<string> Scrape()
    {
        using var response = await _client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    async Task<(HttpStatusCode Status, JsonElement Body)> Get(string path)
    {
        using var response = await _client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>
    /// Every series name in the dashboards' queries but MassTransit's and RabbitMQ's. MassTransit binds its meter to the
    /// first service provider in the process, so in a test process full of hosts only one of them sees it: the
    /// end-to-end test checks those names against real services instead. RabbitMQ's come from the broker.
    /// </summary>
    static IReadOnlyList<string> DashboardMetricNames()
    {
        var folder = Path.Combine(RepoRoot(), "deploy", "grafana", "dashboards");
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(folder, "*.json"))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var expr in Expressions(document.RootElement))
            {
                // Label matchers and grouping clauses name labels, not series: leave them out.
                var series = Regex.Replace(Regex.Replace(expr, @"\{[^}]*\}", " "), @"\b(by|without)\s*\([^)]*\)", " ");
                foreach (Match m in Regex.Matches(series, @"\b(joinery|http_server|http_client|dotnet)_[a-z0-9_]+\b"))
                    names.Add(m.Value);
            }
        }
        return names.ToList();
    }

    static IEnumerable<string> Expressions(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "expr" && property.Value.ValueKind == JsonValueKind.String)
                        yield return property.Value.GetString()!;
                    else
                        foreach (var inner in Expressions(property.Value))
                            yield return inner;
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    foreach (var inner in Expressions(item))
                        yield return inner;
                break;
        }
    }

    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Joinery.slnx")))
                return dir.FullName;
        throw new InvalidOperationException("Joinery.slnx not found above the test assembly");
    }

    sealed class LogCollector(List<(ActivityTraceId, ActivitySpanId, string?)> logs) : BaseProcessor<LogRecord>
    {
        public override void OnEnd(LogRecord data)
        {
            lock (logs)
                logs.Add((data.TraceId, data.SpanId, data.FormattedMessage ?? data.Body));
        }
    }
}

public sealed class NoOpStoreConsumer : IConsumer<SignupRequested>
{
    public Task Consume(ConsumeContext<SignupRequested> context) => Task.CompletedTask;
}

public sealed class NoOpStoreConsumerDefinition : ConsumerDefinition<NoOpStoreConsumer>
{
    // Its own queue name: the in-memory bus of this test host is separate from every other test's anyway.
    public NoOpStoreConsumerDefinition() => EndpointName = $"observability-test-{Guid.NewGuid():N}";
}
