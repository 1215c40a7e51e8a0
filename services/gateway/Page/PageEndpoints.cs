using System.Text;
using System.Text.RegularExpressions;
using Joinery.Gateway.Abuse;

namespace Joinery.Gateway.Page;

/// <summary>
/// Serves the sign-up page from resources embedded in this assembly, so the page works the same whether the
/// gateway runs alone or inside the standalone host, with no static-files folder to find. The HTML is a template
/// filled with the texts of the visitor's language (see <see cref="PageTexts"/>); no inline script or style anywhere,
/// so the policy can forbid them outright.
/// </summary>
public static class PageEndpoints
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

    /// <summary>The page's policy when the CAPTCHA is on: the widget's script and frame from Cloudflare, and nothing else from anywhere else.</summary>
    public static readonly string CaptchaContentSecurityPolicy = ContentSecurityPolicy.Replace("script-src 'self';",
        $"script-src 'self' {CaptchaOptions.TurnstileOrigin}; frame-src {CaptchaOptions.TurnstileOrigin};");

    /// <summary>Optional parts of the template: <c>&lt;!--coc--&gt;</c> (code of conduct) and <c>&lt;!--captcha--&gt;</c> (the widget).</summary>
    static readonly Regex OptionalBlock = new(@"<!--(?<name>coc|captcha)-->(?<inner>.*?)<!--/\k<name>-->", RegexOptions.Singleline | RegexOptions.Compiled);

    public static IEndpointRouteBuilder MapSignupPage(this IEndpointRouteBuilder app)
    {
        var texts = app.ServiceProvider.GetRequiredService<PageTexts>();
        var configuration = app.ServiceProvider.GetRequiredService<IConfiguration>();
        var codeOfConduct = SignupPageOptions.CodeOfConductUrl(configuration);
        var captcha = app.ServiceProvider.GetRequiredService<CaptchaOptions>();
        var policy = captcha.IsEnabled ? CaptchaContentSecurityPolicy : ContentSecurityPolicy;

        // Rendered once per language at start-up: a missing text fails the start, not a visitor's request.
        var template = OptionalBlock.Replace(LoadText("Page.index.html"), m => m.Groups["name"].Value switch
        {
            "coc" when codeOfConduct is not null => m.Groups["inner"].Value,
            "captcha" when captcha.IsEnabled => m.Groups["inner"].Value,
            _ => "",
        });
        var values = new Dictionary<string, string?>
        {
            ["coc-url"] = codeOfConduct,
            ["captcha-sitekey"] = captcha.SiteKey,
            ["captcha-script"] = CaptchaOptions.TurnstileScript,
        };
        var pages = PageTexts.Languages.ToDictionary(l => l, l => Encoding.UTF8.GetBytes(texts.Render(template, l, values)));

        app.MapGet("/", (HttpContext context) =>
        {
            var language = ChooseLanguage(context);
            Secure(context.Response, policy);
            return Results.Bytes(pages[language], "text/html; charset=utf-8");
        });
        MapAsset(app, "/app.js", "Page.app.js", "text/javascript; charset=utf-8");
        MapAsset(app, "/app.css", "Page.app.css", "text/css; charset=utf-8");
        return app;
    }

    /// <summary>The visitor's language; an explicit choice (<c>?lang=</c>, the switch) is remembered in a cookie.</summary>
    public static string ChooseLanguage(HttpContext context)
    {
        var language = PageTexts.Choose(context.Request);
        if (PageTexts.IsSupported(context.Request.Query["lang"].ToString()))
            context.Response.Cookies.Append(PageTexts.LanguageCookie, language, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Lax,
                Secure = context.Request.IsHttps,
                MaxAge = TimeSpan.FromDays(365),
                IsEssential = true,
            });
        // The same URL answers in several languages: caches must keep them apart, and revalidate.
        context.Response.Headers.Vary = "Accept-Language, Cookie";
        context.Response.Headers.CacheControl = "no-cache";
        return language;
    }

    /// <summary>The headers every page and asset carries.</summary>
    public static void Secure(HttpResponse response, string contentSecurityPolicy = ContentSecurityPolicy)
    {
        response.Headers.ContentSecurityPolicy = contentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
    }

    public static void MapAsset(IEndpointRouteBuilder app, string path, string resource, string contentType)
    {
        var bytes = Load(resource);
        app.MapGet(path, (HttpContext context) =>
        {
            Secure(context.Response);
            context.Response.Headers.CacheControl = "no-cache";
            return Results.Bytes(bytes, contentType);
        });
    }

    public static string LoadText(string name) => Encoding.UTF8.GetString(Load(name));

    /// <summary>A resource embedded as <c>Joinery.Gateway.{name}</c>, e.g. <c>Page.app.js</c>.</summary>
    public static byte[] Load(string name)
    {
        var assembly = typeof(PageEndpoints).Assembly;
        using var stream = assembly.GetManifestResourceStream("Joinery.Gateway." + name)
            ?? throw new InvalidOperationException($"Embedded page resource {name} is missing");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
