using Joinery.Contracts;
using Joinery.Gateway.Page;
using Joinery.ServiceDefaults.Mail;
using Joinery.ServiceDefaults.Retry;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Joinery.Gateway.Confirmation;

/// <summary>
/// Mails the confirmation link over SMTP (MailKit). Returns null once the server took the mail, a permanent refusal
/// (<c>smtp:550</c>, <c>smtp:not_configured</c>...) otherwise; a transient trouble throws
/// <see cref="TransientApiException"/>, for the consumer's retry.
/// </summary>
public sealed class ConfirmationMailer(IOptionsMonitor<SmtpOptions> smtpOptions, IOptions<ConfirmationOptions> options, PageTexts texts)
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

        return await SmtpDelivery.Send(smtp, message, cancellationToken);
    }

    /// <summary>
    /// The link mailed to the visitor: the page that asks to confirm (a GET never confirms: mail scanners fetch links).
    /// The token is in the fragment, which browsers never send: it stays out of every access log on the way (ingress,
    /// proxies, ASP.NET Core's request log) and out of prefetches; the page's script reads it and posts it.
    /// </summary>
    public static string Link(Uri baseUri, Guid signupId, string token) =>
        $"{baseUri.ToString().TrimEnd('/')}/confirm?id={signupId}#token={Uri.EscapeDataString(token)}";
}

/// <summary>The mail server refused the mail for good; the command faults and the saga fails the signup.</summary>
public sealed class ConfirmationMailRefusedException(string reason) : Exception(reason)
{
    public string Reason { get; } = reason;
}
