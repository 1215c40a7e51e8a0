using YamlDotNet.RepresentationModel;
using static Joinery.Tests.Deployment.KubernetesManifests;

namespace Joinery.Tests.Deployment;

/// <summary>
/// Each deployment hands each service every configuration key its code reads. The keys are found in the source by
/// <see cref="ConfigurationKeys"/>, so a setting added to the code fails here until compose and Kubernetes provide it
/// (or it is exempted below, with the reason).
/// </summary>
public sealed class Deploying_every_setting_the_code_reads
{
    /// <summary>Keys the deployments may leave unset, each for a stated reason. Keep it short.</summary>
    static readonly Dictionary<string, string> Exempt = new(StringComparer.OrdinalIgnoreCase)
    {
        // Another spelling of ConnectionStrings:MongoDb (what the test suites set); the deployments set the latter.
        ["MONGODB_URI"] = "alternative to ConnectionStrings:MongoDb",
        // Names one SQLite file instead of a directory; the deployments set Persistence:DataDirectory (image ENV).
        ["Persistence:SqlitePath"] = "alternative to Persistence:DataDirectory",
        // One HTTP attempt's limit; the 10 s default suits the real APIs.
        ["ActiveCampaign:Timeout"] = "safe default (10 s)",
        ["Slack:Timeout"] = "safe default (10 s)",
        // Another way to name the service (service.name=...); the deployments set OTEL_SERVICE_NAME.
        ["OTEL_RESOURCE_ATTRIBUTES"] = "alternative to OTEL_SERVICE_NAME",
        // A plain-text admin password is for a development machine; the deployments set Admin:PasswordHash.
        ["Admin:Password"] = "development only; deployments set Admin:PasswordHash",
        ["Smtp:Timeout"] = "safe default (30 s)",
        // Backoff, deadline and in-process bound of the retries (RetryPolicy): its defaults suit production.
        ["ActiveCampaign:Retry"] = "safe defaults (RetryPolicy)",
        ["Slack:Retry"] = "safe defaults (RetryPolicy)",
        // How many days before the invite link expires the admins are warned.
        ["Slack:InviteLinkWarnDays"] = "safe default (3 days)",
        // How many invites one process works on at once (its consumer's concurrency): tuning with a safe default.
        ["Slack:ConcurrentInvites"] = "safe default (8 per process)",
        // When a signup gives up on a step that never answers (SignupDeadlines), how often the gateway looks, and when it has
        // a command left unanswered sent again.
        ["Signup:Deadline"] = "safe default (1 hour, beyond the consumers' 30-minute retry deadline)",
        ["Signup:ApprovalDeadline"] = "safe default (14 days)",
        ["Signup:DeadlineSweepInterval"] = "safe default (30 s)",
        // Turnstile's own siteverify URL is the default; another one is for tests (the fake APIs). One call's limit.
        ["Captcha:VerifyUrl"] = "safe default (Cloudflare's siteverify)",
        ["Captcha:Timeout"] = "safe default (10 s)",
        // Wrong admin sign-ins per client and username before 429 (AdminSignInLimiter).
        ["RateLimiting:AdminSignInLimit"] = "safe default (5)",
        ["RateLimiting:AdminSignInWindow"] = "safe default (15 minutes)",
        ["Signup:ConfirmationDeadline"] = "safe default (48 hours for the visitor to follow the confirmation link)",
        ["Signup:ResendAfter"] = "safe default (2 minutes, well under Signup:Deadline)",
    };

    [Fact]
    public void The_scan_finds_what_the_services_are_known_to_read_and_no_more()
    {
        // A guard against a scan that silently finds nothing and so passes everything below.
        var all = JoineryService.All.ToDictionary(s => s.Name, s => ConfigurationKeys.ReadBy(s).Select(k => k.Key).ToList());

        Assert.All(all.Values, keys => Assert.Contains("ConnectionStrings:RabbitMq", keys));
        Assert.All(all.Values, keys => Assert.Contains("Messaging:Transport", keys));
        Assert.All(all.Values, keys => Assert.Contains("Messaging:QuorumQueues", keys));
        Assert.All(all.Values, keys => Assert.Contains("OTEL_EXPORTER_OTLP_ENDPOINT", keys));
        Assert.Contains("ActiveCampaign:ApiToken", all["crm-sync"]);
        Assert.Contains("ActiveCampaign:BaseUrl", all["crm-sync"]);
        Assert.Contains("Slack:Token", all["slack-invite"]);
        Assert.Contains("Slack:TeamId", all["slack-invite"]);
        Assert.Contains("Persistence:Provider", all["gateway"]);
        Assert.Contains("ConnectionStrings:MongoDb", all["store"]);
        Assert.Contains("ConnectionStrings:MongoDb", all["crm-sync"]);
        Assert.Contains("ConnectionStrings:MongoDb", all["slack-invite"]);
        // Only what a service uses: no Slack token for crm-sync or the store, no CRM token for slack-invite.
        Assert.DoesNotContain("Slack:Token", all["crm-sync"]);
        Assert.DoesNotContain("Slack:Token", all["store"]);
        Assert.DoesNotContain("ActiveCampaign:ApiToken", all["slack-invite"]);
        Assert.DoesNotContain("ActiveCampaign:ApiToken", all["gateway"]);
    }

    [Fact]
    public void Every_configuration_read_names_its_key_so_the_scan_sees_it()
    {
        // A key computed at run time is invisible to the scan: name it with a literal or a string constant, or list
        // the read in ConfigurationKeys.DynamicReads with the keys it stands for.
        Assert.Empty(ConfigurationKeys.UnreadableReads());
    }

    [Fact]
    public void Docker_compose_gives_each_service_every_key_its_code_reads()
    {
        var compose = ComposeFile.Instance;
        var missing = new List<string>();
        foreach (var service in JoineryService.All)
        {
            var provided = compose.Environment(service.Name).Keys.Concat(ImageEnvironment(service)).ToList();
            missing.AddRange(Missing(service, provided).Select(k => $"{service.Name}: {k.EnvironmentName} (read in {k.Where})"));
        }
        Assert.True(missing.Count == 0, "docker-compose.yml does not set:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void Kubernetes_gives_each_service_every_key_its_code_reads()
    {
        var k8s = Instance;
        var missing = new List<string>();
        foreach (var service in JoineryService.All)
        {
            var deployment = k8s.Find("Deployment", service.Name);
            Assert.True(deployment is not null, $"no Deployment {service.Name}");
            var container = (YamlMappingNode)deployment.Node.At("spec.template.spec.containers.0")!;

            var provided = new List<string>(ImageEnvironment(service));
            provided.AddRange(container.Seq("env").Maps().Select(e => e.Str("name")!));
            foreach (var from in container.Seq("envFrom").Maps())
            {
                var (kind, name) = from.Get("configMapRef") is not null
                    ? ("ConfigMap", from.At("configMapRef.name").Scalar()!)
                    : ("Secret", from.At("secretRef.name").Scalar()!);
                var source = k8s.Find(kind, name);
                Assert.True(source is not null, $"{deployment}: envFrom {kind} {name} is not in {Folder}");
                provided.AddRange(source.Node.Map(kind == "Secret" ? "stringData" : "data").Entries().Select(e => e.Key));
            }
            missing.AddRange(Missing(service, provided).Select(k => $"{service.Name}: {k.EnvironmentName} (read in {k.Where})"));
        }
        Assert.True(missing.Count == 0, $"{Folder} does not set:\n" + string.Join("\n", missing));
    }

    static IEnumerable<ConfigKey> Missing(JoineryService service, IReadOnlyCollection<string> provided) =>
        ConfigurationKeys.ReadBy(service).Where(k => !Exempt.ContainsKey(k.Key) && !k.IsSatisfiedBy(provided));

    /// <summary>What the image itself sets (ENV), which every way of running it inherits.</summary>
    static IEnumerable<string> ImageEnvironment(JoineryService service) =>
        new Dockerfile(service.Dockerfile).Final.Env().Keys;
}
