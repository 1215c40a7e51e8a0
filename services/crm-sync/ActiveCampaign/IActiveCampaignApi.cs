using System.Text.Json;
using System.Text.Json.Serialization;
using Refit;

namespace Joinery.CrmSync.ActiveCampaign;

/// <summary>The ActiveCampaign API v3 calls crm-sync makes. Use <see cref="ActiveCampaignClient"/>, which limits the rate and classifies failures.</summary>
public interface IActiveCampaignApi
{
    /// <summary>Creates (201) or updates (200) the contact with this email.</summary>
    [Post("/api/3/contact/sync")]
    Task<IApiResponse<ContactEnvelope>> SyncContact([Body] ContactSyncRequest request, CancellationToken cancellationToken);

    /// <summary>Subscribes (status 1) the contact to a list; repeating it is harmless.</summary>
    [Post("/api/3/contactLists")]
    Task<IApiResponse> UpdateListStatus([Body] ContactListRequest request, CancellationToken cancellationToken);

    /// <summary>Adds a tag to the contact; repeating it is harmless.</summary>
    [Post("/api/3/contactTags")]
    Task<IApiResponse> AddTag([Body] ContactTagRequest request, CancellationToken cancellationToken);

    /// <summary>200 when deleted, 404 when it was already gone.</summary>
    [Delete("/api/3/contacts/{id}")]
    Task<IApiResponse> DeleteContact(string id, CancellationToken cancellationToken);
}

public sealed record ContactSyncRequest(ContactFields Contact);

public sealed record ContactFields(string Email, string FirstName, string LastName);

public sealed record ContactListRequest(ContactListFields ContactList);

/// <summary><c>status</c> 1 is "subscribed" (2 would unsubscribe).</summary>
public sealed record ContactListFields(string List, string Contact, int Status);

public sealed record ContactTagRequest(ContactTagFields ContactTag);

public sealed record ContactTagFields(string Contact, string Tag);

public sealed record ContactEnvelope(ContactBody? Contact);

/// <summary>ActiveCampaign sends ids as strings, but a number must not break the sync, hence the raw element.</summary>
public sealed record ContactBody(JsonElement Id)
{
    public string? IdText => Id.ValueKind switch
    {
        JsonValueKind.String => Id.GetString(),
        JsonValueKind.Number => Id.GetRawText(),
        _ => null,
    };
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ContactSyncRequest))]
[JsonSerializable(typeof(ContactListRequest))]
[JsonSerializable(typeof(ContactTagRequest))]
[JsonSerializable(typeof(ContactEnvelope))]
public sealed partial class ActiveCampaignJsonContext : JsonSerializerContext;
