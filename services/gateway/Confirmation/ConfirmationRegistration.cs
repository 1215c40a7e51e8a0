using Joinery.ServiceDefaults.Mail;
using MassTransit;

namespace Joinery.Gateway.Confirmation;

/// <summary>Double opt-in's parts in the gateway: settings, the announcement, the mailer and its consumer, and the check at start.</summary>
public static class ConfirmationRegistration
{
    public static IHostApplicationBuilder AddEmailConfirmation(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ConfirmationOptions>().Bind(builder.Configuration.GetSection(ConfirmationOptions.Section));
        builder.Services.AddOptions<SmtpOptions>().Bind(builder.Configuration.GetSection(SmtpOptions.Section));
        builder.Services.AddSingleton<SignupAnnouncement>();
        builder.Services.AddSingleton<ConfirmationMailer>();

        // On, but unable to mail a working link: refuse to start rather than leave every visitor waiting for a mail.
        var options = builder.Configuration.GetSection(ConfirmationOptions.Section).Get<ConfirmationOptions>() ?? new();
        var smtp = builder.Configuration.GetSection(SmtpOptions.Section).Get<SmtpOptions>() ?? new();
        if (options.ConfirmEmail)
        {
            var missing = new List<string>();
            if (options.BaseUri is null)
                missing.Add("Signup:PublicBaseUrl (an absolute http(s) URL)");
            if (string.IsNullOrWhiteSpace(smtp.Host))
                missing.Add("Smtp:Host");
            if (string.IsNullOrWhiteSpace(smtp.From))
                missing.Add("Smtp:From");
            if (missing.Count > 0)
                throw new InvalidOperationException($"Signup:ConfirmEmail is on but {string.Join(", ", missing)} is not set");
        }
        return builder;
    }

    /// <summary>The mailer's consumer; registered whether or not confirmation is on, so mails asked for before a switch-off still go.</summary>
    public static void AddEmailConfirmationConsumers(this IBusRegistrationConfigurator bus) =>
        bus.AddConsumer<SendConfirmationMailConsumer, SendConfirmationMailConsumerDefinition>();
}
