using System.Net.Sockets;
using Joinery.SlackInvite.Slack;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using Joinery.ServiceDefaults.Retry;

namespace Joinery.SlackInvite.InviteLink;

/// <summary>Sends the invite-link email through SMTP (MailKit). Null when sent, else a permanent refusal such as <c>smtp:550</c>.</summary>
public sealed class InviteLinkMailer(IOptionsMonitor<SmtpOptions> smtpOptions, IOptionsMonitor<SlackOptions> slackOptions)
{
    public async Task<string?> Send(string email, string name, string link, CancellationToken cancellationToken)
    {
        var smtp = smtpOptions.CurrentValue;
        var workspace = string.IsNullOrWhiteSpace(slackOptions.CurrentValue.WorkspaceName) ? "our Slack workspace" : slackOptions.CurrentValue.WorkspaceName!.Trim();

        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(smtp.From!));
        message.To.Add(new MailboxAddress(name, email));
        message.Subject = $"Your invitation to {workspace}";
        // Plain text only: the name is the visitor's own input and is never rendered as HTML.
        message.Body = new TextPart("plain")
        {
            Text = $"""
                Hello {name},

                Thank you for signing up. Join {workspace} on Slack with this link:

                {link}

                If you did not sign up, you can ignore this email.
                """,
        };

        using var client = new SmtpClient { Timeout = (int)smtp.Timeout.TotalMilliseconds };
        try
        {
            await client.ConnectAsync(smtp.Host!, smtp.Port, Security(smtp), cancellationToken);
            if (!string.IsNullOrEmpty(smtp.User))
                await client.AuthenticateAsync(smtp.User, smtp.Password ?? "", cancellationToken);
            await client.SendAsync(message, cancellationToken);
            await client.DisconnectAsync(quit: true, cancellationToken);
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (SmtpCommandException ex) when ((int)ex.StatusCode is >= 500 and < 600)
        {
            // 5xx: the server will never take this mail (unknown mailbox, relay denied...).
            return $"smtp:{(int)ex.StatusCode}";
        }
        catch (SmtpCommandException ex)
        {
            throw new TransientApiException($"smtp: answered {(int)ex.StatusCode}");
        }
        catch (AuthenticationException)
        {
            // Never the credentials themselves in the reason or the logs.
            return "smtp:authentication_failed";
        }
        catch (Exception ex) when (ex is SmtpProtocolException or ServiceNotConnectedException or IOException or SocketException
                                       or TimeoutException or OperationCanceledException or SslHandshakeException)
        {
            throw TransientApiException.From("smtp: the mail could not be handed over", ex);
        }
    }

    static SecureSocketOptions Security(SmtpOptions smtp) => smtp.Security switch
    {
        SmtpSecurity.None => SecureSocketOptions.None,
        SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
        SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        _ => SecureSocketOptions.Auto,
    };
}
