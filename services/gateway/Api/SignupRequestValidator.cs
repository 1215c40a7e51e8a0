using System.Globalization;
using System.Net.Mail;
using System.Text.Json;

namespace Joinery.Gateway.Api;

public sealed record ValidSignup(string Name, string Email, string NormalizedEmail);

/// <summary>
/// Reads the JSON body by hand so that every problem is reported per field, with wrong types included, instead of
/// a generic binding failure.
/// </summary>
public static class SignupRequestValidator
{
    public const int MaxNameLength = 100;
    public const int MaxEmailLength = 254;

    /// <summary>The hidden field of the page that people leave empty and form-filling bots do not.</summary>
    public const string HoneypotField = "website";

    /// <param name="requireCodeOfConduct">When a code of conduct is configured, <c>codeOfConduct</c> must be true.</param>
    public static (ValidSignup? Signup, Dictionary<string, string[]> Errors) Validate(JsonElement body, bool requireCodeOfConduct = false)
    {
        var errors = new Dictionary<string, string[]>();
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors["body"] = ["The body must be a JSON object with name, email and consent."];
            return (null, errors);
        }

        var name = ReadString(body, "name", errors)?.Trim();
        if (name is not null)
        {
            var length = new StringInfo(name).LengthInTextElements;
            if (length == 0)
                errors["name"] = ["Name is required."];
            else if (length > MaxNameLength)
                errors["name"] = [$"Name must be at most {MaxNameLength} characters."];
            else if (name.Any(char.IsControl))
                errors["name"] = ["Name must not contain control characters."];
        }

        var email = ReadString(body, "email", errors)?.Trim();
        if (email is not null && !IsEmail(email))
            errors["email"] = [email.Length == 0 ? "Email is required." : "Email is not a valid address."];

        if (!TryGetProperty(body, "consent", out var consent))
            errors["consent"] = ["Consent is required."];
        else if (consent.ValueKind != JsonValueKind.True)
            errors["consent"] = [consent.ValueKind == JsonValueKind.False
                ? "You must consent to be contacted to sign up."
                : "Consent must be true or false."];

        if (requireCodeOfConduct)
        {
            if (!TryGetProperty(body, "codeOfConduct", out var accepted) || accepted.ValueKind is JsonValueKind.False or JsonValueKind.Null)
                errors["codeOfConduct"] = ["You must accept the code of conduct to sign up."];
            else if (accepted.ValueKind != JsonValueKind.True)
                errors["codeOfConduct"] = ["Code of conduct must be true or false."];
        }

        return errors.Count > 0
            ? (null, errors)
            : (new ValidSignup(name!, email!, Normalize(email!)), errors);
    }

    /// <summary>True when the honeypot field holds anything but an empty (or blank) string: a bot filled it in.</summary>
    public static bool IsHoneypotFilled(JsonElement body) =>
        body.ValueKind == JsonValueKind.Object && TryGetProperty(body, HoneypotField, out var value) && value.ValueKind switch
        {
            JsonValueKind.Null => false,
            JsonValueKind.String => !string.IsNullOrWhiteSpace(value.GetString()),
            _ => true,
        };

    public static string Normalize(string email) => email.Trim().ToLowerInvariant();

    public static bool IsEmail(string email)
    {
        if (email.Length is 0 or > MaxEmailLength || email.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            return false;
        if (!MailAddress.TryCreate(email, out var address) || address.Address != email || address.DisplayName.Length > 0)
            return false;
        var domain = address.Host;
        // MailAddress accepts dotless and bracketed hosts; a signup needs a real, public-looking domain.
        return domain.Contains('.') && !domain.StartsWith('.') && !domain.EndsWith('.') && !domain.Contains("..")
            && !domain.StartsWith('[') && !address.User.StartsWith('.') && !address.User.EndsWith('.') && !address.User.Contains("..");
    }

    static string? ReadString(JsonElement body, string field, Dictionary<string, string[]> errors)
    {
        if (!TryGetProperty(body, field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            errors[field] = [$"{Capitalize(field)} is required."];
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            errors[field] = [$"{Capitalize(field)} must be a string."];
            return null;
        }
        return value.GetString();
    }

    // Property names are matched case-insensitively, as ASP.NET Core's own JSON binding does.
    static bool TryGetProperty(JsonElement body, string field, out JsonElement value)
    {
        foreach (var property in body.EnumerateObject())
            if (string.Equals(property.Name, field, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        value = default;
        return false;
    }

    static string Capitalize(string s) => char.ToUpperInvariant(s[0]) + s[1..];
}
