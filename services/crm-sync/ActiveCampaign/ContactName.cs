namespace Joinery.CrmSync.ActiveCampaign;

/// <summary>
/// The name rule: a full name is never split by guesswork. "Mary Ann Smith", "Ludwig van Beethoven", "Nguyễn Thị Minh
/// Khai" or "Madonna" cannot be cut at a space without getting some people wrong, so the whole name goes into
/// <c>firstName</c> and <c>lastName</c> stays empty, unless the person gave the two parts separately, in which case
/// they are used as given. (The signup form has one name field today, so every contact gets the whole name as its
/// first name; nothing the visitor typed is lost or reordered.)
/// </summary>
public readonly record struct ContactName(string FirstName, string LastName)
{
    public static ContactName From(string fullName, string? givenName = null, string? familyName = null) =>
        !string.IsNullOrWhiteSpace(givenName) && !string.IsNullOrWhiteSpace(familyName)
            ? new(givenName.Trim(), familyName.Trim())
            : new((fullName ?? "").Trim(), "");
}
