using System.Reflection;
using Joinery.Contracts;
using YamlDotNet.RepresentationModel;
using static Joinery.Tests.Deployment.KubernetesManifests;

namespace Joinery.Tests.Deployment;

/// <summary>
/// deploy/k8s, checked without a cluster: probes, resources, disruption budgets, the gateway's way in, KEDA scaling on
/// the queues the consumers really use, secrets kept in Secrets, and the RabbitMQ and MongoDB operators' resources.
/// </summary>
public sealed class Running_on_Kubernetes
{
    const string Namespace = "joinery";

    readonly KubernetesManifests _k8s = Instance;

    static YamlMappingNode Container(Manifest deployment) =>
        (YamlMappingNode)deployment.Node.At("spec.template.spec.containers.0")!;

    Manifest DeploymentOf(JoineryService service) =>
        _k8s.Find("Deployment", service.Name) ?? throw new Xunit.Sdk.XunitException($"{Folder} has no Deployment {service.Name}");

    [Fact]
    public void Every_Joinery_service_has_a_Deployment_probed_on_liveness_and_readiness()
    {
        foreach (var service in JoineryService.All)
        {
            var container = Container(DeploymentOf(service));
            Assert.Equal("/health/live", container.At("livenessProbe.httpGet.path").Scalar());
            Assert.Equal("/health/ready", container.At("readinessProbe.httpGet.path").Scalar());
            Assert.Equal("/health/live", container.At("startupProbe.httpGet.path").Scalar());
            foreach (var probe in new[] { "livenessProbe", "readinessProbe", "startupProbe" })
                Assert.Equal("http", container.At($"{probe}.httpGet.port").Scalar());
            Assert.Equal("8080", container.Seq("ports").Maps().Single(p => p.Str("name") == "http").Str("containerPort"));
        }
    }

    [Fact]
    public void Every_container_requests_and_is_limited_in_cpu_and_memory()
    {
        var containers = _k8s.OfKind("Deployment").SelectMany(d => d.Node.At("spec.template.spec.containers")!.As<YamlSequenceNode>().Maps()
                .Concat((d.Node.At("spec.template.spec.initContainers") as YamlSequenceNode).Maps()).Select(c => (d, c)))
            .Concat(_k8s.OfKind("MongoDBCommunity").SelectMany(m => m.Node.At("spec.statefulSet.spec.template.spec.containers")!.As<YamlSequenceNode>().Maps().Select(c => (m, c))))
            .Concat(_k8s.OfKind("RabbitmqCluster").Select(r => (r, (YamlMappingNode)r.Node.Map("spec")!)))
            .ToList();

        Assert.NotEmpty(containers);
        foreach (var (manifest, container) in containers)
            foreach (var bound in new[] { "requests", "limits" })
                foreach (var resource in new[] { "cpu", "memory" })
                    Assert.True(container.At($"resources.{bound}.{resource}").Scalar() is { Length: > 0 },
                        $"{manifest}: {container.Str("name")} has no resources.{bound}.{resource}");
    }

    [Fact]
    public void Every_image_is_pinned_to_an_exact_version()
    {
        foreach (var deployment in _k8s.OfKind("Deployment"))
            foreach (var container in deployment.Node.At("spec.template.spec.containers")!.As<YamlSequenceNode>().Maps())
                Assert.True(Images.IsPinned(container.Str("image")!, out var why), $"{deployment}: {container.Str("image")}: {why}");
        foreach (var rabbit in _k8s.OfKind("RabbitmqCluster"))
            Assert.True(Images.IsPinned(rabbit.Node.At("spec.image").Scalar() ?? "", out var why), $"{rabbit}: spec.image {why}");
        foreach (var mongo in _k8s.OfKind("MongoDBCommunity"))
            Assert.Matches(@"^\d+\.\d+\.\d+$", mongo.Node.At("spec.version").Scalar() ?? "");
    }

    [Fact]
    public void Pods_run_as_the_images_non_root_user_without_privileges()
    {
        foreach (var service in JoineryService.All)
        {
            var deployment = DeploymentOf(service);
            var pod = deployment.Node.At("spec.template.spec");
            Assert.Equal("true", pod.At("securityContext.runAsNonRoot").Scalar());
            Assert.NotEqual("0", pod.At("securityContext.runAsUser").Scalar());
            var container = Container(deployment);
            Assert.Equal("false", container.At("securityContext.allowPrivilegeEscalation").Scalar());
            Assert.Equal("true", container.At("securityContext.readOnlyRootFilesystem").Scalar());
            // A read-only root needs somewhere to write: the data directory the image names, and /tmp.
            var mounts = container.Seq("volumeMounts").Maps().Select(m => m.Str("mountPath")).ToList();
            Assert.Contains(new Dockerfile(service.Dockerfile).Final.Env()["Persistence__DataDirectory"], mounts);
            Assert.Contains("/tmp", mounts);
        }
    }

    [Fact]
    public void Every_Joinery_service_has_a_disruption_budget_that_lets_a_node_drain()
    {
        foreach (var service in JoineryService.All)
        {
            var labels = DeploymentOf(service).Node.At("spec.template.metadata.labels").As<YamlMappingNode>().Entries()
                .ToDictionary(e => e.Key, e => e.Value.Scalar());
            var budget = _k8s.OfKind("PodDisruptionBudget").SingleOrDefault(p =>
                p.Node.At("spec.selector.matchLabels").As<YamlMappingNode>().Entries().All(e => labels.GetValueOrDefault(e.Key) == e.Value.Scalar()));
            Assert.True(budget is not null, $"no PodDisruptionBudget selects {service.Name}'s pods");

            // minAvailable must stay below the fewest replicas KEDA keeps, or a drain waits forever.
            var minReplicas = int.Parse(ScaledObjectOf(service).Node.At("spec.minReplicaCount").Scalar() ?? "1");
            if (budget.Node.At("spec.minAvailable").Scalar() is { } minAvailable)
                Assert.True(int.Parse(minAvailable) < minReplicas, $"{budget}: minAvailable {minAvailable} blocks drains with {minReplicas} replica(s)");
            else
                Assert.NotNull(budget.Node.At("spec.maxUnavailable").Scalar());
        }
    }

    [Fact]
    public void The_gateway_is_reached_through_a_Service_and_an_Ingress()
    {
        var gateway = DeploymentOf(JoineryService.Named(JoineryService.Gateway));
        var podLabels = gateway.Node.At("spec.template.metadata.labels").As<YamlMappingNode>().Entries().ToDictionary(e => e.Key, e => e.Value.Scalar());

        var service = _k8s.OfKind("Service").Single(s =>
            s.Node.At("spec.selector").As<YamlMappingNode>().Entries().All(e => podLabels.GetValueOrDefault(e.Key) == e.Value.Scalar()));
        var port = service.Node.At("spec.ports.0");
        Assert.Equal("http", port.Str("targetPort"));

        var ingress = _k8s.OfKind("Ingress").Single();
        var backend = ingress.Node.At("spec.rules.0.http.paths.0.backend.service");
        Assert.Equal(service.Name, backend.Str("name"));
        Assert.Equal(port.Str("name"), backend.At("port.name").Scalar());
        Assert.Equal("/", ingress.Node.At("spec.rules.0.http.paths.0.path").Scalar());
        Assert.NotNull(ingress.Node.At("spec.tls.0.secretName").Scalar());
    }

    [Fact]
    public void The_gateway_starts_once_every_consumer_is_ready_as_with_compose()
    {
        // The consumers' queues must exist before the gateway publishes: its init container waits for their readiness.
        var gateway = DeploymentOf(JoineryService.Named(JoineryService.Gateway));
        var init = gateway.Node.At("spec.template.spec.initContainers").As<YamlSequenceNode>().Maps().Single();
        var script = string.Join(' ', init.Seq("command").Strings());
        Assert.Contains("/health/ready", script);
        Assert.Equal(Container(gateway).Str("image"), init.Str("image"));

        foreach (var consumer in JoineryService.All.Where(s => s.Name != JoineryService.Gateway))
        {
            var labels = DeploymentOf(consumer).Node.At("spec.template.metadata.labels").As<YamlMappingNode>().Entries().ToDictionary(e => e.Key, e => e.Value.Scalar());
            var service = _k8s.Find("Service", consumer.Name);
            Assert.True(service is not null, $"no Service {consumer.Name} for the gateway to wait on");
            Assert.All(service.Node.At("spec.selector").As<YamlMappingNode>().Entries(), e => Assert.Equal(labels.GetValueOrDefault(e.Key), e.Value.Scalar()));
            var port = service.Node.At("spec.ports.0");
            Assert.Equal("http", port.Str("targetPort"));
            Assert.Contains($"/dev/tcp/$service/{port.Str("port")}", script);
            Assert.Matches($@"for service in [^;]*\b{consumer.Name}\b", script);
        }
    }

    Manifest ScaledObjectOf(JoineryService service) =>
        _k8s.OfKind("ScaledObject").SingleOrDefault(s => s.Node.At("spec.scaleTargetRef.name").Scalar() == service.Name)
        ?? throw new Xunit.Sdk.XunitException($"no KEDA ScaledObject targets {service.Name}");

    static IEnumerable<YamlMappingNode> RabbitMqTriggers(Manifest scaledObject) =>
        scaledObject.Node.At("spec.triggers").As<YamlSequenceNode>().Maps().Where(t => t.Str("type") == "rabbitmq");

    [Fact]
    public void Every_consumer_scales_with_KEDA_on_exactly_the_queues_its_consumers_and_sagas_receive_from()
    {
        var queueNames = typeof(QueueNames).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).ToHashSet();

        foreach (var service in JoineryService.All)
        {
            var endpoints = service.EndpointNames();
            Assert.True(endpoints.Count > 0, $"{service.Name}: no consumer or saga definitions found in {service.AssemblyName}");
            foreach (var endpoint in endpoints)
                Assert.True(queueNames.Contains(endpoint), $"{service.Name}: endpoint {endpoint} is not one of the QueueNames constants");

            var scaled = ScaledObjectOf(service);
            var triggers = RabbitMqTriggers(scaled).ToList();
            Assert.Equal(endpoints, triggers.Select(t => t.At("metadata.queueName").Scalar()!).Order(StringComparer.Ordinal).ToList());
            foreach (var trigger in triggers)
            {
                Assert.Equal("QueueLength", trigger.At("metadata.mode").Scalar());
                Assert.True(int.TryParse(trigger.At("metadata.value").Scalar(), out var target) && target > 0, $"{scaled}: value must be a positive number");
                // KEDA needs the broker's address with a password: only ever through a TriggerAuthentication.
                Assert.Null(trigger.At("metadata.host"));
                var auth = _k8s.Find("TriggerAuthentication", trigger.At("authenticationRef.name").Scalar()!);
                Assert.True(auth is not null, $"{scaled}: its authenticationRef names no TriggerAuthentication");
                var host = auth.Node.At("spec.secretTargetRef").As<YamlSequenceNode>().Maps().Single(r => r.Str("parameter") == "host");
                Assert.True(SecretKeyExists(host.Str("name")!, host.Str("key")!), $"{auth}: no Secret {host.Str("name")} with key {host.Str("key")} in {SecretsTemplate}");
            }

            // KEDA owns the replica count: a fixed one in the Deployment would fight it on every apply.
            Assert.Null(DeploymentOf(service).Node.At("spec.replicas"));
            var min = int.Parse(scaled.Node.At("spec.minReplicaCount").Scalar()!);
            var max = int.Parse(scaled.Node.At("spec.maxReplicaCount").Scalar()!);
            Assert.True(min >= 1 && max >= min, $"{scaled}: minReplicaCount {min}, maxReplicaCount {max}");
        }
    }

    /// <summary>The external APIs' limits are per account or workspace; the services' client-side limiters are per pod.</summary>
    public static TheoryData<string, string, double> RateLimits() => new()
    {
        { "crm-sync", "ActiveCampaign__RequestsPerSecond", 5 },   // ActiveCampaign: 5 requests a second per account
        { "slack-invite", "Slack__InvitesPerMinute", 20 },         // admin.users.invite: Tier 2
        { "slack-invite", "Slack__LookupsPerMinute", 50 },         // users.lookupByEmail: Tier 3
        { "slack-invite", "Slack__PostsPerMinute", 60 },           // chat.postMessage: about one a second
    };

    [Theory]
    [MemberData(nameof(RateLimits))]
    public void All_pods_of_a_service_together_stay_within_an_external_APIs_limit(string serviceName, string key, double limit)
    {
        var service = JoineryService.Named(serviceName);
        var perPod = Container(DeploymentOf(service)).Seq("envFrom").Maps()
            .Select(f => f.At("configMapRef.name").Scalar()).OfType<string>()
            .Select(name => _k8s.Find("ConfigMap", name)?.Node.At($"data.{key}").Scalar())
            .OfType<string>().SingleOrDefault();
        Assert.True(perPod is not null, $"{serviceName}: {key} is not set (its default is the whole account's limit, for one process)");
        var maxPods = int.Parse(ScaledObjectOf(service).Node.At("spec.maxReplicaCount").Scalar()!);

        Assert.True(double.Parse(perPod, System.Globalization.CultureInfo.InvariantCulture) * maxPods <= limit,
            $"{maxPods} {serviceName} pods at {key}={perPod} each exceed the API's {limit}");
    }

    bool SecretKeyExists(string secret, string key) =>
        _k8s.Find("Secret", secret) is { } s && SecretKeys(s).Contains(key);

    static IEnumerable<string> SecretKeys(Manifest secret) =>
        secret.Node.Map("stringData").Entries().Concat(secret.Node.Map("data").Entries()).Select(e => e.Key);

    [Fact]
    public void Secrets_are_only_in_Secrets_and_the_template_holds_placeholders_only()
    {
        foreach (var map in _k8s.OfKind("ConfigMap"))
            foreach (var (key, _) in map.Node.Map("data").Entries())
                Assert.False(Secrets.IsSecretKey(key), $"{map}: {key} is a secret; it belongs in a Secret");
        foreach (var deployment in _k8s.OfKind("Deployment"))
            foreach (var env in Container(deployment).Seq("env").Maps())
                Assert.False(env.Get("value") is not null && Secrets.IsSecretKey(env.Str("name")!),
                    $"{deployment}: {env.Str("name")} has a literal value; take it from a Secret");

        var secrets = _k8s.OfKind("Secret").ToList();
        Assert.NotEmpty(secrets);
        foreach (var secret in secrets)
        {
            Assert.True(secret.File.EndsWith("/" + SecretsTemplate, StringComparison.Ordinal), $"{secret} is outside {SecretsTemplate}");
            foreach (var (key, value) in secret.Node.Map("stringData").Entries())
                if (Secrets.IsSecretKey(key))
                    Assert.Matches("<[^>]+>", value.Scalar() ?? "");
            Assert.Null(secret.Node.Get("data"));
        }
        // Never applied from the repository: the template is filled in and applied out of band.
        Assert.DoesNotContain(SecretsTemplate, KustomizationFile().Node.Seq("resources").Strings());
    }

    [Fact]
    public void Every_Secret_a_pod_reads_is_in_the_template_or_written_by_an_operator()
    {
        var operatorSecrets = _k8s.OfKind("MongoDBCommunity").SelectMany(m =>
                m.Node.At("spec.users").As<YamlSequenceNode>().Maps().Select(u => $"{m.Name}-{u.Str("db")}-{u.Str("name")}"))
            .ToHashSet();

        foreach (var deployment in _k8s.OfKind("Deployment"))
        {
            var container = Container(deployment);
            foreach (var from in container.Seq("envFrom").Maps().Where(f => f.Get("secretRef") is not null))
                Assert.True(_k8s.Find("Secret", from.At("secretRef.name").Scalar()!) is not null,
                    $"{deployment}: envFrom secret {from.At("secretRef.name").Scalar()} is not in {SecretsTemplate}");
            foreach (var env in container.Seq("env").Maps().Where(e => e.At("valueFrom.secretKeyRef") is not null))
            {
                var name = env.At("valueFrom.secretKeyRef.name").Scalar()!;
                var key = env.At("valueFrom.secretKeyRef.key").Scalar()!;
                Assert.True(SecretKeyExists(name, key) || (operatorSecrets.Contains(name) && key.StartsWith("connectionString.", StringComparison.Ordinal)),
                    $"{deployment}: {env.Str("name")} reads secret {name}/{key}, which neither {SecretsTemplate} nor an operator provides");
            }
        }
    }

    [Fact]
    public void RabbitMQ_is_an_operator_managed_three_node_cluster_and_the_services_declare_quorum_queues()
    {
        var cluster = _k8s.OfKind("RabbitmqCluster").Single();
        var replicas = int.Parse(cluster.Node.At("spec.replicas").Scalar()!);
        Assert.True(replicas >= 3 && replicas % 2 == 1, $"{cluster}: quorum queues need an odd number of at least 3 nodes, not {replicas}");

        // Every service's pods get the setting, from the ConfigMap they all share.
        foreach (var service in JoineryService.All)
        {
            var maps = Container(DeploymentOf(service)).Seq("envFrom").Maps().Select(f => f.At("configMapRef.name").Scalar()).OfType<string>();
            Assert.Contains(maps, m => _k8s.Find("ConfigMap", m)?.Node.At("data.Messaging__QuorumQueues").Scalar() == "true");
        }

        // Joinery's own vhost and user, not the operator's default administrator.
        var vhost = _k8s.OfKind("Vhost").Single().Node.At("spec.name").Scalar();
        var permission = _k8s.OfKind("Permission").Single();
        Assert.Equal(vhost, permission.Node.At("spec.vhost").Scalar());
        foreach (var reference in _k8s.OfKind("Vhost").Concat(_k8s.OfKind("User")).Concat(_k8s.OfKind("Permission")))
            Assert.Equal(cluster.Name, reference.Node.At("spec.rabbitmqClusterReference.name").Scalar());
        var connection = _k8s.Find("Secret", "joinery-rabbitmq")!.Node.At("stringData.ConnectionStrings__RabbitMq").Scalar()!;
        Assert.EndsWith($".{Namespace}.svc:5672/{vhost}", connection);
        Assert.Contains($"@{cluster.Name}.", connection);
    }

    [Fact]
    public void MongoDB_is_an_operator_managed_replica_set_of_three_that_grants_each_database_the_services_use()
    {
        var mongo = _k8s.OfKind("MongoDBCommunity").Single();
        Assert.Equal("ReplicaSet", mongo.Node.At("spec.type").Scalar());
        Assert.Equal("3", mongo.Node.At("spec.members").Scalar());

        var granted = mongo.Node.At("spec.users.0.roles").As<YamlSequenceNode>().Maps()
            .Where(r => r.Str("name") == "readWrite").Select(r => r.Str("db")).ToHashSet();
        var used = _k8s.OfKind("ConfigMap").Select(c => c.Node.At("data.Persistence__MongoDatabase").Scalar()).OfType<string>().ToList();
        Assert.NotEmpty(used);
        Assert.All(used, db => Assert.Contains(db, granted));
    }

    [Fact]
    public void Every_manifest_is_in_the_kustomization_and_in_the_joinery_namespace()
    {
        var kustomization = KustomizationFile();
        var listed = kustomization.Node.Seq("resources").Strings().ToHashSet();
        var files = System.IO.Directory.GetFiles(Repo.PathOf("deploy", "k8s"), "*.yaml")
            .Select(Path.GetFileName).OfType<string>()
            .Where(f => f != "kustomization.yaml" && f != SecretsTemplate);

        Assert.Empty(files.Except(listed));
        Assert.All(listed, f => Assert.True(File.Exists(Repo.PathOf("deploy", "k8s", f)), $"kustomization.yaml lists missing {f}"));
        Assert.Equal(Namespace, kustomization.Node.Str("namespace"));
        foreach (var manifest in _k8s.Documents.Where(d => d.Kind is not ("Namespace" or "Kustomization")))
            Assert.True(manifest.Namespace == Namespace, $"{manifest} is not in namespace {Namespace}");
    }

    Manifest KustomizationFile() =>
        _k8s.Documents.Single(d => d.File.EndsWith("/kustomization.yaml", StringComparison.Ordinal));
}

static class YamlNodeCasts
{
    public static T As<T>(this YamlNode? node) where T : YamlNode =>
        node as T ?? throw new Xunit.Sdk.XunitException($"expected a {typeof(T).Name}, found {node?.GetType().Name ?? "nothing"}");
}
