using System.Text.RegularExpressions;
using Joinery.Browser.Support;
using Joinery.FakeApis;
using Microsoft.Playwright;

namespace Joinery.Browser;

[Collection(ConfirmingStandaloneCollection.Name)]
public sealed class Confirming_the_email_address_in_a_browser(ConfirmingStandaloneFixture fixture) : BrowserTest(fixture)
{
    const string CheckYourInbox = "Check your inbox: we sent a link to confirm your address. Nothing more happens until you follow it.";
    const string Invited = "You're in! Check your inbox: your invitation to our Slack workspace is on its way.";

    bool ReachedCrmOrSlack(string email) =>
        Fixture.Fake.State.Contacts.Any(c => string.Equals(c.Email, email, StringComparison.OrdinalIgnoreCase))
        || Fixture.Fake.State.Invites.Any(i => string.Equals(i.Email, email, StringComparison.OrdinalIgnoreCase));

    /// <summary>The mail the fake SMTP sink received for <paramref name="email"/>, waited for with a deadline.</summary>
    async Task<FakeMail> MailTo(string email)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var mail = Fixture.Fake.State.Mails.FirstOrDefault(m => m.To.Contains(email, StringComparer.OrdinalIgnoreCase));
            if (mail is not null)
                return mail;
            Assert.True(DateTime.UtcNow < deadline, $"no mail to {email} within 30 s:\n{Fixture.HostLog}");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task A_visitor_follows_the_mailed_link_confirms_and_sees_the_signup_complete()
    {
        var page = await NewPage();
        var email = UniqueEmail("grace");
        await page.GotoAsync("/");

        await SignUp(page, "Grace Hopper", email);

        await Expect(page.Locator("#status")).ToHaveTextAsync(CheckYourInbox);
        await Checking_accessibility.AssertNoSeriousViolations(page, "the page awaiting confirmation");
        var mail = await MailTo(email);
        var link = Regex.Match(mail.Text, Regex.Escape(Fixture.BaseUrl.ToString()) + @"confirm\?\S+");
        Assert.True(link.Success, "the mail has no link to this host: " + mail.Text);
        Assert.False(ReachedCrmOrSlack(email), "the CRM or Slack was called before the address was confirmed");

        // The link opens in another tab, as from a mail client; opening it confirms nothing.
        var confirmation = await NewPage();
        await confirmation.GotoAsync(link.Value);
        await Expect(confirmation.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Confirm your email address");
        Assert.False(ReachedCrmOrSlack(email), "opening the link started the signup");
        await Checking_accessibility.AssertNoSeriousViolations(confirmation, "the confirmation page");

        await confirmation.GetByRole(AriaRole.Button, new() { Name = "Confirm my address" }).ClickAsync();

        await Expect(confirmation.Locator("#status")).ToHaveTextAsync("Thank you, your address is confirmed. We are finishing your signup…");
        await Expect(confirmation.Locator("#next")).ToHaveTextAsync(Invited);
        await Expect(confirmation.GetByRole(AriaRole.Button, new() { Name = "Confirm my address" })).ToBeHiddenAsync();
        await Checking_accessibility.AssertNoSeriousViolations(confirmation, "the confirmed page");
        // The first tab, still following the signup, sees the end as well.
        await Expect(page.Locator("#status")).ToHaveTextAsync(Invited);
        Assert.Contains(Fixture.Fake.State.Invites, i => string.Equals(i.Email, email, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_tampered_link_is_refused_in_French_too()
    {
        var page = await NewPage(locale: "fr-FR");
        var email = UniqueEmail("ada");
        await page.GotoAsync("/");
        await page.GetByLabel("Nom", new() { Exact = true }).FillAsync("Ada Lovelace");
        await page.GetByLabel("Adresse e-mail", new() { Exact = true }).FillAsync(email);
        await page.Locator("#consent").CheckAsync();
        await page.Locator("#codeOfConduct").CheckAsync();
        await page.Locator("#submit").ClickAsync();
        await Expect(page.Locator("#status")).ToContainTextAsync("Consultez votre boîte de réception");
        var link = Regex.Match((await MailTo(email)).Text, Regex.Escape(Fixture.BaseUrl.ToString()) + @"confirm\?\S+").Value;

        await page.GotoAsync(link[..^3] + "xyz");
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirmer mon adresse" }).ClickAsync();

        await Expect(page.Locator("#status")).ToHaveTextAsync(
            "Ce lien de confirmation n’est pas valide. Utilisez le dernier lien que nous vous avons envoyé, sans le modifier.");
        Assert.False(ReachedCrmOrSlack(email));
    }
}
