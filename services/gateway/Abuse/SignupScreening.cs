using System.Text.Json;
using Joinery.Gateway.Api;
using Joinery.Gateway.Page;

namespace Joinery.Gateway.Abuse;

/// <summary>
/// The checks a valid signup passes before anything is recorded: its email domain (<see cref="EmailDomainPolicy"/>),
/// then, when configured, the CAPTCHA token (<see cref="TurnstileVerifier"/>), the only check that calls out, so last.
/// A refusal is a 400 with a field error in the page's language; a verifier we cannot trust right now is a 503.
/// </summary>
public sealed class SignupScreening(EmailDomainPolicy domains, CaptchaOptions captcha, TurnstileVerifier verifier, PageTexts texts,
    ILogger<SignupScreening> logger)
{
    /// <summary>The JSON field that carries the widget's token (the page copies Turnstile's <c>cf-turnstile-response</c> into it).</summary>
    public const string CaptchaField = "captchaToken";

    public const string CaptchaMissingMessage = "Complete the CAPTCHA to sign up.";
    public const string CaptchaNotStringMessage = "CAPTCHA token must be a string.";
    public const string CaptchaRefusedMessage = "The CAPTCHA check failed or expired. Please complete it again.";

    /// <summary>How long a visitor is asked to wait when the verifier cannot be trusted right now.</summary>
    public static readonly TimeSpan UnavailableRetryAfter = TimeSpan.FromSeconds(30);

    /// <summary>Null when the signup may be recorded; else the answer to send.</summary>
    public async Task<IResult?> Screen(HttpRequest request, JsonElement body, ValidSignup signup, CancellationToken cancellationToken)
    {
        if (domains.Refusal(signup.NormalizedEmail) is { } refusal)
        {
            logger.LogInformation("Refused a signup: {Reason}", refusal);
            return Invalid(request, "email", refusal);
        }
        if (!captcha.IsEnabled)
            return null;

        var (token, problem) = ReadToken(body);
        if (problem is not null)
            return Invalid(request, CaptchaField, problem);
        return await verifier.Verify(token!, request.HttpContext.Connection.RemoteIpAddress?.ToString(), cancellationToken) switch
        {
            CaptchaVerdict.Passed => null,
            CaptchaVerdict.Refused => Invalid(request, CaptchaField, CaptchaRefusedMessage),
            _ => new SignupRateLimiting.RetryAfterResult(UnavailableRetryAfter, TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable, title: "Temporarily unavailable",
                detail: "The CAPTCHA could not be checked. Please try again shortly.")),
        };
    }

    /// <summary>The token, or why there is none worth sending to the verifier.</summary>
    static (string? Token, string? Problem) ReadToken(JsonElement body)
    {
        foreach (var property in body.EnumerateObject())
        {
            if (!string.Equals(property.Name, CaptchaField, StringComparison.OrdinalIgnoreCase))
                continue;
            var value = property.Value;
            if (value.ValueKind == JsonValueKind.Null)
                break;
            if (value.ValueKind != JsonValueKind.String)
                return (null, CaptchaNotStringMessage);
            var token = value.GetString()!.Trim();
            if (token.Length == 0)
                break;
            return token.Length > TurnstileVerifier.MaxTokenLength || token.Any(char.IsControl)
                ? (null, CaptchaRefusedMessage)
                : (token, null);
        }
        return (null, CaptchaMissingMessage);
    }

    IResult Invalid(HttpRequest request, string field, string message) =>
        TypedResults.ValidationProblem(
            texts.Translate(PageTexts.FromAcceptLanguage(request.Headers.AcceptLanguage), new Dictionary<string, string[]> { [field] = [message] }),
            title: "The signup has invalid fields.");
}

public static class SignupScreeningRegistration
{
    /// <summary>The email domain lists, the optional CAPTCHA and its verifier (a typed HttpClient, one attempt, a timeout).</summary>
    public static IHostApplicationBuilder AddSignupScreening(this IHostApplicationBuilder builder)
    {
        var captcha = (builder.Configuration.GetSection(CaptchaOptions.Section).Get<CaptchaOptions>() ?? new CaptchaOptions()).Validated();
        builder.Services.AddSingleton(captcha);
        builder.Services.AddSingleton(EmailDomainPolicy.From(builder.Configuration));
        builder.Services.AddHttpClient<TurnstileVerifier>(client => client.Timeout = captcha.Timeout);
        builder.Services.AddScoped<SignupScreening>();
        return builder;
    }
}
