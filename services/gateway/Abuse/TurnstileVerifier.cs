using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Joinery.Gateway.Abuse;

public enum CaptchaVerdict
{
    /// <summary>The verifier confirmed the token.</summary>
    Passed,

    /// <summary>The token is not good: invalid, expired or already used. The visitor solves the CAPTCHA again.</summary>
    Refused,

    /// <summary>No answer to trust (unreachable, 5xx, 429, not JSON, our secret refused): the signup waits (503).</summary>
    Unavailable,
}

/// <summary>
/// Cloudflare Turnstile's server-side validation: one form POST of <c>secret</c>, <c>response</c> and <c>remoteip</c>
/// to siteverify, answered <c>{"success", "error-codes", "challenge_ts", "hostname", "action", "cdata"}</c>. No retry:
/// a token is good once, and the visitor can simply send the form again.
/// </summary>
public sealed class TurnstileVerifier(HttpClient http, CaptchaOptions options, ILogger<TurnstileVerifier> logger)
{
    /// <summary>Turnstile tokens are at most 2048 characters; anything longer is refused without a call.</summary>
    public const int MaxTokenLength = 2048;

    /// <summary>Error codes that say the fault is ours (secret, request) or Cloudflare's, not the visitor's token.</summary>
    static readonly HashSet<string> NotTheVisitorsFault =
        ["missing-input-secret", "invalid-input-secret", "bad-request", "internal-error"];

    public async Task<CaptchaVerdict> Verify(string token, string? remoteIp, CancellationToken cancellationToken)
    {
        var fields = new List<KeyValuePair<string, string>> { new("secret", options.SecretKey!), new("response", token) };
        if (remoteIp is not null)
            fields.Add(new("remoteip", remoteIp)); // lets Cloudflare check the token came from this visitor; never stored
        try
        {
            using var content = new FormUrlEncodedContent(fields);
            using var response = await http.PostAsync(options.VerifyUrl, content, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                logger.LogWarning("The CAPTCHA verifier answered {StatusCode}", (int)response.StatusCode);
                return CaptchaVerdict.Unavailable;
            }
            var answer = await response.Content.ReadFromJsonAsync<SiteverifyAnswer>(cancellationToken);
            if (answer is null)
                return CaptchaVerdict.Unavailable;
            if (answer.Success)
                return CaptchaVerdict.Passed;
            var codes = answer.ErrorCodes ?? [];
            if (codes.Any(NotTheVisitorsFault.Contains))
            {
                logger.LogError("The CAPTCHA verifier refused our request ({ErrorCodes}): check Captcha:SecretKey", string.Join(",", codes));
                return CaptchaVerdict.Unavailable;
            }
            logger.LogInformation("Refused a signup: CAPTCHA not passed ({ErrorCodes})", string.Join(",", codes));
            return CaptchaVerdict.Refused;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or NotSupportedException
                                       || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The message only: an exception's text never carries the form body, but keep the log line short anyway.
            logger.LogWarning("The CAPTCHA verifier could not be reached: {Reason}", ex.GetType().Name + ": " + ex.Message);
            return CaptchaVerdict.Unavailable;
        }
    }

    sealed record SiteverifyAnswer(
        [property: JsonPropertyName("success")] bool Success,
        [property: JsonPropertyName("error-codes")] string[]? ErrorCodes,
        [property: JsonPropertyName("challenge_ts")] string? ChallengeTs,
        [property: JsonPropertyName("hostname")] string? Hostname,
        [property: JsonPropertyName("action")] string? Action,
        [property: JsonPropertyName("cdata")] string? Cdata);
}
