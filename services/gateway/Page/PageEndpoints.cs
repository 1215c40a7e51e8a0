using System.Reflection;

namespace Joinery.Gateway.Page;

/// <summary>
/// Serves the sign-up page from resources embedded in this assembly, so the page works the same whether the
/// gateway runs alone or inside the standalone host, with no static-files folder to find.
/// </summary>
public static class PageEndpoints
{
    static readonly (string Path, string Resource, string ContentType)[] Files =
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/app.js", "app.js", "text/javascript; charset=utf-8"),
        ("/app.css", "app.css", "text/css; charset=utf-8"),
    ];

    public static IEndpointRouteBuilder MapSignupPage(this IEndpointRouteBuilder app)
    {
        foreach (var (path, resource, contentType) in Files)
        {
            var bytes = Load(resource);
            app.MapGet(path, (HttpContext context) =>
            {
                // No inline script or style anywhere, so the policy can forbid them outright.
                context.Response.Headers.ContentSecurityPolicy =
                    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
                context.Response.Headers.XContentTypeOptions = "nosniff";
                context.Response.Headers["Referrer-Policy"] = "no-referrer";
                return Results.Bytes(bytes, contentType);
            });
        }
        return app;
    }

    static byte[] Load(string name)
    {
        var assembly = typeof(PageEndpoints).Assembly;
        using var stream = assembly.GetManifestResourceStream("Joinery.Gateway.Page." + name)
            ?? throw new InvalidOperationException($"Embedded page resource {name} is missing");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
