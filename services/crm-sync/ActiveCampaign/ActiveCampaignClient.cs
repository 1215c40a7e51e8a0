using System.Net;
using System.Text.Json;
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

/// <summary>
/// ActiveCampaign in the terms the consumers use. Transient trouble throws <see cref="TransientApiException"/> for the
/// message retry; a permanent refusal comes back as a reason such as <c>activecampaign:422:email_invalid</c>.
/// </summary>
public sealed class ActiveCampaignClient(IActiveCampaignApi api, IOptionsMonitor<ActiveCampaignOptions> options)
{
    const string Prefix = "activecampaign";

    public bool IsConfigured => options.CurrentValue.IsConfigured;

    public async Task<ContactSyncResult> SyncContact(string email, string name, CancellationToken cancellationToken)
    {
        // Until names are split properly the whole name goes in firstName, so nothing the visitor typed is lost.
        var request = new ContactSyncRequest(new ContactFields(email, name, ""));
        using var response = await Send(() => api.SyncContact(request, cancellationToken), cancellationToken);

        if (!response.IsSuccessStatusCode)
            return ContactSyncResult.Failed(PermanentReason(response));

        // A success without an id gives compensation nothing to delete, and asking again would report "updated"
        // and so lose "created": refuse it as permanent rather than guess.
        if (response.Error is not null || response.Content?.Contact?.IdText is not { Length: > 0 } contactId)
            return ContactSyncResult.Failed($"{Prefix}:{Status(response)}:unreadable_response");

        return ContactSyncResult.Synced(contactId, created: response.StatusCode == HttpStatusCode.Created);
    }

    /// <summary>Deletes the contact; one that is already gone counts as deleted. Throws <see cref="PermanentApiException"/> on a refusal.</summary>
    public async Task DeleteContact(string contactId, CancellationToken cancellationToken)
    {
        using var response = await Send(() => api.DeleteContact(contactId, cancellationToken), cancellationToken);
        if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotFound)
            return;
        throw new PermanentApiException(PermanentReason(response));
    }

    /// <summary>Sends, and turns every transient outcome into <see cref="TransientApiException"/>.</summary>
    static async Task<TResponse> Send<TResponse>(Func<Task<TResponse>> call, CancellationToken cancellationToken)
        where TResponse : IApiResponse
    {
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
            response.Dispose();
            throw new TransientApiException($"{Prefix}: answered {(int)status}");
        }

        return response;
    }

    static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    static int Status(IApiResponse response) => (int)(response.StatusCode ?? 0);

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
