using System.Text.RegularExpressions;

namespace Joinery.Tests.Deployment;

/// <summary>
/// The Dockerfiles, checked without a Docker engine: what would otherwise only break on the first real build or, worse,
/// in production (a floating base image, a root user, a missing project, a health check against the wrong path).
/// </summary>
public sealed class Building_the_images
{
    /// <summary>Every service's Dockerfile and the fake API server's (the compose demo profile builds it).</summary>
    public static TheoryData<string> Dockerfiles()
    {
        var data = new TheoryData<string>();
        foreach (var service in JoineryService.All)
            data.Add(Repo.Relative(service.Dockerfile));
        data.Add(FakeApisDockerfile);
        return data;
    }

    const string FakeApisDockerfile = "tests/Joinery.FakeApis/Dockerfile";

    [Fact]
    public void Every_service_has_a_Dockerfile()
    {
        Assert.NotEmpty(JoineryService.All);
        Assert.Contains(JoineryService.All, s => s.Name == JoineryService.Gateway);
        foreach (var service in JoineryService.All)
            Assert.True(File.Exists(service.Dockerfile), $"{service.Name} has no {Repo.Relative(service.Dockerfile)}");
        Assert.True(File.Exists(Repo.PathOf(FakeApisDockerfile)), $"{FakeApisDockerfile} is missing");
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void It_builds_in_one_stage_and_runs_in_another_on_pinned_base_images(string path)
    {
        var dockerfile = new Dockerfile(Repo.PathOf(path));

        Assert.True(dockerfile.Stages.Count >= 2, $"{path}: multi-stage expected (SDK to build, ASP.NET runtime to run)");
        foreach (var stage in dockerfile.Stages)
            Assert.True(Images.IsPinned(stage.Image, out var why), $"{path}: FROM {stage.Image}: {why}");
        Assert.Contains("/dotnet/sdk:", dockerfile.Stages[0].Image);
        Assert.Contains("/dotnet/aspnet:", dockerfile.Final.Image);
        Assert.Contains(dockerfile.Final.Args("COPY"), a => a.Contains("--from=build", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void It_runs_as_a_non_root_user(string path)
    {
        var user = new Dockerfile(Repo.PathOf(path)).User();

        Assert.False(string.IsNullOrWhiteSpace(user), $"{path}: the runtime stage sets no USER, so it runs as root");
        Assert.DoesNotMatch(new Regex("^(root|0)(:|$)"), user!);
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Its_healthcheck_asks_the_liveness_endpoint_on_the_port_the_service_listens_on(string path)
    {
        var dockerfile = new Dockerfile(Repo.PathOf(path));
        var command = dockerfile.HealthcheckCommand();

        Assert.True(command is { Length: > 0 }, $"{path}: no exec-form HEALTHCHECK CMD");
        var script = string.Join(' ', command!);
        Assert.Contains(path == FakeApisDockerfile ? "GET /health " : "GET /health/live ", script);
        // The check reads the port from ASPNETCORE_HTTP_PORTS, which the image sets to the one EXPOSEd.
        Assert.Contains("ASPNETCORE_HTTP_PORTS", script);
        Assert.Equal("8080", dockerfile.Final.Env().GetValueOrDefault("ASPNETCORE_HTTP_PORTS"));
        Assert.Contains("8080", dockerfile.Final.Args("EXPOSE"));
        // The runtime image has no curl or wget: the check must not need them.
        Assert.DoesNotContain("curl", script);
        Assert.DoesNotContain("wget", script);
    }

    [Fact]
    public void Each_service_image_runs_its_own_assembly_with_a_writable_data_directory()
    {
        foreach (var service in JoineryService.All)
        {
            var dockerfile = new Dockerfile(service.Dockerfile);

            Assert.Equal(["dotnet", service.AssemblyName + ".dll"], dockerfile.Entrypoint() ?? []);
            var dataDirectory = dockerfile.Final.Env().GetValueOrDefault("Persistence__DataDirectory");
            Assert.False(string.IsNullOrEmpty(dataDirectory), $"{service.Name}: Persistence__DataDirectory is not set in the image");
            // Created and handed to the non-root user in the image, or SQLite could not write there.
            Assert.Contains(dockerfile.Final.Args("RUN"), r => r.Contains(dataDirectory!, StringComparison.Ordinal) && r.Contains("chown", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void The_build_stage_copies_every_project_the_service_references()
    {
        foreach (var service in JoineryService.All)
        {
            var dockerfile = new Dockerfile(service.Dockerfile);
            var copies = dockerfile.Stages.SkipLast(1).SelectMany(s => s.ContextCopies()).ToList();

            Assert.Contains("Directory.Build.props", copies);
            Assert.Contains("Directory.Packages.props", copies);
            foreach (var folder in service.ProjectFolders())
                Assert.True(copies.Any(c => c.TrimEnd('/') == folder),
                    $"{Repo.Relative(service.Dockerfile)} copies no {folder}/ although {service.Name} references it");
            foreach (var source in copies)
                Assert.True(File.Exists(Repo.PathOf(source)) || Directory.Exists(Repo.PathOf(source)),
                    $"{Repo.Relative(service.Dockerfile)}: COPY {source}: no such file in the repository");
        }
    }

    [Fact]
    public void The_build_context_leaves_out_build_output_local_state_and_secrets()
    {
        var ignored = File.ReadAllLines(Repo.PathOf(".dockerignore")).Select(l => l.Trim()).ToHashSet();

        foreach (var pattern in new[] { "**/bin/", "**/obj/", ".git/", ".local/", ".env" })
            Assert.Contains(pattern, ignored);
        // Nothing a Dockerfile copies may be ignored.
        foreach (var service in JoineryService.All)
            foreach (var folder in service.ProjectFolders())
                Assert.DoesNotContain(ignored, p => folder.StartsWith(p.TrimEnd('/') + "/", StringComparison.Ordinal) || p.TrimEnd('/') == folder);
    }
}

static class Images
{
    /// <summary>
    /// Pinned: a digest, or a tag naming an exact version (major.minor.patch, suffixes allowed). "latest", no tag, or a
    /// floating tag such as "8" or "3.13-management" are not.
    /// </summary>
    public static bool IsPinned(string image, out string why)
    {
        if (image.Contains("@sha256:", StringComparison.Ordinal))
        {
            why = "";
            return true;
        }
        var lastSegment = image[(image.LastIndexOf('/') + 1)..];
        var colon = lastSegment.IndexOf(':');
        if (colon < 0)
        {
            why = "no tag (that is :latest)";
            return false;
        }
        var tag = lastSegment[(colon + 1)..];
        if (tag == "latest")
        {
            why = "tag latest";
            return false;
        }
        if (!Regex.IsMatch(tag, @"^v?\d+\.\d+\.\d+"))
        {
            why = $"tag {tag} is not an exact version (major.minor.patch)";
            return false;
        }
        why = "";
        return true;
    }
}
