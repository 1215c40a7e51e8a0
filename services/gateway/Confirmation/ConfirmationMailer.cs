using System.Net.Sockets;
using Joinery.Contracts;
using Joinery.Gateway.Page;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Joinery.Gateway.Confirmation;

/// <summary>
/// Mails the confirmation link over SMTP (MailKit). Returns null once the server took the mail, a permanent refusal
/// (<c>smtp:550</c>, <c>smtp:not_configured</c>...) otherwise; a transient trouble throws, for the consumer's retry.
/// </summary>
public sealed class ConfirmationMailer(IOptionsMonitor<ConfirmationSmtpOptions> smtpOptions, IOptions<ConfirmationOptions> options, PageTexts texts)
{
    public async Task<string?> Send(SendConfirmationMail command, CancellationToken cancellationToken)
    {
        var smtp = smtpOptions.CurrentValue;
        if (string.IsNullOrWhiteSpace(smtp.Host) || string.IsNullOrWhiteSpace(smtp.From) || options.Value.BaseUri is null)
            return "smtp:not_configured";

        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(smtp.From));
        message.To.Add(new MailboxAddress(command.Name, command.Email));
        message.Subject = string.Join(" / ", PageTexts.Languages.Select(l => texts.Text(l, "mail.confirm.subject")).Distinct());
        // Plain text only (the name is the visitor's own input, never rendered as HTML), in every language of the page:
        // the saga does not know which one the visitor read.
        var link = Link(options.Value.BaseUri!, command.SignupId, command.Token);
        message.Body = new TextPart("plain")
        {
            Text = string.Join("\n\n----\n\n", PageTexts.Languages.Select(l => texts.Text(l, "mail.confirm.body")
                .Replace("{name}", command.Name)
                .Replace("{link}", link)
                .Replace("{expires}", command.ExpiresAt.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'")))),
        };

        using var client = new SmtpClient { Timeout = (int)smtp.Timeout.TotalMilliseconds };
        try
        {
            await client.ConnectAsync(smtp.Host, smtp.Port, Security(smtp), cancellationToken);
            if (!string.IsNullOrEmpty(smtp.User))
                await client.AuthenticateAsync(smtp.User, smtp.Password ?? "", cancellationToken);
            await client.SendAsync(message, cancellationToken);
            await client.DisconnectAsync(quit: true, cancellationToken);
            return null;
        }
        catch (SmtpCommandException ex) when ((int)ex.StatusCode is >= 500 and < 600)
        {
            // 5xx: the server will never take this mail (unknown mailbox, relay denied...).
            return $"smtp:{(int)ex.StatusCode}";
        }
        catch (AuthenticationException)
        {
            // Never the credentials themselves in the reason or the logs.
            return "smtp:authentication_failed";
        }
        catch (Exception ex) when (ex is SmtpCommandException or SmtpProtocolException or ServiceNotConnectedException or IOException
                                       or SocketException or TimeoutException or SslHandshakeException
                                       || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Transient (4xx, connection trouble): the message is retried. Not the message's text: it holds the link.
            throw new TransientMailException($"smtp: the mail could not be handed over ({ex.GetType().Name})");
        }
    }

    /// <summary>
    /// The link mailed to the visitor: the page that asks to confirm (a GET never confirms: mail scanners fetch links).
    /// The token is in the fragment, which browsers never send: it stays out of every access log on the way (ingress,
    /// proxies, ASP.NET Core's request log) and out of prefetches; the page's script reads it and posts it.
    /// </summary>
    public static string Link(Uri baseUri, Guid signupId, string token) =>
        $"{baseUri.ToString().TrimEnd('/')}/confirm?id={signupId}#token={Uri.EscapeDataString(token)}";

    static SecureSocketOptions Security(ConfirmationSmtpOptions smtp) => smtp.Security.Trim().ToLowerInvariant() switch
    {
        "none" => SecureSocketOptions.None,
        "starttls" => SecureSocketOptions.StartTls,
        "sslonconnect" => SecureSocketOptions.SslOnConnect,
        _ => SecureSocketOptions.Auto,
    };
}

/// <summary>The mail server could not take the mail this time; the consumer's retry tries again.</summary>
public sealed class TransientMailException(string message) : Exception(message);

/// <summary>The mail server refused the mail for good; the command faults and the saga fails the signup.</summary>
public sealed class ConfirmationMailRefusedException(string reason) : Exception(reason)
{
    public string Reason { get; } = reason;
}
