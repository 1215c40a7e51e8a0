using System.Net.Sockets;
using Joinery.ServiceDefaults.Retry;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Joinery.ServiceDefaults.Mail;

/// <summary>Hands one message to the SMTP server (MailKit), and says how it went in the terms our consumers retry by.</summary>
public static class SmtpDelivery
{
    /// <summary>
    /// Null once the server took the message; a permanent refusal otherwise (<c>smtp:550</c>,
    /// <c>smtp:authentication_failed</c>). A transient trouble (4xx, connection, TLS, timeout) throws
    /// <see cref="TransientApiException"/>, for the consumer's retry. Neither the credentials nor the message's text
    /// (which may hold a link) ever go into a reason or an exception.
    /// </summary>
    public static async Task<string?> Send(SmtpOptions smtp, MimeMessage message, CancellationToken cancellationToken)
    {
        using var client = new SmtpClient { Timeout = (int)smtp.Timeout.TotalMilliseconds };
        try
        {
            await client.ConnectAsync(smtp.Host!, smtp.Port, Security(smtp.Security), cancellationToken);
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
            return "smtp:authentication_failed";
        }
        catch (Exception ex) when (ex is SmtpProtocolException or ServiceNotConnectedException or IOException or SocketException
                                       or TimeoutException or OperationCanceledException or SslHandshakeException)
        {
            // The type only: not chained, so that no text of the conversation rides along into logs and error queues.
            throw new TransientApiException(ex is OperationCanceledException or TimeoutException
                ? "smtp: the mail could not be handed over: timed out"
                : $"smtp: the mail could not be handed over ({ex.GetType().Name})");
        }
    }

    static SecureSocketOptions Security(SmtpSecurity security) => security switch
    {
        SmtpSecurity.None => SecureSocketOptions.None,
        SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
        SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        _ => SecureSocketOptions.Auto,
    };
}
