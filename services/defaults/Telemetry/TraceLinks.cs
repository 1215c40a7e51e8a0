using Microsoft.Extensions.Configuration;

namespace Joinery.ServiceDefaults.Telemetry;

/// <summary>Links from a trace id to the trace UI. <c>Jaeger:BaseUrl</c> is Jaeger's UI root, e.g. http://localhost:16686.</summary>
public static class TraceLinks
{
    public const string JaegerBaseUrlKey = "Jaeger:BaseUrl";

    /// <summary><c>{Jaeger:BaseUrl}/trace/{traceId}</c>, or null when either is missing or the base is not an absolute http(s) URL.</summary>
    public static string? JaegerTraceUrl(IConfiguration configuration, string? traceId) =>
        JaegerTraceUrl(configuration[JaegerBaseUrlKey], traceId);

    public static string? JaegerTraceUrl(string? baseUrl, string? traceId)
    {
        if (string.IsNullOrWhiteSpace(baseUrl) || string.IsNullOrWhiteSpace(traceId))
            return null;
        if (!Uri.TryCreate(baseUrl.Trim(), UriKind.Absolute, out var root) || root.Scheme is not ("http" or "https"))
            return null;
        // A trace id is 32 hex digits; anything else is not put into a URL.
        if (traceId.Length != 32 || !traceId.All(char.IsAsciiHexDigit))
            return null;
        return $"{root.ToString().TrimEnd('/')}/trace/{traceId.ToLowerInvariant()}";
    }
}
