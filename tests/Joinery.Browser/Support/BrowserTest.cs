using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using Microsoft.Playwright;

namespace Joinery.Browser.Support;

/// <summary>
/// What every browser test shares: a fresh browser context per page (no cookie or storage carried between tests),
/// Playwright's auto-waiting expectations, and a screenshot per test, taken when it ends however it ends.
/// </summary>
public abstract class BrowserTest(StandaloneFixture fixture) : IAsyncLifetime
{
    readonly List<IBrowserContext> _contexts = [];
    readonly List<(IPage Page, string Name)> _shots = [];

    protected StandaloneFixture Fixture { get; } = fixture;

    protected static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    protected static IPageAssertions Expect(IPage page) => Assertions.Expect(page);

    protected static string UniqueEmail(string who) => $"{who}.{Guid.NewGuid():N}@example.com";

    /// <summary>A page in a new context; its screenshot is saved as <c>.artifacts/screenshots/{name}.png</c> at the end.</summary>
    protected async Task<IPage> NewPage(string locale = "en-US", int width = 1280, int height = 900, [CallerMemberName] string name = "")
    {
        var context = await Fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Fixture.BaseUrl.ToString(),
            Locale = locale,
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        _contexts.Add(context);
        var page = await context.NewPageAsync();
        _shots.Add((page, _shots.Count == 0 ? name : $"{name}-{_shots.Count + 1}"));
        return page;
    }

    /// <summary>Fills and sends the visitor form as a person would (labels, not ids).</summary>
    protected static async Task SignUp(IPage page, string name, string email, bool consent = true, bool codeOfConduct = true)
    {
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await page.GetByLabel("Email", new() { Exact = true }).FillAsync(email);
        if (consent)
            await page.GetByRole(AriaRole.Checkbox, new() { Name = "I agree to be added" }).CheckAsync();
        if (codeOfConduct)
            await page.GetByRole(AriaRole.Checkbox, new() { Name = "code of conduct" }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
    }

    protected async Task SignInAsAdmin(IPage page)
    {
        await page.GotoAsync("/admin");
        await page.GetByLabel("Username").FillAsync(StandaloneFixture.AdminUsername);
        await page.GetByLabel("Password").FillAsync(Fixture.AdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Signups" })).ToBeVisibleAsync();
    }

    /// <summary>Through the fake APIs' control API: every call about this email at that API fails for good.</summary>
    protected async Task FailEveryCallFor(string api, string email)
    {
        using var response = await Fixture.FakeControl.PostAsJsonAsync("_fake/failures", new { api, email });
        Assert.True(response.IsSuccessStatusCode, $"arranging the failure answered {(int)response.StatusCode}");
    }

    /// <summary>The next <paramref name="times"/> calls about this email at that API answer <paramref name="status"/> (transient ones are retried).</summary>
    protected async Task FailNextCallsFor(string api, string email, int status, int times)
    {
        using var response = await Fixture.FakeControl.PostAsJsonAsync("_fake/failures", new { api, email, status, times });
        Assert.True(response.IsSuccessStatusCode, $"arranging the failure answered {(int)response.StatusCode}");
    }

    protected async Task ClearFailures()
    {
        using var response = await Fixture.FakeControl.DeleteAsync("_fake/failures");
        Assert.True(response.IsSuccessStatusCode, $"clearing the failures answered {(int)response.StatusCode}");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (page, name) in _shots)
            if (!page.IsClosed)
                await page.ScreenshotAsync(new PageScreenshotOptions
                {
                    Path = Path.Combine(Fixture.ScreenshotsDirectory, $"{GetType().Name}.{name}.png"),
                    FullPage = true,
                });
        foreach (var context in _contexts)
            await context.DisposeAsync();
    }
}
