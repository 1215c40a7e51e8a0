using System.Net.Http.Headers;
using Microsoft.Extensions.Options;

namespace Joinery.SlackInvite.Slack;

/// <summary>
/// Adds the token on the way out so it lives only in options and on the wire: it is never part of the Refit
/// interface, of an exception message or of a log line.
/// </summary>
public sealed class SlackBearerTokenHandler(IOptionsMonitor<SlackOptions> options) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = options.CurrentValue.Token;
        request.Headers.Authorization = string.IsNullOrWhiteSpace(token) ? null : new AuthenticationHeaderValue("Bearer", token);
        return base.SendAsync(request, cancellationToken);
    }
}
