namespace Joinery.ServiceDefaults.Mail;

public enum SmtpSecurity { Auto, None, StartTls, SslOnConnect }

/// <summary>
/// Configuration section <c>Smtp</c>: the mail server every service that mails goes through (slack-invite's invite
/// link, the gateway's confirmation link), so one server and one section serve both. The password is never logged.
/// </summary>
public sealed class SmtpOptions
{
    public const string Section = "Smtp";

    public string? Host { get; set; }
    public int Port { get; set; } = 587;
    public string? From { get; set; }
    public string? User { get; set; }
    public string? Password { get; set; }

    /// <summary>Auto: STARTTLS when the server offers it (TLS on connect for port 465).</summary>
    public SmtpSecurity Security { get; set; } = SmtpSecurity.Auto;

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}
