using Microsoft.Extensions.Options;

namespace Joinery.CrmSync.ActiveCampaign;

/// <summary>
/// Adds the token on the way out so it lives only in options and on the wire: it is never part of the Refit
/// interface, of an exception message or of a log line.
/// </summary>
public sealed class ActiveCampaignApiTokenHandler(IOptionsMonitor<ActiveCampaignOptions> options) : DelegatingHandler
{
    public const string HeaderName = "Api-Token";

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Remove(HeaderName);
        var token = options.CurrentValue.ApiToken;
        if (!string.IsNullOrWhiteSpace(token))
            request.Headers.TryAddWithoutValidation(HeaderName, token);
        return base.SendAsync(request, cancellationToken);
    }
}
