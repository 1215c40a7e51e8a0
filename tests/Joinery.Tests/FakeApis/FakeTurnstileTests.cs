using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Joinery.FakeApis;

namespace Joinery.Tests.FakeApis;

/// <summary>The fake Turnstile siteverify answers as Cloudflare documents it: codes, test secrets, tokens good once.</summary>
public sealed class Verifying_captcha_tokens_at_the_fake_turnstile : RunningFakeApiServer
{
    const string Secret = FakeApiOptions.DefaultTurnstileSecret;

    async Task<string> Token(string query = "")
    {
        using var response = await Http.PostAsync("_fake/turnstile/tokens" + query, null);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    async Task<JsonElement> Verify(HttpContent content)
    {
        using var response = await Http.PostAsync("turnstile/v0/siteverify", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode); // like Cloudflare: the outcome is in the body
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    Task<JsonElement> VerifyForm(Dictionary<string, string> fields) => Verify(new FormUrlEncodedContent(fields));

    static string? Error(JsonElement answer)
    {
        Assert.Equal(JsonValueKind.Array, answer.GetProperty("error-codes").ValueKind);
        return answer.GetProperty("error-codes").EnumerateArray().Select(e => e.GetString()).SingleOrDefault();
    }

    [Fact]
    public async Task A_token_passes_once_with_its_details_and_then_is_a_duplicate()
    {
        var token = await Token("?hostname=join.example.org&action=signup&cdata=abc");

        var first = await VerifyForm(new() { ["secret"] = Secret, ["response"] = token, ["remoteip"] = "203.0.113.1" });
        Assert.True(first.GetProperty("success").GetBoolean());
        Assert.Null(Error(first));
        Assert.Equal("join.example.org", first.GetProperty("hostname").GetString());
        Assert.Equal("signup", first.GetProperty("action").GetString());
        Assert.Equal("abc", first.GetProperty("cdata").GetString());
        Assert.True(DateTimeOffset.TryParse(first.GetProperty("challenge_ts").GetString(), out _));

        var second = await VerifyForm(new() { ["secret"] = Secret, ["response"] = token });
        Assert.False(second.GetProperty("success").GetBoolean());
        Assert.Equal("timeout-or-duplicate", Error(second));
    }

    [Fact]
    public async Task A_retry_with_the_same_idempotency_key_gets_the_same_success_and_another_key_does_not()
    {
        var token = await Token();
        var key = Guid.NewGuid().ToString();
        Assert.True((await VerifyForm(new() { ["secret"] = Secret, ["response"] = token, ["idempotency_key"] = key })).GetProperty("success").GetBoolean());
        Assert.True((await VerifyForm(new() { ["secret"] = Secret, ["response"] = token, ["idempotency_key"] = key })).GetProperty("success").GetBoolean());
        Assert.Equal("timeout-or-duplicate",
            Error(await VerifyForm(new() { ["secret"] = Secret, ["response"] = token, ["idempotency_key"] = Guid.NewGuid().ToString() })));
    }

    [Fact]
    public async Task Takes_json_as_well_as_a_form()
    {
        var json = JsonSerializer.Serialize(new { secret = Secret, response = await Token() });
        Assert.True((await Verify(new StringContent(json, Encoding.UTF8, "application/json"))).GetProperty("success").GetBoolean());
        Assert.Equal("bad-request", Error(await Verify(new StringContent("{not json", Encoding.UTF8, "application/json"))));
    }

    [Theory]
    [InlineData(null, "a-token", "missing-input-secret")]
    [InlineData("not-the-secret", "a-token", "invalid-input-secret")]
    [InlineData(Secret, null, "missing-input-response")]
    [InlineData(Secret, "never-issued", "invalid-input-response")]
    [InlineData(TurnstileEndpoints.AlwaysPassesSecret, "anything", null)]
    [InlineData(TurnstileEndpoints.AlwaysFailsSecret, "anything", "invalid-input-response")]
    [InlineData(TurnstileEndpoints.AlreadySpentSecret, "anything", "timeout-or-duplicate")]
    public async Task Answers_each_documented_case_with_its_code(string? secret, string? response, string? expected)
    {
        var fields = new Dictionary<string, string>();
        if (secret is not null)
            fields["secret"] = secret;
        if (response is not null)
            fields["response"] = response;

        var answer = await VerifyForm(fields);

        Assert.Equal(expected is null, answer.GetProperty("success").GetBoolean());
        Assert.Equal(expected, Error(answer));
        Assert.Equal(expected, Server.State.Requests.Snapshot().Single(r => r.Api == FakeApiNames.Turnstile).Error);
    }

    [Fact]
    public async Task Forgets_its_tokens_on_reset()
    {
        var token = await Token();
        (await Http.PostAsync("_fake/reset", null)).EnsureSuccessStatusCode();
        Assert.Equal("invalid-input-response", Error(await VerifyForm(new() { ["secret"] = Secret, ["response"] = token })));
    }
}
