using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Joinery.Browser.Support;
using Microsoft.Playwright;

namespace Joinery.Browser;

/// <summary>axe-core on every state of the pages a person meets: no serious or critical violation anywhere.</summary>
[Collection(StandaloneCollection.Name)]
public sealed class Checking_accessibility(StandaloneFixture fixture) : BrowserTest(fixture)
{
    static readonly string[] Blocking = ["serious", "critical"];

    internal static async Task AssertNoSeriousViolations(IPage page, string state)
    {
        var result = await page.RunAxe();
        // axe ran and looked at the page: a run that checked nothing would pass everything.
        Assert.NotEmpty(result.Passes);
        var blocking = result.Violations.Where(v => Blocking.Contains(v.Impact)).ToList();
        Assert.True(blocking.Count == 0, $"{state}: " + string.Join("; ", blocking.Select(v =>
            $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Target?.ToString()))}")));
    }

    [Fact]
    public async Task The_visitor_page_has_no_serious_or_critical_violations_in_any_state()
    {
        var page = await NewPage();
        await page.GotoAsync("/");
        await AssertNoSeriousViolations(page, "the empty form");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
        await Expect(page.Locator("#name-error")).Not.ToBeEmptyAsync();
        await AssertNoSeriousViolations(page, "the form with its errors");

        await SignUp(page, "Alan Turing", UniqueEmail("alan"));
        await Expect(page.Locator("#status")).ToHaveTextAsync(
            "You're in! Check your inbox: your invitation to our Slack workspace is on its way.");
        await AssertNoSeriousViolations(page, "the finished timeline");
    }

    [Fact]
    public async Task The_French_page_and_the_admin_pages_have_no_serious_or_critical_violations()
    {
        var french = await NewPage(locale: "fr-FR");
        await french.GotoAsync("/");
        await Expect(french.Locator("html")).ToHaveAttributeAsync("lang", "fr");
        await AssertNoSeriousViolations(french, "the French page");

        var admin = await NewPage();
        await admin.GotoAsync("/admin");
        await AssertNoSeriousViolations(admin, "the admin sign-in");
        await SignInAsAdmin(admin);
        await Expect(admin.Locator("#count")).Not.ToBeEmptyAsync();
        await AssertNoSeriousViolations(admin, "the admin list");
    }
}
