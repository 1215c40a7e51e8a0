using System.Net;
using System.Text.Json;
using Joinery.ServiceDefaults.Retry;
using Microsoft.Extensions.Options;
using Refit;

namespace Joinery.CrmSync.ActiveCampaign;

/// <summary>What a sync came to: the contact (and whether this call created it), or a permanent refusal.</summary>
public sealed record ContactSyncResult(string? ContactId, bool Created, string? FailureReason)
{
    public bool Succeeded => FailureReason is null;

    public static ContactSyncResult Synced(string contactId, bool created) => new(contactId, created, null);

    public static ContactSyncResult Failed(string reason) => new(null, false, reason);
}

/// <summary>The client-side limit on the account: one per process, shared by every call (ActiveCampaign limits per account).</summary>
public sealed class ActiveCampaignRateLimit(IOptions<ActiveCampaignOptions> options, TimeProvider clock)
{
    public ApiRateLimiter Limiter { get; } =
        new("activecampaign", options.Value.RequestsPerSecond, options.Value.Retry.InProcessMaxDelay, clock);
}

/// <summary>
/// ActiveCampaign in the terms the consumers use. Every call waits for its client-side permit first; transient trouble
/// throws <see cref="TransientApiException"/> (carrying a 429's <c>Retry-After</c>, which also pauses the limiter); a
/// permanent refusal comes back as a reason such as <c>activecampaign:422:email_invalid</c> (see docs/integrations.md).
/// </summary>
public sealed class ActiveCampaignClient(IActiveCampaignApi api, IOptionsMonitor<ActiveCampaignOptions> options, ActiveCampaignRateLimit rateLimit)
{
    const string Prefix = "activecampaign";

    public bool IsConfigured => options.CurrentValue.IsConfigured;

    ApiRateLimiter Limiter => rateLimit.Limiter;

    public async Task<ContactSyncResult> SyncContact(string email, string name, CancellationToken cancellationToken)
    {
        // Never split by guesswork: see ContactName.
        var contactName = ContactName.From(name);
        var request = new ContactSyncRequest(new ContactFields(email, contactName.FirstName, contactName.LastName));
        using var response = await Send(() => api.SyncContact(request, cancellationToken), cancellationToken);

        if (!response.IsSuccessStatusCode)
            return ContactSyncResult.Failed(PermanentReason(response));

        // A success without an id gives compensation nothing to delete, and asking again would report "updated"
        // and so lose "created": refuse it as permanent rather than guess.
        if (response.Error is not null || response.Content?.Contact?.IdText is not { Length: > 0 } contactId)
            return ContactSyncResult.Failed($"{Prefix}:{Status(response)}:unreadable_response");

        return ContactSyncResult.Synced(contactId, created: response.StatusCode == HttpStatusCode.Created);
    }

    /// <summary>
    /// Subscribes the contact to the configured list, then adds the configured tags. Null when done (or nothing is
    /// configured), else the first permanent refusal, e.g. <c>activecampaign:404</c> for a list that does not exist.
    /// </summary>
    public async Task<string?> AddToListAndTags(string contactId, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        if (settings.ListId is { Length: > 0 } listId)
        {
            var request = new ContactListRequest(new ContactListFields(listId.Trim(), contactId, Status: 1));
            using var response = await Send(() => api.UpdateListStatus(request, cancellationToken), cancellationToken);
            if (!response.IsSuccessStatusCode)
                return PermanentReason(response);
        }
        foreach (var tag in settings.Tags)
        {
            var request = new ContactTagRequest(new ContactTagFields(contactId, tag));
            using var response = await Send(() => api.AddTag(request, cancellationToken), cancellationToken);
            if (!response.IsSuccessStatusCode)
                return PermanentReason(response);
        }
        return null;
    }

    /// <summary>Deletes the contact; one that is already gone counts as deleted. Throws <see cref="PermanentApiException"/> on a refusal.</summary>
    public async Task DeleteContact(string contactId, CancellationToken cancellationToken)
    {
        using var response = await Send(() => api.DeleteContact(contactId, cancellationToken), cancellationToken);
        if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotFound)
            return;
        throw new PermanentApiException(PermanentReason(response));
    }

    /// <summary>Waits for a permit, sends, and turns every transient outcome into <see cref="TransientApiException"/>.</summary>
    async Task<TResponse> Send<TResponse>(Func<Task<TResponse>> call, CancellationToken cancellationToken)
        where TResponse : IApiResponse
    {
        await Limiter.Acquire(cancellationToken);
        TResponse response;
        try
        {
            response = await call();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is ApiRequestException or HttpRequestException or OperationCanceledException)
        {
            // OperationCanceledException here is HttpClient's timeout, not the caller giving up.
            throw TransientApiException.From($"{Prefix}: the request failed before a response", ex);
        }

        if (response.HasRequestError(out var requestError))
        {
            response.Dispose();
            throw TransientApiException.From($"{Prefix}: the request failed before a response", requestError);
        }

        if (response.StatusCode is not { } status)
        {
            response.Dispose();
            throw new TransientApiException($"{Prefix}: no response was received");
        }

        if (IsTransient(status))
        {
            var retryAfter = RetryAfter(response);
            if (status == HttpStatusCode.TooManyRequests && retryAfter is { } after)
                Limiter.PauseFor(after);
            response.Dispose();
            throw new TransientApiException($"{Prefix}: answered {(int)status}", retryAfter: retryAfter);
        }

        return response;
    }

    static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    static int Status(IApiResponse response) => (int)(response.StatusCode ?? 0);

    static TimeSpan? RetryAfter(IApiResponse response)
    {
        var header = response.Headers?.RetryAfter;
        if (header?.Delta is { } delta)
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (header?.Date is { } date)
            return date > DateTimeOffset.UtcNow ? date - DateTimeOffset.UtcNow : TimeSpan.Zero;
        return null;
    }

    static string PermanentReason(IApiResponse response)
    {
        var body = response.HasResponseError(out var error) ? error.Content : null;
        var code = FirstErrorCode(body);
        return code is null ? $"{Prefix}:{Status(response)}" : $"{Prefix}:{Status(response)}:{code}";
    }

    /// <summary>The <c>code</c> of the first entry of ActiveCampaign's <c>errors</c> array, if the body has one.</summary>
    static string? FirstErrorCode(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
            return null;
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("errors", out var errors)
                && errors.ValueKind == JsonValueKind.Array
                && errors.GetArrayLength() > 0
                && errors[0].ValueKind == JsonValueKind.Object
                && errors[0].TryGetProperty("code", out var code)
                && code.ValueKind == JsonValueKind.String
                && code.GetString() is { Length: > 0 } text)
                return text;
        }
        catch (JsonException)
        {
            // An error page that is not JSON still yields a usable reason: the status alone.
        }
        return null;
    }
}
