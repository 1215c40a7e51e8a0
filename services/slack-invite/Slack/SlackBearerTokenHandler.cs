using System.Net.Http.Headers;
using Microsoft.Extensions.Options;

namespace Joinery.SlackInvite.Slack;

/// <summary>
/// Adds the token on the way out so it lives only in options and on the wire: it is never part of the Refit
/// interface, of an exception message or of a log line. The bot methods (<c>users.lookupByEmail</c>,
/// <c>chat.postMessage</c>) get the bot token, the invite methods the user token.
/// </summary>
public sealed class SlackBearerTokenHandler(IOptionsMonitor<SlackOptions> options) : DelegatingHandler
{
    static readonly string[] BotMethods = ["users.lookupByEmail", "chat.postMessage"];

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var path = request.RequestUri?.AbsolutePath ?? "";
        var token = BotMethods.Any(m => path.EndsWith("/" + m, StringComparison.Ordinal)) ? settings.BotToken : settings.Token;
        request.Headers.Authorization = string.IsNullOrWhiteSpace(token) ? null : new AuthenticationHeaderValue("Bearer", token);
        return base.SendAsync(request, cancellationToken);
    }
}
