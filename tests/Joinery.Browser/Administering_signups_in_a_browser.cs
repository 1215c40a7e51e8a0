using Joinery.Browser.Support;
using Microsoft.Playwright;

namespace Joinery.Browser;

[Collection(StandaloneCollection.Name)]
public sealed class Administering_signups_in_a_browser(StandaloneFixture fixture) : BrowserTest(fixture)
{
    [Fact]
    public async Task An_admin_sees_a_failed_signup_retries_it_and_sees_it_complete()
    {
        var email = UniqueEmail("grace");
        // A name that would be markup if it were ever written as HTML.
        const string name = "Grace <b>Hopper</b>";
        await FailEveryCallFor("activecampaign", email);

        var visitor = await NewPage();
        await visitor.GotoAsync("/");
        await SignUp(visitor, name, email);
        await Expect(visitor.Locator("#status")).ToHaveTextAsync("Sorry, we could not complete your signup.");
        await Expect(visitor.Locator("#reference-code")).ToContainTextAsync("email_invalid");
        await Expect(visitor.Locator("#next")).ToHaveTextAsync(
            "This email address could not be used. Check it for typos, then try again with the button below.");
        await Expect(visitor.GetByRole(AriaRole.Button, new() { Name = "Try again" })).ToBeVisibleAsync();

        // The CRM is fixed.
        await ClearFailures();

        var admin = await NewPage();
        await SignInAsAdmin(admin);
        await admin.GetByLabel("Email contains").FillAsync(email);
        await admin.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();

        var rows = admin.Locator("#rows tr[data-id]");
        await Expect(rows).ToHaveCountAsync(1);
        var failed = rows.First;
        await Expect(failed).ToHaveAttributeAsync("data-state", "Failed");
        await Expect(failed.Locator(".state")).ToHaveTextAsync("Failed");
        await Expect(failed.Locator("strong")).ToHaveTextAsync(name);   // shown as text, not markup
        await Expect(failed.Locator("b")).ToHaveCountAsync(0);
        await Expect(failed.Locator(".steps-cell")).ToContainTextAsync("CRM: Failed");

        await failed.GetByRole(AriaRole.Button, new() { Name = "Details" }).ClickAsync();
        await Expect(admin.Locator(".details:not([hidden])")).ToContainTextAsync("email_invalid");

        // Retry shows once the failed signup's own undo has finished.
        await failed.GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();
        await Expect(admin.Locator("#message")).ToHaveTextAsync("Retried as a new signup: it appears at the top of the list.");

        await Expect(rows).ToHaveCountAsync(2);
        await Expect(rows.First).ToHaveAttributeAsync("data-state", "Completed");
        await Expect(rows.First.Locator(".state")).ToHaveTextAsync("Completed");
        await Expect(rows.Nth(1)).ToHaveAttributeAsync("data-state", "Failed");
        await Expect(admin.Locator("#audit")).ToContainTextAsync("retry");

        Assert.Contains(Fixture.Fake.State.Contacts, c => string.Equals(c.Email, email, StringComparison.OrdinalIgnoreCase));
        Assert.Contains(Fixture.Fake.State.Invites, i => string.Equals(i.Email, email, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task An_admin_sees_how_many_attempts_each_step_took()
    {
        var email = UniqueEmail("dorothy");
        // ActiveCampaign is briefly unavailable: the first sync gets a 503 and is retried.
        await FailNextCallsFor("activecampaign", email, status: 503, times: 1);

        var visitor = await NewPage();
        await visitor.GotoAsync("/");
        await SignUp(visitor, "Dorothy Vaughan", email);
        await Expect(visitor.Locator("#steps li[data-step=slack] .state")).ToHaveTextAsync("Done");

        var admin = await NewPage();
        await SignInAsAdmin(admin);
        await admin.GetByLabel("Email contains").FillAsync(email);
        await admin.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();

        var row = admin.Locator("#rows tr[data-id]");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToHaveAttributeAsync("data-state", "Completed");
        await Expect(row.Locator("[data-step=crm]")).ToHaveTextAsync("CRM: Done · 2 attempts");
        await Expect(row.Locator("[data-step=store]")).ToHaveTextAsync("Store: Done · 1 attempt");
        await Expect(row.Locator("[data-step=slack]")).ToHaveTextAsync("Slack: Done · 1 attempt");

        await row.GetByRole(AriaRole.Button, new() { Name = "Details" }).ClickAsync();
        await Expect(admin.Locator(".details:not([hidden])")).ToContainTextAsync("created · 2 attempts");
    }

    [Fact]
    public async Task Wrong_credentials_do_not_open_the_admin_page()
    {
        var page = await NewPage();
        await page.GotoAsync("/admin");
        await page.GetByLabel("Username").FillAsync(StandaloneFixture.AdminUsername);
        await page.GetByLabel("Password").FillAsync("not-the-password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Wrong username or password.");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Signups" })).ToHaveCountAsync(0);
        var api = await page.APIRequest.GetAsync("/api/admin/signups");
        Assert.Equal(401, api.Status);
    }
}
