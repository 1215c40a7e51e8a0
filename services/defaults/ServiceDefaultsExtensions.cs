using System.Text.Json;
using Joinery.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Joinery.ServiceDefaults;

public static class ServiceDefaultsExtensions
{
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";

    public const string LivePath = "/health/live";
    public const string ReadyPath = "/health/ready";
    public const string MetricsPath = "/metrics";

    /// <summary>The standard variables that name an OTLP endpoint; with none of them set nothing is exported.</summary>
    public static readonly string[] OtlpEndpointVariables =
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    ];

    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        builder.AddDefaultTelemetry();
        return builder;
    }

    /// <summary>
    /// Traces, metrics and logs for every service. They are always collected (so trace ids exist, reach the logs and the
    /// status API, and /metrics has data); they leave the process over OTLP only when an OTLP endpoint variable is set.
    /// Everything else follows the standard OTEL_* variables (protocol, headers, batch delays, service name).
    /// </summary>
    public static IHostApplicationBuilder AddDefaultTelemetry(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;

        // Console and any other ILogger sink get the trace and span ids in their scope; OTLP log records carry them natively.
        builder.Logging.Configure(o => o.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                // Only a default: OTEL_SERVICE_NAME, read by the SDK's own detector, must keep precedence.
                if (!TelemetryServiceName.IsConfigured(configuration))
                    resource.AddService(TelemetryServiceName.FromApplicationName(builder.Environment.ApplicationName));
            })
            .WithTracing(tracing => tracing
                // Always sample, and follow the caller's decision: MassTransit writes its MT-Activity-Id header only for a
                // sampled span, so a ratio sampler anywhere would cut a signup's trace in two at the broker. This also
                // overrides any OTEL_TRACES_SAMPLER in the environment, on purpose.
                .SetSampler(new ParentBasedSampler(new AlwaysOnSampler()))
                .AddSource(JoineryTelemetry.MassTransitSourceName, JoineryTelemetry.SourceName)
                .AddProcessor(new SignupTagProcessor())
                .AddAspNetCoreInstrumentation(o =>
                {
                    o.Filter = ctx => !IsInfrastructurePath(ctx.Request.Path);
                    o.RecordException = true;
                })
                .AddHttpClientInstrumentation(o => o.RecordException = true))
            .WithMetrics(metrics => metrics
                .AddMeter(JoineryTelemetry.MassTransitSourceName, JoineryMetrics.MeterName, "System.Runtime")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddPrometheusExporter())
            .WithLogging(_ => { }, o =>
            {
                o.IncludeFormattedMessage = true;
                o.IncludeScopes = true;
            });

        if (OtlpEndpointVariables.Any(name => !string.IsNullOrWhiteSpace(configuration[name])))
            telemetry.UseOtlpExporter();
        return builder;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(LivePath, new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(LiveTag),
            ResponseWriter = WriteHealth,
        });
        app.MapHealthChecks(ReadyPath, new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(ReadyTag),
            ResponseWriter = WriteHealth,
            // A degraded bus (some endpoint not connected) is not ready to take traffic either.
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        });
        app.MapPrometheusScrapingEndpoint(MetricsPath);
        return app;
    }

    static bool IsInfrastructurePath(PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments(MetricsPath);

    /// <summary>The overall status and each check's status and description: what an SRE needs to see why a service is not ready.</summary>
    static Task WriteHealth(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}
