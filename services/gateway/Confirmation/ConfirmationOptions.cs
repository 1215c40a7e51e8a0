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

/// <summary>
/// The gateway's SMTP settings for the confirmation mail: the same <c>Smtp:*</c> keys as slack-invite's invite-link
/// mail, so one mail server serves both (and in the standalone host one section configures both).
/// </summary>
public sealed class ConfirmationSmtpOptions
{
    public const string Section = "Smtp";

    public string? Host { get; set; }
    public int Port { get; set; } = 587;
    public string? From { get; set; }
    public string? User { get; set; }
    public string? Password { get; set; }
    /// <summary>None, StartTls, SslOnConnect, or Auto (STARTTLS when offered; TLS on connect for port 465).</summary>
    public string Security { get; set; } = "Auto";
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}
