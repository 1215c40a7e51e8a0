using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using Microsoft.Net.Http.Headers;

namespace Joinery.Gateway.Page;

/// <summary>
/// Every text the pages show, per language, from the JSON resources embedded beside them (Page/i18n/*.json):
/// <c>texts</c> maps a key to the text, <c>validation</c> maps each English message of the signup API to its
/// translation (the way .resx resources key on the source text), so the inline errors follow the page's language.
/// </summary>
public sealed class PageTexts
{
    public const string DefaultLanguage = "en";
    public const string LanguageCookie = "joinery-lang";
    public static readonly IReadOnlyList<string> Languages = ["en", "fr"];

    /// <summary>Keeps every letter readable in the HTML; only what HTML needs escaped (&lt; &gt; &amp; quotes) is.</summary>
    public static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);

    static readonly JsonSerializerOptions DataBlockJson = new() { Encoder = JavaScriptEncoder.Default };
    static readonly Regex Placeholder = new(@"\{\{(?:(?<kind>t|current):(?<arg>[\w.-]+)|(?<kind>lang|texts|admin-texts)|(?<kind>v):(?<arg>[\w.-]+))\}\}",
        RegexOptions.Compiled);

    readonly Dictionary<string, Dictionary<string, string>> _texts = new();
    readonly Dictionary<string, Dictionary<string, string>> _validation = new();
    readonly Dictionary<string, string> _json = new();
    readonly Dictionary<string, string> _adminJson = new();

    PageTexts(IEnumerable<(string Language, Stream Json)> resources)
    {
        foreach (var (language, stream) in resources)
        {
            using var document = JsonDocument.Parse(stream);
            _texts[language] = document.RootElement.GetProperty("texts").EnumerateObject()
                .ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
            _validation[language] = document.RootElement.TryGetProperty("validation", out var validation)
                ? validation.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "")
                : [];
        }
        foreach (var language in Languages)
        {
            if (!_texts.ContainsKey(language))
                throw new InvalidOperationException($"The page has no texts for {language}");
            var all = For(language);
            // The visitor's page carries only its own texts; the admin page carries everything.
            _json[language] = JsonSerializer.Serialize(all.Where(e => !e.Key.StartsWith("admin.", StringComparison.Ordinal))
                .ToDictionary(e => e.Key, e => e.Value), DataBlockJson);
            _adminJson[language] = JsonSerializer.Serialize(all, DataBlockJson);
        }
    }

    /// <summary>Loads the resources embedded in the gateway assembly.</summary>
    public static PageTexts Load()
    {
        var assembly = typeof(PageTexts).Assembly;
        var streams = Languages.Select(language => (language,
            assembly.GetManifestResourceStream($"Joinery.Gateway.Page.i18n.{language}.json")
            ?? throw new InvalidOperationException($"Embedded page texts {language}.json are missing"))).ToList();
        try
        {
            return new PageTexts(streams);
        }
        finally
        {
            foreach (var (_, stream) in streams)
                stream.Dispose();
        }
    }

    /// <summary>Every key of <paramref name="language"/>, English filling any gap.</summary>
    public IReadOnlyDictionary<string, string> For(string language)
    {
        var merged = new Dictionary<string, string>(_texts[DefaultLanguage]);
        if (language != DefaultLanguage && _texts.TryGetValue(language, out var own))
            foreach (var (key, text) in own)
                merged[key] = text;
        return merged;
    }

    public IReadOnlyCollection<string> Keys(string language) => _texts[language].Keys;

    public IReadOnlyCollection<string> ValidationMessages(string language) => _validation[language].Keys;

    public string Text(string language, string key) =>
        _texts.GetValueOrDefault(language)?.GetValueOrDefault(key)
        ?? _texts[DefaultLanguage].GetValueOrDefault(key)
        ?? throw new KeyNotFoundException($"No page text {key}");

    /// <summary>The API's English validation message in <paramref name="language"/>; the English one when it has no translation.</summary>
    public string Translate(string language, string englishMessage) =>
        _validation.GetValueOrDefault(language)?.GetValueOrDefault(englishMessage) ?? englishMessage;

    public Dictionary<string, string[]> Translate(string language, IDictionary<string, string[]> errors) =>
        errors.ToDictionary(e => e.Key, e => e.Value.Select(m => Translate(language, m)).ToArray());

    public static bool IsSupported(string? language) => language is not null && Languages.Contains(language);

    /// <summary>The page's language: <c>?lang=</c>, else the language cookie (the switch), else Accept-Language, else English.</summary>
    public static string Choose(HttpRequest request)
    {
        if (Normalize(request.Query["lang"].ToString()) is { } fromQuery)
            return fromQuery;
        if (Normalize(request.Cookies[LanguageCookie]) is { } fromCookie)
            return fromCookie;
        return FromAcceptLanguage(request.Headers.AcceptLanguage.ToString());
    }

    /// <summary>The supported language the header prefers most (q=0 means "not this one"); English when none is named.</summary>
    public static string FromAcceptLanguage(string? header)
    {
        if (string.IsNullOrWhiteSpace(header) || !StringWithQualityHeaderValue.TryParseList(header.Split(','), out var values))
            return DefaultLanguage;
        return values
            .Select((v, order) => (Language: Normalize(v.Value.ToString()), Quality: v.Quality ?? 1.0, Order: order))
            .Where(v => v.Language is not null && v.Quality > 0)
            .OrderByDescending(v => v.Quality).ThenBy(v => v.Order)
            .Select(v => v.Language!)
            .FirstOrDefault() ?? DefaultLanguage;
    }

    static string? Normalize(string? tag)
    {
        if (string.IsNullOrWhiteSpace(tag))
            return null;
        var primary = tag.Trim().Split('-', '_')[0].ToLowerInvariant();
        return IsSupported(primary) ? primary : null;
    }

    /// <summary>
    /// Fills a page template: <c>{{t:key}}</c> a text (HTML-escaped), <c>{{v:name}}</c> a value given by the caller
    /// (HTML-escaped), <c>{{current:xx}}</c> marks the link of the current language, <c>{{lang}}</c> the language,
    /// <c>{{texts}}</c> the visitor page's texts (<c>{{admin-texts}}</c>: all of them) as JSON for the script, in a
    /// data block that CSP does not execute, escaped so that nothing in it can close the block.
    /// </summary>
    public string Render(string template, string language, IReadOnlyDictionary<string, string?>? values = null) =>
        Placeholder.Replace(template, m =>
        {
            var arg = m.Groups["arg"].Value;
            return m.Groups["kind"].Value switch
            {
                "t" => Html.Encode(Text(language, arg)),
                "v" => values is not null && values.TryGetValue(arg, out var value)
                    ? Html.Encode(value ?? "")
                    : throw new KeyNotFoundException($"The template needs a value {arg}"),
                "current" => arg == language ? "aria-current=\"true\"" : "",
                "lang" => language,
                "texts" => _json[language],
                "admin-texts" => _adminJson[language],
                _ => m.Value,
            };
        });
}
