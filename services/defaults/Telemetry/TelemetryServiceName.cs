using System.Text;
using Microsoft.Extensions.Configuration;

namespace Joinery.ServiceDefaults.Telemetry;

/// <summary>
/// The service name on every span, metric and log. <c>OTEL_SERVICE_NAME</c> (or <c>service.name</c> in
/// <c>OTEL_RESOURCE_ATTRIBUTES</c>) wins, as the OpenTelemetry specification says; without it the name comes from the
/// application, so that every process still reports under its own name: <c>Joinery.CrmSync</c> is <c>crm-sync</c>,
/// the same names docker-compose gives them.
/// </summary>
public static class TelemetryServiceName
{
    /// <summary>True when the environment already names the service, so the SDK's own detector must be left to do it.</summary>
    public static bool IsConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_SERVICE_NAME"])
        || (configuration["OTEL_RESOURCE_ATTRIBUTES"] ?? "").Split(',')
            .Any(pair => pair.Split('=', 2)[0].Trim() == "service.name");

    /// <summary><c>Joinery.SlackInvite</c> → <c>slack-invite</c>; other names are kebab-cased the same way.</summary>
    public static string FromApplicationName(string? applicationName)
    {
        if (string.IsNullOrWhiteSpace(applicationName))
            return "joinery";
        var name = applicationName.StartsWith("Joinery.", StringComparison.Ordinal) ? applicationName["Joinery.".Length..] : applicationName;
        var result = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c) && i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1])))
                result.Append('-');
            result.Append(c is '.' or '_' or ' ' ? '-' : char.ToLowerInvariant(c));
        }
        return result.ToString();
    }
}
