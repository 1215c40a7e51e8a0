using Joinery.ServiceDefaults.Mail;
using Joinery.SlackInvite.Slack;
using Microsoft.Extensions.Options;
using MimeKit;

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

        return await SmtpDelivery.Send(smtp, message, cancellationToken);
    }
}
