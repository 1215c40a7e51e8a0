using YamlDotNet.RepresentationModel;

namespace Joinery.Tests.Deployment;

/// <summary>
/// docker-compose.yml, checked without a Docker engine for what would otherwise break silently: start order, health,
/// scaling (--scale crm-sync=3), pinned images, named volumes, secrets, the fake-API demo profile.
/// </summary>
public sealed class Running_with_docker_compose
{
    const string FakeApisProfile = "fake-apis";
    const string FakeApisService = "fake-apis";

    readonly ComposeFile _compose = ComposeFile.Instance;

    static IEnumerable<JoineryService> Consumers => JoineryService.All.Where(s => s.Name != JoineryService.Gateway);

    [Fact]
    public void Every_Joinery_service_is_built_from_its_own_Dockerfile()
    {
        foreach (var service in JoineryService.All)
        {
            var build = _compose.Service(service.Name).Map("build");
            Assert.True(build is not null, $"{service.Name} has no build section");
            Assert.Equal(".", build.Str("context"));
            Assert.Equal(Repo.Relative(service.Dockerfile), build.Str("dockerfile"));
        }
    }

    [Fact]
    public void Every_image_is_pinned_to_an_exact_version()
    {
        foreach (var (name, service) in _compose.Services)
        {
            var image = service.Str("image");
            Assert.True(image is not null, $"{name} names no image (a built one must be tagged with a version, too)");
            var resolved = _compose.Resolve(image);
            Assert.True(Images.IsPinned(resolved, out var why), $"{name}: image {image} = {resolved}: {why}");
        }
    }

    [Fact]
    public void Every_Joinery_service_is_healthy_only_once_ready()
    {
        foreach (var service in JoineryService.All)
        {
            var healthcheck = _compose.Service(service.Name).Map("healthcheck");
            Assert.True(healthcheck is not null, $"{service.Name} has no healthcheck");
            Assert.NotEqual("true", healthcheck.Str("disable"));
            var test = string.Join(' ', healthcheck.Seq("test").Strings());
            // Readiness includes the bus: a consumer is healthy once its queues exist, which gates the gateway.
            Assert.Contains("/health/ready", test);
            Assert.Contains("/dev/tcp/127.0.0.1/8080", test);
        }
    }

    [Fact]
    public void No_service_has_a_fixed_container_name_and_no_consumer_publishes_a_port_so_consumers_scale()
    {
        foreach (var (name, service) in _compose.Services)
            Assert.True(service.Get("container_name") is null, $"{name} has a container_name: --scale would clash");
        foreach (var service in Consumers)
            Assert.True(_compose.Service(service.Name).Get("ports") is null,
                $"{service.Name} publishes a host port: a second replica could not bind it (--scale {service.Name}=3)");
        Assert.NotNull(_compose.Service(JoineryService.Gateway).Seq("ports"));
    }

    [Fact]
    public void The_gateway_starts_only_once_every_consumer_is_healthy()
    {
        var dependsOn = _compose.Service(JoineryService.Gateway).Map("depends_on");

        foreach (var consumer in Consumers)
            Assert.Equal("service_healthy", dependsOn.Map(consumer.Name).Str("condition"));
    }

    [Fact]
    public void Every_Joinery_service_waits_for_a_healthy_broker_and_database()
    {
        foreach (var service in JoineryService.All)
        {
            var dependsOn = _compose.Service(service.Name).Map("depends_on");
            Assert.Equal("service_healthy", dependsOn.Map("rabbitmq").Str("condition"));
            if (_compose.Environment(service.Name).TryGetValue("Persistence__Provider", out var provider) && provider == "MongoDb")
                Assert.Equal("service_healthy", dependsOn.Map("mongodb").Str("condition"));
        }
        Assert.NotNull(_compose.Service("rabbitmq").Map("healthcheck"));
        Assert.NotNull(_compose.Service("mongodb").Map("healthcheck"));
    }

    [Fact]
    public void Data_lives_in_named_volumes()
    {
        var declared = _compose.Root.Map("volumes").Entries().Select(e => e.Key).ToHashSet();
        var mounted = new List<string>();

        foreach (var (name, service) in _compose.Services)
            foreach (var volume in service.Seq("volumes")?.Children ?? [])
            {
                var source = volume is YamlMappingNode longForm ? longForm.Str("source") : volume.Scalar()?.Split(':')[0];
                Assert.True(source is not null && declared.Contains(source),
                    $"{name}: volume {volume} is not a named volume declared under volumes: (a bind mount or anonymous volume is lost or host-specific)");
                mounted.Add(source!);
            }
        Assert.Contains("rabbitmq-data", mounted);
        Assert.Contains("mongodb-data", mounted);
    }

    [Fact]
    public void Every_Joinery_service_keeps_its_state_in_a_MongoDB_database_of_its_own()
    {
        var databases = new List<string>();
        foreach (var service in JoineryService.All)
        {
            var environment = _compose.Environment(service.Name);
            Assert.True(environment.TryGetValue("Persistence__Provider", out var provider) && provider == "MongoDb",
                $"{service.Name} is not on MongoDB: its replicas (--scale) would each keep a ledger of their own");
            Assert.True(environment.ContainsKey("ConnectionStrings__MongoDb"), $"{service.Name} has no MongoDB connection string");
            databases.Add(environment["Persistence__MongoDatabase"]);
            // Nothing of its state is on a SQLite file, so no data volume to share between replicas.
            Assert.True(_compose.Service(service.Name).Get("volumes") is null, $"{service.Name} mounts a volume although its state is in MongoDB");
        }
        Assert.Equal(databases.Count, databases.Distinct().Count());
    }

    [Fact]
    public void No_secret_value_is_written_in_the_compose_file()
    {
        foreach (var (name, _) in _compose.Services)
            foreach (var (key, value) in _compose.Environment(name))
            {
                if (!Secrets.IsSecretKey(key))
                    continue;
                if (Secrets.IsConnectionString(key))
                {
                    var password = Secrets.UriPassword(value);
                    Assert.True(password is null || ComposeFile.IsInterpolated(password),
                        $"{name}: {key} carries a literal password; interpolate it from .env");
                }
                else
                    Assert.True(value.Length == 0 || ComposeFile.IsInterpolated(value),
                        $"{name}: {key} is a literal; secrets come from .env through ${{...}}");
            }
        // Secrets reach the containers through interpolation, not by handing every container the whole .env file.
        foreach (var (name, service) in _compose.Services)
            Assert.True(service.Get("env_file") is null, $"{name} reads an env_file: every secret in it would reach that container");
    }

    [Fact]
    public void The_env_file_is_never_committed_and_the_example_lists_every_variable()
    {
        var ignored = File.ReadAllLines(Repo.PathOf(".gitignore")).Select(l => l.Trim());
        Assert.Contains(".env", ignored);

        var used = _compose.InterpolatedVariables();
        var listed = _compose.EnvExample.Keys.ToHashSet();
        Assert.Empty(used.Except(listed).Order());
        // Every listed variable is used (COMPOSE_PROFILES is read by compose itself).
        Assert.Empty(listed.Except(used).Except(["COMPOSE_PROFILES"]).Order());
    }

    [Fact]
    public void The_fake_apis_profile_adds_the_fake_API_server_and_the_example_settings_point_at_it()
    {
        var fake = _compose.Service(FakeApisService);
        Assert.Equal([FakeApisProfile], fake.Seq("profiles").Strings());
        Assert.Equal("tests/Joinery.FakeApis/Dockerfile", fake.Map("build").Str("dockerfile"));

        // The services always run; only the fake is optional, and they wait for it when it is there.
        foreach (var service in JoineryService.All)
            Assert.True(_compose.Service(service.Name).Get("profiles") is null, $"{service.Name} must not need a profile");
        foreach (var dependent in new[] { "crm-sync", "slack-invite" })
        {
            var dependency = _compose.Service(dependent).Map("depends_on").Map(FakeApisService);
            Assert.Equal("service_healthy", dependency.Str("condition"));
            Assert.Equal("false", dependency.Str("required"));
        }

        // The committed example is the demo: profile on, the services pointed at the fake on its container port.
        Assert.Equal(FakeApisProfile, _compose.EnvExample["COMPOSE_PROFILES"]);
        Assert.Equal($"http://{FakeApisService}:8080", _compose.Resolve(_compose.Environment("crm-sync")["ActiveCampaign__BaseUrl"]));
        Assert.Equal($"http://{FakeApisService}:8080/api", _compose.Resolve(_compose.Environment("slack-invite")["Slack__BaseUrl"]));
        Assert.Equal(Joinery.FakeApis.FakeApiOptions.DefaultActiveCampaignToken, _compose.Resolve(_compose.Environment("crm-sync")["ActiveCampaign__ApiToken"]));
        Assert.Equal(Joinery.FakeApis.FakeApiOptions.DefaultSlackToken, _compose.Resolve(_compose.Environment("slack-invite")["Slack__Token"]));
    }

    [Fact]
    public void RabbitMQ_runs_the_management_and_Prometheus_plugins_and_MongoDB_a_replica_set()
    {
        var rabbit = _compose.Service("rabbitmq");
        var plugins = rabbit.Seq("configs").Maps().Single(c => c.Str("target") == "/etc/rabbitmq/enabled_plugins").Str("source")!;
        var content = _compose.Root.Map("configs").Map(plugins).Str("content");
        Assert.Contains("rabbitmq_management", content);
        Assert.Contains("rabbitmq_prometheus", content);

        var command = _compose.Service("mongodb").Seq("command").Strings().ToList();
        Assert.Contains("--replSet", command);
        var replicaSet = command[command.IndexOf("--replSet") + 1];
        foreach (var service in JoineryService.All)
            if (_compose.Environment(service.Name).TryGetValue("ConnectionStrings__MongoDb", out var mongo))
                Assert.Contains($"replicaSet={replicaSet}", mongo);
    }

    [Fact]
    public void Quorum_queues_are_a_setting_off_by_default_on_a_single_broker()
    {
        foreach (var service in JoineryService.All)
            Assert.Equal("false", _compose.Resolve(_compose.Environment(service.Name)["Messaging__QuorumQueues"]));
    }
}
