using System.Text.RegularExpressions;

namespace Joinery.FakeApis;

/// <summary>
/// A deliberately plain syntax check shared by both fakes, so that a test can count on one rule: something@label.label.
/// The real services are stricter in odd corners; tests that need a refusal should configure a failure instead.
/// </summary>
public static partial class EmailSyntax
{
    public static bool IsValid(string? email) =>
        email is { Length: > 0 and <= 254 } && Pattern().IsMatch(email.Trim());

    /// <summary>The form both fakes compare emails in: trimmed and case-folded.</summary>
    public static string Normalize(string email) => email.Trim().ToLowerInvariant();

    [GeneratedRegex(@"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
