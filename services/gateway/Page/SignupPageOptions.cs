namespace Joinery.Gateway.Page;

/// <summary>
/// <c>Signup:CodeOfConductUrl</c>: when set, the page shows a code-of-conduct checkbox linking there and the API
/// requires <c>codeOfConduct: true</c>. An absolute http(s) URL or a path on this site (starting with one '/').
/// </summary>
public static class SignupPageOptions
{
    public const string CodeOfConductUrlKey = "Signup:CodeOfConductUrl";

    /// <summary>The configured link, or null when there is no code of conduct; throws when it is not a safe link.</summary>
    public static string? CodeOfConductUrl(IConfiguration configuration)
    {
        var value = configuration[CodeOfConductUrlKey]?.Trim();
        if (string.IsNullOrEmpty(value))
            return null;
        var isLocalPath = value.StartsWith('/') && !value.StartsWith("//") && !value.Contains('\\');
        var isWebUrl = Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
        if (!isLocalPath && !isWebUrl)
            throw new InvalidOperationException(
                $"{CodeOfConductUrlKey} must be an absolute http(s) URL or a path starting with '/', not '{value}'.");
        return value;
    }

    public static bool RequiresCodeOfConduct(IConfiguration configuration) => CodeOfConductUrl(configuration) is not null;
}
