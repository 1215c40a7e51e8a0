namespace Joinery.Gateway.Abuse;

/// <summary>
/// The security headers every gateway response carries (pages, assets, API answers, problems, 404s, redirects,
/// health, metrics). Each is set only where the endpoint has not chosen its own, when the response starts, so that
/// the pages keep their page policy (PageEndpoints) and the badge stays embeddable, while everything else gets the
/// strictest one: a JSON answer or an error page has nothing to run, load or be framed in.
/// </summary>
public static class SecurityHeaders
{
    /// <summary>For responses that are not pages: nothing may load, nothing may frame them.</summary>
    public const string DefaultContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    /// <summary>One year, as HSTS preload lists expect; sent only over HTTPS, where a browser honours it.</summary>
    public const string StrictTransportSecurity = "max-age=31536000; includeSubDomains";

    public static readonly IReadOnlyDictionary<string, string> Defaults = new Dictionary<string, string>
    {
        ["X-Content-Type-Options"] = "nosniff",
        ["Referrer-Policy"] = "no-referrer",
        ["X-Frame-Options"] = "DENY",
        ["Content-Security-Policy"] = DefaultContentSecurityPolicy,
        ["Cross-Origin-Opener-Policy"] = "same-origin",
        ["Cross-Origin-Resource-Policy"] = "same-origin",
    };

    /// <summary>Registered first in <c>MapGateway</c>, so that it sees every response, whatever answers it.</summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Response.OnStarting(static state =>
        {
            var context = (HttpContext)state;
            var headers = context.Response.Headers;
            foreach (var (name, value) in Defaults)
                headers.TryAdd(name, value);
            if (context.Request.IsHttps)
                headers.TryAdd("Strict-Transport-Security", StrictTransportSecurity);
            return Task.CompletedTask;
        }, context);
        return next(context);
    });
}
