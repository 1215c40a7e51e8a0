namespace Joinery.Gateway.Confirmation;

/// <summary>Double opt-in: <c>Signup:ConfirmEmail</c> and where the mailed link points (<c>Signup:PublicBaseUrl</c>).</summary>
public sealed class ConfirmationOptions
{
    public const string Section = "Signup";

    /// <summary>True: nothing reaches the CRM or Slack until the visitor followed the link mailed to them.</summary>
    public bool ConfirmEmail { get; set; }

    /// <summary>The page's public address as visitors reach it (e.g. <c>https://join.example.org</c>); the link is <c>{it}/confirm?id=…&amp;token=…</c>.</summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>The link's base, or null when <see cref="PublicBaseUrl"/> is not an absolute http(s) URL.</summary>
    public Uri? BaseUri =>
        Uri.TryCreate(PublicBaseUrl?.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : null;
}
