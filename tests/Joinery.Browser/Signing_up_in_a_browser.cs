using Joinery.Browser.Support;
using Microsoft.Playwright;

namespace Joinery.Browser;

[Collection(StandaloneCollection.Name)]
public sealed class Signing_up_in_a_browser(StandaloneFixture fixture) : BrowserTest(fixture)
{
    [Fact]
    public async Task A_visitor_on_a_320px_screen_signs_up_follows_the_steps_and_sees_the_final_message()
    {
        var page = await NewPage(width: 320, height: 720);
        var email = UniqueEmail("ada");
        await page.GotoAsync("/");
        await Expect(page).ToHaveTitleAsync("Join the community");

        await SignUp(page, "Ada Lovelace", email);

        await Expect(page.Locator("#progress")).ToBeVisibleAsync();
        await Expect(page.Locator("#status")).ToHaveTextAsync(
            "You're in! Check your inbox: your invitation to our Slack workspace is on its way.");
        foreach (var step in new[] { "store", "crm", "slack" })
            await Expect(page.Locator($"#steps li[data-step={step}]")).ToHaveAttributeAsync("data-status", "Done");
        await Expect(page.Locator("#steps li[data-step=slack] .state")).ToHaveTextAsync("Done");

        // Nothing is wider than the screen: no sideways scrolling at 320 px.
        var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");
        Assert.True(overflow <= 0, $"the page is {overflow}px wider than a 320px screen");
        // The invitation really went to the (fake) Slack, for this person.
        Assert.Contains(Fixture.Fake.State.Invites, i => string.Equals(i.Email, email, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_bad_email_is_reported_inline_next_to_the_field()
    {
        var page = await NewPage();
        await page.GotoAsync("/");

        await SignUp(page, "Ada Lovelace", "ada@localhost");

        var email = page.GetByLabel("Email", new() { Exact = true });
        await Expect(page.Locator("#email-error")).ToHaveTextAsync("Email is not a valid address.");
        await Expect(email).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(email).ToBeFocusedAsync();
        await Expect(page.Locator("#form-error")).ToHaveTextAsync("There is 1 problem with your signup: see below.");
        await Expect(page.Locator("#name-error")).ToBeEmptyAsync();
        await Expect(page.Locator("#progress")).ToBeHiddenAsync();

        // Correcting the field clears its error at once.
        await email.FillAsync("ada@example.com");
        await Expect(page.Locator("#email-error")).ToBeEmptyAsync();
        await Expect(email).Not.ToHaveAttributeAsync("aria-invalid", "true");
    }

    [Fact]
    public async Task The_code_of_conduct_must_be_accepted_when_one_is_configured()
    {
        var page = await NewPage();
        await page.GotoAsync("/");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "code of conduct" }))
            .ToHaveAttributeAsync("href", StandaloneFixture.CodeOfConductUrl);

        await SignUp(page, "Ada Lovelace", UniqueEmail("ada"), codeOfConduct: false);

        await Expect(page.Locator("#codeOfConduct-error")).ToHaveTextAsync("You must accept the code of conduct to sign up.");
        await Expect(page.GetByRole(AriaRole.Checkbox, new() { Name = "code of conduct" })).ToBeFocusedAsync();
        await Expect(page.Locator("#progress")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task The_visitor_switches_to_French_and_the_errors_follow()
    {
        var page = await NewPage(locale: "en-US");
        await page.GotoAsync("/");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Join the community");

        await page.GetByRole(AriaRole.Link, new() { Name = "Français" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Rejoindre la communauté");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "fr");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Français" })).ToHaveAttributeAsync("aria-current", "true");
        await page.GetByRole(AriaRole.Button, new() { Name = "S’inscrire" }).ClickAsync();
        await Expect(page.Locator("#name-error")).ToHaveTextAsync("Le nom est obligatoire.");
        await Expect(page.Locator("#consent-error")).ToHaveTextAsync("Vous devez accepter d’être contacté(e) pour vous inscrire.");
        await Expect(page.Locator("#form-error")).ToHaveTextAsync("Votre inscription comporte 4 problèmes : voir ci-dessous.");

        // The choice is remembered over the browser's English.
        await page.GotoAsync("/");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "fr");
    }

    [Fact]
    public async Task A_French_browser_gets_the_page_in_French_from_accept_language()
    {
        var page = await NewPage(locale: "fr-FR");
        await page.GotoAsync("/");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Rejoindre la communauté");
        await Expect(page.GetByLabel("Adresse e-mail", new() { Exact = true })).ToBeVisibleAsync();
    }
}
